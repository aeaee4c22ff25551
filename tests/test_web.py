"""The web app over HTTP (Starlette's TestClient, real render workers): the same files as
`patient`, the `patient` validator's problems on the form, and nothing stored or leaked."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from handouts.errors import InputError
from handouts.records.validate import ORAL_FIELDS, PUMP_FIELDS
from handouts.web import forms
from handouts.web.app import create_app
from handouts.web.messages import form_errors
from tests.conftest import normalise, run_cli
from tests.test_patient import day, write_record
from tests.web_client import (
    ORAL_FORM,
    PUMP_FORM,
    Clinician,
    error_summary,
    field_errors,
    input_value,
    unzip,
)

HOSTILE = "<script>alert(1)</script> & \"O'Brien\" {{7*7}} ../../etc"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """An empty working folder and temp folder for the server and its workers: after
    the tests they must still be empty (nothing written, not even temporarily)."""
    root = tmp_path_factory.mktemp("sandbox")
    (root / "cwd").mkdir()
    (root / "tmp").mkdir()
    return root


@pytest.fixture(scope="module")
def client(sandbox):
    previous_cwd, previous_tmp = os.getcwd(), os.environ.get("TMPDIR")
    os.chdir(sandbox / "cwd")
    os.environ["TMPDIR"] = str(sandbox / "tmp")
    try:
        with TestClient(create_app(workers=1, warm=False)) as test_client:
            yield test_client
    finally:
        os.chdir(previous_cwd)
        if previous_tmp is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = previous_tmp


@pytest.fixture
def clinician(client):
    return Clinician(client)


def patient_files(capsys, tmp_path, record: dict) -> dict[str, bytes]:
    out = tmp_path / "out"
    code, _, stderr = run_cli(capsys, "patient", str(write_record(tmp_path, record)), "--out",
                              str(out))
    assert code == 0, stderr
    return {path.relative_to(out).as_posix(): path.read_bytes()
            for path in sorted(out.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("values", [ORAL_FORM, PUMP_FORM], ids=["oral", "pump"])
def test_downloads_are_byte_identical_to_the_patient_command(clinician, capsys, tmp_path,
                                                             values):
    preview = clinician.submit(values)
    assert preview.status_code == 200, error_summary(preview.text)
    everything = clinician.download(preview.text, "zip")
    assert everything.headers["content-type"] == "application/zip"
    archived = unzip(everything.content)
    assert archived == patient_files(capsys, tmp_path, values)
    for path, data in archived.items():
        stem, fmt = re.fullmatch(rf"{values['id']}/{values['id']}-(.+)-fr\.(\w+)", path).groups()
        single = clinician.download(preview.text, f"{stem}.{fmt}")
        assert single.content == data
        assert single.headers["content-disposition"] == (
            f'attachment; filename="{path.split("/")[1]}"')


def test_large_print_is_the_patient_commands_large_print(clinician, capsys, tmp_path):
    preview = clinician.submit({**ORAL_FORM, "layout": "large-print"})
    insert = clinician.download(preview.text, "baclofen-oral-insert.pdf")
    assert insert.headers["content-disposition"].endswith(
        'filename="P-ORAL-1-baclofen-oral-insert-large-print-fr.pdf"')
    out = tmp_path / "out"
    code, _, _ = run_cli(capsys, "patient", str(write_record(tmp_path, ORAL_FORM)), "--out",
                         str(out), "--layout", "large-print", "--format", "pdf")
    assert code == 0
    assert insert.content == (out / "P-ORAL-1" /
                              "P-ORAL-1-baclofen-oral-insert-large-print-fr.pdf").read_bytes()


def test_exported_yaml_is_a_record_the_patient_command_takes(clinician, capsys, tmp_path):
    preview = clinician.submit(PUMP_FORM)
    exported = clinician.download(preview.text, "yaml")
    record = yaml.safe_load(exported.text)
    assert record["daily_dose_ug"] == 250 and record["pump_model"] == "SynchroMed II"
    (tmp_path / "a").mkdir()
    assert patient_files(capsys, tmp_path / "a", record) == unzip(
        clinician.download(preview.text, "zip").content)


def test_preview_shows_every_personal_page_and_offers_each_file(clinician):
    page = clinician.submit(PUMP_FORM).text
    assert re.findall(r'<img src="data:image/jpeg;base64,[^"]+" alt="([^"]+)"', page) == [
        "Notice, page 1", "Encart de sevrage, page 1", "Carte de porteur de pompe, page 1"]
    offered = re.findall(r'name="file" value="([^"]+)"', page)
    assert offered == ["baclofen-intrathecal-leaflet.pdf", "zip",
                       *[f"baclofen-intrathecal-{kind}.{fmt}" for kind in ("leaflet", "insert",
                                                                           "card")
                         for fmt in ("pdf", "docx")], "yaml"]
    oral = clinician.submit(ORAL_FORM).text
    assert len(re.findall(r"<img ", oral)) == 3  # two leaflet front pages and the insert


def test_print_opens_the_leaflet_pdf_inline(clinician):
    page = clinician.submit(ORAL_FORM).text
    printed = clinician.download(page, "baclofen-oral-leaflet.pdf", disposition="inline")
    assert printed.headers["content-disposition"].startswith("inline;")
    assert printed.content.startswith(b"%PDF")


@pytest.mark.parametrize("change, field, message", [
    ({"daily_dose_mg": "250"}, "daily_dose_mg",
     ("ne s'applique pas à ce traitement (Pompe intrathécale) (une dose de pompe est en "
     "microgrammes par jour : utilisez « Dose quotidienne (µg/jour) »)")),
    ({"daily_dose_ug": ""}, "daily_dose_ug", "obligatoire (en µg par jour, par exemple 250)"),
    ({"daily_dose_ug": "5"}, "daily_dose_ug",
     ("5 µg/jour est hors des valeurs plausibles (10-1000 µg/jour) (vérifiez la valeur et "
     "son unité)")),
    ({"daily_dose_ug": "douze"}, "daily_dose_ug",
     "n'est pas un nombre (en µg par jour, par exemple 250)"),
    ({"next_refill": "31/02/2027"}, "next_refill", "date impossible (par exemple 15/01/2027)"),
    ({"next_refill": day(40)}, "next_refill",
     ("le remplissage ({}) est après l'alarme de réservoir bas ({}) (le remplissage doit "
     "précéder l'alarme)")),
    ({"reservoir_ml": "30"}, "reservoir_ml",
     "30 mL n'est pas une des valeurs possibles : 20, 40 mL (20 ou 40)"),
    ({"pump_model": "x" * 81}, "pump_model", "plus de 80 caractères (par exemple SynchroMed II)"),
    ({"phone": "urgent"}, "phone",
     "n'est pas un numéro de téléphone (chiffres, espaces, + au début)"),
])
def test_invalid_pump_form_lists_each_problem_in_french_and_keeps_the_values(
        clinician, change, field, message):
    from handouts.localise import long_date
    values = {**PUMP_FORM, **change}
    if "{}" in message:
        message = message.format(long_date(dt.date.fromisoformat(day(40)), "fr"),
                                 long_date(dt.date.fromisoformat(PUMP_FORM["alarm_date"]), "fr"))
    page = clinician.submit(values)
    assert page.status_code == 422
    assert message in field_errors(page.text, field)
    assert any(item.endswith(message) for item in error_summary(page.text))
    assert f'href="#field-{field}"' in page.text
    assert f'id="field-{field}"' in page.text
    for name, value in values.items():
        if name not in ("variant", "concentration_ug_per_ml", "reservoir_ml", "lang") and value:
            assert input_value(page.text, name) == value[:forms.MAX_VALUE_CHARS], name
    assert 'name="variant" value="intrathecal" id="field-variant-intrathecal" checked' in page.text


@pytest.mark.parametrize("change, field, message", [
    ({"doses_per_day": "5"}, "doses_per_day", "5 prises par jour : hors de 1 à 4"),
    ({"daily_dose_mg": "100"}, "daily_dose_mg",
     ("100 mg/jour dépasse la valeur habituelle (80 mg/jour) (si c'est voulu, cochez la "
     "confirmation des valeurs inhabituelles)")),
    ({"taper_steps": f"{day(100)}=30; {day(103)}=5+0+5"}, "taper_steps",
     ("le palier 2 change la dose de 20 mg/jour, plus de 15 mg/jour (paliers de 15 mg/jour au "
     "plus ; si c'est voulu, cochez la confirmation des valeurs inhabituelles) ; le plan "
     "s'arrête à 10 mg/jour et n'atteint pas 0 mg/jour (l'augmentation finit à la dose "
     "quotidienne, l'arrêt à 0)")),
    ({"daily_dose_mg": "25"}, "daily_dose_mg",
     ("25 mg/jour en 3 prises font 8,33 mg par prise, pas un comprimé de 10 mg entier ou coupé "
      "en deux ; répartition la plus proche : 10 + 5 + 10 mg (donnez la dose de chaque prise)")),
    ({"titration_step_mg": ""}, "titration_step_mg",
     "obligatoire pour calculer le plan (remplissez tous les champs du plan calculé)"),
])
def test_invalid_oral_form_says_what_is_wrong_in_french(clinician, change, field, message):
    page = clinician.submit({**ORAL_FORM, **change})
    assert page.status_code == 422
    assert " ; ".join(field_errors(page.text, field)) == message


def test_confirmed_high_dose_is_accepted(clinician):
    page = clinician.submit({**ORAL_FORM, "daily_dose_mg": "90", "titration_start": "",
                             "titration_start_mg": "", "titration_step_mg": "",
                             "titration_every_days": "", "taper_steps": "",
                             "confirm_unusual_values": "yes"})
    assert page.status_code == 200, error_summary(page.text)


def test_errors_in_english_when_the_clinician_works_in_english(clinician):
    page = clinician.submit({**PUMP_FORM, "daily_dose_mg": "250", "daily_dose_ug": ""}, ui="en")
    assert error_summary(page.text) == [
        ("Daily dose (mg/day): does not apply to this treatment (Intrathecal pump) (a pump dose "
        "is in micrograms per day: use “Daily dose (µg/day)”)"),
        "Daily dose (µg/day): required (in µg per day, e.g. 250)"]
    assert '<html lang="en">' in page.text


def test_tablet_patient_is_not_blamed_for_the_pump_defaults(clinician, client):
    """The form comes with the profile's pump clinic phone and implanting centre filled
    in; an oral patient's record leaves them out rather than failing on them."""
    blank = client.get("/").text
    defaults = {name: input_value(blank, name) for name in ("phone", "emergency_phone",
                                                            "pump_clinic_phone",
                                                            "implanting_centre", "id")}
    assert defaults == {"phone": "01 99 00 12 34", "emergency_phone": "15",
                        "pump_clinic_phone": "01 99 00 12 35",
                        "implanting_centre": "Hôpital Exemple (établissement fictif)",
                        "id": "patient"}
    page = clinician.submit({**ORAL_FORM, **defaults, "id": ORAL_FORM["id"]})
    assert page.status_code == 200, error_summary(page.text)
    typed = clinician.submit({**ORAL_FORM, "pump_model": "SynchroMed II"})
    assert field_errors(typed.text, "pump_model") == [
        ("ne s'applique pas à ce traitement (Comprimés (voie orale)) (videz ce champ ou changez "
        "de traitement)")]


