"""The web app's routes: the form (GET /, POST / to preview), prefill from the EHR or a
YAML record (POST /import) and downloads (POST /download). Every POST carries a CSRF
token; patient data travels only in POST bodies and responses, never in URLs, logs or
files. Rendering happens in warm worker processes (pool.py)."""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

from ..compose import documents_for
from ..errors import HandoutsError, InputError, Problem
from ..output import patient_file_name
from ..records import fields
from ..records.patient import Patient
from ..records.validate import ALL_FIELDS
from ..render.pdf import LAYOUTS_DIR
from ..sources.loading import SOURCES_DIR, available_languages, load_sources
from ..sources.yamlsource import YamlList, YamlMap, read_yaml
from . import forms
from .fhir import prefill_from_fhir
from .messages import FieldError, form_errors
from .pool import RenderFailed, RenderPool, RenderTimeout
from .security import (
    CSRF_COOKIE,
    MAX_BODY_BYTES,
    Guard,
    Signer,
    csrf_valid,
    new_csrf_token,
)
from .texts import LABELS, LANGUAGE_NAMES, WORDS, ui_language
from .workshop import OutputFile, zip_files

HERE = Path(__file__).resolve().parent
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
LOG = logging.getLogger("make_handouts.web")
DEFAULT_TIMEOUT_S = 30.0
MIME = {"pdf": "application/pdf", "zip": "application/zip", "yaml": "application/yaml",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


class WebApp:
    """The app's state: sources for the form, the render pool, the signing key."""

    def __init__(self, sources_dir: Path, layouts_dir: Path, workers: int, timeout: float,
                 warm: bool):
        self.sources_dir = sources_dir
        self.languages = available_languages(sources_dir)
        self.profile = load_sources(sources_dir).profile  # broken sources stop the start
        self.pool = RenderPool(sources_dir, layouts_dir, workers, timeout, warm)
        self.timeout = timeout
        self.signer = Signer()
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.templates.tests["iso_date"] = lambda value: bool(ISO_DATE.fullmatch(value))

    # pages

    def page(self, request: Request, template: str, ui: str, status: int = 200,
             **context: Any) -> HTMLResponse:
        token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        html = self.templates.get_template(template).render(
            ui=ui, words=WORDS[ui], labels=LABELS[ui], csrf=token, **context)
        response = HTMLResponse(html, status)
        if request.cookies.get(CSRF_COOKIE) != token:
            response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")
        return response

    def form_page(self, request: Request, ui: str, values: Mapping[str, str],
                  errors: list[FieldError] = (), status: int = 200, **context: Any
                  ) -> HTMLResponse:
        by_field: dict[str, list[str]] = {}
        for error in errors:
            if error.field is not None:
                by_field.setdefault(error.field, []).append(error.message)
        return self.page(request, "form.html.j2", ui, status, form=forms.FORM, values=values,
                         errors=list(errors), field_errors=by_field,
                         languages=[(lang, LANGUAGE_NAMES[ui].get(lang, lang))
                                    for lang in self.languages], **context)

    def message(self, request: Request, ui: str, key: str, status: int,
                details: list[str] = (), **values: Any) -> HTMLResponse:
        """A page that says what happened; `details` are the project's own problems
        (about sources and layouts, never patient values)."""
        words = WORDS[ui]
        return self.page(request, "message.html.j2", ui, status, details=list(details),
                         heading=words[f"{key}_title"], text=words[key].format(**values))

    # requests

    async def posted(self, request: Request) -> tuple[Any, str] | HTMLResponse:
        """The form of a POST and its interface language, or the refusal page."""
        form = await request.form(max_files=2, max_fields=200)
        ui = ui_language(form.get("ui"))
        if not csrf_valid(request.cookies.get(CSRF_COOKIE), form.get("csrf")):
            return self.message(request, ui, "csrf", 403)
        return form, ui

    async def render(self, request: Request, ui: str, method: str, *args: Any
                     ) -> Any | HTMLResponse:
        try:
            return await self.pool.run(method, *args)
        except RenderTimeout:
            LOG.warning("render stopped after %s s", self.timeout)
            return self.message(request, ui, "timeout", 503, seconds=int(self.timeout))
        except HandoutsError as error:  # a layout that cannot hold the documents: say why
            LOG.error("render failed: %s", "; ".join(str(p) for p in error.problems))
            return self.message(request, ui, "failed", 500,
                                details=[str(p) for p in error.problems])
        except RenderFailed as error:
            LOG.error("render failed: %s", error)
            return self.message(request, ui, "failed", 500)

    def check(self, values: Mapping[str, str], ui: str) -> tuple[Patient | None, list]:
        return forms.validate_form(values, self.languages, ui, forms.defaults(self.profile),
                                   rules=self.profile.dose_rules)


def _layout(values: Mapping[str, str]) -> str:
    layout = values.get("layout", "standard")
    return layout if layout in forms.LAYOUTS else "standard"


async def show_form(request: Request) -> Response:
    app: WebApp = request.app.state.web
    ui = ui_language(request.query_params.get("ui"))
    return app.form_page(request, ui, forms.defaults(app.profile))


def form_post(handler: Callable[[Request, WebApp, Any, str], Awaitable[Response]]
              ) -> Callable[[Request], Awaitable[Response]]:
    """A POST endpoint: the handler gets the form and its interface language only when
    the CSRF token is right; otherwise the refusal page goes back."""
    async def endpoint(request: Request) -> Response:
        app: WebApp = request.app.state.web
        posted = await app.posted(request)
        if isinstance(posted, Response):
            return posted
        form, ui = posted
        return await handler(request, app, form, ui)
    return endpoint


@form_post
async def submit(request: Request, app: WebApp, form: Any, ui: str) -> Response:
    """Preview (the default action), or the same form in the other interface language."""
    values = forms.submitted(form)
    action = form.get("action", "preview")
    if isinstance(action, str) and action.startswith("ui-"):
        return app.form_page(request, ui_language(action[3:]), values)
    patient, errors = app.check(values, ui)
    if patient is None:
        return app.form_page(request, ui, values, errors, 422)
    pages = await app.render(request, ui, "preview", patient, _layout(values))
    if isinstance(pages, Response):
        return pages
    images = [{"document": WORDS[ui][page.stem.rsplit("-", 1)[-1]], "page": page.page,
               "src": "data:image/jpeg;base64," + base64.b64encode(page.jpeg).decode()}
              for page in pages]
    files = [(f"{stem}.{fmt}", patient_file_name(patient.id, stem, patient.lang, fmt,
                                                 _layout(values)))
             for stem in _stems(patient) for fmt in ("pdf", "docx")]
    return app.page(request, "preview.html.j2", ui, images=images, files=files,
                    record=app.signer.sign(values), values=values,
                    leaflet=f"{_stems(patient)[0]}.pdf")


def _stems(patient: Patient) -> list[str]:
    return [f"baclofen-{patient.variant}-{kind}" for kind in documents_for(patient.variant)]


@form_post
async def download(request: Request, app: WebApp, form: Any, ui: str) -> Response:
    """One file, the ZIP of all, or the YAML record, re-rendered from the signed record."""
    token = form.get("record")
    values = app.signer.unsign(token) if isinstance(token, str) else None
    if not isinstance(values, dict):
        return app.form_page(request, ui, forms.defaults(app.profile),
                             [FieldError(None, WORDS[ui]["expired"])], 400)
    values = forms.submitted(values)
    patient, errors = app.check(values, ui)
    if patient is None:
        return app.form_page(request, ui, values, errors, 422)
    wanted = form.get("file", "zip")
    if wanted == "yaml":
        record = forms.record_yaml(values, forms.defaults(app.profile))
        return _attachment(f"{patient.id}.yaml", record.encode(), "yaml")
    stems = _stems(patient)
    if wanted == "zip":
        files = await app.render(request, ui, "files", patient, _layout(values))
        if isinstance(files, Response):
            return files
        return _attachment(f"{patient.id}-baclofen.zip", zip_files(files), "zip")
    stem, _, fmt = str(wanted).rpartition(".")
    if stem not in stems or fmt not in ("pdf", "docx"):
        raise HTTPException(404)
    files = await app.render(request, ui, "files", patient, _layout(values), (fmt,))
    if isinstance(files, Response):
        return files
    name = patient_file_name(patient.id, stem, patient.lang, fmt, _layout(values))
    chosen: OutputFile = next(f for f in files if f.name == name)
    inline = form.get("disposition") == "inline" and fmt == "pdf"
    return _attachment(chosen.name, chosen.data, fmt, inline)


def _attachment(name: str, data: bytes, kind: str, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(data, media_type=MIME[kind],
                    headers={"content-disposition": f'{disposition}; filename="{name}"'})


@form_post
async def import_record(request: Request, app: WebApp, form: Any, ui: str) -> Response:
    """Prefill the form from a FHIR resource or a YAML record (pasted or uploaded)."""
    words = WORDS[ui]
    base = {**forms.defaults(app.profile), **forms.submitted(form)}
    fhir_text = await _text(form, "fhir_text", "fhir_file")
    yaml_text = await _text(form, "yaml_text", "yaml_file")
    if fhir_text:
        prefill = prefill_from_fhir(fhir_text)
        values = {**base, **prefill.values}
        taken = [LABELS[ui][name] for name in prefill.values]
        _, errors = app.check(values, ui)
        shown = [e for e in errors if e.field in prefill.values]  # the EHR's, not the gaps
        return app.form_page(request, ui, values, shown, notice=(
            words["imported"].format(fields=", ".join(taken)) if taken
            else words["nothing_imported"]), unmapped=prefill.said(ui))
    if yaml_text:
        try:
            values, unknown = _yaml_values(yaml_text)
        except InputError as error:
            return app.form_page(request, ui, base, [
                FieldError(None, f"{words['yaml_invalid']} : {e.message}")
                for e in form_errors(error.problems, ui)], 422)
        values = {**forms.defaults(app.profile), **values}
        _, errors = app.check(values, ui)
        errors = form_errors([Problem(f"form {name}", "unknown field") for name in unknown],
                             ui) + errors
        return app.form_page(request, ui, values, errors, 200 if not errors else 422,
                             notice=words["imported"].format(fields=", ".join(
                                 LABELS[ui][name] for name in values if name in LABELS[ui])))
    return app.form_page(request, ui, base, [FieldError(None, words["choose_one"])], 422)


async def _text(form: Any, text_field: str, file_field: str) -> str:
    upload = form.get(file_field)
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        return data.decode("utf-8-sig", errors="replace")
    value = form.get(text_field)
    return value.strip() if isinstance(value, str) else ""


def _yaml_values(text: str) -> tuple[dict[str, str], list[str]]:
    """A YAML record as form values (each as text), and the keys the form does not know."""
    node = read_yaml(Path("record.yaml"), "record.yaml", text=text)
    if not isinstance(node, YamlMap):
        raise InputError(Problem("record.yaml", "expected one patient record ('field: value' "
                                                "lines)"))
    values, unknown = {}, []
    for key, value in node.items():
        if key not in ALL_FIELDS or key not in forms.FORM_FIELDS:
            unknown.append(str(key))
        elif isinstance(value, YamlList):
            values[key] = "; ".join(f"{step.get('from')}={step.get('daily_dose_mg')}"
                                    for step in value if isinstance(step, dict))
        elif isinstance(value, bool):
            values[key] = "yes" if value else ""
        elif value is not None:
            values[key] = _date_input(value) if key in DATE_FIELDS else str(value)
    return values, unknown


DATE_FIELDS = {f.name for f in forms.all_fields() if f.kind == forms.DATE}


def _date_input(value: Any) -> str:
    """A record's date as a date input holds it (ISO), or as written when it is none."""
    try:
        return fields.date(value).isoformat()
    except fields.Invalid:
        return str(value)


def _accepted_language(request: Request) -> str:
    """For pages made before the form is read (too large, server error): the browser's
    language when it is English, else French."""
    accepted = request.headers.get("accept-language", "")
    return "en" if accepted.lower().startswith("en") else "fr"


def create_app(sources_dir: Path = SOURCES_DIR, layouts_dir: Path = LAYOUTS_DIR,
               workers: int | None = None, timeout: float = DEFAULT_TIMEOUT_S,
               warm: bool = True, max_body: int = MAX_BODY_BYTES) -> ASGIApp:
    """The ASGI app: `workers` render processes (default: one per core, at most 4)."""
    web = WebApp(sources_dir, layouts_dir, workers or min(4, os.cpu_count() or 1), timeout,
                 warm)

    @asynccontextmanager
    async def lifespan(_app: Starlette):
        web.pool.start()
        try:
            yield
        finally:
            web.pool.stop()

    async def not_found(request: Request, _exc: Exception) -> Response:
        return web.message(request, ui_language(request.query_params.get("ui")),
                           "not_found", 404)

    async def server_error(request: Request, error: Exception) -> Response:
        LOG.error("request failed: %s", type(error).__name__)  # never the message
        return web.message(request, _accepted_language(request), "failed", 500)

    starlette = Starlette(routes=[
        Route("/", show_form, methods=["GET"]),
        Route("/", submit, methods=["POST"]),
        Route("/import", import_record, methods=["POST"]),
        Route("/download", download, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ], lifespan=lifespan, exception_handlers={404: not_found, 405: not_found,
                                              Exception: server_error})
    starlette.state.web = web

    async def too_large(scope: Scope) -> ASGIApp:
        request = Request(scope)
        return web.message(request, _accepted_language(request), "too_large", 413,
                           limit=max_body / 1_000_000)

    return Guard(starlette, too_large, max_body)
