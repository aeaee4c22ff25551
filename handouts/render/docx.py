"""DOCX writer: the document model -> a Word file with python-docx.

Headings use Word's built-in Heading styles (title = Heading 1, sections = Heading 2,
sub-headings = Heading 3), lists use "List Bullet", boxes are one-cell shaded tables.
What python-docx has no API for (fields, shading, language, table header rows) is set
with small XML helpers. Style values come from `layouts/docx.yaml`.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import docx
import yaml
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from ..localise import language_tag
from ..model import (
    Block,
    Box,
    BulletList,
    Columns,
    Document,
    FactTable,
    Paragraph,
    Run,
    Subsection,
    Table,
)
from .pdf import LAYOUTS_DIR

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
ARIAL_LINE_HEIGHT = 1.117
TWIPS_PER_MM = 1440 / 25.4
CARD_MM = (85.6, 54)
CROP_MARK_MM = 4
CARD_GAP_MM = 2
CARD_PADDING_MM = 3
FOOTER_FROM_EDGE_MM = 8
_MAIN_PART = "word/document.xml"


@dataclass(frozen=True)
class DocxStyle:
    """The settings of `layouts/docx.yaml` for one document kind and layout."""

    font: str
    heading_colors: dict[int, str]
    boxes: dict
    table_header_fill: str
    sizes: dict

    @classmethod
    def load(cls, kind: str, layout: str = "standard", layouts_dir: Path = LAYOUTS_DIR
             ) -> DocxStyle:
        settings = yaml.safe_load((layouts_dir / "docx.yaml").read_text(encoding="utf-8"))
        sizes = dict(settings["kinds"][kind])
        sizes.update(settings["layouts"].get(layout, {}).get(kind, {}))
        colors = {**settings["heading_colors"], **sizes.pop("colors", {})}
        return cls(settings["font"], colors, settings["boxes"],
                   settings["table_header_fill"], sizes)

    @property
    def line_spacing(self) -> float:
        """Word's line spacing multiple for the CSS line-height: Word's single spacing
        is already the font's natural line height (1.117 em for Arial)."""
        return round(self.sizes["line_height"] / ARIAL_LINE_HEIGHT, 3)


# The order WordprocessingML requires for the children of table, row and cell
# properties (Word refuses a file whose properties are out of order).
_PROPERTY_ORDER = {
    "tblPr": ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize",
              "tblStyleColBandSize", "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders",
              "shd", "tblLayout", "tblCellMar", "tblLook"),
    "trPr": ("cnfStyle", "divId", "gridBefore", "gridAfter", "wBefore", "wAfter",
             "cantSplit", "trHeight", "tblHeader", "tblCellSpacing", "jc", "hidden"),
    "tcPr": ("cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd",
             "noWrap", "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark"),
}


def _set_property(properties, element) -> None:
    """Put `element` into table, row or cell properties, replacing one of the same
    name, at its place in the schema's order."""
    order = _PROPERTY_ORDER[properties.tag.split("}")[1]]
    name = element.tag.split("}")[1]
    for old in properties.findall(element.tag):
        properties.remove(old)
    later = [child for child in properties
             if child.tag.split("}")[1] in order[order.index(name) + 1:]]
    if later:
        later[0].addprevious(element)
    else:
        properties.append(element)


def _set_shading(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    _set_property(cell._tc.get_or_add_tcPr(), shading)


def _set_borders(cell, color: str, size_eighths: int,
                 sides: tuple[str, ...] = ("top", "left", "bottom", "right"),
                 overrides: dict[str, tuple[str, int]] | None = None) -> None:
    """Borders on some sides of a cell (the others none); `overrides` gives a side
    another colour and width (the card's red band)."""
    borders = OxmlElement("w:tcBorders")
    for side in ("top", "left", "bottom", "right"):
        border = OxmlElement(f"w:{side}")
        color_of_side, size = (overrides or {}).get(side, (color, size_eighths))
        border.set(qn("w:val"), "single" if side in sides else "nil")
        if side in sides:
            border.set(qn("w:sz"), str(size))
            border.set(qn("w:space"), "0")
            border.set(qn("w:color"), color_of_side)
        borders.append(border)
    _set_property(cell._tc.get_or_add_tcPr(), borders)


def _margins(tag: str, top_mm: float, right_mm: float, bottom_mm: float, left_mm: float):
    """A cell padding element (`w:tcMar` for a cell, `w:tblCellMar` for a table's
    default), as the CSS padding of what it stands for."""
    margins = OxmlElement(tag)
    for side, value in (("top", top_mm), ("left", left_mm), ("bottom", bottom_mm),
                        ("right", right_mm)):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(round(value * TWIPS_PER_MM)))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    return margins


