"""The table of signs and actions: every sign a document prints (leaflet, insert, card;
PDF and DOCX; both languages) comes with the action the table gives it, `check` refuses
a sign given two actions, and the hospital's out-of-hours number reaches the pump insert
and the card."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handouts.errors import InputError
from handouts.localise import colon
from handouts.markup import fill
from handouts.project import EMBEDDED
from handouts.sources.content import SignGroupRef, load_language
from handouts.sources.loading import load_sources
from handouts.sources.yamlsource import YamlMap, read_yaml
from tests.conftest import docx_paragraphs, normalise, pdf_text, run_cli

LANGS = ("fr", "en")
VARIANT_DOCUMENTS = {"oral": ("leaflet", "insert"), "intrathecal": ("leaflet", "insert", "card")}


@pytest.fixture(scope="module")
def sources():
    return load_sources()


def printed(path: Path) -> str:
    """A document's text as printed, list items after a bullet in both formats."""
    if path.suffix == ".pdf":
        return pdf_text(path)
    return normalise(" ".join(("• " if p.style.name == "List Bullet" else "") + p.text
                              for p in docx_paragraphs(path)))


def action_sentences(sources, lang: str, out_of_hours: str | None = None) -> dict[str, tuple]:
    """Each action's full and short sentence as printed with the shipped profile."""
    profile = sources.profile
    values = {"team_phone": profile.team_phone, "pump_clinic_phone": profile.pump_clinic_phone,
              "emergency_number": profile.emergency_number,
              "eu_emergency_number": profile.eu_emergency_number,
              "out_of_hours_phone": out_of_hours or profile.emergency_number}
    return {key: (normalise(fill(action.text.text, values)),
                  normalise(fill(action.short.text, values)))
            for key, action in sources.languages[lang].signs.actions.items()}


def referenced_groups(blocks) -> list[str]:
    """The groups of signs a document's source blocks print, in order."""
    found = []
    for block in blocks:
        if isinstance(block, SignGroupRef):
            found.append(block.key)
        found += referenced_groups(getattr(block, "blocks", ()))
    return found


def document_groups(sources, lang: str, variant: str, kind: str) -> list[str]:
    content = sources.languages[lang].documents[f"{variant}_{kind}"]
    return referenced_groups(content.blocks) + [
        key for section in content.sections for key in referenced_groups(section.blocks)]


@pytest.mark.parametrize("layout", ["standard", "large-print"])
@pytest.mark.parametrize("lang", LANGS)
def test_every_printed_sign_comes_with_the_action_the_table_gives_it(
        built, built_large_print, sources, lang, layout):
    folder = (built if layout == "standard" else built_large_print) / lang
    suffix = "" if layout == "standard" else "-large-print"
    sentences = action_sentences(sources, lang)
    every_action = {text for pair in sentences.values() for text in pair}
    for variant, kinds in VARIANT_DOCUMENTS.items():
        groups = sources.languages[lang].signs.groups[variant]
        for kind in kinds:
            wanted = document_groups(sources, lang, variant, kind)
            assert wanted, (variant, kind)
            for extension in ("pdf", "docx"):
                path = folder / f"baclofen-{variant}-{kind}{suffix}.{extension}"
                text = printed(path)
                for key in wanted:
                    group = groups[key]
                    full, short = sentences[group.call]
                    signs = [normalise(sign.text) for sign in group.signs]
                    if kind == "card":
                        line = f"{group.title}{colon(lang)}{', '.join(signs)}. {short}"
                        assert normalise(line) in text, (path.name, key)
                    else:
                        assert normalise(group.title) in text, (path.name, key)
                        assert all(f"• {sign}" in text for sign in signs), (path.name, key)
                for group in groups.values():
                    full, _ = sentences[group.call]
                    for sign in (normalise(s.text) for s in group.signs):
                        for found in re.finditer(re.escape(f"• {sign}"), text):
                            after = text[found.end():]
                            if after and not after.startswith(" •") and not any(
                                    after.startswith(f" {action}") for action in every_action):
                                continue  # a longer item that starts with the sign's words
                            first = min(((after.find(a), -len(a)), a) for a in every_action
                                        if after.find(a) >= 0)
                            first = (first[0][0], first[1])
                            assert first[1] == full, (path.name, sign, first[1])
                            between = after[:first[0]].strip()
                            assert not between or between.startswith("• "), (path.name, sign)


def test_one_action_per_symptom_across_the_documents_of_a_variant(sources):
    """Fever and confusion, the two symptoms found with several actions, have one each."""
    for lang in LANGS:
        groups = sources.languages[lang].signs.groups
        for variant, words in (("intrathecal", {"fr": "fièvre", "en": "fever"}),
                               ("oral", {"fr": "confusion", "en": "confusion"}),
                               ("intrathecal", {"fr": "confusion", "en": "confusion"})):
            calls = {group.call for group in groups[variant].values()
                     for sign in group.signs if sign.text == words[lang]}
            assert calls == {"emergency"}, (lang, variant, words[lang])


