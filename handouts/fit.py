"""Measuring fit by rendering: the withdrawal insert must stay on one page and the
wallet card's text inside the card, in every language and layout, generic and for a
patient with long details (a specimen record)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from .build import Renderer
from .compose import compose
from .errors import Problem
from .records.patient import Patient, PlanStep
from .render.pdf import LAYOUTS, LAYOUTS_DIR
from .sources.loading import Sources

PX_TO_MM = 25.4 / 96


def specimen(variant: str, lang: str) -> Patient:
    """A patient whose details are as long as the tables should ever have to hold."""
    day = dt.date(2031, 1, 15)
    common = {"id": "SPECIMEN-0001", "variant": variant, "lang": lang,
                  "name": "Marie-Christine Delacroix-Beaumont de la Fontaine",
                  "prescriber": "Dr Jean-Baptiste Vanderhaegen-Lefebvre",
                  "phone": "+33 1 99 00 12 34", "emergency_phone": "15", "high_dose_confirmed": True}
    if variant == "oral":
        return Patient(**common, daily_dose_mg=Decimal("112.5"), doses_per_day=4,
                       intake_doses_mg=(Decimal("37.5"),) * 3 + (Decimal(0),),
                       titration=tuple(PlanStep(day + dt.timedelta(days=4 * i),
                                                Decimal(15 + 10 * i)) for i in range(10)),
                       taper=tuple(PlanStep(day + dt.timedelta(days=60 + 3 * i),
                                            Decimal(max(0, 105 - 15 * i))) for i in range(8)))
    return Patient(**common, daily_dose_ug=Decimal("1000.5"), concentration_ug_per_ml=2000,
                   reservoir_ml=40, next_refill=day, alarm_date=day + dt.timedelta(days=3),
                   pump_model="SynchroMed II 8637-40 (40 mL)",
                   pump_clinic_phone="+33 1 99 00 12 35",
                   implanting_centre="Centre hospitalier universitaire de Saint-Étienne-du-Rouvray",
                   implant_date=dt.date(2024, 12, 31))


def _content_bottom(boxes) -> float:
    bottoms = [box.position_y + box.margin_height() for box in boxes
               if hasattr(box, "margin_height") and box.height is not None]
    return max(bottoms, default=0.0)


def overflow_mm(rendered) -> float:
    """How far content runs past the first page, in mm (0 when it fits)."""
    total = 0.0
    for page in rendered.pages[1:]:
        root = page._page_box.children[0]
        total += _content_bottom(root.descendants()) - root.position_y
    return round(total * PX_TO_MM, 1)


def _classes(box) -> list[str]:
    """The HTML classes of the element a box (or an absolute placeholder) draws."""
    element = getattr(box, "element", None) or getattr(getattr(box, "_box", None), "element",
                                                       None)
    return (element.get("class") or "").split() if element is not None else []


def card_overflow_mm(rendered) -> float:
    """How far the text of either side of the card runs past the card, in mm (crop marks,
    which sit outside the card on purpose, are not text)."""
    worst = 0.0
    for box in rendered.pages[0]._page_box.descendants():
        if "card" not in _classes(box) or not hasattr(box, "content_box_y"):
            continue
        inside = [child for child in box.descendants()
                  if "card" not in _classes(child) and "crop" not in _classes(child)]
        limit = box.content_box_y() + box.height
        worst = max(worst, _content_bottom(inside) - limit)
    return round(worst * PX_TO_MM, 1)


def fit_problems(sources: Sources, langs: list[str], layouts_dir: Path = LAYOUTS_DIR
                 ) -> list[Problem]:
    """Every insert or card that does not fit, in any layout (with the style sheets of
    `layouts_dir`), with the language, document, layout and excess."""
    problems = []
    for layout in LAYOUTS:
        renderer = Renderer(sources, layout, layouts_dir)
        shown_layout = "" if layout == "standard" else f", {layout}"
        for lang in langs:
            where = sources.shown(lang)
            for variant, kind in (("oral", "insert"), ("intrathecal", "insert"),
                                  ("intrathecal", "card")):
                for patient in (None, specimen(variant, lang)):
                    document = compose(sources, lang, variant, kind, patient)
                    rendered = renderer.pdf.render(document, sources.profile.name)
                    excess = (overflow_mm(rendered) if kind == "insert"
                              else card_overflow_mm(rendered))
                    if kind == "insert" and len(rendered.pages) > 1:
                        excess = max(excess, 0.1)
                    if excess > 0:
                        which = "for a patient with long details" if patient else "generic"
                        limit = "its one page" if kind == "insert" else "the 85.6 x 54 mm card"
                        problems.append(Problem(
                            where, f"documents.{variant}_{kind}: the {lang} {kind} "
                            f"({which}{shown_layout}) runs {excess} mm past {limit}",
                            "shorten its text"))
    return problems