def _set_cell_margins(cell, top_mm: float, right_mm: float, bottom_mm: float,
                      left_mm: float) -> None:
    _set_property(cell._tc.get_or_add_tcPr(),
                  _margins("w:tcMar", top_mm, right_mm, bottom_mm, left_mm))


def _set_widths(table, widths_mm: list[float]) -> None:
    """Column widths: the table's, its grid's and every cell's."""
    table.autofit = False
    width = OxmlElement("w:tblW")
    width.set(qn("w:w"), str(round(sum(widths_mm) * TWIPS_PER_MM)))
    width.set(qn("w:type"), "dxa")
    _set_property(table._tbl.tblPr, width)
    for column, width_mm in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_mm,
                                strict=True):
        column.set(qn("w:w"), str(round(width_mm * TWIPS_PER_MM)))
    for row in table.rows:
        for cell, width_mm in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width_mm)


def _fixed_table(table, widths_mm: list[float]) -> None:
    """Column widths that office software keeps as given: a fixed layout (`autofit`
    off), the grid and every cell set, no indent and no default cell padding."""
    _set_widths(table, widths_mm)
    indent = OxmlElement("w:tblInd")
    indent.set(qn("w:w"), "0")
    indent.set(qn("w:type"), "dxa")
    _set_property(table._tbl.tblPr, indent)
    _set_property(table._tbl.tblPr, _margins("w:tblCellMar", 0, 0, 0, 0))


def _set_row_height(row, height_mm: float, rule: str = "exact") -> None:
    height = OxmlElement("w:trHeight")
    height.set(qn("w:val"), str(round(height_mm * TWIPS_PER_MM)))
    height.set(qn("w:hRule"), rule)
    _set_property(row._tr.get_or_add_trPr(), height)


def _keep_row_on_one_page(row) -> None:
    """A box (a one-row table) never breaks across pages, as `break-inside: avoid`."""
    _set_property(row._tr.get_or_add_trPr(), OxmlElement("w:cantSplit"))


def _mark_header_row(row) -> None:
    """Repeat the row on each page and tell screen readers it is a header."""
    header = OxmlElement("w:tblHeader")
    _set_property(row._tr.get_or_add_trPr(), header)


def _add_field(paragraph, instruction: str, size: float) -> None:
    """A Word field (PAGE, NUMPAGES): computed by Word when the file is shown."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"),
                       ("end", None)):
        run = paragraph.add_run()
        run.font.size = Pt(size)
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == instruction:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {instruction} "
            run._r.append(instr)
        else:
            run.text = text


def _set_language(document, tag: str) -> None:
    """Document language (w:lang) on the default run properties, so spell-checkers and
    screen readers use the right language."""
    styles = document.styles.element
    rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for old in rpr_default.findall(qn("w:lang")):
        rpr_default.remove(old)
    lang = OxmlElement("w:lang")
    for attribute in ("w:val", "w:eastAsia", "w:bidi"):
        lang.set(qn(attribute), tag)
    rpr_default.append(lang)


def zip_entries(entries: list[tuple[str, bytes]], base: bytes = b"") -> bytes:
    """Entries at a fixed date and mode, appended to the zip `base` if given."""
    buffer = io.BytesIO(base)
    with zipfile.ZipFile(buffer, "a" if base else "w", zipfile.ZIP_DEFLATED) as target:
        for name, part in entries:
            entry = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, part)
    return buffer.getvalue()


def _deterministic_zip(data: bytes) -> bytes:
    """python-docx stamps the current time on every zip entry: fix it, keep the order,
    but put the main document part last, so a template can be filled by appending it
    (`DocxTemplate`)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = [i.filename for i in source.infolist() if i.filename != _MAIN_PART]
    return zip_entries([(name, source.read(name)) for name in [*names, _MAIN_PART]])


