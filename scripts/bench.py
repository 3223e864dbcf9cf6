#!/usr/bin/env python3
"""Benchmark essaycheck in one run and write the table to BENCHMARKS.md (issue 6).

    python scripts/bench.py              # full run (`make bench`): every part, writes BENCHMARKS.md
    python scripts/bench.py --quick      # smoke run with small sizes; prints, writes nothing
    python scripts/bench.py --only a,b   # some parts only (a b c d e f)
    python scripts/bench.py --only b --profile   # also profile check_many (needs '.[bench]')

Parts, all on the same seeded synthetic class (sentences of the revision notes plus the
rubrics' model answers; answers of 50 to 400 words, both questions, a few bad rows):

  (a) the spaCy pipeline alone over the texts: the floor;
  (b) ``Checker.check_many`` over the same texts: answers per second and the ratio (b)/(a),
      for the 50-400-word mix and for 150-word answers (the per-core target);
  (c) ``essaycheck score`` end to end on a 20,000-row CSV with --jobs 1 and --jobs 2;
  (d) ``essaycheck serve`` under 16 concurrent clients on loopback for 30 s;
  (e) cold start: process start to first result, CLI and server;
  (f) peak memory of ``essaycheck score`` on 10,000 and 100,000 rows.

A command that is not available yet (``essaycheck score --help`` fails) gives a 'not available'
row rather than a crash. Every run of a command is bounded in time, so the whole benchmark stays
well under ten minutes on two cores; a run that hits its bound is reported as timed out.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
RUBRIC_DIR = ROOT / "rubric"
#: The revision notes the rubrics were drafted from; in a fresh clone, ../shared/source/.
NOTES = ROOT.parent / "shared" / "source" / "khrushchev-destalinisation-notes.txt"
BENCHMARKS = ROOT / "BENCHMARKS.md"

SEED = 20_060  # the synthetic class is the same on every run
WORDS = (50, 400)
BAD_SHARE = 0.02  # share of rows that cannot be scored (empty, blank, unknown question, too long)
BAD_KINDS = ("empty", "blank", "unknown-question", "too-long")
UNKNOWN_QUESTION = "no-such-question"

# The documented interfaces of the edges (README, issue text).
CSV_COLUMNS = ("student_id", "question_id", "answer")
API_PATH = "/api/v1/check"
CLIENTS = 16

FULL = dict(core_mix=2000, core_150=1500, cli_rows=20_000, web_seconds=30.0, cold_repeats=3,
            memory_rows=(10_000, 100_000))
QUICK = dict(core_mix=150, core_150=150, cli_rows=600, web_seconds=3.0, cold_repeats=1,
             memory_rows=(500, 2_000))
#: Answers in the memory runs (f): short, so that 100,000 rows fit the time budget; memory in
#: flight is a chunk of rows whatever their length, and growth with the row count is the test.
MEMORY_WORDS = (50, 100)

# Upper bounds on single runs, so one slow command cannot push the benchmark past ten minutes
# on two cores: at most about 35 s for (a)+(b), 2 x 100 s for (c), 2 x 35 s for (d), 15 s for (e)
# and 40 + 200 s for (f). A run that hits its bound is reported as timed out.
LIMITS = dict(cli_run=100.0, memory_small=40.0, memory_large=200.0, server_start=60.0,
              cold_cli=30.0)
#: Exit codes of 'essaycheck score' that mean the output was written (1: some rows had errors,
#: as the synthetic class's bad rows should).
SCORE_OK = (0, 1)

TARGETS = {
    "ratio": 0.5,            # (b) throughput at least half of (a)
    "per_core": 1000.0,      # answers per second per core on 150-word answers
    "speedup": 1.7,          # --jobs 2 over --jobs 1, on two cores
    "p95_ms": 25.0,          # web p95 latency under 16 clients, no errors
    "cold_s": 1.5,           # cold start, CLI and server
    "memory_mb": 300.0,      # peak RSS, 10,000 and 100,000 rows
    "memory_ratio": 1.10,    # "the same": 100,000 rows within 10% of 10,000 rows
}


# -- the synthetic class ------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One synthetic answer: ``kind`` is 'ok' or one of ``BAD_KINDS``."""

    key: str
    question_id: str
    answer: str
    kind: str = "ok"

    @property
    def words(self) -> int:
        return len(self.answer.split())


