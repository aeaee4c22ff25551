"""Print rooms: spreadsheets as French hospitals export them (CSV, XLSX, ODS; French
headers, extra columns, first and last names apart, column maps), mis-encoded text, one language's
problem kept to its records, and a print file a printer and a ward can use (separator
sheets, bookmarks, split by ward, rejected.csv, the same bytes whatever --jobs)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import re
import subprocess
import unicodedata
from pathlib import Path

import openpyxl
import pikepdf
import pypdfium2
import pytest

from handouts.bulk.batch import RecordResult, _print_file_name, rejected_csv
from handouts.errors import InputError
from handouts.records.columns import FRENCH_HEADERS, field_for, header_key, load_column_map
from handouts.records.readers import read_table
from handouts.records.validate import ALL_FIELDS, mis_encoded, validate_record
from tests.conftest import normalise, run_cli
from tests.integrity_kit import write_ods

TODAY = dt.date.today()
REFILL, ALARM = TODAY + dt.timedelta(days=30), TODAY + dt.timedelta(days=33)
EXPORT_HEADER = ["IPP", "Identifiant", "Nom", "Prénom", "Voie", "Langue", "Dose (mg/j)",
                 "Dose (µg/j)", "Concentration (µg/mL)", "Réservoir (mL)",
                 "Date prochain remplissage", "Date alarme", "Modèle de pompe", "Prescripteur",
                 "Service", "Remarques"]
EXPORT_ROWS = [
    ["801", "E1", "Bénard", "Noël", "oral", "fr", "30", "", "", "", "", "", "", "Dr Martin",
     "Neurologie", "vu le 3/11"],
    ["802", "E2", "Lemaire", "Alice", "oral", "en", "45", "", "", "", "", "", "", "Dr Blanc",
     "Rééducation", ""],
    ["803", "E3", "Petit", "Chloé", "oral", "fr", "500", "", "", "", "", "", "", "Dr Blanc",
     "Neurologie", "=HYPERLINK(\"http://x\")"],
    ["804", "E4", "Roux", "Denis", "intrathecal", "fr", "", "250", "500", "20",
     REFILL.strftime("%d/%m/%Y"), ALARM.strftime("%d/%m/%Y"), "SynchroMed II", "Dr Martin",
     "Rééducation", ""],
    ["805", "E5", "Morel", "Émile", "oral", "en", "30", "", "", "", "", "", "", "Dr Blanc",
     "Neurologie", ""],
]
NAMES = ["Noël Bénard", "Alice Lemaire", "Chloé Petit", "Denis Roux", "Émile Morel"]


def write_export(path: Path, header=EXPORT_HEADER, rows=EXPORT_ROWS) -> Path:
    lines = [";".join(row) for row in [header, *rows]]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    return path


def manifest_of(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The French export, built once with --jobs 2 sorted by ward, and once with
    --jobs 1 (to compare the print files' bytes)."""
    from handouts.cli import main
    folder = tmp_path_factory.mktemp("export")
    table = write_export(folder / "export.csv")
    codes = [main(["batch", str(table), "--out", str(folder / f"out{jobs}"), "--jobs",
                   str(jobs), "--sort-by", "Service", "--format", "pdf"]) for jobs in (2, 1)]
    return codes, table, folder


def test_a_french_export_with_extra_columns_builds(export):
    codes, _table, folder = export
    assert codes == [1, 1]  # E3's dose is refused, the others are built
    manifest = manifest_of(folder / "out2")
    status = {r["id"]: r["status"] for r in manifest["records"]}
    assert status == {"E1": "ok", "E2": "ok", "E3": "error", "E4": "ok", "E5": "ok"}
    text = " ".join(normalise(subprocess.run(["pdftotext", str(folder / "out2" / f["path"]), "-"],
                                             capture_output=True, text=True, check=True).stdout)
                    for r in manifest["records"] if r["id"] == "E1" for f in r["files"])
    assert "Noël Bénard" in text and "Dr Martin" in text  # first name and last name joined


