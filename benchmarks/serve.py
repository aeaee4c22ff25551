"""Web app benchmark: simulated clinicians posting valid records to `make_handouts serve`
over loopback, next to the cold `patient` command, in one run.

    .venv/bin/python benchmarks/serve.py [--clinicians 1 4 8] [--rounds 15] [--workers N]

Starts the server on a free port (warm workers, as in production) and waits until it
answers a submit. Each simulated clinician (a thread with its own connection and CSRF
token) then, per round, submits a new patient's form (a distinct name; two thirds
tablets, one third pumps, a quarter in English) and gets the preview page, then
downloads that patient's whole set as one ZIP (leaflet, insert and pump card, PDF and
DOCX). Prints, per number of concurrent clinicians, p50 and p95 latency of the submit
and of the ZIP, patients and documents per second, and the cold `patient` command's
median time (a new process per patient, as a clinician runs it today) with the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bulk import FIRST, LAST

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
RECORD = re.compile(r'name="record" value="([^"]+)"')


def record(rng: random.Random, number: int) -> dict[str, str]:
    """A valid patient as a clinician fills the form in."""
    today = dt.date.today()
    common = {"id": f"bench-{number}", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {number}",
              "prescriber": f"Dr {rng.choice(LAST)}", "lang": "en" if rng.random() < 0.25 else "fr"}
    if rng.random() < 2 / 3:
        dose = rng.choice([15, 30, 45, 60, 75])
        return {**common, "variant": "oral", "daily_dose_mg": str(dose), "doses_per_day": "3"}
    refill = today + dt.timedelta(days=rng.randint(20, 28))  # before the 300 µg/day empty day
    return {**common, "variant": "intrathecal", "daily_dose_ug": str(rng.choice([200, 250, 300])),
            "concentration_ug_per_ml": "500", "reservoir_ml": "20",
            "next_refill": refill.isoformat(),
            "alarm_date": (refill + dt.timedelta(days=3)).isoformat(),
            "pump_model": "SynchroMed II"}


class Clinician(threading.Thread):
    def __init__(self, url: str, records: list[dict[str, str]], barrier: threading.Barrier):
        super().__init__(daemon=True)
        self.url, self.records, self.barrier = url, records, barrier
        self.submits: list[float] = []
        self.zips: list[float] = []
        self.documents = 0
        self.failures = 0

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            token = CSRF.search(client.get("/").text).group(1)
            self.barrier.wait()
            for values in self.records:
                start = time.perf_counter()
                preview = client.post("/", data={"csrf": token, **values})
                self.submits.append(time.perf_counter() - start)
                found = RECORD.search(preview.text)
                if preview.status_code != 200 or found is None:
                    self.failures += 1
                    continue
                start = time.perf_counter()
                archive = client.post("/download", data={
                    "csrf": token, "record": html.unescape(found.group(1)), "file": "zip"})
                self.zips.append(time.perf_counter() - start)
                if archive.status_code != 200:
                    self.failures += 1
                self.documents += 6 if values["variant"] == "intrathecal" else 4


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run_level(url: str, clinicians: int, rounds: int, rng: random.Random, start_at: int):
    barrier = threading.Barrier(clinicians + 1)
    threads = [Clinician(url, [record(rng, start_at + c * rounds + r) for r in range(rounds)],
                         barrier) for c in range(clinicians)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    submits = [s for t in threads for s in t.submits]
    zips = [z for t in threads for z in t.zips]
    return {"clinicians": clinicians, "submit_p50": percentile(submits, 0.5),
            "submit_p95": percentile(submits, 0.95), "zip_p50": percentile(zips, 0.5),
            "zip_p95": percentile(zips, 0.95), "patients_s": len(zips) / wall,
            "documents_s": sum(t.documents for t in threads) / wall,
            "failures": sum(t.failures for t in threads)}


def cold_patient(samples: int, rng: random.Random, work: Path) -> float:
    """Median wall time of `patient FILE.yaml` in a new process (PDF and DOCX)."""
    times = []
    for number in range(samples):
        path = work / f"cold-{number}.yaml"
        path.write_text(yaml.safe_dump(record(rng, 90_000 + number), allow_unicode=True),
                        encoding="utf-8")
        start = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "make_handouts.py"), "patient", str(path),
                        "--out", str(work / "out")], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def start_server(workers: int | None, log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, str(ROOT / "make_handouts.py"), "serve", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    with log.open("w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/", timeout=2)
            return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"serve did not start: {log.read_text()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clinicians", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--rounds", type=int, default=15, help="patients per clinician")
    parser.add_argument("--workers", type=int, help="server render workers (default: serve's)")
    parser.add_argument("--cold", type=int, default=3, help="cold patient runs")
    args = parser.parse_args()
    rng = random.Random(16)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        process, url = start_server(args.workers, work / "serve.log")
        try:
            # Wait for the workers' warm-up: every worker renders a first patient.
            run_level(url, max(args.clinicians), 2, rng, 50_000)
            levels = []
            for number, clinicians in enumerate(args.clinicians):
                levels.append(run_level(url, clinicians, args.rounds, rng, number * 10_000))
                print(f"{clinicians} clinicians done", file=sys.stderr)
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        cold = cold_patient(args.cold, rng, work)
    print(f"cold `patient` command (new process, PDF and DOCX): {cold * 1000:.0f} ms median")
    print("| clinicians | submit -> preview p50 / p95 | whole set (ZIP) p50 / p95 | "
          "patients/s | documents/s | cold / ZIP p95 | failures |")
    print("|---|---|---|---|---|---|---|")
    for level in levels:
        print(f"| {level['clinicians']} | {level['submit_p50'] * 1000:.0f} / "
              f"{level['submit_p95'] * 1000:.0f} ms | {level['zip_p50'] * 1000:.0f} / "
              f"{level['zip_p95'] * 1000:.0f} ms | {level['patients_s']:.1f} | "
              f"{level['documents_s']:.1f} | {cold / level['zip_p95']:.1f}x | "
              f"{level['failures']} |")
    return 1 if any(level["failures"] for level in levels) else 0


if __name__ == "__main__":
    sys.exit(main())
