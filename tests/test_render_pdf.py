"""The generic PDFs: structure, accessibility, fonts, one-page inserts."""

import pikepdf
import pypdf
import pytest

from tests.conftest import normalise, pdf_text

HEADINGS = {
    "oral": [
        "1. Qu'est-ce que le baclofène et dans quels cas est-il utilisé ?",
        "2. Quelles sont les informations à connaître avant de prendre le baclofène ?",
        "3. Comment prendre le baclofène ?",
        "4. Quels sont les effets indésirables éventuels ?",
        "5. Comment conserver le baclofène ?",
        "6. Contenu de l'emballage et autres informations",
    ],
    "intrathecal": [
        "1. Qu'est-ce que le baclofène et dans quels cas est-il utilisé ?",
        "2. Quelles sont les informations à connaître avant de recevoir le baclofène ?",
        "3. Comment le baclofène est-il administré ?",
        "4. Quels sont les effets indésirables éventuels ?",
        "5. Comment conserver le baclofène ?",
        "6. Contenu de l'emballage et autres informations",
    ],
}
DOCUMENTS = ["oral-leaflet", "oral-insert", "intrathecal-leaflet", "intrathecal-insert",
             "intrathecal-card"]


@pytest.mark.parametrize("variant", ["oral", "intrathecal"])
def test_leaflet_has_the_six_sections_in_order(built, variant):
    text = pdf_text(built / "fr" / f"baclofen-{variant}-leaflet.pdf")
    positions = [text.find(normalise(heading)) for heading in HEADINGS[variant]]
    assert -1 not in positions, positions
    assert positions == sorted(positions)


@pytest.mark.parametrize("variant", ["oral", "intrathecal"])
def test_leaflet_opens_with_preamble_and_treatment_and_warns_never_stop(built, variant):
    text = pdf_text(built / "fr" / f"baclofen-{variant}-leaflet.pdf")
    assert text.index("Lisez toute cette notice") < text.index("Votre ") < text.index("1. Qu'est")
    assert "jamais" in text and "brutalement" in text


def test_footer_has_id_version_revision_and_page_x_of_y(built):
    reader = pypdf.PdfReader(built / "fr" / "baclofen-oral-leaflet.pdf")
    pages = len(reader.pages)
    for number, page in enumerate(reader.pages, 1):
        text = normalise(page.extract_text())
        assert f"page {number} / {pages}" in text
        assert "MH-BAC-OR-N · version 1.1 · mise à jour 4 décembre 2026" in text


@pytest.mark.parametrize("variant", ["oral", "intrathecal"])
def test_each_insert_is_exactly_one_page_with_large_type(built, variant):
    path = built / "fr" / f"baclofen-{variant}-insert.pdf"
    assert len(pypdf.PdfReader(path).pages) == 1
    sizes = font_sizes(path)
    body = max(set(sizes), key=sizes.count)
    assert body >= 16


def test_inserts_differ_where_the_facts_differ(built):
    oral = pdf_text(built / "fr" / "baclofen-oral-insert.pdf")
    pump = pdf_text(built / "fr" / "baclofen-intrathecal-insert.pdf")
    assert "démangeaisons" in pump and "démangeaisons" not in oral
    assert "Consultation pompe" in pump and "01 99 00 12 35" in pump
    assert "01 99 00 12 35" not in oral
    for text in (oral, pump):
        assert "15 / 112" in text and "01 99 00 12 34" in text


def test_leaflet_body_text_is_at_least_12_pt(built):
    sizes = font_sizes(built / "fr" / "baclofen-oral-leaflet.pdf")
    body = max(set(sizes), key=sizes.count)
    assert body >= 12


@pytest.mark.parametrize("name", DOCUMENTS)
def test_pdf_is_tagged_with_language_title_and_embedded_fonts(built, name):
    with pikepdf.open(built / "fr" / f"baclofen-{name}.pdf") as pdf:
        assert pdf.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in pdf.Root
        assert str(pdf.Root.Lang) == "fr"
        assert str(pdf.docinfo.Title).startswith(("Baclofène", "Pompe", "Porteur"))
        fonts = all_fonts(pdf)
        assert fonts, "no font found"
        for font in fonts:
            descriptor = (font.DescendantFonts[0] if "/DescendantFonts" in font else font
                          ).FontDescriptor
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            assert "Liberation" in str(descriptor.FontName)


def all_fonts(pdf: pikepdf.Pdf) -> list:
    fonts = []
    for page in pdf.pages:
        resources = page.obj.get("/Resources", {})
        fonts += list(resources.get("/Font", {}).values())
    return fonts


def font_sizes(path) -> list[float]:
    """The font size of every character drawn (in points), from the content streams."""
    sizes = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            sizes.extend([round(font_size * tm[0] * cm[0], 1)] * len(text.strip()))

    for page in pypdf.PdfReader(path).pages:
        page.extract_text(visitor_text=visit)
    return sizes


def test_large_print_layout_sets_leaflet_body_at_18_pt(capsys, tmp_path):
    from tests.conftest import run_cli

    code, stdout, _ = run_cli(capsys, "--out", str(tmp_path), "--lang", "fr", "--variant", "oral",
                              "--layout", "large-print", "--format", "pdf")
    assert code == 0
    leaflet = tmp_path / "fr" / "baclofen-oral-leaflet-large-print.pdf"
    assert str(leaflet) in stdout
    sizes = font_sizes(leaflet)
    assert max(set(sizes), key=sizes.count) >= 18
    assert len(pypdf.PdfReader(tmp_path / "fr" / "baclofen-oral-insert-large-print.pdf").pages) == 1
