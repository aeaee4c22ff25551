"""Validating patient records: raw values (from YAML or a spreadsheet row) -> `Patient`.

Every problem of a record is collected, each naming the field and where it is (file
and line for YAML, row and column for a spreadsheet). Messages never repeat free-text
values (a name, a prescriber): patient data stays out of logs and terminals.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..localise import long_date
from ..sources.content import suggest
from ..sources.yamlsource import YamlList, YamlMap, read_yaml
from . import fields
from .patient import Patient, PlanStep

# Plausible ranges, from the facts sheet's validator table.
ORAL_DOSE_MG = (Decimal(5), Decimal(120))
ORAL_CONFIRM_ABOVE_MG = Decimal(80)
PUMP_DOSE_UG = (Decimal(10), Decimal(1000))
CONCENTRATIONS_UG_PER_ML = (50, 500, 1000, 2000)
RESERVOIRS_ML = (20, 40)
DAYS_TO_REFILL = (30, 180)
MAX_STEP_MG = Decimal(15)
MIN_TITRATION_INTERVAL_DAYS = 3
MAX_PLAN_STEPS = 10
MAX_INTERVAL_DAYS = 365  # a sanity bound on days between plan steps, not a clinical rule
INTAKE_FIELDS = ("morning_mg", "noon_mg", "evening_mg", "bedtime_mg")
# Which intakes are used when the daily dose is split evenly, by intakes per day.
EVEN_SPLIT_SLOTS = {1: (0,), 2: (0, 2), 3: (0, 1, 2), 4: (0, 1, 2, 3)}

COMMON_FIELDS = ("id", "variant", "lang", "name", "prescriber", "phone", "emergency_phone",
                 "confirm_unusual_values", "ward")
ORAL_FIELDS = ("daily_dose_mg", "doses_per_day", *INTAKE_FIELDS, "titration_steps",
               "titration_start", "titration_start_mg", "titration_step_mg",
               "titration_every_days", "taper_steps", "taper_start", "taper_step_mg",
               "taper_every_days")
PUMP_FIELDS = ("daily_dose_ug", "concentration_ug_per_ml", "reservoir_ml", "next_refill",
               "alarm_date", "last_refill", "pump_model", "pump_clinic_phone",
               "implanting_centre", "implant_date")
ALL_FIELDS = COMMON_FIELDS + ORAL_FIELDS + PUMP_FIELDS
PRIVATE_FIELDS = ("name", "prescriber", "pump_model", "implanting_centre")


@dataclass(frozen=True)
class RawRecord:
    """A record as read, before validation: values by field, and where each one is."""

    values: dict[str, Any]
    locate: Callable[[str | None], str]
    row: int = 0
    refused: tuple[Problem, ...] = ()  # the reader could not read the row reliably
    source: tuple[tuple[str, ...], tuple[Any, ...]] = ((), ())  # header and cells as read



class _Validator:
    def __init__(self, raw: RawRecord, languages: list[str], today: dt.date,
                 require_id: bool = False):
        self.require_id = require_id
        self.raw = raw
        self.languages = languages
        self.today = today
        self.problems: list[Problem] = []

    def problem(self, field: str | None, message: str, hint: str = "") -> None:
        prefix = f"{field}: " if field and not self.raw.locate(field).endswith(f" {field}") else ""
        self.problems.append(Problem(self.raw.locate(field), prefix + message, hint))

    def present(self, field: str) -> bool:
        value = self.raw.values.get(field)
        return value is not None and not (isinstance(value, str) and not value.strip())

    def get(self, field: str, parse: Callable[[Any], Any], default: Any = None,
            required: bool = False) -> Any:
        if not self.present(field):
            if required:
                self.problem(field, "required", _HINTS.get(field, ""))
            return default
        try:
            return parse(self.raw.values[field])
        except fields.Invalid as invalid:
            self.problem(field, str(invalid), _HINTS.get(field, ""))
            return default

    def validate(self) -> Patient | None:
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
        record_id = self.get("id", fields.identifier, default="patient", required=self.require_id)
        lang = self.get("lang", fields.choice(tuple(self.languages)), default="fr")
        common = {
            "id": record_id, "variant": variant, "lang": lang or "fr",
            "name": self.get("name", fields.text, default=""),
            "prescriber": self.get("prescriber", fields.text, default=""),
            "phone": self.get("phone", fields.phone, default=""),
            "emergency_phone": self.get("emergency_phone", fields.phone, default=""),
            "high_dose_confirmed": False}
        confirmed = self.get("confirm_unusual_values", fields.boolean, default=False)
        self.get("ward", fields.text)  # only sorts a batch's print; checked like any text
        if variant is None:
            return None
        for field in PUMP_FIELDS if variant == "oral" else ORAL_FIELDS:
            if self.present(field):
                self.problem(field, f"not used for the {variant} variant", _wrong_unit(field)
                             or "remove it, or set variant to the other route")
        if variant == "oral":
            return self.oral(common, confirmed)
        return self.pump(common, confirmed, lang or "fr")

    def oral(self, common: dict, confirmed: bool) -> Patient | None:
        dose = self.get("daily_dose_mg", fields.milligrams, required=True)
        unusual = False
        if dose is not None:
            before = len(self.problems)
            unusual = self.check_range("daily_dose_mg", dose, ORAL_DOSE_MG, "mg/day",
                                       ORAL_CONFIRM_ABOVE_MG, confirmed)
            if len(self.problems) > before:
                dose = None  # nothing more to say about a dose already refused
        doses_per_day = self.get("doses_per_day", fields.bounded(1, 4, "intakes a day"),
                                 default=3)
        intakes = self.intakes(dose, doses_per_day)
        titration = self.plan("titration", dose)
        taper = self.plan("taper", dose)
        if self.problems:
            return None
        return Patient(**{**common, "high_dose_confirmed": unusual}, daily_dose_mg=dose,
                       doses_per_day=doses_per_day, intake_doses_mg=intakes,
                       titration=titration, taper=taper)

    def check_range(self, field: str, value: Decimal, bounds: tuple[Decimal, Decimal],
                    unit: str, confirm_above: Decimal | None, confirmed: bool) -> bool:
        """Errors outside the plausible range; above `confirm_above` needs confirmation.
        Returns True when the value is unusual and was confirmed."""
        low, high = bounds
        if value < low or (confirm_above is not None and value > high):
            self.problem(field, f"{value} {unit} is outside the plausible range {low}-{high} {unit}",
                         "check the value and its unit")
            return False
        threshold = confirm_above if confirm_above is not None else high
        if value > threshold:
            if not confirmed:
                self.problem(field, f"{value} {unit} is above the usual {threshold} {unit}",
                             "if this is intended, add confirm_unusual_values: yes")
                return False
            return True
        return False

    def intakes(self, dose: Decimal | None, doses_per_day: int) -> tuple[Decimal | None, ...]:
        given = {f: self.get(f, fields.milligrams) for f in INTAKE_FIELDS if self.present(f)}
        if dose is None:
            return ()
        if given:
            split = tuple(given.get(f) for f in INTAKE_FIELDS)
            if None in given.values():
                return ()
            total = sum(v for v in split if v is not None)
            if total != dose:
                self.problem(INTAKE_FIELDS[0] if INTAKE_FIELDS[0] in given else next(iter(given)),
                             f"the intakes add up to {total} mg, not daily_dose_mg ({dose} mg)")
            taken = sum(1 for v in split if v)
            if self.present("doses_per_day") and taken != doses_per_day:
                self.problem("doses_per_day", f"{doses_per_day} intakes a day, but {taken} "
                             "intake doses are given")
            return split
        share = dose / doses_per_day
        if share != share.quantize(Decimal("0.1")):
            self.problem("daily_dose_mg", f"{dose} mg does not split evenly into "
                         f"{doses_per_day} intakes",
                         "give morning_mg, noon_mg, evening_mg and bedtime_mg")
            return ()
        slots = EVEN_SPLIT_SLOTS[doses_per_day]
        return tuple(share.quantize(Decimal("0.1")) if i in slots else None for i in range(4))

    def plan(self, kind: str, dose: Decimal | None) -> tuple[PlanStep, ...]:
        """A titration (up to `daily_dose_mg`) or taper (down to 0) plan, given as steps or
        computed from a start date, a step and an interval."""
        steps_field = f"{kind}_steps"
        computed = [f"{kind}_start", f"{kind}_step_mg", f"{kind}_every_days"]
        if kind == "titration":
            computed.insert(1, "titration_start_mg")
        given = [f for f in computed if self.present(f)]
        if self.present(steps_field):
            if given:
                self.problem(given[0], f"give either {steps_field} or {', '.join(computed)}",
                             "not both")
            steps = self.get(steps_field, fields.steps, default=())
        elif given:
            missing = [f for f in computed if f not in given]
            for field in missing:
                self.problem(field, f"required to compute the {kind} plan",
                             f"give all of {', '.join(computed)}")
            if missing or dose is None:
                return ()
            steps = self.computed_plan(kind, dose)
        else:
            return ()
        if not steps or dose is None:
            return ()
        return self.check_plan(kind, steps_field if self.present(steps_field) else computed[0],
                               steps, dose)

    def computed_plan(self, kind: str, dose: Decimal) -> tuple[PlanStep, ...]:
        start = self.get(f"{kind}_start", fields.date)
        step = self.get(f"{kind}_step_mg", fields.milligrams)
        every = self.get(f"{kind}_every_days", fields.bounded(1, MAX_INTERVAL_DAYS, "days"))
        first = self.get("titration_start_mg", fields.milligrams) if kind == "titration" else None
        if None in (start, step, every) or (kind == "titration" and first is None):
            return ()
        if step <= 0:
            self.problem(f"{kind}_step_mg", "must be more than 0")
            return ()
        if (dt.date.max - start).days < every * MAX_PLAN_STEPS:
            self.problem(f"{kind}_start", "the plan would run past the year 9999")
            return ()
        current = first if kind == "titration" else dose - step
        target = dose if kind == "titration" else Decimal(0)
        steps = []
        while len(steps) <= MAX_PLAN_STEPS:
            current = min(current, target) if kind == "titration" else max(current, target)
            steps.append(PlanStep(start + dt.timedelta(days=every * len(steps)), current))
            if current == target:
                break
            current = current + step if kind == "titration" else current - step
        return tuple(steps)

    def check_plan(self, kind: str, field: str, steps: tuple[PlanStep, ...],
                   dose: Decimal) -> tuple[PlanStep, ...]:
        before = len(self.problems)
        if len(steps) > MAX_PLAN_STEPS:
            self.problem(field, f"the {kind} plan has more than {MAX_PLAN_STEPS} steps",
                         "use larger steps or fewer dates")
        target = dose if kind == "titration" else Decimal(0)
        previous = PlanStep(steps[0].start, dose) if kind == "taper" else None
        for number, step in enumerate(steps, 1):
            if step.start < self.today:
                self.problem(field, f"step {number} starts in the past ({step.start.isoformat()})")
            if kind == "titration" and not ORAL_DOSE_MG[0] <= step.daily_dose_mg <= dose:
                self.problem(field, f"step {number}: {step.daily_dose_mg} mg/day is outside "
                             f"{ORAL_DOSE_MG[0]}-{dose} mg/day (daily_dose_mg is the target)")
            if previous is None:
                previous = step
                continue
            change = (step.daily_dose_mg - previous.daily_dose_mg if kind == "titration"
                      else previous.daily_dose_mg - step.daily_dose_mg)
            gap = (step.start - previous.start).days
            if step is not steps[0] and gap <= 0:
                self.problem(field, f"step {number} ({step.start.isoformat()}) is not after "
                             f"step {number - 1} ({previous.start.isoformat()})",
                             "list the steps in date order")
            if change <= 0:
                direction = "increase" if kind == "titration" else "decrease"
                self.problem(field, f"step {number} does not {direction} the dose",
                             f"each {kind} step must {direction} it")
            elif change > MAX_STEP_MG:
                self.problem(field, f"step {number} changes the dose by {change} mg/day, more "
                             f"than {MAX_STEP_MG} mg/day", "use steps of at most 15 mg/day")
            if (kind == "titration" and step is not steps[0]
                    and 0 < gap < MIN_TITRATION_INTERVAL_DAYS):
                self.problem(field, f"step {number} comes {gap} days after the previous one",
                             f"increase at most every {MIN_TITRATION_INTERVAL_DAYS} days")
            previous = step
        if steps[-1].daily_dose_mg != target:
            self.problem(field, f"the {kind} plan ends at {steps[-1].daily_dose_mg} mg/day and "
                         f"does not reach {target} mg/day",
                         "the titration ends at daily_dose_mg; the taper ends at 0")
        return steps if len(self.problems) == before else ()

    def pump(self, common: dict, confirmed: bool, lang: str) -> Patient | None:
        dose = self.get("daily_dose_ug", fields.micrograms, required=True)
        unusual = False
        if dose is not None:
            before = len(self.problems)
            unusual = self.check_range("daily_dose_ug", dose, PUMP_DOSE_UG, "µg/day", None,
                                       confirmed)
            if len(self.problems) > before:
                dose = None  # a refused dose computes no refill dates
        concentration = self.get("concentration_ug_per_ml",
                                 fields.one_of(CONCENTRATIONS_UG_PER_ML, "µg/mL"), required=True)
        reservoir = self.get("reservoir_ml", fields.one_of(RESERVOIRS_ML, "mL"), required=True)
        next_refill = self.get("next_refill", fields.date, required=True)
        alarm = self.get("alarm_date", fields.date, required=True)
        last_refill = self.get("last_refill", fields.date)
        implant_date = self.get("implant_date", fields.date)
        pump_values = {
            "pump_model": self.get("pump_model", fields.text, default="", required=True),
            "pump_clinic_phone": self.get("pump_clinic_phone", fields.phone, default=""),
            "implanting_centre": self.get("implanting_centre", fields.text, default="")}
        if implant_date and implant_date > self.today:
            self.problem("implant_date", f"{implant_date.isoformat()} is in the future")
        if last_refill and last_refill > self.today:
            self.problem("last_refill", f"{last_refill.isoformat()} is in the future")
        if next_refill:
            if next_refill < self.today:
                self.problem("next_refill", f"{long_date(next_refill, 'en')} is in the past")
            if alarm and next_refill > alarm:
                self.problem("next_refill", f"the refill ({long_date(next_refill, 'en')}) is "
                             f"after the low-reservoir alarm date ({long_date(alarm, 'en')})",
                             "the refill must come before the alarm")
        if None not in (dose, concentration, reservoir):
            days = int(Decimal(reservoir * concentration) / dose)
            if not DAYS_TO_REFILL[0] <= days <= DAYS_TO_REFILL[1] and not confirmed:
                self.problem("daily_dose_ug", f"the reservoir lasts {days} days at this dose "
                             f"({reservoir} mL x {concentration} µg/mL / {dose} µg/day), outside "
                             f"{DAYS_TO_REFILL[0]}-{DAYS_TO_REFILL[1]} days",
                             "check the dose, concentration and reservoir, or add "
                             "confirm_unusual_values: yes")
            unusual = unusual or not DAYS_TO_REFILL[0] <= days <= DAYS_TO_REFILL[1]
            empty = (last_refill or self.today) + dt.timedelta(days=days)
            since = "last_refill" if last_refill else "today"
            if next_refill and next_refill > empty:
                self.problem("next_refill", f"the refill ({long_date(next_refill, 'en')}) is "
                             f"after the day the reservoir runs empty ({long_date(empty, 'en')}, "
                             f"{days} days from {since})", "bring the refill forward")
            if alarm and alarm > empty:
                self.problem("alarm_date", f"the alarm date ({long_date(alarm, 'en')}) is after "
                             f"the day the reservoir runs empty ({long_date(empty, 'en')})")
        if self.problems:
            return None
        return Patient(**{**common, "high_dose_confirmed": unusual}, daily_dose_ug=dose,
                       concentration_ug_per_ml=concentration, reservoir_ml=reservoir,
                       next_refill=next_refill, alarm_date=alarm, implant_date=implant_date,
                       **pump_values)


_HINTS = {
    "variant": "oral or intrathecal",
    "daily_dose_mg": "tablets: the dose in mg per day, e.g. 30",
    "daily_dose_ug": "pump: the dose in micrograms per day, e.g. 250",
    "next_refill": "a date such as 2027-01-15",
    "alarm_date": "the pump's low-reservoir alarm date, e.g. 2027-01-20",
    "concentration_ug_per_ml": "one of 50, 500, 1000, 2000",
    "reservoir_ml": "20 or 40",
    "pump_model": "e.g. SynchroMed II",
}


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
                    require_id: bool = False) -> Patient:
    """A checked `Patient`, or InputError listing every problem of the record
    (`require_id` in a batch, where the id names every record's files)."""
    if raw.refused:
        raise InputError(list(raw.refused))
    validator = _Validator(raw, languages, today or current_date(), require_id)
    patient = validator.validate()
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
