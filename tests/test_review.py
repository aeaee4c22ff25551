"""Review state per string: no translated text reaches a document unless a reviewer
accepted that exact text, whatever changed it (an import, a hand edit, a merge)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from handouts.project import EMBEDDED
from handouts.sources.yamlsource import read_yaml
from handouts.translate.review import accepted_path, fingerprint
from handouts.translate.status import STRUCTURAL_KEYS, flatten
from handouts.translate.xliff import export_xliff
from tests.conftest import pdf_text, run_cli


def english(sources: Path) -> dict[str, str]:
    root = read_yaml(sources / "en.yaml")
    return {key: entry.value for key, entry in flatten(root, root.mark).items()
            if isinstance(entry.value, str)}


def french(sources: Path, key: str) -> str:
    root = read_yaml(sources / "fr.yaml")
    return flatten(root, root.mark)[key].value


def first_key(sources: Path, pattern: str) -> str:
    return next(key for key, text in english(sources).items() if re.search(pattern, text))


def swap_doses(text: str) -> str:
    """The first and last microgram doses swapped ("50 µg ... 100 µg" -> "100 µg ... 50 µg")."""
    doses = re.findall(r"(\d+) (?:micrograms|µg)\b", text)
    first, last = doses[0], doses[-1]
    return re.sub(rf"\b({first}|{last})(?= (?:micrograms|µg)\b)",
                  lambda m: last if m.group() == first else first, text)


# The four dangerous changes of issue #12: (how to find a string, how to change it).
DANGEROUS = {
    "micrograms to milligrams": (r"\d+ micrograms", lambda t: t.replace("micrograms",
                                                                        "milligrams")),
    "test doses swapped": (r"(\d+) (micrograms|µg)\b.*(?!\1)\d+ (micrograms|µg)", swap_doses),
    "days to hours": (r"\d+ days", lambda t: t.replace("days", "hours")),
    "never stop to stop": (r"^Never stop ", lambda t: "Stop " + t.removeprefix("Never stop ")),
}


def set_english(sources: Path, key: str, text: str) -> None:
    """A hand edit of en.yaml: the string at `key` becomes `text`."""
    path = sources / "en.yaml"
    root = read_yaml(path)
    mark = flatten(root, root.mark)[key].mark
    lines = path.read_text(encoding="utf-8").split("\n")
    line = lines[mark.line - 1]
    end = line.index('"', mark.col) + 1
    lines[mark.line - 1] = line[:mark.col - 1] + json.dumps(text, ensure_ascii=False) + line[end:]
    path.write_text("\n".join(lines), encoding="utf-8")


def variant_of(key: str) -> str:
    return "intrathecal" if ".intrathecal_" in key else "oral"


def build(capsys, sources: Path, out: Path, key: str, *extra: str):
    return run_cli(capsys, "--sources", str(sources), "--lang", "en", "--out", str(out),
                   "--variant", variant_of(key), "--format", "pdf", *extra)


def test_the_shipped_english_is_accepted_and_every_entry_matches_its_fingerprint():
    sources = EMBEDDED.sources_dir
    data = json.loads(accepted_path(sources, "en").read_text(encoding="utf-8"))
    assert data["format"] == 2
    current = english(sources)
    root = read_yaml(sources / "fr.yaml")
    texts = {key: entry.value for key, entry in flatten(root, root.mark).items()
             if isinstance(entry.value, str) and key.rpartition(".")[2] not in STRUCTURAL_KEYS}
    assert sorted(data["strings"]) == sorted(texts)
    for key, entry in data["strings"].items():
        assert entry["fingerprint"] == fingerprint(entry["french"], entry["translation"])
        assert (entry["french"], entry["translation"]) == (texts[key], current[key])


@pytest.mark.parametrize("case", DANGEROUS)
def test_a_dangerous_import_is_refused_or_left_to_review(capsys, sources_copy, tmp_path, case):
    pattern, change = DANGEROUS[case]
    key = first_key(sources_copy, pattern)
    wrong = change(english(sources_copy)[key])
    xliff = export_xliff(sources_copy, "en").decode("utf-8")
    unit = re.search(rf'<trans-unit id="{re.escape(key)}".*?</trans-unit>', xliff, re.DOTALL).group()
    target = re.search(r"<target[^>]*>.*?</target>", unit, re.DOTALL).group()
    # The agency sends it back approved: the project's reviewer still decides.
    edited = unit.replace(target, f'<target state="final">{wrong}</target>')
    returned = tmp_path / "returned.xlf"
    returned.write_text(xliff.replace(unit, edited), encoding="utf-8")
    before = (sources_copy / "en.yaml").read_bytes()

    code, stdout, stderr = run_cli(capsys, "translations", "import", str(returned),
                                   "--sources", str(sources_copy))

    if code == 2:  # a rule saw it: the whole file is refused, nothing written
        assert stdout == [] and (sources_copy / "en.yaml").read_bytes() == before
        assert stderr[0].startswith(f"{returned}: unit {key}: ")
        assert case != "never stop to stop"
        return
    assert code == 0 and stdout == [str(sources_copy / "en.yaml")]
    assert english(sources_copy)[key] == wrong
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--lang", "en",
                              "--no-fit")
    assert code == 1
    assert any(f" {key}: to review: translation changed: " in line and "[-Never" in line
               for line in stderr)
    assert any(f"warning: {key}: the French says no/not/never" in line for line in stderr)


@pytest.mark.parametrize("case", DANGEROUS)
def test_a_dangerous_hand_edit_is_to_review_and_never_printed(capsys, sources_copy, tmp_path,
                                                             case):
    pattern, change = DANGEROUS[case]
    key = first_key(sources_copy, pattern)
    old = english(sources_copy)[key]
    set_english(sources_copy, key, change(old))

    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--lang", "en",
                              "--no-fit")
    assert code == 1
    [line] = [line for line in stderr if f" {key}: to review: " in line]
    assert "translation changed: " in line and line.endswith("; French unchanged")

    out = tmp_path / "out"
    code, stdout, stderr = build(capsys, sources_copy, out, key)
    assert code == 2 and stdout == [] and not out.exists()
    assert any(f" {key}: to review: " in line for line in stderr)
    assert "strings to review; it is not built" in stderr[-1]


def test_allow_incomplete_prints_the_french_for_a_string_to_review(capsys, sources_copy,
                                                                  tmp_path):
    key = first_key(sources_copy, DANGEROUS["days to hours"][0])
    old = english(sources_copy)[key]
    set_english(sources_copy, key, old.replace("days", "hours"))
    code, stdout, stderr = build(capsys, sources_copy, tmp_path, key, "--allow-incomplete")
    assert code == 0 and len(stdout) == 2
    en = sources_copy / "en.yaml"
    assert f"{en}: warning: {key}: to review: the French text is printed instead" in stderr
    assert stderr[-1] == (f"{en}: warning: the 'en' documents print the French text for 1 "
                          "strings (--allow-incomplete)")
    text = pdf_text(tmp_path / "en" / "baclofen-oral-leaflet.pdf")
    assert "3 à 4 jours" in text and "3 to 4 hours" not in text and "3 to 4 days" not in text


def test_accepting_a_reviewed_change_builds_it(capsys, sources_copy, tmp_path):
    key = first_key(sources_copy, DANGEROUS["never stop to stop"][0])
    changed = english(sources_copy)[key].replace("Never stop", "Do not ever stop", 1)
    set_english(sources_copy, key, changed)

    code, stdout, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--accept",
                                   "en", "--dry-run")
    assert code == 0
    assert stdout[0] == f"{key}  ({sources_copy / 'en.yaml'}:{stdout[0].split(':')[-2]}:" \
        f"{stdout[0].split(':')[-1]}"
    assert stdout[1] == f"  French:             {french(sources_copy, key)}"
    assert stdout[2] == "  French change:      unchanged"
    assert stdout[3] == f"  translation:        {changed}"
    assert stdout[4].startswith("  translation change: [-Never-] {+Do not ever+} stop")
    assert stderr == ["check: would accept 1 'en' strings, 0 not accepted"]
    assert not any(f" {key}: " in line and "to review" not in line for line in stderr)

    code, stdout, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--accept",
                                   "en")
    assert code == 0 and stdout == [str(accepted_path(sources_copy, "en"))]
    assert stderr == ["check: accepted 1 'en' strings, 0 not accepted"]
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--lang", "en",
                              "--no-fit")
    assert code == 0 and stderr == ["check: 0 errors, 0 warnings"]
    code, _, _ = build(capsys, sources_copy, tmp_path, key)
    assert code == 0
    document = "insert" if "_insert." in key else "leaflet"
    assert "Do not ever stop" in pdf_text(tmp_path / "en" /
                                          f"baclofen-{variant_of(key)}-{document}.pdf")


def test_a_string_with_errors_is_never_accepted(capsys, sources_copy):
    key = first_key(sources_copy, DANGEROUS["micrograms to milligrams"][0])
    set_english(sources_copy, key, english(sources_copy)[key].replace("micrograms", "mg"))
    before = accepted_path(sources_copy, "en").read_bytes()
    code, stdout, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--accept",
                                   "en", key)
    assert code == 1 and stdout == []
    assert stderr[0].endswith(f": {key}: not accepted: it is missing, untranslated or has "
                              "errors (see make_handouts.py check --lang en)")
    assert stderr[-1] == "check: accepted 0 'en' strings, 1 not accepted"
    data = json.loads(accepted_path(sources_copy, "en").read_bytes())
    assert data == json.loads(before)


def test_a_merge_that_changes_the_french_shows_both_diffs(capsys, sources_copy):
    key = first_key(sources_copy, DANGEROUS["days to hours"][0])
    fr = sources_copy / "fr.yaml"
    fr.write_text(fr.read_text(encoding="utf-8").replace("tous les 3 à 4 jours",
                                                         "tous les 3 à 5 jours"), encoding="utf-8")
    set_english(sources_copy, key, english(sources_copy)[key].replace("3 to 4", "3 to 5"))
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--lang", "en",
                              "--no-fit")
    assert code == 1
    [line] = [line for line in stderr if f" {key}: " in line]
    assert line.endswith(" every 3 to [-4-] {+5+} days.; French changed: Il augmente ensuite "
                         "... les 3 à [-4-] {+5+} jours.")
    assert f" {key}: to review: translation changed: " in line


@pytest.mark.parametrize("damage, reason", [
    (lambda entry: entry.update(translation=entry["translation"] + " x"),
     "its entry in the accepted file does not match its fingerprint (edited by hand?)"),
    (lambda entry: entry.update(fingerprint="sha256:0"),
     "its entry in the accepted file does not match its fingerprint (edited by hand?)"),
])
def test_an_accepted_entry_edited_by_hand_is_to_review(capsys, sources_copy, damage, reason):
    path = accepted_path(sources_copy, "en")
    data = json.loads(path.read_text(encoding="utf-8"))
    key = next(iter(data["strings"]))
    damage(data["strings"][key])
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--lang", "en",
                              "--no-fit")
    assert code == 1
    assert [line.split(": ", 1)[1] for line in stderr[:-1]] == [f"{key}: to review: {reason}"]


def test_an_old_format_accepted_file_leaves_everything_to_review(capsys, sources_copy):
    path = accepted_path(sources_copy, "en")
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({key: entry["french"] for key, entry in data["strings"].items()},
                               ensure_ascii=False), encoding="utf-8")
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--lang", "en",
                              "--no-fit")
    assert code == 1
    errors = [line for line in stderr[:-1] if ": warning: " not in line]
    assert len(errors) == len(data["strings"])
    assert stderr[-1].startswith(f"check: {len(errors)} errors, ")
    assert all(line.endswith("to review: accepted in the old format, which did not record the "
                             "translation") for line in errors)


@pytest.mark.parametrize("content, message", [
    (b"{not json", ":1:2: not valid JSON (Expecting property name enclosed in double quotes)"),
    (b'{"format": 3, "strings": {}}', ": not an accepted-strings file of this version"),
    (b'{"format": 2, "strings": {"labels.page": {"french": 1}}}',
     ": labels.page: not a valid accepted entry"),
])
def test_a_broken_accepted_file_is_refused_with_where(capsys, sources_copy, tmp_path, content,
                                                      message):
    path = accepted_path(sources_copy, "en")
    path.write_bytes(content)
    code, stdout, stderr = run_cli(capsys, "--sources", str(sources_copy), "--lang", "en",
                                   "--out", str(tmp_path / "out"))
    assert code == 2 and stdout == [] and not (tmp_path / "out").exists()
    assert stderr[0].startswith(f"{path}{message}")
    assert stderr[0].endswith("(restore it from version control, or delete it and review every "
                              "string again)")


def test_the_accepted_file_written_twice_is_byte_identical(capsys, sources_copy, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(sources_copy, copy)
    for sources in (sources_copy, copy):
        assert run_cli(capsys, "check", "--sources", str(sources), "--accept", "en")[0] == 0
    assert accepted_path(sources_copy, "en").read_bytes() == accepted_path(copy, "en").read_bytes()
