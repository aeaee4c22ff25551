"""What every part of record validation shares: the raw record, the day it is judged on,
the hospital's dose rules, and the list its problems are collected in.

`validate.py` reads the common fields; `plans.py` (tablet intakes and dose plans) and
`pump.py` (the pump's values) each check one concern through a `RecordChecker`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import Problem
from ..sources.profile import DoseRules
from . import fields

CONFIRM = "if this is intended, add confirm_unusual_values: yes"

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


@dataclass(frozen=True)
class RawRecord:
    """A record as read, before validation: values by field, and where each one is."""

    values: dict[str, Any]
    locate: Callable[[str | None], str]
    row: int = 0
    refused: tuple[Problem, ...] = ()  # the reader could not read the row reliably
    source: tuple[tuple[str, ...], tuple[Any, ...]] = ((), ())  # header and cells as read


@dataclass
class RecordChecker:
    """One record being checked: read a field, report a problem where the field is."""

    raw: RawRecord
    today: dt.date
    rules: DoseRules
    confirmed: bool = False  # confirm_unusual_values
    problems: list[Problem] = field(default_factory=list)

    def problem(self, field: str | None, message: str, hint: str = "") -> None:
        prefix = f"{field}: " if field and not self.raw.locate(field).endswith(f" {field}") else ""
        self.problems.append(Problem(self.raw.locate(field), prefix + message, hint))

    def unusual(self, field: str, message: str, advice: str) -> bool:
        """A value the facts advise against: refused unless confirmed. True when confirmed."""
        if not self.confirmed:
            self.problem(field, message, f"{advice}; {CONFIRM}")
        return self.confirmed

    def check_range(self, field: str, value: Decimal, bounds: tuple[Decimal, Decimal],
                    unit: str, confirm_above: Decimal | None) -> bool:
        """Errors outside the plausible range; above `confirm_above` needs confirmation.
        Returns True when the value is unusual and was confirmed."""
        low, high = bounds
        if value < low or (confirm_above is not None and value > high):
            self.problem(field, f"{value} {unit} is outside the plausible range "
                         f"{low}-{high} {unit}", "check the value and its unit")
            return False
        threshold = confirm_above if confirm_above is not None else high
        if value > threshold:
            if not self.confirmed:
                self.problem(field, f"{value} {unit} is above the usual {threshold} {unit}",
                             CONFIRM)
                return False
            return True
        return False

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
