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

import csv
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import re
import select
import signal
import sys
import threading
import time
import unicodedata
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
from ..records.columns import FORMULA_STARTS, OWN_COLUMNS, ColumnMap, field_for, header_key
from ..records.patient import Patient
from ..records.readers import read_table, record_id
from ..records.validate import ALL_FIELDS, RawRecord, validate_record
from ..render.pdf import LAYOUTS_DIR, PdfWriter
from ..render.stamp import PageParts, Stamper
from ..sources.content import suggest
from ..sources.loading import Sources, available_languages, dose_rules, load_sources
from .combined import CombinedPdf, RecordLabel

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
    print_file: str | None = None


@dataclass(frozen=True)
class Built:
    """A record's files as a worker wrote them, and, for each PDF, how its pages are
    built if it was stamped, as in the state file (so the combined file need not parse
    it, and a record waiting for its turn in print order holds only a few numbers)."""

    files: list[dict]
    pdfs: list[tuple[str, list[dict] | None]]
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
    """A stamped PDF's page parts for its state file; each overlay is saved as where its
    bytes are in the PDF, so a later run can take it without parsing the file."""
    return [{"digest": part.digest.hex(),
             "overlays": [[data.find(overlay), len(overlay)] for overlay in part.overlays]}
            for part in parts]


def _page_parts(saved: list[dict] | None, path: Path) -> tuple[PageParts, ...] | None:
    """A stamped PDF's page parts, reading only its overlays from the file."""
    if saved is None:
        return None
    parts = []
    with path.open("rb") as stream:
        for page in saved:
            overlays = []
            for start, length in page["overlays"]:
                stream.seek(start)
                overlays.append(stream.read(length))
                if not (overlays[-1].startswith(b"<<") and overlays[-1].endswith(b"endstream")):
                    return None  # the combined file reads the PDF itself
            parts.append(PageParts(bytes.fromhex(page["digest"]), tuple(overlays)))
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
                pdfs.append((entry["path"], saved["pages"].get(entry["path"])))
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
                saved = None if item.pages is None else _saved_pages(item.pages, item.data)
                pdfs.append((path, saved))
                if saved is not None:
                    pages[path] = saved
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
        on_built(result, record)  # a refused record too: the print file goes past it
        progress.advance()


