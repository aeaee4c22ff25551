"""The automatic checks of a translated string: unit words and symbols per language,
numbers paired with their units in order, lost negations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handouts.translate.rules import (
    UNIT_WORDS,
    compare_text,
    has_negation,
    quantities,
    review_warnings,
)


def errors(french: str, translated: str, lang: str = "en") -> list[str]:
    return compare_text(french, translated, lang)[0]


@pytest.mark.parametrize("french, translated", [
    ("La dose est de 50 microgrammes.", "The dose is 50 micrograms."),
    ("La dose est de 50 microgrammes.", "The dose is 50 µg."),
    ("La dose est de 50 µg.", "The dose is 50 mcg."),
    ("Prenez 5 mg par jour.", "Take 5 milligrams a day."),
    ("Le réservoir contient 20 mL.", "The reservoir holds 20 millilitres."),
    ("tous les 3 à 4 jours", "every 3 to 4 days"),
    ("pendant 2 semaines, puis 1 mois", "for 2 weeks, then 1 month"),
    ("mise à jour", "last revised"),
    ("mettre fin à vos jours", "ending your life"),
    ("entre 50 et 100 µg", "between 50 µg and 100 µg"),
    ("de 50 µg à 100 µg", "50 to 100 µg"),
    ("Dans la vie de tous les jours", "In everyday life"),
    ("S'il est presque l'heure de la prise", "If it is nearly time for the dose"),
])
def test_faithful_units_pass(french, translated):
    assert errors(french, translated) == []


@pytest.mark.parametrize("french, translated, message", [
    ("La dose est de 50 microgrammes.", "The dose is 50 milligrams.",
     "units differ from the French: French has µg, translation has mg"),
    ("La dose est de 50 µg.", "The dose is 50 milligrams.",
     "units differ from the French: French has µg, translation has mg"),
    ("tous les 3 à 4 jours", "every 3 to 4 hours",
     "units differ from the French: French has day, translation has hour"),
    ("pendant 2 semaines", "for 2 months",
     "units differ from the French: French has week, translation has month"),
    ("50 µg, puis 100 µg", "100 µg, then 50 µg",
     ("numbers and their units (in order) differ from the French: French has 50 µg, 100 µg, "
     "translation has 100 µg, 50 µg")),
    ("50 µg pendant 2 jours", "50 days for 2 µg",
     ("numbers and their units (in order) differ from the French: French has 50 µg, 2 day, "
     "translation has 50 day, 2 µg")),
    ("50 mg et 100 mg", "50 and 100",
     "units differ from the French: French has mg, translation has none"),
])
def test_changed_units_pairs_and_order_are_errors(french, translated, message):
    assert errors(french, translated) == [message]


def test_units_are_read_in_the_translations_language():
    assert errors("tous les 3 jours", "a cada 3 dias", "pt") == []
    assert errors("tous les 3 jours", "a cada 3 horas", "pt") == [
        "units differ from the French: French has day, translation has hour"]
    # An English unit word in a Portuguese text is not a Portuguese unit.
    assert errors("tous les 3 jours", "a cada 3 days", "pt") == [
        "units differ from the French: French has day, translation has none"]


NEGATION_WARNING = ("the French says no/not/never/without, the translation has no negation "
                    "(check the meaning)")


@pytest.mark.parametrize("french, translated, lost", [
    ("N'arrêtez jamais le traitement d'un coup.", "Stop the treatment all at once.", True),
    ("N'arrêtez jamais le traitement d'un coup.", "Never stop the treatment all at once.",
     False),
    ("Ne prenez pas d'alcool.", "Drink alcohol.", True),
    ("Ne prenez pas d'alcool.", "Do not drink alcohol.", False),
    ("Ne prenez pas d'alcool.", "Don't drink alcohol.", False),
    ("Jamais seul.", "Always alone.", True),
    ("Sans ordonnance.", "Without a prescription.", False),
    ("Sans ordonnance.", "With a prescription.", True),
    ("Aucun effet.", "No effect.", False),
    ("Ne prenez que 2 comprimés.", "Take only 2 tablets.", False),
    ("Augmentez pas à pas.", "Increase step by step.", False),
    ("Si la pompe ne donne plus de baclofène", "If the pump stops giving baclofen", False),
    ("Sans réponse : appelez le 15.", "If nobody answers: call 15.", False),
])
def test_a_lost_negation_is_a_warning_for_the_reviewer(french, translated, lost):
    assert (review_warnings(french, translated, "en") == [NEGATION_WARNING]) is lost
    assert compare_text(french, translated, "en") == ([], [])


def test_negation_words_per_language():
    assert has_negation("Nunca pare de repente.", "pt") is True
    assert has_negation("Pare de repente.", "pt") is False
    assert has_negation("Stop suddenly.", "xx") is None


# Generated variants: sentences of quantities, written with any of each unit's words.
FRENCH_WORDS = {unit: (*forms, *(symbol for symbol in ("µg", "mg", "mL") if symbol == unit))
                for unit, forms in UNIT_WORDS["fr"].items() if unit != "year"}
ENGLISH_WORDS = {unit: (*forms, *(symbol for symbol in ("µg", "mcg", "mg", "mL", "ml")
                                  if symbol.replace("mcg", "µg").replace("ml", "mL") == unit))
                 for unit, forms in UNIT_WORDS["en"].items() if unit != "year"}
QUANTITIES = st.lists(st.tuples(st.integers(1, 999), st.sampled_from(sorted(FRENCH_WORDS))),
                      min_size=1, max_size=4)


def sentences(data, items: list[tuple[int, str]]) -> tuple[str, str]:
    """The French and a faithful English sentence naming `items` in order."""
    french = ", puis ".join(f"{n} {data.draw(st.sampled_from(FRENCH_WORDS[u]))}" for n, u in items)
    english = ", then ".join(f"{n} {data.draw(st.sampled_from(ENGLISH_WORDS[u]))}"
                             for n, u in items)
    return f"Dose : {french}.", f"Dose: {english}."


@settings(max_examples=150, deadline=None)
@given(QUANTITIES, st.data())
def test_generated_faithful_translations_pass(items, data):
    french, english = sentences(data, items)
    assert errors(french, english) == []
    assert [(q.number, q.unit) for q in quantities(english, "en")] == \
        [(str(n), u) for n, u in items]


@settings(max_examples=150, deadline=None)
@given(QUANTITIES, st.data())
def test_generated_swaps_and_unit_changes_are_errors(items, data):
    french = sentences(data, items)[0]
    changed = list(items)
    if len(set(items)) > 1 and data.draw(st.booleans()):
        first, second = data.draw(st.sampled_from(
            [(i, j) for i in range(len(items)) for j in range(len(items)) if items[i] != items[j]]))
        changed[first], changed[second] = changed[second], changed[first]
    else:
        index = data.draw(st.integers(0, len(items) - 1))
        other = data.draw(st.sampled_from([u for u in sorted(FRENCH_WORDS)
                                           if u != items[index][1]]))
        changed[index] = (items[index][0], other)
    english = sentences(data, changed)[1]
    assert errors(french, english), (french, english)
