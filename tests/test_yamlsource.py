from pathlib import Path

import pytest

from handouts.errors import InputError
from handouts.sources.yamlsource import read_yaml


def problems(text: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_yaml(Path("x.yaml"), "x.yaml", text)
    return [str(p) for p in caught.value.problems]


def test_values_remember_their_line_and_column():
    data = read_yaml(Path("x.yaml"), "x.yaml", 'a:\n  b: "text"\n  c:\n    - "one"\n')
    assert str(data["a"].value_marks["b"]) == "x.yaml:2:6"
    assert str(data["a"]["c"].item_marks[0]) == "x.yaml:4:7"


def test_every_tab_is_reported_with_its_column():
    assert problems('a:\n\tb: "x"\nc: "y\tz"\n') == [
        "x.yaml:2:1: a tab character is not allowed (indent with spaces, never tabs)",
        "x.yaml:3:6: a tab character is not allowed (indent with spaces, never tabs)",
    ]


def test_unquoted_colon_says_to_quote_the_text():
    assert problems("title: Attention: danger\n") == [
        "x.yaml:1:17: a ':' in unquoted text (put the whole text in double quotes)"]


def test_duplicate_key_names_the_first_definition():
    assert problems('a: "1"\nb: "2"\na: "3"\n') == [
        "x.yaml:3:1: duplicate key 'a' (it is already defined at line 1; keep one of them)"]


def test_bad_indentation_is_named():
    assert problems('a:\n  b: "1"\n c: "2"\n') == [
        ("x.yaml:3:2: bad indentation (align this line with the other keys of its block "
        "(two spaces per level))")]


def test_aliases_are_refused():
    assert problems('a: &x "1"\nb: *x\n') == [
        "x.yaml:2:4: anchors and aliases are not allowed (write the value out in full)"]
