"""Shared by the input-integrity tests (test_integrity_*.py): a canary patient name that
must never appear outside a document's body, and small batch builders."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

from tests.conftest import run_cli

CANARY = "Zxqvcanary"
TODAY = dt.date.today()
HEADER = ["id", "variant", "name", "daily_dose_mg", "daily_dose_ug", "concentration_ug_per_ml",
          "reservoir_ml", "next_refill", "alarm_date", "pump_model", "implanting_centre"]


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def oral(record_id: str, name: str = f"{CANARY} Oral", dose: str = "30") -> list[str]:
    return [record_id, "oral", name, dose, "", "", "", "", "", "", ""]


def pump(record_id: str, name: str = f"{CANARY} Pump", model: str = "SynchroMed II",
         centre: str = "", refill: str = day(30)) -> list[str]:
    return [record_id, "intrathecal", name, "", "250", "500", "20", refill, day(33), model,
            centre]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER,
              delimiter: str = ";") -> Path:
    path.write_text("".join(delimiter.join(row) + "\n" for row in [header, *rows]),
                    encoding="utf-8")
    return path


def write_ods(path: Path, rows: list[list[str]], trailing_repeat: int = 0,
              repeated_value_rows: int = 0) -> Path:
    """A minimal ODS file; `trailing_repeat` empty rows as LibreOffice writes them, and
    `repeated_value_rows` copies of one row of values (a spreadsheet bomb)."""
    def cell(value: str) -> str:
        return (f'<table:table-cell office:value-type="string"><text:p>{value}</text:p>'
                f'</table:table-cell>')
    body = "".join(f"<table:table-row>{''.join(cell(v) for v in row)}</table:table-row>"
                   for row in rows)
    if trailing_repeat:
        body += (f'<table:table-row table:number-rows-repeated="{trailing_repeat}">'
                 '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')
    if repeated_value_rows:
        body += (f'<table:table-row table:number-rows-repeated="{repeated_value_rows}">'
                 f'{cell("x")}</table:table-row>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="S">{body}</table:table>'
        '</office:spreadsheet></office:body></office:document-content>')
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return path


def batch(capsys, table: Path, out: Path, *extra: str):
    """Run `batch` (PDF only unless told): exit code, stdout and stderr lines, manifest."""
    formats = () if "--format" in extra else ("--format", "pdf")
    code, stdout, stderr = run_cli(capsys, "batch", str(table), "--out", str(out), "--jobs",
                                   "1", *formats, *extra)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    return code, stdout, stderr, manifest


def status(manifest: dict) -> dict[int, tuple[str, str]]:
    return {r["row"]: (r["id"], r["status"]) for r in manifest["records"]}


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
