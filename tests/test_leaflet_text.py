"""The leaflets carry what the official notices require (facts sheet, "From the official
notices"), in both formats and both languages: storage, wheat starch, the missed-dose
rule, side-effect reporting, frequency words, the pump's interactions and units, and the
never-stop warning on the first page."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handouts.errors import InputError
from handouts.sources.content import load_language
from tests.conftest import docx_paragraphs, normalise, pdf_text
from tests.test_layouts import generic_pdf, sample_pdf

REPORTING_SITE = "signalement.social-sante.gouv.fr"

# Distinctive words of each new piece of information, per leaflet and language.
REQUIRED = {
    ("oral", "fr"): {
        "preamble": "un effet indésirable qui n'est pas mentionné dans cette notice",
        "storage": "ne dépassant pas 25 °C, à l'abri de l'humidité",
        "children": "hors de la vue et de la portée des enfants",
        "expiry": "après la date de péremption",
        "disposal": "Ne jetez pas les médicaments dans l'évier, les toilettes ou la poubelle",
        "wheat starch": "61 mg d'amidon de blé",
        "coeliac": "maladie cœliaque peuvent le prendre",
        "wheat allergy": "vous êtes allergique au blé",
        "missed dose": "Prenez la dose oubliée dès que vous y pensez",
        "no double dose": "Ne prenez jamais 2 doses à la fois",
        "very common": "Très fréquents (plus d'1 personne sur 10)",
        "reporting": "centres régionaux de pharmacovigilance",
        "reporting site": REPORTING_SITE,
        "conditions": "une maladie du foie",
        "urine": "des difficultés pour uriner",
        "interactions": "des médicaments contre la maladie de Parkinson",
        "meals": "pendant les repas, avec un peu de liquide",
        "usual start": "5 mg (un demi-comprimé de 10 mg) 3 fois par jour",
        "usual dose": "30 à 75 mg par jour",
        "reactions": "vos réactions peuvent être plus lentes",
        "amber box": "Effets à signaler vite",
    },
    ("oral", "en"): {
        "preamble": "This includes any side effects not listed in this leaflet",
        "storage": "no higher than 25 °C, away from moisture",
        "children": "out of the sight and reach of children",
        "expiry": "after the expiry date",
        "disposal": "Do not throw medicines down the sink, down the toilet or in the bin",
        "wheat starch": "61 mg of wheat starch",
        "coeliac": "People who have coeliac disease can take it",
        "wheat allergy": "you are allergic to wheat",
        "missed dose": "Take the missed dose as soon as you remember",
        "no double dose": "Never take 2 doses at once",
        "very common": "Very common (more than 1 in 10 people)",
        "reporting": "regional pharmacovigilance centres",
        "reporting site": REPORTING_SITE,
        "conditions": "liver disease",
        "urine": "problems passing urine",
        "interactions": "medicines for Parkinson's disease",
        "meals": "during meals, with a little liquid",
        "usual start": "5 mg (half a 10 mg tablet) 3 times a day",
        "usual dose": "30 to 75 mg a day",
        "reactions": "your reactions may be slower",
        "amber box": "Side effects to report quickly",
    },
    ("intrathecal", "fr"): {
        "preamble": "un effet indésirable qui n'est pas mentionné dans cette notice",
        "alcohol": "L'alcool peut vous rendre plus somnolent",
        "driving": "Faites attention si vous conduisez ou si vous utilisez des machines",
        "interactions": "des médicaments qui agissent sur les reins, comme l'ibuprofène",
        "antihistamines": "des antihistaminiques",
        "reporting": "centres régionaux de pharmacovigilance",
        "reporting site": REPORTING_SITE,
        "children": "hors de la vue et de la portée des enfants",
    },
    ("intrathecal", "en"): {
        "preamble": "This includes any side effects not listed in this leaflet",
        "alcohol": "Alcohol can make you more drowsy or dizzy",
        "driving": "Take care if you drive or use machines",
        "interactions": "medicines that act on the kidneys, such as ibuprofen",
        "antihistamines": "antihistamines",
        "reporting": "regional pharmacovigilance centres",
        "reporting site": REPORTING_SITE,
        "children": "out of the sight and reach of children",
    },
}

FIRST_PAGE_WARNING = {
    ("oral", "fr"): "Ne jamais arrêter le baclofène brutalement",
    ("oral", "en"): "Never stop baclofen suddenly",
    ("intrathecal", "fr"): "Ne laissez jamais votre pompe se vider",
    ("intrathecal", "en"): "Never let your pump run empty",
}
SECTION_1 = {"fr": "1. Qu'est-ce que le baclofène", "en": "1. What baclofen is"}
SECTION_6 = {"fr": "6. Contenu de l'emballage", "en": "6. Contents of the pack"}
MICROGRAM = {"fr": "Le symbole µg veut dire microgramme", "en": "The symbol µg means microgram"}


def docx_text(path: Path) -> str:
    return normalise(" ".join(p.text for p in docx_paragraphs(path)))


def first_page_text(path: Path) -> str:
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-f", "1", "-l", "1", str(path), "-"],
                            check=True, capture_output=True, text=True)
    return normalise(result.stdout)


def leaflet_text(folder: Path, variant: str, lang: str, fmt: str) -> str:
    path = folder / lang / f"baclofen-{variant}-leaflet.{fmt}"
    return pdf_text(path) if fmt == "pdf" else docx_text(path)


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
@pytest.mark.parametrize(("variant", "lang"), list(REQUIRED))
def test_leaflet_has_the_official_notice_information(built, variant, lang, fmt):
    text = leaflet_text(built, variant, lang, fmt)
    missing = {what: words for what, words in REQUIRED[(variant, lang)].items()
               if normalise(words) not in text}
    assert missing == {}


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pump_section_6_gives_strengths_in_micrograms_and_explains_the_symbol(built, lang, fmt):
    text = leaflet_text(built, "intrathecal", lang, fmt)
    section_6 = text[text.index(SECTION_6[lang]):]
    assert "mg/mL" not in section_6
    assert "50 µg/mL" in section_6 and "500 µg/mL" in section_6 and "2000 µg/mL" in section_6
    assert MICROGRAM[lang] in section_6


@pytest.mark.parametrize("layout", ["standard", "large-print"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_personal_pump_leaflet_uses_the_same_unit_in_its_table_and_in_section_6(samples, lang,
                                                                                layout):
    """The personal table (page 1, or page 2 in large print) gives the concentration in
    µg/mL; section 6 gives the strengths in the same unit, never in mg/mL."""
    text = pdf_text(sample_pdf(samples, lang, "intrathecal", "leaflet", layout))
    front = text[:text.index(SECTION_1[lang])]
    section_6 = text[text.index(SECTION_6[lang]):]
    assert "500 µg/mL" in front
    assert "500 µg/mL" in section_6 and "mg/mL" not in section_6


@pytest.mark.parametrize("layout", ["standard", "large-print"])
@pytest.mark.parametrize(("variant", "lang"), list(FIRST_PAGE_WARNING))
def test_generic_leaflet_warns_on_page_1(built, built_large_print, variant, lang, layout):
    folder = built if layout == "standard" else built_large_print
    path = generic_pdf(folder, lang, variant, "leaflet", layout)
    assert FIRST_PAGE_WARNING[(variant, lang)] in first_page_text(path)


@pytest.mark.parametrize("layout", ["standard", "large-print"])
@pytest.mark.parametrize(("variant", "lang"), list(FIRST_PAGE_WARNING))
def test_personal_leaflet_warns_on_page_1(samples, variant, lang, layout):
    path = sample_pdf(samples, lang, variant, "leaflet", layout)
    assert FIRST_PAGE_WARNING[(variant, lang)] in first_page_text(path)


@pytest.mark.parametrize(("variant", "lang"), list(FIRST_PAGE_WARNING))
def test_docx_warning_follows_the_preamble_before_the_treatment_table(built, variant, lang):
    texts = [normalise(p.text) for p in docx_paragraphs(
        built / lang / f"baclofen-{variant}-leaflet.docx")]
    table_title = {"oral": {"fr": "Votre traitement", "en": "Your treatment"},
                   "intrathecal": {"fr": "Votre pompe et votre traitement",
                                   "en": "Your pump and your treatment"}}[variant][lang]
    preamble_end = next(i for i, t in enumerate(texts) if "Voir la rubrique 4" in t
                        or "See section 4" in t)
    warning = texts.index(FIRST_PAGE_WARNING[(variant, lang)])
    assert preamble_end < warning < texts.index(table_title)


WARNING_BLOCK = '    warning:\n      box: "warning"\n'
NOT_A_RED_BOX = {
    "text": '    warning: "N\'arrêtez jamais."\n    other:\n      box: "warning"\n',
    "caution box": '    warning:\n      box: "caution"\n',
    "info box": '    warning:\n      box: "info"\n',
}


@settings(max_examples=len(NOT_A_RED_BOX), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.sampled_from(sorted(NOT_A_RED_BOX)))
def test_leaflet_warning_that_is_not_a_red_box_is_refused(sources_copy, shape):
    fr = sources_copy / "fr.yaml"
    original = fr.read_text(encoding="utf-8")
    assert original.count(WARNING_BLOCK) == 2
    line = original[:original.index(WARNING_BLOCK)].count("\n") + 1
    fr.write_text(original.replace(WARNING_BLOCK, NOT_A_RED_BOX[shape], 1), encoding="utf-8")
    try:
        with pytest.raises(InputError) as caught:
            load_language(fr)
    finally:
        fr.write_text(original, encoding="utf-8")
    problems = [f"{p.where}: {p.message} ({p.hint})" for p in caught.value.problems]
    where = f"{line}:14" if shape == "text" else f"{line + 1}:7"
    assert (f"{fr}:{where}: documents.oral_leaflet.warning: expected a red box "
            "(write 'box: \"warning\"', 'title:' and 'blocks:'; see docs/sources.md)") in problems
