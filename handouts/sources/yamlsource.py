"""Reading YAML while keeping where every value came from.

PyYAML's `safe_load` forgets positions, so we compose the node graph with the safe
loader and build our own mappings and lists that remember `line:col` for each key and
value. YAML mistakes are turned into messages a translator or clinician understands.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, Problem, where

MAX_YAML_BYTES = 2_000_000
MAX_YAML_DEPTH = 20  # lists and maps inside each other; the sources need 6

_STR_TAG = "tag:yaml.org,2002:str"
_TYPE_NAMES = {
    "tag:yaml.org,2002:bool": "a yes/no value (boolean)",
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a decimal number",
    "tag:yaml.org,2002:null": "an empty value",
    "tag:yaml.org,2002:timestamp": "a date",
}


@dataclass(frozen=True)
class Mark:
    """Where a value starts in its file, 1-based, plus how it was written."""

    path: str
    line: int
    col: int
    raw: str = ""
    quoted: bool = False
    tag: str = _STR_TAG

    def __str__(self) -> str:
        return where(self.path, self.line, self.col)

    @property
    def type_name(self) -> str:
        """What YAML read the value as, in words."""
        return _TYPE_NAMES.get(self.tag, "text")


class YamlMap(dict):
    """A mapping that knows where it, each key and each value are."""

    mark: Mark
    key_marks: dict[str, Mark]
    value_marks: dict[str, Mark]


class YamlList(list):
    """A list that knows where it and each item are."""

    mark: Mark
    item_marks: list[Mark]


def mark_of(container: YamlMap | YamlList, key: Any) -> Mark:
    """Where the value at `key` (or list index) starts."""
    if isinstance(container, YamlMap):
        return container.value_marks[key]
    return container.item_marks[key]


_FRIENDLY = (
    ("found character '\\t'", "a tab character is not allowed here", "indent with spaces, never tabs"),
    ("mapping values are not allowed here", "a ':' in unquoted text",
     "put the whole text in double quotes"),
    ("could not find expected ':'", "a line is not a 'key: value' pair",
     "check the indentation and the ':' after the key"),
    ("expected <block end>", "bad indentation",
     "align this line with the other keys of its block (two spaces per level)"),
    ("did not find expected key", "bad indentation or a missing key",
     "align this line with the other keys of its block"),
    ("found undefined alias", "an unknown alias ('*name')", "write the value out in full"),
    ("did not find expected '-' indicator", "a list item is badly indented",
     "align every '- ' of a list"),
    ("found unexpected end of stream", "a quoted text is not closed", "close the quotes"),
    ("found unknown escape character", "an unknown backslash escape in double quotes",
     "write \\\\ for a backslash"),
)


def _friendly(error: yaml.MarkedYAMLError) -> tuple[str, str]:
    text = f"{error.context or ''} {error.problem or ''}"
    for needle, message, hint in _FRIENDLY:
        if needle in text:
            return message, hint
    return (error.problem or "YAML syntax error"), "check the line against docs/sources.md"


def read_yaml(path: Path, display: str | None = None, text: str | None = None,
              as_typed: bool = False) -> Any:
    """Parse a YAML file into YamlMap/YamlList/scalars with positions.

    With `as_typed`, every scalar is the text as typed (None when empty): patient
    records, where YAML 1.1 would read `017` as 15, `12:30` as 750 and `3_0` as 30.
    Raises InputError listing every problem found (tabs, syntax, duplicate keys, aliases,
    too deep nesting).
    """
    name = display or str(path)
    if text is None:
        try:
            if path.stat().st_size > MAX_YAML_BYTES:
                raise InputError(Problem(name, f"file is larger than {MAX_YAML_BYTES} bytes"))
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputError(Problem(name, "not UTF-8 text", "save the file as UTF-8")) from error
        except OSError as error:
            raise InputError(Problem(name, f"cannot read the file: {error.strerror}")) from None
    if len(text) > MAX_YAML_BYTES:
        raise InputError(Problem(name, f"text is longer than {MAX_YAML_BYTES} characters"))
    problems = [
        Problem(where(name, number, line.index("\t") + 1), "a tab character is not allowed",
                "indent with spaces, never tabs")
        for number, line in enumerate(text.splitlines(), 1) if "\t" in line
    ]
    try:
        problems += _scan_events(text, name)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message, hint = _friendly(error)
        location = where(name, mark.line + 1, mark.column + 1) if mark else name
        if not any(p.where == location for p in problems):
            problems.append(Problem(location, message, hint))
        raise InputError(problems) from None
    if problems:
        raise InputError(problems)
    if node is None:
        return None
    builder = _Builder(name, as_typed)
    value = builder.build(node)
    if builder.problems:
        raise InputError(builder.problems)
    return value


def _scan_events(text: str, name: str) -> list[Problem]:
    """Aliases, found in one streaming pass that stops at the first nesting deeper than
    MAX_YAML_DEPTH, before any value is built (deep nesting makes PyYAML quadratic)."""
    problems, depth = [], 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            problems.append(Problem(where(name, event.start_mark.line + 1,
                                          event.start_mark.column + 1),
                                    "anchors and aliases are not allowed",
                                    "write the value out in full"))
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                mark = event.start_mark
                raise InputError([*problems, Problem(
                    where(name, mark.line + 1, mark.column + 1),
                    f"lists and maps nested more than {MAX_YAML_DEPTH} deep")])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return problems


class _Builder:
    """Turns composed nodes into located values, collecting problems as it goes."""

    def __init__(self, name: str, as_typed: bool = False):
        self.name = name
        self.as_typed = as_typed
        self.problems: list[Problem] = []
        self.constructor = yaml.SafeLoader("")

    def mark(self, node: yaml.Node) -> Mark:
        raw = node.value if isinstance(node, yaml.ScalarNode) else ""
        quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"', "|", ">")
        return Mark(self.name, node.start_mark.line + 1, node.start_mark.column + 1,
                    raw, quoted, node.tag)

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self.build_map(node)
        if isinstance(node, yaml.SequenceNode):
            result = YamlList(self.build(item) for item in node.value)
            result.mark = self.mark(node)
            result.item_marks = [self.mark(item) for item in node.value]
            return result
        if self.as_typed:
            return None if node.tag == "tag:yaml.org,2002:null" else node.value
        return self.constructor.construct_object(node, deep=True)

    def build_map(self, node: yaml.MappingNode) -> YamlMap:
        result = YamlMap()
        result.mark, result.key_marks, result.value_marks = self.mark(node), {}, {}
        for key_node, value_node in node.value:
            key_mark = self.mark(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(Problem(str(key_mark), "'<<' merge keys are not allowed",
                                             "write the keys out in full"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(str(key_mark), "a key must be a plain name"))
                continue
            key = key_node.value
            if key in result:
                first = result.key_marks[key]
                self.problems.append(Problem(
                    str(key_mark), f"duplicate key '{key}'",
                    f"it is already defined at line {first.line}; keep one of them"))
                continue
            result[key] = self.build(value_node)
            result.key_marks[key] = key_mark
            result.value_marks[key] = self.mark(value_node)
        return result
