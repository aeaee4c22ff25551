"""XLIFF 1.2 round trip with a translation agency: export, checked import, in-place merge."""

from __future__ import annotations

import copy
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from handouts.errors import InputError
from handouts.project import EMBEDDED
from handouts.sources.yamlsource import read_yaml
from handouts.translate.status import STRUCTURAL_KEYS, accepted_path, flatten, write_accepted
from handouts.translate.xliff import export_xliff, import_xliff

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
    write_accepted(sources, "en", french_texts(sources))


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    target = tmp_path / "sources"
    shutil.copytree(EMBEDDED.sources_dir, target)
    if not accepted_path(target, "en").exists():
        accept_all(target)
    return target


def units(xliff: bytes) -> dict[str, ET.Element]:
    return {unit.get("id"): unit for unit in ET.fromstring(xliff).iter(tag("trans-unit"))}


def edited(xliff: bytes, targets: dict[str, str], extra_unit: str | None = None) -> bytes:
    """The document with some targets replaced, and optionally a copied unit renamed."""
    root = ET.fromstring(xliff)
    body = root.find(f"{tag('file')}/{tag('body')}")
    for unit in body.iter(tag("trans-unit")):
        if unit.get("id") in targets:
            unit.find(tag("target")).text = targets[unit.get("id")]
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
    return import_xliff(sources, path, display="returned.xlf")[1]


def test_export_lists_every_french_text_in_order_with_states_and_notes(sources):
    accept_all(sources)
    xliff = export_xliff(sources, "en")
    assert xliff == export_xliff(sources, "en")
    assert xliff.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    file = ET.fromstring(xliff).find(tag("file"))
    assert file.get("source-language") == "fr" and file.get("target-language") == "en"
    french, found = french_texts(sources), units(xliff)
    assert list(found) == list(french)
    assert [unit.find(tag("source")).text for unit in found.values()] == list(french.values())
    assert {unit.find(tag("target")).get("state") for unit in found.values()} == {"translated"}
    assert found["labels.your_treatment"].find(tag("target")).text == "Your treatment"
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
    key = key_with(sources, "Oubli de prises ou plus de comprimés")
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
    assert unit.find(tag("source")).text == "Votre traitement personnel"
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
