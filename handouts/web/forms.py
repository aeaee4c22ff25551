"""The form: which record fields it shows, grouped as a clinician thinks (patient,
treatment, plan; tablet or pump fields by variant), how each is typed in, and how a
submitted form becomes the `RawRecord` the `patient` validator takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml

from ..errors import InputError
from ..records.patient import Patient
from ..records.pump import CONCENTRATIONS_UG_PER_ML, RESERVOIRS_ML
from ..records.validate import ALL_FIELDS, RawRecord, validate_record
from ..render.pdf import LAYOUTS
from ..sources.profile import DoseRules, HospitalProfile
from .messages import FieldError, form_errors

MAX_VALUE_CHARS = 200  # a form value longer than this is refused before validation


@dataclass(frozen=True)
class Field:
    """One input: `kind` says how it is typed in (text, number, date, select, radio,
    checkbox); numbers stay text inputs so '12,5' is the validator's to judge."""

    name: str
    kind: str = "text"
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """A fieldset; `variant` shows it only for that treatment (oral or intrathecal)."""

    key: str
    fields: tuple[Field, ...]
    variant: str | None = None
    groups: tuple[Group, ...] = ()


DATE = "date"
NUMBER = "number"

FORM = (
    Group("patient", (Field("name"), Field("id"), Field("lang", "select"))),
    Group("treatment", (Field("variant", "radio", ("oral", "intrathecal")), Field("prescriber"),
                        Field("phone", "tel"), Field("emergency_phone", "tel")), groups=(
        Group("oral_dose", (Field("daily_dose_mg", NUMBER), Field("doses_per_day", NUMBER)),
              "oral", groups=(Group("oral_split", tuple(Field(f, NUMBER) for f in (
                  "morning_mg", "noon_mg", "evening_mg", "bedtime_mg"))),)),
        Group("pump", (Field("daily_dose_ug", NUMBER),
                       Field("concentration_ug_per_ml", "select",
                             tuple(map(str, CONCENTRATIONS_UG_PER_ML))),
                       Field("reservoir_ml", "select", tuple(map(str, RESERVOIRS_ML))),
                       Field("pump_model"), Field("pump_clinic_phone", "tel"),
                       Field("implanting_centre"), Field("implant_date", DATE)), "intrathecal"),
    )),
    Group("plan", (), groups=(
        Group("titration", (Field("titration_start", DATE), Field("titration_start_mg", NUMBER),
                            Field("titration_step_mg", NUMBER),
                            Field("titration_every_days", NUMBER), Field("titration_steps")),
              "oral"),
        Group("taper", (Field("taper_start", DATE), Field("taper_step_mg", NUMBER),
                        Field("taper_every_days", NUMBER), Field("taper_steps")), "oral"),
        Group("refills", (Field("last_refill", DATE), Field("next_refill", DATE),
                          Field("alarm_date", DATE)), "intrathecal"),
    )),
    Group("documents", (Field("confirm_unusual_values", "checkbox"),
                        Field("layout", "select", LAYOUTS))),
)


def all_fields(groups: tuple[Group, ...] = FORM) -> list[Field]:
    return [f for group in groups for f in (*group.fields, *all_fields(group.groups))]


FORM_FIELDS = tuple(f.name for f in all_fields())
RECORD_FIELDS = tuple(f for f in FORM_FIELDS if f in ALL_FIELDS)


def defaults(profile: HospitalProfile) -> dict[str, str]:
    """A new form: the hospital profile's contacts filled in, as `patient` would use them."""
    return {"id": "patient", "lang": "fr", "layout": "standard",
            "phone": profile.team_phone, "emergency_phone": profile.emergency_number,
            "pump_clinic_phone": profile.pump_clinic_phone,
            "implanting_centre": profile.name}


def submitted(form: Mapping[str, Any]) -> dict[str, str]:
    """The form's own fields as text, stripped, empty ones left out; anything else a
    request carries (files, unknown names) is ignored, long values cut."""
    values = {}
    for name in FORM_FIELDS:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            values[name] = value.strip()[:MAX_VALUE_CHARS]
    return values


def _variant_fields(variant: str, groups: tuple[Group, ...] = FORM) -> set[str]:
    return {f.name for group in groups for f in (
        all_fields((group,)) if group.variant == variant else ())} | {
        name for group in groups if group.variant != variant
        for name in _variant_fields(variant, group.groups)}


def raw_record(values: Mapping[str, str], defaults: Mapping[str, str] | None = None
               ) -> RawRecord:
    """The record part of the form, each problem located at its form field. A field of
    the other treatment still holding the profile's default (the pump clinic's phone
    for a tablet patient) says nothing and is left out; anything typed there is kept,
    for the validator to point at."""
    other = _variant_fields("intrathecal" if values.get("variant") == "oral" else "oral")
    record: dict[str, Any] = {
        k: v for k, v in values.items() if k in RECORD_FIELDS
        and not (k in other and defaults is not None and defaults.get(k) == v)}
    if "confirm_unusual_values" in record:
        record["confirm_unusual_values"] = "yes"
    return RawRecord(record, lambda field: f"form {field}" if field else "form")


def validate_form(values: Mapping[str, str], languages: list[str], lang: str,
                  defaults: Mapping[str, str] | None = None, today: dt.date | None = None,
                  rules: DoseRules | None = None) -> tuple[Patient | None, list[FieldError]]:
    """The `patient` validator on the form: the patient, or every problem in `lang`."""
    try:
        return validate_record(raw_record(values, defaults), languages, today,
                               rules=rules), []
    except InputError as error:
        return None, form_errors(error.problems, lang)


def record_yaml(values: Mapping[str, str], defaults: Mapping[str, str] | None = None) -> str:
    """The form as the YAML record `patient FILE.yaml` takes (numbers as numbers)."""
    record: dict[str, Any] = {}
    for name, value in raw_record(values, defaults).values.items():
        if isinstance(value, str) and _is_number(value):
            number = Decimal(value)
            value = int(number) if number == number.to_integral_value() else float(value)
        record[name] = value
    return yaml.safe_dump(record, allow_unicode=True, sort_keys=False)


def _is_number(text: str) -> bool:
    return text.replace(".", "", 1).isdigit() and not text.startswith("0") or text == "0"
