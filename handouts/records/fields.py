"""Field parsers for patient records: one untrusted raw value -> one typed value.

Each parser accepts only what a clinician writes for that field and raises `Invalid`
with a message that describes the problem without repeating free text.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from ..sources.content import suggest
from ..sources.profile import PHONE
from .patient import PlanStep

MAX_TEXT = 80
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
TRUE_WORDS = {"yes", "true", "1", "oui", "y", "o"}
FALSE_WORDS = {"no", "false", "0", "non", "n", ""}


class Invalid(Exception):
    """One field's value is unusable; the message is collected, not raised further."""


def choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip().lower() if isinstance(value, str) else None
        if text not in choices:
            raise Invalid(f"expected one of {', '.join(choices)}"
                           + (f"; {suggest(text, choices)}" if text else ""))
        return text
    return parse


def one_of(choices: tuple[int, ...], unit: str) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        number = decimal(value)
        if number not in choices:
            raise Invalid(f"{number} {unit} is not one of {', '.join(map(str, choices))} {unit}")
        return int(number)
    return parse


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("expected text")
    text = " ".join(value.split())
    if len(text) > MAX_TEXT:
        raise Invalid(f"longer than {MAX_TEXT} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in text):
        raise Invalid("contains control or invisible characters")
    return text


def identifier(value: Any) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if not SAFE_ID.match(text):
        raise Invalid("must be 1-64 letters, digits, '-' or '_' (it names the files)")
    return text


def phone(value: Any) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if not PHONE.match(text):
        raise Invalid("not a phone number (digits, spaces and an optional leading +)")
    return text


def decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise Invalid("expected a number")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Invalid("expected a number (e.g. 12.5 or 12,5)") from None
    if not number.is_finite():
        raise Invalid("expected a number (e.g. 12.5 or 12,5)")
    return number


def integer(value: Any) -> int:
    number = decimal(value)
    if number != number.to_integral_value():
        raise Invalid("expected a whole number")
    return int(number)


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise Invalid("expected yes or no")


def date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    try:
        if match:
            day, month, year = map(int, match.groups())
            return dt.date(year, month, day)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"'{text}' is not a valid date") from None
    raise Invalid(f"'{text}' is not a date (write 2027-01-15 or 15/01/2027)")


def steps(value: Any) -> tuple[PlanStep, ...]:
    """Steps as a YAML list of {from, daily_dose_mg}, or as text
    `2027-01-15=15; 2027-01-19=30` (one cell of a spreadsheet)."""
    if isinstance(value, str):
        items = [part.split("=", 1) for part in value.split(";") if part.strip()]
        if any(len(item) != 2 for item in items):
            raise Invalid("write the steps as DATE=DOSE; DATE=DOSE (e.g. 2027-01-15=15)")
        return tuple(PlanStep(date(day), decimal(dose)) for day, dose in items)
    if not isinstance(value, list) or not value:
        raise Invalid("expected a list of steps with 'from' and 'daily_dose_mg'")
    steps = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"from", "daily_dose_mg"}:
            raise Invalid("each step has exactly 'from' (a date) and 'daily_dose_mg'")
        steps.append(PlanStep(date(item["from"]), decimal(item["daily_dose_mg"])))
    return tuple(steps)
