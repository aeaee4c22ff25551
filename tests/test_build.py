"""The default build: what it writes, what it prints, and that it is reproducible."""

import hashlib

from tests.conftest import run_cli


def digests(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_prints_every_written_path_with_contract_names(capsys, tmp_path):
    code, stdout, stderr = run_cli(capsys, "--out", str(tmp_path), "--lang", "fr",
                                   "--variant", "oral")
    assert code == 0 and stderr == []
    written = sorted(p.name for p in (tmp_path / "fr").iterdir())
    assert written == ["baclofen-oral-insert.docx", "baclofen-oral-insert.pdf",
                       "baclofen-oral-leaflet.docx", "baclofen-oral-leaflet.pdf"]
    assert sorted(stdout) == sorted(str(tmp_path / "fr" / name) for name in written)


def test_format_option_narrows_the_build(capsys, tmp_path):
    code, stdout, _ = run_cli(capsys, "--out", str(tmp_path), "--lang", "fr", "--format", "docx")
    assert code == 0
    assert stdout and all(line.endswith(".docx") for line in stdout)
    assert len(stdout) == 5  # oral leaflet + insert, pump leaflet + insert + card


def test_two_builds_are_byte_identical(capsys, built, tmp_path):
    code, _, _ = run_cli(capsys, "--out", str(tmp_path), "--lang", "fr")
    assert code == 0
    first, second = digests(built / "fr"), digests(tmp_path / "fr")
    assert first == second and len(first) == 10


def test_unknown_language_is_a_usage_error(capsys, tmp_path):
    code, stdout, stderr = run_cli(capsys, "--out", str(tmp_path), "--lang", "xx")
    assert code == 2 and stdout == []
    assert stderr[0].endswith("xx.yaml: no source file for language 'xx' (available: fr)") or \
        "no source file for language 'xx'" in stderr[0]
    assert not any(tmp_path.iterdir())
