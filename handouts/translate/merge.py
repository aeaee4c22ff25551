"""Writing returned translations into a language's YAML file, in place.

Only the changed strings are rewritten (comments, order and quoting kept; a key missing
from the translation is inserted after its French preceding sibling), and the result is
read back before anything is written: a file the tool would refuse to read (too large,
not the intended values) is never written.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ..errors import InputError, Problem
from ..output import write_atomic
from ..sources.yamlsource import MAX_YAML_BYTES, Mark, YamlMap, read_yaml
from .status import STRUCTURAL_KEYS, Entry, flatten

_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\\r\n]|\\.)*"(?=[ \t]*(?:#.*)?[\r\n]*$)')
# Characters PyYAML refuses or reads as line breaks when written raw: always escaped.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_BOM = "\ufeff"


def load_source(path: Path) -> tuple[str, YamlMap, dict[str, Entry]]:
    """A source file's text (BOM kept), its tree and its leaves by key path."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise InputError(Problem(str(path), f"cannot read the file ({error.strerror or error})")
                         ) from None
    except UnicodeDecodeError:
        raise InputError(Problem(str(path), "not UTF-8 text", "save the file as UTF-8")) from None
    root = read_yaml(path, text=text.removeprefix(_BOM))
    if not isinstance(root, YamlMap):
        raise InputError(Problem(str(path), "expected keys at the top level"))
    return text, root, flatten(root, root.mark)


def _texts(entries: dict[str, Entry]) -> dict[str, Entry]:
    """The leaves a translator translates: text, not structure such as `box`."""
    return {key: entry for key, entry in entries.items()
            if isinstance(entry.value, str) and key.rpartition(".")[2] not in STRUCTURAL_KEYS}


def text_leaves(entries: dict[str, Entry]) -> dict[str, Entry]:
    """The leaves a translator translates: text, not structure such as `box`."""
    return {key: entry for key, entry in entries.items()
            if isinstance(entry.value, str) and key.rpartition(".")[2] not in STRUCTURAL_KEYS}


