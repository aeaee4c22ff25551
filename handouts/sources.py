"""Loading stage, whole project: every language file, the hospital profile and the
document metadata, validated together so one run reports every problem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import PROJECT_ROOT
from .content import LanguageContent, load_language
from .errors import InputError, Problem
from .profile import DocumentMeta, HospitalProfile, load_document_meta, load_profile

SOURCES_DIR = PROJECT_ROOT / "sources"
REFERENCE_LANG = "fr"
UNTRANSLATED = ("hospital", "documents")


@dataclass(frozen=True)
class Sources:
    languages: dict[str, LanguageContent]
    profile: HospitalProfile
    metas: dict[str, DocumentMeta]


def available_languages(sources_dir: Path = SOURCES_DIR) -> list[str]:
    """Languages with a source file, French first."""
    langs = sorted(p.stem for p in sources_dir.glob("*.yaml") if p.stem not in UNTRANSLATED)
    return sorted(langs, key=lambda lang: lang != REFERENCE_LANG)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_sources(sources_dir: Path = SOURCES_DIR, langs: list[str] | None = None) -> Sources:
    """Load and validate the sources for `langs` (default: all), collecting every problem."""
    known = available_languages(sources_dir)
    wanted = langs or known
    problems: list[Problem] = []
    for lang in wanted:
        if lang not in known:
            problems.append(Problem(_display(sources_dir / f"{lang}.yaml"),
                                    f"no source file for language '{lang}'",
                                    "available: " + ", ".join(known)))
    languages: dict[str, LanguageContent] = {}
    profile = metas = None
    loaders = [(lang, sources_dir / f"{lang}.yaml", load_language) for lang in wanted
               if lang in known]
    loaders += [("hospital", sources_dir / "hospital.yaml", load_profile),
                ("documents", sources_dir / "documents.yaml", load_document_meta)]
    for name, path, loader in loaders:
        try:
            result = loader(path, _display(path))
        except InputError as error:
            problems += error.problems
            continue
        except FileNotFoundError:
            problems.append(Problem(_display(path), "file not found"))
            continue
        if name == "hospital":
            profile = result
        elif name == "documents":
            metas = result
        else:
            languages[name] = result
    if profile is not None:
        for lang in languages:
            if lang not in profile.service:
                problems.append(Problem(_display(sources_dir / "hospital.yaml"),
                                        f"service: no text for language '{lang}'",
                                        f'add a line  {lang}: "..."'))
    if problems:
        raise InputError(problems)
    return Sources(languages, profile, metas)
