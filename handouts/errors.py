"""The project's own exceptions: every problem knows where it is, so the CLI can print
one line per problem and choose the exit code in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, with where it is and how to fix it."""

    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class HandoutsError(Exception):
    """Base of the project's errors; `exit_code` is what the CLI returns."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):
        return type(self), (self.problems,)  # keeps the problems across processes


class InputError(HandoutsError):
    """Unusable input (sources, layouts, patient records, usage): exit 2, nothing written."""


class RenderError(HandoutsError):
    """A layout could not be rendered as designed (e.g. a page that must fit does not)."""


class RecordDoesNotFit(RenderError):
    """A patient's values do not fit their documents: that record's error, located by
    the caller (the record file, or the batch row)."""


class OutputError(HandoutsError):
    """A file could not be written (read-only folder, full disk, file size limit)."""


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def where(path: str, line: int | None = None, col: int | None = None) -> str:
    """Format a location as `file:line:col` (1-based), dropping what is unknown."""
    if line is None:
        return path
    return f"{path}:{line}:{col}" if col is not None else f"{path}:{line}"
