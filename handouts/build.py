"""Deciding what to build and building it: compose every requested document, render
every format in memory, and only then write the files (so a failure writes nothing)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import weasyprint

from .compose import compose, documents_for
from .errors import Problem, RecordDoesNotFit, RenderError
from .model import Document, split_personal
from .output import output_path, write_together
from .records.patient import Patient
from .render.docx import DocxTemplate, fillable, slot_marker, write_docx
from .render.measure import card_overflow_mm
from .render.pdf import LAYOUTS_DIR, PdfWriter
from .render.stamp import PageParts, Stamper, Template
from .sources.loading import Sources


def first_section_page(rendered: weasyprint.document.Document, document: Document) -> int:
    """How many pages come before the first section (the front pages)."""
    first = document.sections[0].key
    for number, page in enumerate(rendered.pages):
        for box in page._page_box.descendants():
            if getattr(box, "element", None) is not None and box.element.get("id") == first:
                return number
    return len(rendered.pages)

FORMATS = ("pdf", "docx")
ONE_PAGE_KINDS = ("insert", "card")


@dataclass(frozen=True)
class Rendered:
    """A file to write; a stamped PDF also says how its pages are built."""

    path: Path
    data: bytes
    pages: tuple[PageParts, ...] | None = None


class Renderer:
    """Renders composed documents to PDF and DOCX bytes, reusing one PDF writer.

    A personal leaflet is its personal front pages joined to the shared pages of the
    generic leaflet, which are laid out once per language and variant. A personal
    document is its shape (the same for many patients, rendered once) with the
    patient's values stamped in (render/stamp.py), or a full render when a value does
    not fit its slot.
    """

    def __init__(self, sources: Sources, layout: str = "standard",
                 layouts_dir: Path = LAYOUTS_DIR):
        self.sources = sources
        self.pdf = PdfWriter(layout, layouts_dir)
        self.shared: dict[tuple, weasyprint.document.Document] = {}
        self.stamper = Stamper(self.pdf)
        self.templates: dict[Document, Template] = {}
        self.docx_templates: dict[Document, DocxTemplate] = {}

    def shared_leaflet(self, document: Document) -> weasyprint.document.Document:
        """A leaflet's pages laid out once for every leaflet with the same sections (the
        same language, variant and contact numbers), with its front pages as a shape."""
        key = (document.lang, document.variant, document.sections)
        if key not in self.shared:
            self.shared[key] = self.layout(split_personal(document)[0], personal=False)
        return self.shared[key]

    def check_front_pages(self, document: Document, front_pages: int,
                          personal: bool = False) -> None:
        """Each personal page must be exactly one page, or page numbers would shift."""
        if front_pages != len(document.front) and personal:
            raise RecordDoesNotFit(Problem(
                "", f"the {document.variant} leaflet's personal pages take {front_pages} "
                f"pages instead of {len(document.front)}",
                "shorten name or prescriber, or use fewer plan steps"))
        if front_pages != len(document.front):
            raise RenderError(Problem(
                self.sources.shown(document.lang),
                f"documents.{document.variant}_leaflet: the personal pages take {front_pages} "
                f"pages instead of {len(document.front)}",
                "shorten the preamble or the labels, or use fewer plan steps"))

    def layout(self, document: Document, personal: bool) -> weasyprint.document.Document:
        """Lay out a document; a personal leaflet reuses the shared pages."""
        author = self.sources.profile.name
        if document.kind != "leaflet":
            return self.pdf.render(document, author)
        if not personal:
            rendered = self.pdf.render(document, author)
            self.check_front_pages(document, first_section_page(rendered, document))
            return rendered
        shared = self.shared_leaflet(document)
        front = self.pdf.render(document, author, len(shared.pages))
        self.check_front_pages(document, len(front.pages), personal=True)
        return front.copy(front.pages + shared.pages[len(document.front):])

    def checked_layout(self, document: Document, personal: bool
                       ) -> weasyprint.document.Document:
        rendered = self.layout(document, personal)
        pages = len(rendered.pages)
        if personal and document.kind in ONE_PAGE_KINDS and pages != 1:
            raise RecordDoesNotFit(Problem(
                "", f"the {document.kind} takes {pages} pages; it must fit on one",
                "shorten name, prescriber or the pump details"))
        if personal and document.kind == "card" and (excess := card_overflow_mm(rendered)):
            raise RecordDoesNotFit(Problem(
                "", f"the wallet card's text runs {excess} mm past the card",
                "shorten name, pump_model or implanting_centre"))
        if document.kind in ONE_PAGE_KINDS and pages != 1:
            raise RenderError(Problem(
                self.sources.shown(document.lang),
                f"documents.{document.variant}_{document.kind}: the {document.kind} takes "
                f"{pages} pages; it must fit on one", "shorten its text"))
        return rendered

    def template(self, shape: Document) -> Template:
        """A personal document's shape, laid out and written once."""
        if shape not in self.templates:
            rendered = self.checked_layout(shape, personal=True)
            self.templates[shape] = self.stamper.template(
                rendered, f"shape/{shape.lang}/{shape.stem}")
        return self.templates[shape]

    def filled(self, document: Document) -> tuple[Template, tuple[str, ...]]:
        """A personal document as its shape's template and the values to stamp in."""
        shape, values = split_personal(document)
        return self.template(shape), values

    def prepare(self, documents: Iterable[Document]) -> None:
        """Draw, in one pass per style, the values of many personal documents."""
        self.stamper.prepare(self.filled(document) for document in documents)

    def pdf_bytes(self, document: Document, identity: str, personal: bool = False
                  ) -> bytes:
        return self.pdf_output(document, identity, personal)[0]

    def pdf_output(self, document: Document, identity: str, personal: bool = False
                   ) -> tuple[bytes, tuple[PageParts, ...] | None]:
        """The PDF, and its pages' parts if it was stamped."""
        if personal:
            template, values = self.filled(document)
            self.stamper.prepare([(template, values)])
            stamped = self.stamper.stamp(template, values)
            if stamped is not None:
                return stamped.data, stamped.pages
        return self.pdf.write(self.checked_layout(document, personal), identity), None

    def docx_bytes(self, document: Document, personal: bool = False) -> bytes:
        """A personal DOCX is its shape's DOCX, written once, with the values put in."""
        author = self.sources.profile.name
        if personal:
            shape, values = split_personal(document, slot_marker)
            if all(fillable(value) for value in values):
                if shape not in self.docx_templates:
                    self.docx_templates[shape] = DocxTemplate(
                        write_docx(shape, author, self.pdf.layout, self.pdf.layouts_dir))
                return self.docx_templates[shape].fill(values)
        return write_docx(document, author, self.pdf.layout, self.pdf.layouts_dir)

    def render(self, document: Document, formats: Iterable[str], out_dir: Path,
               record_id: str | None = None) -> list[Rendered]:
        results = []
        identity = f"{record_id or 'generic'}/{document.lang}/{document.stem}"
        for fmt in formats:
            path = output_path(out_dir, document, fmt, record_id, self.pdf.layout)
            if fmt == "pdf":
                results.append(Rendered(path, *self.pdf_output(document, identity,
                                                              record_id is not None)))
            else:
                results.append(Rendered(path, self.docx_bytes(document, record_id is not None)))
        return results


