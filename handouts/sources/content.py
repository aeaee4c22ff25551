"""Loading stage: a language's YAML source -> validated content, ready to compose.

Every problem in a file is collected (with `file:line:col` and a hint) before any
error is raised, so a writer fixes them all in one go. Placeholders are left in the
text here; `compose` fills them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..markup import parse_runs, text_problems
from ..model import Block, Box, BulletList, Column, Columns, Paragraph, Section, Subsection
from .yamlsource import Mark, YamlList, YamlMap, mark_of, read_yaml

LEAFLETS = ("oral_leaflet", "intrathecal_leaflet")
INSERTS = ("oral_insert", "intrathecal_insert")
CARDS = ("intrathecal_card",)
DOCUMENT_KEYS = LEAFLETS + INSERTS + CARDS
SECTION_KEYS = ("what_it_is", "before_you_take", "how_to_take", "side_effects", "storage",
                "contents")
BOX_KINDS = ("warning", "caution", "info")
LABEL_KEYS = (
    "page", "version", "revised", "your_treatment", "your_pump", "patient_name",
    "prescriber", "team_phone", "pump_clinic_phone", "emergency", "daily_dose", "morning",
    "noon", "evening", "bedtime", "dose_plan",
    "titration_plan", "taper_plan", "plan_from", "plan_daily_dose", "plan_note",
    "no_plan", "pump_model", "concentration", "reservoir", "next_refill", "alarm_date",
    "implanting_centre", "contacts", "confirmed_high_dose", "card_front", "card_back",
    "card_cut", "plan_day", "treatment", "plan_stop", "no_intake", "implant_date",
    "starting_dose", "current_dose", "target_dose", "see_plan", "tablets",
    "scored", "tablet_one", "tablet_many", "step_done", "step_current",
    "step_next", "plan_unusual", "hospital_only",
)


@dataclass(frozen=True)
class DocumentContent:
    """One document's text in one language, placeholders not yet filled."""

    key: str
    title: str
    subtitle: str
    preamble: tuple[Paragraph, ...]
    warning: Box | None
    sections: tuple[Section, ...]
    intro: tuple[Paragraph, ...]
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class LanguageContent:
    lang: str
    labels: dict[str, str]
    documents: dict[str, DocumentContent]


def suggest(name: str, choices: tuple[str, ...] | list[str]) -> str:
    """A 'did you mean' hint (every equally close name, e.g. both units of a dose), or the
    list of allowed names."""
    close = difflib.get_close_matches(name, choices, n=3)
    if close:
        best = difflib.SequenceMatcher(None, name, close[0]).ratio()
        tied = [c for c in close if difflib.SequenceMatcher(None, name, c).ratio() == best]
        return "did you mean " + " or ".join(f"'{c}'" for c in sorted(tied)) + "?"
    return "expected one of: " + ", ".join(choices)


