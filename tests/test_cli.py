"""Conventions of the command line: help, program name, version, output folder."""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys

import pytest

from handouts.bulk.batch import Progress
from handouts.cli import COMMANDS, main, run_build
from tests.conftest import docx_paragraphs, run_cli


class _Parsed(Exception):
    """Stops a command once its parser is built, carrying the parser."""


def _parsers(monkeypatch) -> dict[str, argparse.ArgumentParser]:
    """Every parser of the command line, sub-actions included, by program name."""
    found: dict[str, argparse.ArgumentParser] = {}

    def collect(parser, *args, **kwargs):
        raise _Parsed(parser)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", collect)
    for command in [run_build, *COMMANDS.values()]:
        with pytest.raises(_Parsed) as parsed:
            command([])
        pending = [parsed.value.args[0]]
        while pending:
            parser = pending.pop()
            found[parser.prog] = parser
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    pending += action.choices.values()
    return found


def test_every_option_and_argument_has_help(monkeypatch):
    parsers = _parsers(monkeypatch)
    assert len(parsers) >= len(COMMANDS) + 1
    missing = [f"{prog}: {action.option_strings or action.dest}"
               for prog, parser in parsers.items() for action in parser._actions
               if not action.help or action.help == argparse.SUPPRESS]
    assert missing == []


def test_top_level_help_lists_every_command_on_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    listed = lines[lines.index("commands:") + 1:]
    for name in ["(none)", *COMMANDS]:
        entry = next(i for i, line in enumerate(listed) if line.split()[:1] == [name])
        assert re.fullmatch(rf"  {re.escape(name)} +[a-z].{{10,}}", listed[entry])
        assert len(listed[entry]) <= 79
        following = listed[entry + 1]
        assert following == "" or not following.startswith(" " * 4)  # no continuation line


def test_version_names_the_libraries_a_bug_report_needs(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"make_handouts \d+\.\d+\.\d+ \(WeasyPrint \d+\.\d+(\.\d+)?, "
                        r"Pango \d+\.\d+\.\d+, python-docx \d+\.\d+\.\d+, Python 3\.\d+\.\d+\)\n",
                        capsys.readouterr().out)


def test_python_m_handouts_calls_itself_so_in_help(tmp_path):
    for argv, shown in ((["--help"], "'python -m handouts COMMAND --help' describes"),
                        (["patient", "--help"], "usage: python -m handouts patient ")):
        result = subprocess.run([sys.executable, "-m", "handouts", *argv], cwd=tmp_path,
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage: python -m handouts ")
        assert shown in result.stdout
    assert not list(tmp_path.iterdir())


def test_output_goes_to_the_current_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "--lang", "fr", "--variant", "oral", "--format", "docx")
    assert code == 0, err
    assert out == ["output/fr/baclofen-oral-leaflet.docx", "output/fr/baclofen-oral-insert.docx"]
    titles = [p.text for p in docx_paragraphs(tmp_path / out[0]) if p.style.name == "Heading 1"]
    assert titles and "baclofène" in titles[0].lower()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "term", "live"), [
    (_Terminal, "xterm-256color", True), (_Terminal, "dumb", False), (io.StringIO, "xterm", False)])
def test_progress_is_a_bar_only_on_a_real_terminal_and_never_coloured(monkeypatch, stream, term,
                                                                      live):
    monkeypatch.setenv("TERM", term)
    monkeypatch.setenv("NO_COLOR", "1")
    output = stream()
    progress = Progress(20, output)
    for _ in range(20):
        progress.advance()
    text = output.getvalue()
    assert "\x1b" not in text
    if live:
        assert text.count("\r") == 20 and text.endswith("\n")
        assert "batch [##############################] 20/20 records" in text
    else:
        assert "\r" not in text
        assert [line.split(" (")[0] for line in text.splitlines()] == [
            f"batch: {n}/20 records built" for n in range(2, 21, 2)]
