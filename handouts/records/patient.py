"""The patient record: the typed values a personalised document needs.

Validation of raw records (YAML or spreadsheet rows) lives in `validate.py`; this
module only holds the result, so compose never sees unchecked input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

INTAKE_SLOTS = ("morning", "noon", "evening", "bedtime")
# Which intakes are used when a day's dose is split in n intakes, by n.
SLOTS_BY_COUNT = {1: (0,), 2: (0, 2), 3: (0, 1, 2), 4: (0, 1, 2, 3)}


@dataclass(frozen=True)
class PlanStep:
    """From `start`, take `daily_dose_mg` a day, as `intakes_mg` (one per slot of
    INTAKE_SLOTS, None for no intake; empty while the record's split is not known yet)."""

    start: dt.date
    daily_dose_mg: Decimal
    intakes_mg: tuple[Decimal | None, ...] = ()


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
    # a plan faster than the facts advise, that the prescriber confirmed
    titration_unusual: bool = False
    taper_unusual: bool = False
    # the day the record was judged on: which plan steps are done, which is current
    as_of: dt.date | None = None
    # intrathecal
    daily_dose_ug: Decimal | None = None
    concentration_ug_per_ml: int | None = None
    concentration_confirmed: bool = False  # not one of the country's: the prescriber confirmed
    reservoir_ml: int | None = None
    next_refill: dt.date | None = None
    alarm_date: dt.date | None = None
    pump_model: str = ""
    pump_clinic_phone: str = ""
    implanting_centre: str = ""
    implant_date: dt.date | None = None
