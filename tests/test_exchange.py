"""XLIFF 1.2 round trip with a translation agency: export, checked import, in-place merge."""

from __future__ import annotations

import copy
import random
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from handouts.errors import InputError
from handouts.project import EMBEDDED
from handouts.sources.yamlsource import read_yaml
from handouts.translate.check import accept
from handouts.translate.po import export_po, import_po
from handouts.translate.status import STRUCTURAL_KEYS, flatten
from handouts.translate.xliff import export_xliff, import_xliff
from tests.conftest import run_cli

NS = "urn:oasis:names:tc:xliff:document:1.2"


def tag(name: str) -> str:
    return f"{{{NS}}}{name}"


def leaves(path: Path) -> dict[str, object]:
    root = read_yaml(path)
    return {key: entry.value for key, entry in flatten(root, root.mark).items()}


def french_texts(sources: Path) -> dict[str, str]:
    return {key: value for key, value in leaves(sources / "fr.yaml").items()
            if isinstance(value, str) and key.rpartition(".")[2] not in STRUCTURAL_KEYS}


def accept_all(sources: Path) -> None:
    accept(sources, "en", [])


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    target = tmp_path / "sources"
    shutil.copytree(EMBEDDED.sources_dir, target)
    return target


def text(element: ET.Element) -> str:
    return "".join(element.itertext())


def units(xliff: bytes) -> dict[str, ET.Element]:
    return {unit.get("id"): unit for unit in ET.fromstring(xliff).iter(tag("trans-unit"))}


def edited(xliff: bytes, targets: dict[str, str], extra_unit: str | None = None) -> bytes:
    """The document with some targets replaced, and optionally a copied unit renamed."""
    root = ET.fromstring(xliff)
    body = root.find(f"{tag('file')}/{tag('body')}")
    for unit in body.iter(tag("trans-unit")):
        if unit.get("id") in targets:
            target = unit.find(tag("target"))
            target.clear()
            target.text = targets[unit.get("id")]
    if extra_unit:
        unit = copy.deepcopy(body[0])
        unit.set("id", extra_unit)
        body.append(unit)
    return ET.tostring(root, encoding="utf-8")


def key_with(sources: Path, french: str) -> str:
    return next(key for key, text in french_texts(sources).items() if french in text)


def import_bytes(sources: Path, data: bytes) -> list[str]:
    path = sources.parent / "returned.xlf"
    path.write_bytes(data)
    return import_xliff(sources, path, display="returned.xlf").changed


def test_export_lists_every_french_text_in_order_with_states_and_notes(sources):
    accept_all(sources)
    xliff = export_xliff(sources, "en")
    assert xliff == export_xliff(sources, "en")
    assert xliff.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    file = ET.fromstring(xliff).find(tag("file"))
    assert file.get("source-language") == "fr" and file.get("target-language") == "en"
    french, found = french_texts(sources), units(xliff)
    assert list(found) == list(french)
    assert [text(unit.find(tag("source"))) for unit in found.values()] == list(french.values())
    assert {unit.find(tag("target")).get("state") for unit in found.values()} == {"signed-off"}
    assert {unit.get("approved") for unit in found.values()} == {"yes"}
    assert text(found["labels.your_treatment"].find(tag("target"))) == "Your treatment"
    note = found["labels.your_treatment"].find(tag("note"))
    assert note.get("from") == "developer"
    assert note.text == "Title of the personal table on the first page (tablets; pump)."
    assert found["labels.version"].find(tag("note")) is None


def test_importing_an_unchanged_export_changes_nothing(sources):
    before = (sources / "en.yaml").read_bytes()
    assert import_bytes(sources, export_xliff(sources, "en")) == []
    assert (sources / "en.yaml").read_bytes() == before


def test_an_edited_target_replaces_only_its_value(sources):
    key = key_with(sources, "baisse la dose sur 1 à 2 semaines.")
    en = sources / "en.yaml"
    old_lines = en.read_text(encoding="utf-8").split("\n")
    old_text = leaves(en)[key]
    new_text = old_text.replace("lowers", "reduces")
    assert new_text != old_text

    assert import_bytes(sources, edited(export_xliff(sources, "en"), {key: new_text})) == [key]

    new_lines = en.read_text(encoding="utf-8").split("\n")
    changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    assert len(changed) == 1
    assert new_lines[changed[0]] == old_lines[changed[0]].replace("lowers", "reduces")
    assert leaves(en)[key] == new_text


