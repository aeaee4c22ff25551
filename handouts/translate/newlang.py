"""A new language in one command: `sources/LANG.yaml` with every key of the French,
every text empty (untranslated), the French comments kept for the translator, and an
empty accepted file; export works at once, and the language builds once its strings
are translated and accepted."""

from __future__ import annotations

import re
from pathlib import Path

from babel import Locale, UnknownLocaleError

from ..errors import InputError, Problem
from ..localise import locale_for
from ..output import write_atomic
from ..sources.loading import REFERENCE_LANG, UNTRANSLATED, display_path, language_path
from .merge import load_source, replace_scalar, text_leaves, verify_text
from .review import accepted_path, write_accepted

_CODE = re.compile(r"[a-z]{2,3}")


def _header(lang: str) -> str:
    name = Locale.parse(locale_for(lang)).get_display_name("en")
    return (f"# Baclofen: text of the documents in {name} ('{lang}'), translated from "
            "sources/fr.yaml.\n# Every text starts empty (untranslated): the build prints the "
            "French for it until it is\n# translated and accepted (see README, \"Adding a "
            "language\").\n")


def new_language(sources_dir: Path, lang: str) -> list[Path]:
    """Create `sources/LANG.yaml` and its accepted file; return the paths written."""
    path = language_path(sources_dir, lang)
    shown = display_path(path)
    if not _CODE.fullmatch(lang) or lang in UNTRANSLATED:
        raise InputError(Problem(shown, f"'{lang}' is not a language code",
                                 "two or three lower-case letters, e.g. pt, de, ar"))
    try:
        Locale.parse(locale_for(lang))
    except (UnknownLocaleError, ValueError):
        raise InputError(Problem(shown, f"'{lang}' is not a language Babel knows",
                                 "use an ISO 639 code, e.g. pt, de, ar")) from None
    if lang == REFERENCE_LANG or path.exists() or accepted_path(sources_dir, lang).exists():
        raise InputError(Problem(shown, f"language '{lang}' already exists"))
    text, _, leaves = load_source(language_path(sources_dir, REFERENCE_LANG))
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    texts = text_leaves(leaves)
    problems = [Problem(str(leaves[key].mark), f"{key}: {reason}")
                for key in texts
                if (reason := replace_scalar(lines, leaves[key].mark, ""))]
    if problems:
        raise InputError(problems)
    # The French file's first line says it is the French reference: ours replaces it.
    body = "".join(lines[1:] if lines and lines[0].startswith("#") else lines)
    expected = {key: "" if key in texts else entry.value for key, entry in leaves.items()}
    verify_text(path, _header(lang) + body, expected, shown)
    write_atomic(path, (_header(lang) + body).encode("utf-8"))
    return [path, write_accepted(sources_dir, lang, {}) or accepted_path(sources_dir, lang)]
