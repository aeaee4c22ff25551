"""Family 7: faults are one line naming the path and the cause, exit 2 (130 for
Ctrl-C), and a command's files are written all or nothing: --out that is a file, a full
or read-only disk, `ulimit -f`, an unreadable input, Ctrl-C at start-up, two batches on
one folder (a lock), and workers that stop by themselves when the batch is killed."""

from __future__ import annotations

import errno
import fcntl
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.integrity_kit import batch, day, files_under, oral, write_csv

PUMP_RECORD = (f"id: F1\nvariant: intrathecal\nname: Jean Dupont\ndaily_dose_ug: 250\n"
               f"concentration_ug_per_ml: 500\nreservoir_ml: 20\nnext_refill: {day(30)}\n"
               f"alarm_date: {day(33)}\npump_model: SynchroMed II\n")
COMMAND = [sys.executable, "-m", "handouts"]


@pytest.fixture
def record(tmp_path) -> Path:
    path = tmp_path / "f1.yaml"
    path.write_text(PUMP_RECORD, encoding="utf-8")
    return path


def test_out_that_is_a_file(capsys, tmp_path, record):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    for command in (["patient", str(record)], ["batch", str(write_csv(tmp_path / "b.csv",
                                                                      [oral("B1")]))]):
        code, stdout, stderr = run_cli(capsys, *command, "--out", str(target))
        assert (code, stdout) == (2, [])
        assert stderr == [(f"{target}: --out is a file, not a folder (give a folder (it is "
                          "created if missing))")]
    assert target.read_text() == "not a folder"


@pytest.mark.parametrize("code_, cause", [(errno.ENOSPC, "No space left on device"),
                                          (errno.EROFS, "Read-only file system"),
                                          (errno.EDQUOT, "Disk quota exceeded")])
def test_a_failed_write_leaves_none_of_the_patients_files(capsys, tmp_path, record,
                                                          monkeypatch, code_, cause):
    calls = []

    def failing_fsync(descriptor):
        calls.append(descriptor)
        if len(calls) == 4:  # the fourth of the six files
            raise OSError(code_, os.strerror(code_))
    monkeypatch.setattr(os, "fsync", failing_fsync)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(capsys, "patient", str(record), "--out", str(out))
    assert (code, stdout) == (2, [])
    assert len(stderr) == 1
    assert stderr[0].startswith(str(out / "F1" / "F1-baclofen-intrathecal-")) and stderr[0].endswith(
        f": cannot write: {cause}")
    assert files_under(out) == []


def test_a_file_size_limit_is_a_message_not_a_kill(tmp_path, record):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))
    out = tmp_path / "out"
    result = subprocess.run([*COMMAND, "patient", str(record), "--out", str(out)],
                            capture_output=True, text=True, preexec_fn=limit, check=False)
    assert (result.returncode, result.stdout) == (2, "")
    [line] = result.stderr.splitlines()
    assert line.startswith(str(out / "F1" / "F1-")) and line.endswith(": cannot write: File too large")
    assert files_under(out) == []


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_an_unreadable_input(capsys, tmp_path, monkeypatch, suffix):
    path = tmp_path / f"locked{suffix}"
    path.write_text("id;variant\n")

    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))
    monkeypatch.setattr(Path, "read_bytes", denied)
    monkeypatch.setattr(Path, "read_text", denied)
    command = ["batch", str(path)] if suffix == ".csv" else ["patient", str(path)]
    code, stdout, stderr = run_cli(capsys, *command, "--out", str(tmp_path / "out"))
    assert (code, stdout) == (2, [])
    assert stderr == [f"{path}: cannot read the file: Permission denied"]
    assert not (tmp_path / "out").exists()


def test_ctrl_c_at_start_up_is_one_line(tmp_path, record):
    process = subprocess.Popen([*COMMAND, "patient", str(record), "--out", str(tmp_path / "o")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)  # while the libraries load
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert (process.returncode, stdout, stderr) == (130, "", "interrupted\n")


def test_a_second_batch_on_the_same_folder_refuses(capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    first_batch_file = out / ".baclofen-print-b.pdf.x1.part"
    first_batch_file.write_bytes(b"being written")
    with (out / ".batch.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        code, stdout, stderr, manifest = batch(capsys, write_csv(tmp_path / "b.csv",
                                                                 [oral("B1")]), out)
    assert (code, stdout, manifest) == (2, [], None)
    assert stderr == [(f"{out}: another batch is writing to this folder (process {os.getpid()}) "
                      "(wait until it ends, or choose another --out)")]
    assert first_batch_file.read_bytes() == b"being written"
    assert files_under(out) == [out / ".baclofen-print-b.pdf.x1.part", out / ".batch.lock"]


def descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1]
                                               .split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return "Z" not in (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1][:3]
    except OSError:
        return False


def test_workers_stop_when_the_batch_is_killed(tmp_path):
    table = write_csv(tmp_path / "k.csv", [oral(f"K{i}") for i in range(400)])
    out = tmp_path / "out"
    process = subprocess.Popen([*COMMAND, "batch", str(table), "--out", str(out), "--jobs", "2",
                                "--format", "pdf"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(out.glob("*/.record.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = descendants(process.pid)
    assert len(workers) >= 2  # the fork server and its workers
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)]
    assert len(list(out.glob("*/.record.json"))) < 400
