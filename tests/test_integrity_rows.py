"""Family 1: no row lost. Every physical row of a batch input is built or reported: a
stale XLSX `<dimension>`, an unclosed CSV quote, a row with more cells than the header;
the summary line and the manifest count the file's data rows."""

from __future__ import annotations

import re
import zipfile

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from handouts.errors import InputError
from handouts.records.readers import read_table
from handouts.records.validate import validate_record
from tests.integrity_kit import CANARY, HEADER, batch, oral, status, write_csv, write_ods


def outcome(path) -> dict[int, str]:
    """Row -> "ok" or the first message, for every record the reader returns."""
    result = {}
    for raw in read_table(path):
        try:
            validate_record(raw, ["fr", "en"], require_id=True)
            result[raw.row] = "ok"
        except InputError as error:
            result[raw.row] = error.problems[0].message
    return result


@given(rows=st.integers(1, 30), stated=st.sampled_from(["A1", "A1:D2", "A1:K1048576", ""]))
@settings(max_examples=15, deadline=None)
def test_xlsx_rows_are_read_whatever_the_stored_dimension(tmp_path_factory, rows, stated):
    folder = tmp_path_factory.mktemp("xlsx")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for index in range(rows):
        sheet.append(oral(f"P{index}"))
    workbook.save(folder / "true.xlsx")
    with zipfile.ZipFile(folder / "true.xlsx") as source, \
            zipfile.ZipFile(folder / "stale.xlsx", "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension ref=\"[^\"]*\"/>",
                              f'<dimension ref="{stated}"/>'.encode() if stated else b"", data)
            target.writestr(name, data)
    assert outcome(folder / "stale.xlsx") == {row: "ok" for row in range(2, rows + 2)}


LINE_KINDS = st.lists(st.sampled_from(["plain", "quoted", "open"]), min_size=1, max_size=12)


@given(kinds=LINE_KINDS)
@settings(max_examples=60, deadline=None)
def test_every_csv_line_is_built_or_reported_whatever_the_quotes(tmp_path_factory, kinds):
    """`quoted` has a closed "name", `open` an unclosed one: the csv module joins the lines
    up to the next quote into one record; each of them must be reported."""
    names = {"plain": f"{CANARY} A", "quoted": f'"{CANARY} B"', "open": f'"{CANARY} C'}
    rows = [oral(f"R{line}", names[kind]) for line, kind in enumerate(kinds, 2)]
    path = write_csv(tmp_path_factory.mktemp("csv") / "q.csv", rows)
    expected, index = {}, 0
    while index < len(kinds):
        end = index
        if kinds[index] == "open":
            later = [j for j in range(index + 1, len(kinds)) if kinds[j] != "plain"]
            end = later[0] if later else len(kinds) - 1
        first, last = index + 2, end + 2
        if first == last:
            expected[first] = "ok" if kinds[index] != "open" else (
                "a quote '\"' in this row is not closed, or is inside a value")
        else:
            expected[first] = (f"rows {first}-{last} read as one: a quote '\"' opened in row "
                               f"{first} is not closed on its row")
            expected.update({line: f"inside the quoted value opened in row {first}"
                             for line in range(first + 1, last + 1)})
        index = end + 1
    assert outcome(path) == expected


def test_a_row_with_more_cells_than_the_header_is_refused(tmp_path):
    """An unquoted decimal comma in a comma-separated file shifts every later cell."""
    path = write_csv(tmp_path / "comma.csv", [oral("C1"), oral("C2", dose="30,0"),
                                              oral("C3", dose='"30,0"')], delimiter=",")
    assert outcome(path) == {2: "ok", 3: "12 cells, but the header names 11 columns", 4: "ok"}


def test_a_value_under_no_header_is_refused(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(oral("X1"))
    sheet.append([*oral("X2"), "", "stray"])
    workbook.save(tmp_path / "stray.xlsx")
    assert outcome(tmp_path / "stray.xlsx") == {
        2: "ok", 3: "a value in column 13, which has no header"}


def test_ods_is_read_like_csv_and_trailing_empty_rows_are_not_rows(tmp_path):
    rows = [oral("O1"), oral("O2", dose="500")]
    ods = write_ods(tmp_path / "ward.ods", [HEADER, *rows], trailing_repeat=1_048_000)
    csv_file = write_csv(tmp_path / "ward.csv", rows)
    assert outcome(ods) == outcome(csv_file) == {
        2: "ok", 3: "500 mg/day is outside the plausible range 5-120 mg/day"}


def test_summary_and_manifest_count_every_data_row(capsys, tmp_path):
    rows = [oral("S1"), oral("S2", f'"{CANARY}'), oral("S3"), oral("S4"), oral("S5", dose="x")]
    table = write_csv(tmp_path / "s.csv", rows)
    code, _, stderr, manifest = batch(capsys, table, tmp_path / "out")
    assert code == 1
    assert status(manifest) == {2: ("S1", "ok"), 3: ("S2", "error"), 4: ("", "error"),
                                5: ("", "error"), 6: ("", "error")}
    assert stderr == [
        (f"{table}: row 3: rows 3-6 read as one: a quote '\"' opened in row 3 is not closed "
         "on its row (close the quote, or remove it)"),
        f"{table}: row 4: inside the quoted value opened in row 3 (close the quote in that row)",
        f"{table}: row 5: inside the quoted value opened in row 3 (close the quote in that row)",
        f"{table}: row 6: inside the quoted value opened in row 3 (close the quote in that row)",
        "batch: 5 rows read, 1 built (0 already up to date), 4 refused"]
    assert len(manifest["records"]) == len(table.read_text().splitlines()) - 1
