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
    Subsection,
    Table,
)
from .pdf import LAYOUTS_DIR

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_MAIN_PART = "word/document.xml"


@dataclass(frozen=True)
class DocxStyle:
    """The settings of `layouts/docx.yaml` for one document kind."""

    font: str
    heading_color: str
    boxes: dict
    table_header_fill: str
    sizes: dict

    @classmethod
    def load(cls, kind: str, layout: str = "standard", layouts_dir: Path = LAYOUTS_DIR
             ) -> DocxStyle:
        settings = yaml.safe_load((layouts_dir / "docx.yaml").read_text(encoding="utf-8"))
        sizes = dict(settings["kinds"][kind])
        sizes.update(settings["layouts"].get(layout, {}).get(kind, {}))
        return cls(settings["font"], settings["heading_color"], settings["boxes"],
                   settings["table_header_fill"], sizes)


def _set_shading(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _set_borders(cell, color: str, size_eighths: int) -> None:
    borders = OxmlElement("w:tcBorders")
    for side in ("top", "left", "bottom", "right"):
        border = OxmlElement(f"w:{side}")
        border.set(qn("w:val"), "single")
        border.set(qn("w:sz"), str(size_eighths))
        border.set(qn("w:color"), color)
        borders.append(border)
    cell._tc.get_or_add_tcPr().append(borders)


def _mark_header_row(row) -> None:
    """Repeat the row on each page and tell screen readers it is a header."""
    header = OxmlElement("w:tblHeader")
    row._tr.get_or_add_trPr().append(header)


def _add_field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES): computed by Word when the file is shown."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"),
                       ("end", None)):
        run = paragraph.add_run()
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
            for page in model.front:
                self.blocks(page.blocks, 2, self.doc)
                self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            for section in model.sections:
                self.heading(section.heading, 2)
                self.blocks(section.blocks, 3, self.doc)
            self.blocks(model.body, 2, self.doc)
        self.properties()
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return _deterministic_zip(buffer.getvalue())

    def setup(self) -> None:
        sizes, doc = self.style.sizes, self.doc
        section = doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Mm(sizes["margin_mm"]))
        normal = doc.styles["Normal"]
        normal.font.name = self.style.font
        normal.font.size = Pt(sizes["body"])
        normal.element.rPr.rFonts.set(qn("w:eastAsia"), self.style.font)
        normal.paragraph_format.space_after = Pt(sizes["body"] * 0.4)
        normal.paragraph_format.line_spacing = 1.2
        for level, key in ((1, "title"), (2, "heading2"), (3, "heading3"), (4, "heading4")):
            heading = doc.styles[f"Heading {level}"]
            heading.font.name = self.style.font
            heading.font.size = Pt(sizes[key])
            heading.font.bold = True
            heading.font.italic = False
            heading.font.color.rgb = RGBColor.from_string(self.style.heading_color)
            heading.element.rPr.rFonts.set(qn("w:asciiTheme"), "")
            for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                heading.element.rPr.rFonts.attrib.pop(qn(attribute), None)
        doc.styles["List Bullet"].font.size = Pt(sizes["body"])
        _set_language(doc, language_tag(self.model.lang))
        footer = section.footer.paragraphs[0]
        run = footer.add_run(f"{self.model.footer} · {self.model.labels['page']} ")
        run.font.size = Pt(sizes["footer"])
        _add_field(footer, "PAGE")
        footer.add_run(" / ")
        _add_field(footer, "NUMPAGES")

    def card(self) -> None:
        """The wallet card: front and back as two credit-card-sized cells to cut out."""
        model, labels = self.model, self.model.labels
        self.heading(labels["card_front"], 1)
        self.paragraph_text(labels["card_cut"])
        table = self.doc.add_table(rows=1, cols=2)
        table.autofit = False
        front, back = table.rows[0].cells
        row_height = OxmlElement("w:trHeight")
        row_height.set(qn("w:val"), str(int(54 / 25.4 * 1440)))
        row_height.set(qn("w:hRule"), "exact")
        table.rows[0]._tr.get_or_add_trPr().append(row_height)
        for cell in (front, back):
            cell.width = Mm(85.6)
            _set_borders(cell, "999999", 4)
            cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
        for page in model.front:
            self.blocks(page.blocks, 2, front)
        self.heading(labels["card_back"], 2, back)
        self.blocks(model.body, 3, back)

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

    def paragraph_text(self, text: str, size: float | None = None, container=None) -> None:
        run = (container or self.doc).add_paragraph().add_run(text)
        if size:
            run.font.size = Pt(size)

    def runs(self, paragraph: Paragraph, target) -> None:
        for run in paragraph.runs:
            target.add_run(run.text).bold = run.bold or None

    def blocks(self, blocks: tuple[Block, ...], level: int, container) -> None:
        for block in blocks:
            self.block(block, level, container)

    def block(self, block: Block, level: int, container) -> None:
        if isinstance(block, Paragraph):
            self.runs(block, container.add_paragraph())
        elif isinstance(block, BulletList):
            for item in block.items:
                self.runs(item, self.styled(container, "List Bullet"))
        elif isinstance(block, Subsection):
            self.heading(block.heading, level, container)
            self.blocks(block.blocks, level + 1, container)
        elif isinstance(block, Box):
            self.box(block, level, container)
        elif isinstance(block, Columns):
            table = container.add_table(rows=2, cols=len(block.columns))
            table._tbl.tblStyle_val = self.style_ids["Table Grid"]
            for index, column in enumerate(block.columns):
                head = table.rows[0].cells[index]
                head.paragraphs[0].add_run(column.title).bold = True
                _set_shading(head, self.style.table_header_fill)
                cell = table.rows[1].cells[index]
                cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
                for item in column.items:
                    self.runs(item, self.styled(cell, "List Bullet"))
            _mark_header_row(table.rows[0])
        elif isinstance(block, FactTable):
            self.heading(block.title, level, container)
            table = container.add_table(rows=0, cols=2)
            table._tbl.tblStyle_val = self.style_ids["Table Grid"]
            for fact in block.facts:
                cells = table.add_row().cells
                cells[0].paragraphs[0].add_run(fact.label).bold = True
                cells[1].paragraphs[0].add_run(fact.value)
        elif isinstance(block, Table):
            self.heading(block.title, level, container)
            table = container.add_table(rows=1, cols=len(block.header))
            table._tbl.tblStyle_val = self.style_ids["Table Grid"]
            for cell, text in zip(table.rows[0].cells, block.header):
                cell.paragraphs[0].add_run(text).bold = True
                _set_shading(cell, self.style.table_header_fill)
            _mark_header_row(table.rows[0])
            for row in block.rows:
                for cell, text in zip(table.add_row().cells, row):
                    cell.paragraphs[0].add_run(text)
        if isinstance(block, (Columns, FactTable, Table)):
            container.add_paragraph()

    def box(self, box: Box, level: int, container) -> None:
        colours = self.style.boxes[box.kind]
        table = container.add_table(rows=1, cols=1)
        cell = table.rows[0].cells[0]
        _set_shading(cell, colours["fill"])
        _set_borders(cell, colours["border"], 24 if box.kind != "info" else 12)
        first = cell.paragraphs[0]
        first._p.getparent().remove(first._p)
        if box.title:
            self.heading(box.title, level, cell)
        self.blocks(box.blocks, level + 1, cell)
        container.add_paragraph()


def write_docx(document: Document, author: str, layout: str = "standard",
               layouts_dir: Path = LAYOUTS_DIR) -> bytes:
    """The DOCX bytes of one document; the same model always gives the same bytes."""
    return DocxWriter(document, author, layout, layouts_dir).build()
