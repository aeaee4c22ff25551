"""Variable-data PDF: a personal document as its shared shape plus the patient's values.

A document's shape (`model.split_personal`) is laid out and written by WeasyPrint once,
tagged, with a no-break space in every value cell ("slot"). Each distinct value is
drawn once in its slot's style (a "snippet"; many values per WeasyPrint pass, a line
each). A patient's PDF is the shape's bytes plus an incremental update: each personal
page's content is split where its slots' marked content opens, and between the parts
one small stream per slot draws the patient's snippet at the slot's text origin, in
the cell's own marked content: in content order, so every viewer extracts a value
next to its label, and tagged as the shape's cell. All of the update but those
streams is the same for every patient of a shape, so it is prepared once, as bytes. Fonts are canonical: per face, size and language, one
subset holding a fixed palette of characters, so the bytes of a patient's PDF do not
depend on which other patients were drawn in the same pass.

This only holds while each value fits on its slot's line in the fonts of the palette;
otherwise `Stamper.stamp` returns None and the caller renders the document in full.
The benchmark checks that stamped pages rasterise like full renders.
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace

import pikepdf
import weasyprint
from weasyprint.formatting_structure import boxes

from ..errors import Problem, RenderError
from .pdf import PdfWriter
from .pdfout import (
    content_digest,
    flate_body,
    indirect,
    pdf_number,
    stored_stream,
    xref_stream,
)

# The characters a value may use: Latin-1 and Latin Extended-A, the spaces and
# punctuation Babel and typists produce. (The space is not first: it would collapse.)
PALETTE = "".join(chr(c) for c in [*range(0x21, 0x7F), 0x20, *range(0xA0, 0x180)]) + \
    "\u2009\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u202f\u20ac"
SNIPPET_CSS = ("@page { size: 2000px 19000px; margin: 0 } "
               "body { margin: 0; white-space: nowrap; font-family: 'Liberation Sans' } "
               "p { margin: 0 }")


@dataclass(frozen=True)
class Style:
    """What a value is drawn in; snippets are shared between slots of the same style."""

    font_size: float
    bold: bool
    color: str
    lang: str

    def css(self) -> str:
        weight = "bold" if self.bold else "normal"
        return f"font-size: {self.font_size!r}px; font-weight: {weight}; color: {self.color}"


@dataclass(frozen=True)
class Slot:
    page: int
    x: float
    y: float
    width: float
    style: Style
    cell: int


@dataclass(frozen=True)
class Snippet:
    """A value's drawing, minus its position and marked-content id."""

    head: bytes
    tail: bytes
    width: float


@dataclass(frozen=True)
class Template:
    """A shape as WeasyPrint wrote it, and the incremental update every stamped copy
    of it appends: the objects stamping changes or adds (each personal page's content
    split at its slots, canonical fonts), already as bytes, and one overlay stream per
    slot, drawn between the parts, the only part written per patient."""

    data: bytes
    slots: tuple[Slot, ...]
    overlays: tuple[tuple[int, int], ...]  # (slot, overlay object number), in content order
    update: bytes
    offsets: dict[int, int]
    xref_number: int
    trailer: bytes
    digests: tuple[bytes, ...]


@dataclass(frozen=True)
class PageParts:
    """A page of a stamped document as the print room's combined file reuses it: the
    digest of its shared content (the parts between its overlays, which identify its
    resources too), and its overlays (stream objects' bodies, in content order) if the
    page is personal."""

    digest: bytes
    overlays: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class Stamped:
    data: bytes
    pages: tuple[PageParts, ...]


def _font_name(face: str, size: float, lang: str) -> str:
    """The canonical font's resource name, the same in every file: face, size and the
    language it was drawn for (which may select other glyphs), so that one name never
    stands for two fonts in the combined print file."""
    return f"/MH-{face}-{round(size * 1000)}-{lang}"