def copy_sources() -> Path:
    target = Path(tempfile.mkdtemp()) / "sources"
    shutil.copytree(EMBEDDED.sources_dir, target)
    return target


def groups_in_order(path: Path, variant: str) -> list[tuple[str, str, int]]:
    """(group id, its action, the line of its `signs:` list) in file order."""
    node = read_yaml(path)["signs"][variant]
    assert isinstance(node, YamlMap)
    return [(key, group["call"], group.value_marks["signs"].line) for key, group in node.items()]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variant=st.sampled_from(("oral", "intrathecal")), data=st.data(),
       case=st.sampled_from((str, str.upper, str.capitalize)),
       spaces=st.sampled_from(("", "  ")))
def test_a_sign_given_two_actions_is_reported_where_it_is(variant, data, case, spaces):
    sources = copy_sources()
    fr = sources / "fr.yaml"
    groups = groups_in_order(fr, variant)
    source, target = data.draw(st.sampled_from(
        [(a, b) for a in groups for b in groups if a[1] != b[1]]), label="groups")
    language = load_language(fr)
    everywhere = [s.text.casefold() for g in language.signs.groups[variant].values()
                  for s in g.signs]
    signs = language.signs.groups[variant][source[0]].signs
    sign = data.draw(st.sampled_from([s.text for s in signs
                                      if everywhere.count(s.text.casefold()) == 1]), label="sign")
    written = case(sign).replace(" ", " " + spaces, 1)
    lines = fr.read_text(encoding="utf-8").split("\n")
    count = len(language.signs.groups[variant][target[0]].signs)
    lines.insert(target[2] + count - 1, f'        - "{written}"')
    fr.write_text("\n".join(lines), encoding="utf-8")
    later, earlier = (target, source) if target[2] > source[2] else (source, target)
    if later is target:
        line, index, text = target[2] + count, count, written
    else:
        index = [s.text for s in signs].index(sign)
        line, text = source[2] + 1 + index, sign
    with pytest.raises(InputError) as caught:
        load_language(fr)
    assert [str(p) for p in caught.value.problems] == [
        (f"{fr}:{line}:11: signs.{variant}.{later[0]}.signs.{index}: the sign '{text}' is given "
        f"two actions: '{later[1]}' here, '{earlier[1]}' in signs.{variant}.{earlier[0]} "
        "(give each sign one action: keep it in one of the two groups)")]


