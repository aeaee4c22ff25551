"""Helpers for the web app's tests: a client that keeps the CSRF token, and the form
values of the `patient` test records."""

from __future__ import annotations

import html
import io
import re
import zipfile

from tests.test_patient import ORAL, PUMP

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
RECORD = re.compile(r'name="record" value="([^"]+)"')


def form_values(record: dict) -> dict[str, str]:
    """A test record as a clinician types it into the form."""
    return {key: str(value) for key, value in record.items()}


ORAL_FORM = form_values(ORAL)
PUMP_FORM = form_values(PUMP)


class Clinician:
    """A browser's side of the app: reads the CSRF token from each page, posts forms."""

    def __init__(self, client):
        self.client = client
        self.token = CSRF.search(client.get("/").text).group(1)

    def post(self, path: str, data: dict, files: dict | None = None, ui: str = "fr"):
        return self.client.post(path, data={"csrf": self.token, "ui": ui, **data}, files=files)

    def submit(self, values: dict, ui: str = "fr"):
        return self.post("/", values, ui=ui)

    def download(self, preview_html: str, file: str, ui: str = "fr", **extra: str):
        record = html.unescape(RECORD.search(preview_html).group(1))
        return self.post("/download", {"record": record, "file": file, **extra}, ui=ui)


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def error_summary(page: str) -> list[str]:
    """The error summary's items, as text."""
    block = re.search(r'<div class="error-summary".*?</div>', page, re.DOTALL)
    if block is None:
        return []
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip()
            for item in re.findall(r"<li>(.*?)</li>", block.group(0), re.DOTALL)]


def field_errors(page: str, field: str) -> list[str]:
    return [html.unescape(text).strip() for text in re.findall(
        rf'<p class="field-error" id="{field}-error-\d+"><span[^>]*>[^<]*</span>(.*?)</p>', page)]


def input_value(page: str, field: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{field}"[^>]*value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None