def slot_marker(index: int) -> str:
    """A stand-in for a personal value that no text contains (private-use characters)."""
    return f"\ue000{index}\ue001"


def fillable(value: str) -> bool:
    """Whether a value is written as one plain text run, so that putting it in place of
    its marker gives the bytes python-docx itself would write."""
    return (value == value.strip() and value != ""
            and all(ord(c) >= 0x20 and c not in "\ue000\ue001" for c in value))


class DocxTemplate:
    """A DOCX written with `slot_marker(i)` for each personal value: every part but the
    main one is zipped once; a patient's file appends the filled main part."""

    def __init__(self, data: bytes):
        source = zipfile.ZipFile(io.BytesIO(data))
        self.main = source.read(_MAIN_PART)
        self.base = zip_entries([(i.filename, source.read(i.filename)) for i in source.infolist()
                          if i.filename != _MAIN_PART])

    def fill(self, values: tuple[str, ...]) -> bytes:
        part = self.main
        for index, value in enumerate(values):
            part = part.replace(slot_marker(index).encode(), xml_escape(value).encode(), 1)
        return zip_entries([(_MAIN_PART, part)], self.base)


class DocxWriter:
    """Writes one document; a new writer per document (python-docx objects are mutable)."""

    def __init__(self, document: Document, author: str, layout: str = "standard",
                 layouts_dir: Path = LAYOUTS_DIR):
        self.model = document
        self.author = author
        self.style = DocxStyle.load(document.kind, layout, layouts_dir)
        self.doc = docx.Document()
        # Style ids looked up once: python-docx searches every style on each lookup.
        self.style_ids = {name: self.doc.styles[name].style_id for name in
                          ("List Bullet", "Table Grid",
                           *(f"Heading {level}" for level in range(1, 5)))}

    def build(self) -> bytes:
        self.setup()
        model = self.model
        if model.kind == "card":
            self.card()
        else:
            self.heading(model.title, 1)
            if model.subtitle:
                self.paragraph_text(model.subtitle, size=self.style.sizes["heading3"])
            body = self.doc.element.body
            page_starts = []  # where each page after a front page starts (before sectPr)
            for page in model.front:
                self.blocks(page.blocks, 2, self.doc)
                page_starts.append(len(body) - 1)
            for section in model.sections:
                self.heading(section.heading, 2)
                self.blocks(section.blocks, 3, self.doc)
            for start in reversed(page_starts):
                self.new_page_at(body[start])
            self.blocks(model.body, 2, self.doc, lead=True)
        self.properties()
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return _deterministic_zip(buffer.getvalue())

    def new_page_at(self, element) -> None:
        """Start a page at a body element: a paragraph breaks before itself, so a front
        page that fills its page is not followed by an empty one (as a break paragraph
        after it would be in LibreOffice and Word); before a table, a break paragraph."""
        if element.tag == qn("w:p"):
            element.get_or_add_pPr().pageBreakBefore_val = True
        else:
            breaker = self.doc.add_paragraph()
            breaker.add_run().add_break(WD_BREAK.PAGE)
            element.addprevious(breaker._p)

    def setup(self) -> None:
        sizes, doc = self.style.sizes, self.doc
        section = doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        top, right, bottom, left = sizes["margins_mm"]
        section.top_margin, section.right_margin = Mm(top), Mm(right)
        section.bottom_margin, section.left_margin = Mm(bottom), Mm(left)
        section.footer_distance = Mm(FOOTER_FROM_EDGE_MM)
        normal = doc.styles["Normal"]
        normal.font.name = self.style.font
        normal.font.size = Pt(sizes["body"])
        normal.element.rPr.rFonts.set(qn("w:eastAsia"), self.style.font)
        normal.paragraph_format.space_after = Pt(sizes["body"] * 0.4)
        normal.paragraph_format.line_spacing = self.style.line_spacing
        for level, key in ((1, "title"), (2, "heading2"), (3, "heading3"), (4, "heading4")):
            heading = doc.styles[f"Heading {level}"]
            heading.font.name = self.style.font
            heading.font.size = Pt(sizes[key])
            heading.font.bold = True
            heading.font.italic = False
            heading.font.color.rgb = RGBColor.from_string(self.style.heading_colors[level])
            heading.paragraph_format.space_before = Pt(0 if level == 1 or self.model.kind == "card"
                                                       else sizes[key] * 0.6)
            heading.paragraph_format.space_after = Pt(sizes[key] * 0.2)
            heading.paragraph_format.line_spacing = 1.0
            heading.paragraph_format.keep_with_next = True
            heading.element.rPr.rFonts.set(qn("w:asciiTheme"), "")
            for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                heading.element.rPr.rFonts.attrib.pop(qn(attribute), None)
        doc.styles["List Bullet"].font.size = Pt(sizes["body"])
        doc.styles["List Bullet"].paragraph_format.space_after = Pt(sizes["body"] * 0.15)
        _set_language(doc, language_tag(self.model.lang))
        footer = section.footer.paragraphs[0]
        footer.paragraph_format.line_spacing = 1.0
        run = footer.add_run(f"{self.model.footer} · {self.model.labels['page']} ")
        run.font.size = Pt(sizes["footer"])
        for instruction, text in (("PAGE", " / "), ("NUMPAGES", "")):
            _add_field(footer, instruction, sizes["footer"])
            if text:
                footer.add_run(text).font.size = Pt(sizes["footer"])

    def card(self) -> None:
        """The wallet card: front and back at 85.6 x 54 mm, side by side, with crop
        marks at their corners (the borders of the cells around them) and the front's
        red band, as card.css draws them."""
        model, labels = self.model, self.model.labels
        self.heading(labels["card_front"], 1)
        self.paragraph_text(labels["card_cut"], size=12)
        card_width, card_height = CARD_MM
        mark, gap = CROP_MARK_MM, CARD_GAP_MM
        table = self.doc.add_table(rows=3, cols=7)
        _fixed_table(table, [mark, card_width, mark, gap, mark, card_width, mark])
        for row, height in zip(table.rows, (mark, card_height, mark), strict=True):
            _set_row_height(row, height)
        band = self.style.boxes["warning"]["title"]
        for column in (1, 5):
            _set_borders(table.cell(0, column), "000000", 2, ("left", "right"))
            _set_borders(table.cell(2, column), "000000", 2, ("left", "right"))
            _set_borders(table.cell(1, column - 1), "000000", 2, ("top", "bottom"))
            _set_borders(table.cell(1, column + 1), "000000", 2, ("top", "bottom"))
            _set_borders(table.cell(1, column), "BBBBBB", 2,
                         overrides={"top": (band, 45)} if column == 1 else None)
            _set_cell_margins(table.cell(1, column), 1.5, CARD_PADDING_MM, 1, CARD_PADDING_MM)
        for cell in table._cells:
            cell.paragraphs[0].paragraph_format.space_after = Pt(0)
            cell.paragraphs[0].paragraph_format.line_spacing = Pt(1)
        front, back = table.cell(1, 1), table.cell(1, 5)
        for cell in (front, back):
            cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
        for page in model.front:
            self.blocks(page.blocks, 2, front)
        inside = card_width - 2 * CARD_PADDING_MM
        for facts in front.tables:  # labels 34 %, as card.css
            _set_widths(facts, [inside * 0.34, inside * 0.66])
        self.heading(labels["card_back"], 2, back)
        self.blocks(model.body, 3, back)
        for cell in (front, back):
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.line_spacing = self.style.line_spacing

    def properties(self) -> None:
        """Core properties: title and subject stay generic; dates are the revision date."""
        props = self.doc.core_properties
        revised = dt.datetime.fromisoformat(self.model.revised).replace(tzinfo=dt.UTC)
        props.title = self.model.title
        props.subject = self.model.subtitle or self.model.title
        props.author = self.author
        props.last_modified_by = self.author
        props.language = self.model.lang
        props.identifier = self.model.doc_id
        props.version = self.model.version
        props.keywords = "baclofen"
        props.comments = ""
        props.category = self.model.kind
        props.content_status = ""
        props.revision = 1
        props.created = revised
        props.modified = revised
        props.last_printed = revised

    def styled(self, container, style: str):
        """A new paragraph in `style`, set by id (python-docx's by-name path is slow)."""
        paragraph = container.add_paragraph()
        paragraph._p.style = self.style_ids[style]
        return paragraph

    def heading(self, text: str, level: int, container=None) -> None:
        target = container or self.doc
        self.styled(target, f"Heading {min(level, 4)}").add_run(text)

    def paragraph_text(self, text: str, size: float | None = None, container=None,
                       bold: bool = False) -> None:
        run = (container or self.doc).add_paragraph().add_run(text)
        run.bold = bold or None
        if size:
            run.font.size = Pt(size)

    def spacer(self, container, height_pt: float) -> None:
        """The space after a table (Word needs a paragraph between two tables)."""
        paragraph = container.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.paragraph_format.line_spacing = Pt(height_pt)
        paragraph.add_run().font.size = Pt(min(height_pt, 8))

    def runs(self, paragraph: Paragraph, target) -> None:
        for run in paragraph.runs:
            target.add_run(run.text).bold = run.bold or None

    def blocks(self, blocks: tuple[Block, ...], level: int, container,
               lead: bool = False, together: bool = False) -> None:
        """Blocks in order. `lead` sets a first paragraph larger and bold (the insert's
        warning); `together` keeps all the blocks on one page (a subsection or box, as
        `break-inside: avoid`)."""
        index = 0
        while index < len(blocks):
            block = blocks[index]
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if lead and index == 0 and isinstance(block, Paragraph) and "lead" in self.style.sizes:
                paragraph = container.add_paragraph()
                for run in block.runs:
                    styled = paragraph.add_run(run.text)
                    styled.bold = True
                    styled.font.size = Pt(self.style.sizes["lead"])
            else:
                self.block(block, level, container)
            self.keep_with_following(block, following, container, together)
            index += 1

    def keep_with_following(self, block: Block, following: Block | None, container,
                            together: bool) -> None:
        """Word's "keep with next", as the PDF's keep-together rules: a paragraph with
        the list or table it introduces, a list's first two items, its last items with
        the paragraph that concludes it; side-by-side lists with the actions that follow
        them; in a subsection or box, everything but its end."""
        if isinstance(block, Columns) and isinstance(following, (BulletList, Paragraph)):
            for cell in container.tables[-1].rows[-1].cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True
            container.paragraphs[-1].paragraph_format.keep_with_next = True  # the spacer
            return
        if isinstance(block, (Subsection, Box, Columns, FactTable, Table)):
            return
        paragraphs = container.paragraphs
        if isinstance(block, Paragraph):
            keep = together and following is not None or isinstance(
                following, (BulletList, Columns, FactTable, Table))
            paragraphs[-1].paragraph_format.keep_with_next = keep or None
        elif isinstance(block, BulletList):
            items = paragraphs[-len(block.items):]
            kept = set(range(len(items) - 1)) if together else {0}
            if isinstance(following, Paragraph):
                kept |= {len(items) - 2, len(items) - 1}
            for number in sorted(kept):
                if number >= 0 and (number < len(items) - 1 or following is not None):
                    items[number].paragraph_format.keep_with_next = True

    def data_table(self, container, rows: int, columns: int):
        """A bordered table (facts, plans, columns) with the PDF's cell padding."""
        table = container.add_table(rows=rows, cols=columns)
        table._tbl.tblStyle_val = self.style_ids["Table Grid"]
        vertical, horizontal = self.style.sizes["cell_padding_mm"]
        _set_property(table._tbl.tblPr,
                      _margins("w:tblCellMar", vertical, horizontal, vertical, horizontal))
        return table

    def keep_table_together(self, table) -> None:
        """Every row kept with the next (Word's way to keep a table on one page), as
        `break-inside: avoid` on the PDF's small tables."""
        for row in table.rows:
            _keep_row_on_one_page(row)
        for row in table.rows[:-1]:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True

    def block(self, block: Block, level: int, container) -> None:
        if isinstance(block, Paragraph):
            self.runs(block, container.add_paragraph())
        elif isinstance(block, BulletList):
            for item in block.items:
                self.runs(item, self.styled(container, "List Bullet"))
        elif isinstance(block, Subsection):
            self.heading(block.heading, level, container)
            self.blocks(block.blocks, level + 1, container, together=True)
        elif isinstance(block, Box):
            table = container.add_table(rows=1, cols=1)
            self.box(block, level, table.rows[0].cells[0])
            _keep_row_on_one_page(table.rows[0])
        elif isinstance(block, Columns):
            table = self.data_table(container, 2, len(block.columns))
            for index, column in enumerate(block.columns):
                head = table.rows[0].cells[index]
                head.paragraphs[0].add_run(column.title).bold = True
                _set_shading(head, self.style.table_header_fill)
                cell = table.rows[1].cells[index]
                cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
                for item in column.items:
                    self.runs(item, self.styled(cell, "List Bullet"))
            _mark_header_row(table.rows[0])
            self.keep_table_together(table)
        elif isinstance(block, FactTable):
            self.heading(block.title, level, container)
            table = self.data_table(container, 0, 2)
            for fact in block.facts:
                cells = table.add_row().cells
                cells[0].paragraphs[0].add_run(fact.label).bold = True
                cells[1].paragraphs[0].add_run(fact.value)
            self.keep_table_together(table)
        elif isinstance(block, Table):
            self.heading(block.title, level, container)
            table = self.data_table(container, 1, len(block.header))
            for cell, text in zip(table.rows[0].cells, block.header):
                cell.paragraphs[0].add_run(text).bold = True
                _set_shading(cell, self.style.table_header_fill)
            _mark_header_row(table.rows[0])
            for row in block.rows:
                for cell, text in zip(table.add_row().cells, row):
                    cell.paragraphs[0].add_run(text)
            self.keep_table_together(table)
        if isinstance(block, (Columns, FactTable, Table, Box)) and self.model.kind != "card":
            self.spacer(container, self.style.sizes.get("gap", self.style.sizes["body"] * 0.6))

    def box(self, box: Box, level: int, cell) -> None:
        """A box drawn as a table cell: its fill, border and padding, its title in the
        box's colour."""
        colours = self.style.boxes[box.kind]
        _set_shading(cell, colours["fill"])
        _set_borders(cell, colours["border"], 24 if box.kind != "info" else 12)
        _set_cell_margins(cell, 2, 3, 1, 3)
        first = cell.paragraphs[0]
        first._p.getparent().remove(first._p)
        if box.title:
            self.heading(box.title, level, cell)
            if "title" in colours:
                cell.paragraphs[-1].runs[0].font.color.rgb = RGBColor.from_string(
                    colours["title"])
            cell.paragraphs[-1].paragraph_format.space_before = Pt(0)
        blocks = box.blocks
        if self.style.sizes.get("box_lists_inline"):
            blocks = tuple(_inline(block) if isinstance(block, BulletList) else block
                           for block in blocks)
        self.blocks(blocks, level + 1 if box.title else level, cell, together=True)


def _inline(items: BulletList) -> Paragraph:
    """A list as one paragraph, each item after its bullet and kept whole (no-break
    spaces inside it), as insert.css runs an insert's signs on."""
    runs: list[Run] = []
    for index, item in enumerate(items.items):
        runs.append(Run(("\u2003 " if index else "") + "•\u00a0"))
        runs += [Run(run.text.replace(" ", "\u00a0"), run.bold) for run in item.runs]
    return Paragraph(tuple(runs))


def write_docx(document: Document, author: str, layout: str = "standard",
               layouts_dir: Path = LAYOUTS_DIR) -> bytes:
    """The DOCX bytes of one document; the same model always gives the same bytes."""
    return DocxWriter(document, author, layout, layouts_dir).build()
