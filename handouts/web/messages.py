"""The validator's problems in the clinician's words: each message and hint of
`records.validate` and `records.fields` matched by pattern and said again in French or
English, with form labels instead of field names. A quoted value is never repeated
(the field shows what was typed); a message no pattern knows is shown in English with
its field names replaced, never dropped."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..errors import Problem
from ..localise import long_date
from ..records.validate import ALL_FIELDS
from .texts import LABELS

# (pattern, French, English). Named groups are carried over; `date*` groups are dates
# written in English by the validator, said again in the clinician's language.
_MESSAGES: tuple[tuple[str, str, str], ...] = (
    (r"required", "obligatoire", "required"),
    (r"unknown field", "champ inconnu", "unknown field"),
    (r"not used for the (?P<variant>\w+) variant", "ne s'applique pas à ce traitement ({variant})",
     "does not apply to this treatment ({variant})"),
    (r"expected one of (?P<choices>[^;]+)(; .*)?", "choisir parmi : {choices}",
     "choose one of: {choices}"),
    (r"(?P<n>\S+) (?P<unit>\S+) is not one of (?P<choices>.+)",
     "{n} {unit} n'est pas une des valeurs possibles : {choices}",
     "{n} {unit} is not one of: {choices}"),
    (r"expected text", "texte attendu", "expected text"),
    (r"longer than (?P<n>\S+) characters", "plus de {n} caractères", "longer than {n} characters"),
    (r"contains control or invisible characters", ("contient des caractères invisibles ou de "
     "contrôle"), "contains control or invisible characters"),
    (r"unreadable or mis-encoded characters.*",
     "caractères illisibles ou mal encodés (comme « Ã© » pour « é ») : retapez ce texte",
     "unreadable or mis-encoded characters (such as 'Ã©' for 'é'): type this text again"),
    (r"must be 1-64 letters.*", "1 à 64 lettres, chiffres, « - » ou « _ » (il nomme les fichiers)",
     "1 to 64 letters, digits, '-' or '_' (it names the files)"),
    (r"not a phone number.*", "n'est pas un numéro de téléphone (chiffres, espaces, + au début)",
     "not a phone number (digits, spaces, an optional leading +)"),
    (r"expected a number.*", "nombre attendu", "expected a number"),
    (r"not a finite number", "nombre attendu", "expected a number"),
    (r".* is not a number.*", "n'est pas un nombre", "not a number"),
    (r".*: this field is in (?P<unit>\S+)", "ce champ est en {unit} : écrire le nombre seul",
     "this field is in {unit}: write the number alone"),
    (r".*: write the number alone", "écrire le nombre seul", "write the number alone"),
    (r"(?P<n>\S+) days is outside (?P<low>\d+) to (?P<high>\d+)",
     "{n} jours : hors de {low} à {high}", "{n} days: outside {low} to {high}"),
    (r"expected a date.*", "date attendue (par exemple 15/01/2027)",
     "expected a date (e.g. 15/01/2027)"),
    (r".* is not a day of the calendar", "date impossible", "not a valid date"),
    (r"expected a whole number", "nombre entier attendu", "expected a whole number"),
    (r"expected yes or no", "oui ou non attendu", "expected yes or no"),
    (r"'.*' is not a valid date", "date impossible", "not a valid date"),
    (r".* is not a date.*", "n'est pas une date (par exemple 15/01/2027)",
     "not a date (e.g. 15/01/2027)"),
    (r"write the steps as .*", ("écrire les paliers DATE=DOSE; DATE=DOSE (par exemple "
     "2027-01-15=15; 2027-01-19=30)"), ("write the steps DATE=DOSE; DATE=DOSE (e.g. "
     "2027-01-15=15; 2027-01-19=30)")),
    (r"expected a list of steps.*|each step has exactly.*",
     "chaque palier a une date et une dose en mg/jour", "each step has a date and a dose in mg/day"),
    (r"(?P<n>\S+) intakes a day is outside 1 to 4", "{n} prises par jour : hors de 1 à 4",
     "{n} intakes a day: outside 1 to 4"),
    (r"(?P<v>\S+) (?P<unit>\S+) is outside the plausible range (?P<range>\S+) \S+",
     "{v} {unit} est hors des valeurs plausibles ({range} {unit})",
     "{v} {unit} is outside the plausible range ({range} {unit})"),
    (r"(?P<v>\S+) (?P<unit>\S+) is above the usual (?P<limit>\S+) \S+",
     "{v} {unit} dépasse la valeur habituelle ({limit} {unit})",
     "{v} {unit} is above the usual {limit} {unit}"),
    (r"the intakes add up to (?P<total>\S+) mg, not daily_dose_mg \((?P<dose>\S+) mg\)",
     "les prises font {total} mg au total, pas la dose quotidienne ({dose} mg)",
     "the intakes add up to {total} mg, not the daily dose ({dose} mg)"),
    (r"(?P<n>\S+) intakes a day, but (?P<taken>\d+) intake doses are given",
     "{n} prises par jour, mais {taken} doses par prise sont données",
     "{n} intakes a day, but {taken} intake doses are given"),
    (r"(?P<dose>\S+) mg does not split evenly into (?P<n>\S+) intakes",
     "{dose} mg ne se répartit pas également en {n} prises",
     "{dose} mg does not split evenly into {n} intakes"),
    (r"give either (?P<a>\w+) or (?P<b>.+)", "donner soit {a}, soit {b}",
     "give either {a} or {b}"),
    (r"required to compute the (?P<kind>\w+) plan", "obligatoire pour calculer le plan",
     "required to compute the plan"),
    (r"must be more than 0", "doit être supérieur à 0", "must be more than 0"),
    (r"the plan would run past the year 9999", "le plan dépasserait l'an 9999",
     "the plan would run past the year 9999"),
    (r"the (?P<kind>\w+) plan has more than (?P<n>\S+) steps", "le plan a plus de {n} paliers",
     "the plan has more than {n} steps"),
    (r"(?P<v>\S+) mg/day is outside (?P<range>\S+) mg/day \(daily_dose_mg is the target\)",
     "{v} mg/jour est hors de {range} mg/jour (la dose quotidienne est la cible)",
     "{v} mg/day is outside {range} mg/day (the daily dose is the target)"),
    (r"step (?P<n>\S+) \((?P<date>[\d-]+)\) is not after step (?P<m>\d+) \((?P<date2>[\d-]+)\)",
     "le palier {n} ({date}) ne vient pas après le palier {m} ({date2})",
     "step {n} ({date}) is not after step {m} ({date2})"),
    (r"step (?P<n>\S+) does not increase the dose", "le palier {n} n'augmente pas la dose",
     "step {n} does not increase the dose"),
    (r"step (?P<n>\S+) does not decrease the dose", "le palier {n} ne diminue pas la dose",
     "step {n} does not decrease the dose"),
    (r"step (?P<n>\S+) changes the dose by (?P<c>\S+) mg/day, more than (?P<max>\S+) mg/day",
     "le palier {n} change la dose de {c} mg/jour, plus de {max} mg/jour",
     "step {n} changes the dose by {c} mg/day, more than {max} mg/day"),
    (r"step (?P<n>\S+) comes (?P<gap>\d+) days after the previous one",
     "le palier {n} vient {gap} jours après le précédent",
     "step {n} comes {gap} days after the previous one"),
    (r"the (?P<kind>\w+) plan ends at (?P<v>\S+) mg/day and does not reach (?P<t>\S+) mg/day",
     "le plan s'arrête à {v} mg/jour et n'atteint pas {t} mg/jour",
     "the plan ends at {v} mg/day and does not reach {t} mg/day"),
    ((r"(?P<dose>\S+) mg/day is not made of whole (?:or half )?(?P<t>\S+) mg tablets; "
     r"nearest: (?P<near>.+) mg/day"),
     ("{dose} mg/jour ne se prend pas en comprimés de {t} mg entiers ou coupés en deux ; le plus "
     "proche : {near} mg/jour"),
     "{dose} mg/day cannot be taken as whole or half {t} mg tablets; nearest: {near} mg/day"),
    ((r"(?P<dose>\S+) mg/day over (?P<k>\d+) intakes is (?P<share>\S+) mg per intake, not a "
     r"whole (?:or half )?(?P<t>\S+) mg tablet; nearest split: (?P<split>.+) mg"),
     ("{dose} mg/jour en {k} prises font {share} mg par prise, pas un comprimé de {t} mg entier ou "
     "coupé en deux ; répartition la plus proche : {split} mg"),
     ("{dose} mg/day in {k} intakes is {share} mg per intake, not a whole or half {t} mg tablet; "
     "nearest split: {split} mg")),
    ((r"(?P<v>\S+) mg is not a whole (?:or half )?(?P<t>\S+) mg tablet \(a multiple of "
     r"(?P<u>\S+) mg\)"),
     "{v} mg n'est pas un comprimé de {t} mg entier ou coupé en deux (multiple de {u} mg)",
     "{v} mg is not a whole or half {t} mg tablet (a multiple of {u} mg)"),
    (r"the titration starts at (?P<v>\S+) mg/day, more than (?P<max>\S+) mg/day",
     "l'augmentation commence à {v} mg/jour, plus de {max} mg/jour",
     "the increase starts at {v} mg/day, more than {max} mg/day"),
    ((r"the taper reaches 0 mg/day (?P<d>\d+) days after its first step, sooner than "
     r"(?P<min>\d+) days"),
     "l'arrêt arrive à 0 mg/jour {d} jours après le premier palier, en moins de {min} jours",
     "the stop reaches 0 mg/day {d} days after its first step, sooner than {min} days"),
    (r"the taper plan ended on (?P<date>[\d-]+): the treatment has stopped",
     "le plan d'arrêt s'est terminé le {date} : le traitement est arrêté",
     "the stopping plan ended on {date}: the treatment has stopped"),
    (r"(?P<k>\d+) intakes are written, but doses_per_day is (?P<n>\d+)",
     "{k} prises sont écrites, mais il y a {n} prises par jour",
     "{k} intakes are written, but there are {n} intakes a day"),
    ((r"the taper starts \((?P<date>[\d-]+)\) before the titration's last step "
     r"\((?P<date2>[\d-]+)\)"),
     "l'arrêt commence ({date}) avant le dernier palier de l'augmentation ({date2})",
     "the stop starts ({date}) before the last step of the increase ({date2})"),
    (r"(?P<c>\d+) µg/mL is not a concentration used in (?P<country>\w+)",
     "{c} µg/mL n'est pas une concentration utilisée dans ce pays ({country})",
     "{c} µg/mL is not a concentration used in this country ({country})"),
    (r"write a step's intakes as 2 to 4 doses.*",
     "écrire les prises d'un palier en 2 à 4 doses reliées par « + » (par exemple 10+5+10)",
     "write a step's intakes as 2 to 4 doses joined by '+' (e.g. 10+5+10)"),
    (r"(?P<date>[\d-]+) is in the future", "{date} est dans le futur", "{date} is in the future"),
    (r"(?P<date>\d+ \w+ \d{4}) is in the past", "{date} est dans le passé", "{date} is in the past"),
    (r"the refill \((?P<date>[^)]+)\) is after the low-reservoir alarm date \((?P<date2>[^)]+)\)",
     "le remplissage ({date}) est après l'alarme de réservoir bas ({date2})",
     "the refill ({date}) is after the low-reservoir alarm ({date2})"),
    ((r"the reservoir lasts (?P<days>\d+) days at this dose \((?P<calc>[^)]+)\), outside "
     r"(?P<range>\S+) days"),
     "le réservoir dure {days} jours à cette dose ({calc}), hors de {range} jours",
     "the reservoir lasts {days} days at this dose ({calc}), outside {range} days"),
    ((r"the refill \((?P<date>[^)]+)\) is after the day the reservoir runs empty "
     r"\((?P<date2>\d+ \w+ \d{4}), (?P<days>\d+) days from (?P<since>\w+)\)"),
     "le remplissage ({date}) est après le jour où le réservoir est vide ({date2})",
     "the refill ({date}) is after the day the reservoir runs empty ({date2})"),
    ((r"the alarm date \((?P<date>[^)]+)\) is after the day the reservoir runs empty "
     r"\((?P<date2>[^)]+)\)"),
     "l'alarme ({date}) est après le jour où le réservoir est vide ({date2})",
     "the alarm ({date}) is after the day the reservoir runs empty ({date2})"),
)

_HINTS: tuple[tuple[str, str, str], ...] = (
    (r"(?P<advice>.+); if this is intended, add confirm_unusual_values: yes",
     "{advice} ; si c'est voulu, cochez la confirmation des valeurs inhabituelles",
     "{advice}; if this is intended, tick the confirmation of unusual values"),
    (r"start at (?P<max>\S+) mg/day or less", "commencer à {max} mg/jour au plus",
     "start at {max} mg/day or less"),
    (r"taper over 1 to 2 weeks", "arrêter sur 1 à 2 semaines", "stop over 1 to 2 weeks"),
    (r"in (?P<country>\w+): (?P<list>.+) µg/mL", "dans ce pays ({country}) : {list} µg/mL",
     "in this country ({country}): {list} µg/mL"),
    (r"give the plan as \w+ and write this step (?P<step>\S+)",
     "donnez le plan en paliers et écrivez ce palier {step}",
     "give the plan as steps and write this step {step}"),
    (r"write this step (?P<step>\S+)", "écrivez ce palier {step}", "write this step {step}"),
    (r"remove the taper plan, or give new dates",
     "retirez le plan d'arrêt ou donnez de nouvelles dates",
     "remove the stopping plan, or give new dates"),
    (r"write one dose per intake, 0 for none", "une dose par prise, 0 pour aucune",
     "one dose per intake, 0 for none"),
    (r"start the taper after the titration", "commencez l'arrêt après l'augmentation",
     "start the stop after the increase"),
    (r".*confirm_unusual_values: yes", ("si c'est voulu, cochez la confirmation des valeurs "
     "inhabituelles"), "if this is intended, tick the confirmation of unusual values"),
    (r"a pump dose is in micrograms per day: use daily_dose_ug",
     "une dose de pompe est en microgrammes par jour : utilisez {daily_dose_ug}",
     "a pump dose is in micrograms per day: use {daily_dose_ug}"),
    (r"a tablet dose is in milligrams per day: use daily_dose_mg",
     "une dose de comprimés est en milligrammes par jour : utilisez {daily_dose_mg}",
     "a tablet dose is in milligrams per day: use {daily_dose_mg}"),
    (r"remove it, or set variant to the other route", "videz ce champ ou changez de traitement",
     "empty this field or change the treatment"),
    (r"check the value and its unit", "vérifiez la valeur et son unité",
     "check the value and its unit"),
    (r"give morning_mg, .*", "donnez la dose de chaque prise", "give the dose of each intake"),
    (r"not both", "pas les deux", "not both"),
    (r"give all of .*", "remplissez tous les champs du plan calculé",
     "fill in every field of the computed plan"),
    (r"use larger steps or fewer dates", "des paliers plus grands ou moins de dates",
     "larger steps or fewer dates"),
    (r"list the steps in date order", "dans l'ordre des dates", "in date order"),
    (r"each (?P<kind>\w+) step must increase it", "chaque palier doit augmenter la dose",
     "each step must increase the dose"),
    (r"each (?P<kind>\w+) step must decrease it", "chaque palier doit diminuer la dose",
     "each step must decrease the dose"),
    (r"use steps of at most (?P<max>\S+) mg/day", "paliers de {max} mg/jour au plus",
     "steps of at most {max} mg/day"),
    (r"increase at most every (?P<n>\S+) days", "augmenter au plus tous les {n} jours",
     "increase at most every {n} days"),
    (r"the titration ends at .*", "l'augmentation finit à la dose quotidienne, l'arrêt à 0",
     "the increase ends at the daily dose, the stop at 0"),
    (r"the refill must come before the alarm", "le remplissage doit précéder l'alarme",
     "the refill must come before the alarm"),
    (r"bring the refill forward", "avancez le remplissage", "bring the refill forward"),
    (r"oral or intrathecal", "comprimés ou pompe", "tablets or pump"),
    (r"tablets: the dose in mg per day.*", "en mg par jour, par exemple 30",
     "in mg per day, e.g. 30"),
    (r"pump: the dose in micrograms per day.*", "en µg par jour, par exemple 250",
     "in µg per day, e.g. 250"),
    (r"a date such as .*", "par exemple 15/01/2027", "e.g. 15/01/2027"),
    (r"the pump's low-reservoir alarm date.*", "la date de l'alarme de réservoir bas de la pompe",
     "the date of the pump's low-reservoir alarm"),
    (r"one of 50, 500, 1000, 2000", "50, 500, 1000 ou 2000", "50, 500, 1000 or 2000"),
    (r"20 or 40", "20 ou 40", "20 or 40"),
    (r"e\.g\. SynchroMed II", "par exemple SynchroMed II", "e.g. SynchroMed II"),
    (r"export it again as UTF-8 CSV, or as XLSX", "", ""),
    (r"did you mean .*", "", ""),
)

_LANG_INDEX = {"fr": 0, "en": 1}


@dataclass(frozen=True)
class FieldError:
    """A problem as the form shows it: the field it belongs to (None: the whole record)."""

    field: str | None
    message: str


def _field_names(text: str, lang: str) -> str:
    """Field names the validator writes (`daily_dose_ug`) become the form's labels (only
    names with an underscore: `name` or `phone` are also plain words)."""
    labels = LABELS[lang]
    quote = "« {} »" if lang == "fr" else "“{}”"
    return _FIELD_NAME.sub(lambda m: quote.format(labels.get(m.group(1), m.group(1))), text)


_FIELD_NAME = re.compile(r"\b(" + "|".join(sorted((f for f in ALL_FIELDS if "_" in f),
                                                   key=len, reverse=True)) + r")\b")


def _date_again(value: str, lang: str) -> str:
    for pattern in ("%d %B %Y", "%Y-%m-%d"):
        try:
            return long_date(dt.datetime.strptime(value, pattern).date(), lang)
        except ValueError:
            continue
    return value


def _say(text: str, table: tuple[tuple[str, str, str], ...], lang: str) -> str:
    step = re.fullmatch(r"step (\d+): (.+)", text)
    if step is not None:  # a plan step's problem: the step, then the problem said again
        word = "palier" if lang == "fr" else "step"
        return f"{word} {step.group(1)}{' ' if lang == 'fr' else ''}: " \
            f"{_say(step.group(2), table, lang)}"
    for pattern, *templates in table:
        match = re.fullmatch(pattern, text)
        if match is None:
            continue
        groups = {field: _field_names(field, lang) for field in ALL_FIELDS}
        groups |= {k: (_date_again(v, lang) if k.startswith("date") else _decimals(v, lang))
                   for k, v in match.groupdict().items() if v is not None}
        if "advice" in groups:
            groups["advice"] = _say(groups["advice"], table, lang)
        if "variant" in match.groupdict():
            groups["variant"] = LABELS[lang].get(groups["variant"], groups["variant"])
        return _units(_field_names(templates[_LANG_INDEX[lang]].format(**groups), lang),
                      lang)
    return _units(_field_names(text, lang), lang)


def _decimals(text: str, lang: str) -> str:
    """Numbers the validator writes with a decimal point (`8.33`), with a comma in French."""
    return re.sub(r"(?<=\d)\.(?=\d)", ",", text) if lang == "fr" else text


def _units(text: str, lang: str) -> str:
    return text.replace("/day", "/jour").replace(" or ", " ou ") if lang == "fr" else text


def form_errors(problems: list[Problem], lang: str) -> list[FieldError]:
    """The problems of a form-made record (`where` is `form FIELD`, see forms.py)."""
    errors = []
    for problem in problems:
        parts = problem.where.split()
        field = parts[-1] if len(parts) > 1 else None
        message = problem.message
        prefix = ""
        if field is not None and field not in ALL_FIELDS:
            prefix, field = f"{field}: ", None
        if field is None and ": " in message and message.split(": ", 1)[0] in ALL_FIELDS:
            field, message = message.split(": ", 1)
        said = _say(message, _MESSAGES, lang)
        hint = _say(problem.hint, _HINTS, lang) if problem.hint else ""
        errors.append(FieldError(field, prefix + (f"{said} ({hint})" if hint else said)))
    return errors
