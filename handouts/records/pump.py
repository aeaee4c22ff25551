"""The pump part of a record: dose, concentration, reservoir and the refill dates, which
must agree (the reservoir must not run empty before the refill, nor after the alarm).

Concentrations are those of the hospital's country: in France 50 (screening test), 500
and 2000 µg/mL; 1000 µg/mL is a US strength, accepted only when confirmed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..localise import long_date
from . import fields
from .checker import RecordChecker

PUMP_DOSE_UG = (Decimal(10), Decimal(1000))
CONCENTRATIONS_UG_PER_ML = (50, 500, 1000, 2000)
# By country: the concentrations used there; the others need confirmation.
COUNTRY_CONCENTRATIONS = {"FR": (50, 500, 2000)}
RESERVOIRS_ML = (20, 40)
DAYS_TO_REFILL = (30, 180)


def pump_values(record: RecordChecker) -> dict | None:
    """The pump fields of a `Patient`, or None when a problem was found."""
    dose = record.get("daily_dose_ug", fields.micrograms, required=True)
    unusual = False
    if dose is not None:
        before = len(record.problems)
        unusual = record.check_range("daily_dose_ug", dose, PUMP_DOSE_UG, "µg/day", None)
        if len(record.problems) > before:
            dose = None  # a refused dose computes no refill dates
    concentration = record.get("concentration_ug_per_ml",
                               fields.one_of(CONCENTRATIONS_UG_PER_ML, "µg/mL"), required=True)
    country = record.rules.country
    used = COUNTRY_CONCENTRATIONS.get(country, CONCENTRATIONS_UG_PER_ML)
    concentration_confirmed = False
    if concentration is not None and concentration not in used:
        concentration_confirmed = record.unusual(
            "concentration_ug_per_ml", f"{concentration} µg/mL is not a concentration used in "
            f"{country}", f"in {country}: {', '.join(map(str, used))} µg/mL")
    reservoir = record.get("reservoir_ml", fields.one_of(RESERVOIRS_ML, "mL"), required=True)
    next_refill = record.get("next_refill", fields.date, required=True)
    alarm = record.get("alarm_date", fields.date, required=True)
    last_refill = record.get("last_refill", fields.date)
    implant_date = record.get("implant_date", fields.date)
    texts = {
        "pump_model": record.get("pump_model", fields.text, default="", required=True),
        "pump_clinic_phone": record.get("pump_clinic_phone", fields.phone, default=""),
        "implanting_centre": record.get("implanting_centre", fields.text, default="")}
    today = record.today
    if implant_date and implant_date > today:
        record.problem("implant_date", f"{implant_date.isoformat()} is in the future")
    if last_refill and last_refill > today:
        record.problem("last_refill", f"{last_refill.isoformat()} is in the future")
    if next_refill:
        if next_refill < today:
            record.problem("next_refill", f"{long_date(next_refill, 'en')} is in the past")
        if alarm and next_refill > alarm:
            record.problem("next_refill", f"the refill ({long_date(next_refill, 'en')}) is "
                           f"after the low-reservoir alarm date ({long_date(alarm, 'en')})",
                           "the refill must come before the alarm")
    if None not in (dose, concentration, reservoir):
        days = int(Decimal(reservoir * concentration) / dose)
        if not DAYS_TO_REFILL[0] <= days <= DAYS_TO_REFILL[1] and not record.confirmed:
            record.problem("daily_dose_ug", f"the reservoir lasts {days} days at this dose "
                           f"({reservoir} mL x {concentration} µg/mL / {dose} µg/day), outside "
                           f"{DAYS_TO_REFILL[0]}-{DAYS_TO_REFILL[1]} days",
                           "check the dose, concentration and reservoir, or add "
                           "confirm_unusual_values: yes")
        unusual = unusual or not DAYS_TO_REFILL[0] <= days <= DAYS_TO_REFILL[1]
        empty = (last_refill or today) + dt.timedelta(days=days)
        since = "last_refill" if last_refill else "today"
        if next_refill and next_refill > empty:
            record.problem("next_refill", f"the refill ({long_date(next_refill, 'en')}) is "
                           f"after the day the reservoir runs empty ({long_date(empty, 'en')}, "
                           f"{days} days from {since})", "bring the refill forward")
        if alarm and alarm > empty:
            record.problem("alarm_date", f"the alarm date ({long_date(alarm, 'en')}) is after "
                           f"the day the reservoir runs empty ({long_date(empty, 'en')})")
    if record.problems:
        return None
    return {"high_dose_confirmed": unusual, "daily_dose_ug": dose,
            "concentration_ug_per_ml": concentration, "reservoir_ml": reservoir,
            "concentration_confirmed": concentration_confirmed,
            "next_refill": next_refill, "alarm_date": alarm, "implant_date": implant_date,
            **texts}
