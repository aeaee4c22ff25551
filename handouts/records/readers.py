"""Reading a batch of patient records: CSV as French hospital spreadsheets export it
(`,` `;` or tab, UTF-8 with or without BOM or Windows-1252, CRLF), XLSX, XLS and ODS
(python-calamine), or a YAML list.

Every cell is untrusted text: it is only ever validated (`validate.py`), never evaluated.
Rows are numbered as a spreadsheet shows them (the header is row 1; in a CSV, the line).
Every physical row ends up a record, built or refused: a CSV row the csv module would
merge into another (an unclosed quote) is reported, never swallowed. The limits below
are checked before the expensive work (a spreadsheet's cells are counted from its XML,
streamed, before python-calamine allocates them).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from python_calamine import CalamineError, CalamineWorkbook

from ..errors import InputError, Problem
from ..sources.yamlsource import YamlList, YamlMap, read_yaml
from . import fields
from .columns import ColumnMap, header_key, match_header
from .validate import RawRecord

MAX_TABLE_BYTES = 50_000_000
MAX_RECORDS = 100_000
MAX_COLUMNS = 200
MAX_CELLS = 5_000_000
MAX_CELL_CHARS = 10_000
MAX_UNZIPPED_BYTES = 300_000_000
MAX_ZIP_MEMBERS = 2_000
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")
# What a damaged or disguised spreadsheet raises while it is unpacked or read.
_DAMAGED = (CalamineError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
            ElementTree.ParseError)

# A row as read: its first and last physical line (they differ when a CSV quote spans
# lines) and its cells (None: its quotes are wrong, so its cells cannot be trusted).
Row = tuple[int, int, list[Any] | None]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(Problem("", "not UTF-8 or Windows-1252 text"))


def _too_many(what: str, limit: int) -> InputError:
    return InputError(Problem("", f"more than {limit} {what}",
                              "split the file, or remove what is not patient rows"))


def _csv_rows(path: Path) -> list[Row]:
    """The rows of a CSV with their physical lines. A row whose quotes are wrong (not
    closed, or text after a closing quote) is checked again strictly and comes back
    with its cells replaced by None: the caller refuses it."""
    text = _decode(path.read_bytes())
    first_line = text[:20_000].splitlines()[0] if text else ""
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    csv.field_size_limit(MAX_CELL_CHARS)
    lines = io.StringIO(text, newline="").readlines()  # the lines as the csv module sees them
    reader = csv.reader(lines, delimiter=delimiter)
    rows: list[Row] = []
    last = 0
    try:
        for cells in reader:
            first, last = last + 1, reader.line_num
            well_quoted = first != last or _quotes_right(lines[first - 1], delimiter)
            rows.append((first, last, cells if well_quoted else None))
            if len(rows) > MAX_RECORDS + 1:
                raise _too_many("rows", MAX_RECORDS)
    except csv.Error as error:
        reason = ("a value longer than {MAX_CELL_CHARS} characters"
                  if "field larger" in str(error) else "a NUL or other unreadable character"
                  if "NUL" in str(error) else "not readable as CSV")
        raise InputError(Problem(f"row {last + 1}", reason.format(MAX_CELL_CHARS=MAX_CELL_CHARS),
                                 "check the quotes of this row")) from None
    return rows


def _quotes_right(line: str, delimiter: str) -> bool:
    """Whether a line is one well-quoted record for a strict reader."""
    if '"' not in line:
        return True
    try:
        return len(list(csv.reader([line], delimiter=delimiter, strict=True))) == 1
    except csv.Error:
        return False


# ` r="B12"` is a cell's reference, ` r="12"` a row's (` ref=` and `<dimension>` do not match).
_XLSX_COLUMN = re.compile(rb' r="([A-Z]{1,4})[0-9]')
_XLSX_ROW_NUMBER = re.compile(rb' r="[A-Z]{0,4}([0-9]{1,8})"')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


class _Extent:
    """How many rows and columns a sheet spans, and how many cells it has."""

    def __init__(self) -> None:
        self.rows = self.columns = self.cells = 0

    def check(self) -> None:
        if self.rows > MAX_RECORDS + 1:
            raise _too_many("rows", MAX_RECORDS)
        if self.columns > MAX_COLUMNS:
            raise _too_many("columns", MAX_COLUMNS)
        if self.cells > MAX_CELLS or self.rows * self.columns > MAX_CELLS:
            raise _too_many("cells", MAX_CELLS)


def _scan_xlsx_sheet(chunks: Iterator[bytes]) -> None:
    """A worksheet's extent from its XML: the furthest cell reference, not the stored
    `<dimension>` (which may be stale, and which python-calamine does not use either)."""
    extent, tail = _Extent(), b""
    for chunk in chunks:
        extent.cells += chunk.count(b"<c ") + chunk.count(b"<c>")
        window = tail + chunk
        extent.columns = max([extent.columns, *map(_column_number,
                                                   set(_XLSX_COLUMN.findall(window)))])
        extent.rows = max([extent.rows, *map(int, _XLSX_ROW_NUMBER.findall(window))])
        tail = window[-40:]
        extent.check()


_ODS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def _scan_ods_content(chunks: Iterator[bytes]) -> None:
    """An ODS sheet's extent, counting repeated rows and cells (`number-rows-repeated`)
    only up to the last one that holds a value, as python-calamine expands them."""
    parser = ElementTree.XMLPullParser(("start", "end"))
    extent, pending_rows, tables = _Extent(), 0, 0
    for chunk in chunks:
        parser.feed(chunk)
        for event, element in parser.read_events():
            if element.tag == f"{_ODS}table" and event == "start":
                tables += 1
            if event != "end" or tables != 1 or element.tag != f"{_ODS}table-row":
                continue
            repeat = int(element.get(f"{_ODS}number-rows-repeated", "1"))
            width = used = 0
            for cell in element:
                width += int(cell.get(f"{_ODS}number-columns-repeated", "1"))
                if len(cell) or cell.get("{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
                                         "value-type"):
                    used = width
            element.clear()
            if used:
                extent.rows += pending_rows + repeat
                extent.cells += used * repeat
                extent.columns = max(extent.columns, used)
                pending_rows = 0
            else:
                pending_rows += repeat
            extent.check()


def _check_archive(path: Path) -> None:
    """Refuse a zip bomb before python-calamine opens it: members counted, every byte
    inflated once as a stream (declared sizes may lie) with a ceiling, and the sheets'
    extents measured on the way."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(Problem("", "not a spreadsheet (the file is not a zip archive)",
                                 "save it again from the spreadsheet program")) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise _too_many("parts in the archive", MAX_ZIP_MEMBERS)
        total = 0

        def inflate(member: zipfile.ZipInfo) -> Iterator[bytes]:
            nonlocal total
            with archive.open(member) as stream:
                while chunk := stream.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_UNZIPPED_BYTES:
                        raise InputError(Problem("", f"unpacks to more than "
                                                     f"{MAX_UNZIPPED_BYTES} bytes"))
                    yield chunk
        if sum(member.file_size for member in members) > MAX_UNZIPPED_BYTES:
            raise InputError(Problem("", f"unpacks to more than {MAX_UNZIPPED_BYTES} bytes"))
        for member in members:
            if re.fullmatch(r"xl/worksheets/[^/]+\.xml", member.filename):
                _scan_xlsx_sheet(inflate(member))
            elif member.filename == "content.xml":
                _scan_ods_content(inflate(member))
            else:
                for _ in inflate(member):
                    pass


