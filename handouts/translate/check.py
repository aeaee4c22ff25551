"""The `check` command's work: every problem of the sources, in a translator's terms,
errors and warnings kept apart; and `--accept`, which records that a reviewer accepted
strings (with `--dry-run`, what would be accepted, with the diffs, and nothing written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, Problem
from ..fit import fit_problems
from ..render.pdf import LAYOUTS_DIR
from ..sources.content import build_language
from ..sources.loading import (
    REFERENCE_LANG,
    available_languages,
    compare_language,
    language_path,
    load_sources,
    read_tree,
)
from .review import Accepted, read_accepted, word_diff, write_accepted
from .rules import supported
from .status import STRUCTURAL_KEYS, flatten


@dataclass
class CheckReport:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _sorted(problems: list[Problem]) -> list[Problem]:
    def position(problem: Problem) -> tuple:
        parts = problem.where.split(":")
        numbers = [int(p) for p in parts[1:3] if p.isdigit()]
        return (parts[0], *numbers)
    return sorted(problems, key=position)


def check_sources(sources_dir: Path, langs: list[str] | None = None, fit: bool = True,
                  layouts_dir: Path = LAYOUTS_DIR) -> CheckReport:
    """Every problem of the sources for `langs` (default: all languages)."""
    report = CheckReport()
    known = available_languages(sources_dir)
    wanted = langs or known
    try:
        french = read_tree(sources_dir, REFERENCE_LANG)
        build_language(REFERENCE_LANG, french, str(language_path(sources_dir, REFERENCE_LANG)))
    except InputError as error:
        report.errors += error.problems
        return report
    for lang in wanted:
        if lang == REFERENCE_LANG:
            continue
        if lang not in known:
            report.errors.append(Problem(str(language_path(sources_dir, lang)),
                                         f"no source file for language '{lang}'"))
            continue
        try:
            _, comparison = compare_language(sources_dir, lang, french)
        except InputError as error:
            report.errors += error.problems
            continue
        report.errors += _sorted(comparison.errors + comparison.to_review)
        report.warnings += _sorted(comparison.warnings)
        if not supported(lang):
            report.warnings.append(Problem(str(language_path(sources_dir, lang)), (
                f"no unit words or negations are known for '{lang}': only unit symbols "
                "(mg, µg, mL, %) are checked; add them to handouts/translate/rules.py")))
    try:
        sources = load_sources(sources_dir, [lang for lang in wanted if lang in known],
                               allow_incomplete=True, as_written=True)
    except InputError as error:
        report.errors += [p for p in error.problems if p not in report.errors]
        return report
    if fit:
        report.errors += fit_problems(sources, list(sources.languages), layouts_dir)
    return report


@dataclass(frozen=True)
class Review:
    """One string a reviewer is about to accept: its texts now and as last accepted."""

    key: str
    where: str
    french: str
    translation: str
    accepted: Accepted | None
    warnings: tuple[str, ...]

    def lines(self) -> list[str]:
        """The string as a reviewer reads it: full texts, then what changed."""
        def change(old: str | None, new: str) -> str:
            if self.accepted is None or old is None or not self.accepted.intact:
                return "(never accepted)"
            return "unchanged" if old == new else word_diff(old, new)
        before = self.accepted or Accepted("", None)
        return [f"{self.key}  ({self.where})",
                f"  French:             {self.french}",
                f"  French change:      {change(before.french, self.french)}",
                f"  translation:        {self.translation}",
                f"  translation change: {change(before.translation, self.translation)}",
                *(f"  warning: {warning}" for warning in self.warnings)]


@dataclass
class Acceptance:
    """What `check --accept` would record, and the strings it cannot accept."""

    reviews: list[Review]
    refused: list[Problem]
    text_keys: list[str]
    written: Path | None = None


def plan_acceptance(sources_dir: Path, lang: str, keys: list[str]) -> Acceptance:
    """The strings of `lang` to accept: `keys`, or every string to review."""
    if lang == REFERENCE_LANG or lang not in available_languages(sources_dir):
        raise InputError(Problem(str(language_path(sources_dir, lang)),
                                 f"'{lang}' is not a translation with a source file"))
    french_tree = read_tree(sources_dir, REFERENCE_LANG)
    translated_tree, comparison = compare_language(sources_dir, lang, french_tree)
    french = {key: entry.value for key, entry in flatten(french_tree, french_tree.mark).items()
              if isinstance(entry.value, str) and key.rpartition(".")[2] not in STRUCTURAL_KEYS}
    unknown = [key for key in keys if key not in french]
    if unknown:
        raise InputError([Problem(str(language_path(sources_dir, REFERENCE_LANG)),
                                  f"{key}: no such text key") for key in unknown])
    translated = flatten(translated_tree, translated_tree.mark)
    accepted = read_accepted(sources_dir, lang)
    warnings: dict[str, list[str]] = {}
    for problem in comparison.warnings:
        key, _, message = problem.message.partition(": ")
        warnings.setdefault(key, []).append(message)
    wanted = keys or [key for key in french if key in comparison.review_keys
                      or key in comparison.bad_keys]
    reviews, refused = [], []
    for key in wanted:
        entry = translated.get(key)
        if key in comparison.bad_keys or entry is None:
            refused.append(Problem(str(entry.mark) if entry else str(language_path(
                sources_dir, lang)), f"{key}: not accepted: it is missing, untranslated or "
                "has errors", f"see make_handouts.py check --lang {lang}"))
        elif key in comparison.review_keys:
            reviews.append(Review(key, str(entry.mark), french[key], entry.value,
                                  accepted.get(key), tuple(warnings.get(key, ()))))
    return Acceptance(reviews, refused, list(french))


def accept(sources_dir: Path, lang: str, keys: list[str]) -> Acceptance:
    """Record that a reviewer accepted `lang`'s strings (`keys`, or all to review) as
    they are now, French and translation; strings with errors are never accepted."""
    acceptance = plan_acceptance(sources_dir, lang, keys)
    recorded = {key: (entry.french, entry.translation)
                for key, entry in read_accepted(sources_dir, lang).items()
                if key in acceptance.text_keys and entry.intact and entry.translation is not None}
    recorded.update((review.key, (review.french, review.translation))
                    for review in acceptance.reviews)
    acceptance.written = write_accepted(sources_dir, lang, recorded)
    return acceptance
