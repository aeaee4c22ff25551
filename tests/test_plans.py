"""Dose plans a patient can follow: the dose to take now is never the target, plans are
checked against the facts, intakes are whole or half tablets, plans under way reprint."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handouts.compose import compose
from handouts.errors import InputError
from handouts.localise import long_date
from handouts.model import FactTable, Paragraph, Subsection, Table
from handouts.records.checker import RawRecord
from handouts.records.plans import nearest_split
from handouts.records.validate import validate_record
from handouts.sources.loading import load_sources
from handouts.sources.profile import DoseRules
from tests.conftest import pdf_text, run_cli
from tests.test_patient import write_record

TODAY = dt.date(2027, 1, 4)
SOURCES = load_sources()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def record(**values) -> RawRecord:
    """A record whose fields are all at line 3, column 5 of `r.yaml`."""
    return RawRecord({"id": "T1", "variant": "oral", **values},
                     lambda field: "r.yaml:3:5" if field else "r.yaml:1:1")


def problems(values: dict, rules: DoseRules | None = None) -> list[str]:
    with pytest.raises(InputError) as error:
        validate_record(record(**values), ["fr", "en"], TODAY, rules=rules)
    return [str(p) for p in error.value.problems]


def patient(values: dict, rules: DoseRules | None = None):
    return validate_record(record(**values), ["fr", "en"], TODAY, rules=rules)


def first_page(values: dict, lang: str = "fr", kind: str = "leaflet") -> dict[str, str]:
    """The personal table's lines (label: value) of a leaflet's first page or the insert."""
    document = compose(SOURCES, lang, "oral", kind, patient({**values, "lang": lang}))
    blocks = document.front[0].blocks if kind == "leaflet" else document.body
    table = next(b for b in blocks if isinstance(b, FactTable))
    return {fact.label: fact.value.replace("\u00a0", " ") for fact in table.facts}


def plan_blocks(values: dict, lang: str = "fr") -> tuple:
    document = compose(SOURCES, lang, "oral", "leaflet", patient({**values, "lang": lang}))
    subsection = document.front[1].blocks[0]
    assert isinstance(subsection, Subsection)
    return subsection.blocks


def rows(table: Table) -> list[tuple[str, ...]]:
    return [tuple(cell.replace("\u00a0", " ") for cell in row) for row in table.rows]


# The issue's record: a target of 60 mg/day reached from 15 mg/day by 15 every 4 days.
TITRATION = {"daily_dose_mg": 60, "doses_per_day": 3, "titration_start": day(3),
             "titration_start_mg": 15, "titration_step_mg": 15, "titration_every_days": 4}


@pytest.mark.parametrize("lang, expected", [
    ("fr", {"Dose de départ": "15 mg/jour", "À partir du": "7 janvier 2027",
            "Matin": "5 mg = ½ comprimé", "Midi": "5 mg = ½ comprimé",
            "Soir": "5 mg = ½ comprimé", "Coucher": "aucune prise",
            "Dose à atteindre": "60 mg/jour (voir le plan de doses)",
            "Comprimés": "10 mg, sécables (½ = 5 mg)"}),
    ("en", {"Starting dose": "15 mg/day", "From": "7 January 2027",
            "Morning": "5 mg = ½ tablet", "Midday": "5 mg = ½ tablet",
            "Evening": "5 mg = ½ tablet", "Bedtime": "none",
            "Target dose": "60 mg/day (see the dose plan)",
            "Tablets": "10 mg, scored (½ = 5 mg)"}),
])
def test_titration_first_page_shows_the_starting_dose_and_the_target_as_target(lang, expected):
    page = first_page(TITRATION, lang)
    for label, value in expected.items():
        assert page.get(label) == value, (label, page)
    assert not any(v.startswith("60") for k, v in page.items() if k != expected_target(lang))
    insert = first_page(TITRATION, lang, "insert")
    starting = "Dose de départ" if lang == "fr" else "Starting dose"
    assert insert[starting] == expected[starting]
    assert insert["À partir du" if lang == "fr" else "From"] == expected_start(lang)
    assert not any("60" in v for v in insert.values())  # the dose now, dated; no target


def expected_start(lang: str) -> str:
    return "7 janvier 2027" if lang == "fr" else "7 January 2027"


def expected_target(lang: str) -> str:
    return "Dose à atteindre" if lang == "fr" else "Target dose"


def test_titration_plan_rows_give_each_intake_in_mg_and_tablets():
    table = next(b for b in plan_blocks(TITRATION, "en") if isinstance(b, Table))
    assert table.header == ("From", "Dose per day", "Morning", "Midday", "Evening")
    assert rows(table) == [
        ("07/01/2027", "15 mg", "5 mg", "5 mg", "5 mg"),
        ("to come", "1½ tablets", "½ tablet", "½ tablet", "½ tablet"),
        ("11/01/2027", "30 mg", "10 mg", "10 mg", "10 mg"),
        ("to come", "3 tablets", "1 tablet", "1 tablet", "1 tablet"),
        ("15/01/2027", "45 mg", "15 mg", "15 mg", "15 mg"),
        ("to come", "4½ tablets", "1½ tablets", "1½ tablets", "1½ tablets"),
        ("19/01/2027", "60 mg", "20 mg", "20 mg", "20 mg"),
        ("to come", "6 tablets", "2 tablets", "2 tablets", "2 tablets")]


def test_titration_page_text_in_the_pdf(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime(2027, 1, 4, tzinfo=dt.UTC)
                                                    .timestamp())))
    for lang in ("fr", "en"):
        path = write_record(tmp_path, {"id": "T1", "variant": "oral", "lang": lang,
                                       **TITRATION}, f"{lang}.yaml")
        code, out, err = run_cli(capsys, "patient", str(path), "--out", str(tmp_path / lang),
                                 "--format", "pdf")
        assert (code, err) == (0, [])
        leaflet, insert = (pdf_text(tmp_path / line) for line in out)
        if lang == "fr":
            assert "Dose de départ 15 mg/jour À partir du 7 janvier 2027 Matin 5 mg = ½ " \
                   "comprimé" in leaflet
            assert "Dose à atteindre 60 mg/jour (voir le plan de doses)" in leaflet
            assert "Dose par jour" not in leaflet.split("Votre plan de doses")[0]
            # the insert's labels and values come as columns (its long labels wrap)
            for part in ("Dose de départ", "À partir du", "15 mg/jour", "7 janvier 2027"):
                assert part in insert
        else:
            assert "Starting dose 15 mg/day From 7 January 2027 Morning 5 mg = ½ tablet" \
                in leaflet
            assert "Target dose 60 mg/day (see the dose plan)" in leaflet
            for part in ("Starting dose", "From", "15 mg/day", "7 January 2027"):
                assert part in insert
        assert "60 mg" not in insert


FAST_TAPER = {"daily_dose_mg": 45, "taper_start": day(10), "taper_step_mg": 15,
              "taper_every_days": 1}


def test_a_too_fast_taper_is_refused_where_it_is():
    assert problems(FAST_TAPER) == [
        ("r.yaml:3:5: taper_start: the taper reaches 0 mg/day 2 days after its first step, "
        "sooner than 7 days (taper over 1 to 2 weeks; if this is intended, add "
        "confirm_unusual_values: yes)")]


def test_a_too_fast_taper_with_confirmation_is_printed_as_confirmed():
    confirmed = {**FAST_TAPER, "confirm_unusual_values": "yes"}
    assert patient(confirmed).taper_unusual
    blocks = plan_blocks(confirmed)
    assert isinstance(blocks[-1], Paragraph)
    assert blocks[-1].text == "Ce plan va plus vite que d'habitude : votre médecin l'a confirmé."
    assert plan_blocks(confirmed, "en")[-1].text == \
        "This plan goes faster than usual: your doctor has confirmed it."


@pytest.mark.parametrize("values, message", [
    ({"titration_steps": f"{day(3)}=30; {day(7)}=45"},
     ("titration_steps: the titration starts at 30 mg/day, more than 15 mg/day (start at 15 "
     "mg/day or less; if this is intended, add confirm_unusual_values: yes)")),
    ({"titration_start": day(3), "titration_start_mg": 45, "titration_step_mg": 15,
      "titration_every_days": 4},
     ("titration_start: the titration starts at 45 mg/day, more than 15 mg/day (start at 15 "
     "mg/day or less; if this is intended, add confirm_unusual_values: yes)")),
    ({"titration_steps": f"{day(3)}=15; {day(5)}=30; {day(9)}=45"},
     ("titration_steps: step 2 comes 2 days after the previous one (increase at most every 3 "
     "days; if this is intended, add confirm_unusual_values: yes)")),
])
def test_titrations_faster_than_the_facts_need_confirmation(values, message):
    assert problems({"daily_dose_mg": 45, **values}) == [f"r.yaml:3:5: {message}"]
    assert patient({"daily_dose_mg": 45, **values, "confirm_unusual_values": "yes"}
                   ).titration_unusual


def test_a_slow_taper_from_80_by_5_mg_a_week_is_accepted():
    computed = patient({"daily_dose_mg": 80, "doses_per_day": 4, "taper_start": day(1),
                        "taper_step_mg": 5, "taper_every_days": 7})
    assert [s.daily_dose_mg for s in computed.taper] == [Decimal(75 - 5 * i) for i in range(16)]
    assert not computed.taper_unusual
    # a computed step that does not split evenly is split in whole and half tablets
    assert computed.taper[0].intakes_mg == (Decimal(20), Decimal(15), Decimal(20), Decimal(20))
    assert computed.taper[-2].intakes_mg == (Decimal(5), None, None, None)
    written = "; ".join(
        f"{day(7 * i)}=" + "+".join(str(p) for p in nearest_split(Decimal(75 - 5 * i), 4,
                                                                   Decimal(5)))
        for i in range(15)) + f"; {day(105)}=0"
    taper = patient({"daily_dose_mg": 80, "doses_per_day": 4, "taper_steps": written}).taper
    assert [(s.daily_dose_mg, s.intakes_mg) for s in taper] == \
        [(s.daily_dose_mg, s.intakes_mg) for s in computed.taper]


UNDER_WAY = {"daily_dose_mg": 45, "titration_steps": f"{day(-8)}=15; {day(-4)}=30; {day(2)}=45"}


def test_a_plan_under_way_reprints_with_done_and_current_steps():
    table = next(b for b in plan_blocks(UNDER_WAY) if isinstance(b, Table))
    assert [row[:2] for row in rows(table)] == [
        ("27/12/2026", "15 mg"), ("faite", "1 ½ comprimé"),
        ("31/12/2026", "30 mg"), ("en cours", "3 comprimés"),
        ("06/01/2027", "45 mg"), ("à venir", "4 ½ comprimés")]
    page = first_page(UNDER_WAY)
    assert page["Dose actuelle"] == "30 mg/jour"
    assert page["Matin"] == "10 mg = 1 comprimé"
    assert page["Dose à atteindre"] == "45 mg/jour (voir le plan de doses)"
    english = first_page(UNDER_WAY, "en")
    assert english["Current dose"] == "30 mg/day" and english["Morning"] == "10 mg = 1 tablet"
    assert [row[0] for row in rows(next(b for b in plan_blocks(UNDER_WAY, "en")
                                        if isinstance(b, Table)))][1::2] == [
        "done", "current", "to come"]


def test_a_finished_titration_shows_the_daily_dose_and_a_stopped_taper_is_refused():
    done = {"daily_dose_mg": 45, "titration_steps": f"{day(-8)}=15; {day(-4)}=30; {day(-1)}=45"}
    page = first_page(done)
    assert page["Dose par jour"] == "45 mg/jour" and "Dose à atteindre" not in page
    stopped = {"daily_dose_mg": 15, "doses_per_day": 1, "taper_steps": f"{day(-10)}=5; {day(-2)}=0"}
    assert problems(stopped) == [
        (f"r.yaml:3:5: taper_steps: the taper plan ended on {day(-2)}: the treatment has "
        "stopped (remove the taper plan, or give new dates)")]


@settings(max_examples=60, deadline=None)
@given(intake=st.integers(1, 8).map(lambda n: Decimal(5 * n)),
       count=st.integers(1, 3))
def test_every_multiple_of_5_mg_prints_its_tablets(intake, count):
    page = first_page({"daily_dose_mg": intake * count, "doses_per_day": count,
                       "confirm_unusual_values": "yes"})
    tablets = intake / 10
    whole, half = divmod(tablets, 1)
    amount = ("½" if not whole else f"{whole}\u00a0½".replace("\u00a0", " ")) if half \
        else f"{whole}"
    word = "comprimé" if tablets < 2 else "comprimés"
    assert page["Matin"] == f"{intake} mg = {amount} {word}"


@settings(max_examples=60, deadline=None)
@given(dose=st.integers(10, 240).map(lambda n: Decimal(n) / 2).filter(lambda d: d % 5))
def test_every_dose_not_made_of_half_tablets_is_refused_with_the_nearest(dose):
    low = dose - dose % 5
    text = f"{low.normalize():f} or {(low + 5).normalize():f}" if low else \
        f"{(low + 5).normalize():f}"
    found = problems({"daily_dose_mg": dose, "confirm_unusual_values": "yes"})
    assert f"r.yaml:3:5: daily_dose_mg: {dose.normalize():f} mg/day is not made of whole or half " \
           f"10 mg tablets; nearest: {text} mg/day" in found


@settings(max_examples=60, deadline=None)
@given(units=st.integers(1, 24), count=st.integers(2, 4))
def test_uneven_doses_are_refused_with_a_split_of_half_tablets(units, count):
    dose = Decimal(5 * units)
    split = nearest_split(dose, count, Decimal(5))
    assert sum(split) == dose and max(split) - min(split) <= 5
    if units % count == 0:
        return
    share = (dose / count).quantize(Decimal("0.01"))
    shown = format(share.normalize(), "f")
    found = problems({"daily_dose_mg": dose, "doses_per_day": count,
                      "confirm_unusual_values": "yes"})
    assert found[0] == (
        f"r.yaml:3:5: daily_dose_mg: {dose} mg/day over {count} intakes is {shown} mg per "
        f"intake, not a whole or half 10 mg tablet; nearest split: "
        f"{' + '.join(str(p) for p in split)} mg (give morning_mg, noon_mg, evening_mg and "
        f"bedtime_mg (e.g. {'+'.join(str(p) for p in split)}))")


def test_the_issue_example_25_mg_over_3_intakes_and_its_written_split():
    assert problems({"daily_dose_mg": 45, "taper_steps":
                     f"{day(1)}=30; {day(5)}=25; {day(9)}=15; {day(13)}=0"}) == [
        ("r.yaml:3:5: taper_steps: step 2: 25 mg/day over 3 intakes is 8.33 mg per intake, not "
        f"a whole or half 10 mg tablet; nearest split: 10 + 5 + 10 mg (write this step "
        f"{day(5)}=10+5+10)")]
    taper = patient({"daily_dose_mg": 45, "taper_steps":
                     f"{day(1)}=30; {day(5)}=10+5+10; {day(9)}=15; {day(13)}=0"}).taper
    assert taper[1].intakes_mg == (Decimal(10), Decimal(5), Decimal(10), None)
    table = next(b for b in plan_blocks({"daily_dose_mg": 45, "taper_steps":
                 f"{day(1)}=30; {day(5)}=10+5+10; {day(9)}=15; {day(13)}=0"})
                 if isinstance(b, Table))
    assert rows(table)[2:4] == [("09/01/2027", "25 mg", "10 mg", "5 mg", "10 mg"),
                                ("à venir", "2 ½ comprimés", "1 comprimé", "½ comprimé",
                                 "1 comprimé")]


def test_unscored_tablets_allow_whole_tablets_only():
    rules = DoseRules(tablet_mg=Decimal(10), tablet_scored=False)
    assert problems({"daily_dose_mg": 15, "doses_per_day": 1}, rules) == [
        ("r.yaml:3:5: daily_dose_mg: 15 mg/day is not made of whole 10 mg tablets; nearest: "
        "10 or 20 mg/day")]


PUMP = {"variant": "intrathecal", "daily_dose_ug": 250, "reservoir_ml": 20,
        "next_refill": day(30), "alarm_date": day(33), "pump_model": "SynchroMed II"}


def test_a_us_concentration_needs_confirmation_in_france_only():
    us = {**PUMP, "concentration_ug_per_ml": 1000, "daily_dose_ug": 500}
    assert problems(us) == [
        ("r.yaml:3:5: concentration_ug_per_ml: 1000 µg/mL is not a concentration used in FR (in "
        "FR: 50, 500, 2000 µg/mL; if this is intended, add confirm_unusual_values: yes)")]
    assert patient({**us, "confirm_unusual_values": "yes"}).concentration_ug_per_ml == 1000
    assert patient(us, DoseRules(country="US")).concentration_ug_per_ml == 1000


@pytest.mark.parametrize("lang, said", [("fr", "1 000 µg/mL (confirmée par le médecin)"),
                                         ("en", "1,000 µg/mL (confirmed by the doctor)")])
def test_a_confirmed_concentration_is_printed_as_confirmed(capsys, tmp_path, monkeypatch, lang,
                                                          said):
    """The leaflet's pump table and the card say the unusual strength was confirmed; the
    card still fits (each document is measured when built)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime(2027, 1, 4, tzinfo=dt.UTC)
                                                    .timestamp())))
    path = write_record(tmp_path, {"id": "C1", "lang": lang, **PUMP, "daily_dose_ug": 500,
                                   "concentration_ug_per_ml": 1000,
                                   "confirm_unusual_values": "yes"})
    code, out, err = run_cli(capsys, "patient", str(path), "--out", str(tmp_path / "o"),
                             "--format", "pdf")
    assert (code, err) == (0, [])
    leaflet, _, card = (pdf_text(tmp_path / line) for line in out)
    assert said in leaflet and said in card
    usual = patient({**PUMP, "concentration_ug_per_ml": 500})
    assert first_pump_concentration(usual, lang) == "500 µg/mL"


