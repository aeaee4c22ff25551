"""Variable-data PDF: a personal document as its shared shape plus the patient's values.

A document's shape (`model.split_personal`) is laid out and written by WeasyPrint once,
tagged, with a no-break space in every value cell ("slot"). Each distinct value is
drawn once, alone on a page, in its slot's style (a "snippet"). A patient's PDF is the
shape's PDF with, on each personal page, one more content stream that draws the
patient's snippets at their slots' text origins, and, in the structure tree, each
value tagged inside its table cell. Fonts are canonical: per face and size, one subset
holding a fixed palette of characters, so the bytes of a patient's PDF do not depend
on which other patients were drawn in the same pass.

This only holds while each value fits on its slot's line in the fonts of the palette;
otherwise `Stamper.stamp` returns None and the caller renders the document in full.
The benchmark checks that stamped pages rasterise like full renders.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

import pikepdf
import weasyprint
from weasyprint.formatting_structure import boxes

from .pdf import PdfWriter

# The characters a value may use: Latin-1 and Latin Extended-A, the spaces and
# punctuation Babel and typists produce. (The space is not first: it would collapse.)
PALETTE = "".join(chr(c) for c in [*range(0x21, 0x7F), 0x20, *range(0xA0, 0x180)]) + \
    "\u2009\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u202f\u20ac"
SNIPPET_CSS = ("@page { size: 2000px 200px; margin: 0 } "
               "body { margin: 0; white-space: nowrap; font-family: 'Liberation Sans' } "
               "p { margin: 0; break-after: page }")


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
    fonts: frozenset[tuple[str, float]]


@dataclass
class Template:
    data: bytes
    slots: tuple[Slot, ...]
    prologue: bytes


def pdf_number(value: float) -> bytes:
    return f"{value:f}".rstrip("0").rstrip(".").encode()


def _font_name(face: str, size: float) -> str:
    """The canonical font's resource name: face and size, the same in every file."""
    return f"/MH-{face}-{round(size * 1000)}"


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

    def template(self, rendered: weasyprint.document.Document, identity: str) -> Template:
        """Write a laid-out shape once. Its bytes are kept as WeasyPrint wrote them: the
        slots name their table cells by object number, which a re-save would change."""
        found = _slots(rendered)
        data = self.writer.write(rendered, identity)
        slots = tuple(replace(slot, cell=box.mark.number) for slot, box in found)
        with pikepdf.open(io.BytesIO(data)) as pdf:
            prologue = pdf.pages[0].Contents.read_bytes().split(b"\n", 1)[0]
        return Template(data, slots, prologue)

    def palette(self, style: Style) -> tuple[pikepdf.Pdf, float]:
        """Every palette character drawn once in the style's face and size: its font
        dictionary (subset, widths, Unicode map) is the canonical font. Also the size
        as the PDF states it, which names the font."""
        key = (style.bold, style.font_size, style.lang)
        if key not in self.palettes:
            _, data = self._draw([PALETTE], style)
            pdf = pikepdf.open(io.BytesIO(data))
            self.palettes[key] = (pdf, _palette_size(pdf))
        return self.palettes[key]

    def _draw(self, texts: list[str], style: Style
              ) -> tuple[weasyprint.document.Document, bytes]:
        """Each text alone on a page, at the page's corner: the same text in the same
        style always gives the same drawing."""
        paragraphs = "".join(f'<p style="{style.css()}">{_escape(t)}</p>' for t in texts)
        html = (f'<!DOCTYPE html><html lang="{style.lang}"><head><meta charset="utf-8">'
                f"<title>snippets</title><style>{SNIPPET_CSS}</style></head>"
                f"<body>{paragraphs}</body></html>")
        rendered = weasyprint.HTML(string=html).render(font_config=self.writer.font_config,
                                                       pdf_variant="pdf/ua-1")
        return rendered, rendered.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=b"0" * 32)

    def prepare(self, filled: Iterable[tuple[Template, tuple[str, ...]]]) -> None:
        """Draw the values of these filled templates not seen yet, one pass per style
        (widths depend on size)."""
        missing: dict[Style, list[str]] = {}
        for template, values in filled:
            for slot, text in zip(template.slots, values, strict=True):
                if (text, slot.style) not in self.snippets:
                    missing.setdefault(slot.style, [])
                    if text not in missing[slot.style]:
                        missing[slot.style].append(text)
        for style, texts in missing.items():
            rendered, data = self._draw(texts, style)
            pdf = pikepdf.open(io.BytesIO(data))
            glyphs = _palette_glyphs(self.palette(style)[0])
            if len(pdf.pages) != len(texts):
                self.snippets.update(((text, style), None) for text in texts)
                continue
            for text, page, laid_out in zip(texts, pdf.pages, rendered.pages):
                self.snippets[(text, style)] = _snippet(page, glyphs, _text_width(laid_out))

    def stamp(self, template: Template, values: tuple[str, ...]) -> bytes | None:
        """The patient's PDF, or None when a value does not fit its slot."""
        drawn = [self.snippets.get((value, slot.style)) for slot, value in
                 zip(template.slots, values, strict=True)]
        if any(s is None or s.width > slot.width for s, slot in zip(drawn, template.slots)):
            return None
        pdf = pikepdf.open(io.BytesIO(template.data))
        parent_tree = pdf.Root.StructTreeRoot.ParentTree.Nums
        overlays: dict[int, list[bytes]] = {}
        for slot, snippet in zip(template.slots, drawn):
            page = pdf.pages[slot.page]
            marks = parent_tree[2 * int(page.StructParents) + 1]
            cell = pdf.get_object((slot.cell, 0))
            mcid = len(marks)
            kid = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.StructElem, S=pikepdf.Name.Span, K=pikepdf.Array([mcid]),
                Pg=page.obj, P=cell))
            cell.K.append(kid)
            marks.append(kid)
            overlays.setdefault(slot.page, []).append(
                b"/Span <</MCID %d>> BDC\n%s1 0 0 -1 %s %s Tm\n%sEMC\n" % (
                    mcid, snippet.head, pdf_number(slot.x), pdf_number(slot.y), snippet.tail))
        for number, parts in overlays.items():
            page = pdf.pages[number]
            self._add_fonts(pdf, page, {slot.style for slot in template.slots
                                        if slot.page == number})
            opening = pikepdf.Stream(pdf, b"q\n")
            overlay = pikepdf.Stream(
                pdf, b"Q\nq\n" + template.prologue + b"\nq\n0.75 0 0 0.75 0 0 cm\n"
                + b"".join(parts) + b"Q\nQ\n")
            page.Contents = pikepdf.Array([opening, page.Contents, overlay])
        buffer = io.BytesIO()
        pdf.save(buffer, deterministic_id=True, compress_streams=True, fix_metadata_version=False)
        return buffer.getvalue()

    def _add_fonts(self, pdf: pikepdf.Pdf, page: pikepdf.Page, styles: set[Style]) -> None:
        """The canonical fonts (and graphics states) the page's snippets name."""
        resources = page.Resources
        for style in sorted(styles, key=repr):
            palette, size = self.palette(style)
            for font in palette.pages[0].Resources.Font.values():
                name = _font_name(_face(font), size)
                if name not in resources.Font:
                    resources.Font[name] = pdf.copy_foreign(font)
            for name, state in palette.pages[0].Resources.ExtGState.items():
                if name not in resources.ExtGState:
                    resources.ExtGState[name] = pdf.copy_foreign(state)


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


def _text_width(page: weasyprint.Page) -> float:
    texts = [b for b in page._page_box.descendants() if isinstance(b, boxes.TextBox)]
    return max((b.position_x + b.width for b in texts), default=0.0)


def _snippet(page: pikepdf.Page, palette: dict[str, set[int]], width: float
             ) -> Snippet | None:
    """Cut a value's drawing out of its page, or None if it needs more than the palette."""
    fonts = {str(name): _face(font) for name, font in page.Resources.Font.items()}
    head, tail, used = [], [], set()
    target = head
    face = ""
    inside = False
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "BDC":
            inside = True
            continue
        if not inside:
            continue
        if op == "EMC":
            break
        if op == "Tm":
            target = tail
            continue
        if op == "Tf":
            face = fonts[str(operands[0])]
            if face not in palette:
                return None
            used.add((face, float(operands[1])))
            operands = [pikepdf.Name(_font_name(face, float(operands[1]))), operands[1]]
        elif op == "TJ":
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
                   pikepdf.unparse_content_stream(tail) + b"\n", width, frozenset(used))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
