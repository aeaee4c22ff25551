"""Source validation: every problem with file:line:col, exit 2, nothing written."""

from pathlib import Path

import pytest

from handouts.errors import InputError
from handouts.sources.content import load_language
from tests.conftest import run_cli


def replace_line(path: Path, old: str, new: str) -> int:
    """Replace the first line containing `old`; return its 1-based number."""
    lines = path.read_text(encoding="utf-8").split("\n")
    number = next(i for i, line in enumerate(lines) if old in line)
    lines[number] = lines[number].replace(old, new)
    path.write_text("\n".join(lines), encoding="utf-8")
    return number + 1


def test_malformed_source_names_file_line_column_and_writes_nothing(capsys, sources_copy,
                                                                   tmp_path):
    line = replace_line(sources_copy / "fr.yaml", '  morning: "Matin"', "  morning: no")
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(capsys, "--sources", str(sources_copy), "--out", str(out))
    assert code == 2
    assert stdout == []
    assert stderr == [(f"{sources_copy / 'fr.yaml'}:{line}:12: labels.morning: expected text, "
                      "found a yes/no value (boolean) 'no' (put it in double quotes)")]
    assert not out.exists()


def test_every_problem_of_a_file_is_reported_at_once(capsys, sources_copy, tmp_path):
    fr = sources_copy / "fr.yaml"
    first = replace_line(fr, '  noon: "Midi"', '  nooon: "Midi"')
    second = replace_line(fr, "**tout de suite** le {emergency_number}",
                          "**tout de suite** le {emergency}")
    out = tmp_path / "out"
    code, _, stderr = run_cli(capsys, "--sources", str(sources_copy), "--out", str(out))
    assert code == 2
    assert f"{fr}:{first}:3: labels.nooon: unknown key 'nooon' (did you mean 'noon'?)" in stderr
    assert any(line.startswith(f"{fr}:{second}:") and "unknown placeholder '{emergency}'" in line
               for line in stderr)
    assert any("labels: missing key 'noon'" in line for line in stderr)
    assert not out.exists()


def test_sections_must_be_the_six_in_order(sources_copy):
    fr = sources_copy / "fr.yaml"
    text = fr.read_text(encoding="utf-8")
    fr.write_text(text.replace("      storage:\n", "      keeping:\n", 1), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_language(fr)
    messages = [p.message for p in caught.value.problems]
    assert "documents.oral_leaflet.sections.keeping: unknown key 'keeping'" in messages
    assert "documents.oral_leaflet.sections: missing key 'storage'" in messages


def test_html_in_a_source_string_is_refused(sources_copy):
    fr = sources_copy / "fr.yaml"
    line = replace_line(fr, '  page: "page"', '  page: "<img src=\'file:///etc/passwd\'>"')
    with pytest.raises(InputError) as caught:
        load_language(fr)
    assert [str(p) for p in caught.value.problems] == [
        (f"{fr}:{line}:9: labels.page: HTML markup is not allowed in text "
        "(use **bold** for emphasis)")]


def test_check_command_reports_errors_with_exit_1(capsys, sources_copy):
    replace_line(sources_copy / "hospital.yaml", 'team_phone: "01 99 00 12 34"',
                 'team_phone: "call us"')
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy))
    assert code == 1
    assert "team_phone: 'call us' is not a phone number" in stderr[0]
    assert stderr[1:] == ["check: 1 errors, 0 warnings"]