@dataclass
class BatchOutcome:
    written: list[Path]
    results: list[RecordResult]
    notices: list[Problem] = field(default_factory=list)
    language_problems: list[Problem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if any(r.status == "error" for r in self.results) else 0


@dataclass(frozen=True)
class PrintOptions:
    """How the print file is arranged besides its order: one file per ward, and a band
    on the record's first page instead of a separator sheet."""

    split_by_ward: bool = False
    band: bool = False


def _sort(records: list[RawRecord], column: str | None, name: str,
          column_map: ColumnMap | None) -> tuple[list[RawRecord], str | None]:
    """The records in print order, and the field they are sorted by. Records without
    the field come last; ties keep the file's order."""
    if column is None:
        return records, None
    found = field_for(column, column_map)
    if found is None:
        raise InputError(Problem(name, f"--sort-by: no column '{column}' in the file",
                                 suggest(header_key(column), [*ALL_FIELDS])))
    return sorted(records, key=lambda r: (found not in r.values,
                                          str(r.values.get(found, "")).casefold())), found


def _ward(raw: RawRecord) -> str:
    return " ".join(str(raw.values.get("ward", "")).split())


def _print_file_name(stem: str, ward: str | None, taken: set[str]) -> str:
    """The print file's name; per ward, a file-system-safe form of the ward's name."""
    if ward is None:
        return f"baclofen-print-{stem}.pdf"
    plain = unicodedata.normalize("NFKD", ward).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-")[:40] or "sans-service"
    name, number = f"baclofen-print-{stem}-{slug}.pdf", 2
    while name.casefold() in taken:
        name, number = f"baclofen-print-{stem}-{slug}-{number}.pdf", number + 1
    taken.add(name.casefold())
    return name


def _language_refused(raw: RawRecord, lang: str, reasons: list[Problem]) -> str:
    """Why a record is not built when its language's translation is refused."""
    return str(Problem(raw.locate("lang"), f"the '{lang}' translation has {len(reasons) - 1} "
                       "problems (listed above); this record is not built",
                       f"fix them (make_handouts.py check --lang {lang}) or run with "
                       "--allow-incomplete"))


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
              display: str | None = None, layouts_dir: Path = LAYOUTS_DIR,
              column_map: ColumnMap | None = None, allow_incomplete: bool = False,
              arrange: PrintOptions = PrintOptions()) -> BatchOutcome:
    """Build every record of `table` into `out_dir`; see the module docstring."""
    name = display or str(table)
    notices: list[Problem] = []
    records, sorted_by = _sort(read_table(table, name, column_map, notices),
                               sort_by, name, column_map)
    languages = available_languages(sources_dir)
    rules = dose_rules(sources_dir)
    results: list[RecordResult] = []
    valid: list[tuple[RecordResult, Patient, RawRecord]] = []
    raws: dict[int, RawRecord] = {}
    for raw in records:
        result = RecordResult(record_id(raw), raw.row, where=raw.locate(None))
        raws[id(result)] = raw
        try:
            valid.append((result, validate_record(raw, languages, require_id=True,
                                                         rules=rules), raw))
        except InputError as error:
            result.status, result.errors = "error", [str(p) for p in error.problems]
        results.append(result)
    refused: dict[str, list[Problem]] = {}
    sources = load_sources(sources_dir, sorted({p.lang for _, p, _ in valid}) or None,
                           allow_incomplete, refused=refused)
    notices += sources.notices
    if refused:
        for result, patient, raw in valid:
            if patient.lang in refused:
                result.status = "error"
                result.errors = [_language_refused(raw, patient.lang, refused[patient.lang])]
        valid = [item for item in valid if item[1].lang not in refused]
    lock = _lock(out_dir)  # held while this batch runs: closed when it returns or fails
    for leftover in [*out_dir.glob(".*.part"), *out_dir.glob("*/.*.part")]:
        leftover.unlink()  # the temporary file of a write a kill interrupted
    base = inputs_key(sources_dir, layouts_dir, layout, formats)
    todo: list = []
    ready: dict[int, Built | None] = {}  # by print position: what is ready to be written
    for position, (result, patient, raw) in enumerate(valid):
        if problem := _symlinked(out_dir, patient.id):
            result.status, result.errors = "error", [f"{result.where}: {problem}"]
            ready[position] = None  # not in the print file
            continue
        key = record_key(base, raw)
        built = None if force else _up_to_date(out_dir, patient.id, key)
        if built is not None:
            result.files, result.skipped = built.files, True
            ready[position] = built
        else:
            todo.append((result, patient, key))
    progress = Progress(len(todo), progress_stream)
    split = arrange.split_by_ward
    groups: dict[str | None, list[int]] = {}
    for position, (_, _, raw) in enumerate(valid):
        groups.setdefault(_ward(raw) if split else None, []).append(position)
    rank = {position: number for group in groups.values()
            for number, position in enumerate(group, 1)}  # position within its print file
    taken: set[str] = set()
    print_names = {ward: _print_file_name(table.stem, ward, taken) for ward in groups}
    positions = {id(result): position for position, (result, _, _) in enumerate(valid)}
    with ExitStack() as stack:
        writers: dict[str | None, CombinedPdf] = {}
        if "pdf" in formats and valid:
            stamper = Stamper(PdfWriter(layout, layouts_dir))
            writers = {ward: CombinedPdf(stack.enter_context(atomic_file(
                out_dir / print_names[ward])), stamper, arrange.band) for ward in groups}
        written_up_to = 0

        def write_ready() -> None:
            """Write the records that are next in print order (a record built early
            waits for those before it, so the print file's bytes never depend on the
            order records are built in)."""
            nonlocal written_up_to
            while written_up_to in ready:
                result, _, raw = valid[written_up_to]
                built = ready.pop(written_up_to)
                ward = _ward(raw) if split else None
                if ward in writers and built is not None and not built.refused:
                    label = RecordLabel(result.id, result.row, _ward(raw),
                                        rank[written_up_to], len(groups[ward]))
                    result.pages = list(writers[ward].add(label, [
                        (out_dir / path, _page_parts(saved, out_dir / path))
                        for path, saved in built.pdfs]))
                    result.print_file = print_names[ward]
                written_up_to += 1

        def add(result: RecordResult, built: Built) -> None:
            ready[positions[id(result)]] = built
            write_ready()

        write_ready()
        _render_all(todo, sources, out_dir, formats, layout, layouts_dir, jobs, progress, add)
        for writer in writers.values():
            writer.close(by_ward=split or sorted_by == "ward")
    written = [out_dir / f["path"] for result, _, _ in valid if not result.skipped
               for f in result.files]
    written += [out_dir / print_names[ward] for ward in writers]
    rejected_path = out_dir / "rejected.csv"
    rejected = sorted(((raws[id(r)], r) for r in results if r.status == "error"),
                      key=lambda item: item[0].row)  # in file order
    write_atomic(rejected_path, rejected_csv(rejected, records[0].source[0] if records else ()))
    written.append(rejected_path)
    manifest_path = out_dir / "manifest.json"
    manifest = {
        "combined_pdf": print_names[None] if None in writers else None,
        "print_files": [{"file": print_names[ward], "ward": ward, "records": len(groups[ward])}
                        for ward in writers],
        "rejected": rejected_path.name,
        "records": [{"id": r.id, "row": r.row, "status": r.status, "errors": r.errors,
                     "files": r.files, "print_file": r.print_file, "pages": r.pages}
                    for r in results],
    }
    with atomic_file(manifest_path) as stream:  # streamed: a batch's manifest is large
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        json.dump(manifest, text, ensure_ascii=False, indent=1)
        text.write("\n")
        text.detach()
    written.append(manifest_path)
    lock.close()
    return BatchOutcome(written, results, notices,
                        [p for problems in refused.values() for p in problems])


