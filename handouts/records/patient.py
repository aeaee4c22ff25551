"""The patient record: the typed values a personalised document needs.

Validation of raw records (YAML or spreadsheet rows) lives in `validate.py`; this
module only holds the result, so compose never sees unchecked input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class PlanStep:
    """From `start`, take `daily_dose_mg` a day."""

    start: dt.date
    daily_dose_mg: Decimal


@dataclass(frozen=True)
class Patient:
    id: str
    variant: str
    lang: str
    name: str = ""
    prescriber: str = ""
    phone: str = ""
    emergency_phone: str = ""
    high_dose_confirmed: bool = False
    # oral
    daily_dose_mg: Decimal | None = None
    doses_per_day: int = 3
    intake_doses_mg: tuple[Decimal | None, ...] = ()
    titration: tuple[PlanStep, ...] = ()
    taper: tuple[PlanStep, ...] = ()
    # intrathecal
    daily_dose_ug: Decimal | None = None
    concentration_ug_per_ml: int | None = None
    reservoir_ml: int | None = None
    next_refill: dt.date | None = None
    alarm_date: dt.date | None = None
    pump_model: str = ""
    pump_clinic_phone: str = ""
    implanting_centre: str = ""
    implant_date: dt.date | None = None
