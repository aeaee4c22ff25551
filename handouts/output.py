"""Writing files: atomically (temporary file + rename), so an interrupted run never
leaves a half-written PDF or DOCX behind, and names that say what a file holds."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .errors import OutputError, Problem
from .model import Document


def output_path(out_dir: Path, document: Document, fmt: str, record_id: str | None = None,
                layout: str = "standard") -> Path:
    """`out/fr/baclofen-oral-leaflet.pdf`, or for a patient
    `out/<id>/<id>-baclofen-oral-leaflet-fr.pdf` (the id, never the name); a layout
    other than the standard one is named too: `...-leaflet-large-print.pdf`."""
    if record_id is None:
        stem = document.stem if layout == "standard" else f"{document.stem}-{layout}"
        return out_dir / document.lang / f"{stem}.{fmt}"
    return out_dir / record_id / patient_file_name(record_id, document.stem, document.lang, fmt,
                                                   layout)


def patient_file_name(record_id: str, stem: str, lang: str, fmt: str,
                      layout: str = "standard") -> str:
    """`<id>-baclofen-oral-leaflet-fr.pdf` (`...-leaflet-large-print-fr.pdf`)."""
    stem = stem if layout == "standard" else f"{stem}-{layout}"
    return f"{record_id}-{stem}-{lang}.{fmt}"


@contextmanager
def atomic_file(path: Path, durable: bool = True) -> Iterator[BinaryIO]:
    """A file that appears at `path` whole when the block ends without error, and not
    at all otherwise. `durable` also waits until it is on disk; a batch skips that for
    files whose sha256 it records and checks again before trusting them."""
    temporary, stream = _temporary(path)
    try:
        with _writing(path), stream:
            yield stream
            _finish(stream, temporary, durable)
        with _writing(path):
            os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half."""
    write_together([(path, data)], durable)


def write_together(files: list[tuple[Path, bytes]], durable: bool = True) -> None:
    """Write a set of files (a patient's leaflet, insert and card) all or nothing: every
    one is written to a temporary file, and only when all are written are they renamed."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in files:
            temporary, stream = _temporary(path)
            staged.append((temporary, path))
            with _writing(path), stream:
                stream.write(data)
                _finish(stream, temporary, durable)
        for temporary, path in staged:
            with _writing(path):
                os.replace(temporary, path)
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise


def _temporary(path: Path) -> tuple[Path, BinaryIO]:
    """A hidden temporary file beside `path` (same folder: the rename is atomic)."""
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                             dir=path.parent)
    return Path(temporary), os.fdopen(handle, "wb")


def _finish(stream: BinaryIO, temporary: Path, durable: bool) -> None:
    stream.flush()
    if durable:
        os.fsync(stream.fileno())
    os.chmod(temporary, 0o644)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """A write that fails (read-only folder, full disk, `ulimit -f`, a file where a
    folder should be) is one line naming the file and the cause."""
    try:
        yield
    except OSError as error:
        raise OutputError(Problem(str(path), f"cannot write: {error.strerror or error}")) from None
