"""Bulk batches: bad rows, spreadsheet dialects, identity with `patient`, resuming after
a kill, and the combined print PDF's page ranges."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pikepdf
import pytest

from handouts.errors import InputError
from handouts.records.readers import read_table
from handouts.records.validate import validate_record
from tests.conftest import normalise, run_cli

TODAY = dt.date.today()
REFILL, ALARM = TODAY + dt.timedelta(days=30), TODAY + dt.timedelta(days=33)
HEADER = ["id", "variant", "lang", "name", "daily_dose_mg", "daily_dose_ug",
          "concentration_ug_per_ml", "reservoir_ml", "next_refill", "alarm_date", "pump_model",
          "ward"]
ROWS = [
    ["B1", "oral", "fr", "Alice Lemaire", "22,5", "", "", "", "", "", "", "Neuro"],
    ["B2", "intrathecal", "en", "Bob Marchand", "", "250", "500", "20",
     REFILL.strftime("%d/%m/%Y"), ALARM.isoformat(), "SynchroMed II", "Rééducation"],
    ["B3", "intrathecal", "fr", "Chloé Petit", "40", "", "", "", "", "", "", "Neuro"],
    ["B4", "oral", "fr", "Denis Roux", "500", "", "", "", "", "", "", "Gériatrie"],
]


def write_csv(path: Path, rows=ROWS, delimiter=";", encoding="utf-8", newline="\r\n") -> Path:
    lines = [delimiter.join(row) for row in [HEADER, *rows]]
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def batch(capsys, table: Path, out: Path, *extra: str):
    return run_cli(capsys, "batch", str(table), "--out", str(out), "--jobs", "1", *extra)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """One mixed batch (two good rows, two bad), built once."""
    from handouts.cli import main
    folder = tmp_path_factory.mktemp("mixed")
    table = write_csv(folder / "ward.csv")
    code = main(["batch", str(table), "--out", str(folder / "out"), "--jobs", "2"])
    return code, table, folder / "out"


def test_bad_rows_are_reported_and_good_rows_built(mixed):
    code, table, out = mixed
    assert code == 1
    manifest = json.loads((out / "manifest.json").read_text())
    status = {r["id"]: (r["row"], r["status"]) for r in manifest["records"]}
    assert status == {"B1": (2, "ok"), "B2": (3, "ok"), "B3": (4, "error"), "B4": (5, "error")}
    errors = {r["id"]: r["errors"] for r in manifest["records"]}
    assert (f"{table}: row 4, column daily_dose_mg: not used for the intrathecal variant (a pump "
            "dose is in micrograms per day: use daily_dose_ug)") in errors["B3"]
    assert errors["B4"] == [(f"{table}: row 5, column daily_dose_mg: 500 mg/day is outside the "
                            "plausible range 5-120 mg/day (check the value and its unit)")]
    assert not (out / "B3").exists() and not (out / "B4").exists()
    assert len(list((out / "B1").glob("*.pdf"))) == 2
    assert len(list((out / "B2").glob("B2-*"))) == 6
    text = json.dumps(manifest)
    assert "Chloé" not in text and "Denis" not in text


def test_stderr_names_rows_and_columns_without_names(capsys, tmp_path):
    code, stdout, stderr = batch(capsys, write_csv(tmp_path / "w.csv", ROWS[2:]), tmp_path / "o")
    assert code == 1
    assert all(line.startswith(f"{tmp_path / 'w.csv'}: row ") for line in stderr[:-1])
    assert not any("Chloé" in line or "Denis" in line for line in stderr + stdout)
    assert stderr[-1] == "batch: 2 rows read, 0 built (0 already up to date), 2 refused"
    assert stdout == [str(tmp_path / "o" / "rejected.csv"), str(tmp_path / "o" / "manifest.json")]


def test_manifest_files_have_checksums_and_pages_match_the_combined_pdf(mixed):
    _, _, out = mixed
    manifest = json.loads((out / "manifest.json").read_text())
    import hashlib
    with pikepdf.open(out / manifest["combined_pdf"]) as combined:
        total = len(combined.pages)
        ok = [r for r in manifest["records"] if r["status"] == "ok"]
        for record in ok:
            for entry in record["files"]:
                assert hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest() == \
                    entry["sha256"]
            first, last = record["pages"]
            assert first % 2 == 1
            pdfs = [out / f["path"] for f in record["files"] if f["path"].endswith(".pdf")]
            expected = 2  # the separator sheet, front and back
            for path in pdfs:
                expected += (expected % 2) + len(pikepdf.open(path).pages)
            assert last - first + 1 == expected
        assert ok[-1]["pages"][1] == total
    separator = normalise(subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(out / manifest["combined_pdf"]), "-"],
        capture_output=True, text=True, check=True).stdout)
    assert separator.startswith("B1 Ligne 2 Service : Neuro 2 documents · 8 pages Dossier 1 / 2")
    assert "Alice" not in separator


def test_batch_and_patient_give_byte_identical_files(capsys, mixed, tmp_path):
    _, _, out = mixed
    record = tmp_path / "b2.yaml"
    record.write_text(
        "id: B2\nvariant: intrathecal\nlang: en\nname: Bob Marchand\ndaily_dose_ug: 250\n"
        "concentration_ug_per_ml: 500\nreservoir_ml: 20\n"
        f"next_refill: {REFILL.isoformat()}\nalarm_date: {ALARM.isoformat()}\n"
        "pump_model: SynchroMed II\nward: Rééducation\n", encoding="utf-8")
    code, stdout, _ = run_cli(capsys, "patient", str(record), "--out", str(tmp_path / "p"))
    assert code == 0 and len(stdout) == 6
    for line in stdout:
        path = Path(line)
        assert path.read_bytes() == (out / "B2" / path.name).read_bytes(), path.name


def test_csv_dialects_and_xlsx_read_the_same_records(tmp_path):
    variants = [
        write_csv(tmp_path / "semicolon.csv"),
        write_csv(tmp_path / "comma.csv", [[c.replace(",", ".") for c in row] for row in ROWS],
                  delimiter=",", newline="\n"),
        write_csv(tmp_path / "tab.tsv", delimiter="\t", encoding="utf-8-sig"),
        write_csv(tmp_path / "windows.csv", encoding="cp1252"),
    ]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in ROWS:
        cells = [float(c.replace(",", ".")) if c.replace(",", "").replace(".", "").isdigit()
                 else c for c in row]
        if row[8]:
            cells[8], cells[9] = dt.datetime.combine(REFILL, dt.time()), dt.datetime.combine(
                ALARM, dt.time())
        sheet.append(cells)
    workbook.save(tmp_path / "export.xlsx")
    variants.append(tmp_path / "export.xlsx")

    def patients(path):
        result = []
        for raw in read_table(path):
            try:
                result.append(validate_record(raw, ["fr", "en"], require_id=True))
            except InputError as error:  # bad rows must be bad in every dialect
                result.append(type(error).__name__)
        return result
    reference = patients(variants[0])
    assert reference[0].daily_dose_mg == 22.5 and reference[0].name == "Alice Lemaire"
    assert reference[1].next_refill == REFILL and reference[1].name == "Bob Marchand"
    assert reference[2:] == ["InputError", "InputError"]
    for path in variants[1:]:
        assert patients(path) == reference, path.name


@pytest.mark.parametrize("content, message", [
    ("", "the file is empty (the first row names the columns)"),
    ("variant;lang\noral;fr\n", ("row 1: no 'id' column (row 1 must name the columns; each "
                                "record needs an id, used to name its files)")),
    ("id;variant;daily_dose\nA;oral;30\n", ("row 1, column 3: column 'daily_dose' looks like a "
                                          "misspelt field (did you mean 'daily_dose_mg' or "
                                          "'daily_dose_ug'? rename it, or map or ignore it with "
                                          "--columns)")),
    ("id;variant;daily_dose_mg\nA;oral;30\nA;oral;40\n", ("row 3, column id: duplicate id "
                                                        "'A' (also in row 2)")),
])
def test_unusable_files_stop_before_writing(capsys, tmp_path, content, message):
    table = tmp_path / "bad.csv"
    table.write_text(content, encoding="utf-8")
    code, stdout, stderr = batch(capsys, table, tmp_path / "out")
    assert code == 2 and stdout == []
    assert stderr[0] == f"{table}: {message}"
    assert not (tmp_path / "out").exists()


def test_rerun_skips_up_to_date_records_and_force_rebuilds(capsys, tmp_path):
    table = write_csv(tmp_path / "two.csv", ROWS[:2])
    assert batch(capsys, table, tmp_path / "o")[0] == 0
    code, stdout, stderr = batch(capsys, table, tmp_path / "o")
    assert code == 0 and stderr[-1] == "batch: 2 rows read, 2 built (2 already up to date), 0 refused"
    assert [Path(p).name for p in stdout] == ["baclofen-print-two.pdf", "rejected.csv",
                                              "manifest.json"]
    code, stdout, stderr = batch(capsys, table, tmp_path / "o", "--force")
    assert stderr[-1] == "batch: 2 rows read, 2 built (0 already up to date), 0 refused"
    assert len(stdout) == 4 + 6 + 3


RECORDS_KILLED = 120  # a record takes milliseconds: enough of them to be killed midway


def test_a_killed_batch_resumes_and_completes(tmp_path):
    rows = [[f"K{i}", "oral", "fr", f"Name {i}", "30", "", "", "", "", "", "", "W"]
            for i in range(RECORDS_KILLED)]
    table = write_csv(tmp_path / "kill.csv", rows)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "handouts", "batch", str(table),
               "--out", str(out), "--jobs", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(out.glob("K1/.record.json")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "manifest.json").exists()
    done_before = len(list(out.glob("*/.record.json")))
    assert 0 < done_before < RECORDS_KILLED
    # no empty file but the temporary file of the write the kill interrupted
    assert not [p for p in out.rglob("*")
                if p.is_file() and p.stat().st_size == 0 and p.suffix != ".part"]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    assert not list(out.rglob("*.part"))  # a killed write's temporary file is cleared
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"batch: {RECORDS_KILLED} rows read, {RECORDS_KILLED} built ({done_before} already up to "
        "date), 0 refused")
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["status"] for r in manifest["records"]] == ["ok"] * RECORDS_KILLED
    for record in manifest["records"]:
        for entry in record["files"]:
            path = out / entry["path"]
            if path.suffix == ".pdf":
                with pikepdf.open(path) as pdf:
                    assert len(pdf.pages) >= 1


def test_a_rerun_takes_each_page_from_the_state_files(capsys, tmp_path, monkeypatch):
    """Up-to-date records are not parsed again for the combined PDF: the state file
    says how each page is built; only the first record of a shape is read, for the
    drawings every record of that shape shares."""
    rows = [[f"R{i}", "oral", "fr", f"Nom {i}", "30", "", "", "", "", "", "", "W"]
            for i in range(4)]
    table = write_csv(tmp_path / "again.csv", rows)
    out = tmp_path / "o"
    assert batch(capsys, table, out)[0] == 0
    combined = out / "baclofen-print-again.pdf"
    before = subprocess.run(["pdftotext", str(combined), "-"], capture_output=True, text=True,
                            check=True).stdout
    pages_before = [r["pages"] for r in json.loads((out / "manifest.json").read_text())["records"]]
    opened = []
    real_open = pikepdf.open
    monkeypatch.setattr(pikepdf, "open", lambda source, *a, **k: (
        isinstance(source, Path) and opened.append(source)) or real_open(source, *a, **k))
    code, _, stderr = batch(capsys, table, out)
    assert code == 0 and stderr[-1] == "batch: 4 rows read, 4 built (4 already up to date), 0 refused"
    assert {path.parent.name for path in opened} == {"R0"}
    assert subprocess.run(["pdftotext", str(combined), "-"], capture_output=True, text=True,
                          check=True).stdout == before
    assert [r["pages"] for r in json.loads((out / "manifest.json").read_text())["records"]] \
        == pages_before
