"""Hospital project folders: `init`, finding the project from the current folder or
--project, its own sources and layouts, and what it is warned about."""

from __future__ import annotations

import hashlib
import re

import docx
import pytest

from handouts.cli import program_name
from handouts.errors import InputError
from handouts.project import CONFIG_NAME, EMBEDDED, load_project
from tests.conftest import pdf_text, run_cli

EXAMPLE_PHONE = "01 99 00 12 34"  # the built-in fictional hospital's team phone
OWN_PHONE = "01 99 00 42 42"
QUICK = ("--lang", "fr", "--variant", "oral", "--format", "pdf")


def make_project(capsys, tmp_path, monkeypatch, *options: str):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "init", "chu", *options)
    assert code == 0, err
    return tmp_path / "chu", out, err


def set_phone(project, phone: str = OWN_PHONE) -> None:
    profile = project / "sources" / "hospital.yaml"
    text = profile.read_text(encoding="utf-8")
    assert f'team_phone: "{EXAMPLE_PHONE}"' in text
    profile.write_text(text.replace(f'team_phone: "{EXAMPLE_PHONE}"', f'team_phone: "{phone}"'),
                       encoding="utf-8")


def test_init_writes_the_sources_examples_and_config(capsys, tmp_path, monkeypatch):
    project, out, err = make_project(capsys, tmp_path, monkeypatch)
    assert out == ["chu/examples/oral-patient.yaml", "chu/examples/pump-patient.yaml",
                   "chu/examples/ward-batch.csv", f"chu/{CONFIG_NAME}",
                   "chu/sources/accepted/en.json", "chu/sources/documents.yaml",
                   "chu/sources/en.yaml", "chu/sources/fr.yaml", "chu/sources/hospital.yaml"]
    assert err == [f"init: edit chu/sources/hospital.yaml, then run {program_name()} in chu"]
    for name in ("fr.yaml", "en.yaml", "hospital.yaml", "documents.yaml"):
        assert (project / "sources" / name).read_bytes() == \
            (EMBEDDED.sources_dir / name).read_bytes()
    config = (project / CONFIG_NAME).read_text()
    assert "\nsources: sources\n" in config and "\nlayouts: built-in\n" in config
    assert re.search(r'\n  sources/fr\.yaml: "[0-9a-f]{64}"\n', config)
    assert not [p for p in tmp_path.iterdir() if p.name != "chu"]  # no staging left


def test_a_build_inside_the_project_uses_its_hospital_phone(capsys, tmp_path, monkeypatch):
    project, _, _ = make_project(capsys, tmp_path, monkeypatch, "--lang", "fr")
    set_phone(project)
    (project / "letters").mkdir()
    monkeypatch.chdir(project / "letters")  # found by walking up to make_handouts.yaml
    code, out, err = run_cli(capsys, *QUICK)
    assert code == 0, err
    assert out == ["output/fr/baclofen-oral-leaflet.pdf", "output/fr/baclofen-oral-insert.pdf"]
    text = pdf_text(project / "letters" / out[0])
    assert OWN_PHONE in text and EXAMPLE_PHONE not in text
    assert err == []


def test_project_option_from_another_folder(capsys, tmp_path, monkeypatch):
    project, _, _ = make_project(capsys, tmp_path, monkeypatch, "--lang", "fr")
    set_phone(project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = run_cli(capsys, "--project", str(project), *QUICK)
    assert code == 0, err
    assert OWN_PHONE in pdf_text(elsewhere / out[0])
    code, out, err = run_cli(capsys, *QUICK, "--out", "plain")  # outside: the built-in example
    assert code == 0, err
    assert EXAMPLE_PHONE in pdf_text(elsewhere / out[0])


def test_a_fresh_project_is_warned_its_hospital_is_the_fictional_one(capsys, tmp_path,
                                                                     monkeypatch):
    project, _, _ = make_project(capsys, tmp_path, monkeypatch, "--lang", "fr")
    monkeypatch.chdir(project)
    code, _, err = run_cli(capsys, "check", "--no-fit")
    assert code == 0
    assert err == [("sources/hospital.yaml: warning: this is still the fictional example "
                   "hospital (put your hospital's name and phone numbers)"),
                   "check: 0 errors, 1 warnings"]


def test_a_changed_built_in_text_is_reported_to_the_project(capsys, tmp_path, monkeypatch):
    """What a new version of the tool looks like to an older project: the built-in
    French differs from the one the project copied."""
    project, _, _ = make_project(capsys, tmp_path, monkeypatch, "--lang", "fr")
    set_phone(project)
    config = project / CONFIG_NAME
    config.write_text(re.sub(r'(\n  sources/fr\.yaml: )"[0-9a-f]{64}"', r'\g<1>"' + "f" * 64 + '"',
                             config.read_text()))
    monkeypatch.chdir(project)
    code, _, err = run_cli(capsys, "check", "--no-fit")
    assert code == 0
    assert len(err) == 2 and err[1] == "check: 0 errors, 1 warnings"
    assert err[0] == (
        "sources/fr.yaml: warning: the built-in version of this file has changed since it was "
        "copied (compare it with a fresh copy ('make_handouts init NEW_DIR') and carry the "
        "changes over, then set 'sources/fr.yaml' in make_handouts.yaml to "
        f"{hashlib.sha256((EMBEDDED.sources_dir / 'fr.yaml').read_bytes()).hexdigest()})")


def test_check_reports_a_project_text_error_with_its_place(capsys, tmp_path, monkeypatch):
    project, _, _ = make_project(capsys, tmp_path, monkeypatch)
    set_phone(project)
    english = project / "sources" / "en.yaml"
    lines = english.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines)
                  if "{team_phone}" in line and not line.lstrip().startswith("#"))
    lines[number] = lines[number].replace("{team_phone}", "{team_phon}")
    english.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.chdir(project)
    code, _, err = run_cli(capsys, "check", "--no-fit")
    assert code == 1
    assert next(line for line in err if "team_phon}" in line).startswith(
        f"sources/en.yaml:{number + 1}:")


