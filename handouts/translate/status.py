"""Translations against the French reference: what is missing, extra, unsafe or stale.

A string's identity is its key path (`documents.oral_insert.blocks.what_to_do.2`).
For each language, `sources/accepted/<lang>.json` records the French text each
translated string was last reviewed against; when the French changes, the string is
stale until a translator accepts it again (`check --accept LANG [KEY...]`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..markup import placeholders_in, text_problems
from ..output import write_atomic
from ..sources.yamlsource import Mark, YamlList, YamlMap

NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
UNIT = re.compile(r"(?<![\w])(mg|µg|mL|ml|%|mg/mL|µg/mL)(?![\w])")
URL = re.compile(r"(?:https?://|www\.)\S+")
PHONE_IN_TEXT = re.compile(r"\+?\d{2}(?:[ .\u00a0]?\d{2}){3,}")
FRENCH_TYPOGRAPHY = re.compile(r"[\u00a0\u202f][;:!?»]|«|…")
# Sentence-ending marks a translation keeps (a French "?" heading may lose its "?" in
# English QRD headings, so only these are compared).
KEPT_PUNCTUATION = ".:"
# Values that are structure, not text: they must stay exactly as in the French.
STRUCTURAL_KEYS = ("box",)


@dataclass(frozen=True)
class Entry:
    """One leaf of a source tree: its key path, value and where it is."""

    key: str
    value: Any
    mark: Mark


def flatten(node: Any, mark: Mark, prefix: str = "") -> dict[str, Entry]:
    """Every leaf value by key path, in file order."""
    entries: dict[str, Entry] = {}
    if isinstance(node, YamlMap):
        for key, value in node.items():
            entries.update(flatten(value, node.value_marks[key], f"{prefix}{key}."))
    elif isinstance(node, YamlList):
        for index, value in enumerate(node):
            entries.update(flatten(value, node.item_marks[index], f"{prefix}{index}."))
    else:
        entries[prefix.rstrip(".")] = Entry(prefix.rstrip("."), node, mark)
    return entries


def containers(node: Any, mark: Mark, prefix: str = "") -> dict[str, Mark]:
    """Where each mapping or list starts, by key path (to place 'missing key' errors)."""
    found = {prefix.rstrip("."): mark}
    if isinstance(node, YamlMap):
        for key, value in node.items():
            if isinstance(value, (YamlMap, YamlList)):
                found.update(containers(value, node.value_marks[key], f"{prefix}{key}."))
    elif isinstance(node, YamlList):
        for index, value in enumerate(node):
            if isinstance(value, (YamlMap, YamlList)):
                found.update(containers(value, node.item_marks[index], f"{prefix}{index}."))
    return found


def _numbers(text: str) -> Counter:
    return Counter(n.replace(",", ".") for n in NUMBER.findall(_without_placeholders(text)))


def _without_placeholders(text: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "", text)


def _differs(label: str, french: Counter, translated: Counter) -> str:
    def show(items: Counter) -> str:
        return ", ".join(sorted(items.elements())) or "none"
    return (f"{label} differ from the French: French has {show(french)}, translation has "
            f"{show(translated)}")


def compare_text(french: str, translated: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for one translated string against its French source."""
    errors = [message for message, _ in text_problems(translated)]
    if Counter(placeholders_in(french)) != Counter(placeholders_in(translated)):
        errors.append(_differs("placeholders", Counter(f"{{{p}}}" for p in placeholders_in(french)),
                               Counter(f"{{{p}}}" for p in placeholders_in(translated))))
    if french.count("**") != translated.count("**"):
        errors.append(f"bold markup differs from the French: French has {french.count('**') // 2}"
                      f" bold parts, translation has {translated.count('**') // 2}")
    checks = (("numbers", _numbers), ("units", lambda t: Counter(UNIT.findall(t))),
              ("URLs", lambda t: Counter(URL.findall(t))),
              ("phone numbers", lambda t: Counter(PHONE_IN_TEXT.findall(t))))
    for label, extract in checks:
        if extract(french) != extract(translated):
            errors.append(_differs(label, extract(french), extract(translated)))
    warnings = []
    if translated == french and len(french.split()) >= 3:
        warnings.append("same as the French (not translated?)")
    if translated != translated.strip() or "  " in translated:
        warnings.append("extra spaces at the start, the end or inside")
    french_end, translated_end = french.strip()[-1:], translated.strip()[-1:]
    if french_end != translated_end and (french_end in KEPT_PUNCTUATION
                                         or translated_end in KEPT_PUNCTUATION):
        warnings.append(f"ends with '{translated_end}' but the French ends with '{french_end}'")
    if FRENCH_TYPOGRAPHY.search(translated):
        warnings.append("French typography (no-break space before ; : ! ?, « », …)")
    return errors, warnings


def word_diff(old: str, new: str) -> str:
    """The change between two texts, words removed in [-...-] and added in {+...+}."""
    old_words, new_words = old.split(), new.split()
    parts = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old_words, b=new_words).get_opcodes():
        if op == "equal":
            words = old_words[a1:a2]
            parts.append(" ".join(words if len(words) <= 6 else [*words[:3], "...", *words[-3:]]))
            continue
        if a2 > a1:
            parts.append("[-" + " ".join(old_words[a1:a2]) + "-]")
        if b2 > b1:
            parts.append("{+" + " ".join(new_words[b1:b2]) + "+}")
    return " ".join(parts)


