"""The print room's combined file, written record by record: print order, right-hand
starts, separator sheets, bookmarks, shared drawings, and pages that look like the
records' own files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pytest

from handouts.build import Renderer, patient_documents, render_documents
from handouts.bulk.combined import CombinedPdf, RecordLabel
from handouts.output import atomic_file, write_atomic
from handouts.sources.loading import load_sources
from tests.conftest import normalise
from tests.test_patient import ORAL, PUMP
from tests.test_stamp import patient

LONG_NAME = "Marie-Bernadette Anne-Sophie Dupont-Lefèvre de la Tour"  # too wide: full render


def page_text(path: Path, page: int) -> str:
    return normalise(subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True, text=True, check=True).stdout)


def page_pixels(path: Path, page: int, folder: Path) -> bytes:
    prefix = folder / f"{path.stem}-{page}"
    subprocess.run(["pdftoppm", "-r", "36", "-gray", "-singlefile", "-f", str(page), "-l",
                    str(page), str(path), str(prefix)], check=True)
    return prefix.with_suffix(".pgm").read_bytes()


@pytest.fixture(scope="module")
def combined(tmp_path_factory):
    """Four records, one of them rendered in full."""
    folder = tmp_path_factory.mktemp("combined")
    renderer = Renderer(load_sources())
    people = [patient(ORAL, id="A1", name="Anne Un"), patient(PUMP, id="B2", name=LONG_NAME),
              patient(ORAL, id="C3", lang="en", name="Carl Trois"),
              patient(ORAL, id="D4", name="Denise Quatre")]
    documents = {}
    for person in people:
        items = render_documents(renderer, patient_documents(renderer.sources, person),
                                 ["pdf"], folder, person.id)
        for item in items:
            write_atomic(item.path, item.data)
        documents[person.id] = [(item.path, item.pages) for item in items]
    path = folder / "combined.pdf"
    ranges = {}
    with atomic_file(path) as stream:
        writer = CombinedPdf(stream, renderer.stamper)
        for position, person in enumerate(people, 1):
            label = RecordLabel(person.id, position + 1, WARDS[position % 2], position, 4)
            ranges[person.id] = writer.add(label, documents[person.id])
        writer.close(by_ward=False)
    return path, documents, ranges, folder


WARDS = ("Rééducation", "Neurologie")


def test_records_are_in_print_order_each_on_a_right_hand_page(combined):
    path, documents, ranges, _ = combined
    assert list(ranges) == ["A1", "B2", "C3", "D4"]
    previous = 0
    for record_id, (first, last) in ranges.items():
        assert first % 2 == 1 and first in (previous + 1, previous + 2)
        pages = 2  # the separator sheet
        for document, _ in documents[record_id]:
            pages += pages % 2 + len(pikepdf.open(document).pages)
        assert last - first + 1 == pages
        previous = last
    with pikepdf.open(path) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert len(pdf.pages) == previous


def test_each_record_opens_with_its_separator_then_its_own_values(combined):
    path, documents, ranges, _ = combined
    names = {"A1": "Anne Un", "B2": LONG_NAME.split()[0], "C3": "Carl Trois",
             "D4": "Denise Quatre"}
    for position, (record_id, (first, last)) in enumerate(ranges.items(), 1):
        pages = last - first + 1 - 2 - sum(  # less the separator and the blank backs
            1 for page in range(first + 2, last + 1) if not page_text(path, page))
        assert page_text(path, first) == (
            f"{record_id} Ligne {position + 1} Service : {WARDS[position % 2]} "
            f"{len(documents[record_id])} documents · {pages} pages Dossier {position} / 4 "
            "Feuille de séparation pour l'impression : ne pas remettre au patient.")
        assert page_text(path, first + 1) == ""
        text = " ".join(page_text(path, page) for page in range(first + 2, last + 1))
        assert names[record_id] in text
        assert not any(name in text for other, name in names.items() if other != record_id)


def test_bookmarks_lead_to_each_record(combined):
    path, _, ranges, _ = combined
    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        pages = {page.objgen: number for number, page in enumerate(pdf.pages, 1)}
        marks = [(item.title, pages[item.destination[0].objgen]) for item in outline.root]
    assert marks == [(f"Ligne {row} · {record_id}", first)
                     for row, (record_id, (first, _)) in enumerate(ranges.items(), 2)]


def test_pages_look_like_the_records_own_files(combined):
    """Every page, stamped, shared or rendered in full, rasterises like the same page
    of the record's own PDF."""
    path, documents, ranges, folder = combined
    for record_id, (first, _) in ranges.items():
        page = first + 2
        for document, _ in documents[record_id]:
            page += (page - first) % 2
            for own in range(1, len(pikepdf.open(document).pages) + 1):
                assert page_pixels(path, page, folder) == \
                    page_pixels(document, own, folder), (record_id, document.name, own)
                page += 1


def test_records_of_the_same_shape_share_every_drawing(combined):
    """A1 and D4 differ only by their values: D4's pages draw A1's content streams with
    A1's resources, and add only their overlays, between those streams."""
    path, _, ranges, _ = combined

    def shared(pdf: pikepdf.Pdf, record_id: str) -> list[tuple]:
        first, last = ranges[record_id]
        pages = [page for page in pdf.pages[first + 1:last] if "/Contents" in page.obj]
        return [(tuple(part.objgen for part in page.obj.Contents[0::2]),
                 page.obj.Resources.objgen) for page in pages]

    def own(pdf: pikepdf.Pdf, record_id: str) -> set[tuple[int, int]]:
        first, last = ranges[record_id]
        return {overlay.objgen for page in pdf.pages[first + 1:last]
                if "/Contents" in page.obj for overlay in page.obj.Contents[1::2]}

    with pikepdf.open(path) as pdf:
        assert shared(pdf, "D4") == shared(pdf, "A1")
        assert len(shared(pdf, "A1")) == len(set(shared(pdf, "A1"))) == 8
        assert not set(shared(pdf, "A1")) & set(shared(pdf, "C3"))  # English: other drawings
        assert own(pdf, "A1") and not own(pdf, "A1") & own(pdf, "D4")


def test_a_canonical_font_name_stands_for_one_font(combined):
    """The combined file keeps the first font of each canonical name: across records
    (and languages) a name must always mean the same font."""
    _, documents, _, _ = combined
    fonts: dict[str, set[bytes]] = {}
    for record in documents.values():
        for path, _ in record:
            with pikepdf.open(path) as pdf:
                for page in pdf.pages:
                    for name, font in page.Resources.Font.items():
                        if name.startswith("/MH-"):
                            program = font.DescendantFonts[0].FontDescriptor.FontFile2
                            fonts.setdefault(name, set()).add(program.read_bytes())
    assert any(name.endswith("-en") for name in fonts)
    assert all(len(programs) == 1 for programs in fonts.values())
