"""Bulk batches for print rooms: every record of a spreadsheet built like `patient`
builds it, a combined print-ready PDF, and `manifest.json`.

A bad row does not stop the batch. Worker processes build chunks of records, each
taking whole language/variant groups so that each shape is laid out once. Each
record's files are written atomically, then a small state file (`<id>/.record.json`)
that says from which inputs they were made, their sha256 and how each stamped page is
built: a batch run again skips the records whose outputs are up to date, so an
interrupted run loses nothing. The main process writes the combined print PDF
(combined.py) as records arrive, and the manifest last.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TextIO

from ..build import Renderer, patient_documents, render_documents
from ..errors import InputError, OutputError, Problem, RecordDoesNotFit
from ..output import atomic_file, write_atomic, write_together
from ..records.patient import Patient
from ..records.readers import read_table, record_id
from ..records.validate import RawRecord, validate_record
from ..render.pdf import LAYOUTS_DIR, PdfWriter
from ..render.stamp import PageParts, Stamper
from ..sources.loading import Sources, available_languages, load_sources
from .combined import CombinedPdf

PACKAGE_DIR = Path(__file__).resolve().parent.parent
STATE_FILE = ".record.json"
LOCK_FILE = ".batch.lock"
RECYCLE_AFTER = 2000
CHUNK = 40


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
    where: str = ""  # the record's place in the input, for messages (not in the manifest)


@dataclass(frozen=True)
class Built:
    """A record's files as a worker wrote them, and, for each PDF, how its pages are
    built if it was stamped (so the combined file need not read it back)."""

    files: list[dict]
    pdfs: list[tuple[str, tuple[PageParts, ...] | None]]
    refused: list[Problem] = field(default_factory=list)  # the record does not fit


def inputs_key(sources_dir: Path, layouts_dir: Path, layout: str, formats: list[str]) -> str:
    """A fingerprint of everything besides the record that shapes its files: sources,
    layouts, the program itself, the layout and formats asked for."""
    digest = hashlib.sha256(f"{layout}|{','.join(formats)}".encode())
    for folder, pattern in ((sources_dir, "*.yaml"), (layouts_dir, "*"),
                            (PACKAGE_DIR, "*.py")):
        for path in sorted(folder.rglob(pattern)):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def record_key(base: str, raw: RawRecord) -> str:
    values = json.dumps({k: str(v) for k, v in sorted(raw.values.items())}, ensure_ascii=False)
    return hashlib.sha256(f"{base}|{values}".encode()).hexdigest()


def _saved_pages(parts: tuple[PageParts, ...], data: bytes) -> list[dict]:
    """A stamped PDF's page parts for its state file; an overlay is saved as where its
    bytes are in the PDF, so a later run can take it without parsing the file."""
    return [{"digest": part.digest.hex(), "names": list(part.names),
             "overlay": [data.find(part.overlay), len(part.overlay)] if part.overlay else None}
            for part in parts]


def _page_parts(saved: list[dict] | None, data: bytes) -> tuple[PageParts, ...] | None:
    if saved is None:
        return None
    parts = []
    for page in saved:
        overlay = None
        if page["overlay"] is not None:
            start, length = page["overlay"]
            overlay = data[start:start + length]
            if not (overlay.startswith(b"<<") and overlay.endswith(b"endstream")):
                return None  # the combined file reads the PDF itself
        parts.append(PageParts(bytes.fromhex(page["digest"]), overlay, tuple(page["names"])))
    return tuple(parts)


def _up_to_date(out_dir: Path, record_id: str, key: str) -> Built | None:
    """A record's files from a previous run, if complete and made from the same inputs
    (a state file that cannot be read means the record is built again)."""
    try:
        saved = json.loads(_read_inside(out_dir, record_id, STATE_FILE))
        if saved["key"] != key or saved["id"] != record_id:
            return None
        pdfs = []
        for entry in saved["files"]:
            folder_name, _, name = entry["path"].partition("/")
            if folder_name != record_id or not name.startswith(f"{record_id}-"):
                return None  # a state file may only name this record's own files
            data = _read_inside(out_dir, record_id, name)
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                return None
            if entry["path"].endswith(".pdf"):
                pdfs.append((entry["path"], _page_parts(saved["pages"].get(entry["path"]),
                                                        data)))
        return Built(saved["files"], pdfs)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _symlinked(out_dir: Path, record_id: str) -> Problem | None:
    """`out/<id>` may not be a symbolic link: the record's files would be written or
    read wherever it points."""
    folder = out_dir / record_id
    if folder.is_symlink():
        return Problem(str(folder), "is a symbolic link; refusing to follow it", "remove it")
    return None


def _read_inside(out_dir: Path, record_id: str, name: str) -> bytes:
    """A file of a record's folder, never through a symbolic link (the folder's or the
    file's) or a path: a state file is untrusted input."""
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(name)
    folder = os.open(out_dir / record_id, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)
    finally:
        os.close(folder)
    with os.fdopen(descriptor, "rb") as stream:
        return stream.read()