def first_pump_concentration(record, lang: str) -> str:
    document = compose(SOURCES, lang, "intrathecal", "leaflet", record)
    table = next(b for b in document.front[0].blocks if isinstance(b, FactTable))
    label = SOURCES.languages[lang].labels["concentration"]
    return next(f.value for f in table.facts if f.label == label)


@pytest.mark.parametrize("lang, expected", [
    ("fr", "100 mg/jour (dose élevée, donnée seulement à l'hôpital, sous surveillance)"),
    ("en", "100 mg/day (high dose, given only in hospital, under supervision)")])
def test_above_80_mg_a_day_the_documents_say_hospital_supervision(lang, expected):
    values = {"daily_dose_mg": 100, "doses_per_day": 4, "confirm_unusual_values": "yes"}
    label = "Dose par jour" if lang == "fr" else "Dose per day"
    assert first_page(values, lang)[label] == expected
    assert first_page(values, lang, "insert")[label] == expected
    assert problems({"daily_dose_mg": 100, "doses_per_day": 4}) == [
        ("r.yaml:3:5: daily_dose_mg: 100 mg/day is above the usual 80 mg/day (if this is "
        "intended, add confirm_unusual_values: yes)")]


BAD_PLAN_VALUES = {"_start": ("2027-02-29", "is not a day of the calendar"),
                   "_mg": ("7 5", "is not a number"),
                   "_days": ("0x4", "'0x4': write the number alone")}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["titration", "taper"]), st.data())
