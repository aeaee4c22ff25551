"""Where the sources and layouts come from: the built-in default or a hospital's project.

The default project (the fictional example hospital, the French and English texts, the
document ids, the accepted reviews and the layouts) ships inside the package and is
read through `importlib.resources`, so an installed tool works from any folder. In the
repository, `handouts/default/sources` and `handouts/default/layouts` are symbolic
links to the top-level `sources/` and `layouts/`, the single copy; building a wheel
copies them in as package data.

A hospital's project is a folder with `make_handouts.yaml` at its root (written by
`make_handouts init`): its own `sources/` folder (hospital profile, document ids, the
texts in the languages it prints) and optionally its own `layouts/`. The config records
the built-in files the copies were made from, so that when a new version of the tool
changes a built-in text, the project is told to review its copy instead of printing
an outdated leaflet without a word.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from pathlib import Path

from .errors import InputError, Problem, display_path
from .sources.yamlsource import YamlMap, read_yaml

CONFIG_NAME = "make_handouts.yaml"
BUILT_IN = "built-in"
REFERENCE_FILES = ("hospital.yaml", "documents.yaml")


@dataclass(frozen=True)
class Project:
    """The folders a build reads, and for a hospital's project, where it is and the
    sha256 of each built-in file its copies were made from."""

    sources_dir: Path
    layouts_dir: Path
    root: Path | None = None
    made_from: dict[str, str] = field(default_factory=dict)

    def warnings(self) -> list[Problem]:
        """What a hospital should know before printing: its profile is still the
        fictional example, or a built-in text or layout file changed since its copy was
        made (a new version of the tool may have corrected it)."""
        if self.root is None:
            return []
        folders = {"sources": self.sources_dir, "layouts": self.layouts_dir}
        problems = []
        for copied, copied_from in sorted(self.made_from.items()):
            kind, _, name = copied.partition("/")
            built_in = DEFAULT_DIR / kind / name
            if kind not in folders or folders[kind] == EMBEDDED.layouts_dir:
                continue
            copy = folders[kind] / name
            if not built_in.is_file() or not copy.is_file():
                continue
            if copied == "sources/hospital.yaml":
                if _sha256(copy) == _sha256(built_in):
                    problems.append(Problem(display_path(copy), "this is still the fictional "
                                            "example hospital",
                                            "put your hospital's name and phone numbers"))
            elif _sha256(built_in) != copied_from:
                problems.append(Problem(display_path(copy), "the built-in version of this file "
                                        "has changed since it was copied", "compare it with a "
                                        "fresh copy ('make_handouts init NEW_DIR') and carry the "
                                        f"changes over, then set '{copied}' in {CONFIG_NAME} to "
                                        f"{_sha256(built_in)}"))
        return problems


def embedded() -> Project:
    """The default project shipped with the package. Its folders are resolved, so that
    in the repository messages name `sources/fr.yaml`, not the link under handouts/.
    WeasyPrint and Jinja2 read files by path: the package must be installed as files
    (pip always does), not imported from a zip archive."""
    return Project((DEFAULT_DIR / "sources").resolve(), (DEFAULT_DIR / "layouts").resolve())


DEFAULT_DIR = Path(str(files("handouts") / "default"))
EMBEDDED = embedded()


def writable_sources(sources_dir: Path) -> Path:
    """`sources_dir`, for a command that changes it; refused when it is the built-in
    sources of an installed package (only a checkout links them to its own sources/)."""
    installed = not (DEFAULT_DIR / "sources").is_symlink()
    if installed and sources_dir.resolve() == EMBEDDED.sources_dir:
        raise InputError(Problem(display_path(sources_dir), "the built-in sources belong to the "
                                 "installed package and are never changed",
                                 "start a project with 'make_handouts init DIR' and run this "
                                 "inside it"))
    return sources_dir


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def find_project(start: Path) -> Project:
    """The project whose folder holds `start` (the nearest `make_handouts.yaml` walking
    up), or the built-in default outside any project."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return load_project(folder)
    return EMBEDDED


def _folder(config: YamlMap, key: str, root: Path, shown: str) -> Path | None:
    """A folder named in the config, relative to the project root (None: built-in)."""
    value = config.get(key, BUILT_IN)
    where = str(config.value_marks[key]) if key in config else shown
    if value == BUILT_IN and key == "layouts":
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(Problem(where, f"{key}: expected a folder name",
                                 f"e.g.  {key}: {key}" + ("" if key == "sources"
                                                          else f"  or  {key}: {BUILT_IN}")))
    folder = root / value
    if not folder.is_dir():
        raise InputError(Problem(where, f"{key}: no folder '{value}' in {display_path(root)}",
                                 "create it or name an existing folder"))
    if key == "layouts":
        missing = [name for name in _files_under(EMBEDDED.layouts_dir)
                   if not (folder / name).is_file()]
        if missing:
            raise InputError([Problem(display_path(folder / name), "file not found",
                                      "a project's layouts need every file the built-in ones "
                                      "have: copy it from a new 'make_handouts init --layouts'")
                              for name in missing])
    return folder


