"""Bulk batches for print rooms: every record of a spreadsheet built like `patient`
builds it, a combined print-ready PDF, and `manifest.json`.

A bad row does not stop the batch. Each record's files are written atomically, then a
small state file (`<id>/.record.json`) that says from which inputs they were made: a
batch run again skips the records whose outputs are up to date, so an interrupted run
loses nothing. In the combined PDF each document starts on a right-hand page, the
record's first page carries a slim band (id, row, pages; never the name), and the
leaflets' shared pages are stored once and referenced by every record.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TextIO

import pikepdf

from . import PROJECT_ROOT
from .build import Renderer, build_patient
from .compose import KINDS, compose
from .errors import InputError, Problem
from .output import write_atomic
from .patient import Patient
from .records import RawRecord, validate_record
from .render.pdf import LAYOUTS_DIR
from .sources import Sources, available_languages, load_sources
from .tables import read_table

STATE_FILE = ".record.json"
RECYCLE_AFTER = 200
A4_POINTS = (595.276, 841.89)


@dataclass
class RecordResult:
    """What happened to one record; becomes one entry of the manifest."""

    id: str
    row: int
    status: str = "ok"
    errors: list[str] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    pages: list[int] | None = None
    skipped: bool = False


def inputs_key(sources_dir: Path, layout: str, formats: list[str]) -> str:
    """A fingerprint of everything besides the record that shapes its files: sources,
    layouts, the program itself, the layout and formats asked for."""
    digest = hashlib.sha256(f"{layout}|{','.join(formats)}".encode())
    for folder, pattern in ((sources_dir, "*.yaml"), (LAYOUTS_DIR, "*"),
                            (PROJECT_ROOT / "handouts", "*.py")):
        for path in sorted(folder.rglob(pattern)):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def record_key(base: str, raw: RawRecord) -> str:
    values = json.dumps({k: str(v) for k, v in sorted(raw.values.items())}, ensure_ascii=False)
    return hashlib.sha256(f"{base}|{values}".encode()).hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _up_to_date(out_dir: Path, record_id: str, key: str) -> list[dict] | None:
    """A record's files from a previous run, if complete and made from the same inputs."""
    state = out_dir / record_id / STATE_FILE
    try:
        saved = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if saved.get("key") != key:
        return None
    for entry in saved["files"]:
        path = out_dir / entry["path"]
        if not path.is_file() or _sha256(path) != entry["sha256"]:
            return None
    return saved["files"]


_worker: dict = {}


def _start_worker(sources: Sources, layout: str) -> None:
    _worker["renderer"] = Renderer(sources, layout)


def _build_record(patient: Patient, out_dir: Path, formats: list[str], key: str) -> list[dict]:
    """Build one record's files (in a worker), write them, then its state file."""
    renderer: Renderer = _worker["renderer"]
    results = build_patient(renderer.sources, patient, out_dir, formats, renderer=renderer)
    files = []
    for item in results:
        write_atomic(item.path, item.data)
        files.append({"path": item.path.relative_to(out_dir).as_posix(),
                      "sha256": hashlib.sha256(item.data).hexdigest()})
    state = {"id": patient.id, "key": key, "files": files}
    write_atomic(out_dir / patient.id / STATE_FILE,
                 json.dumps(state, indent=1).encode("utf-8"))
    return files


class Progress:
    """A progress bar on a terminal; plain lines (every tenth) otherwise."""

    def __init__(self, total: int, stream: TextIO):
        self.total, self.stream, self.done = total, stream, 0
        self.start = time.monotonic()
        self.live = stream.isatty()

    def advance(self) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate else 0.0
        if self.live:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            self.stream.write(f"\rbatch [{'#' * filled}{'.' * (width - filled)}] "
                              f"{self.done}/{self.total} records, {rate:.1f}/s, "
                              f"{left:.0f} s left ")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()
        elif self.done == self.total or self.done % max(1, self.total // 10) == 0:
            print(f"batch: {self.done}/{self.total} records built ({rate:.1f}/s)",
                  file=self.stream)


def _render_all(todo: list[tuple[RecordResult, Patient, str]], sources: Sources,
                out_dir: Path, formats: list[str], layout: str, jobs: int,
                progress: Progress) -> None:
    if jobs <= 1:
        _start_worker(sources, layout)
        for result, patient, key in todo:
            result.files = _build_record(patient, out_dir, formats, key)
            progress.advance()
        return
    context = get_context("forkserver")
    context.set_forkserver_preload(["handouts.batch"])
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                             initargs=(sources, layout),
                             max_tasks_per_child=RECYCLE_AFTER) as pool:
        futures = [(result, pool.submit(_build_record, patient, out_dir, formats, key))
                   for result, patient, key in todo]
        for result, future in futures:
            result.files = future.result()
            progress.advance()


