"""Compose stage: content + hospital profile + (optional) patient -> one `Document`.

This is the only place that decides what a document says and in which order; the
writers lay it out. Placeholders are filled here, literally, after markup was parsed.
Every list of signs comes from the one table of signs and actions, printed with its
action right under it, so the leaflet, the insert and the card cannot disagree.
"""

from __future__ import annotations

from dataclasses import replace

from .localise import colon, long_date, number, short_date
from .markup import fill
from .model import (
    Block,
    Box,
    BulletList,
    Column,
    Columns,
    Document,
    Fact,
    FactTable,
    Page,
    Paragraph,
    Run,
    Section,
    Subsection,
    Table,
)
from .records.patient import Patient, PlanStep
from .sources.content import CallRef, LanguageContent, SignGroupRef, SignTable, SourceBlock
from .sources.loading import Sources

VARIANTS = ("oral", "intrathecal")
KINDS = ("leaflet", "insert", "card")
PLAN_ROWS = 8
INTAKE_SLOTS = ("morning", "noon", "evening", "bedtime")


def documents_for(variant: str) -> tuple[str, ...]:
    """The document kinds a variant has: the pump also has a wallet card."""
    return KINDS if variant == "intrathecal" else KINDS[:2]


def compose(sources: Sources, lang: str, variant: str, kind: str,
            patient: Patient | None = None) -> Document:
    """Build the document model of one document, generic when `patient` is None."""
    language = sources.languages[lang]
    key = f"{variant}_{kind}"
    content = language.documents[key]
    meta = sources.metas[key]
    values = _placeholder_values(sources, lang, patient)
    labels = language.labels
    footer = " · ".join((meta.doc_id, f"{labels['version']} {meta.version}",
                         f"{labels['revised']} {long_date(meta.revised, lang)}",
                         sources.profile.name))
    document = Document(
        kind=kind, variant=variant, lang=lang, title=fill(content.title, values),
        subtitle=fill(content.subtitle, values), doc_id=meta.doc_id, version=meta.version,
        revised=meta.revised.isoformat(), footer=footer, labels=dict(labels))
    facts = _FactBuilder(language, values, patient)
    signs = _SignPrinter(language.signs, variant, lang, card=kind == "card")
    if kind == "leaflet":
        front = [Page((Box("info", "", (BulletList(content.preamble),)), facts.treatment(variant)))]
        if variant == "oral":
            front.append(Page(facts.plans()))
        return replace(document, front=tuple(front),
                       sections=tuple(Section(s.key, fill(s.heading, values),
                                              _fill_blocks(signs.blocks(s.blocks), values))
                                      for s in content.sections))
    body = [*content.intro, *signs.blocks(content.blocks)]
    if kind == "insert":
        treatment = fill(language.documents[f"{variant}_leaflet"].title, values)
        body.append(facts.contacts(variant, treatment))
        return replace(document, body=_fill_blocks(tuple(body), values))
    return replace(document, front=(Page((facts.card_front(document.title),)),),
                   body=_fill_blocks(tuple(body), values))


def _unbreakable(phone: str) -> str:
    """A phone number never breaks across lines."""
    return phone.replace(" ", "\u00a0")


def _placeholder_values(sources: Sources, lang: str, patient: Patient | None) -> dict[str, str]:
    profile = sources.profile
    values = {
        "hospital": profile.name,
        "service": profile.service[lang],
        "team_phone": _unbreakable((patient and patient.phone) or profile.team_phone),
        "pump_clinic_phone": _unbreakable((patient and patient.pump_clinic_phone)
                                          or profile.pump_clinic_phone),
        "emergency_number": _unbreakable((patient and patient.emergency_phone)
                                         or profile.emergency_number),
        "eu_emergency_number": _unbreakable(profile.eu_emergency_number),
    }
    values["out_of_hours_phone"] = (_unbreakable(profile.out_of_hours_phone)
                                    if profile.out_of_hours_phone else values["emergency_number"])
    return values