def test_a_partly_given_computed_plan_reports_every_field(kind, data):
    """A computed plan with fields missing still says what is wrong with those given:
    every problem of a record in one run."""
    from handouts.records.plans import KIND_FIELDS
    fields = KIND_FIELDS[kind]
    given_fields = data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=len(fields) - 1,
                                      unique=True))
    bad = data.draw(st.sampled_from(given_fields))
    suffix = next(s for s in BAD_PLAN_VALUES if bad.endswith(s))
    text, message = BAD_PLAN_VALUES[suffix]
    values = {field: (text if field == bad else GOOD_PLAN_VALUES[field]) for field in given_fields}
    found = problems({"daily_dose_mg": 30, **values})
    assert [p for p in found if p.startswith(f"r.yaml:3:5: {bad}: ") and message in p], found
    for field in fields:
        if field not in given_fields:
            assert (f"r.yaml:3:5: {field}: required to compute the {kind} plan (give all of "
                    f"{', '.join(fields)})") in found


GOOD_PLAN_VALUES = {"titration_start": day(3), "titration_start_mg": 15, "titration_step_mg": 5,
                    "titration_every_days": 4, "taper_start": day(3), "taper_step_mg": 5,
                    "taper_every_days": 4}


BOTH_PLANS = {"daily_dose_mg": 45, "doses_per_day": 3, "titration_start": day(0),
              "titration_start_mg": 15, "titration_step_mg": 15, "titration_every_days": 4,
              "taper_steps": f"{day(60)}=30; {day(64)}=15; {day(68)}=5+0+5; {day(72)}=0"}


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=-5, max_value=71), st.sampled_from(["fr", "en"]))
def test_one_step_is_current_and_page_one_gives_its_dose_and_day(offset, lang):
    """Whatever the day a record with both plans is printed, at most one step of the two
    tables is current, and page 1 and the insert give that step's dose with its first day
    (a titration's last step is done once the taper has begun)."""
    as_of = TODAY + dt.timedelta(days=offset)
    record_ = validate_record(record(**BOTH_PLANS, lang=lang), ["fr", "en"], as_of)
    document = compose(SOURCES, lang, "oral", "leaflet", record_)
    labels = SOURCES.languages[lang].labels
    tables = [b for b in document.front[1].blocks[0].blocks if isinstance(b, Table)]
    current = [(rows[i - 1], row) for table in tables for rows in [table.rows]
               for i, row in enumerate(rows) if row[0] == labels["step_current"]]
    steps = [*record_.titration, *record_.taper]
    started = [s for s in steps if s.start <= as_of]
    assert len(current) == (1 if started else 0)
    page = {f.label: f.value for f in document.front[0].blocks[-1].facts}
    insert = compose(SOURCES, lang, "oral", "insert", record_)
    table = next(b for b in insert.body if isinstance(b, FactTable))
    for facts in (page, {f.label: f.value for f in table.facts}):
        if started and started[-1].daily_dose_mg != 45:
            (dose_row, _), = current
            assert facts[labels["current_dose"]].startswith(dose_row[1].split(" ")[0])
            assert facts[labels["plan_from"]] == long_date(started[-1].start, lang)
