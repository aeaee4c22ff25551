"""Validating patient records: raw values (from YAML or a spreadsheet row) -> `Patient`.

Every problem of a record is collected, each naming the field and where it is (file
and line for YAML, row and column for a spreadsheet). Messages never repeat free-text
values (a name, a prescriber): patient data stays out of logs and terminals.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

from ..errors import InputError, Problem
from ..sources.content import suggest
from ..sources.profile import DoseRules
from ..sources.yamlsource import YamlList, YamlMap, read_yaml
from . import fields
from .checker import RawRecord, RecordChecker
from .patient import Patient
from .plans import INTAKE_FIELDS, KIND_FIELDS, ORAL_DOSE_MG, OralChecks
from .pump import pump_values

COMMON_FIELDS = ("id", "variant", "lang", "name", "prescriber", "phone", "emergency_phone",
                 "confirm_unusual_values", "ward")
ORAL_FIELDS = ("daily_dose_mg", "doses_per_day", *INTAKE_FIELDS, "titration_steps",
               *KIND_FIELDS["titration"], "taper_steps", *KIND_FIELDS["taper"])
PUMP_FIELDS = ("daily_dose_ug", "concentration_ug_per_ml", "reservoir_ml", "next_refill",
               "alarm_date", "last_refill", "pump_model", "pump_clinic_phone",
               "implanting_centre", "implant_date")
ALL_FIELDS = COMMON_FIELDS + ORAL_FIELDS + PUMP_FIELDS
PRIVATE_FIELDS = ("name", "prescriber", "pump_model", "implanting_centre")
ORAL_CONFIRM_ABOVE_MG = Decimal(80)  # above: only in hospital (France), confirmed


class _Validator(RecordChecker):
    """The common fields, then the route's own checks (plans.py, pump.py)."""

    def validate(self, languages: list[str], require_id: bool) -> Patient | None:
        values = self.raw.values
        for field in values:
            if field not in ALL_FIELDS:
                self.problems.append(Problem(self.raw.locate(field),
                                             f"{fields.key_name(field)}: unknown field",
                                             suggest(field, ALL_FIELDS)))
            elif isinstance(values[field], str) and mis_encoded(values[field]):
                self.problem(field, "unreadable or mis-encoded characters (such as 'Ã©' for "
                             "'é'): the file's encoding is probably wrong",
                             "export it again as UTF-8 CSV, or as XLSX")
        variant = self.get("variant", fields.choice(("oral", "intrathecal")), required=True)
        record_id = self.get("id", fields.identifier, default="patient", required=require_id)
        lang = self.get("lang", fields.choice(tuple(languages)), default="fr")
        common = {
            "id": record_id, "variant": variant, "lang": lang or "fr",
            "name": self.get("name", fields.text, default=""),
            "prescriber": self.get("prescriber", fields.text, default=""),
            "phone": self.get("phone", fields.phone, default=""),
            "emergency_phone": self.get("emergency_phone", fields.phone, default=""),
            "as_of": self.today}
        self.confirmed = bool(self.get("confirm_unusual_values", fields.boolean, default=False))
        self.get("ward", fields.text)  # only sorts a batch's print; checked like any text
        if variant is None:
            return None
        for field in PUMP_FIELDS if variant == "oral" else ORAL_FIELDS:
            if self.present(field):
                self.problem(field, f"not used for the {variant} variant", _wrong_unit(field)
                             or "remove it, or set variant to the other route")
        if variant == "oral":
            return self.oral(common)
        pump = pump_values(self)
        return None if pump is None else Patient(**common, **pump)

    def oral(self, common: dict) -> Patient | None:
        dose = self.get("daily_dose_mg", fields.milligrams, required=True)
        unusual = False
        if dose is not None:
            before = len(self.problems)
            unusual = self.check_range("daily_dose_mg", dose, ORAL_DOSE_MG, "mg/day",
                                  ORAL_CONFIRM_ABOVE_MG)
            if len(self.problems) > before:
                dose = None  # nothing more to say about a dose already refused
        doses_per_day = self.get("doses_per_day", fields.bounded(1, 4, "intakes a day"),
                                 default=3)
        checks = OralChecks(self)
        intakes = checks.intakes(dose, doses_per_day)
        titration, titration_unusual = checks.plan("titration", dose, doses_per_day)
        taper, taper_unusual = checks.plan("taper", dose, doses_per_day)
        checks.check_order(titration, taper)
        if self.problems:
            return None
        return Patient(**common, high_dose_confirmed=unusual, daily_dose_mg=dose,
                       doses_per_day=doses_per_day, intake_doses_mg=intakes,
                       titration=titration, taper=taper, titration_unusual=titration_unusual,
                       taper_unusual=taper_unusual)


def _wrong_unit(field: str) -> str:
    return {"daily_dose_mg": "a pump dose is in micrograms per day: use daily_dose_ug",
            "daily_dose_ug": "a tablet dose is in milligrams per day: use daily_dose_mg"
            }.get(field, "")


def current_date() -> dt.date:
    """Today, or the day SOURCE_DATE_EPOCH names (the reproducible-builds convention), so
    that rebuilding a record's documents later judges its dates as on the first day."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return dt.date.today()
    if not epoch.isdigit():
        raise InputError(Problem("SOURCE_DATE_EPOCH", f"'{epoch}' is not a number of seconds",
                                 "e.g. SOURCE_DATE_EPOCH=$(date -d 2027-01-04 +%s), or unset it"))
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()


def validate_record(raw: RawRecord, languages: list[str], today: dt.date | None = None,
                    require_id: bool = False, rules: DoseRules | None = None) -> Patient:
    """A checked `Patient`, or InputError listing every problem of the record
    (`require_id` in a batch, where the id names every record's files; `rules` from the
    hospital profile, France's by default)."""
    if raw.refused:
        raise InputError(list(raw.refused))
    validator = _Validator(raw, today or current_date(), rules or DoseRules())
    patient = validator.validate(languages, require_id)
    if validator.problems or patient is None:
        raise InputError(validator.problems)
    return patient


def read_patient_file(path: Path, display: str | None = None) -> RawRecord:
    """One patient record from a YAML file, with line:col for each field."""
    name = display or str(path)
    node = read_yaml(path, name, as_typed=True)
    if not isinstance(node, YamlMap):
        raise InputError(Problem(name, "expected one patient record ('field: value' lines)"))

    def locate(field: str | None) -> str:
        if field in node.value_marks:
            mark = node.value_marks[field]
            return f"{mark.path}:{mark.line}:{mark.col}"
        return f"{name}:{node.mark.line}:{node.mark.col}"

    values = {key: (list(value) if isinstance(value, YamlList) else value)
              for key, value in node.items()}
    return RawRecord(values, locate)


def mis_encoded(text: str) -> bool:
    """Whether text was damaged by a wrong encoding: replacement characters (bytes that
    were not text in the encoding read), or UTF-8 read as Windows-1252 or Latin-1
    (`Ã©` for `é`, `â€™` for `’`), which no French name or address contains."""
    if "\ufffd" in text:
        return True
    if text.isascii():
        return False
    for encoding in ("cp1252", "latin-1"):
        try:
            repaired = text.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
        if repaired != text:
            return True
    return False
