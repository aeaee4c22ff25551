"""`check`: every translator mistake reported on its own line, with where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


def edit(path: Path, old: str, new: str) -> int:
    """Replace `old` (which must occur once) and return its 1-based line number."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return line


def check(capsys, sources: Path, *extra: str) -> tuple[int, list[str], list[str]]:
    code, stdout, stderr = run_cli(capsys, "check", "--sources", str(sources), "--no-fit",
                                   "--lang", "en", *extra)
    return code, stdout, stderr


@pytest.fixture
def en(sources_copy) -> Path:
    return sources_copy / "en.yaml"


def test_clean_sources_pass(capsys, sources_copy):
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy))
    assert code == 0
    assert stderr == ["check: 0 errors, 0 warnings"]


@pytest.mark.parametrize("old, new, col, message", [
    ('  morning: "Morning"', "  morning: no", 12,
     ("labels.morning: expected text, found a yes/no value (boolean) 'no' (put it in double "
     "quotes)")),
    ('  morning: "Morning"', "  morning: 1.0", 12,
     "labels.morning: expected text, found a decimal number '1.0' (put it in double quotes)"),
    ('  morning: "Morning"', '  morning: ""', 12,
     'labels.morning: not translated (empty; French: "Matin")'),
])
def test_values_yaml_reads_as_other_types(capsys, sources_copy, en, old, new, col, message):
    line = edit(en, old, new)
    code, _, stderr = check(capsys, sources_copy)
    assert code == 1
    assert f"{en}:{line}:{col}: {message}" in stderr


@pytest.mark.parametrize("old, new, col, message", [
    ('  morning: "Morning"', '\tmorning: "Morning"', 1,
     "a tab character is not allowed (indent with spaces, never tabs)"),
    ('  morning: "Morning"', "  morning: Morning: early", 19,
     "a ':' in unquoted text (put the whole text in double quotes)"),
    ('  morning: "Morning"', '  morning: "Morning"\n  morning: "Early"', 3,
     "duplicate key 'morning' (it is already defined at line {line}; keep one of them)"),
])
def test_yaml_mistakes_in_a_translators_terms(capsys, sources_copy, en, old, new, col, message):
    line = edit(en, old, new)
    code, _, stderr = check(capsys, sources_copy)
    assert code == 1
    target = line + 1 if "duplicate" in message else line
    assert stderr[0] == f"{en}:{target}:{col}: {message.format(line=line)}"


def test_missing_extra_and_french_typography(capsys, sources_copy, en):
    edit(en, '  noon: "Midday"\n', "")
    extra = edit(en, '  morning: "Morning"', '  morning: "Morning"\n  mornin: "Early"')
    typo = edit(en, '  evening: "Evening"', '  evening: "Evening\u00a0!"')
    code, _, stderr = check(capsys, sources_copy)
    assert code == 1
    assert f'{en}:10:3: labels.noon: missing (French: "Midi")' in stderr
    assert f"{en}:{extra + 1}:11: labels.mornin: extra key, not in the French (remove it)" in stderr
    warning = (f"{en}:{typo}:12: warning: labels.evening: French typography (no-break space "
               "before ; : ! ?, « », …)")
    assert warning in stderr
    assert (f"{en}:{typo}:12: labels.evening: to review: translation changed: Evening {{+!+}}; "
            "French unchanged") in stderr
    errors = [line for line in stderr if ": warning: " not in line][:-1]
    assert len(errors) == 3 and stderr.index(warning) > max(map(stderr.index, errors))
    assert stderr[-1] == "check: 3 errors, 1 warnings"


def test_changed_dose_unit_placeholder_and_phone_are_errors(capsys, sources_copy, en):
    dose = edit(en, "The first dose is usually 50 micrograms.",
                "The first dose is usually 500 micrograms.")
    holder = edit(en, "call the care team on {team_phone}.", "call the care team on {phone}.")
    unit = edit(en, "over 1 to 2 weeks.", "over 1 to 2 weeks (15 mg steps).")
    code, _, stderr = check(capsys, sources_copy)
    assert code == 1
    key = "documents.intrathecal_leaflet.sections.before_you_take.blocks.test.blocks.text"
    assert (f"{en}:{dose}:21: {key}: numbers differ from the French: French has 100, 24, 50, "
            "75, translation has 100, 24, 500, 75") in stderr
    insert = "documents.oral_insert.blocks.what_to_do"
    assert any(line.startswith(f"{en}:{holder}:11: {insert}.2: unknown placeholder '{{phone}}'")
               for line in stderr)
    assert (f"{en}:{holder}:11: {insert}.2: placeholders differ from the French: French has "
            "{team_phone}, translation has {phone}") in stderr
    assert (f"{en}:{unit}:11: {insert}.1: units differ from the French: French has week, "
            "translation has mg, week") in stderr


