"""Reading a batch of patient records: CSV as French hospital spreadsheets export it
(`,` `;` or tab, UTF-8 with or without BOM or Windows-1252, CRLF), XLSX, or a YAML list.

Every cell is untrusted text: it is only ever validated (`validate.py`), never evaluated.
Rows are numbered as a spreadsheet shows them (the header is row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..sources.yamlsource import YamlList, YamlMap, read_yaml
from .columns import ColumnMap, match_header
from .validate import RawRecord

MAX_TABLE_BYTES = 50_000_000
MAX_RECORDS = 100_000


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(Problem("", "not UTF-8 or Windows-1252 text"))


def _csv_rows(path: Path) -> list[list[str]]:
    text = _decode(path.read_bytes())
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _xlsx_rows(path: Path) -> list[list[Any]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell(value: Any) -> Any:
    """Spreadsheet cells as the validator expects them (dates stay dates)."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _from_rows(rows: list[list[Any]], name: str, column_map: ColumnMap | None,
               notices: list[Problem]) -> list[RawRecord]:
    while rows and not any(str(c or "").strip() for c in rows[-1]):
        rows.pop()
    if not rows:
        raise InputError(Problem(name, "the file is empty", "the first row names the columns"))
    header, warnings = match_header(rows[0], name, column_map)
    if len(rows) - 1 > MAX_RECORDS:
        raise InputError(Problem(name, f"more than {MAX_RECORDS} records"))
    notices += warnings
    records = []
    for number, row in enumerate(rows[1:], 2):
        if not any(str(c or "").strip() for c in row):
            continue
        values = header.values([_cell(value) for value in row])
        records.append(_raw(values, number, name, (header.texts, tuple(row))))
    return records


def _raw(values: dict[str, Any], row: int, name: str,
         source: tuple[tuple[str, ...], tuple[Any, ...]] = ((), ())) -> RawRecord:
    def locate(field: str | None) -> str:
        return f"{name}: row {row}" + (f", column {field}" if field else "")
    return RawRecord(values, locate, row, source=source)


def read_table(path: Path, display: str | None = None, column_map: ColumnMap | None = None,
               notices: list[Problem] | None = None) -> list[RawRecord]:
    """The records of a CSV, XLSX or YAML batch file; InputError if the file is unusable
    (empty, no id column, a misspelt column, duplicate ids). Columns are matched by
    columns.py; its warnings (ignored columns) are added to `notices`."""
    notices = [] if notices is None else notices
    name = display or str(path)
    if not path.is_file():
        raise InputError(Problem(name, "file not found"))
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise InputError(Problem(name, f"file is larger than {MAX_TABLE_BYTES} bytes"))
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            records = _yaml_records(path, name)
        elif suffix == ".xlsx":
            records = _from_rows(_xlsx_rows(path), name, column_map, notices)
        elif suffix in (".csv", ".tsv", ".txt"):
            records = _from_rows(_csv_rows(path), name, column_map, notices)
        else:
            raise InputError(Problem(name, f"unknown file type '{suffix}'",
                                     "use .csv, .xlsx or .yaml"))
    except InputError as error:
        raise InputError([Problem(p.where or name, p.message, p.hint)
                          for p in error.problems]) from None
    except (OSError, ValueError, KeyError) as error:
        raise InputError(Problem(name, f"cannot read the file: {type(error).__name__}")) from None
    _check_ids(records)
    return records


def _yaml_records(path: Path, name: str) -> list[RawRecord]:
    data = read_yaml(path, name)
    if not isinstance(data, YamlList) or not data:
        raise InputError(Problem(name, "expected a list of records ('- id: ...' items)"))
    records = []
    for index, item in enumerate(data):
        mark = data.item_marks[index]
        if not isinstance(item, YamlMap):
            raise InputError(Problem(str(mark), "each record is a block of 'field: value' lines"))

        def locate(field: str | None, item: YamlMap = item) -> str:
            return str(item.value_marks.get(field, item.mark))
        values = {k: list(v) if isinstance(v, YamlList) else v for k, v in item.items()}
        records.append(RawRecord(values, locate, mark.line))
    return records


def _check_ids(records: list[RawRecord]) -> None:
    """Duplicate ids make a batch unusable: two records would write the same files.
    (A missing id is a row error, reported with the row's other problems.)"""
    seen: dict[str, int] = {}
    problems = []
    for record in records:
        value = str(record.values.get("id", "")).strip()
        if value in seen:
            problems.append(Problem(record.locate("id"), f"duplicate id '{value}'",
                                    f"also in row {seen[value]}"))
        elif value:
            seen[value] = record.row
    if problems:
        raise InputError(problems)