class _Reader:
    """Walks one language file, building content and collecting problems."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, mark: Mark, message: str, hint: str = "") -> None:
        self.problems.append(Problem(str(mark), message, hint))

    def keys(self, node: YamlMap, path: str, required: tuple[str, ...],
             optional: tuple[str, ...] = (), ordered: bool = False) -> None:
        allowed = required + optional
        for key in node:
            if key not in allowed:
                self.problem(node.key_marks[key], f"{path}.{key}: unknown key '{key}'",
                             suggest(key, allowed))
        missing = [key for key in required if key not in node]
        for key in missing:
            self.problem(node.mark, f"{path}: missing key '{key}'",
                         "copy it from the French file (sources/fr.yaml)")
        present = [key for key in node if key in required]
        if ordered and not missing and present != list(required):
            self.problem(node.mark, f"{path}: keys out of order",
                         "expected order: " + ", ".join(required))

    def mapping(self, value: Any, mark: Mark, path: str) -> YamlMap | None:
        if isinstance(value, YamlMap):
            return value
        self.problem(mark, f"{path}: expected a block of 'key: value' lines, found "
                     f"{_kind(value, mark)}")
        return None

    def text(self, value: Any, mark: Mark, path: str) -> str:
        if not isinstance(value, str):
            hint = ("put it in double quotes" if mark.raw else "write the text")
            shown = f" '{mark.raw}'" if mark.raw else ""
            self.problem(mark, f"{path}: expected text, found {_kind(value, mark)}{shown}", hint)
            return ""
        if not value.strip():
            self.problem(mark, f"{path}: empty text", "write the text or remove the key")
        for message, hint in text_problems(value):
            self.problem(mark, f"{path}: {message}", hint)
        return value

    def paragraph(self, value: Any, mark: Mark, path: str) -> Paragraph:
        return Paragraph(parse_runs(self.text(value, mark, path)))

    def items(self, value: Any, mark: Mark, path: str) -> tuple[Paragraph, ...]:
        if not isinstance(value, YamlList) or not value:
            self.problem(mark, f"{path}: expected a list of texts ('- \"...\"' lines)")
            return ()
        return tuple(self.paragraph(item, mark_of(value, i), f"{path}.{i}")
                     for i, item in enumerate(value))

    def string_field(self, node: YamlMap, key: str, path: str) -> str:
        return self.text(node.get(key), node.value_marks.get(key, node.mark), f"{path}.{key}")

    def blocks(self, value: Any, mark: Mark, path: str) -> tuple[Block, ...]:
        node = self.mapping(value, mark, path)
        if node is None:
            return ()
        built = (self.block(node[key], node.value_marks[key], f"{path}.{key}") for key in node)
        return tuple(block for block in built if block is not None)

    def block(self, value: Any, mark: Mark, path: str) -> Block | None:
        if isinstance(value, YamlList):
            return BulletList(self.items(value, mark, path))
        if not isinstance(value, YamlMap):
            return self.paragraph(value, mark, path)
        if "box" in value:
            self.keys(value, path, ("box", "title", "blocks"))
            kind = value.get("box")
            if kind not in BOX_KINDS:
                self.problem(value.value_marks["box"], f"{path}.box: unknown box kind '{kind}'",
                             suggest(str(kind), BOX_KINDS))
            return Box(str(kind), self.string_field(value, "title", path),
                       self.blocks(value.get("blocks"), value.value_marks.get("blocks", mark),
                                   f"{path}.blocks"))
        if "columns" in value:
            self.keys(value, path, ("columns",))
            columns = self.mapping(value["columns"], value.value_marks["columns"],
                                   f"{path}.columns")
            return Columns(tuple(self.column(columns[key], columns.value_marks[key],
                                             f"{path}.columns.{key}")
                                 for key in columns or {}))
        if "heading" in value:
            self.keys(value, path, ("heading", "blocks"))
            return Subsection(self.string_field(value, "heading", path),
                              self.blocks(value.get("blocks"), value.value_marks.get("blocks", mark),
                                          f"{path}.blocks"))
        self.problem(mark, f"{path}: unknown kind of block",
                     "a block is a text, a list, {heading, blocks}, {box, title, blocks} "
                     "or {columns}; see docs/sources.md")
        return None

    def column(self, value: Any, mark: Mark, path: str) -> Column:
        node = self.mapping(value, mark, path)
        if node is None:
            return Column("", ())
        self.keys(node, path, ("title", "items"))
        return Column(self.string_field(node, "title", path),
                      self.items(node.get("items"), node.value_marks.get("items", mark),
                                 f"{path}.items"))

    def document(self, key: str, node: YamlMap, path: str) -> DocumentContent:
        if key in LEAFLETS:
            self.keys(node, path, ("title", "subtitle", "preamble", "sections"), ("warning",))
            sections_node = self.mapping(node.get("sections"),
                                         node.value_marks.get("sections", node.mark),
                                         f"{path}.sections")
            sections = ()
            if sections_node is not None:
                self.keys(sections_node, f"{path}.sections", SECTION_KEYS, ordered=True)
                sections = tuple(self.section(sections_node, name, f"{path}.sections.{name}")
                                 for name in SECTION_KEYS if name in sections_node)
            return DocumentContent(
                key, self.string_field(node, "title", path), self.string_field(node, "subtitle", path),
                self.items(node.get("preamble"), node.value_marks.get("preamble", node.mark),
                           f"{path}.preamble"),
                self.warning(node, f"{path}.warning"), sections, (), ())
        self.keys(node, path, ("title", "intro", "blocks"))
        intro = self.paragraph(node.get("intro"), node.value_marks.get("intro", node.mark),
                               f"{path}.intro")
        return DocumentContent(
            key, self.string_field(node, "title", path), "", (), None, (), (intro,),
            self.blocks(node.get("blocks"), node.value_marks.get("blocks", node.mark),
                        f"{path}.blocks"))

    def warning(self, node: YamlMap, path: str) -> Box | None:
        """The leaflet's one red box on its first page (the message a patient must not miss)."""
        if "warning" not in node:
            return None
        mark = node.value_marks["warning"]
        block = self.block(node["warning"], mark, path)
        if isinstance(block, Box) and block.kind == "warning":
            return block
        if block is not None:
            self.problem(mark, f"{path}: expected a red box",
                         "write 'box: \"warning\"', 'title:' and 'blocks:'; see docs/sources.md")
        return None

    def section(self, sections: YamlMap, name: str, path: str) -> Section:
        node = self.mapping(sections[name], sections.value_marks[name], path)
        if node is None:
            return Section(name, "", ())
        self.keys(node, path, ("heading", "blocks"))
        return Section(name, self.string_field(node, "heading", path),
                       self.blocks(node.get("blocks"), node.value_marks.get("blocks", node.mark),
                                   f"{path}.blocks"))

    def language(self, lang: str, root: Any, mark: Mark) -> LanguageContent:
        root = self.mapping(root, mark, "(top)")
        if root is None:
            return LanguageContent(lang, {}, {})
        self.keys(root, "(top)", ("labels", "documents"))
        labels: dict[str, str] = {}
        labels_node = self.mapping(root.get("labels"), root.value_marks.get("labels", mark), "labels")
        if labels_node is not None:
            self.keys(labels_node, "labels", LABEL_KEYS)
            labels = {key: self.string_field(labels_node, key, "labels")
                      for key in LABEL_KEYS if key in labels_node}
        documents: dict[str, DocumentContent] = {}
        docs_node = self.mapping(root.get("documents"), root.value_marks.get("documents", mark),
                                 "documents")
        if docs_node is not None:
            self.keys(docs_node, "documents", DOCUMENT_KEYS)
            for key in DOCUMENT_KEYS:
                node = self.mapping(docs_node.get(key), docs_node.value_marks.get(key, mark),
                                    f"documents.{key}") if key in docs_node else None
                if node is not None:
                    documents[key] = self.document(key, node, f"documents.{key}")
        return LanguageContent(lang, labels, documents)


def _kind(value: Any, mark: Mark) -> str:
    if isinstance(value, YamlMap):
        return "a block of keys"
    if isinstance(value, YamlList):
        return "a list"
    if value is None:
        return "nothing"
    return mark.type_name


def build_language(lang: str, root: Any, name: str) -> LanguageContent:
    """Validate a parsed language tree and build its content."""
    reader = _Reader()
    content = reader.language(lang, root, getattr(root, "mark", Mark(name, 1, 1)))
    if reader.problems:
        raise InputError(reader.problems)
    return content


def load_language(path: Path, display: str | None = None) -> LanguageContent:
    """Read and validate one language file (e.g. `sources/fr.yaml`)."""
    name = display or str(path)
    return build_language(path.stem, read_yaml(path, name), name)
