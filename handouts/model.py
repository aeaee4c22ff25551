"""The format-neutral document model: what a leaflet says, in order, with no layout.

Both writers (PDF and DOCX) take a `Document` and nothing else, so the two formats
say the same things in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace


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
    """One label/value line of a personal summary; an empty value is a line to write on.
    `personal` marks a value taken from the patient (a slot of the variable-data path)."""

    label: str
    value: str = ""
    personal: bool = False


@dataclass(frozen=True)
class FactTable:
    title: str
    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class Table:
    """A table with a header row (dose plans); empty cells are spaces to write on.
    In a `personal` table every body cell comes from the patient."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    personal: bool = False


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


SLOT_MARK = "\u00a0"


def _split_block(block: Block, values: list[str], mark: Callable[[int], str]) -> Block:
    def take(value: str) -> str:
        values.append(value)
        return mark(len(values) - 1)

    if isinstance(block, FactTable):
        return replace(block, facts=tuple(
            replace(f, value=take(f.value)) if f.personal and f.value else f
            for f in block.facts))
    if isinstance(block, Table) and block.personal:
        return replace(block, rows=tuple(tuple(take(cell) for cell in row)
                                         for row in block.rows))
    if isinstance(block, (Subsection, Box)):
        return replace(block, blocks=tuple(_split_block(b, values, mark)
                                           for b in block.blocks))
    return block


def split_personal(document: Document, mark: Callable[[int], str] = lambda _: SLOT_MARK
                   ) -> tuple[Document, tuple[str, ...]]:
    """A document's shape and its personal values, in reading order.

    The shape is the document with every patient value replaced by a no-break space:
    it lays out exactly like the patient's document as long as each value fits on the
    line its slot holds, and is the same for every patient with the same plan lengths,
    language and contacts, so it is rendered once and shared (see render/stamp.py).
    `mark(i)` gives what stands for the i-th value (the DOCX template needs a different
    mark per value).
    """
    values: list[str] = []

    def split(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        return tuple(_split_block(b, values, mark) for b in blocks)

    front = tuple(Page(split(page.blocks)) for page in document.front)
    sections = tuple(replace(s, blocks=split(s.blocks)) for s in document.sections)
    body = split(document.body)
    return replace(document, front=front, sections=sections, body=body), tuple(values)