@dataclass
class Sources:
    """Sentences to build answers from: shared ones and each question's own."""

    shared: list[str]
    by_question: dict[str, list[str]]
    origin: str

    @property
    def question_ids(self) -> list[str]:
        return sorted(self.by_question)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, one per line or per full stop; headings and fragments dropped."""
    sentences = []
    for line in text.splitlines():
        for sentence in _SENTENCE_END.split(line.strip()):
            sentence = sentence.strip()
            if len(sentence.split()) >= 4:
                sentences.append(sentence)
    return sentences


def load_sources(notes: Path | None = NOTES, rubric_dir: Path = RUBRIC_DIR) -> Sources:
    """The notes' sentences (shared by both questions) and each rubric's model answer and point
    texts; without the notes, the rubrics' model answers and ``context`` are shared instead."""
    from essaycheck.loader import load_directory

    rubrics = load_directory(rubric_dir)
    by_question = {r.id: split_sentences(r.model_answer) + [p.text for p in r.points]
                   for r in rubrics}
    if notes is not None and Path(notes).is_file():
        shared = split_sentences(Path(notes).read_text(encoding="utf-8"))
        origin = f"sentences of {Path(notes).name} and the rubrics' model answers"
    else:
        shared = []
        for r in rubrics:
            shared.extend(split_sentences(r.model_answer))
            shared.extend(split_sentences(r.context))
        origin = "the rubrics' model answers and context (revision notes not found)"
    return Sources(shared=shared, by_question=by_question, origin=origin)


def _typo(word: str, rng: random.Random) -> str:
    """A student's slip: two letters swapped or one dropped."""
    i = rng.randrange(1, len(word) - 2)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i + 1:]


def _answer(question_id: str, words: int, sources: Sources, rng: random.Random) -> str:
    own = sources.by_question[question_id]
    out: list[str] = []
    parts: list[str] = []
    while len(out) < words:
        sentence = rng.choice(own if rng.random() < 0.35 or not sources.shared
                              else sources.shared)
        tokens = [(_typo(w, rng) if len(w) >= 6 and w.isalpha() and rng.random() < 0.02 else w)
                  for w in sentence.split()]
        tokens = tokens[: words - len(out)]
        out.extend(tokens)
        text = " ".join(tokens)
        if not text.endswith((".", "!", "?")):
            text += "."
        parts.append(text)
        if rng.random() < 0.1:
            parts.append("\n\n")
    return " ".join(parts).replace(" \n\n ", "\n\n").strip()


