"""The print room's combined file: every record's PDFs in one print-ready PDF.

Each record opens with a separator sheet (id, row, ward, document and page count,
position; never the name) and each document starts on a right-hand page (blank pages
are added where needed); with `band`, a slim band on the record's first page replaces
the sheet. A bookmark per record (under its ward when sorted by ward) finds it.
Whatever records share is stored once, as variable-data printing does: a page is its
shared content streams and resources (a shape's page, split at its values, or a shared
leaflet page), recognised by their digest, with the record's own overlays (one per
value) between the shared streams. Records are written to disk in print order as they are built, in time and
memory proportional to what each adds (an in-memory PDF library slows down and grows
with every page), so the file's bytes depend on the records only, not on which worker
built what when.
"""

from __future__ import annotations

import hashlib
from array import array
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
BAND_MARGIN = 5 / 25.4 * 72  # 5 mm: most office printers cannot print nearer the edge
SEPARATOR_MARGIN = 15 / 25.4 * 72

Memo = dict[tuple[int, int], bytes]


@dataclass(frozen=True)
class _Shared:
    """What pages with the same drawing share: the content streams between their
    overlays, their resources and their size."""

    parts: tuple[bytes, ...]
    resources: bytes
    media_box: bytes


@dataclass(frozen=True)
class RecordLabel:
    """What a record's separator sheet and bookmark say: never the patient's name."""

    id: str
    row: int
    ward: str
    position: int
    total: int

    @property
    def bookmark(self) -> str:
        return f"Ligne {self.row} · {self.id}"