def _yaml_quoted(value: str) -> str:
    """`value` as a single-line YAML double-quoted scalar (JSON strings are valid YAML)."""
    encoded = json.dumps(value, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", encoded)


def replace_scalar(lines: list[str], mark: Mark, value: str) -> str | None:
    """Replace the double-quoted scalar at `mark` in place, or say why it cannot be."""
    line, start = lines[mark.line - 1], mark.col - 1
    match = _DOUBLE_QUOTED.match(line, start)
    if match is None:
        return (f"{mark}: the current value is not a double-quoted single-line text; "
                "put it in double quotes on one line, then import again")
    lines[mark.line - 1] = line[:start] + _yaml_quoted(value) + line[match.end():]
    return None


def _round_trip_yaml() -> YAML:
    """ruamel.yaml set up to write our sources back exactly as they are laid out."""
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def _walk(node: Any, path: str) -> Any:
    """The ruamel node at a dotted key path, or None when part of the path is missing."""
    for part in path.split(".") if path else []:
        if isinstance(node, CommentedMap):
            node = node.get(part)
        elif isinstance(node, CommentedSeq) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _siblings_before(order: list[str], key: str) -> list[str]:
    """The names that come before `key`'s last part in its French parent."""
    parent, _, name = key.rpartition(".")
    prefix = f"{parent}." if parent else ""
    names = list(dict.fromkeys(k[len(prefix):].split(".")[0] for k in order
                               if k.startswith(prefix)))
    return names[:names.index(name)]


def _move_comments(parent: CommentedMap | CommentedSeq, previous: Any, new: Any) -> None:
    """Move below the new entry the comments that introduce what follows it.

    ruamel keeps the lines between two entries on the deepest last item before them.
    Those lines stay above the new entry, except the comment paragraph touching the next
    sibling and, when the next entry is further out, its comments and the blank lines
    before them."""
    node, key = parent, previous
    while isinstance(node[key], (CommentedMap, CommentedSeq)) and len(node[key]):
        node, key = node[key], (list(node[key])[-1] if isinstance(node[key], CommentedMap)
                                else len(node[key]) - 1)
    slots = node.ca.items.get(key)
    slot = 2 if isinstance(node, CommentedMap) else 0
    token = slots[slot] if slots else None
    if token is None:
        return
    head, _, rest = token.value.partition("\n")
    lines = rest.splitlines(keepends=True)
    indent = (parent.lc.key(previous)[1] if isinstance(parent, CommentedMap)
              else parent.lc.item(previous)[1] - 2)
    split = next((i for i, line in enumerate(lines)
                  if line.strip() and len(line) - len(line.lstrip(" ")) < indent), len(lines))
    outer = split < len(lines)
    while split and bool(lines[split - 1].strip()) != outer:
        split -= 1
    if split == len(lines):
        return
    moved = copy.copy(token)
    moved.value = "\n" + "".join(lines[split:])
    token.value = head + "\n" + "".join(lines[:split])
    if token.value == "\n":
        slots[slot] = None
    # ruamel keeps a map entry's following comment in slot 2, a list item's in slot 0.
    parent.ca.items[new] = ([None, None, moved, None] if isinstance(parent, CommentedMap)
                            else [moved, None, None, None])


def _insert(text: str, keys: list[str], targets: dict[str, str], order: list[str],
            name: str, places: dict[str, str]) -> tuple[str, list[Problem]]:
    """Add keys missing from the translation, each after its French preceding sibling."""
    rt = _round_trip_yaml()
    try:
        document = rt.load(text)
    except YAMLError as error:
        raise InputError(Problem(name, f"cannot re-read the translation ({error})")) from None
    problems = []
    for key in keys:
        parent_key, _, last = key.rpartition(".")
        parent = _walk(document, parent_key)
        value = DoubleQuotedScalarString(targets[key])
        if isinstance(parent, CommentedMap):
            before = [sibling for sibling in _siblings_before(order, key) if sibling in parent]
            parent.insert(list(parent).index(before[-1]) + 1 if before else 0, last, value)
            if before:
                _move_comments(parent, before[-1], last)
        elif isinstance(parent, CommentedSeq) and last == str(len(parent)):
            parent.append(value)
            if len(parent) > 1:
                _move_comments(parent, len(parent) - 2, len(parent) - 1)
        else:
            missing = f"'{parent_key}'" if parent is None else "the list items before it"
            problems.append(Problem(
                places[key], f"cannot add it: {missing} is missing from the "
                "translation too", "copy that part from sources/fr.yaml, then import again"))
    out = io.StringIO()
    rt.dump(document, out)
    return out.getvalue(), problems


def merge_targets(sources_dir: Path, lang: str, order: list[str], targets: dict[str, str],
                  name: str, places: dict[str, str]) -> list[str]:
    """Write the changed targets into sources/LANG.yaml; return their keys in order.
    `places` says where each target is in the returned file, for messages."""
    path = sources_dir / f"{lang}.yaml"
    text, _, current = load_source(path)
    bom, text = (_BOM, text[1:]) if text.startswith(_BOM) else ("", text)
    changed = [key for key in order if key in targets
               and (key not in current or current[key].value != targets[key])]
    if not changed:
        return []
    lines = text.splitlines(keepends=True)
    problems = []
    for key in changed:
        reason = replace_scalar(lines, current[key].mark, targets[key]) if key in current else None
        if reason:
            problems.append(Problem(places[key], reason))
    text = "".join(lines)
    missing = [key for key in changed if key not in current]
    if missing:
        text, more = _insert(text, missing, targets, order, name, places)
        problems += more
    if problems:
        raise InputError(problems)
    expected = {key: entry.value for key, entry in current.items()}
    expected.update((key, targets[key]) for key in changed)
    verify_text(path, text, expected, name)
    write_atomic(path, (bom + text).encode("utf-8"))
    return changed


def verify_text(path: Path, text: str, expected: dict[str, Any], name: str) -> None:
    """Refuse to write a file the tool would refuse to read, or that would not read back
    as exactly the intended values."""
    size = len(text.encode("utf-8"))
    if size > MAX_YAML_BYTES:
        raise InputError(Problem(name, f"the merged {path.name} would be {size} bytes, over the "
                                 f"{MAX_YAML_BYTES} bytes the tool reads; nothing was written",
                                 "check the file for over-long targets"))
    try:
        root = read_yaml(path, text=text)
    except InputError as error:
        raise InputError(Problem(name, f"the merged {path.name} would not be readable "
                                 f"({error.problems[0].message}); nothing was written")) from None
    if not isinstance(root, YamlMap) or \
            {key: entry.value for key, entry in flatten(root, root.mark).items()} != expected:
        raise InputError(Problem(name, f"the merged {path.name} would not read back as "
                                 "expected; nothing was written (please report this)"))
