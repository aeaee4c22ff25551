"""The DOCX files as real office software shows them: every DOCX of the default build (both
layouts) and of sample patients, converted to PDF once by LibreOffice (headless, its own
profile), must look like our PDF: inserts and the card on one page, the card at
85.6 x 54 mm with its crop marks and red band, the same headings in the same order, the
same title colour and body size, and page counts within one page."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pikepdf
import pypdf
import pytest

from handouts.compose import compose
from handouts.model import Box, BulletList, Paragraph, Subsection
from handouts.sources.loading import load_sources
from tests.conftest import SAMPLE_LANGS, docx_paragraphs, normalise
from tests.test_layouts import Pages
from tests.test_render_pdf import font_sizes

PT_TO_MM = 25.4 / 72
CARD_MM = (85.6, 54.0)
TOLERANCE_MM = 0.3
SAMPLES = (("fr", "standard"), ("en", "large-print"))


@pytest.fixture(scope="session")
def converted(built, built_large_print, samples, tmp_path_factory) -> list[tuple[Path, Path]]:
    """(our PDF, LibreOffice's PDF of the DOCX) for every DOCX: one LibreOffice run."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is missing: setup.sh installs libreoffice-writer-nogui"
    docx_files = sorted([*built.rglob("*.docx"), *built_large_print.rglob("*.docx"),
                         *(path for variant in ("oral", "intrathecal") for key in SAMPLES
                           for path in samples[(variant, *key)].glob("*.docx"))])
    work = tmp_path_factory.mktemp("libreoffice")
    # Unique names: the generic files of both languages share theirs.
    inputs = []
    for number, path in enumerate(docx_files):
        copy = work / "in" / f"{number:03d}-{path.name}"
        copy.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, copy)
        inputs.append(copy)
    result = subprocess.run(
        [soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless",
         "--norestore", "--convert-to", "pdf", "--outdir", str(work / "out"),
         *map(str, inputs)], check=False, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return [(path.with_suffix(".pdf"), work / "out" / copy.with_suffix(".pdf").name)
            for path, copy in zip(docx_files, inputs, strict=True)]


def page_count(path: Path) -> int:
    return len(pypdf.PdfReader(path).pages)


def test_every_docx_converts(converted):
    assert len(converted) >= 30
    missing = [ours.name for ours, office in converted if not office.is_file()]
    assert missing == []


def test_inserts_and_cards_are_one_page(converted):
    for ours, office in converted:
        if "-insert" in ours.name or "-card" in ours.name:
            assert page_count(office) == 1, ours


def test_page_counts_are_within_one_page_of_the_pdf(converted):
    for ours, office in converted:
        assert abs(page_count(office) - page_count(ours)) <= 1, (ours, page_count(office),
                                                                  page_count(ours))


def test_no_page_holds_only_its_footer(converted):
    """A personal or front page that fills its page is not followed by an empty one
    (a page break written after it would make one in LibreOffice and Word)."""
    for ours, office in converted:
        for number, page in enumerate(pypdf.PdfReader(office).pages, 1):
            lines = [line for line in page.extract_text().splitlines() if line.strip()]
            body = [line for line in lines if "\u00b7" not in line]  # footers: id · version · ...
            assert body, (ours.name, number)


def test_headings_are_the_pdfs_in_the_same_order(converted):
    """The DOCX's heading paragraphs are as many as the PDF's heading elements (structure
    tree), and appear in both PDFs' text in the same order."""
    for ours, office in converted:
        headings = [normalise(p.text) for p in docx_paragraphs(ours.with_suffix(".docx"))
                    if p.style.name.startswith("Heading")]
        assert len(headings) == len(structure_headings(ours)), ours
        for pdf in (ours, office):
            text = normalise(subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
                                            capture_output=True, text=True,
                                            check=True).stdout)
            cursor = 0
            for heading in headings:
                found = text.find(heading, cursor)
                assert found >= 0, (pdf, heading)
                cursor = found + len(heading)


def structure_headings(path: Path) -> list[str]:
    """The structure types of the heading elements of a tagged PDF."""
    found = []
    with pikepdf.open(path) as pdf:
        stack = [pdf.Root.StructTreeRoot]
        while stack:
            element = stack.pop()
            if isinstance(element, pikepdf.Dictionary) and str(element.get("/S", "")) in {
                    f"/H{level}" for level in range(1, 7)}:
                found.append(str(element.S))
            kids = element.get("/K") if isinstance(element, pikepdf.Dictionary) else None
            if isinstance(kids, pikepdf.Array):
                stack.extend(kids)
            elif isinstance(kids, pikepdf.Dictionary):
                stack.append(kids)
    return found


def title_colour(path: Path) -> tuple[float, ...]:
    """The fill colour of the largest text on the first page (the title), following
    the graphics state (q/Q, cm, rg) and the text matrix's scale."""
    with pikepdf.open(path) as pdf:
        scale, colour, stack = 1.0, (0.0, 0.0, 0.0), []
        font_size, text_scale, largest = 0.0, 1.0, (0.0, colour)
        for operands, operator in pikepdf.parse_content_stream(pdf.pages[0]):
            op = str(operator)
            if op == "q":
                stack.append((scale, colour))
            elif op == "Q":
                scale, colour = stack.pop()
            elif op == "cm":
                scale *= abs(float(operands[3]))
            elif op == "rg":
                colour = tuple(round(float(value), 2) for value in operands)
            elif op == "Tf":
                font_size = float(operands[1])
            elif op == "Tm":
                text_scale = abs(float(operands[3]))
            elif op == "BT":
                text_scale = 1.0
            elif op in ("Tj", "TJ"):
                size = round(font_size * text_scale * scale, 1)
                if size > largest[0]:
                    largest = (size, colour)
        return largest[1]