def _slots(rendered: weasyprint.document.Document) -> list[tuple[Slot, object]]:
    """Every slot cell of a laid-out shape, in reading order, with its cell box."""
    found = []
    for number, page in enumerate(rendered.pages):
        for box in page._page_box.descendants(placeholders=True):
            if not (isinstance(box, boxes.TableCellBox) and box.element is not None
                    and "slot" in box.element.get("class", "").split()):
                continue
            text = next(b for b in box.descendants() if isinstance(b, boxes.TextBox))
            style = Style(text.style["font_size"], text.style["font_weight"] >= 600,
                          _css_color(text.style["color"]), text.style["lang"] or "")
            x, y = text.position_x, text.position_y + text.baseline
            found.append((Slot(number, x, y, box.content_box_x() + box.width - x, style, 0),
                          box))
    return found


def _css_color(color) -> str:
    red, green, blue, alpha = color.to("srgb").coordinates + (color.alpha,)
    return f"rgba({red * 255!r}, {green * 255!r}, {blue * 255!r}, {alpha!r})"


class Stamper:
    """Shapes, snippets and canonical fonts for one PDF writer; reused across patients."""

    def __init__(self, writer: PdfWriter):
        self.writer = writer
        self.snippets: dict[tuple[str, Style], Snippet | None] = {}
        self.palettes: dict[tuple[bool, float, str], tuple[pikepdf.Pdf, float]] = {}
        self.glyphs: dict[tuple[bool, float, str], dict[str, set[int]]] = {}

    def template(self, rendered: weasyprint.document.Document, identity: str) -> Template:
        """Write a laid-out shape once, then work out the update that stamps it. The
        shape's bytes are kept as WeasyPrint wrote them: the update names objects by
        number, which a re-save would change."""
        found = _slots(rendered)
        data = self.writer.write(rendered, identity)
        slots = tuple(replace(slot, cell=box.mark.number) for slot, box in found)
        with pikepdf.open(io.BytesIO(data)) as pdf:
            return self._update(pdf, data, slots)

    def _update(self, pdf: pikepdf.Pdf, data: bytes, slots: tuple[Slot, ...]) -> Template:
        """Make in `pdf` every change a stamp makes, with empty overlays, and keep the
        objects that differ from the shape's, as bytes. Each value is drawn inside its
        cell's own marked content, where the shape has a no-break space: in content
        order, so every viewer extracts it next to its label, as in a full render."""
        before = {obj.objgen: _serialised(obj) for obj in pdf.objects}
        digests = [content_digest(page.obj.Contents) for page in pdf.pages]
        overlays: list[tuple[int, int]] = []
        for number in sorted({slot.page for slot in slots}):
            page = pdf.pages[number]
            self._add_fonts(pdf, page, {slot.style for slot in slots if slot.page == number})
            on_page = [index for index, slot in enumerate(slots) if slot.page == number]
            content = page.Contents.read_bytes()
            points = _insertion_points(pdf, page, content, [slots[i] for i in on_page])
            streams, parts, start, closing = [], [], 0, b""
            for (offset, opening), index in sorted(zip(points, on_page)):
                parts.append(_flate_stream(pdf, closing + content[start:offset] + opening))
                overlay = pikepdf.Stream(pdf, b"")
                streams += [parts[-1], overlay]
                overlays.append((index, overlay.objgen[0]))
                start, closing = offset, b"Q\n"
            parts.append(_flate_stream(pdf, closing + content[start:]))
            page.Contents = pikepdf.Array([*streams, parts[-1]])
            digests[number] = content_digest(pikepdf.Array(parts))
        skip = {number for _, number in overlays}
        update, offsets = bytearray(), {}
        for obj in pdf.objects:
            number = obj.objgen[0]
            if number in skip or not isinstance(obj, (pikepdf.Dictionary, pikepdf.Array,
                                                      pikepdf.Stream)):
                continue
            body = _serialised(obj)
            if before.get(obj.objgen) != body:
                offsets[number] = len(update)
                update += indirect(number, body)
        start = int(data.rsplit(b"startxref", 1)[1].split()[0])
        trailer = b"/Root %s /Info %s /Prev %d" % (
            pdf.Root.unparse(), pdf.trailer.Info.unparse(), start)
        return Template(data, slots, tuple(overlays), bytes(update), offsets, max(obj.objgen[0] for obj in pdf.objects) + 1,
                        trailer + b" /ID [ %s" % pdf.trailer.ID[0].unparse(), tuple(digests))

    def palette(self, style: Style) -> tuple[pikepdf.Pdf, float]:
        """Every palette character drawn once in the style's face and size: its font
        dictionary (subset, widths, Unicode map) is the canonical font. Also the size
        as the PDF states it, which names the font."""
        key = (style.bold, style.font_size, style.lang)
        if key not in self.palettes:
            _, data = self._draw([(PALETTE, style)])
            pdf = pikepdf.open(io.BytesIO(data))
            self.palettes[key] = (pdf, _palette_size(pdf))
        return self.palettes[key]

    def _draw(self, items: list[tuple[str, Style]]
              ) -> tuple[weasyprint.document.Document, bytes]:
        """Each text on a line of its own, at the left edge: the same text in the same
        style always gives the same drawing (but for its position)."""
        paragraphs = "".join(f'<p lang="{style.lang}" style="{style.css()}">{_escape(text)}</p>'
                             for text, style in items)
        html = (f'<!DOCTYPE html><html lang="{items[0][1].lang}"><head><meta charset="utf-8">'
                f"<title>snippets</title><style>{SNIPPET_CSS}</style></head>"
                f"<body>{paragraphs}</body></html>")
        rendered = weasyprint.HTML(string=html).render(font_config=self.writer.font_config,
                                                       pdf_variant="pdf/ua-1")
        return rendered, rendered.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)

    def prepare(self, filled: Iterable[tuple[Template, tuple[str, ...]]]) -> None:
        """Draw the values of these filled templates not seen yet, all in one pass."""
        missing = list(dict.fromkeys(
            (text, slot.style) for template, values in filled
            for slot, text in zip(template.slots, values, strict=True)
            if (text, slot.style) not in self.snippets))
        if not missing:
            return
        rendered, data = self._draw(missing)
        pdf = pikepdf.open(io.BytesIO(data))
        drawings = [(page, operations) for page in pdf.pages
                    for operations in _marked_sequences(page)]
        widths = [width for page in rendered.pages for width in _line_widths(page)]
        if not len(drawings) == len(widths) == len(missing):
            self.snippets.update(dict.fromkeys(missing))  # rendered in full instead
            return
        for (text, style), (page, operations), width in zip(missing, drawings, widths):
            self.snippets[(text, style)] = _snippet(page, operations, self._glyphs(style),
                                                    width, style.lang)

    def _glyphs(self, style: Style) -> dict[str, set[int]]:
        """Per face, the glyphs of the style's canonical fonts."""
        key = (style.bold, style.font_size, style.lang)
        if key not in self.glyphs:
            self.glyphs[key] = _palette_glyphs(self.palette(style)[0])
        return self.glyphs[key]

    def stamp(self, template: Template, values: tuple[str, ...]) -> Stamped | None:
        """The patient's PDF, or None when a value does not fit its slot: the shape's
        bytes, its prepared update, the patient's overlays and a cross-reference."""
        drawn = [self.snippets.get((value, slot.style)) for slot, value in
                 zip(template.slots, values, strict=True)]
        if any(s is None or s.width > slot.width for s, slot in zip(drawn, template.slots)):
            return None
        base = len(template.data)
        out = bytearray(template.update)
        offsets = {number: base + at for number, at in template.offsets.items()}
        overlays: dict[int, list[bytes]] = {}
        for index, number in template.overlays:
            slot, snippet = template.slots[index], drawn[index]
            body = flate_body(snippet.head + b"1 0 0 -1 %s %s Tm\n" % (
                pdf_number(slot.x), pdf_number(slot.y)) + snippet.tail)
            overlays.setdefault(slot.page, []).append(body)
            offsets[number] = base + len(out)
            out += indirect(number, body)
        second = hashlib.md5(out, usedforsecurity=False).hexdigest().encode()
        out += xref_stream(sorted(offsets.items()), template.xref_number, base + len(out),
                           template.trailer + b" <%s> ]" % second, whole_file=False)
        pages = tuple(PageParts(digest, tuple(overlays.get(page, ())))
                      for page, digest in enumerate(template.digests))
        return Stamped(template.data + out, pages)

    def _add_fonts(self, pdf: pikepdf.Pdf, page: pikepdf.Page, styles: set[Style]) -> None:
        """Give the page the canonical fonts (and graphics states) its snippets name."""
        resources = page.Resources
        for style in sorted(styles, key=repr):
            palette, size = self.palette(style)
            for font in palette.pages[0].Resources.Font.values():
                name = _font_name(_face(font), size, style.lang)
                if name not in resources.Font:
                    resources.Font[name] = pdf.copy_foreign(font)
            for name, state in palette.pages[0].Resources.ExtGState.items():
                if name not in resources.ExtGState:
                    resources.ExtGState[name] = pdf.copy_foreign(state)


