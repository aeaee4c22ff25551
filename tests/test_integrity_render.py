"""Family 3: one record that does not fit its pages or its wallet card is that record's
error, with its row, its id and what to shorten; the rest of the batch is built. Long
values wrap inside the card's cells; what still does not fit is measured, never
printed past the crop marks."""

from __future__ import annotations

import pytest

from handouts.build import Renderer
from handouts.compose import compose
from handouts.records.validate import RawRecord, validate_record
from handouts.render.measure import card_overflow_mm
from handouts.sources.loading import SOURCES_DIR, load_sources
from tests.conftest import pdf_text, run_cli
from tests.integrity_kit import CANARY, batch, files_under, oral, pump, status, write_csv

WORDS = "Centre hospitalier universitaire de Saint-Étienne-du-Rouvray, pôle neurologie"
UNBROKEN = "W" * 80


@pytest.fixture(scope="module")
def renderer():
    return Renderer(load_sources(SOURCES_DIR, ["fr"]))


def card(renderer, **values):
    record = dict(zip(["id", "variant", "name", "daily_dose_mg", "daily_dose_ug",
                       "concentration_ug_per_ml", "reservoir_ml", "next_refill", "alarm_date",
                       "pump_model", "implanting_centre"], pump("C1"), strict=True))
    patient = validate_record(RawRecord({**record, **values}, lambda f: "r"), ["fr"])
    return renderer.pdf.render(compose(renderer.sources, "fr", "intrathecal", "card", patient),
                               "x")


@pytest.mark.parametrize("values", [
    {"name": WORDS}, {"pump_model": WORDS, "implanting_centre": WORDS},
    {"pump_model": "X" * 80}, {"name": "N" * 40, "pump_model": "M" * 40}])
def test_long_card_values_wrap_inside_their_cells(renderer, values):
    assert card_overflow_mm(card(renderer, **values)) == 0


def test_too_many_long_values_are_measured_past_the_card(renderer):
    assert card_overflow_mm(card(renderer, name=UNBROKEN, pump_model=UNBROKEN,
                                 implanting_centre=UNBROKEN)) > 5


def test_a_record_that_does_not_fit_is_refused_and_the_batch_goes_on(capsys, tmp_path):
    table = write_csv(tmp_path / "fit.csv", [
        oral("F1"), pump("F2", model=UNBROKEN, centre=UNBROKEN), pump("F3", model=WORDS),
        pump("F4", name="N" * 80, model="Synchro")])
    code, stdout, stderr, manifest = batch(capsys, table, tmp_path / "out")
    assert code == 1
    assert status(manifest) == {2: ("F1", "ok"), 3: ("F2", "error"), 4: ("F3", "ok"),
                                5: ("F4", "ok")}
    assert stderr[-2:] == [
        (f"{table}: row 3: the wallet card's text runs 6.5 mm past the card (shorten name, "
        "pump_model or implanting_centre)"),
        "batch: 4 rows read, 3 built (0 already up to date), 1 refused"]
    assert not (tmp_path / "out" / "F2").exists()
    assert len(files_under(tmp_path / "out" / "F3")) == 4  # three PDFs and the state file
    text = pdf_text(tmp_path / "out" / "F3" / "F3-baclofen-intrathecal-card-fr.pdf")
    assert "Centre hospitalier universitaire de Saint" in text and "pôle neurologie" in text
    assert manifest["records"][1]["pages"] is None and manifest["records"][2]["pages"]
    assert CANARY not in "\n".join(stdout + stderr)


def test_patient_names_its_file_and_writes_nothing(capsys, tmp_path):
    path = tmp_path / "long.yaml"
    record = dict(zip(["id", "variant", "name", "daily_dose_mg", "daily_dose_ug",
                       "concentration_ug_per_ml", "reservoir_ml", "next_refill", "alarm_date",
                       "pump_model", "implanting_centre"], pump("L1"), strict=True))
    record.update(pump_model=UNBROKEN, implanting_centre=UNBROKEN)
    path.write_text("".join(f'{k}: "{v}"\n' for k, v in record.items() if v), encoding="utf-8")
    code, stdout, stderr = run_cli(capsys, "patient", str(path), "--out", str(tmp_path / "o"))
    assert (code, stdout) == (2, [])
    assert stderr == [(f"{path}: the wallet card's text runs 6.5 mm past the card (shorten "
                      "name, pump_model or implanting_centre)")]
    assert files_under(tmp_path / "o") == []
