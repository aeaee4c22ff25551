"""Family 6: limits are checked before the expensive work. A sheet that claims a far
cell, a zip bomb, an ODS of repeated rows, too many rows, columns or characters, deep
YAML nesting: each is one line and exit 2 within seconds, before python-calamine or the
YAML composer allocates anything."""

from __future__ import annotations

import time
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handouts.errors import InputError
from handouts.records import readers
from handouts.sources.yamlsource import MAX_YAML_DEPTH, read_yaml
from tests.conftest import run_cli
from tests.integrity_kit import HEADER, oral, write_csv, write_ods

LIMIT_HINT = "(split the file, or remove what is not patient rows)"


@pytest.fixture
def no_calamine(monkeypatch):
    """Fails the test if the expensive reader is reached."""
    def refuse(*args, **kwargs):
        raise AssertionError("python-calamine was called before the limits were checked")
    monkeypatch.setattr(readers.CalamineWorkbook, "from_path", refuse)


def refused(path) -> list[str]:
    start = time.monotonic()
    with pytest.raises(InputError) as caught:
        readers.read_table(path)
    assert time.monotonic() - start < 10
    return [str(problem) for problem in caught.value.problems]


def xlsx_with(tmp_path, extra: bytes = b"", member: tuple[str, bytes] | None = None):
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(oral("X1"))
    workbook.save(tmp_path / "plain.xlsx")
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", extra + b"</sheetData>")
            target.writestr(name, data)
        if member:
            target.writestr(*member)
    return path


@given(row=st.integers(100_002, 1_048_576), column=st.sampled_from(["A", "GR", "XFD"]))
@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_far_cell_is_refused_before_reading(tmp_path_factory, no_calamine, row, column):
    path = xlsx_with(tmp_path_factory.mktemp("far"), f'<row r="{row}"><c r="{column}{row}" '
                     't="inlineStr"><is><t>x</t></is></c></row>'.encode())
    assert path.stat().st_size < 10_000
    assert refused(path) == [f"{path}: more than 100000 rows {LIMIT_HINT}"]


def test_a_far_column_is_refused(tmp_path, no_calamine):
    path = xlsx_with(tmp_path, b'<row r="3"><c r="XFD3" t="inlineStr"><is><t>x</t></is></c></row>')
    assert refused(path) == [f"{path}: more than 200 columns {LIMIT_HINT}"]


def test_a_zip_bomb_is_refused_while_inflating(tmp_path, no_calamine, monkeypatch):
    monkeypatch.setattr(readers, "MAX_UNZIPPED_BYTES", 1_000_000)
    path = xlsx_with(tmp_path, member=("xl/media/bomb.bin", b"\0" * 2_000_000))
    assert path.stat().st_size < 30_000
    assert refused(path) == [f"{path}: unpacks to more than 1000000 bytes"]


def test_an_ods_of_repeated_rows_is_refused(tmp_path, no_calamine):
    path = write_ods(tmp_path / "bomb.ods", [HEADER, oral("O1")], repeated_value_rows=500_000)
    assert refused(path) == [f"{path}: more than 100000 rows {LIMIT_HINT}"]


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_too_many_records(tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(readers, "MAX_RECORDS", 5)
    rows = [oral(f"R{i}") for i in range(6)]
    path = write_csv(tmp_path / f"many{suffix}", rows)
    if suffix == ".yaml":
        path.write_text("".join(f"- id: R{i}\n  variant: oral\n" for i in range(6)))
    assert refused(path) == [(f"{path}: more than 5 {'rows' if suffix == '.csv' else 'records'} "
                             f"{LIMIT_HINT}")]


def test_too_many_columns_and_too_long_a_value(tmp_path):
    wide = write_csv(tmp_path / "wide.csv", [], header=[*HEADER, *(f"c{i}" for i in range(200))])
    assert refused(wide) == [f"{wide}: more than 200 columns {LIMIT_HINT}"]
    long = write_csv(tmp_path / "long.csv", [oral("L1", name="x" * 10_001)])
    assert refused(long) == [(f"{long}: row 2: a value longer than 10000 characters (check the "
                             "quotes of this row)")]


@given(depth=st.integers(1, 300), flow=st.booleans())
@settings(max_examples=20, deadline=None)
def test_yaml_nesting_is_bounded(depth, flow):
    text = "[" * depth + "]" * depth if flow else "".join(
        "  " * level + "- \n" for level in range(depth)) + "  " * depth + "- x\n"
    try:
        read_yaml(None, "r.yaml", text=text)
    except InputError as error:
        assert depth + (0 if flow else 1) > MAX_YAML_DEPTH
        assert error.problems[-1].message == f"lists and maps nested more than {MAX_YAML_DEPTH} deep"


def test_a_megabyte_of_brackets_is_refused_in_seconds(capsys, tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("id: [" + "[" * 1_200_000 + "\n")
    start = time.monotonic()
    code, stdout, stderr = run_cli(capsys, "patient", str(path), "--out", str(tmp_path / "o"))
    assert time.monotonic() - start < 10
    assert (code, stdout) == (2, [])
    assert stderr == [f"{path}:1:24: lists and maps nested more than 20 deep"]
