"""Round trip with a translation agency: export a language as XLIFF 1.2, import it back.

Agencies work in CAT tools (Trados, memoQ, Phrase...), which read and write XLIFF 1.2,
not our YAML. `export_xliff` writes one unit per French text with the current
translation, its review state and the comment written for translators. `import_xliff`
checks every returned target against the French (placeholders, bold, numbers, units,
URLs, phone numbers) and, only when the whole file is safe, rewrites just the changed
strings of `sources/LANG.yaml`, leaving every other byte as it was. Accepting the new
texts stays a separate review step (`check --accept`).
"""

from __future__ import annotations

import copy
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ..errors import InputError, Problem, where
from ..output import write_atomic
from ..sources.loading import REFERENCE_LANG, available_languages
from ..sources.yamlsource import Mark, YamlMap, read_yaml
from .status import STRUCTURAL_KEYS, Entry, compare_text, flatten, read_accepted

NS = "urn:oasis:names:tc:xliff:document:1.2"
MAX_XLIFF_BYTES = 20_000_000
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_DECLARED_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)""")
_DOUBLE_QUOTED = re.compile(r'"(?:[^"\\\r\n]|\\.)*"(?=[ \t]*(?:#.*)?[\r\n]*$)')
# Characters PyYAML refuses or reads as line breaks when written raw: always escaped.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_BOM = "\ufeff"


def _tag(name: str) -> str:
    """An XLIFF element name as ElementTree spells it, namespace included."""
    return f"{{{NS}}}{name}"


def _load(path: Path) -> tuple[str, YamlMap, dict[str, Entry]]:
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


def _language_problem(sources_dir: Path, lang: str, name: str) -> Problem | None:
    """Why `lang` cannot be exported or imported, if it cannot."""
    if not lang:
        return Problem(name, "no target-language given", "e.g. <file target-language=\"en\">")
    if lang == REFERENCE_LANG:
        return Problem(name, f"'{lang}' is the reference language, not a translation")
    known = [code for code in available_languages(sources_dir) if code != REFERENCE_LANG]
    if lang not in known:
        return Problem(name, f"no sources/{lang}.yaml for language '{lang}'",
                       "available: " + (", ".join(known) or "none"))
    return None


def _comment_above(lines: list[str], line: int) -> str:
    """The `#` comment lines directly above 1-based `line`, joined with spaces."""
    comments: list[str] = []
    index = line - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        comments.insert(0, lines[index].lstrip()[1:].strip())
        index -= 1
    return " ".join(comment for comment in comments if comment)


def export_xliff(sources_dir: Path, lang: str) -> bytes:
    """An XLIFF 1.2 document with every French text and its current `lang` translation."""
    problem = _language_problem(sources_dir, lang, str(sources_dir / f"{lang}.yaml"))
    if problem:
        raise InputError(problem)
    fr_text, _, french = _load(sources_dir / f"{REFERENCE_LANG}.yaml")
    translated = _load(sources_dir / f"{lang}.yaml")[2]
    accepted = read_accepted(sources_dir, lang)
    fr_lines = fr_text.removeprefix(_BOM).splitlines()
    root = ET.Element("xliff", {"xmlns": NS, "version": "1.2"})
    body = ET.SubElement(ET.SubElement(root, "file", {
        "original": "sources/fr.yaml", "source-language": REFERENCE_LANG,
        "target-language": lang, "datatype": "plaintext"}), "body")
    for key, entry in _texts(french).items():
        unit = ET.SubElement(body, "trans-unit", {"id": key, "resname": key})
        ET.SubElement(unit, "source").text = entry.value
        current = translated.get(key)
        previous = accepted.get(key)
        if current is None or not isinstance(current.value, str):
            ET.SubElement(unit, "target", {"state": "new"})
        else:
            state = "translated" if previous == entry.value else "needs-review-translation"
            ET.SubElement(unit, "target", {"state": state}).text = current.value
        comment = _comment_above(fr_lines, entry.mark.line)
        if comment:
            ET.SubElement(unit, "note", {"from": "developer"}).text = comment
        if current is not None and previous is not None and previous != entry.value:
            ET.SubElement(unit, "note", {"from": "previous-source"}).text = previous
    ET.indent(root)
    return _DECLARATION + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"


def _read_xliff(path: Path, name: str) -> ET.Element:
    """The single `<file>` element of a safe, well-formed UTF-8 XLIFF 1.2 document."""
    try:
        if path.stat().st_size > MAX_XLIFF_BYTES:
            raise InputError(Problem(name, f"file is larger than {MAX_XLIFF_BYTES} bytes"))
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(Problem(name, f"cannot read the file ({error.strerror or error})")
                         ) from None
    if re.search(rb"<!(DOCTYPE|ENTITY)", raw, re.IGNORECASE):
        raise InputError(Problem(name, "DOCTYPE and ENTITY declarations are not allowed",
                                 "export the file again from the CAT tool as plain XLIFF 1.2"))
    declared = _DECLARED_ENCODING.match(raw.removeprefix(b"\xef\xbb\xbf"))
    if b"\x00" in raw or (declared and declared.group(1).lower() not in (b"utf-8", b"utf8")):
        raise InputError(Problem(name, "the file is not UTF-8", "save it as UTF-8"))
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as error:
        line, col = error.position
        raise InputError(Problem(where(name, line, col + 1), f"not valid XML ({error})")) from None
    files = root.findall(_tag("file"))
    if root.tag != _tag("xliff") or len(files) != 1:
        raise InputError(Problem(name, "not an XLIFF 1.2 document with one <file>",
                                 f"expected <xliff xmlns=\"{NS}\"> holding one <file>"))
    return files[0]


def _text(element: ET.Element | None) -> str | None:
    """An element's text, inline markup (e.g. a CAT tool's <mrk>) flattened; None if absent."""
    return None if element is None else "".join(element.itertext())


def import_xliff(sources_dir: Path, xliff_path: Path, display: str | None = None
                 ) -> tuple[Path, list[str]]:
    """Merge a returned XLIFF file into `sources/LANG.yaml`; return that file and the
    changed keys.

    Every unit is checked first; if any is unsafe, InputError lists them all and nothing
    is written. The accepted fingerprints are not touched: review is `check --accept`.
    """
    name = display or str(xliff_path)
    file = _read_xliff(xliff_path, name)
    lang = file.get("target-language", "")
    problem = _language_problem(sources_dir, lang, name)
    problems = [problem] if problem else []
    leaves = _load(sources_dir / f"{REFERENCE_LANG}.yaml")[2]
    french = _texts(leaves)
    targets: dict[str, str] = {}
    seen: set[str] = set()
    for unit in file.iter(_tag("trans-unit")):
        key = unit.get("id", "")
        here = f"{name}: unit {key}"
        source, target = _text(unit.find(_tag("source"))), _text(unit.find(_tag("target")))
        if key in seen:
            problems.append(Problem(here, "appears twice in the file"))
        elif key not in french:
            problems.append(Problem(here, "unknown unit: not a text key of sources/fr.yaml"))
        elif source is None:
            problems.append(Problem(here, "the unit has no <source>"))
        elif source != french[key].value:
            problems.append(Problem(here, "the French changed since export; re-export",
                                    f"French is now \"{french[key].value}\""))
        elif target is not None and target.strip():
            errors = compare_text(french[key].value, target)[0]
            problems += [Problem(here, message) for message in errors]
            if not errors:
                targets[key] = target
        seen.add(key)
    if problems:
        raise InputError(problems)
    return (sources_dir / f"{lang}.yaml",
            _merge(sources_dir, lang, list(leaves), targets, name))


def _yaml_quoted(value: str) -> str:
    """`value` as a single-line YAML double-quoted scalar (JSON strings are valid YAML)."""
    encoded = json.dumps(value, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", encoded)


def _replace(lines: list[str], mark: Mark, value: str) -> str | None:
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
            name: str) -> tuple[str, list[Problem]]:
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
                f"{name}: unit {key}", f"cannot add it: {missing} is missing from the "
                "translation too", "copy that part from sources/fr.yaml, then import again"))
    out = io.StringIO()
    rt.dump(document, out)
    return out.getvalue(), problems


def _merge(sources_dir: Path, lang: str, order: list[str], targets: dict[str, str],
           name: str) -> list[str]:
    """Write the changed targets into sources/LANG.yaml; return their keys in order."""
    path = sources_dir / f"{lang}.yaml"
    text, _, current = _load(path)
    bom, text = (_BOM, text[1:]) if text.startswith(_BOM) else ("", text)
    changed = [key for key in order if key in targets
               and (key not in current or current[key].value != targets[key])]
    if not changed:
        return []
    lines = text.splitlines(keepends=True)
    problems = []
    for key in changed:
        reason = _replace(lines, current[key].mark, targets[key]) if key in current else None
        if reason:
            problems.append(Problem(f"{name}: unit {key}", reason))
    text = "".join(lines)
    missing = [key for key in changed if key not in current]
    if missing:
        text, more = _insert(text, missing, targets, order, name)
        problems += more
    if problems:
        raise InputError(problems)
    expected = {key: entry.value for key, entry in current.items()}
    expected.update((key, targets[key]) for key in changed)
    _verify(path, text, expected, name)
    write_atomic(path, (bom + text).encode("utf-8"))
    return changed


def _verify(path: Path, text: str, expected: dict[str, Any], name: str) -> None:
    """Refuse to write a file that would not read back as exactly the intended values."""
    try:
        root = read_yaml(path, text=text)
    except InputError:
        root = None
    if not isinstance(root, YamlMap) or \
            {key: entry.value for key, entry in flatten(root, root.mark).items()} != expected:
        raise InputError(Problem(name, f"the merged {path.name} would not read back as "
                                 "expected; nothing was written (please report this)"))
