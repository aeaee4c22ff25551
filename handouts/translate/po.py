"""gettext PO, for Weblate, Poedit and gettext users, through polib.

`export_po` writes one entry per French text: `msgctxt` is the key path (also given as
the `#:` reference, which translate-toolkit's po2xliff keeps), `msgid` the French,
`msgstr` the translation (empty when untranslated), `#.` the comment written for
translators, the flag `fuzzy` on strings to review and, for a string whose French
changed, the French it was accepted against as `#| msgid`. `import_po` reads a returned
file (ours, or one a tool such as translate-toolkit's xliff2po wrote) for
`exchange.import_units`.
"""

from __future__ import annotations

from pathlib import Path

import polib

from ..errors import InputError, Problem, where
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


def export_po(sources_dir: Path, lang: str) -> bytes:
    """A PO file with every French text and its `lang` translation."""
    catalogue = polib.POFile(wrapwidth=78)
    catalogue.header = (f"Baclofen documents, French to '{lang}' (make_handouts.py translations "
                        "export).\nmsgctxt is the key path; fuzzy strings are to review.")
    catalogue.metadata = {
        "Project-Id-Version": "make_handouts baclofen documents",
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "X-Source-Language": "fr",
    }
    for unit in export_units(sources_dir, lang):
        catalogue.append(polib.POEntry(
            msgctxt=unit.key, msgid=unit.french, msgstr=unit.translation or "",
            comment=unit.comment, occurrences=[(unit.key, "")],
            flags=[] if unit.state in (REVIEWED, UNTRANSLATED) else ["fuzzy"],
            previous_msgid=unit.previous_french))
    return str(catalogue).encode("utf-8")


def import_po(sources_dir: Path, path: Path, display: str | None = None,
              lang: str | None = None) -> ImportResult:
    """Merge a returned PO file into `sources/LANG.yaml` (see `exchange.import_units`);
    `lang` overrides a missing "Language:" header and must agree with a present one."""
    name = display or str(path)
    raw = read_returned(path, name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(Problem(name, "the file is not UTF-8", "save it as UTF-8")) from None
    if "msgid" not in text or "\n" not in text:
        # polib would take a one-line text for a file name to open.
        raise InputError(Problem(name, "not a PO file (no msgid lines)"))
    try:
        catalogue = polib.pofile(text, wrapwidth=78)
    except (OSError, ValueError) as error:
        raise InputError(Problem(name, f"not a valid PO file ({error})")) from None
    units, problems = [], []
    for entry in catalogue:
        if entry.obsolete:
            continue
        key = entry.msgctxt or next((file for file, _ in entry.occurrences), "")
        here = where(name, entry.linenum) + f": {key or '?'}"
        if entry.msgid_plural:
            problems.append(Problem(here, "plural forms are not used by these documents"))
            continue
        keys = (entry.msgctxt or "", *(file for file, _ in entry.occurrences))
        units.append(ReturnedUnit(keys, entry.msgid, entry.msgstr, here))
    file_lang = catalogue.metadata.get("Language", "").strip()
    return import_units(sources_dir, chosen_language(lang, file_lang, name), units, name,
                        problems)
