"""What a render worker keeps warm: the sources, one `Renderer` per layout (shapes laid
out, values drawn, DOCX templates written) and the preview rasteriser.

It makes exactly the files `patient` makes (the same `Renderer` path), in memory.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pypdfium2

from ..build import FORMATS, Renderer, patient_documents
from ..model import Document
from ..records.patient import Patient
from ..render.docx import zip_entries
from ..sources.loading import load_sources

PREVIEW_DPI = 90
PREVIEW_QUALITY = 80  # JPEG: a tenth of the time PNG takes to encode, text still sharp


@dataclass(frozen=True)
class OutputFile:
    """One file as `patient` would write it: `<id>/<name>` and its bytes."""

    path: str
    data: bytes

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PreviewPage:
    """A personal page as a JPEG image, and which document and page it is."""

    stem: str
    page: int
    jpeg: bytes


class Workshop:
    """Renders one patient's documents; lives in a worker process for its whole life."""

    def __init__(self, sources_dir: Path, layouts_dir: Path):
        self.sources = load_sources(sources_dir)
        self.layouts_dir = layouts_dir
        self.renderers: dict[str, Renderer] = {}

    def renderer(self, layout: str) -> Renderer:
        if layout not in self.renderers:
            self.renderers[layout] = Renderer(self.sources, layout, self.layouts_dir)
        return self.renderers[layout]

    def files(self, patient: Patient, layout: str = "standard",
              formats: tuple[str, ...] = FORMATS) -> list[OutputFile]:
        """Every file `patient FILE --layout L` writes for this patient, in its order."""
        renderer = self.renderer(layout)
        documents = patient_documents(self.sources, patient)
        renderer.prepare(documents)
        results = [item for document in documents
                   for item in renderer.render(document, list(formats), Path(), patient.id)]
        return [OutputFile(item.path.as_posix(), item.data) for item in results]

    def preview(self, patient: Patient, layout: str = "standard") -> list[PreviewPage]:
        """The personal pages (a leaflet's front pages, the insert, the card) as images."""
        renderer = self.renderer(layout)
        documents = patient_documents(self.sources, patient)
        renderer.prepare(documents)
        pages = []
        for document in documents:
            identity = f"{patient.id}/{document.lang}/{document.stem}"
            data = renderer.pdf_bytes(document, identity, personal=True)
            pages += _rasterise(data, document)
        return pages

    def warm_up(self) -> None:
        """Lay out the shapes most patients share (every language and variant, the
        profile's contacts, no dose plan) before the first clinician waits for them."""
        today = dt.date.today()
        for lang in self.sources.languages:
            for patient in specimen_patients(lang, today):
                self.files(patient)
                self.preview(patient)


def _rasterise(data: bytes, document: Document) -> list[PreviewPage]:
    pdf = pypdfium2.PdfDocument(data)
    try:
        count = len(document.front) if document.kind == "leaflet" else 1
        pages = []
        for number in range(count):
            image = pdf[number].render(scale=PREVIEW_DPI / 72).to_pil()
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=PREVIEW_QUALITY)
            pages.append(PreviewPage(document.stem, number + 1, buffer.getvalue()))
        return pages
    finally:
        pdf.close()


def zip_files(files: list[OutputFile]) -> bytes:
    """All of a patient's files in one ZIP, laid out as `patient` writes them."""
    return zip_entries([(item.path, item.data) for item in files])


def specimen_patients(lang: str, today: dt.date) -> tuple[Patient, ...]:
    """Made-up patients whose documents have the common shapes (no real data)."""
    oral = Patient(id="warm-up", variant="oral", lang=lang, name="Specimen",
                   prescriber="Specimen", daily_dose_mg=Decimal(30), doses_per_day=3,
                   intake_doses_mg=(Decimal(10), Decimal(10), Decimal(10), None))
    pump = Patient(id="warm-up", variant="intrathecal", lang=lang, name="Specimen",
                   prescriber="Specimen", daily_dose_ug=Decimal(250),
                   concentration_ug_per_ml=500, reservoir_ml=20,
                   next_refill=today + dt.timedelta(days=30),
                   alarm_date=today + dt.timedelta(days=33), pump_model="Specimen")
    return oral, pump

