"""The print room's combined file: every record's PDFs in one print-ready PDF.

Each document starts on a right-hand page (blank pages are added where needed) and a
record's first page carries a slim band (id, row, pages, position; never the name).
Whatever records share is stored once, as form XObjects, as variable-data printing
does: a page is drawn as its shared part (a shape's page or a shared leaflet page),
recognised by its digest, plus the record's own overlay, which names only canonical
fonts. Records are written to disk as they are built, in any order, in time and
memory proportional to what each adds (an in-memory PDF library slows down and grows
with every page); the page tree, written last, puts them in print order.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pikepdf

from ..render import pdfout
from ..render.stamp import PageParts, PlainText, Stamper, Style

A4_POINTS = (595.276, 841.89)
BAND_STYLE = Style(12.0, True, "#fff", "fr")
BAND_FONT = "/MH-band"
BAND_HEIGHT, BAND_PADDING = 22.0, 7.0

Memo = dict[tuple[int, int], bytes]


@dataclass(frozen=True)
class _Form:
    """A shared drawing: its resource name, and the stream that draws it."""

    name: bytes
    reference: bytes
    draw: bytes
    media_box: bytes


class CombinedPdf:
    """Writes the combined file to `stream`: `add` each record, then `close` with the
    print order. The bands are set in the stamper's canonical bold font."""

    def __init__(self, stream: BinaryIO, stamper: Stamper):
        self.stream = stream
        self.at = 0
        self.offsets = array("Q", [0])  # by object number
        self.digest = hashlib.md5(usedforsecurity=False)
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.tree = self._reserve()
        self.font_dictionary, self.state_dictionary = self._reserve(), self._reserve()
        self.resources = b"/Font %s /ExtGState %s" % (self.font_dictionary,
                                                      self.state_dictionary)
        self.forms: dict[bytes, _Form] = {}
        self.fonts: dict[str, bytes] = {}
        self.states: dict[str, bytes] = {}
        self.closing = self._new(pdfout.stream_body(b"", b"Q\n"))
        palette, _ = stamper.palette(BAND_STYLE)
        band_font = next(iter(palette.pages[0].Resources.Font.values()))
        self.band = PlainText(band_font)
        self.fonts[BAND_FONT] = self._copy(band_font, {})
        self.records: dict[Hashable, array] = {}

    def _reserve(self) -> bytes:
        self.offsets.append(0)
        return b"%d 0 R" % (len(self.offsets) - 1)

    def _write(self, data: bytes) -> None:
        self.stream.write(data)
        self.digest.update(data)
        self.at += len(data)

    def _put(self, reference: bytes, body: bytes) -> bytes:
        self.offsets[_number(reference)] = self.at
        self._write(pdfout.indirect(_number(reference), body))
        return reference

    def _new(self, body: bytes) -> bytes:
        return self._put(self._reserve(), body)

    def _copy(self, obj: object, memo: Memo) -> bytes:
        """An object of another PDF, written here (once per `memo`, which maps that
        PDF's objects to references here); a reference, or the direct object."""
        if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
            return pdfout.scalar(obj)
        if not obj.is_indirect:
            return self._body(obj, memo)
        if obj.objgen not in memo:
            memo[obj.objgen] = self._reserve()
            self._put(memo[obj.objgen], self._body(obj, memo))
        return memo[obj.objgen]

    def _body(self, obj: pikepdf.Object, memo: Memo) -> bytes:
        if isinstance(obj, pikepdf.Stream):
            return pdfout.stored_stream(obj, lambda value: self._copy(value, memo))
        if isinstance(obj, pikepdf.Array):
            return b"[ %s ]" % b" ".join(self._copy(item, memo) for item in obj)
        return b"<< %s >>" % b" ".join(pikepdf.Name(key).unparse() + b" " + self._copy(value, memo)
                                       for key, value in obj.items())

    def _known(self, parts: tuple[PageParts, ...]) -> bool:
        return all(p.digest in self.forms and all(n in self.fonts or n in self.states
                                                   for n in p.names) for p in parts)

    def _learn(self, path: Path) -> tuple[PageParts, ...]:
        """Read a document's pages from its file, copying what is new: its shared
        drawings as forms, and the canonical fonts its overlays name."""
        parts = []
        memo: Memo = {}
        with pikepdf.open(path) as pdf:
            for page in pdf.pages:
                contents = page.obj.Contents
                stamped = isinstance(contents, pikepdf.Array) and len(contents) == 3
                shared = contents[1] if stamped else contents
                overlay, names = None, []
                if stamped:
                    overlay = pdfout.stored_stream(contents[2])
                    names = self._share(page.Resources, memo)
                digest = pdfout.content_digest(shared)
                if digest not in self.forms:
                    page.obj.Contents = shared
                    self._form(digest, page, memo)
                parts.append(PageParts(digest, overlay, tuple(names)))
        return tuple(parts)

    def _share(self, resources: pikepdf.Dictionary, memo: Memo) -> list[str]:
        """Take an overlay's canonical fonts and graphics states into the shared
        resources (the first of each name is kept); return their names."""
        names = []
        for group, shared in (("/Font", self.fonts), ("/ExtGState", self.states)):
            for name, value in resources.get(group, pikepdf.Dictionary()).items():
                if group == "/Font" and not name.startswith("/MH-"):
                    continue
                names.append(name)
                if name not in shared:
                    shared[name] = self._copy(value, memo)
                elif value.is_indirect:
                    memo[value.objgen] = shared[name]
        return names

    def _form(self, digest: bytes, page: pikepdf.Page, memo: Memo) -> None:
        name = b"/S%d" % len(self.forms)
        self.forms[digest] = _Form(
            name, self._copy(page.as_form_xobject(), memo),
            self._new(pdfout.stream_body(b"", b"q\n%s Do\n" % name)),
            page.obj.MediaBox.unparse(resolved=True))

    def _page(self, parts: PageParts, band_stream: bytes | None) -> bytes:
        form = self.forms[parts.digest]
        contents = [form.draw, self._new(parts.overlay) if parts.overlay else self.closing]
        if band_stream:
            contents.append(band_stream)
        return self._new(
            b"<< /Type /Page /Parent %s /MediaBox %s /Resources << /XObject << %s %s >> %s >> "
            b"/Contents [ %s ] >>" % (self.tree, form.media_box, form.name, form.reference,
                                      self.resources, b" ".join(contents)))

    def _blank(self) -> bytes:
        return self._new(b"<< /Type /Page /Parent %s /MediaBox [ 0 0 %s %s ] /Resources << >> >>"
                         % (self.tree, *map(pdfout.pdf_number, A4_POINTS)))

    def add(self, key: Hashable, documents: list[tuple[Path, tuple[PageParts, ...] | None]],
            band: Callable[[int], str]) -> None:
        """Write one record's PDFs: the parts of each page if known (else read from its
        file). `band` gives the band's text from the record's page count."""
        band_stream = self._reserve()  # written once the record's page count is known
        pages: list[bytes] = []
        for path, parts in documents:
            if parts is None or not self._known(parts):
                parts = self._learn(path)
            if len(pages) % 2:
                pages.append(self._blank())
            for page in parts:
                pages.append(self._page(page, None if pages else band_stream))
        self._put(band_stream, pdfout.flate_body(self._band(band(len(pages)))))
        self.records[key] = array("L", map(_number, pages))

    def _band(self, text: str) -> bytes:
        """White on dark, top left, in the band font."""
        glyphs, width = self.band.encode(text)
        points = float(BAND_STYLE.font_size) * 0.75
        bottom = A4_POINTS[1] - BAND_HEIGHT
        box = width * points / 1000 + 2 * BAND_PADDING
        numbers = [pdfout.pdf_number(value) for value in (
            bottom, box, BAND_HEIGHT, points, BAND_PADDING, bottom + BAND_PADDING)]
        return (b"q 0.133 0.133 0.133 rg 0 %s %s %s re f 1 1 1 rg BT %s %s Tf %s %s Td %s Tj "
                b"ET Q\n") % (*numbers[:3], BAND_FONT.encode(), *numbers[3:], glyphs)

    def close(self, order: list[Hashable]) -> dict[Hashable, list[int]]:
        """Write the page tree in `order` (each record on a right-hand page) and the
        rest of the file; return each record's [first, last] page."""
        kids = array("L")
        ranges = {}
        for key in order:
            pages = self.records.pop(key, None)
            if pages is None:
                continue
            if len(kids) % 2:
                kids.append(_number(self._blank()))
            ranges[key] = [len(kids) + 1, len(kids) + len(pages)]
            kids.extend(pages)
        self.offsets[_number(self.tree)] = self.at
        self._write(b"%d 0 obj\n<< /Type /Pages /Count %d /Kids [\n" % (_number(self.tree),
                                                                        len(kids)))
        for start in range(0, len(kids), 1000):
            self._write(b"".join(b"%d 0 R\n" % page for page in kids[start:start + 1000]))
        self._write(b"] >>\nendobj\n")
        for reference, entries in ((self.font_dictionary, self.fonts),
                                   (self.state_dictionary, self.states)):
            self._put(reference, b"<< %s >>" % b" ".join(
                pikepdf.Name(name).unparse() + b" " + value for name, value in entries.items()))
        catalog = self._new(b"<< /Type /Catalog /Pages %s >>" % self.tree)
        identifier = self.digest.hexdigest().encode()
        self._write(pdfout.xref_stream(enumerate(self.offsets[1:], 1), len(self.offsets), self.at,
                                b"/Root %s /ID [ <%s> <%s> ]" % (catalog, identifier, identifier),
                                whole_file=True))
        return ranges


def _number(reference: bytes) -> int:
    return int(reference.split()[0])
