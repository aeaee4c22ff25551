"""The automatic checks of one translated string against its French source.

They catch what a rule can see: placeholders, bold, numbers, units (symbols and words,
per language), the pairing and order of numbers with their units, URLs, phone numbers,
and a negation lost in translation. They cannot see a wrong meaning that keeps all of
these: that is the reviewer's job (see `review.py`).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

from ..markup import placeholders_in, text_problems

NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
URL = re.compile(r"(?:https?://|www\.)\S+")
PHONE_IN_TEXT = re.compile(r"\+?\d{2}(?:[ .\u00a0]?\d{2}){3,}")
FRENCH_TYPOGRAPHY = re.compile(r"[\u00a0\u202f][;:!?»]|«|…")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# Sentence-ending marks a translation keeps (a French "?" heading may lose its "?" in
# English QRD headings, so only these are compared).
KEPT_PUNCTUATION = ".:"

# Unit symbols, the same in every language.
UNIT_SYMBOLS = {"µg": "µg", "μg": "µg", "mcg": "µg", "mg": "mg", "ml": "mL", "%": "%"}
# Unit words per language, by the unit they name. A language missing here has only its
# symbols checked (`check` says so).
UNIT_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "fr": {"µg": ("microgramme", "microgrammes"), "mg": ("milligramme", "milligrammes"),
           "mL": ("millilitre", "millilitres"), "minute": ("minute", "minutes"),
           "hour": ("heure", "heures"), "day": ("jour", "jours", "journée", "journées", "quotidien", "quotidienne"),
           "week": ("semaine", "semaines"), "month": ("mois",),
           "year": ("an", "ans", "année", "années")},
    "en": {"µg": ("microgram", "micrograms", "microgramme", "microgrammes"),
           "mg": ("milligram", "milligrams", "milligramme", "milligrammes"),
           "mL": ("millilitre", "millilitres", "milliliter", "milliliters"),
           "minute": ("minute", "minutes"), "hour": ("hour", "hours", "hourly"),
           "day": ("day", "days", "daily", "everyday"), "week": ("week", "weeks", "weekly"),
           "month": ("month", "months", "monthly"), "year": ("year", "years", "yearly")},
    "pt": {"µg": ("micrograma", "microgramas"), "mg": ("miligrama", "miligramas"),
           "mL": ("mililitro", "mililitros"), "minute": ("minuto", "minutos"),
           "hour": ("hora", "horas"), "day": ("dia", "dias", "diário", "diária"),
           "week": ("semana", "semanas"), "month": ("mês", "meses"), "year": ("ano", "anos")},
    "es": {"µg": ("microgramo", "microgramos"), "mg": ("miligramo", "miligramos"),
           "mL": ("mililitro", "mililitros"), "minute": ("minuto", "minutos"),
           "hour": ("hora", "horas"), "day": ("día", "días", "diario", "diaria"),
           "week": ("semana", "semanas"), "month": ("mes", "meses"), "year": ("año", "años")},
    "de": {"µg": ("mikrogramm",), "mg": ("milligramm",), "mL": ("milliliter",),
           "minute": ("minute", "minuten"), "hour": ("stunde", "stunden"),
           "day": ("tag", "tage", "tagen", "täglich", "tägliche"),
           "week": ("woche", "wochen"), "month": ("monat", "monate", "monaten"),
           "year": ("jahr", "jahre", "jahren")},
    "it": {"µg": ("microgrammo", "microgrammi"), "mg": ("milligrammo", "milligrammi"),
           "mL": ("millilitro", "millilitri"), "minute": ("minuto", "minuti"),
           "hour": ("ore",), "day": ("giorno", "giorni", "giornaliero", "giornaliera"),
           "week": ("settimana", "settimane"), "month": ("mese", "mesi"),
           "year": ("anno", "anni")},
}
# Phrases where a unit word does not name a unit ("mise à jour" is "update", "mettre fin
# à ses jours" is "end one's life", "l'heure de la prise" is "the time of the dose").
NOT_UNITS: dict[str, tuple[str, ...]] = {
    "fr": ("mise à jour", "mises à jour", "à jour", "fin à mes jours", "fin à tes jours",
           "fin à ses jours", "fin à nos jours", "fin à vos jours", "fin à leurs jours",
           "l'heure", "l’heure")}
# Negation words per language. French "ne ... que" (only) is a restriction, not a
# negation, so `ne`/`n'` alone do not count: the word that completes them does. "ne ...
# plus" (no longer) is not counted either: "stops", "runs out" say it without a negation.
NEGATIONS: dict[str, str] = {
    "fr": r"jamais|pas|sans|aucune?s?|rien|ni|non|nulle?",
    "en": r"not|never|no|none|nothing|nobody|no one|nowhere|without|nor|neither|cannot|"
          r"\w+n't",
    "pt": r"não|nunca|sem|nenhuma?|nada|jamais|nem",
    "es": r"no|nunca|sin|ninguna?|nada|jamás|ni",
    "de": r"nicht|nie|niemals|kein(?:e|en|er|es|em)?|ohne|nichts|weder",
    "it": r"non|mai|senza|nessuna?|niente|nulla|né",
}
# Between the two numbers of a range ("3 à 4 jours", "50 or 100 µg"): the first number
# takes the unit of the second.
_RANGE = re.compile(r"\s*(?:-|–|—|à|a|to|et|and|ou|or|e|y|o|bis|und|oder|até)\s*",
                    re.IGNORECASE)


def supported(lang: str) -> bool:
    """Whether `lang` has unit words and negations to check (symbols always are)."""
    return lang in UNIT_WORDS and lang in NEGATIONS


def _unit_pattern(lang: str) -> re.Pattern[str]:
    words = {word: unit for unit, forms in UNIT_WORDS.get(lang, {}).items() for word in forms}
    words.update(UNIT_SYMBOLS)
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    # A unit may follow a digit directly ("50mg", "20%"), never a letter.
    return re.compile(rf"(?<![^\W\d_])(?:{alternatives})(?!\w)", re.IGNORECASE)


_PATTERNS = {lang: _unit_pattern(lang) for lang in [*UNIT_WORDS, ""]}


def _unit_of(word: str, lang: str) -> str:
    lowered = word.lower()
    if lowered in UNIT_SYMBOLS:
        return UNIT_SYMBOLS[lowered]
    return next(unit for unit, forms in UNIT_WORDS[lang].items() if lowered in forms)


def _plain(text: str, lang: str) -> str:
    """The text without placeholders and phrases whose unit words are not units."""
    text = PLACEHOLDER.sub(" ", text)
    for phrase in NOT_UNITS.get(lang, ()):
        text = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", text, flags=re.IGNORECASE)
    return text


def units(text: str, lang: str) -> set[str]:
    """The units the text names, as symbols or words (a range may name its unit once:
    "50 to 100 µg", "50 µg to 100 µg"; `quantities` compares them number by number)."""
    pattern = _PATTERNS.get(lang, _PATTERNS[""])
    return {_unit_of(match.group(), lang) for match in pattern.finditer(_plain(text, lang))}


class Quantity(NamedTuple):
    """A number in a text and the unit written right after it (or after its range)."""

    number: str
    unit: str

    def __str__(self) -> str:
        return f"{self.number} {self.unit}".strip()


def quantities(text: str, lang: str) -> list[Quantity]:
    """The numbers in text order, each paired with its unit ("" when it has none)."""
    plain = _plain(text, lang)
    pattern = _PATTERNS.get(lang, _PATTERNS[""])
    found: list[tuple[Quantity, int, int]] = []
    for match in NUMBER.finditer(plain):
        after = match.end()
        while plain[after:after + 1] in (" ", "\u00a0", "\u202f") and after < len(plain):
            after += 1
        unit = pattern.match(plain, after)
        found.append((Quantity(match.group().replace(",", "."),
                               _unit_of(unit.group(), lang) if unit else ""),
                      match.start(), match.end()))
    for index in range(len(found) - 2, -1, -1):
        (quantity, start, end), (following, next_start, _) = found[index], found[index + 1]
        if not quantity.unit and following.unit and _RANGE.fullmatch(plain[end:next_start]):
            found[index] = (quantity._replace(unit=following.unit), start, end)
    return [quantity for quantity, _, _ in found]


def has_negation(text: str, lang: str) -> bool | None:
    """Whether the text negates something; None when `lang` has no negation words."""
    if lang not in NEGATIONS:
        return None
    if lang == "fr":
        text = re.sub(r"(?<!\w)pas à pas(?!\w)", " ", text, flags=re.IGNORECASE)
    return re.search(rf"(?<!\w)(?:{NEGATIONS[lang]})(?!\w)", text, re.IGNORECASE) is not None


def _differs(label: str, french: Counter | set | list, translated: Counter | set | list) -> str:
    def show(items: Counter | set | list) -> str:
        shown = [str(item) for item in (sorted(items.elements()) if isinstance(items, Counter)
                                        else sorted(items) if isinstance(items, set) else items)]
        return ", ".join(shown) or "none"
    return (f"{label} differ from the French: French has {show(french)}, translation has "
            f"{show(translated)}")


def _numbers(text: str) -> Counter:
    return Counter(n.replace(",", ".") for n in NUMBER.findall(PLACEHOLDER.sub("", text)))


def compare_text(french: str, translated: str, lang: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one `lang` string against its French source."""
    errors = [message for message, _ in text_problems(translated)]
    if Counter(placeholders_in(french)) != Counter(placeholders_in(translated)):
        errors.append(_differs("placeholders", Counter(f"{{{p}}}" for p in placeholders_in(french)),
                               Counter(f"{{{p}}}" for p in placeholders_in(translated))))
    if french.count("**") != translated.count("**"):
        errors.append(f"bold markup differs from the French: French has {french.count('**') // 2}"
                      f" bold parts, translation has {translated.count('**') // 2}")
    found = (("numbers", _numbers(french), _numbers(translated)),
             ("units", units(french, "fr"), units(translated, lang)),
             ("URLs", Counter(URL.findall(french)), Counter(URL.findall(translated))),
             ("phone numbers", Counter(PHONE_IN_TEXT.findall(french)),
              Counter(PHONE_IN_TEXT.findall(translated))))
    errors += [_differs(label, in_french, in_translation)
               for label, in_french, in_translation in found if in_french != in_translation]
    if not errors and quantities(french, "fr") != quantities(translated, lang):
        errors.append(_differs("numbers and their units (in order)", quantities(french, "fr"),
                               quantities(translated, lang)))
    warnings = []
    if translated == french and len(french.split()) >= 3:
        warnings.append("same as the French (not translated?)")
    if translated != translated.strip() or "  " in translated:
        warnings.append("extra spaces at the start, the end or inside")
    french_end, translated_end = french.strip()[-1:], translated.strip()[-1:]
    if french_end != translated_end and (french_end in KEPT_PUNCTUATION
                                         or translated_end in KEPT_PUNCTUATION):
        warnings.append(f"ends with '{translated_end}' but the French ends with '{french_end}'")
    if FRENCH_TYPOGRAPHY.search(translated):
        warnings.append("French typography (no-break space before ; : ! ?, « », …)")
    return errors, warnings


def review_warnings(french: str, translated: str, lang: str) -> list[str]:
    """Warnings for a reviewer about the meaning, shown while a string is to review (once
    a reviewer accepted that exact text, they saw it): a French negation with none in the
    translation ("ne prenez pas" may rightly become "skip")."""
    if has_negation(french, "fr") and has_negation(translated, lang) is False:
        return [("the French says no/not/never/without, the translation has no negation "
                "(check the meaning)")]
    return []