def test_ignored_columns_are_one_warning_and_stdout_lists_the_files(capsys, tmp_path):
    table = write_export(tmp_path / "export.csv", rows=EXPORT_ROWS[:1])
    code, stdout, stderr = run_cli(capsys, "batch", str(table), "--out", str(tmp_path / "o"),
                                   "--jobs", "1", "--format", "pdf")
    assert code == 0
    assert stderr[0] == (f"{table}: row 1: warning: 2 columns ignored: 'IPP' (column 1), "
                         "'Remarques' (column 16)")
    assert [Path(line).name for line in stdout][-3:] == ["baclofen-print-export.pdf",
                                                        "rejected.csv", "manifest.json"]


def test_the_same_export_as_xlsx_and_ods_reads_the_same_records(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(EXPORT_HEADER)
    for row in EXPORT_ROWS:
        cells: list = [int(c) if c.isdigit() else c for c in row]
        if row[10]:
            cells[10], cells[11] = (dt.datetime.combine(REFILL, dt.time()),
                                    dt.datetime.combine(ALARM, dt.time()))
        sheet.append(cells)
    workbook.save(tmp_path / "export.xlsx")

    def patients(path: Path) -> list:
        found = []
        for raw in read_table(path):
            try:
                found.append(validate_record(raw, ["fr", "en"], require_id=True))
            except InputError:
                found.append("refused")
        return found
    from_csv = patients(write_export(tmp_path / "export.csv"))
    assert [getattr(p, "name", p) for p in from_csv] == [*NAMES[:2], "refused", *NAMES[3:]]
    assert from_csv[3].next_refill == REFILL
    assert patients(tmp_path / "export.xlsx") == from_csv
    assert patients(write_ods(tmp_path / "export.ods", [EXPORT_HEADER, *EXPORT_ROWS])) == from_csv


def test_the_same_export_as_ods_builds(capsys, export, tmp_path):
    """LibreOffice Calc's format, as many French public hospitals save their exports."""
    _, _, folder = export
    table = write_ods(tmp_path / "export.ods", [EXPORT_HEADER, *EXPORT_ROWS])
    code, _, stderr = run_cli(capsys, "batch", str(table), "--out", str(tmp_path / "o"),
                              "--jobs", "1", "--sort-by", "Service", "--format", "pdf")
    assert code == 1
    assert stderr[0] == (f"{table}: row 1: warning: 2 columns ignored: 'IPP' (column 1), "
                         "'Remarques' (column 16)")
    ods, csv_built = manifest_of(tmp_path / "o"), manifest_of(folder / "out1")
    assert [(r["id"], r["status"], r["pages"]) for r in ods["records"]] == \
        [(r["id"], r["status"], r["pages"]) for r in csv_built["records"]]


def test_every_field_has_a_french_header():
    assert set(FRENCH_HEADERS) == set(ALL_FIELDS)
    keys = [header_key(h) for headers in FRENCH_HEADERS.values() for h in headers]
    assert len(keys) == len(set(keys))  # no French header means two fields


@pytest.mark.parametrize("header, field", [("Nom", "name"), ("NOM", "name"),
                                           ("Dose (mg/j)", "daily_dose_mg"),
                                           ("dose mg/j", "daily_dose_mg"),
                                           ("Dose (µg/j)", "daily_dose_ug"),
                                           ("Date prochain remplissage", "next_refill"),
                                           ("Daily dose (mg)", "daily_dose_mg"),
                                           ("Service", "ward"), ("Ward", "ward")])
def test_headers_are_matched_whatever_their_case_accents_and_punctuation(tmp_path, header,
                                                                         field):
    value = "30" if "dose" in field else REFILL.isoformat() if field == "next_refill" else "X"
    table = tmp_path / "t.csv"
    table.write_text(f"id;{header}\nA;{value}\n", encoding="utf-8")
    [raw] = read_table(table)
    assert raw.values == {"id": "A", field: value}


def test_a_file_without_a_header_row_echoes_no_patient_value(capsys, tmp_path):
    table = write_export(tmp_path / "nohead.csv", header=EXPORT_ROWS[0], rows=EXPORT_ROWS[1:])
    code, stdout, stderr = run_cli(capsys, "batch", str(table), "--out", str(tmp_path / "o"))
    assert code == 2 and stdout == [] and not (tmp_path / "o").exists()
    assert stderr == [(f"{table}: row 1: is not a header row: none of its cells names a "
                       "known column (the values are not shown) (the first row names the "
                       "columns: id, variant, ...)")]


@pytest.mark.parametrize("header, message", [
    ("emergncy_phone", ("column 'emergncy_phone' looks like a misspelt field (did you mean "
                           "'emergency_phone'?")),
    ("Prescripteurr", ("column 'Prescripteurr' looks like a misspelt field (did you mean "
                          "'prescriber'?")),
])
def test_a_probably_misspelt_field_is_an_error(capsys, tmp_path, header, message):
    table = tmp_path / "t.csv"
    table.write_text(f"id;variant;{header}\nA;oral;x\n", encoding="utf-8")
    code, _, stderr = run_cli(capsys, "batch", str(table), "--out", str(tmp_path / "o"))
    assert code == 2 and not (tmp_path / "o").exists()
    assert stderr[0].startswith(f"{table}: row 1, column 3: {message}")


def test_a_look_alike_of_a_field_already_given_is_only_ignored(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id;variant;prescriber;prescribers\nA;oral;Dr X;y\n", encoding="utf-8")
    notices: list = []
    [raw] = read_table(table, notices=notices)
    assert raw.values == {"id": "A", "variant": "oral", "prescriber": "Dr X"}
    assert [str(n) for n in notices] == [
        f"{table}: row 1: 1 column ignored: 'prescribers' (column 4)"]


def test_a_column_map_names_a_hospitals_own_headers(tmp_path):
    column_map = tmp_path / "map.yaml"
    column_map.write_text("id: N° séjour\nname: [Prénom usuel, Nom de naissance]\n"
                          "daily_dose_mg: Posologie\nignore: [Chambre]\n", encoding="utf-8")
    table = tmp_path / "t.csv"
    table.write_text("N° séjour;Nom de naissance;Prénom usuel;Posologie;Chambre;Voie\n"
                     "S1;Dupont;Marie;30;12;oral\n", encoding="utf-8")
    notices: list = []
    [raw] = read_table(table, column_map=load_column_map(column_map), notices=notices)
    assert raw.values == {"id": "S1", "name": "Marie Dupont", "daily_dose_mg": "30",
                          "variant": "oral"}
    assert notices == []


@pytest.mark.parametrize("text, message", [
    ("nme: Nom\n", "1:1: unknown field 'nme' (did you mean 'name'?)"),
    ("id: [A, B]\n", "1:6: id: one column only (only name and prescriber can join columns)"),
    ("id: Code\nname: code\n", "2:7: name: header 'code' is already mapped at MAP:1:5"),
    ("id: 12\n", "1:5: id: expected a column header (text)"),
])
def test_a_bad_column_map_is_refused_with_its_position(capsys, tmp_path, text, message):
    column_map = tmp_path / "map.yaml"
    column_map.write_text(text, encoding="utf-8")
    table = write_export(tmp_path / "t.csv")
    code, stdout, stderr = run_cli(capsys, "batch", str(table), "--columns", str(column_map),
                                   "--out", str(tmp_path / "o"))
    assert code == 2 and stdout == [] and not (tmp_path / "o").exists()
    assert stderr == [f"{column_map}:{message}".replace("MAP", str(column_map))]


def test_a_mapped_header_missing_from_the_file_is_an_error(tmp_path):
    column_map = tmp_path / "map.yaml"
    column_map.write_text("id: N° séjour\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_table(write_export(tmp_path / "t.csv"), column_map=load_column_map(column_map))
    assert str(error.value.problems[0]) == (
        f"{tmp_path / 't.csv'}: row 1: no column 'n_sejour' (named for 'id' at "
        f"{column_map}:1:5)")


FRENCH_LETTERS = "éèêëàâäîïôöùûüçÉÈÊÀÇœŒ’«»"


def mangled_names() -> list[tuple[str, str]]:
    """Names with French letters, and the same names as a wrong decoding leaves them."""
    names = [f"{a}l{b}ne D{c}rand" for a, b, c in itertools.islice(
        itertools.product(FRENCH_LETTERS, repeat=3), 0, None, 97)]
    mangled = [(name, name.encode("utf-8").decode("cp1252", errors="replace"))
               for name in names]
    mangled += [(name, name.encode("utf-8").decode("latin-1")) for name in names]
    mangled += [(name, name.encode("cp1252", errors="replace").decode("utf-8", errors="replace"))
                for name in names]
    return mangled


def test_mis_encoded_text_is_recognised_and_correct_text_is_not():
    pairs = mangled_names()
    assert len(pairs) > 300
    for good, bad in pairs:
        assert not mis_encoded(good), good
        assert mis_encoded(bad), bad


def test_a_mis_encoded_cell_is_a_row_error_without_its_value(capsys, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id;variant;name;daily_dose_mg\nA;oral;NoÃ«l BÃ©nard;30\n"
                     "B;oral;No\ufffdl B\ufffdnard;30\nC;oral;Noël Bénard;30\n", encoding="utf-8")
    code, _, stderr = run_cli(capsys, "batch", str(table), "--out", str(tmp_path / "o"),
                              "--jobs", "1", "--format", "pdf")
    assert code == 1
    message = ("column name: unreadable or mis-encoded characters (such as 'Ã©' for 'é'): the "
               "file's encoding is probably wrong (export it again as UTF-8 CSV, or as XLSX)")
    assert stderr[-3:-1] == [f"{table}: row 2, {message}", f"{table}: row 3, {message}"]
    assert not any("No" in line for line in stderr)
    assert [r["status"] for r in manifest_of(tmp_path / "o")["records"]] == ["error", "error",
                                                                              "ok"]


def test_the_print_file_is_the_same_whatever_jobs(export):
    _, _table, folder = export
    files = [(folder / f"out{jobs}" / "baclofen-print-export.pdf").read_bytes() for jobs in (2, 1)]
    assert files[0] == files[1]
    assert manifest_of(folder / "out2") == manifest_of(folder / "out1")


def outline(path: Path) -> list[tuple[str, int, list]]:
    with pikepdf.open(path) as pdf, pdf.open_outline() as tree:
        pages = {page.objgen: number for number, page in enumerate(pdf.pages, 1)}
        return [(item.title, pages[item.destination[0].objgen],
                 [(child.title, pages[child.destination[0].objgen]) for child in item.children])
                for item in tree.root]


def test_separator_sheets_and_bookmarks_match_the_manifest(export):
    _, _, folder = export
    out = folder / "out2"
    manifest = manifest_of(out)
    built = [r for r in manifest["records"] if r["status"] == "ok"]
    assert [r["id"] for r in built] == ["E1", "E5", "E2", "E4"]  # by ward, then file order
    combined = out / manifest["combined_pdf"]
    for position, record in enumerate(built, 1):
        first, _ = record["pages"]
        sheet = normalise(subprocess.run(["pdftotext", "-f", str(first), "-l", str(first),
                                          str(combined), "-"], capture_output=True, text=True,
                                         check=True).stdout)
        assert sheet.startswith(f"{record['id']} Ligne {record['row']} Service : ")
        assert f"Dossier {position} / 4" in sheet
        assert not any(name.split()[1] in sheet for name in NAMES)
    assert outline(combined) == [
        ("Service : Neurologie (2)", 1, [("Ligne 2 · E1", built[0]["pages"][0]),
                                         ("Ligne 6 · E5", built[1]["pages"][0])]),
        ("Service : Rééducation (2)", built[2]["pages"][0],
         [("Ligne 3 · E2", built[2]["pages"][0]), ("Ligne 5 · E4", built[3]["pages"][0])])]


def test_split_by_ward_files_together_hold_exactly_the_records(capsys, export, tmp_path):
    _, table, folder = export
    out = tmp_path / "split"
    code, stdout, _ = run_cli(capsys, "batch", str(table), "--out", str(out), "--jobs", "1",
                              "--split-by", "ward", "--format", "pdf")
    assert code == 1
    manifest = manifest_of(out)
    assert manifest["combined_pdf"] is None
    assert manifest["print_files"] == [
        {"file": "baclofen-print-export-Neurologie.pdf", "ward": "Neurologie", "records": 2},
        {"file": "baclofen-print-export-Reeducation.pdf", "ward": "Rééducation", "records": 2}]
    for entry in manifest["print_files"]:
        records = [r for r in manifest["records"] if r["print_file"] == entry["file"]]
        assert [r["id"] for r in records] == {"Neurologie": ["E1", "E5"],
                                              "Rééducation": ["E2", "E4"]}[entry["ward"]]
        path = out / entry["file"]
        assert str(path) in stdout
        with pikepdf.open(path) as part:
            assert len(part.pages) == records[-1]["pages"][1]
            for record in records:
                [same] = [r for r in manifest_of(folder / "out2")["records"]
                          if r["id"] == record["id"]]
                assert record["pages"][1] - record["pages"][0] == same["pages"][1] - \
                    same["pages"][0]
        assert [title for title, _, _ in outline(path)] == [
            f"Service : {entry['ward']} (2)"]
    refused = [r for r in manifest["records"] if r["status"] == "error"]
    assert [(r["id"], r["print_file"], r["pages"]) for r in refused] == [("E3", None, None)]


def test_rejected_csv_goes_back_to_the_ward_and_round_trips(capsys, export, tmp_path):
    _, _table, folder = export
    rejected = (folder / "out2" / "rejected.csv").read_bytes()
    assert rejected.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(rejected.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [*EXPORT_HEADER, "errors"]
    assert rows[1] == [*EXPORT_ROWS[2][:-1], "'" + EXPORT_ROWS[2][-1],
                       ("column daily_dose_mg: 500 mg/day is outside the plausible range "
                       "5-120 mg/day (check the value and its unit)")]
    assert len(rows) == 2
    rows[1][6] = "45"  # the ward fixes the dose and sends the file again
    fixed = tmp_path / "fixed.csv"
    with fixed.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream, delimiter=";").writerows(rows)
    [raw] = read_table(fixed)
    assert raw.values["name"] == "Chloé Petit" and "errors" not in raw.values
    code, _, stderr = run_cli(capsys, "batch", str(fixed), "--out", str(tmp_path / "o"),
                              "--jobs", "1", "--format", "pdf")
    assert code == 0, stderr
    assert [r["id"] for r in manifest_of(tmp_path / "o")["records"]] == ["E3"]
    assert (tmp_path / "o" / "rejected.csv").read_bytes() == (
        ";".join([*EXPORT_HEADER, "errors"]) + "\r\n").encode("utf-8-sig")


def test_sort_by_an_unknown_column_is_refused(capsys, tmp_path):
    table = write_export(tmp_path / "t.csv")
    code, _, stderr = run_cli(capsys, "batch", str(table), "--out", str(tmp_path / "o"),
                              "--sort-by", "Wrad")
    assert code == 2 and not (tmp_path / "o").exists()
    assert stderr == [(f"{table}: --sort-by: no column 'Wrad' in the file (did you mean "
                      "'ward'?)")]


def test_the_band_option_keeps_a_band_inside_the_safe_margin(capsys, tmp_path):
    table = write_export(tmp_path / "t.csv", rows=EXPORT_ROWS[:1])
    code, _, _ = run_cli(capsys, "batch", str(table), "--out", str(tmp_path / "o"), "--jobs",
                         "1", "--band", "--format", "pdf")
    assert code == 0
    combined = tmp_path / "o" / "baclofen-print-t.pdf"
    text = normalise(subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(combined), "-"],
                                    capture_output=True, text=True, check=True).stdout)
    assert "E1 · ligne 2 · Neurologie · 8 pages · 1/1" in text
    with pikepdf.open(combined) as pdf:
        page = pdf.pages[0]
        width, height = float(page.MediaBox[2]), float(page.MediaBox[3])
        rectangles = [[float(v) for v in operands] for operands, operator in
                      pikepdf.parse_content_stream(page.obj.Contents[-1])
                      if str(operator) == "re"]
    margin = 5 / 25.4 * 72
    [(x, y, w, h)] = rectangles
    assert x >= margin - 0.01 and y + h <= height - margin + 0.01 and x + w <= width - margin
    page = pypdfium2.PdfDocument(combined)[0]  # where a viewer finds it: top left, upright
    textpage = page.get_textpage()
    start = textpage.get_text_range().index("E1 · ligne")
    left, bottom, _, top = textpage.get_charbox(start)
    assert margin < left < 40 and height - 40 < bottom < top < height - margin


def test_a_language_to_review_fails_only_its_own_records(capsys, sources_copy, tmp_path):
    """French changed under the English: English records are refused, each reported,
    the French ones built; --allow-incomplete builds them all."""
    french = sources_copy / "fr.yaml"
    text = french.read_text(encoding="utf-8")
    assert text.count('  noon: "Midi"\n') == 1
    french.write_text(text.replace('  noon: "Midi"\n', '  noon: "À midi"\n'), encoding="utf-8")
    table = write_export(tmp_path / "t.csv", rows=[EXPORT_ROWS[i] for i in (0, 1, 4)])
    code, _, stderr = run_cli(capsys, "batch", str(table), "--out", str(tmp_path / "o"),
                                   "--sources", str(sources_copy), "--jobs", "1", "--format",
                                   "pdf")
    assert code == 1
    manifest = manifest_of(tmp_path / "o")
    assert [(r["id"], r["status"]) for r in manifest["records"]] == [
        ("E1", "ok"), ("E2", "error"), ("E5", "error")]
    for row in (3, 4):
        assert (f"{table}: row {row}, column lang: the 'en' translation has 1 problems (listed "
                "above); this record is not built (fix them (make_handouts.py check --lang en) "
                "or run with --allow-incomplete)") in stderr
    assert sum("labels.noon: to review" in line for line in stderr) == 1
    rejected = (tmp_path / "o" / "rejected.csv").read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(";")[1] for line in rejected[1:]] == ["E2", "E5"]
    code, _, stderr = run_cli(capsys, "batch", str(table), "--out", str(tmp_path / "o"),
                              "--sources", str(sources_copy), "--jobs", "1", "--format", "pdf",
                              "--allow-incomplete")
    assert code == 0
    assert any("labels.noon: to review: the French text is printed instead" in line
               for line in stderr)


