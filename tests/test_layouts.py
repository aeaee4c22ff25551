"""Every document in both layouts: large print that builds (personal pages taking as
many pages as they need), page numbers that follow, sizes, and keep-together rules
checked on the pages, from the document model (by block type, not by content)."""

from __future__ import annotations

import bisect
import io
import re
import subprocess
from pathlib import Path

import pikepdf
import pypdf
import pytest

from handouts.build import Renderer
from handouts.compose import compose, documents_for
from handouts.model import Block, Box, BulletList, Document, Paragraph, Subsection
from handouts.records.validate import RawRecord, validate_record
from handouts.render.pdf import PdfWriter
from handouts.sources.loading import load_sources
from tests.conftest import SAMPLE_LANGS, SAMPLE_LAYOUTS, normalise
from tests.test_patient import ORAL, PUMP
from tests.test_render_pdf import font_sizes
from tests.test_stamp import pages_png

LAYOUT_SUFFIX = {"standard": "", "large-print": "-large-print"}
SNIPPET = 24


@pytest.fixture(scope="module")
def sources():
    return load_sources()


def sample_patient(variant: str, lang: str):
    record = {**(ORAL if variant == "oral" else PUMP), "lang": lang}
    return validate_record(RawRecord(record, lambda field: "record.yaml", 1), ["fr", "en"],
                           require_id=True)


def generic_pdf(folder: Path, lang: str, variant: str, kind: str, layout: str) -> Path:
    return folder / lang / f"baclofen-{variant}-{kind}{LAYOUT_SUFFIX[layout]}.pdf"


def sample_pdf(samples, lang: str, variant: str, kind: str, layout: str) -> Path:
    folder = samples[(variant, lang, layout)]
    return folder / f"{folder.name}-baclofen-{variant}-{kind}{LAYOUT_SUFFIX[layout]}-{lang}.pdf"


def squash(text: str) -> str:
    """A text without its spaces: pdftotext drops some no-break spaces (before a colon)
    and lines wrap anywhere."""
    return re.sub(r"[\s\u00a0\u202f]+", "", text)


def page_texts(path: Path) -> list[str]:
    """Each page's text, without spaces, in reading order (poppler's pdftotext)."""
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                            capture_output=True, text=True)
    return [squash(page) for page in result.stdout.split("\f")[:-1]]


class Pages:
    """Finds texts on a PDF's pages in reading order: each search starts where the last
    one ended, so a sentence repeated elsewhere is found where the model puts it."""

    def __init__(self, path: Path):
        texts = page_texts(path)
        self.starts, self.text, at = [], "", 0
        for text in texts:
            self.starts.append(at)
            self.text += text
            at = len(self.text)
        self.cursor = 0

    def page_of(self, text: str, end: bool = False) -> int:
        """The page (1-based) of a text's first (or, with `end`, last) characters."""
        text = squash(text)
        snippet = text[-SNIPPET:] if end else text[:SNIPPET]
        found = self.text.find(snippet, self.cursor)
        assert found >= 0, f"{snippet!r} not found after position {self.cursor}"
        self.cursor = found + len(snippet)
        return bisect.bisect_right(self.starts, found)


def keep_together_groups(blocks: tuple[Block, ...], title: str = "", in_block: bool = False):
    """The texts that must share a page, as lists of (text, use its end) in reading
    order: a heading and the start of what follows it; a list with the end of its
    intro and its first item, and its last item with the paragraph that concludes it;
    in a subsection or box (a sign list and its action), all of these and the title."""
    for index, block in enumerate(blocks):
        previous = blocks[index - 1] if index else None
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if isinstance(block, BulletList):
            group = [(title, False)] if title and (in_block or index <= 1) else []
            if isinstance(previous, Paragraph):
                group.append((previous.text, True))
            group.append((block.items[0].text, False))
            ending = [(block.items[-1].text, False), (following.text, False)] \
                if isinstance(following, Paragraph) else []
            if in_block:
                yield group + ending
            else:
                yield group
                if ending:
                    yield ending
        elif isinstance(block, (Subsection, Box)):
            heading = block.heading if isinstance(block, Subsection) else block.title
            first = block.blocks[0]
            if heading and isinstance(first, (Paragraph, BulletList)):
                start = first.text if isinstance(first, Paragraph) else first.items[0].text
                yield [(heading, False), (start, False)]
            yield from keep_together_groups(block.blocks, heading, in_block=True)


def check_keep_together(path: Path, document: Document) -> list[str]:
    """Every group of `keep_together_groups` that the PDF splits across pages."""
    pages = Pages(path)
    split = []
    for section in document.sections:
        pages.page_of(section.heading)
        for group in keep_together_groups(section.blocks, section.heading):
            pages.cursor = pages.text.find(squash(section.heading)[:SNIPPET])
            found = []
            for text, end in group:
                found.append(pages.page_of(text, end))
            if len(set(found)) > 1:
                split.append(f"{path.name}: {[t[:30] for t, _ in group]} on pages {found}")
    return split