def _flate_stream(pdf: pikepdf.Pdf, data: bytes) -> pikepdf.Stream:
    return pikepdf.Stream(pdf, zlib.compress(data), Filter=pikepdf.Name.FlateDecode)


Matrix = tuple[float, float, float, float, float, float]
PX_TO_PT: Matrix = (0.75, 0.0, 0.0, 0.75, 0.0, 0.0)


def _times(m: Matrix, n: Matrix) -> Matrix:
    """The matrix product m x n, as PDF composes transformations (`m cm` on `n`)."""
    return (m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5])


def _inverse(m: Matrix) -> Matrix:
    det = m[0] * m[3] - m[1] * m[2]
    return (m[3] / det, -m[1] / det, -m[2] / det, m[0] / det,
            (m[2] * m[5] - m[3] * m[4]) / det, (m[1] * m[4] - m[0] * m[5]) / det)


def _cell_mcid(cell: pikepdf.Object) -> int | None:
    """The first marked-content id inside a structure element."""
    kids = cell.get("/K")
    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
        if isinstance(kid, int):
            return int(kid)
        if isinstance(kid, pikepdf.Dictionary):
            found = int(kid.MCID) if "/MCID" in kid else _cell_mcid(kid)
            if found is not None:
                return found
    return None


def _insertion_points(pdf: pikepdf.Pdf, page: pikepdf.Page, content: bytes,
                      slots: list[Slot]) -> list[tuple[int, bytes]]:
    """Where each slot's value is drawn in the page's content (just inside its cell's
    marked content), and what opens its drawing there: a saved graphics state and the
    transformation that brings the coordinates back to the page's own (CSS pixels,
    y downwards), in which slots are measured."""
    wanted = {}
    for slot in slots:
        mcid = _cell_mcid(pdf.get_object((slot.cell, 0)))
        at = content.find(b"<</MCID %d>>\nBDC\n" % mcid) if mcid is not None else -1
        if at < 0:
            raise RenderError(Problem("layouts", "a value cell has no marked content",
                                      "personal values must be in table cells"))
        wanted[mcid] = at + len(b"<</MCID %d>>\nBDC\n" % mcid)
    identity: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    flip = tuple(map(float, content.split(b"\n", 1)[0].split()[:6]))  # WeasyPrint's first cm
    page_space = _times(PX_TO_PT, flip)
    stack, ctm = [], identity
    found: dict[int, Matrix] = {}
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop()
        elif op == "cm":
            ctm = _times(tuple(map(float, operands)), ctm)
        elif op == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and \
                int(operands[1].get("/MCID", -1)) in wanted:
            found[int(operands[1].MCID)] = ctm
    points = []
    for slot in slots:
        mcid = _cell_mcid(pdf.get_object((slot.cell, 0)))
        change = _times(page_space, _inverse(found[mcid]))
        opening = b"q\n"
        if any(abs(a - b) > 1e-9 for a, b in zip(change, identity)):
            opening += b" ".join(pdf_number(round(v, 6)) for v in change) + b" cm\n"
        points.append((wanted[mcid], opening))
    return points