def test_warnings_alone_do_not_fail(capsys, sources_copy, en):
    same = edit(en, '"Other side effects seen often, mostly at the start of treatment:"',
                '"Autres effets souvent observés, surtout au début du traitement\u00a0:"')
    space = edit(en, '"Keep this leaflet with your tablets."',
                 '"Keep this leaflet  with your tablets."')
    key = "documents.oral_leaflet.sections"
    code, _, _ = run_cli(capsys, "check", "--sources", str(sources_copy), "--accept", "en",
                         f"{key}.side_effects.blocks.common_intro", f"{key}.storage.blocks.keep")
    assert code == 0
    code, _, stderr = check(capsys, sources_copy)
    assert code == 0
    assert stderr == [
        (f"{en}:{same}:25: warning: {key}.side_effects.blocks.common_intro: same as the French "
        "(not translated?)"),
        (f"{en}:{same}:25: warning: {key}.side_effects.blocks.common_intro: French typography "
        "(no-break space before ; : ! ?, « », …)"),
        (f"{en}:{space}:17: warning: {key}.storage.blocks.keep: extra spaces at the start, the end "
        "or inside"),
        "check: 0 errors, 3 warnings"]


def test_stale_string_is_shown_with_the_french_change_and_cleared_by_accept(capsys, sources_copy):
    fr = sources_copy / "fr.yaml"
    edit(fr, "Pour arrêter, votre médecin baisse la dose sur 1 à 2 semaines.",
         "Pour arrêter, votre médecin baisse la dose peu à peu, sur 1 à 2 semaines.")
    code, _, stderr = check(capsys, sources_copy)
    assert code == 1
    [stale] = [line for line in stderr if "to review" in line]
    english = (sources_copy / "en.yaml").read_text(encoding="utf-8")
    line = english[:english.index("\"To stop, your doctor lowers the dose over 1 to 2 weeks.\"")].count("\n") + 1
    assert stale.startswith(f"{sources_copy / 'en.yaml'}:{line}:11: "
                            "documents.oral_insert.blocks.what_to_do.1: to review: translation "
                            "unchanged; French changed: ")
    assert stale.endswith("Pour arrêter, votre ... baisse la dose {+peu à peu,+} sur 1 à 2 "
                          "semaines.")
    key = "documents.oral_insert.blocks.what_to_do.1"
    code, stdout, _ = run_cli(capsys, "check", "--sources", str(sources_copy), "--accept", "en", key)
    assert code == 0 and stdout == [str(sources_copy / "accepted" / "en.json")]
    code, _, stderr = check(capsys, sources_copy)
    assert code == 0 and stderr == ["check: 0 errors, 0 warnings"]


def test_accepting_an_unknown_key_is_refused(capsys, sources_copy):
    code, stdout, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--accept",
                                   "en", "labels.nope")
    assert code == 2 and stdout == []
    assert stderr == [f"{sources_copy / 'fr.yaml'}: labels.nope: no such text key"]


def test_an_overflowing_insert_is_reported_with_language_and_excess(capsys, sources_copy, en):
    edit(en, 'withdrawal in the past."',
         'withdrawal in the past, ' + "in a safe place that you and your family know well "
         "and can reach quickly at any time. " * 6 + '"')
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--lang", "en")
    assert code == 1
    overflow = [line for line in stderr if "past its one page" in line]
    assert overflow and overflow[0].startswith(
        f"{en}: documents.intrathecal_insert: the en insert (")
    assert float(overflow[0].split(" runs ")[1].split(" mm")[0]) > 5


def test_build_refuses_a_language_with_errors_and_says_why(capsys, sources_copy, en, tmp_path):
    edit(en, '  noon: "Midday"\n', "")
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(capsys, "--sources", str(sources_copy), "--lang", "en",
                                   "--out", str(out))
    assert code == 2 and stdout == [] and not out.exists()
    assert f'{en}:10:3: labels.noon: missing (French: "Midi")' in stderr
    assert stderr[-1].startswith(f"{en}: the 'en' translation has 1 errors and 0 strings to "
                                 "review; it is not built")


def test_allow_incomplete_builds_and_prints_every_fallback(capsys, sources_copy, en, tmp_path):
    edit(en, '  noon: "Midday"\n', "")
    code, stdout, stderr = run_cli(capsys, "--sources", str(sources_copy), "--lang", "en",
                                   "--out", str(tmp_path), "--allow-incomplete", "--format", "pdf")
    assert code == 0 and len(stdout) == 5
    assert stderr == [
        f"{en}: warning: labels.noon: missing or invalid: the French text is printed instead",
        (f"{en}: warning: the 'en' documents print the French text for 1 strings "
         "(--allow-incomplete)")]