def edit(path: Path, old: str, new: str) -> int:
    """Replace `old` (which must occur once) and return its 1-based line number."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def test_check_exits_1_on_a_sign_given_two_actions_in_the_translation(capsys, sources_copy):
    en = sources_copy / "en.yaml"
    line = edit(en, '        - "red skin around the pump"', '        - "Fever"')
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--no-fit")
    assert code == 1
    assert (f"{en}:{line}:11: signs.intrathecal.infection.signs.0: the sign 'Fever' is given "
            "two actions: 'pump_clinic' here, 'emergency' in signs.intrathecal.danger (give each "
            "sign one action: keep it in one of the two groups)") in stderr


def test_a_sign_listed_away_from_its_action_is_refused(sources_copy):
    fr = sources_copy / "fr.yaml"
    line = edit(fr, '            - "bouche sèche"', '            - "Cœur qui bat  vite"')
    with pytest.raises(InputError) as caught:
        load_language(fr)
    assert [str(p) for p in caught.value.problems] == [
        (f"{fr}:{line}:15: documents.oral_leaflet.sections.side_effects.blocks.common.3: "
        "'Cœur qui bat  vite' is a sign of signs.oral.early_withdrawal, listed here without "
        "its action (print the group with a block 'sign_group: ...' instead of listing the sign)")]


@pytest.mark.parametrize(("old", "new", "message"), [
    ('        sign_group: "danger"\n      # MRI', '        sign_group: "dangers"\n      # MRI',
     ("documents.intrathecal_card.blocks.danger_signs.sign_group: no group 'dangers' in "
     "signs.intrathecal (did you mean 'danger'?)")),
    ('        call: "pump_clinic_then_out_of_hours"', '        call: "pump_clinic_then_out_of_hour"',
     ("documents.intrathecal_leaflet.sections.how_to_take.blocks.alarms.blocks.action.call: "
     "unknown action 'pump_clinic_then_out_of_hour' (did you mean 'pump_clinic_then_out_of_hours'?)")),
    ('      box: "caution"\n      call: "pump_clinic"\n',
     '      box: "info"\n      call: "pump_clinic"\n',
     ("signs.intrathecal.infection.box: a group of signs is a 'warning' or 'caution' box, not "
     "'info' (expected one of: warning, caution)")),
])
def test_a_wrong_group_action_or_box_is_named(sources_copy, old, new, message):
    fr = sources_copy / "fr.yaml"
    text = fr.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    fr.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_language(fr)
    assert [p.message + (f" ({p.hint})" if p.hint else "") for p in caught.value.problems] == [
        message]


def test_actions_and_groups_are_structure_in_a_translation(capsys, sources_copy):
    en = sources_copy / "en.yaml"
    line = edit(en, '      call: "pump_clinic"\n', '      call: "doctor"\n')
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--no-fit")
    assert code == 1
    assert (f"{en}:{line}:13: signs.intrathecal.infection.call: must be 'pump_clinic' as in "
            "the French") in stderr


OUT_OF_HOURS = {
    "fr": ("La nuit, le week-end ou sans réponse : {}.", "Nuit, week-end ou sans réponse : {}."),
    "en": ("At night, at the weekend or if nobody answers: {}.",
           "Night, weekend or no answer: {}."),
}


def test_the_out_of_hours_number_of_the_profile_is_printed_on_the_insert_and_card(
        capsys, built, sources_copy, tmp_path):
    for lang, (insert_line, card_line) in OUT_OF_HOURS.items():
        for kind, line in (("insert", insert_line), ("card", card_line)):
            for extension in ("pdf", "docx"):
                text = printed(built / lang / f"baclofen-intrathecal-{kind}.{extension}")
                assert normalise(line.format("15")) in text, (lang, kind, extension)
    hospital = sources_copy / "hospital.yaml"
    hospital.write_text(hospital.read_text(encoding="utf-8")
                        + 'out_of_hours_phone: "01 99 00 12 99"\n', encoding="utf-8")
    out = tmp_path / "out"
    code, _, _ = run_cli(capsys, "--sources", str(sources_copy), "--variant", "intrathecal",
                         "--out", str(out))
    assert code == 0
    for lang, (insert_line, card_line) in OUT_OF_HOURS.items():
        for kind, line in (("insert", insert_line), ("card", card_line)):
            for extension in ("pdf", "docx"):
                text = printed(out / lang / f"baclofen-intrathecal-{kind}.{extension}")
                assert normalise(line.format("01 99 00 12 99")) in text, (lang, kind)
                assert normalise(line.format("15")) not in text


def test_a_bad_out_of_hours_number_is_refused(capsys, sources_copy):
    hospital = sources_copy / "hospital.yaml"
    text = hospital.read_text(encoding="utf-8")
    hospital.write_text(text + 'out_of_hours_phone: "the switchboard"\n', encoding="utf-8")
    line = text.count("\n") + 1
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources_copy), "--no-fit")
    assert code == 1
    assert (f"{hospital}:{line}:21: out_of_hours_phone: 'the switchboard' is not a phone number "
            "(digits, spaces and an optional leading +)") in stderr


PUMP_INSERT = {
    "fr": ("« pompe à baclofène, risque de sevrage »", "montrez votre carte ou cette feuille",
           "vos proches le font", "lésion de la moelle épinière en T6 ou plus haut",
           "difficultés à communiquer", "sevrage déjà survenu"),
    "en": ("“baclofen pump, risk of withdrawal”", "show them your card or this sheet",
           "the people around you do it", "spinal cord injury at T6 or higher",
           "difficulty communicating", "withdrawal in the past"),
}


@pytest.mark.parametrize("layout", ["standard", "large-print"])
def test_pump_insert_tells_the_emergency_team_and_names_who_is_at_higher_risk(
        built, built_large_print, layout):
    folder = built if layout == "standard" else built_large_print
    suffix = "" if layout == "standard" else "-large-print"
    for lang, phrases in PUMP_INSERT.items():
        for extension in ("pdf", "docx"):
            text = printed(folder / lang / f"baclofen-intrathecal-insert{suffix}.{extension}")
            assert all(normalise(phrase) in text for phrase in phrases), (lang, extension)


@pytest.mark.parametrize("layout", ["standard", "large-print"])
def test_every_insert_and_card_is_one_page(built, built_large_print, layout):
    folder = built if layout == "standard" else built_large_print
    files = sorted(folder.rglob("*-insert*.pdf")) + sorted(folder.rglob("*-card*.pdf"))
    assert len(files) == 6
    assert all(len(pypdf.PdfReader(path).pages) == 1 for path in files)


def test_withdrawal_has_one_name_in_each_language(built):
    for variant, kinds in VARIANT_DOCUMENTS.items():
        for kind in kinds:
            french = printed(built / "fr" / f"baclofen-{variant}-{kind}.pdf")
            english = printed(built / "en" / f"baclofen-{variant}-{kind}.pdf")
            assert "sevrage" in french and not re.search(r"\bmanque\b", french), (variant, kind)
            assert "withdrawal" in english, (variant, kind)
