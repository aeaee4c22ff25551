"""The variable-data path: a personal document stamped onto its shared shape must look,
read and tag exactly like a full render of the same patient."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
from pathlib import Path

import pikepdf
import pypdfium2
import pytest

from handouts.build import Renderer, patient_documents
from handouts.compose import compose, documents_for
from handouts.model import split_personal
from handouts.records.validate import RawRecord, validate_record
from handouts.render import stamp
from handouts.render.docx import write_docx
from handouts.sources.loading import load_sources
from tests.conftest import normalise, pdf_text
from tests.test_patient import ORAL, PUMP


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(load_sources())


def patient(record: dict, **changes):
    raw = RawRecord({**record, **changes}, lambda field: "record.yaml", 1)
    return validate_record(raw, ["fr", "en"], require_id=True)


def pages_png(data: bytes, folder: Path, name: str) -> list[bytes]:
    path = folder / f"{name}.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "72", "-gray", "-png", str(path), str(folder / name)],
                   check=True)
    return [p.read_bytes() for p in sorted(folder.glob(f"{name}-*.png"))]


@pytest.mark.parametrize("record", [ORAL, PUMP], ids=["oral", "pump"])
def test_stamped_documents_rasterise_like_full_renders(renderer, tmp_path, record):
    person = patient(record)
    for kind in documents_for(person.variant):
        document = compose(renderer.sources, person.lang, person.variant, kind, person)
        stamped = renderer.pdf_bytes(document, "test", personal=True)
        full = renderer.pdf.write(renderer.checked_layout(document, True), "test")
        with pikepdf.open(io.BytesIO(stamped)) as pdf:
            assert any(isinstance(page.obj.Contents, pikepdf.Array) for page in pdf.pages), \
                f"{kind} was not stamped"
        assert pages_png(stamped, tmp_path, f"{kind}-s") == pages_png(full, tmp_path,
                                                                      f"{kind}-f"), kind


def test_a_different_patient_does_not_rasterise_the_same(renderer, tmp_path):
    one, other = patient(ORAL), patient(ORAL, titration_start_mg="5", titration_step_mg="10")
    documents = [compose(renderer.sources, "fr", "oral", "insert", p) for p in (one, other)]
    first, second = (renderer.pdf_bytes(d, "test", personal=True) for d in documents)
    assert pages_png(first, tmp_path, "one") != pages_png(second, tmp_path, "other")


def test_values_are_tagged_inside_their_table_cells(renderer, tmp_path):
    person = patient(PUMP)
    document = compose(renderer.sources, "fr", "intrathecal", "leaflet", person)
    _, values = split_personal(document)
    data = renderer.pdf_bytes(document, "test", personal=True)
    path = tmp_path / "leaflet.pdf"
    path.write_bytes(data)
    assert "Jean Dupont" in pdf_text(path)
    with pikepdf.open(path) as pdf:
        page = pdf.pages[0]
        marks = pdf.Root.StructTreeRoot.ParentTree.Nums[2 * int(page.StructParents) + 1]
        parts = list(page.obj.Contents)
        cells = []
        for before, overlay in zip(parts[0::2], parts[1::2]):
            # each value is drawn inside its cell's marked content, in content order
            [mcid] = re.findall(rb"<</MCID (\d+)>>\nBDC\nq\n(?:[-\d. ]+ cm\n)?$",
                                before.read_bytes())
            kid = marks[int(mcid)]
            assert kid.S == "/Span" and kid.P.S == "/TD"
            assert b"TJ" in overlay.read_bytes()
            cells.append(kid.P.objgen)
        assert len(set(cells)) == len(cells) == len(values)


def test_a_value_too_long_for_its_line_is_rendered_in_full(renderer):
    person = patient(ORAL, name="Marie-Bernadette Anne-Sophie Dupont-Lefèvre de la Tour")
    document = compose(renderer.sources, "fr", "oral", "leaflet", person)
    stamped = renderer.pdf_bytes(document, "test", personal=True)
    assert stamped == renderer.pdf.write(renderer.checked_layout(document, True), "test")


def test_a_value_outside_the_font_palette_is_rendered_in_full(renderer):
    person = patient(ORAL, name="Zoë Nguyễn")
    document = compose(renderer.sources, "fr", "oral", "leaflet", person)
    stamped = renderer.pdf_bytes(document, "test", personal=True)
    assert stamped == renderer.pdf.write(renderer.checked_layout(document, True), "test")


def test_filled_docx_templates_equal_python_docx_output(renderer):
    tricky = patient(ORAL, name="A & B <C> \"D\" 'E'", prescriber="Dr Ü > x")
    for person in (tricky, patient(PUMP)):
        for kind in documents_for(person.variant):
            document = compose(renderer.sources, person.lang, person.variant, kind, person)
            assert renderer.docx_bytes(document, personal=True) == \
                write_docx(document, renderer.sources.profile.name)


def test_a_patients_own_phone_reaches_the_shared_pages(renderer, tmp_path):
    person = patient(ORAL)
    document = compose(renderer.sources, "fr", "oral", "leaflet", person)
    path = tmp_path / "leaflet.pdf"
    path.write_bytes(renderer.pdf_bytes(document, "test", personal=True))
    text = normalise(pdf_text(path))
    assert "01 99 00 55 66" in text
    assert renderer.sources.profile.team_phone not in text


def test_shape_is_shared_by_patients_with_the_same_plan_lengths():
    sources = load_sources()
    shapes = {split_personal(compose(sources, "fr", "oral", "leaflet", p))[0]
              for p in (patient(ORAL), patient(ORAL, name="Autre Nom", prescriber="Dr X"))}
    assert len(shapes) == 1


def test_a_stamped_pdf_is_its_shape_plus_an_incremental_update(renderer):
    """The shape's bytes are written once and reused as they are; only an update is
    added per patient, and stamping is reproducible."""
    document = compose(renderer.sources, "fr", "intrathecal", "card", patient(PUMP))
    template, _values = renderer.filled(document)
    stamped = renderer.pdf_bytes(document, "test", personal=True)
    assert stamped.startswith(template.data) and stamped.endswith(b"%%EOF\n")
    assert len(stamped) - len(template.data) < 30_000  # fonts, structure, the overlay
    assert renderer.pdf_bytes(document, "test", personal=True) == stamped
    with pikepdf.open(io.BytesIO(stamped)) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert len(pdf.pages) == 1


def test_a_stamp_does_not_depend_on_the_values_drawn_with_it(renderer):
    """Values are drawn many at a time; each must come out as if drawn alone, or a
    batch's files would differ from `patient`'s."""
    person, other = patient(PUMP, lang="en"), patient(ORAL, name="Alice Durand")
    renderer.prepare(patient_documents(renderer.sources, other)
                     + patient_documents(renderer.sources, person))
    alone = Renderer(renderer.sources)
    for together, by_itself in zip(patient_documents(renderer.sources, person),
                                   patient_documents(alone.sources, person), strict=True):
        assert renderer.pdf_bytes(together, "t", personal=True) == \
            alone.pdf_bytes(by_itself, "t", personal=True), together.kind


@pytest.mark.parametrize("record, kind", [(ORAL, "leaflet"), (ORAL, "insert"),
                                          (PUMP, "leaflet"), (PUMP, "insert"), (PUMP, "card")])
def test_pdfium_extracts_a_stamped_page_like_a_full_render(renderer, record, kind):
    """Chrome's and Edge's PDF engine reads text in content order: each value must be
    drawn where its cell is, so copy and search give 'Nom Jean Dupont', as in a full
    render, not the values after the page footer."""
    person = patient(record)
    document = compose(renderer.sources, person.lang, person.variant, kind, person)
    stamped = renderer.pdf_bytes(document, "test", personal=True)
    full = renderer.pdf.write(renderer.checked_layout(document, True), "test")
    assert stamped != full  # really stamped

    def texts(data: bytes) -> list[str]:
        pdf = pypdfium2.PdfDocument(data)
        return [page.get_textpage().get_text_range() for page in pdf]
    assert texts(stamped) == texts(full)
    _, values = split_personal(document)
    assert normalise(values[0]) in normalise(" ".join(texts(stamped)))


def test_a_value_inside_a_transformed_cell_is_brought_back_to_page_space():
    """Where a value's cell is drawn under another transformation, the `cm` its overlay
    opens with, applied there, gives the page's own space back (generated matrices)."""
    page_space = stamp._times(stamp.PX_TO_PT, (1.0, 0.0, 0.0, -1.0, 0.0, 841.89))
    for a, b, e, f in itertools.product((1.0, 0.5, 2.0), (0.0, 0.3), (0.0, 12.5), (0.0, -7.0)):
        current = stamp._times((a, b, -b, a, e, f), page_space)
        change = stamp._times(page_space, stamp._inverse(current))
        assert all(abs(x - y) < 1e-9
                   for x, y in zip(stamp._times(change, current), page_space, strict=True))