_worker: dict = {}


def _watch_main(main: int) -> None:
    """Stop the worker as soon as the batch's main process ends, even by kill -9, which
    lets it clean nothing up (the fork server, the workers' parent, lives on while they
    do, so the parent is not the one to watch)."""
    try:
        select.select([os.pidfd_open(main)], [], [])  # readable once the process ended
    except (AttributeError, OSError):  # no pidfd (not Linux 5.3+): poll instead
        while _exists(main):
            time.sleep(0.5)
    os._exit(1)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _start_worker(sources: Sources, layout: str, layouts_dir: Path,
                  main: int | None = None) -> None:
    """Set up a process to build records; a worker (`main` given) leaves Ctrl-C to the
    main process and stops by itself when that process is gone."""
    if main is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        threading.Thread(target=_watch_main, args=(main,), daemon=True).start()
    _worker["renderer"] = Renderer(sources, layout, layouts_dir)


def _build_records(records: list[tuple[Patient, str]], out_dir: Path, formats: list[str]
                   ) -> list[Built]:
    """Build a chunk of records (in a worker): draw all their values in one pass, then
    write each record's files and, last, its state file. Files are not
    synced to disk one by one: the state file records their sha256, which a later run
    checks before it skips a record."""
    renderer: Renderer = _worker["renderer"]
    composed = [(patient, key, patient_documents(renderer.sources, patient))
                for patient, key in records]
    refused = {}
    if "pdf" in formats:
        for patient, _, documents in composed:
            try:
                for document in documents:
                    renderer.filled(document)
            except RecordDoesNotFit as error:
                refused[patient.id] = error.problems
        renderer.prepare(document for patient, _, documents in composed
                         if patient.id not in refused for document in documents)
    built = []
    for patient, key, documents in composed:
        files, pdfs, pages = [], [], {}
        try:
            if patient.id in refused:
                raise RecordDoesNotFit(refused[patient.id])
            rendered = render_documents(renderer, documents, formats, out_dir, patient.id)
        except RecordDoesNotFit as error:
            built.append(Built([], [], error.problems))
            continue
        if problem := _symlinked(out_dir, patient.id):
            raise OutputError(problem)
        write_together([(item.path, item.data) for item in rendered], durable=False)
        for item in rendered:
            path = item.path.relative_to(out_dir).as_posix()
            files.append({"path": path, "sha256": hashlib.sha256(item.data).hexdigest()})
            if path.endswith(".pdf"):
                pdfs.append((path, item.pages))
                if item.pages is not None:
                    pages[path] = _saved_pages(item.pages, item.data)
        state = {"id": patient.id, "key": key, "files": files, "pages": pages}
        write_atomic(out_dir / patient.id / STATE_FILE,
                     json.dumps(state, indent=1).encode("utf-8"), durable=False)
        built.append(Built(files, pdfs))
    return built


class Progress:
    """A progress bar on a terminal; plain lines (every tenth) otherwise: when the
    output is a file or a pipe (a log, a CI job) or the terminal is `TERM=dumb`. No
    colour or other escape sequence is ever written, so NO_COLOR is always honoured."""

    def __init__(self, total: int, stream: TextIO):
        self.total, self.stream, self.done = total, stream, 0
        self.start = time.monotonic()
        self.live = stream.isatty() and os.environ.get("TERM") != "dumb"

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


OnBuilt = Callable[[RecordResult, Built], None]


def _render_all(todo: list[tuple[RecordResult, Patient, str]], sources: Sources,
                out_dir: Path, formats: list[str], layout: str, layouts_dir: Path, jobs: int,
                progress: Progress, on_built: OnBuilt) -> None:
    def chunks(part: list) -> list[list]:
        return [part[start:start + CHUNK] for start in range(0, len(part), CHUNK)]

    if not todo:
        return
    if jobs <= 1:
        _start_worker(sources, layout, layouts_dir)
        for chunk in chunks(todo):
            _collect(chunk, _build_records([(p, k) for _, p, k in chunk], out_dir, formats),
                     progress, on_built)
        return
    context = get_context("forkserver")
    context.set_forkserver_preload(["handouts.bulk.batch"])
    parts = [chunks(part) for part in _partition(todo, jobs)]
    per_worker = RECYCLE_AFTER // CHUNK
    for start in range(0, max(len(part) for part in parts), per_worker):
        pools = [ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker,
                                     initargs=(sources, layout, layouts_dir, os.getpid()))
                 for _ in parts]
        try:
            done = {pool.submit(_build_records, [(p, k) for _, p, k in chunk], out_dir,
                                formats): chunk
                    for pool, part in zip(pools, parts)
                    for chunk in part[start:start + per_worker]}
            for future in as_completed(done):
                _collect(done.pop(future), future.result(), progress, on_built)
        finally:
            for pool in pools:
                pool.shutdown(cancel_futures=True)


