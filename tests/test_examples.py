"""The sample records in examples/, which the README uses: each builds as the README
says, as of the day their dates were written for (SOURCE_DATE_EPOCH)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from handouts.records.readers import read_table
from handouts.records.validate import validate_record
from tests.conftest import pdf_text, run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_DAY = dt.date(2027, 1, 4)


@pytest.fixture(autouse=True)
def as_of_example_day(monkeypatch, tmp_path):
    epoch = dt.datetime.combine(EXAMPLE_DAY, dt.time(12), dt.UTC).timestamp()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(epoch)))
    monkeypatch.chdir(tmp_path)


def test_the_oral_example_prints_both_plans(capsys, tmp_path):
    code, out, err = run_cli(capsys, "patient", str(EXAMPLES / "oral-patient.yaml"),
                             "--format", "pdf")
    assert (code, err) == (0, [])
    assert out == ["output/EX-ORAL-1/EX-ORAL-1-baclofen-oral-leaflet-fr.pdf",
                   "output/EX-ORAL-1/EX-ORAL-1-baclofen-oral-insert-fr.pdf"]
    text = pdf_text(tmp_path / out[0])
    assert "Jeanne Exemple" in text and "Dose à atteindre 45 mg/jour" in text
    assert "Dose de départ 15 mg/jour À partir du 14 janvier 2027" in text
    titration = ("14/01/2027 15 mg 5 mg 5 mg 5 mg à venir 1 ½ comprimé ½ comprimé ½ comprimé "
                 "½ comprimé 18/01/2027 30 mg 10 mg 10 mg 10 mg à venir 3 comprimés 1 comprimé")
    taper = ("18/04/2027 25 mg 10 mg 5 mg 10 mg à venir 2 ½ comprimés 1 comprimé ½ comprimé "
             "1 comprimé 22/04/2027 15 mg 5 mg 5 mg 5 mg à venir 1 ½ comprimé ½ comprimé "
             "½ comprimé ½ comprimé 26/04/2027 10 mg 5 mg aucune prise 5 mg à venir 1 comprimé "
             "½ comprimé — ½ comprimé 30/04/2027 0 mg (arrêt)")
    assert titration in text and taper in text


def test_the_pump_example_gets_its_wallet_card(capsys, tmp_path):
    code, out, err = run_cli(capsys, "patient", str(EXAMPLES / "pump-patient.yaml"),
                             "--format", "pdf")
    assert (code, err) == (0, [])
    card = tmp_path / "output/EX-PUMP-1/EX-PUMP-1-baclofen-intrathecal-card-fr.pdf"
    assert str(card.relative_to(tmp_path)) in out
    text = pdf_text(card)
    for value in ("Jean Exemple", "SynchroMed II", "2 mars 2024", "500 µg/mL", "250 µg/jour",
                  "01 99 00 77 88"):
        assert value in text


def test_the_batch_example_is_a_french_spreadsheet_export():
    raw = (EXAMPLES / "ward-batch.csv").read_bytes()
    assert b";" in raw.splitlines()[0] and b"\r\n" in raw
    raw.decode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # Windows-1252, as Excel in French saves "CSV (separator: ;)"
    records = read_table(EXAMPLES / "ward-batch.csv", "ward-batch.csv")
    patients = [validate_record(record, ["fr", "en"], EXAMPLE_DAY, require_id=True)
                for record in records]
    assert [(p.id, p.variant, p.lang, p.name) for p in patients] == [
        ("EX-B1", "oral", "fr", "Aurélie Exemple"),
        ("EX-B2", "intrathecal", "fr", "Benoît Exemple"),
        ("EX-B3", "oral", "en", "Chloé Example"),
        ("EX-B4", "intrathecal", "en", "Denis Example")]
    assert records[0].values["daily_dose_mg"] == "15"
    assert records[1].values["daily_dose_ug"] == "112,5"  # a decimal comma
    assert records[1].values["next_refill"] == "04/02/2027"


def test_the_batch_example_builds(capsys, tmp_path):
    code, out, err = run_cli(capsys, "batch", str(EXAMPLES / "ward-batch.csv"), "--jobs", "1",
                             "--format", "pdf", "--sort-by", "ward")
    assert code == 0, err
    assert out[-3:] == ["output/ward-batch/baclofen-print-ward-batch.pdf",
                        "output/ward-batch/rejected.csv", "output/ward-batch/manifest.json"]
    assert err[-1] == "batch: 4 rows read, 4 built (0 already up to date), 0 refused"
    manifest = json.loads((tmp_path / "output/ward-batch/manifest.json").read_text())
    assert [r["id"] for r in manifest["records"]] == ["EX-B1", "EX-B3", "EX-B2", "EX-B4"]
    assert all(r["status"] == "ok" for r in manifest["records"])
    combined = pdf_text(tmp_path / "output/ward-batch" / manifest["combined_pdf"])
    assert "Aurélie Exemple" in combined and "112,5 µg/jour" in combined


def test_a_malformed_source_date_epoch_is_refused(capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "2027-01-04")
    code, out, err = run_cli(capsys, "patient", str(EXAMPLES / "oral-patient.yaml"))
    assert (code, out) == (2, [])
    assert err == [("SOURCE_DATE_EPOCH: '2027-01-04' is not a number of seconds (e.g. "
                   "SOURCE_DATE_EPOCH=$(date -d 2027-01-04 +%s), or unset it)")]