def _fill_blocks(blocks: tuple[Block, ...], values: dict[str, str]) -> tuple[Block, ...]:
    return tuple(_fill_block(block, values) for block in blocks)


def _fill_paragraph(paragraph: Paragraph, values: dict[str, str]) -> Paragraph:
    return Paragraph(tuple(Run(fill(run.text, values), run.bold) for run in paragraph.runs))


def _fill_block(block: Block, values: dict[str, str]) -> Block:
    if isinstance(block, Paragraph):
        return _fill_paragraph(block, values)
    if isinstance(block, BulletList):
        return BulletList(tuple(_fill_paragraph(item, values) for item in block.items))
    if isinstance(block, Subsection):
        return Subsection(fill(block.heading, values), _fill_blocks(block.blocks, values))
    if isinstance(block, Box):
        return Box(block.kind, fill(block.title, values), _fill_blocks(block.blocks, values))
    if isinstance(block, Columns):
        return Columns(tuple(Column(fill(c.title, values),
                                    tuple(_fill_paragraph(i, values) for i in c.items))
                             for c in block.columns))
    return block


class _SignPrinter:
    """What a document prints for each reference to the table of signs: a group's box
    (title, signs, then its action) or, on the card, one line (title, signs, short
    action); an action's sentence where the document calls for it."""

    def __init__(self, table: SignTable, variant: str, lang: str, card: bool):
        self.groups = table.groups.get(variant, {})
        self.actions = table.actions
        self.lang = lang
        self.card = card

    def blocks(self, blocks: tuple[SourceBlock, ...]) -> tuple[Block, ...]:
        return tuple(self.block(block) for block in blocks)

    def block(self, block: SourceBlock) -> Block:
        if isinstance(block, CallRef):
            return self.actions[block.call].text
        if isinstance(block, SignGroupRef):
            group = self.groups[block.key]
            action = self.actions[group.call]
            if self.card:
                signs = ", ".join(sign.text for sign in group.signs)
                return Paragraph((Run(group.title + colon(self.lang), bold=True),
                                  Run(f"{signs}. "), *action.short.runs))
            return Box(group.box, group.title, (BulletList(group.signs), action.text))
        if isinstance(block, (Subsection, Box)):
            return replace(block, blocks=self.blocks(block.blocks))
        return block