def test_patient_and_the_default_build_accept_allow_incomplete(capsys, sources_copy, tmp_path):
    french = sources_copy / "fr.yaml"
    french.write_text(french.read_text(encoding="utf-8").replace('  noon: "Midi"\n',
                                                                 '  noon: "À midi"\n'),
                      encoding="utf-8")
    record = tmp_path / "p.yaml"
    record.write_text("id: P1\nvariant: oral\nlang: en\nname: Ann Lee\ndaily_dose_mg: 30\n",
                      encoding="utf-8")
    base = ["--sources", str(sources_copy), "--format", "pdf"]
    code, stdout, _ = run_cli(capsys, "patient", str(record), "--out", str(tmp_path / "p"), *base)
    assert code == 2 and stdout == []
    code, stdout, stderr = run_cli(capsys, "patient", str(record), "--out", str(tmp_path / "p"),
                                   *base, "--allow-incomplete")
    assert code == 0 and len(stdout) == 2
    assert any("labels.noon: to review: the French text is printed instead" in line
               for line in stderr)
    code, stdout, stderr = run_cli(capsys, "--out", str(tmp_path / "g"), *base)
    assert code == 1  # French built, English refused
    assert stdout and all("/fr/" in line for line in stdout)
    assert stderr[-1].startswith(f"{sources_copy / 'en.yaml'}: the 'en' translation has 0 "
                                 "errors and 1 strings to review; it is not built")


