"""The generic DOCX files say what the PDFs say, with real Word structure."""

import datetime as dt

import docx
import pytest
from docx.oxml.ns import qn

from tests.conftest import docx_paragraphs, normalise, pdf_text
from tests.test_render_pdf import HEADINGS


@pytest.mark.parametrize("variant", ["oral", "intrathecal"])
def test_docx_has_the_same_sections_in_heading_2_in_order(built, variant):
    paragraphs = docx_paragraphs(built / "fr" / f"baclofen-{variant}-leaflet.docx")
    sections = [normalise(p.text) for p in paragraphs if p.style.name == "Heading 2"
                and p.text[:2] in {f"{n}." for n in range(1, 7)}]
    assert sections == [normalise(h) for h in HEADINGS[variant]]


@pytest.mark.parametrize("name", ["oral-leaflet", "intrathecal-leaflet", "oral-insert",
                                  "intrathecal-insert"])
def test_docx_and_pdf_headings_match_in_order(built, name):
    paragraphs = docx_paragraphs(built / "fr" / f"baclofen-{name}.docx")
    headings = [normalise(p.text) for p in paragraphs if p.style.name.startswith("Heading")]
    pdf = pdf_text(built / "fr" / f"baclofen-{name}.pdf")
    cursor = 0
    for heading in headings:  # a heading may come twice (the danger signs)
        cursor = pdf.find(heading, cursor)
        assert cursor != -1, heading
        cursor += len(heading)


def test_docx_lists_are_real_bullets_and_boxes_are_shaded(built):
    document = docx.Document(built / "fr" / "baclofen-oral-leaflet.docx")
    bullets = [p for p in docx_paragraphs(built / "fr" / "baclofen-oral-leaflet.docx")
               if p.style.name == "List Bullet"]
    assert len(bullets) > 20
    fills = {shd.get(qn("w:fill")) for shd in document.element.body.iter(qn("w:shd"))}
    assert "FDEEF0" in fills  # the red "never stop suddenly" box


def test_docx_footer_has_page_fields_and_metadata_is_fixed(built):
    document = docx.Document(built / "fr" / "baclofen-oral-leaflet.docx")
    footer = document.sections[0].footer._element
    instructions = [node.text.strip() for node in footer.iter(qn("w:instrText"))]
    assert instructions == ["PAGE", "NUMPAGES"]
    assert "MH-BAC-OR-N" in "".join(t.text or "" for t in footer.iter(qn("w:t")))
    props = document.core_properties
    assert props.title == "Baclofène en comprimés"
    assert props.language == "fr"
    assert props.created == props.modified == dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    lang = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(
        qn("w:rPr")).find(qn("w:lang"))
    assert lang.get(qn("w:val")) == "fr-FR"


def test_docx_body_text_is_at_least_12_pt(built):
    document = docx.Document(built / "fr" / "baclofen-oral-leaflet.docx")
    assert document.styles["Normal"].font.size.pt >= 12
    insert = docx.Document(built / "fr" / "baclofen-oral-insert.docx")
    assert insert.styles["Normal"].font.size.pt >= 16


def test_table_row_and_cell_properties_are_in_schema_order(built):
    """Word refuses a file whose table, row or cell properties are out of the order
    WordprocessingML requires (LibreOffice does not mind, so its tests cannot see it)."""
    from handouts.render.docx import _PROPERTY_ORDER

    checked = 0
    for path in sorted(built.rglob("*.docx")):
        body = docx.Document(path).element.body
        for kind, order in _PROPERTY_ORDER.items():
            for properties in body.iter(qn(f"w:{kind}")):
                names = [child.tag.split("}")[1] for child in properties]
                assert all(name in order for name in names), (path.name, names)
                assert names == sorted(names, key=order.index), (path.name, kind, names)
                checked += 1
    assert checked > 100
