"""The format-neutral document model: what a leaflet says, in order, with no layout.

Both writers (PDF and DOCX) take a `Document` and nothing else, so the two formats
say the same things in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Run:
    """A piece of text, plain or bold."""

    text: str
    bold: bool = False


@dataclass(frozen=True)
class Paragraph:
    runs: tuple[Run, ...]

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


@dataclass(frozen=True)
class BulletList:
    items: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Subsection:
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Box:
    """Text set apart; `kind` is warning (red), caution (amber) or info (blue)."""

    kind: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Column:
    title: str
    items: tuple[Paragraph, ...]


@dataclass(frozen=True)
class Columns:
    """Lists shown side by side, e.g. overdose signs next to withdrawal signs."""

    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Fact:
    """One label/value line of a personal summary; an empty value is a line to write on."""

    label: str
    value: str = ""


@dataclass(frozen=True)
class FactTable:
    title: str
    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class Table:
    """A table with a header row (dose plans); empty cells are spaces to write on."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


Block = Paragraph | BulletList | Subsection | Box | Columns | FactTable | Table


@dataclass(frozen=True)
class Section:
    """A numbered leaflet section; `key` is its stable id (e.g. `side_effects`)."""

    key: str
    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Page:
    """Blocks that make one page of their own (the personal pages at the front)."""

    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """One document (leaflet, insert or card) of one variant in one language."""

    kind: str
    variant: str
    lang: str
    title: str
    subtitle: str
    doc_id: str
    version: str
    revised: str
    footer: str
    front: tuple[Page, ...] = ()
    sections: tuple[Section, ...] = ()
    body: tuple[Block, ...] = ()
    labels: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def stem(self) -> str:
        """The file name stem: `baclofen-<variant>-<kind>`."""
        return f"baclofen-{self.variant}-{self.kind}"