@dataclass
class Report:
    """What `check` says about one language: errors, warnings, stale keys, fallbacks."""

    errors: list[Problem]
    warnings: list[Problem]
    stale: list[Problem]
    bad_keys: set[str]


def accepted_path(sources_dir: Path, lang: str) -> Path:
    return sources_dir / "accepted" / f"{lang}.json"


def read_accepted(sources_dir: Path, lang: str) -> dict[str, str]:
    """The French text each key of `lang` was last accepted against."""
    path = accepted_path(sources_dir, lang)
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def write_accepted(sources_dir: Path, lang: str, accepted: dict[str, str]) -> Path:
    path = accepted_path(sources_dir, lang)
    data = json.dumps(dict(sorted(accepted.items())), ensure_ascii=False, indent=1) + "\n"
    write_atomic(path, data.encode("utf-8"))
    return path


def compare_trees(french_root: YamlMap, translated_root: YamlMap, accepted: dict[str, str]
                  ) -> Report:
    """Compare a translation's tree with the French one, key by key."""
    french = flatten(french_root, french_root.mark)
    translated = flatten(translated_root, translated_root.mark)
    places = containers(translated_root, translated_root.mark)
    report = Report([], [], [], set())

    def add(kind: list[Problem], entry_mark: Mark, key: str, message: str) -> None:
        kind.append(Problem(str(entry_mark), f"{key}: {message}"))

    for key, source in french.items():
        entry = translated.get(key)
        if entry is None:
            parent = key
            while parent and parent not in places:
                parent = parent.rpartition(".")[0]
            add(report.errors, places.get(parent, translated_root.mark), key,
                f"missing (French: \"{_short(source.value)}\")")
            report.bad_keys.add(key)
            continue
        if not isinstance(source.value, str) or key.rpartition(".")[2] in STRUCTURAL_KEYS:
            if entry.value != source.value:
                add(report.errors, entry.mark, key, f"must be {source.value!r} as in the French")
                report.bad_keys.add(key)
            continue
        if not isinstance(entry.value, str):
            shown = f" '{entry.mark.raw}'" if entry.mark.raw else ""
            add(report.errors, entry.mark, key, f"expected text, found {entry.mark.type_name}"
                f"{shown} (put it in double quotes)")
            report.bad_keys.add(key)
            continue
        if not entry.value.strip():
            add(report.errors, entry.mark, key, "empty")
            report.bad_keys.add(key)
            continue
        errors, warnings = compare_text(source.value, entry.value)
        for message in errors:
            add(report.errors, entry.mark, key, message)
        if errors:
            report.bad_keys.add(key)
        for message in warnings:
            add(report.warnings, entry.mark, key, message)
        if key not in accepted:
            add(report.stale, entry.mark, key, "not yet accepted against the French "
                "(review it, then run: check --accept LANG KEY)")
        elif accepted[key] != source.value:
            add(report.stale, entry.mark, key, "stale: the French changed since this was "
                f"accepted: {word_diff(accepted[key], source.value)}")
    for key, entry in translated.items():
        if key not in french:
            add(report.errors, entry.mark, key, "extra key, not in the French (remove it)")
    return report


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def merge_with_french(french: Any, translated: Any, bad_keys: set[str], prefix: str = ""
                      ) -> tuple[Any, list[str]]:
    """The translation, with the French used wherever a key is missing or wrong.
    Returns the merged tree and the key paths that fell back to French."""
    key = prefix.rstrip(".")
    if isinstance(french, YamlMap):
        if not isinstance(translated, YamlMap):
            return french, [key]
        merged = YamlMap()
        merged.mark, merged.key_marks, merged.value_marks = translated.mark, {}, {}
        fallbacks: list[str] = []
        for name, value in french.items():
            if name in translated:
                merged[name], used = merge_with_french(value, translated[name], bad_keys,
                                                       f"{prefix}{name}.")
                merged.key_marks[name] = translated.key_marks[name]
                merged.value_marks[name] = translated.value_marks[name]
            else:
                merged[name], used = value, [f"{prefix}{name}"]
                merged.key_marks[name] = french.key_marks[name]
                merged.value_marks[name] = french.value_marks[name]
            fallbacks += used
        return merged, fallbacks
    if isinstance(french, YamlList):
        if not isinstance(translated, YamlList) or len(translated) != len(french):
            return french, [key]
        merged_list = YamlList()
        merged_list.mark, merged_list.item_marks = translated.mark, list(translated.item_marks)
        fallbacks = []
        for index, value in enumerate(french):
            item, used = merge_with_french(value, translated[index], bad_keys,
                                           f"{prefix}{index}.")
            merged_list.append(item)
            fallbacks += used
        return merged_list, fallbacks
    if key in bad_keys or not isinstance(translated, str):
        return french, [key]
    return translated, []
