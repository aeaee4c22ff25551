"""Bulk benchmark: `batch` against the naive in-process loop and the one-process-per-
patient loop, on N synthetic records (mixed variants and languages), in one run.

    .venv/bin/python benchmarks/bulk.py --n 1000 [--n 5000] [--jobs 2] [--sample 20]

Prints, per N: amortised wall time per patient for `batch` (all files, combined PDF and
manifest), the naive loop (full render of every document for every patient, no
sharing, measured on a sample), the per-process loop (`patient` once per record, on a
sample), their ratios, the batch's peak memory (all its processes), and the combined PDF's size per patient
beyond the shared pages. It then checks, on a sample, that every personal page of the
batch's leaflets is pixel-identical (72 dpi) to a full render of the same patient, and
exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pikepdf

from handouts.build import Renderer
from handouts.compose import compose, documents_for
from handouts.errors import InputError
from handouts.records.readers import read_table
from handouts.records.validate import validate_record
from handouts.render.docx import write_docx
from handouts.sources.loading import load_sources

FIELDS = ["id", "variant", "lang", "name", "prescriber", "daily_dose_mg", "doses_per_day",
          "titration_start", "titration_start_mg", "titration_step_mg", "titration_every_days",
          "daily_dose_ug", "concentration_ug_per_ml", "reservoir_ml", "next_refill", "alarm_date",
          "pump_model", "ward"]
FIRST = ["Alice", "Bernard", "Chloé", "Driss", "Élodie", "François", "Gaëlle", "Hugo", "Inès",
         "Jules", "Karima", "Léa", "Mathis", "Noémie", "Omar", "Pauline", "Quentin", "Rose",
         "Samir", "Thérèse", "Ugo", "Valérie", "William", "Yasmine", "Zoé"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
        "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier"]


def _name(rng: random.Random) -> str:
    """Mostly distinct names (about 15,000 combinations), as in a real ward: each
    distinct value is drawn once, so repeated names would flatter the batch."""
    last = rng.choice(LAST)
    if rng.random() < 0.5:
        last += "-" + rng.choice(LAST)
    return f"{rng.choice(FIRST)} {last}"


def synthetic(n: int, path: Path, seed: int = 7) -> Path:
    """N plausible records: two thirds tablets, one third pumps, a quarter in English."""
    rng = random.Random(seed)
    today = dt.date.today()
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, delimiter=";")
        writer.writerow(FIELDS)
        for i in range(n):
            row = dict.fromkeys(FIELDS, "")
            row.update(id=f"S{i:05d}", lang="en" if rng.random() < 0.25 else "fr",
                       name=_name(rng),
                       prescriber=f"Dr {rng.choice(LAST)}", ward=f"W{rng.randint(1, 9)}")
            if rng.random() < 2 / 3:
                dose = rng.choice([15, 30, 45, 60])
                row.update(variant="oral", daily_dose_mg=dose, doses_per_day=3)
                if dose > 15 and rng.random() < 0.5:
                    row.update(titration_start=(today + dt.timedelta(days=7)).isoformat(),
                               titration_start_mg=15, titration_step_mg=15,
                               titration_every_days=4)
            else:
                refill = today + dt.timedelta(days=rng.randint(20, 30))  # before it runs empty
                row.update(variant="intrathecal", daily_dose_ug=rng.choice([200, 250, 300]),
                           concentration_ug_per_ml=500, reservoir_ml=20,
                           next_refill=refill.strftime("%d/%m/%Y"),
                           alarm_date=(refill + dt.timedelta(days=2)).isoformat(),
                           pump_model="SynchroMed II")
            writer.writerow([row[f] for f in FIELDS])
    return path


def _tree_rss(root: int) -> tuple[int, int]:
    """Resident memory (KB) of a process and all its descendants: (total, largest)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        grown = tree | {pid for pid, parent in parents.items() if parent in tree}
        grew, tree = grown != tree, grown
    sizes = []
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        sizes += [int(line.split()[1]) for line in status.splitlines()
                  if line.startswith("VmRSS:")]
    return sum(sizes), max(sizes, default=0)


