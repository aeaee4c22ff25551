"""Tablet doses a patient can take and dose plans a patient can follow, checked against
the facts (reference/baclofen-facts.md) and the hospital's tablet.

- Every intake is a whole or half tablet (a multiple of `DoseRules.smallest_intake_mg`):
  a daily dose or a written plan step that does not split evenly so is refused with the
  nearest split that does (to be written in: morning_mg..., or `DATE=10+5+10`); the steps
  of a computed plan are split that way by the tool, and every intake is printed.
- A titration starts at 15 mg/day at most and rises by at most 15 mg/day every 3 days or
  more; a taper lowers the dose by at most 15 mg/day and takes about a week or more.
  Faster plans need `confirm_unusual_values: yes` and are printed as confirmed.
- A plan may be under way: its past steps are done; the current step is the last one
  that has started. A taper whose stop (0 mg) is already past is refused: there is
  nothing left to print.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from . import fields
from .checker import RecordChecker
from .patient import SLOTS_BY_COUNT, PlanStep

ORAL_DOSE_MG = (Decimal(5), Decimal(120))
FIRST_TITRATION_MAX_MG = Decimal(15)
MAX_STEP_MG = Decimal(15)
MIN_TITRATION_INTERVAL_DAYS = 3
MIN_TAPER_DAYS = 7
# 120 mg/day (the most a tablet patient takes) down to 0 by half a 10 mg tablet (5 mg) a
# step is 24 steps: the slowest plan the facts allow at the highest dose.
MAX_PLAN_STEPS = 24
MAX_INTERVAL_DAYS = 365  # a sanity bound on days between plan steps, not a clinical rule
INTAKE_FIELDS = ("morning_mg", "noon_mg", "evening_mg", "bedtime_mg")
KIND_FIELDS = {"titration": ("titration_start", "titration_start_mg", "titration_step_mg",
                             "titration_every_days"),
               "taper": ("taper_start", "taper_step_mg", "taper_every_days")}


def amount_text(value: Decimal) -> str:
    """A dose as a message writes it: `8.33`, `10`, `7.5`."""
    return format(value.quantize(Decimal("0.01"), ROUND_HALF_UP).normalize(), "f")


def nearest_split(dose: Decimal, count: int, unit: Decimal) -> tuple[Decimal, ...]:
    """`dose` (a multiple of `unit`) in `count` intakes of whole units, as even as they
    can be; the larger ones go first to the morning, then the evening."""
    units, extra = divmod(int(dose / unit), count)
    order = [0, count - 1, *range(count - 2, 0, -1)][:count]
    bigger = set(order[:extra])
    return tuple((units + (i in bigger)) * unit for i in range(count))


def _split_text(parts: tuple[Decimal, ...], joiner: str = " + ") -> str:
    return joiner.join(amount_text(p) for p in parts)


class OralChecks:
    """The tablet part of a record: the intakes of the daily dose, and the plans."""

    def __init__(self, record: RecordChecker):
        self.record = record
        self.unit = record.rules.smallest_intake_mg
        tablet = f"{amount_text(record.rules.tablet_mg)} mg tablet"
        self.tablet = f"a whole or half {tablet}" if record.rules.tablet_scored else \
            f"a whole {tablet}"

    def whole_units(self, field: str, dose: Decimal, what: str = "") -> bool:
        """Whether a day's dose is whole or half tablets; if not, say the nearest doses."""
        if dose % self.unit == 0:
            return True
        low = dose - dose % self.unit
        nearest = [amount_text(d) for d in (low, low + self.unit) if d > 0]
        self.record.problem(field, f"{what}{amount_text(dose)} mg/day is not made of "
                            f"{self.tablet.removeprefix('a ')}s; nearest: "
                            f"{' or '.join(nearest)} mg/day")
        return False

    def even_split(self, field: str, dose: Decimal, count: int, what: str = "",
                   hint: str = "") -> tuple[Decimal | None, ...]:
        """The intakes of a day's dose split evenly (one per slot), or () with a problem
        that gives the nearest split into whole or half tablets."""
        if not self.whole_units(field, dose, what):
            return ()
        share = dose / count
        slots = SLOTS_BY_COUNT[count]
        if share % self.unit == 0:
            return tuple(share if i in slots else None for i in range(len(INTAKE_FIELDS)))
        split = nearest_split(dose, count, self.unit)
        self.record.problem(field, f"{what}{amount_text(dose)} mg/day over {count} intakes is "
                            f"{amount_text(share)} mg per intake, not {self.tablet}; nearest "
                            f"split: {_split_text(split)} mg", hint.format(split=_split_text(split, "+")))
        return ()

    def intakes(self, dose: Decimal | None, doses_per_day: int) -> tuple[Decimal | None, ...]:
        """The intakes of the daily dose: as given (morning_mg...) or split evenly."""
        record = self.record
        given = {f: record.get(f, fields.milligrams) for f in INTAKE_FIELDS if record.present(f)}
        for field, value in given.items():
            if value is not None and value % self.unit:
                record.problem(field, f"{amount_text(value)} mg is not {self.tablet} (a "
                               f"multiple of {amount_text(self.unit)} mg)")
        if dose is None:
            return ()
        if not given:
            return self.even_split("daily_dose_mg", dose, doses_per_day,
                                   hint="give morning_mg, noon_mg, evening_mg and bedtime_mg "
                                        "(e.g. {split})")
        split = tuple(given.get(f) for f in INTAKE_FIELDS)
        if None in given.values():
            return ()
        total = sum(v for v in split if v is not None)
        if total != dose:
            record.problem(INTAKE_FIELDS[0] if INTAKE_FIELDS[0] in given else next(iter(given)),
                           f"the intakes add up to {total} mg, not daily_dose_mg ({dose} mg)")
        taken = sum(1 for v in split if v)
        if record.present("doses_per_day") and taken != doses_per_day:
            record.problem("doses_per_day", f"{doses_per_day} intakes a day, but {taken} "
                           "intake doses are given")
        return split

    def plan(self, kind: str, dose: Decimal | None, doses_per_day: int
             ) -> tuple[tuple[PlanStep, ...], bool]:
        """A titration (up to `daily_dose_mg`) or taper (down to 0) plan, given as steps or
        computed from a start date, a step and an interval; and whether it is an unusual
        plan the prescriber confirmed."""
        record = self.record
        steps_field = f"{kind}_steps"
        computed = list(KIND_FIELDS[kind])
        given = [f for f in computed if record.present(f)]
        if record.present(steps_field):
            if given:
                record.problem(given[0], f"give either {steps_field} or {', '.join(computed)}",
                               "not both")
            steps = record.get(steps_field, fields.steps, default=())
        elif given:
            missing = [f for f in computed if f not in given]
            for field in missing:
                record.problem(field, f"required to compute the {kind} plan",
                               f"give all of {', '.join(computed)}")
            steps = self.computed_plan(kind, dose)  # also reports the given fields' problems
            if missing or dose is None:
                return (), False
        else:
            return (), False
        if not steps or dose is None:
            return (), False
        field = steps_field if record.present(steps_field) else computed[0]
        return self.check_plan(kind, field, steps, dose, doses_per_day)

    def computed_plan(self, kind: str, dose: Decimal | None) -> tuple[PlanStep, ...]:
        record = self.record
        start = record.get(f"{kind}_start", fields.date)
        step = record.get(f"{kind}_step_mg", fields.milligrams)
        every = record.get(f"{kind}_every_days", fields.bounded(1, MAX_INTERVAL_DAYS, "days"))
        first = record.get("titration_start_mg", fields.milligrams) if kind == "titration" \
            else None
        if None in (dose, start, step, every) or (kind == "titration" and first is None):
            return ()
        if step <= 0:
            record.problem(f"{kind}_step_mg", "must be more than 0")
            return ()
        if (dt.date.max - start).days < every * MAX_PLAN_STEPS:
            record.problem(f"{kind}_start", "the plan would run past the year 9999")
            return ()
        current = first if kind == "titration" else dose - step
        target = dose if kind == "titration" else Decimal(0)
        steps = []
        while len(steps) <= MAX_PLAN_STEPS:
            current = min(current, target) if kind == "titration" else max(current, target)
            steps.append(PlanStep(start + dt.timedelta(days=every * len(steps)), current))
            if current == target:
                break
            current = current + step if kind == "titration" else current - step
        return tuple(steps)

    def check_plan(self, kind: str, field: str, steps: tuple[PlanStep, ...], dose: Decimal,
                   doses_per_day: int) -> tuple[tuple[PlanStep, ...], bool]:
        record = self.record
        before = len(record.problems)
        unusual = False
        if len(steps) > MAX_PLAN_STEPS:
            record.problem(field, f"the {kind} plan has more than {MAX_PLAN_STEPS} steps",
                           "use larger steps or fewer dates")
        target = dose if kind == "titration" else Decimal(0)
        previous = PlanStep(steps[0].start, dose) if kind == "taper" else None
        for number, step in enumerate(steps, 1):
            if kind == "titration" and not ORAL_DOSE_MG[0] <= step.daily_dose_mg <= dose:
                record.problem(field, f"step {number}: {step.daily_dose_mg} mg/day is outside "
                               f"{ORAL_DOSE_MG[0]}-{dose} mg/day (daily_dose_mg is the target)")
            if previous is None:
                if step.daily_dose_mg > FIRST_TITRATION_MAX_MG:
                    unusual |= record.unusual(
                        field, f"the titration starts at {step.daily_dose_mg} mg/day, more than "
                        f"{FIRST_TITRATION_MAX_MG} mg/day",
                        f"start at {FIRST_TITRATION_MAX_MG} mg/day or less")
                previous = step
                continue
            change = (step.daily_dose_mg - previous.daily_dose_mg if kind == "titration"
                      else previous.daily_dose_mg - step.daily_dose_mg)
            gap = (step.start - previous.start).days
            if step is not steps[0] and gap <= 0:
                record.problem(field, f"step {number} ({step.start.isoformat()}) is not after "
                               f"step {number - 1} ({previous.start.isoformat()})",
                               "list the steps in date order")
            if change <= 0:
                direction = "increase" if kind == "titration" else "decrease"
                record.problem(field, f"step {number} does not {direction} the dose",
                               f"each {kind} step must {direction} it")
            elif change > MAX_STEP_MG:
                unusual |= record.unusual(
                    field, f"step {number} changes the dose by {change} mg/day, more than "
                    f"{MAX_STEP_MG} mg/day", f"use steps of at most {MAX_STEP_MG} mg/day")
            if (kind == "titration" and step is not steps[0]
                    and 0 < gap < MIN_TITRATION_INTERVAL_DAYS):
                unusual |= record.unusual(
                    field, f"step {number} comes {gap} days after the previous one",
                    f"increase at most every {MIN_TITRATION_INTERVAL_DAYS} days")
            previous = step
        if steps[-1].daily_dose_mg != target:
            record.problem(field, f"the {kind} plan ends at {steps[-1].daily_dose_mg} mg/day and "
                           f"does not reach {target} mg/day",
                           "the titration ends at daily_dose_mg; the taper ends at 0")
        elif kind == "taper":
            unusual |= self.check_taper_length(field, steps)
        split = self.step_intakes(field, steps, doses_per_day, field == KIND_FIELDS[kind][0])
        if len(record.problems) > before:
            return (), False
        return split, unusual

    def check_taper_length(self, field: str, steps: tuple[PlanStep, ...]) -> bool:
        """A taper of about a week or more; one that stopped before today is refused."""
        record = self.record
        if steps[-1].start < record.today:
            record.problem(field, f"the taper plan ended on {steps[-1].start.isoformat()}: "
                           "the treatment has stopped", "remove the taper plan, or give new dates")
        days = (steps[-1].start - steps[0].start).days
        if days < MIN_TAPER_DAYS:
            return record.unusual(field, f"the taper reaches 0 mg/day {days} days after its "
                                  f"first step, sooner than {MIN_TAPER_DAYS} days",
                                  "taper over 1 to 2 weeks")
        return False

    def step_intakes(self, field: str, steps: tuple[PlanStep, ...], doses_per_day: int,
                     computed: bool) -> tuple[PlanStep, ...]:
        """Each step with its intakes: as written (`10+5+10`); split evenly; or, in a plan
        the record asks to compute, split as evenly as whole and half tablets allow (the
        plan printed shows every intake). A written step that does not split evenly is
        refused with the nearest split, to be written in."""
        result = []
        for number, step in enumerate(steps, 1):
            what = f"step {number}: "
            if step.intakes_mg:
                intakes = self.written_intakes(field, step, doses_per_day, what)
            elif computed and self.whole_units(field, step.daily_dose_mg, what):
                split = dict(zip(SLOTS_BY_COUNT[doses_per_day],
                                 nearest_split(step.daily_dose_mg, doses_per_day, self.unit)))
                intakes = tuple(split.get(i) or None for i in range(len(INTAKE_FIELDS)))
            elif computed:
                intakes = ()
            else:
                intakes = self.even_split(field, step.daily_dose_mg, doses_per_day, what,
                                          f"write this step {step.start.isoformat()}={{split}}")
            if step.daily_dose_mg == 0:
                intakes = (None,) * len(INTAKE_FIELDS)
            result.append(PlanStep(step.start, step.daily_dose_mg, intakes))
        return tuple(result)

    def written_intakes(self, field: str, step: PlanStep, doses_per_day: int,
                        what: str) -> tuple[Decimal | None, ...]:
        record = self.record
        count = sum(1 for v in step.intakes_mg if v is not None)
        if count != doses_per_day:
            record.problem(field, f"{what}{count} intakes are written, but doses_per_day is "
                           f"{doses_per_day}", "write one dose per intake, 0 for none")
            return ()
        odd = [v for v in step.intakes_mg if v is not None and v % self.unit]
        if odd:
            record.problem(field, f"{what}{amount_text(odd[0])} mg is not {self.tablet} (a "
                           f"multiple of {amount_text(self.unit)} mg)")
            return ()
        return tuple(v if v else None for v in step.intakes_mg)

    def check_order(self, titration: tuple[PlanStep, ...], taper: tuple[PlanStep, ...]) -> None:
        """A taper starts after the titration has reached its target."""
        if titration and taper and taper[0].start <= titration[-1].start:
            field = "taper_steps" if self.record.present("taper_steps") else "taper_start"
            self.record.problem(field, f"the taper starts ({taper[0].start.isoformat()}) before "
                                f"the titration's last step ({titration[-1].start.isoformat()})",
                                "start the taper after the titration")
