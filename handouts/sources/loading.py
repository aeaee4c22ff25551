"""Loading stage, whole project: every language file, the hospital profile and the
document metadata, validated together so one run reports every problem.

French is the reference. A translation is compared with it key by key: one with errors
or strings to review is refused, unless the caller allows an incomplete translation, in
which case every such string is printed in French and reported as a notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, Problem, display_path
from ..project import EMBEDDED
from ..translate.review import accepted_path, read_accepted
from ..translate.status import Report, compare_trees, merge_with_french
from .content import LanguageContent, build_language
from .profile import DocumentMeta, DoseRules, HospitalProfile, load_document_meta, load_profile
from .yamlsource import YamlMap, read_yaml

SOURCES_DIR = EMBEDDED.sources_dir
REFERENCE_LANG = "fr"
UNTRANSLATED = ("hospital", "documents")


@dataclass(frozen=True)
class Sources:
    languages: dict[str, LanguageContent]
    profile: HospitalProfile
    metas: dict[str, DocumentMeta]
    directory: Path = SOURCES_DIR
    notices: list[Problem] = field(default_factory=list)

    def shown(self, lang: str) -> str:
        """How to name a language's file in a message."""
        return display_path(language_path(self.directory, lang))


def dose_rules(sources_dir: Path = SOURCES_DIR) -> DoseRules:
    """The hospital profile's dose rules, which records are checked against before the
    texts are loaded (a broken profile is reported as `load_sources` would)."""
    path = sources_dir / "hospital.yaml"
    if not path.exists():
        raise InputError(Problem(display_path(path), "file not found"))
    return load_profile(path, display_path(path)).dose_rules


def available_languages(sources_dir: Path = SOURCES_DIR) -> list[str]:
    """Languages with a source file, French first."""
    langs = sorted(p.stem for p in sources_dir.glob("*.yaml") if p.stem not in UNTRANSLATED)
    return sorted(langs, key=lambda lang: lang != REFERENCE_LANG)


def language_path(sources_dir: Path, lang: str) -> Path:
    return sources_dir / f"{lang}.yaml"


def read_tree(sources_dir: Path, lang: str) -> YamlMap:
    """A language file's parsed tree (YAML problems raised with positions)."""
    path = language_path(sources_dir, lang)
    if not path.exists():
        raise InputError(Problem(display_path(path), "file not found"))
    tree = read_yaml(path, display_path(path))
    if not isinstance(tree, YamlMap):
        raise InputError(Problem(display_path(path), "expected 'key: value' lines"))
    return tree


def compare_language(sources_dir: Path, lang: str, french: YamlMap) -> tuple[YamlMap, Report]:
    """A translation's tree and its comparison with the French."""
    tree = read_tree(sources_dir, lang)
    accepted = read_accepted(sources_dir, lang, display_path(accepted_path(sources_dir, lang)))
    return tree, compare_trees(french, tree, lang, accepted)


def _translated(sources_dir: Path, lang: str, french: YamlMap, allow_incomplete: bool,
                as_written: bool = False) -> tuple[LanguageContent, list[Problem]]:
    """A translation's content; refused with every reason when it has errors or strings
    to review, unless `allow_incomplete`, which prints the French for them and says so
    (`as_written` keeps the strings to review, for `check` to measure their fit)."""
    tree, report = compare_language(sources_dir, lang, french)
    shown = display_path(language_path(sources_dir, lang))
    if (report.errors or report.to_review) and not allow_incomplete:
        raise InputError([
            *report.errors, *report.to_review,
            Problem(shown, f"the '{lang}' translation has {len(report.errors)} errors and "
                    f"{len(report.to_review)} strings to review; it is not built",
                    f"fix or review them (make_handouts.py check --lang {lang}) or build with "
                    "--allow-incomplete")])
    merged, fallbacks = merge_with_french(
        french, tree, report.bad_keys | (set() if as_written else report.review_keys))
    reasons = {key: "to review" for key in report.review_keys}
    notices = [Problem(shown, f"{key}: {reasons.get(key, 'missing or invalid')}: the French "
                       "text is printed instead") for key in fallbacks]
    if fallbacks:
        notices.append(Problem(shown, f"the '{lang}' documents print the French text for "
                               f"{len(fallbacks)} strings (--allow-incomplete)"))
    return build_language(lang, merged, shown), notices


def load_sources(sources_dir: Path = SOURCES_DIR, langs: list[str] | None = None,
                 allow_incomplete: bool = False, *, as_written: bool = False,
                 refused: dict[str, list[Problem]] | None = None) -> Sources:
    """Load and validate the sources for `langs` (default: all), collecting every problem.
    `as_written` (with `allow_incomplete`) keeps strings to review instead of the French.
    With `refused`, a translation that cannot be built is left out and its problems put
    there (one language's problem is only that language's documents' problem)."""
    known = available_languages(sources_dir)
    wanted = langs or known
    problems: list[Problem] = [
        Problem(display_path(language_path(sources_dir, lang)),
                f"no source file for language '{lang}'", "available: " + ", ".join(known))
        for lang in wanted if lang not in known]
    languages: dict[str, LanguageContent] = {}
    notices: list[Problem] = []
    french = None
    try:
        french = read_tree(sources_dir, REFERENCE_LANG)
        reference = build_language(REFERENCE_LANG, french,
                                   display_path(language_path(sources_dir, REFERENCE_LANG)))
        if REFERENCE_LANG in wanted:
            languages[REFERENCE_LANG] = reference
    except InputError as error:
        problems += error.problems
        french = None
    for lang in wanted:
        if lang in known and lang != REFERENCE_LANG and french is not None:
            try:
                languages[lang], found = _translated(sources_dir, lang, french, allow_incomplete,
                                                     as_written)
                notices += found
            except InputError as error:
                if refused is None:
                    problems += error.problems
                else:
                    refused[lang] = error.problems
    profile = metas = None
    for name, loader in (("hospital", load_profile), ("documents", load_document_meta)):
        path = sources_dir / f"{name}.yaml"
        try:
            if not path.exists():
                raise InputError(Problem(display_path(path), "file not found"))
            result = loader(path, display_path(path))
        except InputError as error:
            problems += error.problems
            continue
        if name == "hospital":
            profile = result
        else:
            metas = result
    if profile is not None:
        problems += [Problem(display_path(sources_dir / "hospital.yaml"),
                             f"service: no text for language '{lang}'", f'add a line  {lang}: "..."')
                     for lang in languages if lang not in profile.service]
    if problems:
        raise InputError(problems)
    return Sources(languages, profile, metas, sources_dir, notices)