class CombinedPdf:
    """The print room's single file. Each document starts on a right-hand page; a
    record's first page carries its band; the leaflets' shared pages come from one copy
    of the generic leaflet, so the file stores them once for the whole batch."""

    def __init__(self, renderer: Renderer):
        self.renderer = renderer
        self.pdf = pikepdf.new()
        self.shared: dict[tuple[str, str], tuple[pikepdf.Pdf, int]] = {}
        self.opened: list[pikepdf.Pdf] = []

    def shared_leaflet(self, lang: str, variant: str) -> tuple[pikepdf.Pdf, int]:
        """The generic leaflet and how many personal pages precede its shared ones."""
        key = (lang, variant)
        if key not in self.shared:
            sources = self.renderer.sources
            generic = compose(sources, lang, variant, "leaflet")
            rendered = self.renderer.shared_leaflet(lang, variant)
            data = self.renderer.pdf.write(rendered, f"shared/{lang}/{generic.stem}")
            self.shared[key] = (pikepdf.open(io.BytesIO(data)), len(generic.front))
        return self.shared[key]

    def _start_on_right_hand_page(self) -> None:
        if len(self.pdf.pages) % 2:
            self.pdf.add_blank_page(page_size=A4_POINTS)

    def add(self, documents: list[tuple[Path, str]], lang: str, variant: str) -> list[int]:
        """Append one record's PDFs (path, kind); return its [first, last] page."""
        first = None
        for path, kind in documents:
            self._start_on_right_hand_page()
            first = first or len(self.pdf.pages) + 1
            source = pikepdf.open(path)
            self.opened.append(source)
            pages = list(source.pages)
            if kind == "leaflet":
                shared, front = self.shared_leaflet(lang, variant)
                pages = pages[:front] + list(shared.pages[front:])
            self.pdf.pages.extend(pages)
        return [first, len(self.pdf.pages)]

    def add_bands(self, firsts: list[int], texts: list[str]) -> None:
        """Lay each record's band over its first page (bands rendered in one pass)."""
        bands = pikepdf.open(io.BytesIO(self.renderer.pdf.strips(texts)))
        self.opened.append(bands)
        for page_number, band in zip(firsts, bands.pages):
            self.pdf.pages[page_number - 1].add_overlay(band)

    def save(self, path: Path) -> None:
        buffer = io.BytesIO()
        self.pdf.save(buffer, deterministic_id=True, compress_streams=True,
                      object_stream_mode=pikepdf.ObjectStreamMode.generate)
        write_atomic(path, buffer.getvalue())
        for pdf in self.opened:
            pdf.close()


@dataclass
class BatchOutcome:
    written: list[Path]
    results: list[RecordResult]

    @property
    def exit_code(self) -> int:
        return 1 if any(r.status == "error" for r in self.results) else 0


def _kind(path: str) -> str:
    """Which document a record's file holds, from its contract name."""
    return next(kind for kind in KINDS if f"-{kind}-" in path.rsplit("/", 1)[-1])


def _sort(records: list[RawRecord], column: str | None, name: str) -> list[RawRecord]:
    if column is None:
        return records
    if not any(column in r.values for r in records):
        raise InputError(Problem(name, f"--sort-by: no column '{column}' in the file"))
    return sorted(records, key=lambda r: str(r.values.get(column, "")))


def run_batch(table: Path, out_dir: Path, sources_dir: Path, formats: list[str],
              layout: str = "standard", jobs: int = 1, sort_by: str | None = None,
              force: bool = False, progress_stream: TextIO = sys.stderr,
              display: str | None = None) -> BatchOutcome:
    """Build every record of `table` into `out_dir`; see the module docstring."""
    name = display or str(table)
    records = _sort(read_table(table, name), sort_by, name)
    languages = available_languages(sources_dir)
    results: list[RecordResult] = []
    valid: list[tuple[RecordResult, Patient, RawRecord]] = []
    for raw in records:
        result = RecordResult(str(raw.values.get("id", "")), raw.row)
        try:
            valid.append((result, validate_record(raw, languages, require_id=True), raw))
        except InputError as error:
            result.status, result.errors = "error", [str(p) for p in error.problems]
        results.append(result)
    sources = load_sources(sources_dir, sorted({p.lang for _, p, _ in valid}) or None)
    base = inputs_key(sources_dir, layout, formats)
    todo = []
    for result, patient, raw in valid:
        key = record_key(base, raw)
        previous = None if force else _up_to_date(out_dir, patient.id, key)
        if previous is not None:
            result.files, result.skipped = previous, True
        else:
            todo.append((result, patient, key))
    progress = Progress(len(todo), progress_stream)
    _render_all(todo, sources, out_dir, formats, layout, jobs, progress)
    combined_path = out_dir / f"baclofen-print-{table.stem}.pdf"
    combined = CombinedPdf(Renderer(sources, layout))
    firsts, bands = [], []
    for position, (result, patient, _) in enumerate(valid, 1):
        pdfs = [(out_dir / f["path"], _kind(f["path"]))
                for f in result.files if f["path"].endswith(".pdf")]
        if not pdfs:
            continue
        result.pages = combined.add(pdfs, patient.lang, patient.variant)
        firsts.append(result.pages[0])
        pages = result.pages[1] - result.pages[0] + 1
        bands.append(f"{patient.id} · ligne {result.row} · {pages} pages · "
                     f"{position}/{len(valid)}")
    written = [out_dir / f["path"] for result, _, _ in valid if not result.skipped
               for f in result.files]
    if firsts:
        combined.add_bands(firsts, bands)
        combined.save(combined_path)
        written.append(combined_path)
    manifest_path = out_dir / "manifest.json"
    manifest = {
        "combined_pdf": combined_path.name if firsts else None,
        "records": [{"id": r.id, "row": r.row, "status": r.status, "errors": r.errors,
                     "files": r.files, "pages": r.pages} for r in results],
    }
    write_atomic(manifest_path, (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
                                 ).encode("utf-8"))
    written.append(manifest_path)
    return BatchOutcome(written, results)