def test_language_switch_keeps_every_value(clinician):
    page = clinician.post("/", {**PUMP_FORM, "action": "ui-en"})
    assert page.status_code == 200
    assert "Daily dose (µg/day)" in page.text and '<html lang="en">' in page.text
    assert input_value(page.text, "daily_dose_ug") == "250"
    assert input_value(page.text, "name") == "Jean Dupont"
    assert error_summary(page.text) == []
    back = clinician.post("/", {**PUMP_FORM, "action": "ui-fr"}, ui="en")
    assert "Dose quotidienne (µg/jour)" in back.text


def test_hostile_text_is_escaped_in_the_page_and_printed_literally(clinician, tmp_path):
    values = {**PUMP_FORM, "name": HOSTILE, "pump_model": "<img src=x onerror=alert(1)>"}
    invalid = clinician.submit({**values, "daily_dose_ug": ""})
    assert "<script>alert(1)</script>" not in invalid.text
    assert "<img src=x" not in invalid.text
    assert input_value(invalid.text, "name") == HOSTILE
    preview = clinician.submit(values)
    assert preview.status_code == 200
    assert "<script>alert(1)</script>" not in preview.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;O&#39;Brien&#34;" in preview.text
    leaflet = clinician.download(preview.text, "baclofen-intrathecal-leaflet.pdf")
    pdf = tmp_path / "leaflet.pdf"
    pdf.write_bytes(leaflet.content)
    text = normalise(subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], check=True,
                                    capture_output=True, text=True).stdout)
    assert HOSTILE in text
    assert "<img src=x onerror=alert(1)>" in text


