"""`translations new --lang pt`: a language from nothing to a printed leaflet."""

from __future__ import annotations

import json
import re
from pathlib import Path

from translate.storage.po import pofile

from handouts.sources.yamlsource import read_yaml
from handouts.translate.rules import NOT_UNITS, UNIT_WORDS
from handouts.translate.status import STRUCTURAL_KEYS, flatten
from tests.conftest import pdf_text, run_cli

# Each French unit word with the Portuguese the generated translation uses instead (so
# the unit checks pass); French phrases whose unit words are not units become a neutral
# word.
UNIT_IN_PT = {word: UNIT_WORDS["pt"][unit][0] for unit, words in UNIT_WORDS["fr"].items()
              for word in words}


def generated_portuguese(french: str) -> str:
    """A stand-in translation made in the test: a marker, then the French with its unit
    words in Portuguese (placeholders, bold and numbers kept)."""
    text = french
    for phrase in sorted(NOT_UNITS["fr"], key=len, reverse=True):
        text = text.replace(phrase, "expressão")
    words = "|".join(sorted(map(re.escape, UNIT_IN_PT), key=len, reverse=True))
    text = re.sub(rf"(?<!\w)({words})(?!\w)", lambda m: UNIT_IN_PT[m.group().lower()], text,
                  flags=re.IGNORECASE)
    return f"PT {text}"


def values(path: Path) -> dict[str, object]:
    root = read_yaml(path)
    return {key: entry.value for key, entry in flatten(root, root.mark).items()}


def test_new_language_is_exported_filled_imported_accepted_and_built(capsys, sources_copy,
                                                                    tmp_path):
    sources = sources_copy
    code, stdout, stderr = run_cli(capsys, "translations", "new", "--lang", "pt", "--sources",
                                   str(sources))
    assert code == 0
    assert stdout == [str(sources / "pt.yaml"), str(sources / "accepted" / "pt.json")]
    assert "add its service name to sources/hospital.yaml" in stderr[0]
    french, portuguese = values(sources / "fr.yaml"), values(sources / "pt.yaml")
    assert list(portuguese) == list(french)
    assert {key: value for key, value in portuguese.items() if value != ""} == \
        {key: value for key, value in french.items()
         if key.rpartition(".")[2] in STRUCTURAL_KEYS or not isinstance(value, str)}
    text = (sources / "pt.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Baclofen: text of the documents in Portuguese ('pt')")
    assert "  # Footer: \"page 2 / 6\"" in text  # the French comments stay for translators
    assert json.loads((sources / "accepted" / "pt.json").read_bytes())["strings"] == {}

    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources), "--lang", "pt",
                              "--no-fit")
    assert code == 1
    assert f'{sources / "pt.yaml"}:12:9: labels.page: not translated (empty; French: "page")' \
        in stderr

    out = tmp_path / "out"
    code, stdout, _ = run_cli(capsys, "translations", "export", "--lang", "pt", "--format", "po",
                              "--sources", str(sources), "--out", str(out))
    assert code == 0 and stdout == [str(out / "translations" / "baclofen-pt.po")]
    store = pofile.parsefile(stdout[0])
    units = [unit for unit in store.units if not unit.isheader()]
    assert all(unit.target == "" and not unit.isfuzzy() for unit in units)
    for unit in units:
        unit.target = generated_portuguese(unit.source)
    returned = tmp_path / "baclofen-pt.po"
    returned.write_bytes(bytes(store))

    code, stdout, stderr = run_cli(capsys, "translations", "import", str(returned), "--sources",
                                   str(sources))
    assert code == 0 and stdout == [str(sources / "pt.yaml")]
    assert stderr[-1].startswith(f"translations: {len(units)} strings changed, 0 without")
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources), "--lang", "pt",
                              "--no-fit")
    assert code == 1
    assert sum(": to review: never accepted" in line for line in stderr) == len(units)

    hospital = sources / "hospital.yaml"
    hospital.write_text(hospital.read_text(encoding="utf-8").replace(
        "service:\n", 'service:\n  pt: "PT Serviço"\n'), encoding="utf-8")
    code, _, stderr = run_cli(capsys, "check", "--sources", str(sources), "--accept", "pt")
    assert code == 0 and stderr == [f"check: accepted {len(units)} 'pt' strings, 0 not accepted"]

    code, stdout, stderr = run_cli(capsys, "--sources", str(sources), "--lang", "pt", "--out",
                                   str(out), "--variant", "oral", "--format", "pdf")
    assert code == 0 and stderr == []
    leaflet = pdf_text(out / "pt" / "baclofen-oral-leaflet.pdf")
    title = french["documents.oral_leaflet.title"]
    assert f"PT {title}" in leaflet
    assert "PT Serviço" in leaflet


def test_new_refuses_an_existing_or_invalid_language(capsys, sources_copy):
    before = sorted(p.name for p in sources_copy.rglob("*"))
    for lang, message in [("en", "language 'en' already exists"),
                          ("fr", "language 'fr' already exists"),
                          ("PT", ("'PT' is not a language code (two or three lower-case "
                                 "letters, e.g. pt, de, ar)")),
                          ("../x", "'../x' is not a language code"),
                          ("qqq", "'qqq' is not a language Babel knows")]:
        code, stdout, stderr = run_cli(capsys, "translations", "new", "--lang", lang,
                                       "--sources", str(sources_copy))
        assert code == 2 and stdout == []
        assert message in stderr[0]
    assert sorted(p.name for p in sources_copy.rglob("*")) == before
