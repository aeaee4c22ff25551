"""Review state per string: which French text and which translation a reviewer accepted.

`sources/accepted/<lang>.json` keeps, for each key path, the French text and the
translation text a reviewer accepted, and a fingerprint of the two. A string whose
French or translation differs from what was accepted (an import, a hand edit, a merge)
is "to review" until someone accepts it again (`check --accept LANG [KEY...]`); the
texts are kept, not only the fingerprint, so the reviewer sees what changed as a word
diff. An entry whose texts no longer match its fingerprint (edited by hand, a merge
conflict resolved badly) counts as never accepted.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, Problem, where
from ..output import write_atomic

ACCEPTED_FORMAT = 2
MAX_ACCEPTED_BYTES = 20_000_000
_NOTE = "Written by 'make_handouts.py check --accept'; never edit it by hand."


@dataclass(frozen=True)
class Accepted:
    """What a reviewer accepted for one key. `translation` is None for entries of the
    first format, which recorded only the French; `intact` is False when the texts do
    not match the recorded fingerprint."""

    french: str
    translation: str | None
    intact: bool = True


def fingerprint(french: str, translation: str) -> str:
    """The sha256 of the French and translation texts, taken together."""
    both = json.dumps([french, translation], ensure_ascii=False).encode("utf-8")
    return "sha256:" + hashlib.sha256(both).hexdigest()


def accepted_path(sources_dir: Path, lang: str) -> Path:
    return sources_dir / "accepted" / f"{lang}.json"


def _entry(value: object) -> Accepted | None:
    """One entry of the file, or None when it has not the expected shape."""
    if isinstance(value, str):
        return Accepted(value, None)
    if not isinstance(value, dict) or set(value) != {"french", "translation", "fingerprint"} \
            or not all(isinstance(text, str) for text in value.values()):
        return None
    french, translation = value["french"], value["translation"]
    return Accepted(french, translation, value["fingerprint"] == fingerprint(french, translation))


def read_accepted(sources_dir: Path, lang: str, display: str | None = None
                  ) -> dict[str, Accepted]:
    """What was accepted for each key of `lang` (empty when nothing was yet)."""
    path = accepted_path(sources_dir, lang)
    name = display or str(path)
    if not path.exists():
        return {}
    hint = "restore it from version control, or delete it and review every string again"
    try:
        if path.stat().st_size > MAX_ACCEPTED_BYTES:
            raise InputError(Problem(name, f"file is larger than {MAX_ACCEPTED_BYTES} bytes"))
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as error:
        raise InputError(Problem(name, f"cannot read the file ({error.strerror or error})")
                         ) from None
    except UnicodeDecodeError:
        raise InputError(Problem(name, "not UTF-8 text", hint)) from None
    except json.JSONDecodeError as error:
        raise InputError(Problem(where(name, error.lineno, error.colno),
                                 f"not valid JSON ({error.msg})", hint)) from None
    strings = data.get("strings") if isinstance(data, dict) and "format" in data else data
    if not isinstance(strings, dict) or (data is not strings
                                         and data.get("format") != ACCEPTED_FORMAT):
        raise InputError(Problem(name, "not an accepted-strings file of this version", hint))
    entries = {key: _entry(value) for key, value in strings.items()}
    bad = [key for key, entry in entries.items() if entry is None]
    if bad:
        raise InputError([Problem(name, f"{key}: not a valid accepted entry", hint)
                          for key in bad])
    return entries


def write_accepted(sources_dir: Path, lang: str, accepted: dict[str, tuple[str, str]]
                   ) -> Path | None:
    """Record, for each key, the (French, translation) pair a reviewer accepted; return
    the file, or None when it already said exactly that (nothing written)."""
    strings = {key: {"french": french, "translation": translation,
                     "fingerprint": fingerprint(french, translation)}
               for key, (french, translation) in sorted(accepted.items())}
    data = {"format": ACCEPTED_FORMAT, "note": _NOTE, "strings": strings}
    path = accepted_path(sources_dir, lang)
    content = (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    if path.exists() and path.read_bytes() == content:
        return None
    write_atomic(path, content)
    return path


def word_diff(old: str, new: str) -> str:
    """The change between two texts, words removed in [-...-] and added in {+...+}."""
    old_words, new_words = old.split(), new.split()
    parts = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old_words, b=new_words,
                                                      autojunk=False).get_opcodes():
        if op == "equal":
            words = old_words[a1:a2]
            parts.append(" ".join(words if len(words) <= 6 else [*words[:3], "...", *words[-3:]]))
            continue
        if a2 > a1:
            parts.append("[-" + " ".join(old_words[a1:a2]) + "-]")
        if b2 > b1:
            parts.append("{+" + " ".join(new_words[b1:b2]) + "+}")
    return " ".join(parts)


def to_review(french: str, translation: str, accepted: Accepted | None) -> str | None:
    """Why a string is to review, with what changed since it was accepted; None when a
    reviewer accepted exactly this French and this translation."""
    if accepted is None:
        return "to review: never accepted"
    if accepted.translation is None:
        return ("to review: accepted in the old format, which did not record the "
                "translation")
    if not accepted.intact:
        return ("to review: its entry in the accepted file does not match its fingerprint "
                "(edited by hand?)")
    if (accepted.french, accepted.translation) == (french, translation):
        return None
    translation_change = (f"translation changed: {word_diff(accepted.translation, translation)}"
                          if accepted.translation != translation else "translation unchanged")
    french_change = (f"French changed: {word_diff(accepted.french, french)}"
                     if accepted.french != french else "French unchanged")
    return f"to review: {translation_change}; {french_change}"
