"""PDF writer: the document model -> HTML (Jinja2, autoescaped) -> PDF (WeasyPrint).

Layouts live in `layouts/`: templates in `layouts/templates`, style sheets in
`layouts/css` (`base.css`, then one per document kind, then one per layout such as
large print). WeasyPrint may read nothing but those folders.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager
from pathlib import Path

import jinja2
import weasyprint
import weasyprint.pdf
from jinja2.loaders import split_template_path
from weasyprint.text.fonts import FontConfiguration

from ..errors import InputError, Problem, RenderError
from ..model import Document
from ..project import EMBEDDED
from .artifacts import mark_pagination_artifacts
from .fetcher import AssetFetcher, RefusedURL

LAYOUTS_DIR = EMBEDDED.layouts_dir
LAYOUTS = ("standard", "large-print")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _strict_weasyprint():
    """Turn WeasyPrint's warnings (a stylesheet not loaded, a bad CSS rule) into an
    error: a layout that silently falls back to defaults is a broken layout."""
    handler = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    previous, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous
    if handler.messages:
        raise RenderError([Problem("layouts", message) for message in handler.messages])


def _subset_named_fonts(build_fonts):
    """WeasyPrint names a font subset after the face only (`/VRMYHF+Liberation-Sans`), so
    two subsets of one face with different glyphs share a name once they meet in one
    file (a stamped document's shape and canonical fonts, the print room's combined
    file), which the PDF specification forbids. Name each subset after its face and its
    glyphs instead: the same name always means the same font program."""
    def build(pdf, fonts, compress, subset, options):
        faces: dict[str, list] = {}
        for font in fonts.values():
            faces.setdefault(font.hash, []).append(font)
        for face, group in faces.items():
            glyphs = (sorted({glyph for font in group for glyph in font.to_unicode})
                      if subset and not any(font.used_in_forms for font in group) else "all")
            digest = hashlib.sha256(f"{face}|{glyphs}|{options.get('hinting')}".encode()).digest()
            tag = "".join(chr(65 + byte % 26) for byte in digest[:6]).encode()
            for font in group:
                font.name = b"/" + tag + b"+" + font.name.split(b"+", 1)[1]
        return build_fonts(pdf, fonts, compress, subset, options)
    return build


weasyprint.pdf.build_fonts_dictionary = _subset_named_fonts(weasyprint.pdf.build_fonts_dictionary)
class ConfinedLoader(jinja2.FileSystemLoader):
    """Templates from their folder only: a template (or an `{% include %}`) that is a
    symbolic link to a file elsewhere, such as /etc/passwd, is refused."""

    def __init__(self, folder: Path):
        super().__init__(folder, followlinks=False)
        self.folder = folder.resolve()

    def get_source(self, environment: jinja2.Environment, template: str):
        path = self.folder.joinpath(*split_template_path(template))
        if not path.resolve().is_relative_to(self.folder):
            raise InputError(Problem(f"layouts/templates/{template}",
                                     "refused: it leads outside layouts/templates",
                                     "templates must be plain files of that folder"))
        return super().get_source(environment, template)


class PdfWriter:
    """Renders documents with one layout; reuse one writer for many documents."""

    def __init__(self, layout: str = "standard", layouts_dir: Path = LAYOUTS_DIR):
        self.layout = layout
        self.layouts_dir = layouts_dir
        self.environment = jinja2.Environment(
            loader=ConfinedLoader(layouts_dir / "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined)
        self.template = self.environment.get_template("document.html.j2")
        self.fetcher = AssetFetcher([layouts_dir])
        self.font_config = FontConfiguration()

    def stylesheets(self, document: Document) -> list[str]:
        """Style sheets in cascade order: shared, the document kind's, then for a layout
        other than the standard one the layout's and, if there is one, the layout's
        sheet for that kind (`large-print-insert.css`). The card keeps its fixed size."""
        sheets = ["base.css", f"{document.kind}.css"]
        if self.layout != "standard" and document.kind != "card":
            sheets.append(f"{self.layout}.css")
            specific = f"{self.layout}-{document.kind}.css"
            if (self.layouts_dir / "css" / specific).is_file():
                sheets.append(specific)
        return [f"css/{sheet}" for sheet in sheets]

    def html(self, document: Document, author: str, page_total: int = 0) -> str:
        """The HTML a document is drawn from (also handy to debug a layout). With
        `page_total`, only the front (personal) pages, numbered out of that total."""
        return self.template.render(doc=document, author=author, page_total=page_total,
                                    stylesheets=self.stylesheets(document))

    def render(self, document: Document, author: str, page_total: int = 0
               ) -> weasyprint.document.Document:
        """Lay out a document into pages, without writing the PDF yet."""
        source = weasyprint.HTML(string=self.html(document, author, page_total),
                                 base_url=(self.layouts_dir / "index.html").as_uri(),
                                 url_fetcher=self.fetcher)
        try:
            with _strict_weasyprint():
                return source.render(font_config=self.font_config, pdf_variant="pdf/ua-1")
        except RefusedURL as refused:
            raise InputError(Problem(self.layouts_dir.name, refused.args[0],
                                     "layouts may only use files inside layouts/")) from None

    def write(self, rendered: weasyprint.document.Document, identity: str) -> bytes:
        """The PDF bytes, footers and page numbers marked as artifacts (PDF/UA);
        `identity` fixes the PDF identifier so builds are reproducible."""
        identifier = hashlib.sha256(identity.encode()).hexdigest()[:32].encode()
        return mark_pagination_artifacts(
            rendered.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=identifier))
