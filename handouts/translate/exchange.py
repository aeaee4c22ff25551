"""What the exchange formats (XLIFF 1.2, gettext PO) share: the units to export with
their review state, and the checked import of returned units.

An import never changes the review state: a returned string that differs from the
project's is written to `sources/LANG.yaml` and is then "to review" until the project's
reviewer accepts it (`check --accept`), whatever the CAT tool marked it (approved,
final, not fuzzy). Every unit is checked first; if any is unsafe the whole file is
refused and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, Problem
from ..sources.loading import REFERENCE_LANG, available_languages, language_path
from .merge import load_source, merge_targets, text_leaves
from .review import read_accepted
from .rules import compare_text
from .status import compare_trees

MAX_EXCHANGE_BYTES = 20_000_000
# Review states of an exported unit.
REVIEWED, TO_REVIEW, UNTRANSLATED = "reviewed", "to review", "untranslated"


@dataclass(frozen=True)
class ExportUnit:
    """One French text and its translation as a CAT tool should see them."""

    key: str
    french: str
    translation: str | None
    state: str
    comment: str
    previous_french: str | None


@dataclass(frozen=True)
class ReturnedUnit:
    """One unit of a returned file: the keys it may name (id, context, references, in
    that order of trust), its source and target, and where it is for messages."""

    keys: tuple[str, ...]
    source: str | None
    target: str | None
    where: str


@dataclass
class ImportResult:
    """The language file written (if any string changed), the changed keys in French
    order, and the units that came back without a translation."""

    path: Path
    changed: list[str]
    empty: list[Problem]


def language_problem(sources_dir: Path, lang: str, name: str) -> Problem | None:
    """Why `lang` cannot be exported or imported, if it cannot."""
    if not lang:
        return Problem(name, "no target language given",
                       "add --lang, or e.g. <file target-language=\"en\"> / \"Language: en\"")
    if lang == REFERENCE_LANG:
        return Problem(name, f"'{lang}' is the reference language, not a translation")
    known = [code for code in available_languages(sources_dir) if code != REFERENCE_LANG]
    if lang not in known:
        return Problem(name, f"no sources/{lang}.yaml for language '{lang}'",
                       "available: " + (", ".join(known) or "none")
                       + f"; start one with: make_handouts.py translations new --lang {lang}")
    return None


def _comment_above(lines: list[str], line: int) -> str:
    """The `#` comment lines directly above 1-based `line`, joined with spaces."""
    comments: list[str] = []
    index = line - 2
    while index >= 0 and lines[index].lstrip().startswith("#"):
        comments.insert(0, lines[index].lstrip()[1:].strip())
        index -= 1
    return " ".join(comment for comment in comments if comment)


def export_units(sources_dir: Path, lang: str) -> list[ExportUnit]:
    """Every French text of the sources with `lang`'s translation and review state."""
    problem = language_problem(sources_dir, lang, str(language_path(sources_dir, lang)))
    if problem:
        raise InputError(problem)
    fr_text, french_root, french = load_source(language_path(sources_dir, REFERENCE_LANG))
    _, translated_root, translated = load_source(language_path(sources_dir, lang))
    accepted = read_accepted(sources_dir, lang)
    report = compare_trees(french_root, translated_root, lang, accepted)
    fr_lines = fr_text.removeprefix("\ufeff").splitlines()
    units = []
    for key, entry in text_leaves(french).items():
        current = translated.get(key)
        translation = (current.value if current is not None and isinstance(current.value, str)
                       and current.value.strip() else None)
        state = (UNTRANSLATED if translation is None
                 else TO_REVIEW if key in report.review_keys | report.bad_keys else REVIEWED)
        before = accepted.get(key)
        previous = (before.french if translation is not None and before is not None
                    and before.intact and before.french != entry.value else None)
        units.append(ExportUnit(key, entry.value, translation, state,
                                _comment_above(fr_lines, entry.mark.line), previous))
    return units


def _key(unit: ReturnedUnit, french: dict) -> str | None:
    """The key a returned unit names: its first candidate that is a key, unless an
    earlier one names a key we do not have (a number, as po2xliff's ids, names none)."""
    for candidate in unit.keys:
        if candidate in french:
            return candidate
        if candidate and not candidate.isdigit():
            return None
    return None


def chosen_language(given: str | None, in_file: str, name: str) -> str:
    """The language of a returned file: the one it names, or `given` (--lang)."""
    if given and in_file and given != in_file:
        raise InputError(Problem(name, f"the file is for language '{in_file}', not '{given}'"))
    return given or in_file


def import_units(sources_dir: Path, lang: str, units: list[ReturnedUnit], name: str,
                 problems: list[Problem]) -> ImportResult:
    """Check every returned unit against the French, then write the changed targets
    into `sources/LANG.yaml`. InputError lists every unsafe unit (and the `problems`
    the format reader found); then nothing is written."""
    problem = language_problem(sources_dir, lang, name)
    if problem:
        raise InputError(problem)
    leaves = load_source(language_path(sources_dir, REFERENCE_LANG))[2]
    french = text_leaves(leaves)
    problems = list(problems)
    empty: list[Problem] = []
    targets: dict[str, str] = {}
    places: dict[str, str] = {}
    for unit in units:
        key = _key(unit, french)
        if key is None:
            problems.append(Problem(unit.where, "unknown unit: not a text key of sources/fr.yaml"))
        elif key in places:
            problems.append(Problem(unit.where, "appears twice in the file"))
        elif unit.source is None:
            problems.append(Problem(unit.where, "the unit has no source text"))
        elif unit.source != french[key].value:
            problems.append(Problem(unit.where, "the French changed since export; re-export",
                                    f"French is now \"{french[key].value}\""))
        elif unit.target is None or not unit.target.strip():
            empty.append(Problem(unit.where, "no translation (empty target): not imported, "
                                 "the current text is kept"))
        else:
            errors = compare_text(french[key].value, unit.target, lang)[0]
            problems += [Problem(unit.where, message) for message in errors]
            if not errors:
                targets[key] = unit.target
        if key is not None:
            places.setdefault(key, unit.where)
    if problems:
        raise InputError(problems)
    changed = merge_targets(sources_dir, lang, list(leaves), targets, name, places)
    return ImportResult(language_path(sources_dir, lang), changed, empty)


def read_returned(path: Path, name: str) -> bytes:
    """The bytes of a returned file, refused when it cannot be read or is too large."""
    try:
        if path.stat().st_size > MAX_EXCHANGE_BYTES:
            raise InputError(Problem(name, f"file is larger than {MAX_EXCHANGE_BYTES} bytes"))
        return path.read_bytes()
    except OSError as error:
        raise InputError(Problem(name, f"cannot read the file ({error.strerror or error})")
                         ) from None