def _serialised(obj: pikepdf.Object) -> bytes:
    """An indirect object's body as it would be written, references as references."""
    if isinstance(obj, pikepdf.Stream):
        return stored_stream(obj)
    return obj.unparse(resolved=True)


def _palette_size(palette: pikepdf.Pdf) -> float:
    for operands, operator in pikepdf.parse_content_stream(palette.pages[0]):
        if operator == pikepdf.Operator("Tf"):
            return float(operands[1])
    raise ValueError("palette page without text")


class PlainText:
    """Text set without layout in a canonical font: glyph by glyph, no kerning. For the
    print room's bands, where speed matters and nothing needs to match a render."""

    def __init__(self, font: pikepdf.Object):
        self.font = font
        unicode_map = font.ToUnicode.read_bytes().decode("ascii")
        self.glyphs = {chr(int(text, 16)): int(glyph, 16) for glyph, text in
                       re.findall(r"<([0-9a-f]{4})> <([0-9a-f]{4})>", unicode_map)}
        self.widths = _w_widths(list(font.DescendantFonts[0].W))

    def encode(self, text: str) -> tuple[bytes, float]:
        """The glyph string (hex) and its width in thousandths of the font size;
        characters outside the palette are dropped."""
        glyphs = [self.glyphs[c] for c in text if c in self.glyphs]
        return (b"<" + b"".join(b"%04x" % g for g in glyphs) + b">",
                sum(self.widths.get(g, 0) for g in glyphs))