def font_programs(path: Path) -> dict[str, set[str]]:
    """Each font subset name of a PDF, and the font programs it names."""
    found: dict[str, set[str]] = {}
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                program = obj.get("/FontFile2") or obj.get("/FontFile3") or obj.get("/FontFile")
                found.setdefault(str(obj.FontName), set()).add(
                    hashlib.sha256(program.read_bytes()).hexdigest())
    return found


def test_no_two_font_programs_share_a_subset_name(export, built):
    """In any output, and across all of them: stamped documents (shape and canonical
    fonts), the print file (every shape's fonts), generic documents."""
    _, _, folder = export
    paths = [*(folder / "out2").rglob("*.pdf"), *built.rglob("*.pdf")]
    everywhere: dict[str, set[str]] = {}
    for path in paths:
        for name, programs in font_programs(path).items():
            assert len(programs) == 1, (path.name, name)
            everywhere.setdefault(name, set()).update(programs)
    assert len(paths) > 10 and len(everywhere) > 3
    assert {name: len(programs) for name, programs in everywhere.items()} == dict.fromkeys(
        everywhere, 1)


def spellings(header: str) -> list[str]:
    """How exports write the same header: case, accents, spacing and punctuation."""
    plain = unicodedata.normalize("NFKD", header.replace("µ", "u")).encode(
        "ascii", "ignore").decode()
    return [header, header.upper(), header.lower(), plain, plain.upper(),
            f"  {header} ", header.replace(" ", "_"), header.replace(" ", "  "),
            re.sub(r"[()/'’]", " ", header), header.replace("(", "[").replace(")", "]"),
            "\ufeff" + header, header.replace("µ", "mc")]


