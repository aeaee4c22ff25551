"""Writing files: atomically (temporary file + rename), so an interrupted run never
leaves a half-written PDF or DOCX behind, and names that say what a file holds."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .model import Document


def output_path(out_dir: Path, document: Document, fmt: str, record_id: str | None = None,
                layout: str = "standard") -> Path:
    """`out/fr/baclofen-oral-leaflet.pdf`, or for a patient
    `out/<id>/<id>-baclofen-oral-leaflet-fr.pdf` (the id, never the name); a layout
    other than the standard one is named too: `...-leaflet-large-print.pdf`."""
    stem = document.stem if layout == "standard" else f"{document.stem}-{layout}"
    if record_id is None:
        return out_dir / document.lang / f"{stem}.{fmt}"
    return out_dir / record_id / f"{record_id}-{stem}-{document.lang}.{fmt}"


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