def test_a_changed_dose_is_refused_and_nothing_is_written(sources):
    key = key_with(sources, "50 microgrammes")
    en = sources / "en.yaml"
    before = en.read_bytes()
    wrong = leaves(en)[key].replace("50 micrograms", "60 micrograms")
    with pytest.raises(InputError) as refused:
        import_bytes(sources, edited(export_xliff(sources, "en"), {key: wrong}))
    assert len(refused.value.problems) == 1
    message = str(refused.value.problems[0])
    assert message.startswith(f"returned.xlf: unit {key}: ")
    assert "numbers differ from the French" in message
    assert en.read_bytes() == before


def test_every_bad_unit_of_a_file_is_reported_at_once(sources):
    key = key_with(sources, "Plusieurs prises oubliées ou plus de comprimés")
    en = sources / "en.yaml"
    before = en.read_bytes()
    wrong = leaves(en)[key].replace("{team_phone}", "{pump_clinic_phone}")
    with pytest.raises(InputError) as refused:
        import_bytes(sources, edited(export_xliff(sources, "en"), {key: wrong},
                                     extra_unit="labels.no_such_label"))
    problems = refused.value.problems
    assert [problem.where for problem in problems] == [
        f"returned.xlf: unit {key}", "returned.xlf: unit labels.no_such_label"]
    assert "placeholders differ" in problems[0].message
    assert "unknown unit" in problems[1].message
    assert en.read_bytes() == before


def test_doctype_and_malformed_xml_are_refused(sources):
    xliff = export_xliff(sources, "en")
    declaration, _, rest = xliff.partition(b"\n")
    with pytest.raises(InputError, match="DOCTYPE"):
        import_bytes(sources, declaration + b'\n<!DOCTYPE x [<!ENTITY a "b">]>\n' + rest)
    with pytest.raises(InputError, match=r"not valid XML .*line 2, column"):
        import_bytes(sources, declaration + b"\n<xliff><oops></xliff>")


def test_a_changed_french_text_makes_the_unit_stale_and_old_exports_refused(sources):
    accept_all(sources)
    old_export = export_xliff(sources, "en")
    fr = sources / "fr.yaml"
    fr.write_text(fr.read_text(encoding="utf-8").replace(
        'your_treatment: "Votre traitement"', 'your_treatment: "Votre traitement personnel"'),
        encoding="utf-8")

    unit = units(export_xliff(sources, "en"))["labels.your_treatment"]
    assert text(unit.find(tag("source"))) == "Votre traitement personnel"
    assert unit.find(tag("target")).get("state") == "needs-review-translation"
    notes = {note.get("from"): note.text for note in unit.iter(tag("note"))}
    assert notes["previous-source"] == "Votre traitement"

    with pytest.raises(InputError, match="unit labels.your_treatment: the French changed"):
        import_bytes(sources, old_export)


def test_keys_missing_from_the_translation_are_inserted_in_french_order(sources):
    en = sources / "en.yaml"
    original = en.read_bytes()
    xliff = export_xliff(sources, "en")
    keep = "documents.oral_leaflet.sections.storage.blocks.keep"
    deleted = ('  version: "version"', '          keep: "Keep this leaflet with your tablets."')
    lines = en.read_text(encoding="utf-8").split("\n")
    en.write_text("\n".join(line for line in lines if line not in deleted), encoding="utf-8")
    assert "labels.version" not in leaves(en) and keep not in leaves(en)

    assert import_bytes(sources, xliff) == ["labels.version", keep]

    assert list(leaves(en)) == list(leaves(sources / "fr.yaml"))
    assert en.read_bytes() == original


def key_of(sources: Path, pattern: str) -> str:
    return next(key for key, french in french_texts(sources).items() if re.search(pattern, french))


def changed_lines(before: bytes, after: bytes) -> list[int]:
    old, new = before.decode("utf-8").split("\n"), after.decode("utf-8").split("\n")
    return [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]


