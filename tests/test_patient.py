"""One patient's documents: what they show, every validation rule, privacy, identity."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import docx
import pikepdf
import pytest
import yaml

from tests.conftest import docx_paragraphs, normalise, pdf_text, run_cli

TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def long_fr(offset: int) -> str:
    from handouts.localise import long_date
    return long_date(TODAY + dt.timedelta(days=offset), "fr")


ORAL = {"id": "P-ORAL-1", "variant": "oral", "name": "Jeanne Martin", "prescriber": "Dr Blanc",
        "phone": "01 99 00 55 66", "daily_dose_mg": 45, "doses_per_day": 3,
        "titration_start": day(10), "titration_start_mg": 15, "titration_step_mg": 15,
        "titration_every_days": 4, "taper_steps": f"{day(100)}=30; {day(104)}=10+5+10; "
                                                  f"{day(106)}=15; {day(109)}=0"}
PUMP = {"id": "P-PUMP-1", "variant": "intrathecal", "name": "Jean Dupont",
        "prescriber": "Dr Blanc", "daily_dose_ug": 250, "concentration_ug_per_ml": 500,
        "reservoir_ml": 20, "last_refill": day(-5), "next_refill": day(30),
        "alarm_date": day(33), "pump_model": "SynchroMed II", "pump_clinic_phone": "01 99 00 77 88",
        "implant_date": "02/03/2024"}


def write_record(tmp_path, record: dict, name: str = "record.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(record, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def build(capsys, tmp_path, record: dict):
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(capsys, "patient", str(write_record(tmp_path, record)),
                                   "--out", str(out))
    return code, stdout, stderr, out


def docx_text(path) -> str:
    return normalise(" ".join(p.text for p in docx_paragraphs(path)))


@pytest.fixture(scope="module")
def oral_out(tmp_path_factory):
    from handouts.cli import main
    tmp = tmp_path_factory.mktemp("oral")
    assert main(["patient", str(write_record(tmp, ORAL)), "--out", str(tmp / "out")]) == 0
    return tmp / "out" / "P-ORAL-1"


@pytest.fixture(scope="module")
def pump_out(tmp_path_factory):
    from handouts.cli import main
    tmp = tmp_path_factory.mktemp("pump")
    assert main(["patient", str(write_record(tmp, PUMP)), "--out", str(tmp / "out")]) == 0
    return tmp / "out" / "P-PUMP-1"


def test_oral_files_are_named_by_id_and_say_what_they_hold(oral_out):
    assert sorted(p.name for p in oral_out.iterdir()) == [
        "P-ORAL-1-baclofen-oral-insert-fr.docx", "P-ORAL-1-baclofen-oral-insert-fr.pdf",
        "P-ORAL-1-baclofen-oral-leaflet-fr.docx", "P-ORAL-1-baclofen-oral-leaflet-fr.pdf"]


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_oral_leaflet_shows_dose_split_and_dated_plans(oral_out, fmt):
    path = oral_out / f"P-ORAL-1-baclofen-oral-leaflet-fr.{fmt}"
    text = pdf_text(path) if fmt == "pdf" else docx_text(path)
    for expected in ("Jeanne Martin", "Dr Blanc", "01 99 00 55 66",
                     f"Dose de départ 15 mg/jour À partir du {long_fr(10)}",
                     "Matin 5 mg = ½ comprimé", "Midi 5 mg = ½ comprimé",
                     "Soir 5 mg = ½ comprimé", "Coucher aucune prise",
                     "Dose à atteindre 45 mg/jour (voir le plan de doses)",
                     "Comprimés 10 mg, sécables (½ = 5 mg)"):
        assert expected in text, expected
    assert "Dose par jour 45" not in text  # the target is never shown as today's dose
    start = TODAY + dt.timedelta(days=10)
    steps = [(start + dt.timedelta(days=4 * i)).strftime("%d/%m/%Y") for i in range(3)]
    half, one, one_half = "½ comprimé", "1 comprimé", "1 ½ comprimé"
    # each step: date, daily dose and intakes in mg; then its status and the same in tablets
    assert (f"Matin Midi Soir {steps[0]} 15 mg 5 mg 5 mg 5 mg à venir {one_half} "
            f"{half} {half} {half} {steps[1]} 30 mg 10 mg 10 mg 10 mg à venir 3 comprimés "
            f"{one} {one} {one} {steps[2]} 45 mg 15 mg 15 mg 15 mg à venir 4 ½ comprimés "
            f"{one_half} {one_half} {one_half}") in text
    taper = [(TODAY + dt.timedelta(days=d)).strftime("%d/%m/%Y") for d in (104, 109)]
    assert f"{taper[0]} 25 mg 10 mg 5 mg 10 mg à venir 2 ½ comprimés {one} {half} {one}" in text
    assert f"{taper[1]} 0 mg (arrêt) aucune prise aucune prise aucune prise à venir — — — —" \
        in text


def test_personal_leaflet_keeps_the_shared_pages_and_numbering(oral_out, built):
    from pypdf import PdfReader
    personal = PdfReader(oral_out / "P-ORAL-1-baclofen-oral-leaflet-fr.pdf")
    generic = PdfReader(built / "fr" / "baclofen-oral-leaflet.pdf")
    assert len(personal.pages) == len(generic.pages)
    total = len(generic.pages)
    for number in range(len(personal.pages)):
        text = normalise(personal.pages[number].extract_text())
        assert f"page {number + 1} / {total}" in text
        if number >= 2:  # the shared pages, with the patient's own care-team phone
            assert text == normalise(generic.pages[number].extract_text()).replace(
                "01 99 00 12 34", ORAL["phone"])


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_pump_documents_show_pump_details_in_french_formats(pump_out, fmt):
    leaflet = pump_out / f"P-PUMP-1-baclofen-intrathecal-leaflet-fr.{fmt}"
    text = pdf_text(leaflet) if fmt == "pdf" else docx_text(leaflet)
    for expected in ("Jean Dupont", "SynchroMed II", "500 µg/mL", "250 µg/jour", "20 mL",
                     f"Prochain remplissage {long_fr(30)}", long_fr(33), "01 99 00 77 88"):
        assert expected in text, expected
    insert = pump_out / f"P-PUMP-1-baclofen-intrathecal-insert-fr.{fmt}"
    text = pdf_text(insert) if fmt == "pdf" else docx_text(insert)
    for expected in ("Baclofène par pompe implantée", "250 µg/jour", long_fr(30),
                     "01 99 00 77 88", "15 / 112"):
        assert expected in text, expected
    card = pump_out / f"P-PUMP-1-baclofen-intrathecal-card-fr.{fmt}"
    text = pdf_text(card) if fmt == "pdf" else docx_text(card)
    for expected in ("Jean Dupont", "SynchroMed II", "2 mars 2024", "500 µg/mL", "250 µg/jour",
                     "Hôpital Exemple", "01 99 00 77 88", "risque de sevrage", "IRM"):
        assert expected in text, expected


def test_card_is_credit_card_size_on_one_a4_page(pump_out):
    with pikepdf.open(pump_out / "P-PUMP-1-baclofen-intrathecal-card-fr.pdf") as pdf:
        assert len(pdf.pages) == 1
        assert [round(float(v)) for v in pdf.pages[0].MediaBox] == [0, 0, 595, 842]
    html = _card_html()
    assert "width: 85.6mm" in html and "height: 54mm" in html


def _card_html() -> str:
    from handouts.project import EMBEDDED
    return (EMBEDDED.layouts_dir / "css" / "card.css").read_text()


def test_patient_data_stays_out_of_metadata(oral_out, pump_out):
    for folder in (oral_out, pump_out):
        for path in folder.glob("*.pdf"):
            with pikepdf.open(path) as pdf:
                metadata = " ".join(str(v) for v in pdf.docinfo.values())
                metadata += str(pdf.open_metadata())
            assert "Jeanne" not in metadata and "Dupont" not in metadata
        for path in folder.glob("*.docx"):
            props = docx.Document(path).core_properties
            fields = [props.title, props.subject, props.author, props.keywords, props.comments]
            assert not any("Jeanne" in f or "Dupont" in f for f in fields)


def test_markup_and_template_code_in_a_name_print_literally(capsys, tmp_path):
    name = "<b>Eve</b> {{ 7*7 }} {hospital} **x** file:///etc/passwd"
    code, _stdout, stderr, out = build(capsys, tmp_path, {**ORAL, "name": name})
    assert code == 0, stderr
    leaflet = out / "P-ORAL-1" / "P-ORAL-1-baclofen-oral-leaflet-fr"
    squeezed = name.replace(" ", "")
    assert squeezed in pdf_text(leaflet.with_suffix(".pdf")).replace(" ", "")
    assert name in docx_text(leaflet.with_suffix(".docx"))


def test_same_record_twice_gives_byte_identical_files(capsys, tmp_path, pump_out):
    code, stdout, _, _out = build(capsys, tmp_path, PUMP)
    assert code == 0 and len(stdout) == 6
    for line in stdout:
        again = pump_out / line.rsplit("/", 1)[1]
        assert hashlib.sha256(again.read_bytes()).digest() == \
            hashlib.sha256(Path(line).read_bytes()).digest()


def rejected(capsys, tmp_path, record: dict) -> list[str]:
    code, stdout, stderr, out = build(capsys, tmp_path, record)
    assert code == 2
    assert stdout == []
    assert not out.exists()
    for line in stderr:
        assert "Jeanne" not in line and "Dupont" not in line
        assert line.startswith(str(tmp_path / "record.yaml") + ":")
    return [line.split(": ", 1)[1] for line in stderr]


def line_of(record: dict, field: str) -> int:
    return list(record).index(field) + 1


def test_pump_dose_in_mg_names_the_field_to_use(capsys, tmp_path):
    record = {**{k: v for k, v in PUMP.items() if k != "daily_dose_ug"}, "daily_dose_mg": 20}
    messages = rejected(capsys, tmp_path, record)
    assert ("daily_dose_mg: not used for the intrathecal variant (a pump dose is in micrograms "
            "per day: use daily_dose_ug)") in messages
    assert "daily_dose_ug: required (pump: the dose in micrograms per day, e.g. 250)" in messages


def test_tablet_dose_in_ug_names_the_field_to_use(capsys, tmp_path):
    record = {**{k: v for k, v in ORAL.items() if k != "daily_dose_mg"}, "daily_dose_ug": 30}
    messages = rejected(capsys, tmp_path, record)
    assert ("daily_dose_ug: not used for the oral variant (a tablet dose is in milligrams per "
            "day: use daily_dose_mg)") in messages


def test_error_names_the_line_and_column(capsys, tmp_path):
    record = {**PUMP, "reservoir_ml": 30}
    _code, _, stderr, _ = build(capsys, tmp_path, record)
    assert stderr == [(f"{tmp_path / 'record.yaml'}:{line_of(record, 'reservoir_ml')}:15: "
                      "reservoir_ml: 30 mL is not one of 20, 40 mL (20 or 40)")]


@pytest.mark.parametrize("record, message", [
    ({**ORAL, "daily_dose_mg": 200, "titration_start": None},
     "daily_dose_mg: 200 mg/day is outside the plausible range 5-120 mg/day"),
    ({**ORAL, "daily_dose_mg": 90, "titration_start": None},
     ("daily_dose_mg: 90 mg/day is above the usual 80 mg/day (if this is intended, add "
     "confirm_unusual_values: yes)")),
    ({**PUMP, "daily_dose_ug": 5},
     "daily_dose_ug: 5 µg/day is outside the plausible range 10-1000 µg/day"),
    ({**PUMP, "daily_dose_ug": 1200, "concentration_ug_per_ml": 2000, "reservoir_ml": 40},
     ("daily_dose_ug: 1200 µg/day is above the usual 1000 µg/day (if this is intended, add "
     "confirm_unusual_values: yes)")),
    ({**PUMP, "concentration_ug_per_ml": 750}, "concentration_ug_per_ml: 750 µg/mL is not one of"),
    ({**ORAL, "doses_per_day": 6}, "doses_per_day: 6 intakes a day is outside 1 to 4"),
])
def test_out_of_range_values_are_refused(capsys, tmp_path, record, message):
    record = {k: v for k, v in record.items() if v is not None}
    if "titration_start" not in record:
        record = {k: v for k, v in record.items() if not k.startswith("titration")}
    messages = rejected(capsys, tmp_path, record)
    assert any(m.startswith(message) for m in messages), messages


def test_unusual_dose_with_confirmation_is_built_and_shown(capsys, tmp_path):
    record = {k: v for k, v in ORAL.items() if not k.startswith(("titration", "taper"))}
    code, _, stderr, out = build(capsys, tmp_path, {**record, "daily_dose_mg": 90,
                                                    "confirm_unusual_values": "yes"})
    assert code == 0, stderr
    supervised = "90 mg/jour (dose élevée, donnée seulement à l'hôpital, sous surveillance)"
    for document in ("leaflet", "insert"):
        text = pdf_text(out / "P-ORAL-1" / f"P-ORAL-1-baclofen-oral-{document}-fr.pdf")
        assert "Dose par jour" in text and supervised in text, document


@pytest.mark.parametrize("change, message", [
    ({"next_refill": "2020-01-10"}, "next_refill: 10 January 2020 is in the past"),
    ({"next_refill": "le 5 mai"}, ("next_refill: a text of 8 characters is not a date (write "
                                  "2027-01-15 or 15/01/2027)")),
    ({"next_refill": day(36)}, f"next_refill: the refill ({day(36)}) is after the low-reservoir"),
    ({"next_refill": day(36), "alarm_date": day(38)},
     f"next_refill: the refill ({day(36)}) is after the day the reservoir runs empty ({day(35)}"),
])
def test_date_conflicts_name_both_dates(capsys, tmp_path, change, message):
    from handouts.localise import long_date
    messages = rejected(capsys, tmp_path, {**PUMP, **change})
    readable = message
    for offset in (35, 36):
        readable = readable.replace(day(offset),
                                    long_date(TODAY + dt.timedelta(days=offset), "en"))
    assert any(m.startswith(readable) for m in messages), messages


@pytest.mark.parametrize("steps, message", [
    (f"{day(10)}=15; {day(8)}=30", "is not after step 1"),
    (f"{day(10)}=15; {day(14)}=45", "step 2 changes the dose by 30 mg/day, more than 15"),
    (f"{day(10)}=15; {day(14)}=30", ("the titration plan ends at 30 mg/day and does not reach "
                                    "45 mg/day")),
    (f"{day(10)}=15; {day(11)}=30; {day(15)}=45",
     "step 2 comes 1 days after the previous one"),
    (f"{day(10)}=30; {day(14)}=45", "the titration starts at 30 mg/day, more than 15 mg/day"),
])
def test_titration_plan_rules(capsys, tmp_path, steps, message):
    record = {k: v for k, v in ORAL.items() if not k.startswith("titration")}
    messages = rejected(capsys, tmp_path, {**record, "titration_steps": steps})
    assert any(message in m and m.startswith("titration_steps: ") for m in messages), messages


def test_taper_steps_larger_than_15_mg_are_refused(capsys, tmp_path):
    messages = rejected(capsys, tmp_path, {**ORAL, "taper_steps": f"{day(100)}=10; {day(107)}=0"})
    assert any("step 1 changes the dose by 35 mg/day, more than 15" in m for m in messages)


def test_missing_unknown_and_mistyped_fields(capsys, tmp_path):
    record = {k: v for k, v in PUMP.items() if k != "pump_model"}
    messages = rejected(capsys, tmp_path, {**record, "reservoir_mL": 20, "doses_per_day": "three",
                                           "confirm_unusual_values": "maybe"})
    assert "pump_model: required (e.g. SynchroMed II)" in messages
    assert "reservoir_mL: unknown field (did you mean 'reservoir_ml'?)" in messages
    assert "doses_per_day: not used for the intrathecal variant (remove it, or set variant to " \
           "the other route)" in messages
    assert "confirm_unusual_values: expected yes or no" in messages


def test_name_errors_never_echo_the_name(capsys, tmp_path):
    messages = rejected(capsys, tmp_path, {**PUMP, "name": "Jean Dupont " * 10})
    assert messages == ["name: longer than 80 characters"]
