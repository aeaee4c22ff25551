"""Where the sources and layouts come from.

The default project (the fictional example hospital, the French and English texts, the
document ids, the accepted reviews and the layouts) ships inside the package and is
read through `importlib.resources`, so an installed tool works from any folder. In the
repository, `handouts/default/sources` and `handouts/default/layouts` are symbolic
links to the top-level `sources/` and `layouts/`, the single copy; building a wheel
copies them in as package data.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path


@dataclass(frozen=True)
class Project:
    """The folders a build reads: YAML sources and layouts."""

    sources_dir: Path
    layouts_dir: Path


def embedded() -> Project:
    """The default project shipped with the package. Its folders are resolved, so that
    in the repository messages name `sources/fr.yaml`, not the link under handouts/.
    WeasyPrint and Jinja2 read files by path: the package must be installed as files
    (pip always does), not imported from a zip archive."""
    default = Path(str(files("handouts") / "default")).resolve()
    return Project(sources_dir=default / "sources", layouts_dir=default / "layouts")


EMBEDDED = embedded()