def line_of(sources: Path, key: str) -> int:
    root = read_yaml(sources / "en.yaml")
    return flatten(root, root.mark)[key].mark.line - 1


def test_placeholders_and_bold_are_inline_codes_cat_tools_protect(sources):
    xliff = export_xliff(sources, "en").decode("utf-8")
    phone = key_of(sources, r"\{team_phone\}")
    bold = key_of(sources, r"\*\*")
    unit = re.search(rf'<trans-unit id="{re.escape(phone)}".*?</trans-unit>', xliff,
                     re.DOTALL).group()
    assert unit.count('<ph id="team_phone" ctype="x-placeholder">{team_phone}</ph>') == 2
    unit = re.search(rf'<trans-unit id="{re.escape(bold)}".*?</trans-unit>', xliff,
                     re.DOTALL).group()
    assert re.search(r'<source>[^<]*<bpt id="b1" ctype="bold">\*\*</bpt>[^<]+'
                     r'<ept id="b1">\*\*</ept>', unit)
    assert '<target state="signed-off"' not in unit or "<bpt id=\"b1\"" in unit.split(
        "<target")[1]


def test_inline_codes_round_trip_for_generated_texts(sources):
    from handouts.translate.xliff import _fill, _inline_text
    for text in ["{hospital} **a** {hospital} b **c**", "**", "x ** y", "{service}.",
                 "a **{team_phone}** b"]:
        element = ET.Element("source")
        _fill(element, text)
        assert _inline_text(element, []) == text
        assert "".join(element.itertext()) == text


def test_a_cat_tools_g_and_mrk_markup_is_read_back_and_x_is_refused(sources):
    bold = key_of(sources, r"^\*\*[^*]+\*\*$|\*\*")
    french = french_texts(sources)[bold]
    english = leaves(sources / "en.yaml")[bold]
    xliff = export_xliff(sources, "en").decode("utf-8")
    unit = re.search(rf'<trans-unit id="{re.escape(bold)}".*?</trans-unit>', xliff,
                     re.DOTALL).group()
    target = re.search(r"<target[^>]*>.*?</target>", unit, re.DOTALL).group()
    parts = english.split("**")
    as_g = (f'<target state="translated"><mrk mtype="seg" mid="1">{parts[0]}<g id="1" '
            f'ctype="bold">{parts[1]}</g>{"**".join(parts[2:])} again</mrk></target>')
    path = sources.parent / "returned.xlf"
    path.write_text(xliff.replace(unit, unit.replace(target, as_g)), encoding="utf-8")
    assert import_xliff(sources, path, "returned.xlf").changed == [bold]
    assert leaves(sources / "en.yaml")[bold] == english + " again"
    assert french.count("**") == english.count("**")

    with_x = unit.replace(target, '<target>x <x id="7"/> y</target>')
    path.write_text(xliff.replace(unit, with_x), encoding="utf-8")
    with pytest.raises(InputError) as refused:
        import_xliff(sources, path, "returned.xlf")
    assert str(refused.value.problems[0]) == (
        f'returned.xlf: unit {bold}: inline code <x id="7"/> in the target cannot be mapped '
        "back to the French markup (keep the tags of the source)")


def test_an_empty_target_is_reported_and_the_others_imported(capsys, sources):
    xliff = export_xliff(sources, "en")
    emptied, edited_key = "labels.morning", "labels.evening"
    root = ET.fromstring(xliff)
    for unit in root.iter(tag("trans-unit")):
        if unit.get("id") == emptied:
            unit.find(tag("target")).text = ""
        if unit.get("id") == edited_key:
            unit.find(tag("target")).text = "In the evening"
    path = sources.parent / "returned.xlf"
    path.write_bytes(ET.tostring(root, encoding="utf-8"))
    code, stdout, stderr = run_cli(capsys, "translations", "import", str(path), "--sources",
                                   str(sources))
    assert code == 1 and stdout == [str(sources / "en.yaml")]
    assert stderr[0] == (f"{path}: unit {emptied}: no translation (empty target): not "
                         "imported, the current text is kept")
    assert stderr[1].startswith("translations: 1 strings changed, 1 without a translation")
    assert leaves(sources / "en.yaml")[emptied] == "Morning"
    assert leaves(sources / "en.yaml")[edited_key] == "In the evening"