@pytest.mark.parametrize("field", ALL_FIELDS)
def test_every_spelling_of_a_field_or_its_french_headers_gives_the_field(field):
    for header in (field, field.replace("_", " ").title(), *FRENCH_HEADERS[field]):
        for spelling in spellings(header):
            assert field_for(spelling) == field, spelling


def test_ward_file_names_are_safe_and_distinct():
    wards = ["../../etc/passwd", "Neuro", "neuro", "NEURO", "Rééducation", "Réeducation",
             "", "   ", "Soins / intensifs", "病棟", "A" * 80, "C:\\Windows", ".hidden", "-x"]
    taken: set[str] = set()
    names = [_print_file_name("w", ward, taken) for ward in wards]
    assert len({name.casefold() for name in names}) == len(wards)
    assert all(re.fullmatch(r"baclofen-print-w-[A-Za-z0-9][A-Za-z0-9-]{0,44}\.pdf", name)
               for name in names), names
    assert names[:4] == ["baclofen-print-w-etc-passwd.pdf", "baclofen-print-w-Neuro.pdf",
                         "baclofen-print-w-neuro-2.pdf", "baclofen-print-w-NEURO-3.pdf"]


def test_rejected_rows_of_a_yaml_list_get_its_fields_as_columns(tmp_path):
    listing = tmp_path / "list.yaml"
    listing.write_text("- id: Y1\n  variant: oral\n  name: '=cmd'\n  daily_dose_mg: 500\n",
                       encoding="utf-8")
    [raw] = read_table(listing)
    result = RecordResult("Y1", raw.row, "error", [f"{raw.locate('daily_dose_mg')}: too high"])
    text = rejected_csv([(raw, result)], ()).decode("utf-8-sig")
    assert text.splitlines() == ["id;variant;name;daily_dose_mg;errors",
                                 f"Y1;oral;'=cmd;500;{listing}:4:18: too high"]