def synthetic_class(n: int, seed: int = SEED, words: tuple[int, int] = WORDS,
                    bad_share: float = BAD_SHARE, sources: Sources | None = None) -> list[Row]:
    """``n`` answers to the rubrics' questions, the same for the same arguments.

    Valid answers have between ``words[0]`` and ``words[1]`` words (uniform) and alternate
    questions at random; about ``bad_share`` of the rows are bad, a mix of ``BAD_KINDS``.
    """
    sources = sources or load_sources()
    rng = random.Random(seed)
    questions = sources.question_ids
    rows = []
    bad_every = round(1 / bad_share) if bad_share > 0 else 0
    for i in range(n):
        key = f"s{i + 1:06d}"
        question_id = rng.choice(questions)
        if bad_every and i % bad_every == bad_every // 2:
            kind = BAD_KINDS[(i // bad_every) % len(BAD_KINDS)]
            if kind == "empty":
                rows.append(Row(key, question_id, "", kind))
            elif kind == "blank":
                rows.append(Row(key, question_id, " \n\t  ", kind))
            elif kind == "unknown-question":
                rows.append(Row(key, UNKNOWN_QUESTION,
                                _answer(question_id, rng.randint(*words), sources, rng), kind))
            else:  # over the documented 5,000-word limit, under the character limit
                rows.append(Row(key, question_id, " ".join(["purge"] * 5_100), kind))
            continue
        rows.append(Row(key, question_id, _answer(question_id, rng.randint(*words), sources, rng)))
    return rows


def describe(rows: list[Row]) -> str:
    """One line on the class: size, word counts, questions and bad rows."""
    ok = [r.words for r in rows if r.kind == "ok"]
    questions = Counter(r.question_id for r in rows if r.kind == "ok")
    bad = Counter(r.kind for r in rows if r.kind != "ok")
    words = f"{min(ok)}-{max(ok)} words (mean {statistics.mean(ok):.0f})" if ok else "no answers"
    return (f"{len(rows):,} rows: {words}; "
            + ", ".join(f"{q} {c:,}" for q, c in sorted(questions.items()))
            + (f"; {sum(bad.values())} bad (" + ", ".join(f"{k} {c}" for k, c in sorted(bad.items()))
               + ")" if bad else ""))


def write_csv(rows: list[Row], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow((row.key, row.question_id, row.answer))


# -- results ------------------------------------------------------------------------------------
@dataclass
class Line:
    """One row of the table."""

    part: str
    measure: str
    result: str
    target: str = ""
    met: bool | None = None  # None: informational, or not measured
    why: str = "not available"  # the verdict when met is None

    @property
    def verdict(self) -> str:
        if not self.target:
            return ""
        if self.met is None:
            return self.why
        return "met" if self.met else "NOT met"


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args, **kwargs) -> Line:
        line = Line(*args, **kwargs)
        self.lines.append(line)
        print(f"  ({line.part}) {line.measure}: {line.result}"
              + (f"  [target {line.target}: {line.verdict}]" if line.target else ""), flush=True)
        return line

    def table(self) -> str:
        out = ["| Part | Measure | Result | Target | Met |", "|---|---|---|---|---|"]
        for line in self.lines:
            out.append(f"| ({line.part}) | {line.measure} | {line.result} | {line.target} | "
                       f"{line.verdict} |")
        return "\n".join(out)


def _fmt_rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _mb(kib: float | None) -> str:
    return "?" if kib is None else f"{kib / 1024:,.0f} MB"


# -- running commands ---------------------------------------------------------------------------
def essaycheck_command() -> list[str]:
    """The ``essaycheck`` console script next to this Python, or ``python -m essaycheck.cli``."""
    script = Path(sys.executable).with_name("essaycheck")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "essaycheck.cli"]


def available(*subcommand: str) -> bool:
    """True if ``essaycheck SUBCOMMAND --help`` succeeds."""
    try:
        result = subprocess.run([*essaycheck_command(), *subcommand, "--help"], cwd=ROOT,
                                capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _tree_rss_kib(pid: int, include_root: bool = True) -> int:
    """Resident memory of a process and its descendants, from /proc (0 if unreadable)."""
    total = 0
    stack = [(pid, include_root)]
    while stack:
        current, counted = stack.pop()
        try:
            if counted:
                with open(f"/proc/{current}/status", encoding="ascii",
                          errors="replace") as handle:
                    for text in handle:
                        if text.startswith("VmRSS:"):
                            total += int(text.split()[1])
                            break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    stack.extend((int(c), True) for c in handle.read().split())
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Run:
    returncode: int | None
    seconds: float
    max_rss_kib: int | None      # largest single process (ru_maxrss)
    tree_peak_kib: int | None    # sampled peak of the process and its children together
    timed_out: bool
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def ok_with(self, codes: tuple[int, ...]) -> bool:
        return self.returncode in codes and not self.timed_out

    def failure(self, limit: float) -> str:
        if self.timed_out:
            return f"timed out after {limit:.0f} s"
        return f"failed (exit {self.returncode}): {self.stderr.strip()[-200:]}"


# A child's ru_maxrss counts the memory of the process it was forked from (Linux records the
# forked copy's high-water mark at exec), so a command forked from this process, which holds
# spaCy and the synthetic classes, would show this process's size. A small launcher runs the
# command instead and reports its children's ru_maxrss.
_LAUNCHER = """\
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(command: list[str], timeout: float, cwd: Path = ROOT) -> Run:
    """Run a command to completion, timing it and measuring its peak memory: ``ru_maxrss``
    of the command alone (through a small launcher), and the summed resident memory of the
    command and its child processes sampled every 20 ms. Stopped after ``timeout`` seconds."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as scratch:
        rss_file = Path(scratch) / "maxrss"
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(rss_file), *command],
                                   cwd=cwd, stdout=subprocess.DEVNULL, stderr=err,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        timed_out = threading.Event()
        done = threading.Event()
        peak = [0]

        def watch() -> None:
            deadline = start + timeout
            while not done.wait(0.02):
                peak[0] = max(peak[0], _tree_rss_kib(process.pid, include_root=False))
                if time.perf_counter() > deadline and not timed_out.is_set():
                    timed_out.set()
                    try:
                        os.killpg(process.pid, signal.SIGKILL)  # the launcher and the command
                    except OSError:
                        pass

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            process.wait()
        finally:
            done.set()
            watcher.join()
        seconds = time.perf_counter() - start
        try:
            max_rss = int(rss_file.read_text()) or None
        except (OSError, ValueError):
            max_rss = None
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return Run(process.returncode, seconds, max_rss, peak[0] or None, timed_out.is_set(),
               stderr[-2000:])


def run_timed(command: list[str], timeout: float, cwd: Path = ROOT) -> Run:
    """Run a command to completion and time it from process start to exit (no launcher)."""
    start = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                timeout=timeout)
    except subprocess.TimeoutExpired:
        return Run(None, time.perf_counter() - start, None, None, True, "")
    return Run(result.returncode, time.perf_counter() - start, None, None, False,
               result.stderr.decode("utf-8", "replace")[-2000:])


