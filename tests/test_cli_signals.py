"""``essaycheck score`` stopped mid-run, as a teacher or a supervisor stops it: Ctrl+C,
SIGTERM, or SIGKILL of a ``--jobs`` run. Nothing half-written, no temporary file, no worker
left running, and an exit status that says "interrupted". Each test starts a real process."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANSWER = ("Khrushchev delivered the speech to distance himself and the Party from Stalin's "
          "crimes, to weaken rivals such as Molotov who were linked to the purges, and to "
          "rehabilitate the victims so that people were less afraid. ") * 3
WAIT = 120.0   # the machine may be busy: generous bounds, never an endless wait

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def class_file(folder: Path, rows: int) -> Path:
    path = folder / "answers.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "question_id", "answer"])
        for i in range(rows):
            writer.writerow([f"s{i}", "secret-speech-1956", ANSWER])
    return path


def default_sigint() -> None:
    """In the child before exec: SIGINT back to its default. A shell without job control
    starts background commands with SIGINT ignored, and a process keeps an ignored SIGINT
    (as a user's background job should), so the test would otherwise depend on how it was
    started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_score(folder: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "essaycheck", "score", "answers.csv", "-o", "results.csv",
         "--rubrics", str(ROOT / "rubric"), *extra],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_sigint)


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".results.csv.")]


def children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_run_writes_nothing_and_says_so(tmp_path, signum, status):
    class_file(tmp_path, 4000)
    process = start_score(tmp_path)
    wait_for(lambda: temporaries(tmp_path) or process.poll() is not None, "scoring to start")
    assert process.poll() is None, process.communicate()
    process.send_signal(signum)
    _, err = process.communicate(timeout=WAIT)
    assert process.returncode == status, err
    assert "nothing was written" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_a_killed_jobs_run_leaves_no_worker_and_the_next_run_tidies_up(tmp_path):
    class_file(tmp_path, 6000)
    process = start_score(tmp_path, "--jobs", "2")
    wait_for(lambda: temporaries(tmp_path) or process.poll() is not None, "scoring to start")
    wait_for(lambda: len(children(process.pid)) >= 3 or process.poll() is not None,
             "the workers and the resource tracker to start")
    assert process.poll() is None, process.communicate()
    spawned = children(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=WAIT)
    wait_for(lambda: not any(alive(pid) for pid in spawned), "the workers to stop")
    left = temporaries(tmp_path)
    assert left, "kill -9 gives no chance to clean up: a temporary file stays"
    # the next run with the same output removes what the killed one left
    class_file(tmp_path, 2)
    rerun = start_score(tmp_path)
    _, err = rerun.communicate(timeout=WAIT)
    assert rerun.returncode == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv", "results.csv"]