def rejected_csv(rejected: list[tuple[RawRecord, RecordResult]], header: tuple[str, ...]
                 ) -> bytes:
    """The refused rows as they were in the input, plus an `errors` column, for the ward
    to fix and send again (so names are in it). UTF-8 with a byte order mark and `;`,
    as French spreadsheets open it; a cell that a spreadsheet would take for a formula
    (= + - @) is written after an apostrophe, which `batch` removes when it reads it."""
    if not header:  # a YAML list: its fields become the columns
        present = {f for raw, _ in rejected for f in raw.values}
        header = tuple(f for f in ALL_FIELDS if f in present)
    kept = [i for i, text in enumerate(header) if header_key(text) not in OWN_COLUMNS]
    stream = io.StringIO(newline="")
    out = csv.writer(stream, delimiter=";", lineterminator="\r\n")
    out.writerow([*(_neutral(header[i]) for i in kept), "errors"])
    for raw, result in rejected:
        cells = raw.source[1] or tuple(raw.values.get(f, "") for f in header)
        where = raw.locate(None)  # the row moves in the new file: keep the column only
        errors = [e[len(where) + 2:] if e.startswith(where) else e for e in result.errors]
        out.writerow([*(_neutral(_cell_text(cells[i] if i < len(cells) else ""))
                        for i in kept), " | ".join(errors)])
    return ("\ufeff" + stream.getvalue()).encode("utf-8")


def _cell_text(value: object) -> str:
    """A cell as a spreadsheet shows it: dates as dates, whole numbers without '.0'."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _neutral(text: str) -> str:
    return "'" + text if text[:1] in FORMULA_STARTS else text
