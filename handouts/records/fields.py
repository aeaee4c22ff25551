"""Field parsers for patient records: one untrusted raw value -> one typed value.

Each parser accepts only what a clinician writes for that field and raises `Invalid`
with a message that describes the problem without repeating free text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..sources.content import suggest
from ..sources.profile import PHONE
from .patient import SLOTS_BY_COUNT, PlanStep

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
        number = amount(unit)(value)
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
    """Ids name files and go into the manifest: a strict pattern, so that no path, no
    formula (`=`, `+`, `-`, `@` cannot start one) and no free text passes."""
    text = _cell_text(value).strip() if isinstance(value, (str, int, float)) else ""
    if isinstance(value, bool):
        text = ""
    if not SAFE_ID.match(text):
        raise Invalid("must be 1-64 letters, digits, '-' or '_' (it names the files)")
    return text


def phone(value: Any) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if not PHONE.match(text):
        raise Invalid("not a phone number (digits, spaces and an optional leading +)")
    return text


MAX_NUMBER_TEXT = 20
MAX_SHOWN = 16
# What a clinician writes for an amount: digits, at most one decimal point or comma, and
# optionally the field's unit after at most one space. Nothing else: Python's own
# parsers also take `3_0`, `0x1E`, `1e5`, `nan`, inner spaces and non-ASCII digits.
_AMOUNT = re.compile(r"([0-9]{1,6})(?:[.,]([0-9]{1,3}))?(?:[ \u00a0]?([^\s0-9].*))?",
                     re.ASCII | re.DOTALL)
UNITS = {
    "mg": ("mg",),
    "µg": ("µg", "μg", "ug", "mcg"),
    "µg/mL": ("µg/ml", "μg/ml", "ug/ml", "mcg/ml"),
    "mL": ("ml",),
}


def shown(text: str) -> str:
    """A typed value as a message may show it: quoted when it is short and mostly digits
    (a number or a date as typed), otherwise only its kind and length, so that free
    text (a name typed in the wrong column) never reaches a message."""
    letters = sum(c.isalpha() for c in text)
    if (len(text) <= MAX_SHOWN and letters <= 4 and any(c.isdigit() for c in text)
            and text.isprintable()):
        return f"'{text}'"
    return f"a text of {len(text)} characters"


def key_name(key: str) -> str:
    """A field name as typed, if it looks like one (a name typed as a key is not shown)."""
    return key if re.fullmatch(r"[a-z][A-Za-z0-9_]{0,39}", key, re.ASCII) else shown(key)


def _cell_text(value: Any) -> str:
    """A spreadsheet number as the text it stands for, so every number goes through the
    same grammar (a float from a formula such as 0.30000000000000004 is refused)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Invalid("not a finite number")
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def amount(unit: str | None) -> Callable[[Any], Decimal]:
    """A parser for a number in `unit` (None: a bare number)."""
    def parse(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            raise Invalid("expected a number")
        typed = _cell_text(value).strip()
        example = f"e.g. 12.5 or 12,5{' ' + unit if unit else ''}"
        if len(typed) > MAX_NUMBER_TEXT:
            raise Invalid(f"{shown(typed)} is not a number ({example})")
        match = _AMOUNT.fullmatch(typed)
        if match is None:
            raise Invalid(f"{shown(typed)} is not a number: write digits with at most one "
                          f"decimal point or comma ({example})")
        whole, fraction, written_unit = match.groups()
        if written_unit is not None and (unit is None
                                         or written_unit.lower() not in UNITS[unit]):
            expected = f"this field is in {unit}" if unit else "write the number alone"
            raise Invalid(f"{shown(typed)}: {expected}")
        return Decimal(f"{whole}.{fraction}" if fraction else whole)
    return parse


decimal = amount(None)
milligrams = amount("mg")
micrograms = amount("µg")


def bounded(low: int, high: int, what: str) -> Callable[[Any], int]:
    """A whole number from `low` to `high` (days between steps, intakes a day)."""
    def parse(value: Any) -> int:
        number = decimal(value)
        if number != number.to_integral_value():
            raise Invalid("expected a whole number")
        if not low <= number <= high:
            raise Invalid(f"{number} {what} is outside {low} to {high}")
        return int(number)
    return parse


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
    if not isinstance(value, str):
        raise Invalid("expected a date (write 2027-01-15 or 15/01/2027)")
    text = value.strip()
    iso = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", text, re.ASCII)
    french = re.fullmatch(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", text, re.ASCII)
    if iso is None and french is None:
        raise Invalid(f"{shown(text)} is not a date (write 2027-01-15 or 15/01/2027)")
    year, month, day = map(int, iso.groups() if iso else reversed(french.groups()))
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise Invalid(f"{shown(text)} is not a day of the calendar") from None


def step_dose(value: Any) -> tuple[Decimal, tuple[Decimal | None, ...]]:
    """A step's dose: `25` (split evenly later), or its intakes `10+5+10` (2 to 4 parts,
    as the record's intakes a day: 2 are morning and evening), with their total."""
    if not isinstance(value, str) or "+" not in value:
        return milligrams(value), ()
    parts = [milligrams(part) for part in value.split("+")]
    if len(parts) not in SLOTS_BY_COUNT or len(parts) < 2:
        raise Invalid("write a step's intakes as 2 to 4 doses joined by '+' (e.g. 10+5+10)")
    slots = SLOTS_BY_COUNT[len(parts)]
    by_slot = dict(zip(slots, parts))
    return sum(parts, Decimal(0)), tuple(by_slot.get(i) for i in range(len(SLOTS_BY_COUNT)))


def steps(value: Any) -> tuple[PlanStep, ...]:
    """Steps as a YAML list of {from, daily_dose_mg}, or as text
    `2027-01-15=15; 2027-01-19=10+5+10` (one cell of a spreadsheet); a dose may be given
    as its intakes joined by `+`."""
    if isinstance(value, str):
        items = [part.split("=", 1) for part in value.split(";") if part.strip()]
        if any(len(item) != 2 for item in items):
            raise Invalid("write the steps as DATE=DOSE; DATE=DOSE (e.g. 2027-01-15=15)")
        return tuple(PlanStep(date(day), *step_dose(dose.strip())) for day, dose in items)
    if not isinstance(value, list) or not value:
        raise Invalid("expected a list of steps with 'from' and 'daily_dose_mg'")
    steps = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"from", "daily_dose_mg"}:
            raise Invalid("each step has exactly 'from' (a date) and 'daily_dose_mg'")
        steps.append(PlanStep(date(item["from"]), *step_dose(item["daily_dose_mg"])))
    return tuple(steps)
