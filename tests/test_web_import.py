"""Prefilling the form from the EHR (FHIR R4) and from a YAML record, and exporting it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from handouts.web.app import create_app
from handouts.web.fhir import prefill_from_fhir
from tests.web_client import PUMP_FORM, Clinician, error_summary, field_errors, input_value

FIXTURES = Path(__file__).parent / "fixtures" / "fhir"
SAMPLES = sorted(p.stem for p in FIXTURES.glob("*.json") if not p.stem.endswith(".expected"))


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(workers=1, warm=False)) as test_client:
        yield test_client


@pytest.fixture
def clinician(client):
    return Clinician(client)


def sample(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", SAMPLES)
def test_fhir_sample_prefills_exactly_the_expected_fields(name):
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    prefill = prefill_from_fhir(sample(name))
    assert prefill.values == expected["values"]
    assert [code for code, _ in prefill.notes] == expected["notes"]


def test_unmappable_dosage_lists_what_was_not_taken_over():
    prefill = prefill_from_fhir(sample("unmappable-dosage"))
    assert prefill.said("fr") == [
        "voie d'administration absente ou inconnue : choisir le traitement",
        "dosageInstruction.text : non repris",
        "dosageInstruction.asNeededBoolean : non repris",
        "timing.repeat.when : non repris",
        "dose absente ou donnée autrement qu'en quantité (plage, texte)"]


def medication_request(**dosage) -> str:
    return json.dumps({
        "resourceType": "MedicationRequest", "status": "active", "intent": "order",
        "subject": {"reference": "Patient/1"},
        "medicationCodeableConcept": {"text": "baclofen"},
        "dosageInstruction": [dosage]})


ORAL_ROUTE = {"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}]}


@pytest.mark.parametrize("dosage, values, notes", [
    ({"route": ORAL_ROUTE, "timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"}},
      "doseAndRate": [{"doseQuantity": {"value": 5, "code": "mg"}}]},
     {"variant": "oral"}, ["timing"]),
    ({"route": ORAL_ROUTE, "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
      "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}]},
     {"variant": "oral"}, ["unit"]),
    ({"route": ORAL_ROUTE, "timing": {"repeat": {"frequency": 2, "frequencyMax": 3, "period": 1,
                                                 "periodUnit": "d"}},
      "doseAndRate": [{"doseQuantity": {"value": 5, "code": "mg"}}]},
     {"variant": "oral"}, ["timing"]),
    ({"route": {"text": "intrathécale"},
      "doseAndRate": [{"rateQuantity": {"value": 0.3, "code": "mg/d"}}]},
     {"variant": "intrathecal", "daily_dose_mg": "0.3"}, []),
    ({"route": {"text": "intrathecal"},
      "doseAndRate": [{"rateRatio": {"numerator": {"value": 10, "code": "ug"},
                                     "denominator": {"value": 1, "code": "h"}}}]},
     {"variant": "intrathecal"}, ["timing"]),
    ({"doseAndRate": [{"doseQuantity": {"value": 5, "code": "mg"}}]}, {}, ["no_route", "timing"]),
])
def test_nothing_is_guessed(dosage, values, notes):
    prefill = prefill_from_fhir(medication_request(**dosage))
    assert prefill.values == values
    assert [code for code, _ in prefill.notes] == notes


@pytest.mark.parametrize("text, note", [
    ("{not json", "not_json"),
    ('{"resourceType": "Patient"}', "not_resource"),
    ('{"resourceType": "MedicationRequest", "status": 12}', "invalid"),
    (json.dumps({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                 "subject": {"reference": "Patient/1"},
                 "medicationCodeableConcept": {"text": "paracetamol"}}), "not_baclofen"),
])
def test_unusable_fhir_is_said_not_guessed(text, note):
    prefill = prefill_from_fhir(text)
    assert prefill.values == {}
    assert note in [code for code, _ in prefill.notes]


def test_invalid_fhir_note_never_repeats_the_value():
    prefill = prefill_from_fhir(json.dumps({"resourceType": "Bundle", "type": "collection",
                                            "entry": [{"resource": {"resourceType": "Patient",
                                                                    "name": "Jean Secret"}}]}))
    assert "Jean Secret" not in " ".join(prefill.said("fr") + prefill.said("en"))
    assert prefill.said("en") == ["entry.0.resource.name: not valid FHIR R4 (list_type)"]


def test_fhir_bundle_prefills_the_form(clinician):
    page = clinician.post("/import", {"fhir_text": sample("oral-mg-three-intakes")})
    assert page.status_code == 200
    assert input_value(page.text, "name") == "Jeanne Martin"
    assert input_value(page.text, "prescriber") == "Dr Claire Blanc"
    assert input_value(page.text, "daily_dose_mg") == "30"
    assert input_value(page.text, "doses_per_day") == "3"
    assert 'value="oral" id="field-variant-oral" checked' in page.text
    assert "Formulaire prérempli" in page.text
    assert error_summary(page.text) == []


def test_fhir_upload_prefills_the_pump(clinician):
    page = clinician.post("/import", {}, files={
        "fhir_file": ("request.json", sample("intrathecal-ug-per-day").encode(), "application/json")})
    assert input_value(page.text, "daily_dose_ug") == "250"
    assert 'value="intrathecal" id="field-variant-intrathecal" checked' in page.text


def test_fhir_dose_in_the_wrong_unit_is_the_records_error(clinician):
    page = clinician.post("/import", {"fhir_text": sample("oral-in-micrograms")})
    assert field_errors(page.text, "daily_dose_ug") == [
        ("ne s'applique pas à ce traitement (Comprimés (voie orale)) (une dose de comprimés est "
        "en milligrammes par jour : utilisez « Dose quotidienne (mg/jour) »)")]


def test_fhir_gaps_are_listed_on_the_form(clinician):
    page = clinician.post("/import", {"fhir_text": sample("unmappable-dosage")}, ui="en")
    assert "Not taken over (enter it yourself):" in page.text
    assert "route missing or unknown: choose the treatment" in page.text
    assert input_value(page.text, "name") == "Louise Bernard"


def test_yaml_export_imports_back_into_the_same_form(clinician):
    preview = clinician.submit(PUMP_FORM)
    exported = clinician.download(preview.text, "yaml").text
    page = clinician.post("/import", {}, files={"yaml_file": ("r.yaml", exported.encode(), "")})
    assert error_summary(page.text) == []
    for name, value in PUMP_FORM.items():
        if name not in ("variant", "concentration_ug_per_ml", "reservoir_ml"):
            assert input_value(page.text, name) == (
                "2024-03-02" if name == "implant_date" else value), name
    again = clinician.submit({**PUMP_FORM, "implant_date": "2024-03-02"})
    assert yaml.safe_load(clinician.download(again.text, "yaml").text) == {
        **yaml.safe_load(exported), "implant_date": "2024-03-02"}


def test_yaml_import_reports_problems_without_patient_data(clinician):
    page = clinician.post("/import", {"yaml_text": "name: Jean Secret\nvariant: oral\n"
                                                   "daily_dose_mg: 30\nfavourite: tea\n"})
    assert page.status_code == 422
    assert error_summary(page.text)[0] == "favourite: champ inconnu"
    broken = clinician.post("/import", {"yaml_text": "name: [unclosed"})
    assert broken.status_code == 422
    assert error_summary(broken.text)[0].startswith("Fiche YAML illisible")
    assert "Jean Secret" not in broken.text


def test_import_without_anything_says_so(clinician):
    page = clinician.post("/import", {})
    assert error_summary(page.text) == ["Collez un texte ou choisissez un fichier."]