def test_translate_toolkit_reads_our_xliff_with_states(sources):
    from translate.storage import xliff as tk_xliff
    en = sources / "en.yaml"
    en.write_text(en.read_text(encoding="utf-8").replace('"Midday"', '"Noon"'), encoding="utf-8")
    store = tk_xliff.xlifffile.parsestring(export_xliff(sources, "en"))
    assert store.gettargetlanguage() == "en"
    french, english = french_texts(sources), leaves(en)
    assert len(store.units) == len(french)
    for unit in store.units:
        key = unit.xmlelement.get("id")
        assert unit.source == french[key]
        assert unit.target == english[key]
        assert unit.isapproved() is (key != "labels.noon")
    phone = key_of(sources, r"\{team_phone\}")
    [unit] = [unit for unit in store.units if unit.xmlelement.get("id") == phone]
    codes = [str(part) for part in unit.rich_source[0].sub if type(part).__name__ != "StringElem"]
    assert codes == ["{team_phone}"]


def tk_xliff_of(sources: Path, targets: dict[str, str]) -> bytes:
    """An XLIFF file written from scratch by translate-toolkit: every French text with
    the current English, except `targets`, all marked approved."""
    from translate.storage import xliff as tk_xliff
    store = tk_xliff.xlifffile(sourcelanguage="fr", targetlanguage="en")
    english = leaves(sources / "en.yaml")
    for key, french in french_texts(sources).items():
        unit = store.addsourceunit(french)
        unit.setid(key)
        unit.target = targets.get(key, english[key])
        unit.markapproved(True)
    return bytes(store)


def edited_targets(sources: Path, count: int, seed: int) -> dict[str, str]:
    english = leaves(sources / "en.yaml")
    keys = random.Random(seed).sample(sorted(french_texts(sources)), count)
    return {key: english[key] + " (edited)" for key in keys}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_translate_toolkit_xliff_changes_exactly_the_edited_strings(sources, seed):
    targets = edited_targets(sources, 5, seed)
    before = (sources / "en.yaml").read_bytes()
    path = sources.parent / "tk.xlf"
    path.write_bytes(tk_xliff_of(sources, targets))
    result = import_xliff(sources, path, "tk.xlf")
    order = list(french_texts(sources))
    assert result.changed == sorted(targets, key=order.index)
    after = (sources / "en.yaml").read_bytes()
    assert changed_lines(before, after) == sorted(line_of(sources, key) for key in targets)
    assert {key: leaves(sources / "en.yaml")[key] for key in targets} == targets


def test_po_export_has_context_comments_fuzzy_and_previous_french(sources):
    from translate.storage.po import pofile
    accept_all(sources)
    fr, en = sources / "fr.yaml", sources / "en.yaml"
    fr.write_text(fr.read_text(encoding="utf-8").replace(
        'your_treatment: "Votre traitement"', 'your_treatment: "Votre traitement actuel"'),
        encoding="utf-8")
    en.write_text(en.read_text(encoding="utf-8").replace('"Midday"', '"Noon"'), encoding="utf-8")
    data = export_po(sources, "en")
    assert data == export_po(sources, "en")
    store = pofile.parsestring(data)
    assert store.parseheader()["Language"] == "en"
    units = {unit.getcontext(): unit for unit in store.units if not unit.isheader()}
    assert list(units) == list(french_texts(sources))
    treatment, noon, page = (units["labels.your_treatment"], units["labels.noon"],
                             units["labels.page"])
    assert treatment.source == "Votre traitement actuel" and treatment.target == "Your treatment"
    assert treatment.isfuzzy() and treatment.prev_source == "Votre traitement"
    assert treatment.getnotes("developer") == (
        "Title of the personal table on the first page (tablets; pump).")
    assert noon.isfuzzy() and noon.target == "Noon" and not noon.prev_source
    assert not page.isfuzzy() and page.target == "page"
    assert treatment.getlocations() == ["labels.your_treatment"]