def _collect(chunk: list[tuple[RecordResult, Patient, str]], built: list[Built],
             progress: Progress, on_built: OnBuilt) -> None:
    for (result, _, _), record in zip(chunk, built, strict=True):
        if record.refused:
            result.status = "error"
            result.errors = [str(Problem(result.where, p.message, p.hint))
                             for p in record.refused]
        else:
            result.files = record.files
            on_built(result, record)
        progress.advance()


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


def _lock(out_dir: Path) -> TextIO:
    """One batch at a time in a folder: a second one refuses at once, instead of
    deleting the first one's temporary files or interleaving their writes. The lock
    file holds the process id of the batch that has it; the lock ends when the returned
    file is closed (or the process ends)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = (out_dir / LOCK_FILE).open("a+")
    except OSError as error:
        raise OutputError(Problem(str(error.filename or out_dir),
                                  f"cannot write: {error.strerror}")) from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read(20).strip()
        lock.close()
        raise OutputError(Problem(str(out_dir), "another batch is writing to this folder"
                                  + (f" (process {holder})" if holder.isdigit() else ""),
                                  "wait until it ends, or choose another --out")) from None
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def run_batch(table: Path, out_dir: Path, sources_dir: Path, formats: list[str],
              layout: str = "standard", jobs: int = 1, sort_by: str | None = None,
              force: bool = False, progress_stream: TextIO = sys.stderr,
              display: str | None = None, layouts_dir: Path = LAYOUTS_DIR) -> BatchOutcome:
    """Build every record of `table` into `out_dir`; see the module docstring."""
    name = display or str(table)
    records = _sort(read_table(table, name), sort_by, name)
    languages = available_languages(sources_dir)
    results: list[RecordResult] = []
    valid: list[tuple[RecordResult, Patient, RawRecord]] = []
    for raw in records:
        result = RecordResult(record_id(raw), raw.row, where=raw.locate(None))
        try:
            valid.append((result, validate_record(raw, languages, require_id=True), raw))
        except InputError as error:
            result.status, result.errors = "error", [str(p) for p in error.problems]
        results.append(result)
    sources = load_sources(sources_dir, sorted({p.lang for _, p, _ in valid}) or None)
    lock = _lock(out_dir)  # held while this batch runs: closed when it returns or fails
    for leftover in [*out_dir.glob(".*.part"), *out_dir.glob("*/.*.part")]:
        leftover.unlink()  # the temporary file of a write a kill interrupted
    base = inputs_key(sources_dir, layouts_dir, layout, formats)
    todo, previous = [], {}
    for result, patient, raw in valid:
        if problem := _symlinked(out_dir, patient.id):
            result.status, result.errors = "error", [f"{result.where}: {problem}"]
            continue
        key = record_key(base, raw)
        built = None if force else _up_to_date(out_dir, patient.id, key)
        if built is not None:
            result.files, result.skipped = built.files, True
            previous[result.id] = built
        else:
            todo.append((result, patient, key))
    progress = Progress(len(todo), progress_stream)
    combined_path = out_dir / f"baclofen-print-{table.stem}.pdf"
    positions = {result.id: position for position, (result, _, _) in enumerate(valid, 1)}
    with ExitStack() as stack:
        combined = None
        if "pdf" in formats and valid:
            combined = CombinedPdf(stack.enter_context(atomic_file(combined_path)),
                                   Stamper(PdfWriter(layout, layouts_dir)))

        def add(result: RecordResult, built: Built) -> None:
            if combined is not None:
                combined.add(result.id, [(out_dir / path, parts) for path, parts in built.pdfs],
                             lambda pages: f"{result.id} · ligne {result.row} · {pages} pages · "
                                           f"{positions[result.id]}/{len(valid)}")

        _render_all(todo, sources, out_dir, formats, layout, layouts_dir, jobs, progress, add)
        for result, _, _ in valid:
            if result.skipped:
                add(result, previous[result.id])
        if combined is not None:
            ranges = combined.close([result.id for result, _, _ in valid])
            for result, _, _ in valid:
                result.pages = ranges.get(result.id)
    written = [out_dir / f["path"] for result, _, _ in valid if not result.skipped
               for f in result.files]
    if combined is not None:
        written.append(combined_path)
    manifest_path = out_dir / "manifest.json"
    manifest = {
        "combined_pdf": combined_path.name if combined is not None else None,
        "records": [{"id": r.id, "row": r.row, "status": r.status, "errors": r.errors,
                     "files": r.files, "pages": r.pages} for r in results],
    }
    with atomic_file(manifest_path) as stream:  # streamed: a batch's manifest is large
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        json.dump(manifest, text, ensure_ascii=False, indent=1)
        text.write("\n")
        text.detach()
    written.append(manifest_path)
    lock.close()
    return BatchOutcome(written, results)