def run_batch(table: Path, out: Path, jobs: int) -> tuple[float, int, int]:
    """Wall time and peak memory (KB: all the batch's processes together, and the
    largest one) of one `batch` run, sampled every 100 ms."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "make_handouts.py"), "batch", str(table), "--out", str(out),
         "--jobs", str(jobs), "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_total = peak_largest = 0
    while process.poll() is None:
        total, largest = _tree_rss(process.pid)
        peak_total, peak_largest = max(peak_total, total), max(peak_largest, largest)
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        sys.exit(f"batch failed: {process.stderr.read().decode()[-2000:]}")
    return wall, peak_total, peak_largest


def naive_per_patient(table: Path, sample: int) -> float:
    """Every document of every patient rendered in full, nothing shared."""
    sources = load_sources()
    patients = [validate_record(raw, list(sources.languages), require_id=True)
                for raw in read_table(table)[:sample]]
    renderer = Renderer(sources)
    start = time.perf_counter()
    for patient in patients:
        for kind in documents_for(patient.variant):
            document = compose(sources, patient.lang, patient.variant, kind, patient)
            rendered = renderer.pdf.render(document, sources.profile.name)
            renderer.pdf.write(rendered, f"naive/{patient.id}/{document.stem}")
            write_docx(document, sources.profile.name)
    return (time.perf_counter() - start) / len(patients)


def per_process_per_patient(table: Path, sample: int, work: Path) -> float:
    """`make_handouts.py patient` once per record, as a shell loop would."""
    records = read_table(table)[:sample]
    files = []
    for raw in records:
        path = work / f"{raw.values['id']}.yaml"
        path.write_text("".join(f'{k}: "{v}"\n' for k, v in raw.values.items()), encoding="utf-8")
        files.append(path)
    start = time.perf_counter()
    for path in files:
        subprocess.run([sys.executable, str(ROOT / "make_handouts.py"), "patient", str(path),
                        "--out", str(work / "out")], check=True, capture_output=True)
    return (time.perf_counter() - start) / len(files)


def pixels(pdf: Path, page: int, work: Path) -> bytes:
    prefix = work / f"r{time.perf_counter_ns()}"
    subprocess.run(["pdftoppm", "-r", "72", "-gray", "-f", str(page), "-l", str(page), str(pdf),
                    str(prefix)], check=True)
    [image] = list(work.glob(f"{prefix.name}*"))
    data = image.read_bytes()
    image.unlink()
    return data


def raster_check(table: Path, out: Path, sample: int, work: Path) -> int:
    """Every personal page of the batch's documents (leaflet front pages, insert, card)
    vs a full render of the same patient."""
    sources = load_sources()
    renderer = Renderer(sources)
    differences = 0
    for raw in read_table(table)[:sample]:
        try:
            patient = validate_record(raw, list(sources.languages), require_id=True)
        except InputError:
            continue
        for kind in documents_for(patient.variant):
            document = compose(sources, patient.lang, patient.variant, kind, patient)
            full = work / f"{patient.id}-{kind}-full.pdf"
            full.write_bytes(renderer.pdf.render(document, sources.profile.name).write_pdf())
            batch_pdf = out / patient.id / f"{patient.id}-{document.stem}-{patient.lang}.pdf"
            for page in range(1, max(len(document.front), 1) + 1):
                if pixels(full, page, work) != pixels(batch_pdf, page, work):
                    differences += 1
                    print(f"  DIFFERENT: {patient.id} {kind} page {page}")
    return differences


def shared_bytes(combined: Path) -> int:
    """Bytes of the streams the combined PDF shares between records: the content
    streams between the records' overlays (shapes and shared pages) and the pages'
    resources (fonts, images), with everything they reference."""
    seen: set[tuple[int, int]] = set()
    total = 0

    def walk(obj) -> None:
        nonlocal total
        if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
            return
        if obj.is_indirect:
            if obj.objgen in seen:
                return
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Stream):
            total += len(obj.read_raw_bytes())
        children = obj if isinstance(obj, pikepdf.Array) else [obj[k] for k in obj]
        for child in children:
            walk(child)

    with pikepdf.open(combined) as pdf:
        for page in pdf.pages:
            walk(page.obj.get("/Resources"))
            contents = page.obj.get("/Contents")
            if isinstance(contents, pikepdf.Array):
                for part in contents[0::2]:
                    walk(part)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="records (repeatable)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=20, help="records for the slow loops")
    args = parser.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for n in args.n or [1000]:
            table = synthetic(n, work / f"bench-{n}.csv")
            out = work / f"out-{n}"
            wall, peak, largest = run_batch(table, out, args.jobs)
            batch = wall / n
            naive = naive_per_patient(table, min(args.sample, n))
            per_process = per_process_per_patient(table, min(max(args.sample // 4, 3), n), work)
            combined_path = next(out.glob("baclofen-print-*.pdf"))
            combined = combined_path.stat().st_size
            beyond = (combined - shared_bytes(combined_path)) / n
            print(f"N = {n} (jobs {args.jobs}, sample {args.sample})")
            print(f"  batch          {batch * 1000:8.1f} ms/patient  (wall {wall:.1f} s)")
            print(f"  naive loop     {naive * 1000:8.1f} ms/patient  -> batch is "
                  f"{naive / batch:.1f}x faster")
            print(f"  per-process    {per_process * 1000:8.1f} ms/patient  -> batch is "
                  f"{per_process / batch:.1f}x faster")
            print(f"  peak memory    {peak / 1024:8.0f} MB (all processes; largest "
                  f"{largest / 1024:.0f} MB)")
            print(f"  combined PDF   {combined / 1024:8.0f} KB, {beyond / 1024:.1f} KB/patient "
                  "beyond the shared pages")
            differences = raster_check(table, out, min(args.sample, n), work)
            print(f"  raster check   {differences} personal pages differ from a full render")
            failures += differences
            shutil.rmtree(out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
