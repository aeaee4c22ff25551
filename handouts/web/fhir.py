"""From the EHR: a FHIR R4 `Bundle` (Patient, Practitioner, MedicationRequest) or a
`MedicationRequest` alone -> form values, through the fhir.resources models (R4B, whose
resources used here are R4's). What cannot be mapped exactly is listed, never guessed:
the route comes from the route, the unit from the unit, and a dose in the wrong unit for
the route is left for the validator to refuse, as it would in a record."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pydantic
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest

SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
ROUTE_CODES = {(SNOMED, "26643006"): "oral", (SNOMED, "72607000"): "intrathecal"}
ROUTE_WORDS = ((re.compile(r"\bintrath[eé]cal", re.IGNORECASE), "intrathecal"),
               (re.compile(r"\boral|\bper os\b|\bvoie orale", re.IGNORECASE), "oral"))
BACLOFEN = re.compile(r"baclof[eè]n", re.IGNORECASE)
BACLOFEN_CODES = {(ATC, "M03BX01")}
# UCUM codes (and what EHRs write in `unit`) for the two units a record knows.
UNITS = {"mg": "mg", "ug": "ug", "µg": "ug", "mcg": "ug", "microgram": "ug"}
PER_DAY = {("d", Decimal(1)), ("h", Decimal(24))}

NOTES = {
    "not_json": ("le texte n'est pas du JSON", "the text is not JSON"),
    "not_resource": ("ni un Bundle ni une MedicationRequest", ("neither a Bundle nor a "
                     "MedicationRequest")),
    "invalid": ("{path} : non conforme à FHIR R4 ({kind})", "{path}: not valid FHIR R4 ({kind})"),
    "no_request": ("aucune MedicationRequest", "no MedicationRequest"),
    "several_requests": ("{n} MedicationRequest de baclofène : aucune n'est reprise",
                         "{n} baclofen MedicationRequests: none is taken over"),
    "not_baclofen": (("le médicament prescrit n'est pas reconnu comme du baclofène : la dose "
                     "n'est pas reprise"), ("the medication is not recognised as baclofen: the "
                     "dose is not taken over")),
    "no_dosage": ("pas de posologie (dosageInstruction)", "no dosage (dosageInstruction)"),
    "several_dosages": ("{n} posologies : à saisir (non additionnées)",
                        "{n} dosage instructions: enter them yourself (not added up)"),
    "no_route": ("voie d'administration absente ou inconnue : choisir le traitement",
                 "route missing or unknown: choose the treatment"),
    "no_dose": ("dose absente ou donnée autrement qu'en quantité (plage, texte)",
                "dose missing or not given as a quantity (range, text)"),
    "unit": ("unité de dose autre que mg ou µg : non convertie",
             "dose unit other than mg or µg: not converted"),
    "timing": (("rythme des prises non exprimé par jour : dose quotidienne et prises non "
               "calculées"), ("timing not expressed per day: daily dose and intakes not "
               "computed")),
    "ignored": ("{what} : non repris", "{what}: not taken over"),
    "no_prescriber": ("prescripteur introuvable dans le Bundle", ("prescriber not found in the "
                      "Bundle")),
}
IGNORED_DOSAGE_PARTS = ("text", "patientInstruction", "asNeededBoolean",
                        "asNeededCodeableConcept", "maxDosePerPeriod", "maxDosePerAdministration",
                        "additionalInstruction", "site", "method")
IGNORED_TIMING_PARTS = ("when", "timeOfDay", "dayOfWeek", "boundsPeriod", "boundsDuration",
                        "offset", "count")


@dataclass
class Prefill:
    """Form values taken from the EHR, and what could not be (note code and values)."""

    values: dict[str, str] = field(default_factory=dict)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    route: str | None = None

    def note(self, code: str, **values: Any) -> None:
        self.notes.append((code, values))

    def said(self, lang: str) -> list[str]:
        index = 0 if lang == "fr" else 1
        return [NOTES[code][index].format(**values) for code, values in self.notes]


def prefill_from_fhir(text: str) -> Prefill:
    """Form values from a FHIR R4 JSON text; every gap is a note."""
    prefill = Prefill()
    try:
        data = json.loads(text)
    except ValueError:
        prefill.note("not_json")
        return prefill
    kind = data.get("resourceType") if isinstance(data, dict) else None
    model = {"Bundle": Bundle, "MedicationRequest": MedicationRequest}.get(kind)
    if model is None:
        prefill.note("not_resource")
        return prefill
    try:
        resource = model.model_validate(data)
    except pydantic.ValidationError as error:
        for problem in error.errors()[:10]:  # the location and kind, never the value
            path = ".".join(str(part) for part in problem["loc"]) or kind
            prefill.note("invalid", path=path, kind=problem["type"])
        return prefill
    resources = ([entry.resource for entry in resource.entry or [] if entry.resource]
                 if kind == "Bundle" else [resource])
    _map(resources, prefill)
    return prefill


def _by_type(resources: list, kind: str) -> list:
    return [r for r in resources if r.get_resource_type() == kind]


def _human_name(names: list | None) -> str:
    """The official name (or the first), as the EHR wrote it."""
    if not names:
        return ""
    name = next((n for n in names if n.use == "official"), names[0])
    if name.text:
        return name.text
    return " ".join([*(name.prefix or []), *(name.given or []), name.family or ""]).strip()


def _codings(concept: Any) -> list:
    return list(concept.coding or []) if concept is not None else []


def _is_baclofen(request: MedicationRequest, resources: list) -> bool:
    concept = request.medicationCodeableConcept
    if concept is None and request.medicationReference is not None:
        reference = request.medicationReference.reference or ""
        medication = next((m for m in _by_type(resources, "Medication")
                           if reference.endswith(f"Medication/{m.id}")), None)
        concept = medication.code if medication is not None else None
        if concept is None and request.medicationReference.display:
            return bool(BACLOFEN.search(request.medicationReference.display))
    if concept is None:
        return False
    words = [concept.text or "", *(c.display or "" for c in _codings(concept))]
    return (any(BACLOFEN.search(w) for w in words)
            or any((c.system, c.code) in BACLOFEN_CODES for c in _codings(concept)))


def _map(resources: list, prefill: Prefill) -> None:
    patients = _by_type(resources, "Patient")
    if patients and _human_name(patients[0].name):
        prefill.values["name"] = _human_name(patients[0].name)
    requests = _by_type(resources, "MedicationRequest")
    if not requests:
        prefill.note("no_request")
        return
    request = _only([r for r in requests if _is_baclofen(r, resources)], "not_baclofen",
                    "several_requests", prefill)
    if request is None:
        return
    _prescriber(request, resources, prefill)
    _dosage(request, prefill)


def _only(items: list, none: str, several: str, prefill: Prefill) -> Any:
    """The one item, or None with a note: nothing to map, or several not to choose from."""
    if not items:
        prefill.note(none)
    elif len(items) > 1:
        prefill.note(several, n=len(items))
    else:
        return items[0]
    return None


def _prescriber(request: MedicationRequest, resources: list, prefill: Prefill) -> None:
    requester = request.requester
    if requester is None:
        return
    reference = requester.reference or ""
    practitioner = next((p for p in _by_type(resources, "Practitioner")
                         if reference.endswith(f"Practitioner/{p.id}")), None)
    name = _human_name(practitioner.name) if practitioner is not None else ""
    name = name or requester.display or ""
    if name:
        prefill.values["prescriber"] = name
    else:
        prefill.note("no_prescriber")


def _route(dosage: Any) -> str | None:
    route = dosage.route
    if route is None:
        return None
    for coding in _codings(route):
        if (coding.system, coding.code) in ROUTE_CODES:
            return ROUTE_CODES[(coding.system, coding.code)]
    words = " ".join([route.text or "", *(c.display or "" for c in _codings(route))])
    return next((variant for pattern, variant in ROUTE_WORDS if pattern.search(words)), None)


def _unit(quantity: Any) -> str | None:
    for candidate in (quantity.code, quantity.unit):
        if candidate and candidate.strip().lower() in UNITS:
            return UNITS[candidate.strip().lower()]
    return None


def _per_day(quantity: Any) -> bool:
    """A rate's time unit: UCUM `d` or `/d` (or 24 h)."""
    code = (quantity.code or quantity.unit or "").strip().lower().lstrip("/")
    return code in ("d", "day", "jour") and (quantity.value in (None, 1))