def test_project_layouts_are_used(capsys, tmp_path, monkeypatch):
    project, out, _ = make_project(capsys, tmp_path, monkeypatch, "--lang", "fr", "--layouts")
    assert "chu/layouts/css/base.css" in out and f"chu/{CONFIG_NAME}" in out
    assert "\nlayouts: layouts\n" in (project / CONFIG_NAME).read_text()
    settings = project / "layouts" / "docx.yaml"
    settings.write_text(settings.read_text().replace('font: "Arial"', 'font: "Verdana"'))
    monkeypatch.chdir(project)
    code, out, err = run_cli(capsys, "--lang", "fr", "--variant", "oral")
    assert code == 0, err
    leaflet = docx.Document(project / "output/fr/baclofen-oral-leaflet.docx")
    assert leaflet.styles["Normal"].font.name == "Verdana"
    assert not [line for line in err if "layouts/" in line]  # an edited copy is no drift
    config = project / CONFIG_NAME
    config.write_text(re.sub(r'(\n  layouts/css/base\.css: )"[0-9a-f]{64}"',
                             r'\g<1>"' + "f" * 64 + '"', config.read_text()))
    code, _, err = run_cli(capsys, "--lang", "fr", "--variant", "oral", "--format", "docx")
    assert code == 0
    assert [line.split(" (")[0] for line in err if "layouts/" in line] == [
        ("layouts/css/base.css: warning: the built-in version of this file has changed since "
        "it was copied")]
    (project / "layouts" / "templates" / "document.html.j2").unlink()
    code, out, err = run_cli(capsys, "--lang", "fr", "--variant", "oral", "--out", "again")
    assert (code, out, err) == (2, [], [
        ("layouts/templates/document.html.j2: file not found (a project's layouts need every "
        "file the built-in ones have: copy it from a new 'make_handouts init --layouts')")])
    assert not (project / "again").exists()


@pytest.mark.parametrize(("config", "message"), [
    ("sources: sources\nlayout: built-in\n",
     f"{CONFIG_NAME}:2:1: layout: unknown key (known keys: sources, layouts, made_from)"),
    ("sources: texts\n",
     (f"{CONFIG_NAME}:1:10: sources: no folder 'texts' in . (create it or name an existing "
     "folder)")),
    ("sources: [a, b]\n", (f"{CONFIG_NAME}:1:10: sources: expected a folder name (e.g.  "
                          "sources: sources)")),
    ("- sources\n", f"{CONFIG_NAME}: expected 'key: value' lines"),
])
def test_a_bad_config_says_where(capsys, tmp_path, monkeypatch, config, message):
    (tmp_path / "sources").mkdir()
    (tmp_path / CONFIG_NAME).write_text(config)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, *QUICK)
    assert (code, out, err) == (2, [], [message])
    assert sorted(p.name for p in tmp_path.iterdir()) == [CONFIG_NAME, "sources"]


def test_project_option_needs_a_project(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert run_cli(capsys, "check", "--project", "empty") == (
        2, [], [(f"empty: not a make_handouts project: no {CONFIG_NAME} (create a project with "
                "'make_handouts init DIR')")])


def test_init_refuses_a_folder_in_use_or_an_unknown_language(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("keep")
    assert run_cli(capsys, "init", "used") == (
        2, [], ["used: already exists and is not an empty folder (choose a new folder name)"])
    assert run_cli(capsys, "init", "new", "--lang", "de") == (
        2, [], ["--lang: no built-in text for language 'de' (available: fr, en)"])
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["notes.txt", "used"]


def test_review_acceptance_is_written_into_the_project(capsys, tmp_path, monkeypatch):
    project, _, _ = make_project(capsys, tmp_path, monkeypatch)
    built_in = (EMBEDDED.sources_dir / "accepted" / "en.json").read_bytes()
    monkeypatch.chdir(project)
    code, out, err = run_cli(capsys, "check", "--accept", "en")
    assert (code, out) == (0, ["sources/accepted/en.json"]), err
    assert (EMBEDDED.sources_dir / "accepted" / "en.json").read_bytes() == built_in


def test_any_config_is_read_or_refused_with_places_never_a_crash(tmp_path):
    """Every combination of plausible and wrong values for each key."""
    (tmp_path / "sources").mkdir()
    values = [None, "sources", "built-in", "layouts", "", "~", "[a, b]", "{a: 1}", "42", "yes",
              "'../sources'", "nowhere", "/", '"a: b"']
    made_froms = [None, "", "{}", "[x]", '{sources/fr.yaml: "0"}', "{sources/fr.yaml: 12}",
                  "{a: {b: c}}"]
    outcomes = set()
    for sources in values:
        for layouts in values:
            for made_from in made_froms:
                lines = [f"{key}: {value}" for key, value in
                         (("sources", sources), ("layouts", layouts), ("made_from", made_from))
                         if value is not None]
                (tmp_path / CONFIG_NAME).write_text("\n".join(lines) + "\n")
                try:
                    project = load_project(tmp_path)
                except InputError as error:
                    assert error.problems and all(p.where and p.message for p in error.problems)
                    outcomes.add("refused")
                else:
                    assert project.sources_dir.is_dir() and project.layouts_dir.is_dir()
                    project.warnings()
                    outcomes.add("read")
    assert outcomes == {"read", "refused"}
