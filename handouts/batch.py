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
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TextIO

import pikepdf

from . import PROJECT_ROOT
from .build import Renderer, build_patient
from .compose import compose, documents_for
from .errors import InputError, Problem
from .output import write_atomic
from .patient import Patient
from .records import RawRecord, validate_record
from .render.pdf import LAYOUTS_DIR
from .render.stamp import PlainText, Style, pdf_number
from .sources import Sources, available_languages, load_sources
from .tables import read_table

STATE_FILE = ".record.json"
RECYCLE_AFTER = 2000
CHUNK = 40
A4_POINTS = (595.276, 841.89)
BAND_STYLE = Style(12.0, True, "#fff", "fr")
BAND_FONT = "/MH-band"
BAND_HEIGHT, BAND_PADDING = 22.0, 7.0


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


def _build_records(records: list[tuple[Patient, str]], out_dir: Path, formats: list[str]
                   ) -> list[list[dict]]:
    """Build a chunk of records (in a worker): draw all their values in one pass per
    style, then write each record's files and, last, its state file."""
    renderer: Renderer = _worker["renderer"]
    if "pdf" in formats:
        renderer.prepare(compose(renderer.sources, patient.lang, patient.variant, kind, patient)
                         for patient, _ in records for kind in documents_for(patient.variant))
    built = []
    for patient, key in records:
        results = build_patient(renderer.sources, patient, out_dir, formats, renderer=renderer)
        files = []
        for item in results:
            write_atomic(item.path, item.data)
            files.append({"path": item.path.relative_to(out_dir).as_posix(),
                          "sha256": hashlib.sha256(item.data).hexdigest()})
        state = {"id": patient.id, "key": key, "files": files}
        write_atomic(out_dir / patient.id / STATE_FILE,
                     json.dumps(state, indent=1).encode("utf-8"))
        built.append(files)
    return built


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


def _partition(todo: list[tuple[RecordResult, Patient, str]], jobs: int
               ) -> list[list[tuple[RecordResult, Patient, str]]]:
    """Split the work between workers by language and variant, so that each document
    shape is laid out by one worker only; a group larger than a fair share is split."""
    groups: dict[tuple[str, str], list] = {}
    for item in todo:
        groups.setdefault((item[1].lang, item[1].variant), []).append(item)
    share = -(-len(todo) // jobs)
    pieces = [group[start:start + share] for group in groups.values()
              for start in range(0, len(group), share)]
    parts: list[list] = [[] for _ in range(jobs)]
    for piece in sorted(pieces, key=len, reverse=True):
        min(parts, key=len).extend(piece)
    return [part for part in parts if part]


def _render_all(todo: list[tuple[RecordResult, Patient, str]], sources: Sources,
                out_dir: Path, formats: list[str], layout: str, jobs: int,
                progress: Progress) -> None:
    def chunks(part: list) -> list[list]:
        return [part[start:start + CHUNK] for start in range(0, len(part), CHUNK)]

    if not todo:
        return
    if jobs <= 1:
        _start_worker(sources, layout)
        for chunk in chunks(todo):
            _collect(chunk, _build_records([(p, k) for _, p, k in chunk], out_dir, formats),
                     progress)
        return
    context = get_context("forkserver")
    context.set_forkserver_preload(["handouts.batch"])
    parts = [chunks(part) for part in _partition(todo, jobs)]
    per_worker = RECYCLE_AFTER // CHUNK
    for start in range(0, max(len(part) for part in parts), per_worker):
        pools = [ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker,
                                     initargs=(sources, layout)) for _ in parts]
        try:
            done = {pool.submit(_build_records, [(p, k) for _, p, k in chunk], out_dir,
                                formats): chunk
                    for pool, part in zip(pools, parts)
                    for chunk in part[start:start + per_worker]}
            for future in as_completed(done):
                _collect(done[future], future.result(), progress)
        finally:
            for pool in pools:
                pool.shutdown(cancel_futures=True)


def _collect(chunk: list[tuple[RecordResult, Patient, str]], built: list[list[dict]],
             progress: Progress) -> None:
    for (result, _, _), files in zip(chunk, built, strict=True):
        result.files = files
        progress.advance()