@pytest.mark.parametrize("seed", [4, 5])
def test_a_po_file_edited_by_translate_toolkit_changes_exactly_the_edited_strings(sources, seed):
    from translate.storage.po import pofile
    store = pofile.parsestring(export_po(sources, "en"))
    targets = edited_targets(sources, 5, seed)
    for unit in store.units:
        if unit.getcontext() in targets:
            unit.target = targets[unit.getcontext()]
    before = (sources / "en.yaml").read_bytes()
    path = sources.parent / "tk.po"
    path.write_bytes(bytes(store))
    result = import_po(sources, path, "tk.po")
    order = list(french_texts(sources))
    assert result.changed == sorted(targets, key=order.index) and result.empty == []
    assert changed_lines(before, (sources / "en.yaml").read_bytes()) == \
        sorted(line_of(sources, key) for key in targets)


def test_po2xliff_output_imports_with_the_keys_it_kept(sources, tmp_path):
    from translate.convert import po2xliff
    from translate.storage import xliff as tk_xliff
    po_path, xlf_path = tmp_path / "en.po", tmp_path / "en.xlf"
    po_path.write_bytes(export_po(sources, "en"))
    with po_path.open("rb") as source, xlf_path.open("wb") as output:
        po2xliff.convertpo(source, output, None)
    store = tk_xliff.xlifffile.parsefile(str(xlf_path))
    key = "labels.evening"
    [unit] = [unit for unit in store.units if unit.source == "Soir"]
    unit.target = "In the evening"
    xlf_path.write_bytes(bytes(store))
    before = (sources / "en.yaml").read_bytes()
    assert import_xliff(sources, xlf_path, "en.xlf").changed == [key]
    assert changed_lines(before, (sources / "en.yaml").read_bytes()) == [line_of(sources, key)]


def test_xliff2po_output_imports_with_lang_given(capsys, sources, tmp_path):
    from translate.convert import xliff2po
    from translate.storage.po import pofile
    xlf_path, po_path = tmp_path / "en.xlf", tmp_path / "en.po"
    xlf_path.write_bytes(export_xliff(sources, "en"))
    with xlf_path.open("rb") as source, po_path.open("wb") as output:
        xliff2po.convertxliff(source, output, None)
    store = pofile.parsefile(str(po_path))
    key = "labels.evening"
    [unit] = [unit for unit in store.units if unit.getlocations() == [key]]
    unit.target = "In the evening"
    po_path.write_bytes(bytes(store))
    code, _, stderr = run_cli(capsys, "translations", "import", str(po_path), "--sources",
                              str(sources))
    assert code == 2 and stderr == [(f"{po_path}: no target language given (add --lang, or e.g. "
                                    '<file target-language="en"> / "Language: en")')]
    code, stdout, _ = run_cli(capsys, "translations", "import", str(po_path), "--sources",
                              str(sources), "--lang", "en")
    assert code == 0 and stdout == [str(sources / "en.yaml")]
    assert leaves(sources / "en.yaml")[key] == "In the evening"
    code, _, stderr = run_cli(capsys, "translations", "import", str(po_path), "--sources",
                              str(sources), "--lang", "de")
    assert code == 2 and "no sources/de.yaml for language 'de'" in stderr[0]


@pytest.mark.parametrize("content, message", [
    ((b'msgid ""\nmsgstr ""\n"Language: en\\n"\n\nmsgctxt "labels.page"\nmsgid "page"\n'
     b'msgid_plural "pages"\nmsgstr[0] "page"\nmsgstr[1] "pages"\n'),
     "tk.po:5: labels.page: plural forms are not used by these documents"),
    ("msgid \"\"\nmsgstr \"\"\n\"Language: en\\n\"\n\nmsgctxt \"labels.page\"\nmsgid \"page\"\n"
     "msgstr \"pàge\"\n".encode("latin-1"), "tk.po: the file is not UTF-8 (save it as UTF-8)"),
    (b"/etc/passwd", "tk.po: not a PO file (no msgid lines)"),
    ((b'msgid ""\nmsgstr ""\n"Language: en\\n"\n\nmsgctxt "labels.nope"\nmsgid "page"\n'
     b'msgstr "page"\n'), "tk.po:5: labels.nope: unknown unit: not a text key of sources/fr.yaml"),
])
def test_bad_po_files_are_refused_and_nothing_written(sources, content, message):
    path = sources.parent / "tk.po"
    path.write_bytes(content)
    before = (sources / "en.yaml").read_bytes()
    with pytest.raises(InputError) as refused:
        import_po(sources, path, "tk.po")
    assert str(refused.value.problems[0]) == message
    assert (sources / "en.yaml").read_bytes() == before