def _spreadsheet_rows(path: Path) -> list[Row]:
    if path.suffix.lower() != ".xls":
        _check_archive(path)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    if sheet.height > MAX_RECORDS + 1:
        raise _too_many("rows", MAX_RECORDS)
    if sheet.width > MAX_COLUMNS:
        raise _too_many("columns", MAX_COLUMNS)
    return [(number, number, cells)
            for number, cells in enumerate(sheet.to_python(skip_empty_area=False), 1)]


def _cell(value: Any) -> Any:
    """Spreadsheet cells as the validator expects them (dates stay dates)."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, str):
        if len(value) > MAX_CELL_CHARS:
            return value[:MAX_CELL_CHARS + 1]  # refused as too long, without the rest
        return value.strip()
    return value


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _from_rows(rows: list[Row], name: str, column_map: ColumnMap | None,
               notices: list[Problem]) -> list[RawRecord]:
    while rows and rows[-1][2] is not None and _blank(rows[-1][2]):
        rows.pop()
    if not rows:
        raise InputError(Problem(name, "the file is empty", "the first row names the columns"))
    first, last, header = rows[0]
    if last != first or header is None:
        raise InputError(Problem(f"{name}: row 1", "the header's quotes are wrong (a quote "
                                 "'\"' is not closed)", "close the quote"))
    if len(header) > MAX_COLUMNS:
        raise _too_many("columns", MAX_COLUMNS)
    matched, warnings = match_header(header, name, column_map)
    notices += warnings
    named = [bool(header_key(cell)) for cell in header]
    records = []
    for first, last, cells in rows[1:]:
        if cells is not None and _blank(cells):
            continue
        values = matched.values([_cell(value) for value in cells or ()])
        record = _raw(values, first, name, (matched.texts, tuple(cells or ())))
        unnamed = [index for index, cell in enumerate(cells or (), 1) if not _blank([cell])
                   and (index > len(named) or not named[index - 1])]
        if last != first:
            records.append(_refused(record, f"rows {first}-{last} read as one: a quote '\"' "
                                    f"opened in row {first} is not closed on its row",
                                    "close the quote, or remove it"))
            records += [_refused(_raw({}, line, name), f"inside the quoted value opened in "
                                 f"row {first}", "close the quote in that row")
                        for line in range(first + 1, last + 1)]
        elif cells is None:
            records.append(_refused(record, "a quote '\"' in this row is not closed, or is "
                                    "inside a value", "quote whole values: \"...\", and double "
                                    "a quote inside one"))
        elif len(cells) > len(named):
            records.append(_refused(record, f"{len(cells)} cells, but the header names "
                                    f"{len(named)} columns",
                                    "quote a value that holds the separator (e.g. \"22,5\")"))
        elif unnamed:
            records.append(_refused(record, f"a value in column {unnamed[0]}, which has no "
                                    "header", "name the column, or empty it"))
        else:
            records.append(record)
    return records


def _raw(values: dict[str, Any], row: int, name: str,
         source: tuple[tuple[str, ...], tuple[Any, ...]] = ((), ())) -> RawRecord:
    def locate(field: str | None) -> str:
        return f"{name}: row {row}" + (f", column {field}" if field else "")
    return RawRecord(values, locate, row, source=source)


def _refused(record: RawRecord, message: str, hint: str) -> RawRecord:
    """A row read wrongly: refused whatever its values, which cannot be trusted."""
    return RawRecord(record.values, record.locate, record.row,
                     (Problem(record.locate(None), message, hint),), record.source)


def read_table(path: Path, display: str | None = None, column_map: ColumnMap | None = None,
               notices: list[Problem] | None = None) -> list[RawRecord]:
    """The records of a CSV, XLSX, XLS, ODS or YAML batch file, one per physical row;
    InputError if the file is unusable (empty, no id column, a misspelt column, duplicate
    ids, a limit exceeded). Columns are matched by columns.py; its warnings (ignored
    columns) are added to `notices`."""
    notices = [] if notices is None else notices
    name = display or str(path)
    try:
        if not path.is_file():
            raise InputError(Problem(name, "file not found"))
        if path.stat().st_size > MAX_TABLE_BYTES:
            raise InputError(Problem(name, f"file is larger than {MAX_TABLE_BYTES} bytes"))
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            records = _yaml_records(path, name)
        elif suffix in SPREADSHEETS:
            records = _from_rows(_spreadsheet_rows(path), name, column_map, notices)
        elif suffix in (".csv", ".tsv", ".txt"):
            records = _from_rows(_csv_rows(path), name, column_map, notices)
        else:
            raise InputError(Problem(name, "unknown file type",
                                     "use .csv, .xlsx, .xls, .ods or .yaml"))
    except InputError as error:
        raise InputError([Problem(_within(name, p.where), p.message, p.hint)
                          for p in error.problems]) from None
    except _DAMAGED:
        raise InputError(Problem(name, "not a readable spreadsheet (damaged, or another kind "
                                 "of file)", "save it again from the spreadsheet program")) from None
    except OSError as error:
        raise InputError(Problem(name, f"cannot read the file: {error.strerror}")) from None
    _check_ids(records)
    return records


def _within(name: str, where: str) -> str:
    if not where:
        return name
    return where if where.startswith(name) else f"{name}: {where}"


def _yaml_records(path: Path, name: str) -> list[RawRecord]:
    data = read_yaml(path, name, as_typed=True)
    if not isinstance(data, YamlList) or not data:
        raise InputError(Problem(name, "expected a list of records ('- id: ...' items)"))
    if len(data) > MAX_RECORDS:
        raise _too_many("records", MAX_RECORDS)
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


def record_id(record: RawRecord) -> str:
    """The record's id if it is a valid one, else "": only a checked id is ever written
    (to the manifest, a file name, a message)."""
    try:
        return fields.identifier(record.values.get("id", ""))
    except fields.Invalid:
        return ""


def _check_ids(records: list[RawRecord]) -> None:
    """Duplicate ids make a batch unusable: two records would write the same files.
    (A missing or invalid id is a row error, reported with the row's other problems.)"""
    seen: dict[str, int] = {}
    problems = []
    for record in records:
        value = record_id(record)
        if value in seen:
            problems.append(Problem(record.locate("id"), f"duplicate id '{value}'",
                                    f"also in row {seen[value]}"))
        elif value:
            seen[value] = record.row
    if problems:
        raise InputError(problems)