@pytest.mark.parametrize("token", [None, "", "forged" * 8])
def test_post_without_the_csrf_token_is_refused(client, token, clinician):
    data = {**PUMP_FORM} if token is None else {**PUMP_FORM, "csrf": token}
    for path in ("/", "/import", "/download"):
        refused = client.post(path, data=data)
        assert refused.status_code == 403
        assert "Formulaire expiré" in refused.text
        assert "Jean Dupont" not in refused.text


def test_the_cookie_alone_does_not_pass(client):
    client.get("/")
    refused = client.post("/", data={**PUMP_FORM})
    assert refused.status_code == 403


def test_csrf_cookie_is_http_only_and_same_site_strict(client):
    fresh = TestClient(client.app)
    cookie = fresh.get("/").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_one_megabyte_is_refused_with_a_clear_page(client, clinician, chunked):
    body = b"name=" + b"x" * 1_100_000
    content = iter([body[:500_000], body[500_000:]]) if chunked else body
    refused = client.post("/", content=content,
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 413
    assert "Envoi trop volumineux" in refused.text
    assert refused.headers["cache-control"] == "no-store"


def test_every_response_carries_the_security_headers(client, clinician):
    responses = [client.get("/"), client.get("/static/app.js"), client.get("/nowhere"),
                 clinician.submit(PUMP_FORM), clinician.submit({}),
                 client.post("/", data={})]
    for response in responses:
        headers = response.headers
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert responses[2].status_code == 404


def test_pages_have_no_inline_script_or_style(client, clinician):
    for page in (client.get("/").text, clinician.submit(PUMP_FORM).text):
        assert not re.search(r"<script(?![^>]*\bsrc=)", page)
        assert " style=" not in page and "<style" not in page
        assert not re.search(r"\son\w+=", page)


def test_get_never_takes_patient_data(client):
    page = client.get("/", params={"name": "Jean Dupont", "daily_dose_ug": "250"})
    assert "Jean Dupont" not in page.text
    assert client.get("/download").status_code == 404


def test_a_tampered_or_foreign_record_is_not_rendered(clinician):
    preview = clinician.submit(PUMP_FORM).text
    record = re.search(r'name="record" value="([^"]+)"', preview).group(1)
    body, mac = record.split(".")
    tampered = clinician.post("/download", {"record": body[:-4] + "AAAA." + mac, "file": "zip"})
    assert tampered.status_code == 400
    assert "Ces documents ont expiré" in tampered.text
    assert "Jean Dupont" not in tampered.text


def test_no_patient_value_reaches_the_logs(clinician, caplog):
    caplog.set_level(logging.DEBUG)
    secret = {**PUMP_FORM, "name": "Zéphyrin Quasimodo", "prescriber": "Dr Xylophage",
              "pump_model": "ModèleSecret"}
    preview = clinician.submit(secret)
    clinician.download(preview.text, "zip")
    clinician.submit({**secret, "daily_dose_ug": "99999"})
    clinician.post("/", {**secret, "csrf": "bad"})
    logged = caplog.text
    assert "POST / 200" in logged  # requests are logged, without what they carried
    for value in ("Zéphyrin", "Quasimodo", "Xylophage", "ModèleSecret", "99999", "250"):
        assert value not in logged


def test_a_render_running_too_long_ends_with_a_clear_page(sandbox):
    with TestClient(create_app(workers=1, warm=False, timeout=0.05)) as slow:
        page = Clinician(slow).submit(PUMP_FORM)
        assert page.status_code == 503
        assert "Mise en page trop longue" in page.text
        assert "Jean Dupont" not in page.text
        workers = slow.app.app.state.web.pool.workers
        assert len(workers) == 1 and workers[0].process.is_alive()  # a fresh one


def test_nothing_is_written_to_disk(client, clinician, sandbox):
    clinician.download(clinician.submit(PUMP_FORM).text, "zip")
    assert list((sandbox / "cwd").iterdir()) == []
    assert list((sandbox / "tmp").iterdir()) == []


# The validator's messages, said again in French: every message a record can produce
# (generated records with random values in every field) has its French words.
ENGLISH = re.compile(r"\b(the|is|not|expected|must|step|intakes|required|than|after|give|"
                     r"outside|above|does|with|days|of)\b")
VALUES = st.one_of(st.sampled_from(["", "0", "-3", "99999999", "5", "12,5", "37.5", "250", "1200", "100000",
                                    "oral", "intrathecal", "yes", "x", "2020-01-01",
                                    day(3), day(30), day(45), day(400), "31/02/2027", "-3",
                                    f"{day(10)}=15; {day(12)}=40", f"{day(10)}=30",
                                    "1000", "25", "22,5", "1", f"{day(10)}=10+5",
                                    f"{day(10)}=7,5+5+5", f"{day(-10)}=30; {day(-2)}=0",
                                    f"{day(1)}=30; {day(2)}=15; {day(3)}=0",
                                    f"{day(200)}=30; {day(204)}=15; {day(208)}=0",
                                    "01 99 00 12 34", "a" * 90, "SynchroMed II"]),
                   st.text(max_size=12))
FIELDS = st.sampled_from(forms.RECORD_FIELDS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([ORAL_FORM, PUMP_FORM]), st.dictionaries(FIELDS, VALUES, max_size=6))
def test_every_validator_message_is_said_in_french(base, changes):
    values = forms.submitted({**base, **changes})
    try:
        from handouts.records.validate import validate_record
        validate_record(forms.raw_record(values, None), ["fr", "en"])
    except InputError as error:
        for problem in form_errors(error.problems, "fr"):
            assert not ENGLISH.search(problem.message), problem.message
            assert not re.search(r"\d\.\d", problem.message), problem.message  # 8,33 in French
            assert problem.field is None or problem.field in ORAL_FIELDS + PUMP_FIELDS + (
                "id", "variant", "lang", "name", "prescriber", "phone", "emergency_phone",
                "confirm_unusual_values")


def test_serve_listens_on_loopback_and_warns_beyond_it(monkeypatch, capsys):
    from handouts.cli import main
    from handouts.web import server
    runs = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **options: runs.append(options))
    assert main(["serve"]) == 0
    assert runs[-1]["host"] == "127.0.0.1" and runs[-1]["port"] == 8000
    assert runs[-1]["access_log"] is False  # the app logs requests itself, without data
    assert capsys.readouterr().err == ""
    assert main(["serve", "--host", "0.0.0.0", "--port", "8443"]) == 0
    assert runs[-1]["host"] == "0.0.0.0" and runs[-1]["port"] == 8443
    warning = capsys.readouterr().err
    assert warning.startswith("serve: warning: listening on 0.0.0.0")
    assert "authenticating reverse proxy" in warning


def test_the_form_starts_from_the_hospital_projects_profile(sources_copy):
    profile = sources_copy / "hospital.yaml"
    profile.write_text(profile.read_text(encoding="utf-8").replace(
        '"01 99 00 12 34"', '"01 99 00 98 76"'), encoding="utf-8")
    page = TestClient(create_app(sources_copy, workers=1, warm=False)).get("/")  # no workers
    assert input_value(page.text, "phone") == "01 99 00 98 76"