def test_an_import_that_would_make_an_unreadable_source_file_is_refused(sources):
    huge = "Morning " + "very " * 420_000
    path = sources.parent / "returned.xlf"
    path.write_bytes(edited(export_xliff(sources, "en"), {"labels.morning": huge}))
    before = (sources / "en.yaml").read_bytes()
    with pytest.raises(InputError) as refused:
        import_xliff(sources, path, "returned.xlf")
    [problem] = refused.value.problems
    assert problem.where == "returned.xlf"
    assert re.fullmatch(r"the merged en.yaml would be \d+ bytes, over the 2000000 bytes the tool "
                        r"reads; nothing was written", problem.message)
    assert (sources / "en.yaml").read_bytes() == before


def test_inline_codes_nested_without_end_are_refused_not_a_crash(sources):
    path = sources.parent / "returned.xlf"
    xliff = export_xliff(sources, "en").decode("utf-8")
    deep = "<mrk>" * 5000 + "Morning" + "</mrk>" * 5000
    path.write_text(xliff.replace("<target state=\"signed-off\">Morning</target>",
                                  f"<target>{deep}</target>"), encoding="utf-8")
    with pytest.raises(InputError) as refused:
        import_xliff(sources, path, "returned.xlf")
    assert str(refused.value.problems[0]) == (
        "returned.xlf: unit labels.morning: inline code <mrk> nested more than 10 deep in the "
        "target cannot be mapped back to the French markup (keep the tags of the source)")


def test_a_unit_deeper_than_the_french_is_unknown(sources):
    path = sources.parent / "returned.xlf"
    path.write_bytes(edited(export_xliff(sources, "en"), {}, extra_unit="labels.page.deeper"))
    with pytest.raises(InputError, match="unit labels.page.deeper: unknown unit"):
        import_xliff(sources, path, "returned.xlf")


def test_a_merged_file_nested_deeper_than_the_reader_allows_is_never_written(tmp_path):
    from handouts.sources.yamlsource import MAX_YAML_DEPTH
    from handouts.translate.merge import verify_text
    path = tmp_path / "en.yaml"
    deep = "".join(f"{'  ' * level}k{level}:\n" for level in range(MAX_YAML_DEPTH + 1))
    deep += f'{"  " * (MAX_YAML_DEPTH + 1)}leaf: "x"\n'
    with pytest.raises(InputError) as refused:
        verify_text(path, deep, {}, "returned.xlf")
    [problem] = refused.value.problems
    assert problem.where == "returned.xlf"
    assert problem.message.startswith("the merged en.yaml would not be readable (")
    assert problem.message.endswith("); nothing was written")
    assert "nested more than" in problem.message
    assert not path.exists()


def test_importing_an_unchanged_po_export_changes_nothing(capsys, sources):
    en = sources / "en.yaml"
    en.write_text(en.read_text(encoding="utf-8").replace('"Midday"', '"Noon"'), encoding="utf-8")
    before = en.read_bytes()
    path = sources.parent / "en.po"
    path.write_bytes(export_po(sources, "en"))
    code, stdout, stderr = run_cli(capsys, "translations", "import", str(path), "--sources",
                                   str(sources))
    assert code == 0 and stdout == [] and en.read_bytes() == before
    assert stderr[0].startswith("translations: 0 strings changed, 0 without a translation")
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources), "--lang", "en",
                              "--no-fit")
    assert code == 1 and [line for line in stderr if "to review" in line] == [
        (f"{en}:{line_of(sources, 'labels.noon') + 1}:9: labels.noon: to review: translation changed: [-Midday-] {{+Noon+}}; "
        "French unchanged")]
