"""The small inline language of source text: `**bold**` and a fixed set of placeholders.

Text is parsed into runs once; placeholder values are substituted into the runs
afterwards, so a value (a phone number, a patient's name) is always printed literally
and never read as markup or template code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .model import Run

PLACEHOLDERS = (
    "hospital",
    "service",
    "team_phone",
    "pump_clinic_phone",
    "emergency_number",
    "eu_emergency_number",
    "out_of_hours_phone",
)

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_FORBIDDEN = (
    (re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}"), "template code is not allowed in text",
     "use only the placeholders listed in docs/sources.md"),
    (re.compile(r"<\s*/?\s*[A-Za-z!?]"), "HTML markup is not allowed in text",
     "use **bold** for emphasis"),
)


def text_problems(text: str) -> list[tuple[str, str]]:
    """Every (message, hint) wrong with a source string: unknown placeholders, bad markup."""
    problems = []
    for pattern, message, hint in _FORBIDDEN:
        if pattern.search(text):
            problems.append((message, hint))
    if problems:
        return problems
    for name in _PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            problems.append((f"unknown placeholder '{{{name}}}'",
                             "known placeholders: " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)))
    stripped = _PLACEHOLDER.sub("", text)
    if "{" in stripped or "}" in stripped:
        problems.append(("a lone '{' or '}'", "placeholders are written {name}"))
    if text.count("**") % 2:
        problems.append(("'**' is not closed", "bold text is written **like this**"))
    elif re.search(r"\*\*\s*\*\*", text):
        problems.append(("empty bold '****'", "remove the stars"))
    if re.search(r"(?<!\*)\*(?!\*)", text):
        problems.append(("a single '*'", "only **bold** is allowed; italics are not used"))
    return problems


def placeholders_in(text: str) -> list[str]:
    """The placeholder names a string uses, in order."""
    return _PLACEHOLDER.findall(text)


def parse_runs(text: str) -> tuple[Run, ...]:
    """Split validated text into bold and plain runs; placeholders stay as written."""
    return tuple(Run(part, bold=index % 2 == 1)
                 for index, part in enumerate(text.split("**")) if part)


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace placeholders by their values, literally: a value is never parsed again."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
