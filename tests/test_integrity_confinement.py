"""Family 5: files stay in their place. The template loader reads only inside
layouts/templates (a symbolic link out is refused); a batch's state files are
untrusted: they cannot make the manifest list outside files or pull another batch's
PDF into the print file; a symbolic link at out/<id> is not followed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest

from handouts.compose import compose
from handouts.errors import InputError
from handouts.project import EMBEDDED
from handouts.render.pdf import PdfWriter
from handouts.sources.loading import load_sources
from tests.conftest import pdf_text
from tests.integrity_kit import batch, files_under, oral, status, write_csv


@pytest.fixture
def layouts(tmp_path):
    target = tmp_path / "layouts"
    shutil.copytree(EMBEDDED.layouts_dir, target)
    return target


@pytest.mark.parametrize("link", ["evil.html.j2", "parts/evil.html.j2"])
def test_an_include_through_a_symbolic_link_is_refused(layouts, tmp_path, link):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    if "/" in link:
        (tmp_path / "elsewhere").mkdir()
        shutil.copy(secret, tmp_path / "elsewhere" / "evil.html.j2")
        (layouts / "templates" / "parts").symlink_to(tmp_path / "elsewhere")
    else:
        (layouts / "templates" / link).symlink_to(secret)
    document = layouts / "templates" / "document.html.j2"
    document.write_text(document.read_text().replace("<body", f'{{% include "{link}" %}}<body',
                                                     1))
    writer = PdfWriter(layouts_dir=layouts)
    with pytest.raises(InputError) as caught:
        writer.html(compose(load_sources(), "fr", "oral", "insert"), "author")
    assert [str(p) for p in caught.value.problems] == [
        (f"layouts/templates/{link}: refused: it leads outside layouts/templates (templates "
        "must be plain files of that folder)")]


def test_the_main_template_as_a_symbolic_link_is_refused(layouts, tmp_path):
    outside = tmp_path / "document.html.j2"
    shutil.move(layouts / "templates" / "document.html.j2", outside)
    (layouts / "templates" / "document.html.j2").symlink_to(outside)
    with pytest.raises(InputError, match="leads outside layouts/templates"):
        PdfWriter(layouts_dir=layouts)


@pytest.fixture(scope="module")
def two_batches(tmp_path_factory):
    """Batch A (Alpha) and batch B (Bravo), built once; tests copy B before forging."""
    from handouts.cli import main
    folder = tmp_path_factory.mktemp("two")
    for letter, name in (("A", "Alphaperson"), ("B", "Bravoperson")):
        table = write_csv(folder / f"{letter}.csv", [oral(f"{letter}1", name=name)])
        assert main(["batch", str(table), "--out", str(folder / f"out{letter}"), "--jobs", "1",
                     "--format", "pdf"]) == 0
    return folder


@pytest.mark.parametrize("forged", ["A-pdf-by-path", "outside", "A-pdf-by-link", "other-id"])
def test_a_forged_state_file_is_not_trusted(capsys, tmp_path, two_batches, forged):
    out = tmp_path / "outB"
    shutil.copytree(two_batches / "outB", out)
    other = two_batches / "outA" / "A1" / "A1-baclofen-oral-leaflet-fr.pdf"
    state_path = out / "B1" / ".record.json"
    state = json.loads(state_path.read_text())
    entry = state["files"][0]
    if forged == "A-pdf-by-link":
        (out / "B1" / entry["path"].split("/")[1]).unlink()
        (out / "B1" / entry["path"].split("/")[1]).symlink_to(other)
    else:
        entry["path"] = {"A-pdf-by-path": f"B1/../../{other.relative_to(two_batches)}",
                         "outside": "/etc/hostname", "other-id": "A1/A1-x.pdf"}[forged]
    entry["sha256"] = hashlib.sha256(other.read_bytes()).hexdigest()
    state_path.write_text(json.dumps(state))
    code, _, stderr, manifest = batch(capsys, two_batches / "B.csv", out)
    assert code == 0
    assert stderr[-1] == "batch: 1 rows read, 1 built (0 already up to date), 0 refused"
    assert all(f["path"].startswith("B1/B1-") for f in manifest["records"][0]["files"])
    text = pdf_text(out / "baclofen-print-B.pdf")
    assert "Bravoperson" in text and "Alphaperson" not in text
    assert not (out / "B1" / entry["path"].split("/")[-1]).is_symlink()


def test_a_symbolic_link_at_a_record_folder_is_not_followed(capsys, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "S2").symlink_to(elsewhere)
    table = write_csv(tmp_path / "s.csv", [oral("S1"), oral("S2")])
    code, _, stderr, manifest = batch(capsys, table, out)
    assert code == 1 and status(manifest) == {2: ("S1", "ok"), 3: ("S2", "error")}
    assert stderr[0] == (f"{table}: row 3: {out / 'S2'}: is a symbolic link; refusing to "
                         "follow it (remove it)")
    assert files_under(elsewhere) == [] and os.path.islink(out / "S2")
