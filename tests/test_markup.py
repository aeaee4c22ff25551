from handouts.markup import fill, parse_runs, text_problems
from handouts.model import Run


def test_bold_runs_and_placeholders_stay_until_filled():
    assert parse_runs("Call **{team_phone}** now") == (
        Run("Call "), Run("{team_phone}", bold=True), Run(" now"))


def test_fill_is_literal_even_for_markup_in_values():
    assert fill("Tel {team_phone}", {"team_phone": "**{hospital}** <b>"}) == \
        "Tel **{hospital}** <b>"


def test_unknown_placeholder_lists_the_known_ones():
    [(message, hint)] = text_problems("Call {phone}")
    assert message == "unknown placeholder '{phone}'"
    assert "{team_phone}" in hint


def test_template_code_and_html_are_refused():
    assert text_problems("{{ name }}")[0][0] == "template code is not allowed in text"
    assert text_problems("{% if x %}")[0][0] == "template code is not allowed in text"
    assert text_problems("<b>bold</b>")[0][0] == "HTML markup is not allowed in text"


def test_unclosed_bold_and_italics_are_refused():
    assert text_problems("**open")[0][0] == "'**' is not closed"
    assert text_problems("an *italic* word")[0][0] == "a single '*'"
