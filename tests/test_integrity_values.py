"""Family 2: no value misread. A number is digits, one decimal point or comma and the
field's unit, nothing else; ids are the text as typed; dates exist; intervals are
bounded. Anything else is that field's error, never a different value or a crash."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handouts.errors import InputError
from handouts.records import fields
from handouts.records.validate import RawRecord, read_patient_file, validate_record
from tests.conftest import run_cli
from tests.integrity_kit import day

STRICT = re.compile(r"\s*([0-9]{1,6})(?:[.,]([0-9]{1,3}))?(?:[ \u00a0]?(mg))?\s*",
                    re.ASCII | re.IGNORECASE)


@given(whole=st.integers(0, 999_999), fraction=st.one_of(st.none(), st.from_regex(
    r"[0-9]{1,3}", fullmatch=True)), separator=st.sampled_from(".,"),
       unit=st.sampled_from(["", "mg", " mg", "\u00a0mg", " MG"]))
def test_what_a_clinician_writes_is_read_exactly(whole, fraction, separator, unit):
    typed = f"{whole}{separator + fraction if fraction else ''}{unit}"
    expected = Decimal(f"{whole}.{fraction}" if fraction else str(whole))
    assert fields.milligrams(typed) == expected


@pytest.mark.parametrize("typed", [
    "7 5", "3_0", "0x1E", "1e5", "1e999999999", "1E-3", ".nan", "nan", "inf", "-inf",
    "\u0663\u0660", "３０", "+30", "-30", "30.", ".5", "1.2.3", "1,2,5", "30 µg", "30 mL",
    "30mg/j", "30 mg mg", "1" * 21, "30\t mg", "٣٠ mg"])
def test_anything_else_is_refused_never_read_as_another_number(typed):
    with pytest.raises(fields.Invalid):
        fields.milligrams(typed)


@given(st.text(max_size=30))
@settings(max_examples=300)
def test_any_text_is_a_strict_number_or_refused(typed):
    """The family: whatever is typed, the parser accepts exactly the grammar."""
    try:
        value = fields.milligrams(typed)
    except fields.Invalid:
        assert STRICT.fullmatch(typed) is None or not typed.strip()
        return
    match = STRICT.fullmatch(typed)
    assert match is not None
    assert value == Decimal(f"{match[1]}.{match[2] or 0}")


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_spreadsheet_numbers_go_through_the_same_grammar(number):
    try:
        value = fields.milligrams(number)
    except fields.Invalid:
        return
    assert value == Decimal(repr(number)) or value == int(number)


def test_wrong_unit_names_the_field_unit():
    with pytest.raises(fields.Invalid, match=r"^'30 µg': this field is in mg$"):
        fields.milligrams("30 µg")
    assert fields.micrograms("250 ug") == fields.micrograms("250 µg") == 250


PLAIN_ID = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}", fullmatch=True).filter(
    lambda text: text.lower() not in ("null", "~"))


@given(typed=st.one_of(PLAIN_ID, st.sampled_from(
    ["017", "12:30", "yes", "No", "on", "0x1E", "1_000", "1e3", "0o17", "2027-01-15",
     "1.0", ".inf", "0b101"])))
@settings(max_examples=80, deadline=None)
def test_yaml_ids_are_the_text_as_typed(tmp_path_factory, typed):
    path = tmp_path_factory.mktemp("id") / "r.yaml"
    path.write_text(f"id: {typed}\nvariant: oral\ndaily_dose_mg: 30\n", encoding="utf-8")
    try:
        patient = validate_record(read_patient_file(path), ["fr"])
    except InputError as error:
        assert [p.message for p in error.problems] == [
            "id: must be 1-64 letters, digits, '-' or '_' (it names the files)"]
        assert not fields.SAFE_ID.match(typed)
        return
    assert patient.id == typed


@given(year=st.integers(0, 99_999), month=st.integers(0, 13), day_=st.integers(0, 32),
       french=st.booleans())
def test_dates_exist_or_are_refused(year, month, day_, french):
    typed = f"{day_:02d}/{month:02d}/{year:04d}" if french else f"{year:04d}-{month:02d}-{day_:02d}"
    try:
        value = fields.date(typed)
    except fields.Invalid as invalid:
        assert str(invalid) in (f"'{typed}' is not a day of the calendar",
                                f"'{typed}' is not a date (write 2027-01-15 or 15/01/2027)")
        return
    assert (value.year, value.month, value.day) == (year, month, day_)


FIELDS = ["id", "variant", "lang", "name", "daily_dose_mg", "doses_per_day", "morning_mg",
          "titration_start", "titration_start_mg", "titration_step_mg", "titration_every_days",
          "taper_steps", "daily_dose_ug", "concentration_ug_per_ml", "reservoir_ml",
          "next_refill", "alarm_date", "last_refill", "confirm_unusual_values"]
VALUES = st.one_of(st.text(max_size=12), st.integers(-10**30, 10**30),
                   st.floats(allow_nan=True), st.booleans(), st.none(),
                   st.sampled_from(["9999-12-31", "0001-01-01", "99999999999", "1e999999999",
                                    "2027-02-29", "0", "0,001", "31/12/9999"]))


@given(values=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=10),
       variant=st.sampled_from(["oral", "intrathecal"]))
@settings(max_examples=300, deadline=None)
def test_any_record_is_a_patient_or_field_errors_never_a_crash(values, variant):
    raw = RawRecord({"variant": variant, **values}, lambda field: f"r.yaml: {field}")
    try:
        validate_record(raw, ["fr", "en"], today=dt.date(2026, 11, 21))
    except InputError as error:
        assert error.problems and all(p.message for p in error.problems)


@pytest.mark.parametrize("field, typed, message", [
    ("titration_every_days", "99999999999", ("titration_every_days: '99999999999' is not a "
     "number: write digits with at most one decimal point or comma (e.g. 12.5 or 12,5)")),
    ("titration_every_days", "400", "titration_every_days: 400 days is outside 1 to 365"),
    ("titration_start", "9999-12-01", "titration_start: the plan would run past the year 9999"),
])
def test_absurd_intervals_are_field_errors(field, typed, message):
    values = {"variant": "oral", "daily_dose_mg": "30", "titration_start": day(10),
              "titration_start_mg": "15", "titration_step_mg": "5", "titration_every_days": "4",
              field: typed}
    with pytest.raises(InputError) as error:
        validate_record(RawRecord(values, lambda f: "r.yaml"), ["fr"])
    assert message in [p.message for p in error.value.problems]


def test_a_pump_dose_of_zero_is_a_field_error(capsys, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(f"variant: intrathecal\ndaily_dose_ug: 0\nconcentration_ug_per_ml: 500\n"
                    f"reservoir_ml: 20\nnext_refill: {day(30)}\nalarm_date: {day(33)}\n"
                    "pump_model: X\n", encoding="utf-8")
    code, stdout, stderr = run_cli(capsys, "patient", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and stdout == []
    assert stderr == [(f"{path}:2:16: daily_dose_ug: 0 µg/day is outside the plausible range "
                      "10-1000 µg/day (check the value and its unit)")]


def test_the_cli_names_the_field_and_the_text_typed(capsys, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("id: 017\nvariant: oral\ndaily_dose_mg: 7 5\n", encoding="utf-8")
    code, stdout, stderr = run_cli(capsys, "patient", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and stdout == [] and not (tmp_path / "o").exists()
    assert stderr == [(f"{path}:3:16: daily_dose_mg: '7 5' is not a number: write digits with "
                      "at most one decimal point or comma (e.g. 12.5 or 12,5 mg) (tablets: the "
                      "dose in mg per day, e.g. 30)")]