@pytest.mark.parametrize("layout", SAMPLE_LAYOUTS)
@pytest.mark.parametrize("lang", SAMPLE_LANGS)
@pytest.mark.parametrize("variant", ["oral", "intrathecal"])
def test_keep_together_rules_hold_in_every_leaflet(built, built_large_print, samples, sources,
                                                    layout, lang, variant):
    folder = built if layout == "standard" else built_large_print
    generic = compose(sources, lang, variant, "leaflet")
    personal = compose(sources, lang, variant, "leaflet", sample_patient(variant, lang))
    problems = check_keep_together(generic_pdf(folder, lang, variant, "leaflet", layout),
                                   generic)
    problems += check_keep_together(sample_pdf(samples, lang, variant, "leaflet", layout),
                                    personal)
    assert problems == []


def test_the_checker_sees_a_split_sign_list(sources, tmp_path):
    """Without the keep-together rules, the French oral leaflet splits the list of
    conditions to tell the doctor about from its lead across two pages: the check sees it."""
    layouts = tmp_path / "layouts"
    subprocess.run(["cp", "-r", str(Path(__file__).parent.parent / "layouts"), str(layouts)],
                   check=True)
    base = layouts / "css" / "base.css"
    text = base.read_text(encoding="utf-8")
    start, end = text.index("/* Keep-together rules"), text.index(".box {")
    base.write_text(text[:start] + text[end:], encoding="utf-8")
    writer = PdfWriter("standard", layouts)
    document = compose(sources, "fr", "oral", "leaflet")
    path = tmp_path / "unkept.pdf"
    path.write_bytes(writer.write(writer.render(document, "test"), "test"))
    assert any("Parlez-en à votre médecin avan" in split and "une épilepsie" in split
               for split in check_keep_together(path, document))


def footer_numbers(path: Path) -> list[str]:
    return [normalise(page.extract_text()) for page in pypdf.PdfReader(path).pages]


@pytest.mark.parametrize("layout", SAMPLE_LAYOUTS)
@pytest.mark.parametrize("lang", SAMPLE_LANGS)
@pytest.mark.parametrize("variant", ["oral", "intrathecal"])
def test_every_document_builds_with_page_numbers_that_follow(built, built_large_print, samples,
                                                             sources, layout, lang, variant):
    folder = built if layout == "standard" else built_large_print
    label = sources.languages[lang].labels["page"]
    for kind in documents_for(variant):
        for path in (generic_pdf(folder, lang, variant, kind, layout),
                     sample_pdf(samples, lang, variant, kind, layout)):
            texts = footer_numbers(path)
            if kind != "leaflet":
                assert len(texts) == 1, path.name
            for number, text in enumerate(texts, 1):
                assert f"{label} {number} / {len(texts)}" in text, (path.name, number)


def test_large_print_personal_pages_take_the_pages_they_need(samples, sources):
    """The large-print oral leaflet's personal pages (treatment, dose plan) take more
    pages than there are personal pages, and the sections follow."""
    path = sample_pdf(samples, "fr", "oral", "leaflet", "large-print")
    document = compose(sources, "fr", "oral", "leaflet", sample_patient("oral", "fr"))
    pages = Pages(path)
    first_section = pages.page_of(document.sections[0].heading)
    assert first_section - 1 > len(document.front)


@pytest.mark.parametrize("kind", ["leaflet", "insert"])
def test_large_print_text_is_18_pt_or_more_footer_included(built_large_print, samples, kind):
    for variant in ("oral", "intrathecal"):
        for path in (generic_pdf(built_large_print, "fr", variant, kind, "large-print"),
                     sample_pdf(samples, "en", variant, kind, "large-print")):
            assert min(font_sizes(path)) >= 18, path.name


@pytest.mark.parametrize("variant", ["oral", "intrathecal"])
def test_large_print_stamped_leaflet_rasterises_like_a_full_render(sources, tmp_path, variant):
    """Personal pages taking several pages go through the stamped path and look exactly
    like the whole leaflet laid out in one pass."""
    renderer = Renderer(sources, "large-print")
    document = compose(sources, "en", variant, "leaflet", sample_patient(variant, "en"))
    stamped = renderer.pdf_bytes(document, "test", personal=True)
    full = renderer.pdf.write(renderer.pdf.render(document, sources.profile.name), "test")
    with pikepdf.open(io.BytesIO(stamped)) as pdf:
        assert any(isinstance(page.obj.Contents, pikepdf.Array) for page in pdf.pages)
    assert pages_png(stamped, tmp_path, "s") == pages_png(full, tmp_path, "f")