def build_generic(sources: Sources, out_dir: Path, langs: list[str], variants: list[str],
                  formats: list[str], layout: str = "standard",
                  layouts_dir: Path = LAYOUTS_DIR) -> list[Path]:
    """The generic set: every document x variant x language, no patient data."""
    renderer = Renderer(sources, layout, layouts_dir)
    documents = [compose(sources, lang, variant, kind)
                 for lang in langs for variant in variants for kind in documents_for(variant)]
    results = [item for document in documents
               for item in renderer.render(document, formats, out_dir)]
    return write_all(results)


def patient_documents(sources: Sources, patient: Patient) -> list[Document]:
    """Every document a patient gets, composed with the patient's values."""
    return [compose(sources, patient.lang, patient.variant, kind, patient)
            for kind in documents_for(patient.variant)]


def render_documents(renderer: Renderer, documents: list[Document], formats: list[str],
                     out_dir: Path, record_id: str) -> list[Rendered]:
    return [item for document in documents
            for item in renderer.render(document, formats, out_dir, record_id)]


def build_patient(sources: Sources, patient: Patient, out_dir: Path, formats: list[str],
                  layout: str = "standard", layouts_dir: Path = LAYOUTS_DIR) -> list[Rendered]:
    """One patient's documents, rendered in memory (the caller writes them)."""
    return render_documents(Renderer(sources, layout, layouts_dir),
                            patient_documents(sources, patient), formats, out_dir, patient.id)


def write_all(results: list[Rendered]) -> list[Path]:
    """Write a command's files all or nothing (a full disk leaves none of them)."""
    write_together([(item.path, item.data) for item in results])
    return [item.path for item in results]