def usable_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_body(row: Row) -> bytes:
    return json.dumps({"question_id": row.question_id, "answer": row.answer}).encode("utf-8")


def post(port: int, body: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", API_PATH, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Server:
    """``essaycheck serve`` on 127.0.0.1 and a free port, as a subprocess."""

    def __init__(self, workers: int = 1) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [*essaycheck_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--rubrics", str(RUBRIC_DIR)] + (["--workers", str(workers)] if workers > 1 else []),
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait_ready(self, body: bytes, timeout: float) -> float | None:
        """Seconds from process start to the first successful API response, or None."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline and self.process.poll() is None:
            try:
                status, _ = post(self.port, body, timeout=timeout)
            except OSError:
                time.sleep(0.01)
                continue
            if status == 200:
                return time.perf_counter() - self.started
            time.sleep(0.01)
        return None

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-2000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# -- (a) and (b): the core against the spaCy floor ----------------------------------------------
def _best_of(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def bench_core(report: Report, checker, rows: list[Row], label: str, per_core: bool,
               profile: bool = False) -> None:
    """(a) the pipeline alone and (b) check_many, over the same rows, in this one process."""
    from essaycheck.analysis import clean_answer
    from essaycheck.errors import EssaycheckError

    nlp = checker.analyzer_.nlp
    known = set(checker.question_ids)
    texts = []  # exactly what check_many hands to spaCy: bad rows become ""
    for row in rows:
        try:
            texts.append(clean_answer(row.answer) if row.question_id in known else "")
        except EssaycheckError:
            texts.append("")
    items = [(row.question_id, row.answer, row.key) for row in rows]
    words = sum(len(t.split()) for t in texts)
    n = len(rows)

    def floor() -> None:
        for _ in nlp.pipe(texts, batch_size=64):
            pass

    def tokeniser() -> None:
        for _ in nlp.tokenizer.pipe(texts, batch_size=64):
            pass

    def score() -> None:
        for _ in checker.check_many(items):
            pass

    list(checker.check_many(items[:50]))  # warm caches and code paths
    tok_s = _best_of(2, tokeniser)
    floor_s = _best_of(2, floor)
    score_s = _best_of(1, score)
    ratio = floor_s / score_s
    report.add("a", f"spaCy pipeline alone (floor), {label}",
               f"{_fmt_rate(n / floor_s)} answers/s ({words / floor_s:,.0f} words/s); "
               f"tokeniser only {_fmt_rate(n / tok_s)} answers/s")
    report.add("b", f"check_many, {label}",
               f"{_fmt_rate(n / score_s)} answers/s; (b)/(a) = {ratio:.2f}",
               f"(b)/(a) >= {TARGETS['ratio']}", ratio >= TARGETS["ratio"])
    if per_core:  # one process, one thread: answers per second here are per core
        rate = n / score_s
        report.add("b", f"check_many per core, {label}", f"{_fmt_rate(rate)} answers/s/core",
                   f">= {TARGETS['per_core']:,.0f}/s/core", rate >= TARGETS["per_core"])
    if profile:
        profile_check_many(checker, items)


def profile_check_many(checker, items) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("  --profile needs pyinstrument: pip install -e '.[bench]'", flush=True)
        return
    profiler = Profiler(interval=0.001)
    profiler.start()
    for _ in checker.check_many(items):
        pass
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False), flush=True)


# -- (c) the CLI on a CSV -----------------------------------------------------------------------
def bench_cli(report: Report, sizes: dict, workdir: Path, sources: Sources) -> None:
    """(c) 'essaycheck score' on the same CSV with --jobs 1 and --jobs 2, wall clock."""
    n = sizes["cli_rows"]
    cores = usable_cores()
    target = f">= {TARGETS['speedup']}x --jobs 1 (on 2 cores)"
    if not available("score"):
        report.add("c", f"CLI score {n:,} rows --jobs 1", "not available ('essaycheck score' "
                   "missing)")
        report.add("c", f"CLI score {n:,} rows --jobs 2", "not available ('essaycheck score' "
                   "missing)", target, None)
        return
    source = workdir / f"class-{n}.csv"
    write_csv(synthetic_class(n, seed=SEED + 3, sources=sources), source)
    limit = LIMITS["cli_run"]
    rates: dict[int, float] = {}
    outputs: dict[int, Path] = {}
    complete: dict[int, bool] = {}
    for jobs in (1, 2):
        output = outputs[jobs] = workdir / f"scored-{n}-jobs{jobs}.csv"
        run = run_measured([*essaycheck_command(), "score", str(source), "-o", str(output),
                            "--jobs", str(jobs), "--quiet"], limit)
        written = _rows_so_far(output)
        complete[jobs] = run.ok_with(SCORE_OK) and written == n
        if run.ok_with(SCORE_OK):
            rates[jobs] = n / run.seconds
            text = (f"{run.seconds:.1f} s, {_fmt_rate(rates[jobs])} rows/s, peak "
                    f"{_mb(run.tree_peak_kib)} (all processes); {written:,} rows written")
        elif run.timed_out and written:
            # the rate so far, from the rows written when it was stopped
            rates[jobs] = written / run.seconds
            text = (f"{run.failure(limit)} with {written:,} of {n:,} rows written: about "
                    f"{_fmt_rate(rates[jobs])} rows/s")
        else:
            text = run.failure(limit)
        if jobs == 1:
            report.add("c", f"CLI score {n:,} rows --jobs 1", text)
            continue
        if 1 not in rates or 2 not in rates:
            report.add("c", f"CLI score {n:,} rows --jobs 2", text, target, False)
            continue
        speedup = rates[2] / rates[1]
        estimated = not (complete[1] and complete[2])
        same = complete[1] and complete[2] and _same_file(outputs[1], outputs[2])
        text += f"; speed-up {speedup:.2f}x{' (from rates so far)' if estimated else ''}"
        if complete[1] and complete[2]:
            text += f"; output {'identical to' if same else 'DIFFERS from'} --jobs 1"
        if (cores or 1) < 2:
            report.add("c", f"CLI score {n:,} rows --jobs 2", text, target, None,
                       why="n/a (one core)")
        else:
            report.add("c", f"CLI score {n:,} rows --jobs 2", text, target,
                       speedup >= TARGETS["speedup"] and (same or estimated))
        if complete[1] and complete[2] and not same:
            report.notes.append(_first_difference(outputs[1], outputs[2]))


def _first_difference(a: Path, b: Path) -> str:
    """Where two result files first differ, for the notes."""
    with a.open(encoding="utf-8", newline="") as one, b.open(encoding="utf-8", newline="") as two:
        rows = zip(csv.reader(one), csv.reader(two))
        count = 0
        first = None
        for number, (x, y) in enumerate(rows, start=1):
            if x != y:
                count += 1
                if first is None:
                    first = (number, x, y)
    if first is None:
        return "(c) --jobs 1 and --jobs 2 outputs differ in length only."
    number, x, y = first
    cells = [f"{i}: {p[:60]!r} vs {q[:60]!r}" for i, (p, q) in enumerate(zip(x, y)) if p != q]
    return (f"(c) --jobs 1 and --jobs 2 results differ on {count} line(s); first at CSV line "
            f"{number}: " + "; ".join(cells[:3]) + ".")


def _rows_so_far(output: Path) -> int:
    """Rows in a results file, or in the temporary file a stopped run left beside it
    (``essaycheck score`` writes '.NAME.*.tmp' and renames it when done)."""
    if output.exists():
        return _count_csv_rows(output)
    partial = sorted(output.parent.glob(f".{output.name}.*.tmp"), key=lambda p: p.stat().st_size)
    return _count_csv_rows(partial[-1]) if partial else 0


def _count_csv_rows(path: Path) -> int:
    """Data rows in a CSV file (a file cut short counts up to where it ends)."""
    count = 0
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        try:
            for _ in csv.reader(handle):
                count += 1
        except csv.Error:
            pass
    return max(0, count - 1)


def _same_file(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


# -- (d) the web page under load ----------------------------------------------------------------
def bench_web(report: Report, sizes: dict, sources: Sources) -> None:
    """(d) the server as started by default (one process), then with one worker process per
    core (``--workers``), as a school would run it for a class."""
    if not available("serve"):
        report.add("d", f"web {API_PATH}", "not available ('essaycheck serve' missing)",
                   f"p95 < {TARGETS['p95_ms']:.0f} ms, 0 errors", None)
        return
    rows = [r for r in synthetic_class(400, seed=SEED + 4, bad_share=0, sources=sources)]
    bodies = [api_body(r) for r in rows]
    cores = usable_cores()
    bench_web_once(report, sizes, bodies, 1)
    if cores > 1 and hasattr(os, "fork"):
        bench_web_once(report, sizes, bodies, cores)


def bench_web_once(report: Report, sizes: dict, bodies: list[bytes], workers: int) -> None:
    target = f"p95 < {TARGETS['p95_ms']:.0f} ms, 0 errors"
    measure = (f"web {API_PATH}, {CLIENTS} clients, {sizes['web_seconds']:.0f} s, "
               + ("1 server process" if workers == 1 else f"--workers {workers}"))
    server = Server(workers)
    try:
        if server.wait_ready(bodies[0], LIMITS["server_start"]) is None:
            report.add("d", measure, "not available (server gave no successful response: "
                       + server.output().strip()[-200:] + ")", target, None)
            return
        for body in bodies[:32]:  # warm up
            post(server.port, body)
        latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
        errors = [0] * CLIENTS
        statuses: Counter = Counter()
        stop_at = time.perf_counter() + sizes["web_seconds"]
        cap = 100_000 // CLIENTS  # bounded in count as well as time

        def client(index: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            i = index
            while time.perf_counter() < stop_at and len(latencies[index]) < cap:
                body = bodies[i % len(bodies)]
                i += CLIENTS
                start = time.perf_counter()
                try:
                    connection.request("POST", API_PATH, body,
                                       {"Content-Type": "application/json"})
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                    if response.getheader("Connection", "").lower() == "close":
                        connection.close()
                except (OSError, http.client.HTTPException):
                    status = 0
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", server.port,
                                                            timeout=10)
                latencies[index].append(time.perf_counter() - start)
                statuses[status] += 1
                if status != 200:
                    errors[index] += 1
            connection.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    finally:
        server.stop()
    every = sorted(x for per in latencies for x in per)
    if not every:
        report.add("d", measure, "no requests completed", target, False)
        return
    q = statistics.quantiles(every, n=100, method="inclusive")
    p50, p95, p99 = q[49] * 1000, q[94] * 1000, q[98] * 1000
    failed = sum(errors)
    other = ", ".join(f"{s or 'connection error'}: {c}" for s, c in sorted(statuses.items())
                      if s != 200)
    report.add("d", measure,
               f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; "
               f"{len(every) / elapsed:,.0f} requests/s; {failed} errors"
               + (f" ({other})" if other else "") + f" of {len(every):,}",
               target, p95 < TARGETS["p95_ms"] and failed == 0)


# -- (e) cold start -----------------------------------------------------------------------------
def bench_cold(report: Report, sizes: dict, workdir: Path, sources: Sources) -> None:
    target = f"< {TARGETS['cold_s']} s"
    row = synthetic_class(1, seed=SEED + 5, words=(150, 150), bad_share=0, sources=sources)[0]
    answer = workdir / "answer.txt"
    answer.write_text(row.answer, encoding="utf-8")
    times = []
    for _ in range(sizes["cold_repeats"]):
        run = run_timed([*essaycheck_command(), "check", row.question_id, str(answer),
                         "--rubrics", str(RUBRIC_DIR)], LIMITS["cold_cli"])
        if not run.ok:
            report.add("e", "cold start, CLI 'essaycheck check'",
                       f"failed (exit {run.returncode}): {run.stderr.strip()[-200:]}", target, False)
            break
        times.append(run.seconds)
    else:
        best = statistics.median(times)
        report.add("e", "cold start, CLI 'essaycheck check' (start to result)",
                   f"{best:.2f} s (median of {len(times)}; {min(times):.2f}-{max(times):.2f})",
                   target, best < TARGETS["cold_s"])

    measure = "cold start, server (start to first successful response)"
    if not available("serve"):
        report.add("e", measure, "not available ('essaycheck serve' missing)", target, None)
        return
    times = []
    body = api_body(row)
    for _ in range(sizes["cold_repeats"]):
        server = Server()
        try:
            seconds = server.wait_ready(body, LIMITS["server_start"])
            output = server.output()
        finally:
            server.stop()
        if seconds is None:
            report.add("e", measure, "no successful response: " + output.strip()[-200:],
                       target, None)
            return
        times.append(seconds)
    best = statistics.median(times)
    report.add("e", measure,
               f"{best:.2f} s (median of {len(times)}; {min(times):.2f}-{max(times):.2f})",
               target, best < TARGETS["cold_s"])


# -- (f) peak memory ----------------------------------------------------------------------------
def bench_memory(report: Report, sizes: dict, workdir: Path, sources: Sources) -> None:
    """(f) peak memory of 'essaycheck score --jobs 1' on a small and a large class."""
    small, large = sizes["memory_rows"]
    target = f"< {TARGETS['memory_mb']:.0f} MB"
    words = f"{MEMORY_WORDS[0]}-{MEMORY_WORDS[1]}-word answers"
    if not available("score"):
        for n in (small, large):
            report.add("f", f"peak memory, CLI score {n:,} rows", "not available "
                       "('essaycheck score' missing)", target, None)
        return
    peaks = {}
    for n, limit in ((small, LIMITS["memory_small"]), (large, LIMITS["memory_large"])):
        source = workdir / f"memory-{n}.csv"
        output = workdir / f"memory-{n}-scored.csv"
        write_csv(synthetic_class(n, seed=SEED + 6, words=MEMORY_WORDS, sources=sources), source)
        run = run_measured([*essaycheck_command(), "score", str(source), "-o", str(output),
                            "--jobs", "1", "--quiet"], limit)
        written = _rows_so_far(output)
        source.unlink()
        measure = f"peak memory, CLI score {n:,} rows --jobs 1 ({words})"
        peak = max(run.max_rss_kib or 0, run.tree_peak_kib or 0)
        if not run.ok_with(SCORE_OK):
            report.add("f", measure, f"{run.failure(limit)} with {written:,} rows written; peak "
                       f"so far {_mb(peak or None)}", target, None,
                       why="timed out" if run.timed_out else "failed")
            continue
        peaks[n] = peak
        report.add("f", measure, f"{_mb(peak)} (max RSS {_mb(run.max_rss_kib)}, all processes "
                   f"{_mb(run.tree_peak_kib)}); {run.seconds:.0f} s, {_fmt_rate(n / run.seconds)} "
                   "rows/s", target, peak / 1024 < TARGETS["memory_mb"])
    ratio_target = f"<= {TARGETS['memory_ratio']:.2f} (the same)"
    if small in peaks and large in peaks:
        ratio = peaks[large] / peaks[small]
        report.add("f", f"peak memory ratio, {large:,} / {small:,} rows", f"{ratio:.2f}",
                   ratio_target, ratio <= TARGETS["memory_ratio"])
    else:
        report.add("f", f"peak memory ratio, {large:,} / {small:,} rows", "not measured",
                   ratio_target, None, why="not measured")


# -- the machine and the write-up ---------------------------------------------------------------
def machine() -> dict[str, str]:
    info = {"cpu": platform.processor() or platform.machine(), "cores": str(os.cpu_count())}
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                info["cpu"] = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if hasattr(os, "sched_getaffinity"):
        info["cores"] = f"{len(os.sched_getaffinity(0))} usable of {os.cpu_count()}"
    try:
        for text in Path("/proc/meminfo").read_text().splitlines():
            if text.startswith("MemTotal:"):
                info["ram"] = f"{int(text.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        info["ram"] = "?"
    import spacy

    import essaycheck

    info["module"] = str(Path(essaycheck.__file__).resolve().parent)
    info["os"] = f"{platform.system()} {platform.release()}"
    info["python"] = platform.python_version()
    info["spacy"] = spacy.__version__
    try:
        from importlib.metadata import version

        info["essaycheck"] = version("essaycheck")
    except Exception:  # noqa: BLE001 - informational only
        info["essaycheck"] = "?"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        info["commit"] = (commit + (" (with uncommitted changes)" if dirty else "")) or "?"
    except (OSError, subprocess.TimeoutExpired):
        info["commit"] = "?"
    return info


def load_average() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def write_markdown(path: Path, report: Report, info: dict[str, str], started: _dt.datetime,
                   seconds: float, sources: Sources, loads: tuple[str, str]) -> None:
    met = [line for line in report.lines if line.target]
    text = f"""# Benchmarks

Written by `make bench` (`scripts/bench.py`) on {started:%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f}
minutes; every figure below comes from that one run. Re-run `make bench` to refresh it.

**Machine:** {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, {info['os']};
Python {info['python']}, spaCy {info['spacy']}, essaycheck {info['essaycheck']} at commit
{info['commit']}. Load average (1/5/15 min) {loads[0]} at the start and {loads[1]} at the end:
figures from a busy machine are slower than the code is.

**Data:** a synthetic class, seeded so it is the same on every run, built from
{sources.origin}: answers of 50 to 400 words (uniform) to both questions, with about
{BAD_SHARE:.0%} bad rows (empty, blank, unknown question, over 5,000 words), plus a set of
150-word answers for the per-core target. Part (d) posts realistic answers only; part (f)
uses {MEMORY_WORDS[0]}- to {MEMORY_WORDS[1]}-word answers so that 100,000 rows fit the time budget.

{report.table()}

Targets met: {sum(1 for line in met if line.met)} of {len(met)}.

How each part is measured:

- (a), (b): in one process, one core: `nlp.pipe` (tokeniser, lookup lemmatiser, sentencizer:
  the pipeline `Checker` uses) over exactly the texts `check_many` hands to spaCy, then
  `Checker.check_many` over the rows. Best of two runs for (a), one for (b); (b)/(a) is the
  ratio of throughputs, so 0.5 means scoring costs as much again as spaCy.
- (c): `essaycheck score IN.csv -o OUT.csv --jobs N --quiet`, wall clock from process start to
  exit, including start-up; the two outputs are compared byte for byte. A run is stopped after
  {LIMITS['cli_run']:.0f} s; its rate is then the rows written by then over the time taken.
- (d): `essaycheck serve` on 127.0.0.1 and a free port, as started by default (one process,
  8 threads) and with `--workers` set to the number of cores; {CLIENTS} threads of this
  benchmark process (on the same machine, so they take CPU from the server) with keep-alive
  `http.client` connections POST JSON to `{API_PATH}` for the stated time after a warm-up,
  each sending its next request as soon as the last is answered; latency is request sent to
  response read; an error is any status but 200 or a connection failure.
- (e): wall clock from process start to the result printed (CLI) or to the first 200 response
  (server); median of the runs.
- (f): `essaycheck score --jobs 1` in a subprocess; peak is the larger of its `ru_maxrss`
  (taken by a small launcher process, since a child forked from the benchmark would count the
  benchmark's own memory) and the summed RSS of its process tree sampled every 20 ms;
  "the same" means the 100,000-row peak is within {TARGETS['memory_ratio'] - 1:.0%} of the 10,000-row
  peak. Runs are stopped after {LIMITS['memory_small']:.0f} and {LIMITS['memory_large']:.0f} s.

Every command run is bounded in time so that `make bench` ends within ten minutes on two
cores; a bounded run that is stopped says "timed out" above.
"""
    if report.notes:
        text += "\nNotes:\n\n" + "\n".join(f"- {note}" for note in report.notes) + "\n"
    path.write_text(text, encoding="utf-8")


# -- main -----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and short runs: a smoke test, not figures to keep")
    parser.add_argument("--only", default="abcdef",
                        help="parts to run, e.g. 'a,b' (a and b always run together)")
    parser.add_argument("--output", type=Path, default=None,
                        help="write the table here (default: BENCHMARKS.md after a full run)")
    parser.add_argument("--no-write", action="store_true", help="print only; write no file")
    parser.add_argument("--notes", type=Path, default=NOTES, help="revision notes to draw on")
    parser.add_argument("--profile", action="store_true",
                        help="profile check_many with pyinstrument (pip install -e '.[bench]')")
    args = parser.parse_args(argv)
    parts = set(args.only.replace(",", "").replace(" ", "").lower())
    if not parts <= set("abcdef") or not parts:
        parser.error("--only takes letters from a to f, e.g. 'a,b'")
    if "a" in parts or "b" in parts:
        parts |= {"a", "b"}
    sizes = QUICK if args.quick else FULL
    started = _dt.datetime.now(_dt.timezone.utc)
    began = time.perf_counter()

    sources = load_sources(args.notes)
    report = Report()
    load_start = load_average()
    import essaycheck

    print(f"essaycheck benchmark{' (quick)' if args.quick else ''}: parts "
          f"{', '.join(sorted(parts))}; essaycheck from {Path(essaycheck.__file__).parent}; "
          f"data from {sources.origin}; load average {load_start}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="essaycheck-bench-"))
    try:
        if "a" in parts:
            from essaycheck import Checker
            from essaycheck.matching import limit_blas_threads

            limit_blas_threads()  # one core: as the CLI, the server and batch workers run
            checker = Checker.from_directory(RUBRIC_DIR)
            mix = synthetic_class(sizes["core_mix"], sources=sources)
            fixed = synthetic_class(sizes["core_150"], seed=SEED + 1, words=(150, 150),
                                    bad_share=0, sources=sources)
            print(f"  class: {describe(mix)}", flush=True)
            print(f"  150-word set: {describe(fixed)}", flush=True)
            bench_core(report, checker, mix, "50-400-word mix", per_core=False,
                       profile=args.profile)
            bench_core(report, checker, fixed, "150-word answers", per_core=True,
                       profile=args.profile)
            del checker
        if "c" in parts:
            bench_cli(report, sizes, workdir, sources)
        if "d" in parts:
            bench_web(report, sizes, sources)
        if "e" in parts:
            bench_cold(report, sizes, workdir, sources)
        if "f" in parts:
            bench_memory(report, sizes, workdir, sources)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.perf_counter() - began

    print("\n" + report.table() + "\n")
    print("Targets:")
    for line in report.lines:
        if line.target:
            print(f"  {line.verdict:>13}  ({line.part}) {line.measure}: {line.target}")
    for note in report.notes:
        print(f"Note: {note}")
    print(f"\nBenchmark took {seconds / 60:.1f} minutes (load average now {load_average()}).")

    output = args.output
    if output is None and not args.quick and parts == set("abcdef"):
        output = BENCHMARKS
    if output is not None and not args.no_write:
        info = machine()
        write_markdown(output, report, info, started, seconds, sources,
                       (load_start, load_average()))
        print(f"Wrote {output}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
