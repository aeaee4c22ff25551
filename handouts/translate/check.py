"""The `check` command's work: every problem of the sources, in a translator's terms,
errors and warnings kept apart; and `--accept`, which records reviewed translations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..build import Renderer
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
from .status import STRUCTURAL_KEYS, flatten, read_accepted, write_accepted


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
        report.errors += _sorted(comparison.errors + comparison.stale)
        report.warnings += _sorted(comparison.warnings)
    try:
        sources = load_sources(sources_dir, [lang for lang in wanted if lang in known],
                               allow_incomplete=True)
    except InputError as error:
        report.errors += [p for p in error.problems if p not in report.errors]
        return report
    if fit:
        report.errors += fit_problems(sources, list(sources.languages),
                                      Renderer(sources, layouts_dir=layouts_dir))
    return report


def accept(sources_dir: Path, lang: str, keys: list[str]) -> Path:
    """Record that `lang`'s strings (all, or `keys`) were reviewed against today's French."""
    if lang == REFERENCE_LANG or lang not in available_languages(sources_dir):
        raise InputError(Problem(str(language_path(sources_dir, lang)),
                                 f"'{lang}' is not a translation with a source file"))
    french_tree, translated_tree = read_tree(sources_dir, REFERENCE_LANG), read_tree(sources_dir,
                                                                                     lang)
    french = {key: entry.value for key, entry in flatten(french_tree, french_tree.mark).items()
              if isinstance(entry.value, str) and key.rpartition(".")[2] not in STRUCTURAL_KEYS}
    translated = flatten(translated_tree, translated_tree.mark)
    unknown = [key for key in keys if key not in french]
    if unknown:
        raise InputError([Problem(str(language_path(sources_dir, REFERENCE_LANG)),
                                  f"{key}: no such text key") for key in unknown])
    accepted = read_accepted(sources_dir, lang)
    for key in keys or [k for k in french if k in translated]:
        accepted[key] = french[key]
    return write_accepted(sources_dir, lang, accepted)
