"""Writing PDF objects as bytes, for the two places that must not go through an
in-memory PDF library: a stamped document (the shape's bytes plus an incremental
update) and the print room's combined file (streamed to disk, record by record).
Both must take time and memory proportional to what they add, not to the file.
"""

from __future__ import annotations

import hashlib
import itertools
import zlib
from collections.abc import Callable, Iterable
from decimal import Decimal

import pikepdf


def pdf_number(value: float) -> bytes:
    return f"{value:f}".rstrip("0").rstrip(".").encode()


def indirect(number: int, body: bytes) -> bytes:
    return b"%d 0 obj\n%s\nendobj\n" % (number, body)


def stream_body(dictionary: bytes, raw: bytes) -> bytes:
    """A stream object's body; `dictionary` is its dictionary's entries without /Length."""
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(raw), raw)


def flate_body(data: bytes, dictionary: bytes = b"") -> bytes:
    return stream_body(dictionary + b" /Filter /FlateDecode", zlib.compress(data))


def content_digest(contents: pikepdf.Object) -> bytes:
    """What identifies a page's drawing: its content streams' bytes, as stored."""
    streams = contents if isinstance(contents, pikepdf.Array) else [contents]
    return hashlib.sha256(b"".join(s.read_raw_bytes() for s in streams)).digest()


def scalar(value: object) -> bytes:
    """A PDF scalar as pikepdf hands it over (Python types for numbers and booleans)."""
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, (float, Decimal)):
        return pdf_number(float(value))
    if value is None:
        return b"null"
    return value.unparse()


def stored_stream(stream: pikepdf.Stream,
                  reference: Callable[[object], bytes] = scalar) -> bytes:
    """A stream object's body as stored (still compressed), with `reference(value)`
    for each value of its dictionary."""
    entries = b" ".join(pikepdf.Name(key).unparse() + b" " + reference(value)
                        for key, value in stream.stream_dict.items() if key != "/Length")
    return stream_body(entries, stream.read_raw_bytes())


def xref_stream(offsets: Iterable[tuple[int, int]], number: int, at: int, trailer: bytes,
                whole_file: bool) -> bytes:
    """A cross-reference stream (object `number`, written at offset `at`) for `offsets`
    ((object number, offset) pairs, in ascending order), plus startxref. `trailer` holds
    /Root, /Info, /ID and, for an incremental update, /Prev; a whole file also lists the
    free object 0."""
    index: list[list[int]] = [[0, 1]] if whole_file else []
    data = bytearray(b"\x00\x00\x00\x00\x00\xff\xff" if whole_file else b"")
    for n, offset in itertools.chain(offsets, [(number, at)]):
        if index and index[-1][0] + index[-1][1] == n:
            index[-1][1] += 1
        else:
            index.append([n, 1])
        data += b"\x01" + offset.to_bytes(4, "big") + b"\x00\x00"
    runs = b" ".join(b"%d %d" % (first, count) for first, count in index)
    dictionary = b"/Type /XRef /Size %d /Index [ %s ] /W [ 1 4 2 ] %s" % (
        number + 1, runs, trailer)
    return indirect(number, flate_body(bytes(data), dictionary)) + \
        b"startxref\n%d\n%%%%EOF\n" % at
