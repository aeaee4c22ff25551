"""WeasyPrint may read the project's layout files and nothing else."""

import shutil

import pytest

from handouts.compose import compose
from handouts.errors import InputError
from handouts.project import EMBEDDED
from handouts.render.fetcher import AssetFetcher, RefusedURL
from handouts.render.pdf import PdfWriter
from handouts.sources.loading import load_sources


@pytest.fixture
def layouts(tmp_path):
    target = tmp_path / "layouts"
    shutil.copytree(EMBEDDED.layouts_dir, target)
    return target


def test_fetcher_serves_a_layout_file(layouts):
    response = AssetFetcher([layouts]).fetch((layouts / "css" / "base.css").as_uri())
    assert b"@page" in response.read()
    assert response.content_type == "text/css"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://example.org/x.css",
                                 "data:text/css,body{}"])
def test_fetcher_refuses_anything_outside_the_layouts(layouts, url):
    with pytest.raises(RefusedURL):
        AssetFetcher([layouts]).fetch(url)


def test_fetcher_refuses_a_path_that_climbs_out(layouts):
    with pytest.raises(RefusedURL):
        AssetFetcher([layouts]).fetch((layouts / "css").as_uri() + "/../../../etc/passwd")


@pytest.mark.parametrize("reference", ["url(file:///etc/passwd)", "url(http://example.org/f.png)"])
def test_a_layout_naming_an_outside_url_fails_the_build(layouts, reference):
    css = layouts / "css" / "leaflet.css"
    css.write_text(css.read_text() + f"\nbody {{ background: {reference}; }}\n")
    sources = load_sources()
    writer = PdfWriter(layouts_dir=layouts)
    with pytest.raises(InputError) as caught:
        writer.render(compose(sources, "fr", "oral", "leaflet"), "author")
    [problem] = caught.value.problems
    assert "refused to load" in problem.message
    assert reference[4:-1] in problem.message
