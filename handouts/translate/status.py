"""Translations against the French reference: what is missing, extra, unsafe or to review.

A string's identity is its key path (`documents.oral_insert.blocks.what_to_do.2`).
Each string is checked by the rules of `rules.py`, and is "to review" unless a reviewer
accepted exactly its French and its translation (`review.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from ..sources.yamlsource import Mark, YamlList, YamlMap
from .review import Accepted, to_review
from .rules import compare_text, review_warnings

# Values that are structure, not text: they must stay exactly as in the French (a box's
# kind, an action id, the group of signs a document prints).
STRUCTURAL_KEYS = ("box", "call", "sign_group")


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


@dataclass
class Report:
    """What `check` says about one language: errors, warnings, strings to review, and
    the keys that would fall back to French (bad, or to review)."""

    errors: list[Problem]
    warnings: list[Problem]
    to_review: list[Problem]
    bad_keys: set[str]
    review_keys: set[str]


def compare_trees(french_root: YamlMap, translated_root: YamlMap, lang: str,
                  accepted: dict[str, Accepted]) -> Report:
    """Compare a translation's tree with the French one, key by key."""
    french = flatten(french_root, french_root.mark)
    translated = flatten(translated_root, translated_root.mark)
    places = containers(translated_root, translated_root.mark)
    report = Report([], [], [], set(), set())

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
            add(report.errors, entry.mark, key, f"not translated (empty; French: "
                f"\"{_short(source.value)}\")")
            report.bad_keys.add(key)
            continue
        errors, warnings = compare_text(source.value, entry.value, lang)
        for message in errors:
            add(report.errors, entry.mark, key, message)
        if errors:
            report.bad_keys.add(key)
        for message in warnings:
            add(report.warnings, entry.mark, key, message)
        reason = to_review(source.value, entry.value, accepted.get(key))
        if reason:
            add(report.to_review, entry.mark, key, reason)
            report.review_keys.add(key)
            for message in review_warnings(source.value, entry.value, lang):
                add(report.warnings, entry.mark, key, message)
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
