"""Dates and numbers in the reader's language, through Babel (e.g. "15 janvier 2027",
"12,5 mg")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_date as _format_date
from babel.numbers import format_decimal

# English leaflets follow UK conventions (day before month); French is France's.
_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def locale_for(lang: str) -> str:
    """The Babel locale a document language uses."""
    return _LOCALES.get(lang, lang)


def language_tag(lang: str) -> str:
    """The BCP 47 tag of a document language, e.g. `fr-FR` (DOCX w:lang)."""
    return locale_for(lang).replace("_", "-")


def long_date(value: dt.date, lang: str) -> str:
    """`15 janvier 2027` in French, `15 January 2027` in English."""
    return _format_date(value, format="long", locale=locale_for(lang))


def short_date(value: dt.date, lang: str) -> str:
    """`15/01/2027`: for table cells."""
    return _format_date(value, format="short", locale=locale_for(lang))


def number(value: Decimal | float, lang: str) -> str:
    """`12,5` in French, `12.5` in English; whole numbers without decimals."""
    return format_decimal(value, format="#,##0.##", locale=locale_for(lang))


def tablet_count(count: Decimal, lang: str) -> str:
    """A number of tablets in whole and half tablets: `½`, `1`, and `1 ½` in French
    (`1½` in English, as English pharmacy labels write it)."""
    whole, half = divmod(count, 1)
    if not half:
        return number(whole, lang)
    if not whole:
        return "½"
    return f"{number(whole, lang)}{'' if lang == 'en' else chr(0xA0)}½"


def colon(lang: str) -> str:
    """The colon between a title and what follows on one line: French puts a no-break
    space before it."""
    return "\u00a0: " if lang == "fr" else ": "