class CombinedPdf:
    """Writes the combined file to `stream`: `add` each record in print order, then
    `close`. Separator sheets and bands are set in the stamper's canonical bold font."""

    def __init__(self, stream: BinaryIO, stamper: Stamper, band: bool = False):
        self.band_only = band
        self.stream = stream
        self.at = 0
        self.offsets = array("Q", [0])  # by object number
        self.digest = hashlib.md5(usedforsecurity=False)
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.tree = self._reserve()
        self.shared: dict[bytes, _Shared] = {}
        self.fonts: dict[str, bytes] = {}
        # A band is drawn in the page's default space: WeasyPrint's content leaves its
        # own transformation in place, so a band page saves the state first.
        self.save, self.restore = (self._new(pdfout.stream_body(b"", op)) for op in (b"q\n",
                                                                                 b"Q\n"))
        palette, _ = stamper.palette(BAND_STYLE)
        band_font = next(iter(palette.pages[0].Resources.Font.values()))
        self.band = PlainText(band_font)
        self.fonts[BAND_FONT] = self._copy(band_font, {})
        self.kids = array("L")
        self.marks: list[tuple[str, str, int]] = []  # ward, bookmark title, first page

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
        return all(p.digest in self.shared for p in parts)

    def _learn(self, path: Path) -> tuple[PageParts, ...]:
        """Read a document's pages from its file, copying what is new: its shared
        content streams and their resources."""
        parts = []
        memo: Memo = {}
        with pikepdf.open(path) as pdf:
            for page in pdf.pages:
                contents = page.obj.Contents
                stamped = isinstance(contents, pikepdf.Array)
                shared = pikepdf.Array(contents[0::2]) if stamped else contents
                overlays = tuple(pdfout.stored_stream(o) for o in contents[1::2]) \
                    if stamped else ()
                digest = pdfout.content_digest(shared)
                if digest not in self.shared:
                    self._share(page.Resources, memo)
                    self.shared[digest] = _Shared(
                        tuple(self._copy(part, memo) for part in
                              (shared if stamped else [shared])),
                        self._resources(page.Resources, memo),
                        page.obj.MediaBox.unparse(resolved=True))
                parts.append(PageParts(digest, overlays))
        return tuple(parts)

    def _share(self, resources: pikepdf.Dictionary, memo: Memo) -> None:
        """Copy each canonical font once for the whole file: the first of each name is
        kept (a canonical name always means the same font)."""
        for name, font in resources.get("/Font", pikepdf.Dictionary()).items():
            if not name.startswith("/MH-"):
                continue
            if name not in self.fonts:
                self.fonts[name] = self._copy(font, memo)
            elif font.is_indirect:
                memo[font.objgen] = self.fonts[name]

    def _resources(self, resources: pikepdf.Dictionary, memo: Memo) -> bytes:
        """A shared page's resources, copied, plus the band font (a band may be drawn
        on any record's first page)."""
        entries = [BAND_FONT.encode() + b" " + self.fonts[BAND_FONT]]
        others = []
        for key, value in resources.items():
            if key == "/Font":
                entries += [pikepdf.Name(name).unparse() + b" " + self._copy(font, memo)
                            for name, font in value.items()]
            else:
                others.append(pikepdf.Name(key).unparse() + b" " + self._copy(value, memo))
        return self._new(b"<< /Font << %s >> %s >>" % (b" ".join(entries), b" ".join(others)))

    def _page(self, parts: PageParts, band_stream: bytes | None) -> bytes:
        """A page: its shared content streams with its own overlays between them."""
        shared = self.shared[parts.digest]
        contents = [shared.parts[0]]
        for overlay, part in zip(parts.overlays, shared.parts[1:], strict=True):
            contents += [self._new(overlay), part]
        if band_stream:
            contents = [self.save, *contents, self.restore, band_stream]
        return self._new(
            b"<< /Type /Page /Parent %s /MediaBox %s /Resources %s /Contents [ %s ] >>" % (
                self.tree, shared.media_box, shared.resources, b" ".join(contents)))

    def _blank(self) -> bytes:
        return self._new(b"<< /Type /Page /Parent %s /MediaBox [ 0 0 %s %s ] /Resources << >> >>"
                         % (self.tree, *map(pdfout.pdf_number, A4_POINTS)))

    def _right_hand(self) -> None:
        if len(self.kids) % 2:
            self.kids.append(_number(self._blank()))

    def add(self, label: RecordLabel,
            documents: list[tuple[Path, tuple[PageParts, ...] | None]]) -> tuple[int, int]:
        """Write one record, after the ones before it in print order: its separator
        sheet (or, with `band`, a band on its first page), then its PDFs, each on a
        right-hand page, from the parts of each page if known (else read from its file).
        Return the record's first and last page, 1-based."""
        self._right_hand()
        first = len(self.kids) + 1
        separator = band_stream = None
        if self.band_only:
            band_stream = self._reserve()  # written once the record's page count is known
        else:
            separator = self._reserve()
            self.kids.extend([_number(separator), _number(self._blank())])
        pages = 0
        for path, parts in documents:
            if parts is None or not self._known(parts):
                parts = self._learn(path)
            self._right_hand()
            for page in parts:
                self.kids.append(_number(self._page(page, None if pages else band_stream)))
                pages += 1
        if band_stream is not None:
            self._put(band_stream, pdfout.flate_body(self._band(label, pages)))
        else:
            self._put(separator, b"<< /Type /Page /Parent %s /MediaBox [ 0 0 %s %s ] "
                      b"/Resources << %s >> /Contents %s >>" % (
                          self.tree, *map(pdfout.pdf_number, A4_POINTS),
                          b"/Font << %s %s >>" % (BAND_FONT.encode(), self.fonts[BAND_FONT]),
                          self._new(pdfout.flate_body(self._separator(label, len(documents),
                                                                      pages)))))
        self.marks.append((label.ward, label.bookmark, first))
        return first, len(self.kids)

    def _lines(self, lines: list[tuple[bytes, float, float, float]], width: float) -> bytes:
        """Text lines (colour, x, baseline, size) in the band font, each made smaller if
        it would not fit in `width`."""
        out = []
        for (colour, x, y, size), text in lines:
            glyphs, advance = self.band.encode(text)
            size = min(size, width * 1000 / advance) if advance else size
            out.append(b"%s rg BT %s %s Tf %s %s Td %s Tj ET" % (
                colour, BAND_FONT.encode(), *map(pdfout.pdf_number, (size, x, y)), glyphs))
        return b"\n".join(out) + b"\n"

    def _separator(self, label: RecordLabel, documents: int, pages: int) -> bytes:
        """The sheet before a record: who it is for (but never the name), big enough to
        find in a stack, inside the margins every printer prints."""
        left, top = SEPARATOR_MARGIN, A4_POINTS[1] - SEPARATOR_MARGIN
        width = A4_POINTS[0] - 2 * SEPARATOR_MARGIN
        dark, black = b"0.133 0.133 0.133", b"0 0 0"
        bar = b"q %s rg %s %s %s %s re f Q\n" % (dark, *map(pdfout.pdf_number, (
            left, top - 70, width, 70)))
        lines = [
            ((b"1 1 1", left + 16, top - 48, 30.0), label.id),
            ((black, left, top - 120, 18.0), f"Ligne {label.row}"),
            ((black, left, top - 150, 18.0), f"Service : {label.ward or 'non renseigné'}"),
            ((black, left, top - 180, 18.0), f"{documents} documents · {pages} pages"),
            ((black, left, top - 210, 18.0), f"Dossier {label.position} / {label.total}"),
            ((black, left, SEPARATOR_MARGIN + 20, 11.0),
             "Feuille de séparation pour l'impression : ne pas remettre au patient."),
        ]
        return bar + self._lines(lines[:1], width - 32) + self._lines(lines[1:], width)

    def _band(self, label: RecordLabel, pages: int) -> bytes:
        """White on dark, at the top left of the record's first page, inside the 5 mm
        margin that office printers leave."""
        text = (f"{label.id} · ligne {label.row} · {label.ward or '-'} · {pages} pages · "
                f"{label.position}/{label.total}")
        width = A4_POINTS[0] - 2 * BAND_MARGIN - 2 * BAND_PADDING
        advance = self.band.encode(text)[1]
        points = min(float(BAND_STYLE.font_size) * 0.75, width * 1000 / max(advance, 1))
        bottom = A4_POINTS[1] - BAND_MARGIN - BAND_HEIGHT
        box = advance * points / 1000 + 2 * BAND_PADDING
        return b"q 0.133 0.133 0.133 rg %s %s %s %s re f Q\n" % tuple(map(
            pdfout.pdf_number, (BAND_MARGIN, bottom, box, BAND_HEIGHT))) + self._lines(
            [((b"1 1 1", BAND_MARGIN + BAND_PADDING, bottom + BAND_PADDING, points), text)],
            width)

    def _outline(self, by_ward: bool) -> bytes | None:
        """Bookmarks: one per record (row and id), under its ward when `by_ward`."""
        if not self.marks:
            return None
        root = self._reserve()
        if by_ward:
            wards: dict[str, list] = {}
            for ward, title, page in self.marks:
                wards.setdefault(ward, []).append((title, page))
            tops = [(f"Service : {ward or 'non renseigné'} ({len(items)})", items[0][1], items)
                    for ward, items in wards.items()]
        else:
            tops = [(title, page, []) for _, title, page in self.marks]
        first, last = self._items(root, tops)
        count = len(tops) + sum(len(children) for _, _, children in tops)
        self._put(root, b"<< /Type /Outlines /First %s /Last %s /Count %d >>" % (first, last, count))
        return root

    def _items(self, parent: bytes, items: list[tuple[str, int, list]]) -> tuple[bytes, bytes]:
        references = [self._reserve() for _ in items]
        for index, (title, page, children) in enumerate(items):
            entries = [b"/Title %s /Parent %s /Dest [ %d 0 R /Fit ]" % (
                _text_string(title), parent, self.kids[page - 1])]
            if index:
                entries.append(b"/Prev %s" % references[index - 1])
            if index + 1 < len(items):
                entries.append(b"/Next %s" % references[index + 1])
            if children:
                first, last = self._items(references[index],
                                          [(t, p, []) for t, p in children])
                entries.append(b"/First %s /Last %s /Count %d" % (first, last, len(children)))
            self._put(references[index], b"<< %s >>" % b" ".join(entries))
        return references[0], references[-1]

    def close(self, by_ward: bool = False) -> None:
        """Write the page tree, the bookmarks and the rest of the file."""
        self.offsets[_number(self.tree)] = self.at
        self._write(b"%d 0 obj\n<< /Type /Pages /Count %d /Kids [\n" % (_number(self.tree),
                                                                        len(self.kids)))
        for start in range(0, len(self.kids), 1000):
            self._write(b"".join(b"%d 0 R\n" % page for page in self.kids[start:start + 1000]))
        self._write(b"] >>\nendobj\n")
        outline = self._outline(by_ward)
        catalog = self._new(b"<< /Type /Catalog /Pages %s%s >>" % (
            self.tree, b" /Outlines %s /PageMode /UseOutlines" % outline if outline else b""))
        identifier = self.digest.hexdigest().encode()
        self._write(pdfout.xref_stream(enumerate(self.offsets[1:], 1), len(self.offsets), self.at,
                                b"/Root %s /ID [ <%s> <%s> ]" % (catalog, identifier, identifier),
                                whole_file=True))


def _text_string(text: str) -> bytes:
    """A PDF text string: UTF-16 with its byte order mark, as hex."""
    return b"<feff%s>" % text.encode("utf-16-be").hex().encode()


def _number(reference: bytes) -> int:
    return int(reference.split()[0])