class _FactBuilder:
    """The personal parts: filled from the patient, or left blank to write on by hand."""

    def __init__(self, language: LanguageContent, values: dict[str, str], patient: Patient | None):
        self.lang = language.lang
        self.labels = language.labels
        self.values = values
        self.patient = patient

    def mg(self, value) -> str:
        return "" if value is None else f"{number(value, self.lang)} mg"

    def ug_per_day(self, value) -> str:
        return "" if value is None else f"{number(value, self.lang)} µg/{self.labels['plan_day']}"

    def date(self, value) -> str:
        return "" if value is None else long_date(value, self.lang)

    def fact(self, label: str, value: str) -> Fact:
        """A line whose value comes from the patient (blank on a generic document)."""
        return Fact(self.labels[label], value, personal=self.patient is not None)

    def field(self, name: str, default: str = "") -> str:
        value = getattr(self.patient, name, "") if self.patient else ""
        return value or default

    def contacts_facts(self, variant: str) -> list[Fact]:
        labels, values = self.labels, self.values
        facts = [Fact(labels["team_phone"], values["team_phone"])]
        if variant == "intrathecal":
            facts.append(Fact(labels["pump_clinic_phone"], values["pump_clinic_phone"]))
        facts.append(self.emergency())
        return facts

    def emergency(self) -> Fact:
        """The national and European emergency numbers, on one line."""
        return Fact(self.labels["emergency"], f"{self.values['emergency_number']} / "
                                              f"{self.values['eu_emergency_number']}")

    def daily_dose(self, variant: str) -> str:
        p = self.patient
        if p is None:
            return ""
        dose = self.mg(p.daily_dose_mg) if variant == "oral" else self.ug_per_day(p.daily_dose_ug)
        if variant == "oral":
            dose += f"/{self.labels['plan_day']}"
        if p.high_dose_confirmed:
            dose += f" ({self.labels['confirmed_high_dose']})"
        return dose

    def treatment(self, variant: str) -> FactTable:
        labels, p = self.labels, self.patient
        facts = [self.fact("patient_name", self.field("name")),
                 self.fact("prescriber", self.field("prescriber")),
                 *self.contacts_facts(variant),
                 self.fact("daily_dose", self.daily_dose(variant))]
        if variant == "oral":
            doses = p.intake_doses_mg if p else (None,) * len(INTAKE_SLOTS)
            facts += [self.fact(slot, (self.mg(dose) or labels["no_intake"]) if p else "")
                      for slot, dose in zip(INTAKE_SLOTS, doses)]
            return FactTable(labels["your_treatment"], tuple(facts))
        facts += [
            self.fact("pump_model", self.field("pump_model")),
            self.fact("concentration",
                 f"{number(p.concentration_ug_per_ml, self.lang)} µg/mL" if p else ""),
            self.fact("reservoir", f"{number(p.reservoir_ml, self.lang)} mL" if p else ""),
            self.fact("next_refill", self.date(p.next_refill) if p else ""),
            self.fact("alarm_date", self.date(p.alarm_date) if p else ""),
        ]
        return FactTable(labels["your_pump"], tuple(facts))

    def plan_table(self, title_label: str, steps: tuple[PlanStep, ...]) -> Table:
        labels = self.labels
        header = (labels["plan_from"], labels["plan_daily_dose"])
        if self.patient is None:
            rows = (("", ""),) * PLAN_ROWS
        else:
            rows = tuple((short_date(s.start, self.lang),
                          self.mg(s.daily_dose_mg) + (f" ({labels['plan_stop']})"
                                                      if not s.daily_dose_mg else ""))
                         for s in steps)
        return Table(labels[title_label], header, rows, personal=self.patient is not None)

    def plans(self) -> tuple[Block, ...]:
        """The dose-plan page: the patient's dated plans, or blank tables to fill in."""
        p = self.patient
        if p is not None and not (p.titration or p.taper):
            return (Subsection(self.labels["dose_plan"],
                               (Paragraph((Run(self.labels["no_plan"]),)),)),)
        tables = [self.plan_table("titration_plan", p.titration if p else ()),
                  self.plan_table("taper_plan", p.taper if p else ())]
        if p is not None:
            tables = [t for t, steps in zip(tables, (p.titration, p.taper)) if steps]
        return (Subsection(self.labels["dose_plan"],
                           (Paragraph((Run(self.labels["plan_note"]),)), *tables)),)

    def contacts(self, variant: str, treatment: str) -> FactTable:
        """The insert's table: for a patient, what matters in an emergency (treatment,
        dose, next refill), then who to call."""
        p, labels = self.patient, self.labels
        facts = []
        if p is not None:
            facts += [Fact(labels["treatment"], treatment),
                      self.fact("daily_dose", self.daily_dose(variant))]
            if variant == "intrathecal":
                facts.append(self.fact("next_refill", self.date(p.next_refill)))
        return FactTable(labels["contacts"], tuple(facts + self.contacts_facts(variant)))

    def card_front(self, title: str) -> FactTable:
        """The EU implant card's essentials: who, which device, which drug and dose,
        where it was implanted, whom to call."""
        labels, p = self.labels, self.patient
        facts = (
            self.fact("patient_name", self.field("name")),
            self.fact("pump_model", self.field("pump_model")),
            self.fact("implant_date", self.date(p.implant_date) if p else ""),
            self.fact("concentration",
                 f"{number(p.concentration_ug_per_ml, self.lang)} µg/mL" if p else ""),
            self.fact("daily_dose", self.daily_dose("intrathecal")),
            self.fact("implanting_centre", self.field("implanting_centre", self.values["hospital"])),
            Fact(labels["pump_clinic_phone"], self.values["pump_clinic_phone"]),
            self.emergency(),
        )
        return FactTable(title, facts)
