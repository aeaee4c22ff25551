"""PDF/UA structure, checked on generic, stamped and fully rendered files: every content
item of every page is either tagged (marked content whose MCID belongs to an element of
the structure tree) or an artifact; language, title, DisplayDocTitle and tab order are
set; headings nest without skipping a level. The same files also go through `page`
(page-validation on PyPI), an independent PDF/UA-1 validator that runs the veraPDF
rules; it does not see a marked-content sequence left out of the structure tree,
which the check written here does."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace

import page as page_validation
import pikepdf
import pytest

from handouts.build import Renderer
from handouts.compose import compose, documents_for
from handouts.render.artifacts import reachable_elements
from handouts.sources.loading import load_sources
from tests.test_layouts import sample_patient

PAINTING = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "Tj", "TJ", "'", '"', "Do", "sh",
            "BI"}
HEADINGS = {f"/H{level}": level for level in range(1, 7)}


def untagged_content(pdf: pikepdf.Pdf) -> list[str]:
    """Every painting operator neither inside an artifact nor inside marked content
    whose MCID maps to an element of the structure tree that claims it."""
    reachable = reachable_elements(pdf)
    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    parent_tree = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    problems = []
    for number, page in enumerate(pdf.pages, 1):
        marks = parent_tree.get(int(page.obj.get("/StructParents", -1)), pikepdf.Array())
        stack: list[object] = []
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ("BMC", "BDC"):
                properties = operands[1] if op == "BDC" else None
                if str(operands[0]) == "/Artifact":
                    stack.append("artifact")
                elif isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
                    stack.append(int(properties.MCID))
                else:
                    stack.append(None)
            elif op == "EMC":
                stack.pop()
            elif op in PAINTING and "artifact" not in stack:
                mcids = [entry for entry in stack if isinstance(entry, int)]
                if not mcids:
                    problems.append(f"page {number}: {op} outside any tag or artifact")
                elif not claimed(marks, mcids[-1], page, reachable):
                    problems.append(f"page {number}: MCID {mcids[-1]} not in the tree")
    return problems


def claimed(marks: pikepdf.Array, mcid: int, page: pikepdf.Page,
            reachable: set[tuple[int, int]]) -> bool:
    """Whether the MCID's element (parent tree) is in the tree and lists the MCID."""
    if mcid >= len(marks) or not isinstance(marks[mcid], pikepdf.Dictionary):
        return False
    element = marks[mcid]
    kids = element.K if isinstance(element.K, pikepdf.Array) else [element.K]
    for kid in kids:
        if isinstance(kid, int) and int(kid) == mcid:
            return element.objgen in reachable and element.Pg.objgen == page.obj.objgen
        if isinstance(kid, pikepdf.Dictionary) and kid.get("/MCID") == mcid:
            return element.objgen in reachable
    return False


def heading_levels(pdf: pikepdf.Pdf) -> list[int]:
    """The heading elements' levels, in the structure tree's reading order."""
    levels = []

    def visit(node) -> None:
        if isinstance(node, pikepdf.Array):
            for kid in node:
                visit(kid)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
            if str(node.S) in HEADINGS:
                levels.append(HEADINGS[str(node.S)])
            if "/K" in node:
                visit(node.K)

    visit(pdf.Root.StructTreeRoot.K)
    return levels


def pdfua_problems(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        problems = untagged_content(pdf)
        if not str(pdf.Root.get("/Lang", "")):
            problems.append("no /Lang")
        if not str(pdf.docinfo.get("/Title", "")):
            problems.append("no title")
        with pdf.open_metadata() as xmp:
            if not xmp.get("dc:title"):
                problems.append("no dc:title in the XMP metadata")
        if pdf.Root.get("/ViewerPreferences", {}).get("/DisplayDocTitle") is not True:
            problems.append("DisplayDocTitle not set")
        if pdf.Root.MarkInfo.get("/Marked") is not True:
            problems.append("not marked as tagged")
        problems += [f"page {n}: tab order not /S" for n, page in enumerate(pdf.pages, 1)
                     if page.obj.get("/Tabs") != "/S"]
        levels = heading_levels(pdf)
        if not levels or levels[0] != 1:
            problems.append(f"headings do not start with H1: {levels[:3]}")
        problems += [f"heading level skips from H{a} to H{b}"
                     for a, b in itertools.pairwise(levels) if b > a + 1]
    validation = page_validation.validate_pdf_bytes(data, profile="ua1")
    problems += [f"{failure.rule_id}: {failure.message}" for failure in validation.failures]
    return problems


@pytest.mark.parametrize("layout", ["standard", "large-print"])
def test_generic_files_are_pdfua_structured(built, built_large_print, layout):
    folder = built if layout == "standard" else built_large_print
    files = sorted(folder.rglob("*.pdf"))
    assert len(files) == 10
    assert {path.name: pdfua_problems(path.read_bytes()) for path in files} == {
        path.name: [] for path in files}


def test_stamped_files_are_pdfua_structured(samples):
    files = sorted(path for folder in samples.values() for path in folder.glob("*.pdf"))
    stamped = 0
    for path in files:
        with pikepdf.open(path) as pdf:
            stamped += any(isinstance(page.obj.Contents, pikepdf.Array) for page in pdf.pages)
        assert pdfua_problems(path.read_bytes()) == [], path.name
    assert stamped >= len(files) // 2


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(load_sources(), "large-print")


@pytest.mark.parametrize("variant", ["oral", "intrathecal"])
def test_full_renders_and_fallbacks_are_pdfua_structured(renderer, variant):
    person = sample_patient(variant, "fr")
    for kind in documents_for(variant):
        document = compose(renderer.sources, "fr", variant, kind, person)
        full = renderer.pdf.write(renderer.pdf.render(document, "test"), "test")
        assert pdfua_problems(full) == [], kind
    too_long = replace(person, name="Marie-Christine Delacroix-Beaumont " * 3)
    document = compose(renderer.sources, "fr", variant, "leaflet", too_long)
    assert pdfua_problems(renderer.pdf_bytes(document, "test", personal=True)) == []


def test_the_check_sees_untagged_footers():
    """Without the post-processing step, WeasyPrint's footers are neither tagged nor
    artifacts: the check finds them on every page."""
    sources = load_sources()
    writer = Renderer(sources).pdf
    rendered = writer.render(compose(sources, "fr", "oral", "leaflet"), "test")
    raw = rendered.write_pdf(pdf_variant="pdf/ua-1")
    problems = pdfua_problems(raw)
    assert len([p for p in problems if "not in the tree" in p]) >= len(rendered.pages)
    assert pdfua_problems(writer.write(rendered, "test")) == []


def test_artifact_marking_keeps_builds_byte_reproducible():
    sources = load_sources()
    writer = Renderer(sources).pdf
    document = compose(sources, "en", "intrathecal", "insert")
    first = writer.write(writer.render(document, "test"), "id")
    assert first == writer.write(writer.render(document, "test"), "id")
    assert first != writer.write(writer.render(document, "test"), "other id")