def _files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def load_project(root: Path) -> Project:
    """Read a project's `make_handouts.yaml`; every problem is reported with its place."""
    config_path = root / CONFIG_NAME
    shown = display_path(config_path)
    if not config_path.is_file():
        raise InputError(Problem(display_path(root), f"not a make_handouts project: no {CONFIG_NAME}",
                                 "create a project with 'make_handouts init DIR'"))
    config = read_yaml(config_path, shown)
    if not isinstance(config, YamlMap):
        raise InputError(Problem(shown, "expected 'key: value' lines"))
    unknown = [Problem(str(config.key_marks[key]), f"{key}: unknown key",
                       "known keys: sources, layouts, made_from")
               for key in config if key not in ("sources", "layouts", "made_from")]
    if unknown:
        raise InputError(unknown)
    sources = _folder(config, "sources", root, shown)
    layouts = _folder(config, "layouts", root, shown)
    made_from = config.get("made_from") or {}
    if not isinstance(made_from, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in made_from.items()):
        raise InputError(Problem(str(config.value_marks["made_from"]),
                                 "made_from: expected 'file: sha256' lines",
                                 "leave it as 'make_handouts init' wrote it"))
    return Project(sources, layouts or EMBEDDED.layouts_dir, root.resolve(), dict(made_from))


def _config_text(made_from: dict[str, str], layouts: bool) -> str:
    try:
        tool_version = version("make_handouts")
    except PackageNotFoundError:
        tool_version = "unknown"
    lines = [
        "# A make_handouts project. Every make_handouts command run in this folder (or below",
        "# it), or given --project, uses these files instead of the built-in ones.",
        "",
        "# The texts (one file per language; French is the reference), the hospital profile",
        "# (hospital.yaml: name, service, phone numbers) and the document ids and versions.",
        "sources: sources",
        "",
        "# Templates and style sheets: 'built-in', or a folder ('make_handouts init --layouts').",
        f"layouts: {'layouts' if layouts else BUILT_IN}",
        "",
        f"# The sha256 of the built-in files copied here (make_handouts {tool_version}): when a",
        "# new version changes one, commands say so. Do not edit, except as they explain.",
        "made_from:",
        *[f'  {name}: "{digest}"' for name, digest in sorted(made_from.items())],
    ]
    return "\n".join(lines) + "\n"


def init_project(target: Path, langs: list[str] | None, layouts: bool,
                 available: list[str]) -> list[Path]:
    """Write a new project folder: the built-in sources (French and `langs`, default
    all), optionally the layouts, the sample patient records, and the config. All of
    it appears at once (written beside the target, then renamed), or nothing does.
    Returns the files written."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(Problem(display_path(target), "already exists and is not an empty folder",
                                 "choose a new folder name"))
    unknown = [lang for lang in langs or [] if lang not in available]
    if unknown:
        raise InputError([Problem("--lang", f"no built-in text for language '{lang}'",
                                  "available: " + ", ".join(available)) for lang in unknown])
    wanted = [lang for lang in available if lang == available[0] or not langs or lang in langs]
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        sources = staging / "sources"
        sources.mkdir()
        names = [*REFERENCE_FILES, *[f"{lang}.yaml" for lang in wanted]]
        for name in names:
            shutil.copyfile(EMBEDDED.sources_dir / name, sources / name)
        for lang in wanted:
            accepted = EMBEDDED.sources_dir / "accepted" / f"{lang}.json"
            if accepted.is_file():
                (sources / "accepted").mkdir(exist_ok=True)
                shutil.copyfile(accepted, sources / "accepted" / accepted.name)
        if layouts:
            shutil.copytree(EMBEDDED.layouts_dir, staging / "layouts")
        shutil.copytree(DEFAULT_DIR / "examples", staging / "examples")
        made_from = {f"sources/{name}": _sha256(EMBEDDED.sources_dir / name) for name in names}
        if layouts:
            made_from.update({f"layouts/{name}": _sha256(EMBEDDED.layouts_dir / name)
                              for name in _files_under(EMBEDDED.layouts_dir)})
        (staging / CONFIG_NAME).write_text(_config_text(made_from, layouts), encoding="utf-8")
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(path for path in target.rglob("*") if path.is_file())
