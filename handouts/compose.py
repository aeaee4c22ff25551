"""Compose stage: content + hospital profile + (optional) patient -> one `Document`.

This is the only place that decides what a document says and in which order; the
writers lay it out. Placeholders are filled here, literally, after markup was parsed.
Every list of signs comes from the one table of signs and actions, printed with its
action right under it, so the leaflet, the insert and the card cannot disagree.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from .localise import colon, long_date, number, short_date, tablet_count
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
from .records.patient import INTAKE_SLOTS, Patient, PlanStep
from .sources.content import CallRef, LanguageContent, SignGroupRef, SignTable, SourceBlock
from .sources.loading import Sources
from .sources.profile import DoseRules

VARIANTS = ("oral", "intrathecal")
KINDS = ("leaflet", "insert", "card")
PLAN_ROWS = 8
NBSP = "\u00a0"


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
    facts = _FactBuilder(language, values, patient, sources.profile.dose_rules)
    signs = _SignPrinter(language.signs, variant, lang, card=kind == "card")
    if kind == "leaflet":
        warning = _fill_blocks((content.warning,), values) if content.warning else ()
        front = [Page((Box("info", "", (BulletList(content.preamble),)), *warning,
                       facts.treatment(variant)))]
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
    """The personal parts: filled from the patient, or left blank to write on by hand.

    A tablet patient's first page shows the dose to take now (the starting dose of a
    titration that has not begun, the current step of a plan under way, otherwise the
    daily dose) with its intakes in mg and tablets, and the target of a titration as a
    target, never as today's dose."""

    def __init__(self, language: LanguageContent, values: dict[str, str], patient: Patient | None,
                 rules: DoseRules):
        self.lang = language.lang
        self.labels = language.labels
        self.values = values
        self.patient = patient
        self.rules = rules

    def mg(self, value) -> str:
        return "" if value is None else f"{number(value, self.lang)} mg"

    def mg_per_day(self, value) -> str:
        return f"{self.mg(value)}/{self.labels['plan_day']}"

    def tablets_of(self, value) -> str:
        """A dose in tablets: `½ comprimé`, `1 ½ comprimé`, `2 comprimés` (`—` for none);
        a narrow cell (large print) breaks it before the word only."""
        if not value:
            return "—"
        count = value / self.rules.tablet_mg
        word = self.labels["tablet_one" if count <= 1 or count < 2 and self.lang != "en"
                           else "tablet_many"]
        return f"{tablet_count(count, self.lang)} {word}"  # may break before the word

    def intake(self, value) -> str:
        """One intake in mg and tablets: `15 mg = 1 ½ comprimé`."""
        if not value:
            return self.labels["no_intake"]
        return f"{self.mg(value).replace(' ', NBSP)}{NBSP}= {self.tablets_of(value)}"

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

    def high_dose(self, dose: str) -> str:
        """A confirmed dose above the usual range, said as such (tablets above 80 mg/day:
        given in hospital, under supervision)."""
        p = self.patient
        if p is None or not p.high_dose_confirmed:
            return dose
        note = "hospital_only" if p.variant == "oral" else "confirmed_high_dose"
        return f"{dose} ({self.labels[note]})"

    def concentration(self) -> str:
        """The pump's concentration; one the country does not use is said to be confirmed."""
        p = self.patient
        if p is None:
            return ""
        text = f"{number(p.concentration_ug_per_ml, self.lang)} µg/mL"
        return f"{text} ({self.labels['confirmed']})" if p.concentration_confirmed else text

    def pump_dose(self) -> str:
        p = self.patient
        return "" if p is None else self.high_dose(self.ug_per_day(p.daily_dose_ug))

    def current_step(self, steps: tuple[PlanStep, ...],
                     then: tuple[PlanStep, ...] = ()) -> int | None:
        """The index of the plan's step under way on the record's day (None: not begun,
        or a patient made without a day, whose plans are all to come). Once the plan
        that follows it (`then`: the taper after a titration) has begun, every step is
        done: the index is past the last one, so only one step is ever current."""
        if then and self.current_step(then) is not None:
            return len(steps)
        as_of = self.patient.as_of
        started = [i for i, s in enumerate(steps) if as_of is not None and s.start <= as_of]
        return started[-1] if started else None

    def dose_now(self) -> tuple[list[Fact], tuple]:
        """The lines saying the dose a tablet patient takes now (a starting dose with the
        day it starts), and that dose's intakes."""
        p = self.patient
        for steps in (p.taper, p.titration):
            current = self.current_step(steps) if steps else None
            if current is not None and steps[current].daily_dose_mg != p.daily_dose_mg:
                step = steps[current]
                return ([self.fact("current_dose", self.step_dose(step.daily_dose_mg)),
                         self.fact("plan_from", self.date(step.start))], step.intakes_mg)
        if p.titration and self.current_step(p.titration) is None:
            first = p.titration[0]
            return ([self.fact("starting_dose", self.mg_per_day(first.daily_dose_mg)),
                     self.fact("plan_from", self.date(first.start))], first.intakes_mg)
        return ([self.fact("daily_dose", self.high_dose(self.mg_per_day(p.daily_dose_mg)))],
                p.intake_doses_mg)

    def oral_dose_facts(self) -> list[Fact]:
        """The dose to take now, its intakes, and the target a titration leads to."""
        p = self.patient
        if p is None:
            return [self.fact("daily_dose", ""), *(self.fact(s, "") for s in INTAKE_SLOTS)]
        facts, intakes = self.dose_now()
        facts += [self.fact(slot, self.intake(dose)) for slot, dose in zip(INTAKE_SLOTS, intakes)]
        return facts + self.target()

    def step_dose(self, mg: Decimal, per_day: bool = True) -> str:
        """A plan step's daily dose (`per_day`: with "/jour", as outside the plan table,
        whose column says it); the last step of a taper says it is the stop."""
        dose = self.mg_per_day(mg) if per_day else self.mg(mg)
        return f"{dose} ({self.labels['plan_stop']})" if not mg else dose

    def target(self) -> list[Fact]:
        """Where a plan under way or to come leads: a titration's daily dose, or the stop
        a taper under way ends with, pointing to the plan on the next page."""
        p = self.patient
        current = self.current_step(p.titration, p.taper) if p.titration else None
        tapering = self.current_step(p.taper) if p.taper else None
        if p.titration and (current is None or current < len(p.titration) - 1):
            value = self.high_dose(self.mg_per_day(p.daily_dose_mg))
        elif tapering is not None and tapering < len(p.taper) - 1:
            value = self.step_dose(Decimal(0))
        else:
            return []
        return [self.fact("target_dose", f"{value} ({self.labels['see_plan']})")]

    def tablets(self) -> Fact:
        """The tablet the intakes are counted in: `10 mg, sécables (½ = 5 mg)`."""
        rules = self.rules
        value = self.mg(rules.tablet_mg)
        if rules.tablet_scored:
            value += f", {self.labels['scored']} (½ = {self.mg(rules.smallest_intake_mg)})"
        return Fact(self.labels["tablets"], value)

    def treatment(self, variant: str) -> FactTable:
        labels, p = self.labels, self.patient
        facts = [self.fact("patient_name", self.field("name")),
                 self.fact("prescriber", self.field("prescriber")),
                 *self.contacts_facts(variant)]
        if variant == "oral":
            facts += [*self.oral_dose_facts(), self.tablets()]
            return FactTable(labels["your_treatment"], tuple(facts))
        facts += [
            self.fact("daily_dose", self.pump_dose()),
            self.fact("pump_model", self.field("pump_model")),
            self.fact("concentration", self.concentration()),
            self.fact("reservoir", f"{number(p.reservoir_ml, self.lang)} mL" if p else ""),
            self.fact("next_refill", self.date(p.next_refill) if p else ""),
            self.fact("alarm_date", self.date(p.alarm_date) if p else ""),
        ]
        return FactTable(labels["your_pump"], tuple(facts))

    def step_rows(self, step: PlanStep, slots: list[int], status: str
                  ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A step in two rows: its date, daily dose and intakes in mg; then where the
        patient is (done, current, to come) and the same doses in tablets. Every cell
        holds one short line, so a patient's plan stamps onto its shared shape."""
        labels = self.labels
        daily = self.step_dose(step.daily_dose_mg, per_day=False)
        intakes = step.intakes_mg or (None,) * len(INTAKE_SLOTS)
        in_mg = (short_date(step.start, self.lang), daily,
                 *(self.mg(intakes[i]) or labels["no_intake"] for i in slots))
        in_tablets = (labels[status], self.tablets_of(step.daily_dose_mg),
                      *(self.tablets_of(intakes[i]) for i in slots))
        return in_mg, in_tablets

    def plan_table(self, title_label: str, steps: tuple[PlanStep, ...],
                   then: tuple[PlanStep, ...] = ()) -> Table:
        """A plan's steps: date, daily dose and each intake, in mg and in tablets, and
        which steps are done, which one is current and which are to come."""
        labels = self.labels
        if self.patient is None:
            header = (labels["plan_from"], labels["plan_daily_dose"])
            return Table(labels[title_label], header, (("", ""),) * PLAN_ROWS)
        slots = [i for i in range(len(INTAKE_SLOTS)) if any(
            s.intakes_mg and s.intakes_mg[i] for s in steps)]
        header = (labels["plan_from"], labels["plan_daily_dose"],
                  *(labels[INTAKE_SLOTS[i]] for i in slots))
        current = self.current_step(steps, then)
        rows = []
        for index, step in enumerate(steps):
            status = ("step_next" if current is None or index > current else
                      "step_current" if index == current else "step_done")
            rows += self.step_rows(step, slots, status)
        return Table(labels[title_label], header, tuple(rows), personal=True)

    def plans(self) -> tuple[Block, ...]:
        """The dose-plan page: the patient's dated plans, or blank tables to fill in."""
        p = self.patient
        if p is not None and not (p.titration or p.taper):
            return (Subsection(self.labels["dose_plan"],
                               (Paragraph((Run(self.labels["no_plan"]),)),)),)
        blocks: list[Block] = [Paragraph((Run(self.labels["plan_note"]),))]
        if p is None:
            blocks += [self.plan_table("titration_plan", ()), self.plan_table("taper_plan", ())]
        for label, steps, unusual, then in (() if p is None else (
                ("titration_plan", p.titration, p.titration_unusual, p.taper),
                ("taper_plan", p.taper, p.taper_unusual, ()))):
            if steps:
                blocks.append(self.plan_table(label, steps, then))
            if steps and unusual:
                blocks.append(Paragraph((Run(self.labels["plan_unusual"], bold=True),)))
        return (Subsection(self.labels["dose_plan"], tuple(blocks)),)

    def contacts(self, variant: str, treatment: str) -> FactTable:
        """The insert's table: for a patient, what matters in an emergency (treatment,
        dose, next refill), then who to call."""
        p, labels = self.patient, self.labels
        facts = []
        if p is not None:
            facts.append(Fact(labels["treatment"], treatment))
            if variant == "intrathecal":
                facts += [self.fact("daily_dose", self.pump_dose()),
                          self.fact("next_refill", self.date(p.next_refill))]
            else:
                facts += self.dose_now()[0]  # dated: the plan is in the leaflet
        return FactTable(labels["contacts"], tuple(facts + self.contacts_facts(variant)))

    def card_front(self, title: str) -> FactTable:
        """The EU implant card's essentials: who, which device, which drug and dose,
        where it was implanted, whom to call."""
        labels, p = self.labels, self.patient
        facts = (
            self.fact("patient_name", self.field("name")),
            self.fact("pump_model", self.field("pump_model")),
            self.fact("implant_date", self.date(p.implant_date) if p else ""),
            self.fact("concentration", self.concentration()),
            self.fact("daily_dose", self.pump_dose()),
            self.fact("implanting_centre", self.field("implanting_centre", self.values["hospital"])),
            Fact(labels["pump_clinic_phone"], self.values["pump_clinic_phone"]),
            self.emergency(),
        )
        return FactTable(title, facts)