def _face(font: pikepdf.Object) -> str:
    return str(font.BaseFont).split("+")[-1]


def _palette_glyphs(palette: pikepdf.Pdf) -> dict[str, set[int]]:
    """Per face, the glyphs the canonical font has widths for."""
    return {_face(font): set(_w_widths(list(font.DescendantFonts[0].W)))
            for font in palette.pages[0].Resources.Font.values()}


def _w_widths(w: list) -> dict[int, float]:
    """The glyph widths a PDF /W array gives (`first [w...]` or `first last w` runs)."""
    widths: dict[int, float] = {}
    index = 0
    while index < len(w):
        first, second = int(w[index]), w[index + 1]
        if isinstance(second, pikepdf.Array):
            widths.update((first + i, float(width)) for i, width in enumerate(second))
            index += 2
        else:
            widths.update((glyph, float(w[index + 2]))
                          for glyph in range(first, int(second) + 1))
            index += 3
    return widths


def _line_widths(page: weasyprint.Page) -> list[float]:
    """How far each paragraph's line reaches, in order."""
    return [max((b.position_x + b.width for b in paragraph.descendants()
                 if isinstance(b, boxes.TextBox)), default=0.0)
            for paragraph in page._page_box.descendants()
            if isinstance(paragraph, boxes.BlockBox) and paragraph.element_tag == "p"]


def _marked_sequences(page: pikepdf.Page) -> list[list[tuple[list, pikepdf.Operator]]]:
    """The operations inside each marked-content sequence of a page, in order, each
    opening with the graphics state (alpha, colour) its drawing starts in: WeasyPrint
    sets it only when it changes, so a text drawn after another may not set it."""
    sequences: list[list] = []
    state: dict[str, tuple[list, pikepdf.Operator]] = {}
    current = None
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "BDC":
            current = []
            sequences.append(current)
        elif op == "EMC":
            current = None
        elif op in ("gs", "rg") and not current:
            state[op] = (operands, operator)
        elif current is not None:
            if not current:
                current.extend(state[name] for name in ("gs", "rg") if name in state)
            current.append((operands, operator))
    return sequences


def _snippet(page: pikepdf.Page, operations: list[tuple[list, pikepdf.Operator]],
             palette: dict[str, set[int]], width: float, lang: str) -> Snippet | None:
    """A value's drawing without its position, or None if it needs more than the
    palette (or draws more than text)."""
    fonts = {str(name): _face(font) for name, font in page.Resources.Font.items()}
    head, tail = [], []
    target = head
    face = ""
    for operands, operator in operations:
        op = str(operator)
        if op == "Tm":
            target = tail
            continue
        if op == "Tf":
            face = fonts[str(operands[0])]
            if face not in palette:
                return None
            operands = [pikepdf.Name(_font_name(face, float(operands[1]), lang)), operands[1]]
        elif op == "TJ":
            if not face:
                return None
            for item in operands[0]:
                if isinstance(item, pikepdf.String):
                    raw = bytes(item)
                    glyphs = {int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)}
                    if not glyphs <= palette[face]:
                        return None
        elif op not in ("gs", "rg", "BT", "ET"):
            return None
        target.append((operands, operator))
    return Snippet(pikepdf.unparse_content_stream(head) + b"\n",
                   pikepdf.unparse_content_stream(tail) + b"\n", width)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
