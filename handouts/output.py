"""Writing files: atomically (temporary file + rename), so an interrupted run never
leaves a half-written PDF or DOCX behind, and names that say what a file holds."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

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
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half."""
    with atomic_file(path, durable) as stream:
        stream.write(data)