class CombinedPdf:
    """The print room's single file. Each document starts on a right-hand page; a
    record's first page carries its band. Whatever records share is stored once, as
    form XObjects (as variable-data printing does): a page of a record's PDF is drawn
    as its shared part (the shape's page, or a shared leaflet page), recognised by its
    bytes, plus the record's own overlay, which names only canonical fonts.
    """

    def __init__(self, renderer: Renderer):
        self.renderer = renderer
        self.pdf = pikepdf.new()
        self.forms: dict[bytes, tuple[pikepdf.Name, pikepdf.Stream, pikepdf.Stream]] = {}
        self.fonts = pikepdf.Dictionary()
        self.states = pikepdf.Dictionary()
        self.closing = self.pdf.make_stream(b"Q\n")
        self.opened: list[pikepdf.Pdf] = []

    def _copied(self) -> tuple[int, int, int]:
        return len(self.forms), len(self.fonts.keys()), len(self.states.keys())

    def _start_on_right_hand_page(self) -> None:
        if len(self.pdf.pages) % 2:
            self.pdf.add_blank_page(page_size=A4_POINTS)

    def _form(self, page: pikepdf.Page, shared: pikepdf.Object
              ) -> tuple[pikepdf.Name, pikepdf.Stream, pikepdf.Stream]:
        """The XObject drawing `shared` (a page's shared content), made on first use,
        and the stream that draws it."""
        key = hashlib.sha256(b"".join(s.read_raw_bytes() for s in _streams(shared))).digest()
        if key not in self.forms:
            page.obj.Contents = shared
            form = self.pdf.copy_foreign(page.as_form_xobject())
            name = pikepdf.Name(f"/S{len(self.forms)}")
            draw = self.pdf.make_stream(b"q\n%s Do\n" % str(name).encode())
            self.forms[key] = (name, form, draw)
        return self.forms[key]

    def _add_page(self, page: pikepdf.Page) -> None:
        contents = page.obj.Contents
        stamped = isinstance(contents, pikepdf.Array) and len(contents) == 3
        name, form, draw = self._form(page, contents[1] if stamped else contents)
        resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary({str(name): form}))
        if stamped:
            overlay = self.pdf.make_stream(contents[2].read_bytes())
            for group, shared in (("/Font", self.fonts), ("/ExtGState", self.states)):
                own = page.Resources.get(group, pikepdf.Dictionary())
                for key in own:
                    if key not in shared and (key.startswith("/MH-") or group == "/ExtGState"):
                        shared[key] = (self.pdf.copy_foreign(own[key])
                                       if own[key].is_indirect else own[key])
                resources[group] = shared
            parts = [draw, overlay]
        else:
            parts = [draw, self.closing]
        self.pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=page.mediabox, Resources=resources,
            Contents=pikepdf.Array(parts))))

    def add(self, documents: list[Path]) -> list[int]:
        """Append one record's PDFs; return its [first, last] page."""
        first = None
        for path in documents:
            self._start_on_right_hand_page()
            first = first or len(self.pdf.pages) + 1
            source = pikepdf.open(path)
            copied = self._copied()
            for page in source.pages:
                self._add_page(page)
            if self._copied() != copied:  # objects copied from it are read at save time
                self.opened.append(source)
            else:
                source.close()
        return [first, len(self.pdf.pages)]

    def add_bands(self, firsts: list[int], texts: list[str]) -> None:
        """Lay each record's band (white on black, top left) over its first page."""
        palette, size = self.renderer.stamper.palette(BAND_STYLE)
        font = PlainText(next(iter(palette.pages[0].Resources.Font.values())))
        self.fonts[BAND_FONT] = self.pdf.copy_foreign(font.font)
        points = size * 0.75
        top = A4_POINTS[1]
        for page_number, text in zip(firsts, texts, strict=True):
            glyphs, width = font.encode(text)
            box = width * points / 1000 + 2 * BAND_PADDING
            band = (b"q 0.133 0.133 0.133 rg 0 %s %s %s re f 1 1 1 rg BT %s %s Tf %s %s Td "
                    b"%s Tj ET Q\n") % (
                pdf_number(top - BAND_HEIGHT), pdf_number(box), pdf_number(BAND_HEIGHT),
                BAND_FONT.encode(), pdf_number(points), pdf_number(BAND_PADDING),
                pdf_number(top - BAND_HEIGHT + BAND_PADDING), glyphs)
            page = self.pdf.pages[page_number - 1]
            page.obj.Contents.append(self.pdf.make_stream(band))
            page.Resources.Font = self.fonts

    def save(self, path: Path) -> None:
        buffer = io.BytesIO()
        self.pdf.save(buffer, deterministic_id=True, compress_streams=True,
                      object_stream_mode=pikepdf.ObjectStreamMode.generate)
        write_atomic(path, buffer.getvalue())
        for pdf in self.opened:
            pdf.close()


def _streams(contents: pikepdf.Object) -> list[pikepdf.Stream]:
    return list(contents) if isinstance(contents, pikepdf.Array) else [contents]


@dataclass
class BatchOutcome:
    written: list[Path]
    results: list[RecordResult]

    @property
    def exit_code(self) -> int:
        return 1 if any(r.status == "error" for r in self.results) else 0


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
    for leftover in [*out_dir.glob(".*.part"), *out_dir.glob("*/.*.part")]:
        leftover.unlink()  # the temporary file of a write a kill interrupted
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
        pdfs = [out_dir / f["path"] for f in result.files if f["path"].endswith(".pdf")]
        if not pdfs:
            continue
        result.pages = combined.add(pdfs)
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
