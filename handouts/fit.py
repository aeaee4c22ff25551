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
from .render.measure import card_overflow_mm, overflow_mm
from .render.pdf import LAYOUTS, LAYOUTS_DIR
from .sources.loading import Sources


def specimen(variant: str, lang: str) -> Patient:
    """A patient whose details are as long as the tables should ever have to hold."""
    day = dt.date(2031, 1, 15)
    common = {"id": "SPECIMEN-0001", "variant": variant, "lang": lang,
                  "name": "Marie-Christine Delacroix-Beaumont de la Fontaine",
                  "prescriber": "Dr Jean-Baptiste Vanderhaegen-Lefebvre",
                  "phone": "+33 1 99 00 12 34", "emergency_phone": "15", "high_dose_confirmed": True}
    if variant == "oral":
        # as of a day between the plans: the insert shows the daily dose, above 80 mg/day
        return Patient(**common, daily_dose_mg=Decimal(115), doses_per_day=4,
                       intake_doses_mg=(Decimal(30),) * 3 + (Decimal(25),),
                       as_of=day + dt.timedelta(days=50),
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