def _intakes_per_day(timing: Any) -> int | None:
    repeat = timing.repeat if timing is not None else None
    if repeat is None or repeat.frequency is None:
        return None
    period = Decimal(str(repeat.period)) if repeat.period is not None else None
    if (repeat.periodUnit, period) in PER_DAY and repeat.frequencyMax is None:
        return repeat.frequency
    return None


def _dosage(request: MedicationRequest, prefill: Prefill) -> None:
    dosage = _only(request.dosageInstruction or [], "no_dosage", "several_dosages", prefill)
    if dosage is None:
        return
    route = _route(dosage)
    prefill.route = route
    if route is None:
        prefill.note("no_route")
    else:
        prefill.values["variant"] = route
    for part in IGNORED_DOSAGE_PARTS:
        if getattr(dosage, part, None) not in (None, [], False):
            prefill.note("ignored", what=f"dosageInstruction.{part}")
    repeat = dosage.timing.repeat if dosage.timing is not None else None
    for part in IGNORED_TIMING_PARTS:
        if repeat is not None and getattr(repeat, part, None) not in (None, []):
            prefill.note("ignored", what=f"timing.repeat.{part}")
    rates = [r for r in dosage.doseAndRate or []]
    if len(rates) != 1:
        prefill.note("no_dose")
        return
    daily = _daily_dose(rates[0], dosage.timing, prefill)
    if daily is not None:
        amount, unit = daily
        prefill.values[f"daily_dose_{unit}"] = _plain(amount)


