"""Loading stage for the two untranslated sources: the hospital profile and the
documents' ids, versions and revision dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..errors import InputError, Problem
from .content import DOCUMENT_KEYS, suggest
from .yamlsource import YamlMap, read_yaml

PHONE = re.compile(r"^\+?[0-9][0-9 .()-]{1,24}$")
PROFILE_KEYS = ("name", "service", "team_phone", "pump_clinic_phone", "emergency_number",
                "eu_emergency_number")
# Keys a profile may leave out (profiles written before they existed): the dose keys'
# defaults are France's, where the shipped profile is; without `out_of_hours_phone`
# (whom a pump patient calls at night, at the weekend or when the pump clinic does not
# answer: a hospital's decision), the emergency number.
OPTIONAL_KEYS = ("country", "tablet_mg", "tablet_scored", "out_of_hours_phone")
COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_TABLET_MG = 100  # a sanity bound on the strength typed, not a list of products


@dataclass(frozen=True)
class DoseRules:
    """What a patient's doses are checked against, from the profile: the country's
    medicines (pump concentrations) and the tablet the pharmacy dispenses."""

    country: str = "FR"
    tablet_mg: Decimal = Decimal(10)
    tablet_scored: bool = True

    @property
    def smallest_intake_mg(self) -> Decimal:
        """Half a scored tablet, or a whole unscored one: every intake is a multiple."""
        return self.tablet_mg / 2 if self.tablet_scored else self.tablet_mg


@dataclass(frozen=True)
class HospitalProfile:
    name: str
    service: dict[str, str]
    team_phone: str
    pump_clinic_phone: str
    emergency_number: str
    eu_emergency_number: str
    dose_rules: DoseRules = dataclasses.field(default_factory=DoseRules)
    out_of_hours_phone: str = ""


@dataclass(frozen=True)
class DocumentMeta:
    doc_id: str
    version: str
    revised: dt.date


def _problem(node: YamlMap, key: str, message: str, hint: str = "") -> Problem:
    mark = node.value_marks.get(key, node.mark)
    return Problem(str(mark), f"{key}: {message}", hint)


def _unknown_keys(node: YamlMap, allowed: tuple[str, ...], prefix: str = "") -> list[Problem]:
    return [Problem(str(node.key_marks[key]), f"{prefix}{key}: unknown key", suggest(key, allowed))
            for key in node if key not in allowed]


def load_profile(path: Path, display: str | None = None) -> HospitalProfile:
    """Read `sources/hospital.yaml`; every value is checked before any is used."""
    node = read_yaml(path, display)
    if not isinstance(node, YamlMap):
        raise InputError(Problem(display or str(path), "expected 'key: value' lines"))
    problems = _unknown_keys(node, PROFILE_KEYS + OPTIONAL_KEYS)
    for key in PROFILE_KEYS + ("out_of_hours_phone",):
        value = node.get(key)
        if key not in node:
            if key in PROFILE_KEYS:  # the out-of-hours phone is optional
                problems.append(Problem(str(node.mark), f"missing key '{key}'"))
        elif key == "service":
            if not isinstance(value, YamlMap) or not all(isinstance(v, str) for v in value.values()):
                problems.append(_problem(node, key, "expected one text per language",
                                         'e.g.  fr: "Service de neurologie"'))
        elif not isinstance(value, str):
            problems.append(_problem(node, key, "expected text", "put it in double quotes"))
        elif key != "name" and not PHONE.match(value):
            problems.append(_problem(node, key, f"'{value}' is not a phone number",
                                     "digits, spaces and an optional leading +"))
    rules = _dose_rules(node, problems)
    if problems:
        raise InputError(problems)
    return HospitalProfile(node["name"], dict(node["service"]), node["team_phone"],
                           node["pump_clinic_phone"], node["emergency_number"],
                           node["eu_emergency_number"], rules,
                           node.get("out_of_hours_phone", ""))


def _dose_rules(node: YamlMap, problems: list[Problem]) -> DoseRules:
    """The optional dose keys, each checked; a missing one keeps France's default."""
    default = DoseRules()
    country = node.get("country", default.country)
    if not isinstance(country, str) or not COUNTRY.match(country):
        problems.append(_problem(node, "country", "expected a two-letter country code",
                                 'e.g. "FR"'))
    tablet = node.get("tablet_mg", int(default.tablet_mg))
    if isinstance(tablet, bool) or not isinstance(tablet, int) or not 0 < tablet <= MAX_TABLET_MG:
        problems.append(_problem(node, "tablet_mg", "expected the tablet strength in whole mg",
                                 "e.g. 10"))
        tablet = default.tablet_mg
    scored = node.get("tablet_scored", default.tablet_scored)
    if not isinstance(scored, bool):
        problems.append(_problem(node, "tablet_scored", "expected yes or no",
                                 "yes if the tablet has a score line to break it in two"))
    return DoseRules(str(country), Decimal(tablet), scored is True)


def load_document_meta(path: Path, display: str | None = None) -> dict[str, DocumentMeta]:
    """Read `sources/documents.yaml`: id, version and revision date of each document."""
    node = read_yaml(path, display)
    if not isinstance(node, YamlMap):
        raise InputError(Problem(display or str(path), "expected 'key: value' lines"))
    problems = _unknown_keys(node, DOCUMENT_KEYS)
    metas = {}
    for key in DOCUMENT_KEYS:
        entry = node.get(key)
        if not isinstance(entry, YamlMap):
            problems.append(Problem(str(node.mark), f"{key}: missing id, version and revised"))
            continue
        problems += _unknown_keys(entry, ("id", "version", "revised"), f"{key}.")
        for field in ("id", "version"):
            if not isinstance(entry.get(field), str):
                problems.append(_problem(entry, field, "expected text", "put it in double quotes"))
        revised = entry.get("revised")
        if isinstance(revised, str):
            try:
                revised = dt.date.fromisoformat(revised)
            except ValueError:
                revised = None
        if not isinstance(revised, dt.date):
            problems.append(_problem(entry, "revised", "expected a date", "write it 2026-11-21"))
            continue
        metas[key] = DocumentMeta(str(entry.get("id")), str(entry.get("version")), revised)
    if problems:
        raise InputError(problems)
    return metas
