"""Shared fixtures: one generic build per test session, and readers for its output."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest

from handouts.cli import main
from handouts.project import EMBEDDED

SECTION_KEYS = ("what_it_is", "before_you_take", "how_to_take", "side_effects", "storage",
                "contents")


def normalise(text: str) -> str:
    """Collapse every kind of space, so texts compare whatever the line breaks."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def pdf_text(path: Path) -> str:
    """The PDF's text in reading order (poppler's pdftotext, installed by setup.sh)."""
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                            capture_output=True, text=True)
    return normalise(result.stdout)


def docx_paragraphs(path: Path) -> list:
    """Every paragraph, tables' cells included, in document order."""
    document = docx.Document(path)
    body = document.element.body
    return [docx.text.paragraph.Paragraph(p, document) for p in body.iter(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}p")]


def run_cli(capsys, *argv: str) -> tuple[int, list[str], list[str]]:
    """Run the command line in-process: (exit code, stdout lines, stderr lines)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The default build (French, both variants, PDF and DOCX), made once."""
    out = tmp_path_factory.mktemp("built")
    assert main(["--out", str(out), "--lang", "fr"]) == 0
    return out


@pytest.fixture
def sources_copy(tmp_path) -> Path:
    """A writable copy of the project's sources, for tests that break them."""
    target = tmp_path / "sources"
    shutil.copytree(EMBEDDED.sources_dir, target)
    return target