def _daily_dose(rate: Any, timing: Any, prefill: Prefill) -> tuple[Decimal, str] | None:
    """(amount per day, 'mg' or 'ug'): a dose per intake times the intakes a day, or a
    rate per day (a pump's µg/day)."""
    if rate.doseQuantity is not None and rate.doseQuantity.value is not None:
        unit = _unit(rate.doseQuantity)
        if unit is None:
            prefill.note("unit")
            return None
        intakes = _intakes_per_day(timing)
        if intakes is None:
            prefill.note("timing")
            return None
        if prefill.route == "oral":
            prefill.values["doses_per_day"] = str(intakes)
        return Decimal(str(rate.doseQuantity.value)) * intakes, unit
    ratio = rate.rateRatio
    if (ratio is not None and ratio.numerator is not None and ratio.denominator is not None
            and ratio.numerator.value is not None):
        unit = _unit(ratio.numerator)
        if unit is None:
            prefill.note("unit")
            return None
        if not _per_day(ratio.denominator):
            prefill.note("timing")
            return None
        return Decimal(str(ratio.numerator.value)), unit
    quantity = rate.rateQuantity
    if quantity is not None and quantity.value is not None:
        code = (quantity.code or quantity.unit or "").strip().lower()
        unit_part, _, per = code.partition("/")
        if UNITS.get(unit_part) is None or per not in ("d", "day"):
            prefill.note("unit" if UNITS.get(unit_part) is None else "timing")
            return None
        return Decimal(str(quantity.value)), UNITS[unit_part]
    prefill.note("no_dose")
    return None


def _plain(amount: Decimal) -> str:
    """12.50 -> '12.5', 30.0 -> '30': as a clinician types it."""
    return format(amount.normalize(), "f")