def test_title_colour_is_the_pdfs(converted):
    for ours, office in converted:
        assert title_colour(office) == title_colour(ours), ours
    inserts = [office for ours, office in converted if "-insert" in ours.name]
    assert {title_colour(office) for office in inserts} == {(0.54, 0.0, 0.09)}


def test_body_size_is_the_pdfs(converted):
    for ours, office in converted:
        if "-card" in ours.name:
            continue
        sizes, office_sizes = font_sizes(ours), font_sizes(office)
        assert max(set(office_sizes), key=office_sizes.count) == max(set(sizes),
                                                                     key=sizes.count), ours


def stroked_lines(path: Path) -> list[tuple[tuple[float, ...], float, float, float, float,
                                              float]]:
    """Every straight line stroked on the first page: (colour, width, x1, y1, x2, y2)."""
    lines = []
    with pikepdf.open(path) as pdf:
        colour, width, start, segments = (0.0,), 1.0, (0.0, 0.0), []
        for operands, operator in pikepdf.parse_content_stream(pdf.pages[0]):
            op = str(operator)
            if op == "RG":
                colour = tuple(round(float(value), 2) for value in operands)
            elif op == "w":
                width = float(operands[0])
            elif op == "m":
                start = (float(operands[0]), float(operands[1]))
            elif op == "l":
                end = (float(operands[0]), float(operands[1]))
                segments.append((*start, *end))
                start = end
            elif op == "S":
                lines += [(colour, width, *segment) for segment in segments]
                segments = []
            elif op in ("n", "f", "re"):
                segments = []
    return lines


def test_card_faces_are_credit_card_size_with_crop_marks_and_red_band(converted):
    cards = [office for ours, office in converted if "-card" in ours.name]
    assert len(cards) >= 4
    for office in cards:
        lines = stroked_lines(office)
        marks = [line for line in lines if line[0] == (0.0, 0.0, 0.0)
                 and max(abs(line[4] - line[2]), abs(line[5] - line[3])) * PT_TO_MM < 6]
        xs = sorted({round(x1, 1) for _, _, x1, _, x2, _ in marks if abs(x2 - x1) < 0.1})
        ys = sorted({round(y1, 1) for _, _, _, y1, _, y2 in marks if abs(y2 - y1) < 0.1})
        assert len(xs) == 4 and len(ys) == 2, (office, xs, ys)
        widths = [(xs[1] - xs[0]) * PT_TO_MM, (xs[3] - xs[2]) * PT_TO_MM]
        height = (ys[1] - ys[0]) * PT_TO_MM
        assert all(abs(width - CARD_MM[0]) <= TOLERANCE_MM for width in widths), widths
        assert abs(height - CARD_MM[1]) <= TOLERANCE_MM, height
        band = [line for line in lines if line[0] == (0.54, 0.0, 0.09) and line[1] >= 5]
        assert len(band) == 1 and abs(
            (band[0][4] - band[0][2]) * PT_TO_MM - CARD_MM[0]) <= 2 * TOLERANCE_MM


def sign_boxes(blocks) -> list[Box]:
    """The boxes of the table of signs in reading order: a list of signs, then its action."""
    found = []
    for block in blocks:
        if isinstance(block, Box) and any(isinstance(b, BulletList) for b in block.blocks) \
                and isinstance(block.blocks[-1], Paragraph):
            found.append(block)
        elif isinstance(block, (Box, Subsection)):
            found += sign_boxes(block.blocks)
    return found


def test_sign_boxes_stay_on_the_page_of_their_action(converted):
    """Every box of signs in a leaflet (its signs, then what to do) is on one page, in
    LibreOffice as in our PDF."""
    sources = load_sources()
    leaflets = [pair for pair in converted  # the generic leaflets: the composed text's phones
                if pair[0].name.startswith("baclofen-") and "-leaflet" in pair[0].name]
    assert leaflets
    for ours, office in leaflets:
        lang = ours.parent.name if ours.parent.name in SAMPLE_LANGS else ours.stem[-2:]
        variant = "intrathecal" if "intrathecal" in ours.name else "oral"
        document = compose(sources, lang, variant, "leaflet")
        boxes = [box for section in document.sections for box in sign_boxes(section.blocks)]
        assert boxes, ours
        for path in (ours, office):
            pages = Pages(path)
            for box in boxes:
                signs = next(b for b in box.blocks if isinstance(b, BulletList))
                # from the first sign (a title may also start a sentence elsewhere: "Signs
                # of overdose can appear ..."; a heading stays with what follows it, tested
                # in test_layouts) to the end of the action
                start = pages.page_of(signs.items[0].text)
                assert start == pages.page_of(box.blocks[-1].text, end=True), (path, box.title)
