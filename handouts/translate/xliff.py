"""XLIFF 1.2, what CAT tools (Trados, memoQ, OmegaT, Phrase...) exchange most reliably.

`export_xliff` writes one unit per French text: its key as id and resname, the French
source, the current translation, its review state (reviewed units `approved="yes"`),
the comment written for translators, and for a string whose French changed the French
it was accepted against. Placeholders (`{hospital}`) and bold (`**...**`) are inline
codes (`<ph>`, `<bpt>`/`<ept>`) holding our markup, so CAT tools protect them and any
tool that flattens them keeps the text intact. `read_xliff` reads a returned file,
including those translate-toolkit's po2xliff writes (XLIFF 1.1, key in a location
context), for `exchange.import_units`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from ..errors import InputError, Problem, where
from ..sources.loading import REFERENCE_LANG
from .exchange import (
    REVIEWED,
    UNTRANSLATED,
    ImportResult,
    ReturnedUnit,
    chosen_language,
    export_units,
    import_units,
    read_returned,
)

NS = "urn:oasis:names:tc:xliff:document:1.2"
# translate-toolkit's po2xliff still writes the 1.1 namespace; the elements we read are
# the same.
_NAMESPACES = (NS, "urn:oasis:names:tc:xliff:document:1.1")
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_DECLARED_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)""")
_CODES = re.compile(r"(\{[a-z_]+\}|\*\*)")
MAX_INLINE_DEPTH = 10
_TARGET_STATES = {REVIEWED: "signed-off", UNTRANSLATED: "needs-translation"}


def _append_text(element: ET.Element, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _fill(element: ET.Element, text: str) -> None:
    """Write `text` into `element` with its placeholders as <ph> and bold as <bpt>/<ept>."""
    parts = _CODES.split(text)
    balanced = text.count("**") % 2 == 0
    element.text = parts[0]
    seen: Counter = Counter()
    bold, open_id = 0, ""
    for code, after in zip(parts[1::2], parts[2::2], strict=True):
        if code.startswith("{"):
            seen[code] += 1
            code_id = code[1:-1] + (f"-{seen[code]}" if seen[code] > 1 else "")
            child = ET.SubElement(element, "ph", {"id": code_id, "ctype": "x-placeholder"})
        elif balanced and not open_id:
            bold += 1
            open_id = f"b{bold}"
            child = ET.SubElement(element, "bpt", {"id": open_id, "ctype": "bold"})
        elif balanced:
            child, open_id = ET.SubElement(element, "ept", {"id": open_id}), ""
        else:
            _append_text(element, code + after)
            continue
        child.text, child.tail = code, after


def export_xliff(sources_dir: Path, lang: str) -> bytes:
    """An XLIFF 1.2 document with every French text and its `lang` translation."""
    units = export_units(sources_dir, lang)
    root = ET.Element("xliff", {"xmlns": NS, "version": "1.2"})
    body = ET.SubElement(ET.SubElement(root, "file", {
        "original": "sources/fr.yaml", "source-language": REFERENCE_LANG,
        "target-language": lang, "datatype": "plaintext"}), "body")
    texts: list[tuple[ET.Element, str]] = []
    for unit in units:
        element = ET.SubElement(body, "trans-unit", {
            "id": unit.key, "resname": unit.key,
            "approved": "yes" if unit.state == REVIEWED else "no"})
        texts.append((ET.SubElement(element, "source"), unit.french))
        if unit.translation is not None:
            texts.append((ET.SubElement(element, "target", {
                "state": _TARGET_STATES.get(unit.state, "needs-review-translation")}),
                unit.translation))
        # The key again as a location, which translate-toolkit's xliff2po keeps as "#:".
        group = ET.SubElement(element, "context-group", {"name": "key", "purpose": "location"})
        ET.SubElement(group, "context", {"context-type": "sourcefile"}).text = unit.key
        if unit.comment:
            ET.SubElement(element, "note", {"from": "developer"}).text = unit.comment
        if unit.previous_french is not None:
            ET.SubElement(element, "note", {"from": "previous-source"}).text = unit.previous_french
    ET.indent(root)
    # Filled after indenting: ET.indent would add spaces after an inline code.
    for element, text in texts:
        _fill(element, text)
    return _DECLARATION + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _parse(raw: bytes, name: str) -> ET.Element:
    """The single `<file>` element of a safe, well-formed UTF-8 XLIFF document."""
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
    namespace = root.tag[1:].partition("}")[0]
    files = [child for child in root if _local(child.tag) == "file"]
    if _local(root.tag) != "xliff" or namespace not in _NAMESPACES or len(files) != 1:
        raise InputError(Problem(name, "not an XLIFF 1.2 document with one <file>",
                                 f"expected <xliff xmlns=\"{NS}\"> holding one <file>"))
    return files[0]


def _inline_text(element: ET.Element, unknown: list[str], depth: int = 0) -> str:
    """An element's text with its inline codes turned back into our markup: <ph>, <bpt>,
    <ept>, <it> hold it as is, <g ctype="bold"> is bold, <mrk> is plain text; codes with
    no content (<x/>, <bx/>, <ex/>), and codes nested deeper than any tool writes them,
    cannot be mapped back and are listed in `unknown`."""
    parts = [element.text or ""]
    for child in element:
        name = _local(child.tag)
        if depth >= MAX_INLINE_DEPTH:
            unknown.append(f"<{name}> nested more than {MAX_INLINE_DEPTH} deep")
            return ""
        inner = _inline_text(child, unknown, depth + 1)
        if name == "g" and child.get("ctype") == "bold":
            parts.append(f"**{inner}**")
        elif name in ("x", "bx", "ex"):
            unknown.append(f"<{name} id=\"{child.get('id', '')}\"/>")
        else:
            parts.append(inner)
        parts.append(child.tail or "")
    return "".join(parts)


def import_xliff(sources_dir: Path, path: Path, display: str | None = None,
                 lang: str | None = None) -> ImportResult:
    """Merge a returned XLIFF file into `sources/LANG.yaml` (see `exchange.import_units`);
    `lang` overrides a missing target-language and must agree with a present one."""
    name = display or str(path)
    file_lang, units, problems = _read_xliff(path, name)
    return import_units(sources_dir, chosen_language(lang, file_lang, name), units, name,
                        problems)


def _read_xliff(path: Path, name: str) -> tuple[str, list[ReturnedUnit], list[Problem]]:
    """A returned XLIFF file's target language, its units, and the inline codes that
    could not be read back (as problems)."""
    file = _parse(read_returned(path, name), name)
    units, problems = [], []
    for element in file.iter():
        if _local(element.tag) != "trans-unit" \
                or element.get("restype") == "x-gettext-domain-header":
            continue
        children = {_local(child.tag): child for child in element}
        keys = [element.get("id", ""), element.get("resname", "")]
        keys += [context.text or "" for group in element if _local(group.tag) == "context-group"
                 for context in group if context.get("context-type") == "sourcefile"]
        here = f"{name}: unit {next((key for key in keys if key), '?')}"
        texts = {}
        for part in ("source", "target"):
            unknown: list[str] = []
            texts[part] = (_inline_text(children[part], unknown) if part in children else None)
            problems += [Problem(here, f"inline code {code} in the {part} cannot be mapped back "
                                 "to the French markup", "keep the tags of the source")
                         for code in unknown]
        units.append(ReturnedUnit(tuple(keys), texts["source"], texts["target"], here))
    return file.get("target-language", ""), units, problems
