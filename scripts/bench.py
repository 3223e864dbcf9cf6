#!/usr/bin/env python3
"""Benchmark essaycheck in one run and write the table to BENCHMARKS.md (issues 6 and 12).

    python scripts/bench.py              # full run (`make bench`): every part, writes BENCHMARKS.md
    python scripts/bench.py --quick      # smoke run with small sizes; prints, writes nothing
    python scripts/bench.py --only a,b   # some parts only (a b c d e f g h)
    python scripts/bench.py --only b --profile   # also profile check_many (needs '.[bench]')

Parts, all on the same seeded synthetic class (sentences of the revision notes plus the
rubrics' model answers; answers of 50 to 400 words, both questions, a few bad rows):

  (a) the spaCy pipeline alone over the texts: the floor;
  (b) ``Checker.check_many`` over the same texts: answers per second and the ratio (b)/(a),
      for the 50-400-word mix and for 150-word answers (the per-core target);
  (c) ``essaycheck score`` end to end on a 20,000-row CSV with --jobs 1 and --jobs 2;
  (d) ``essaycheck serve`` under 16 concurrent clients on loopback for 30 s;
  (e) cold start: process start to first result, CLI and server;
  (f) peak memory of ``essaycheck score`` on 10,000 and 100,000 rows;
  (g) hostile input (issue 12): the slowest ``Checker.check`` of answers an attacker would
      send within the documented limits, and a normal answer's latency on the student page
      of ``essaycheck serve`` while the slowest of them is in flight;
  (h) the rubric workshop: 30 marked answers re-scored after an edit, fit included
      (bench_workshop.py).

The harness is bench_harness.py, the synthetic class (and the hostile answers) bench_data.py,
the parts bench_parts.py.

A command that is not available yet (``essaycheck score --help`` fails) gives a 'not available'
row rather than a crash. Every run of a command is bounded in time, so the whole benchmark stays
well under ten minutes on two cores; a run that hits its bound is reported as timed out.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_data import (
    BAD_SHARE,
    NOTES,
    ROOT,
    RUBRIC_DIR,
    SEED,
    Sources,
    describe,
    hostile_answers,
    load_sources,
    synthetic_class,
)
from bench_harness import API_PATH, Report, load_average, machine
from bench_parts import (
    CLIENTS,
    LIMITS,
    MEMORY_WORDS,
    TARGETS,
    bench_cli,
    bench_cold,
    bench_core,
    bench_hostile,
    bench_memory,
    bench_web,
)

from essaycheck import MAX_ANSWER_CHARS, MAX_ANSWER_WORDS

BENCHMARKS = ROOT / "BENCHMARKS.md"
PARTS = "abcdefgh"

#: hostile_seconds: the bound on one hostile answer's check in (g), and on the normal answer
#: sent while one is in flight; ten times the target, so an overrun is plain without minutes lost.
FULL: dict[str, Any] = dict(
    core_mix=2000, core_150=1500, cli_rows=20_000, web_seconds=30.0, cold_repeats=3,
    memory_rows=(10_000, 100_000), hostile_seconds=10.0, workshop_edits=30)
QUICK: dict[str, Any] = dict(
    core_mix=150, core_150=150, cli_rows=600, web_seconds=3.0, cold_repeats=1,
    memory_rows=(500, 2_000), hostile_seconds=2.0, workshop_edits=5)


def write_markdown(path: Path, report: Report, info: dict[str, str], started: _dt.datetime,
                   seconds: float, sources: Sources, loads: tuple[str, str],
                   sizes: dict) -> None:
    met = [line for line in report.lines if line.target]
    hostile = ", ".join(label for label, _ in hostile_answers())
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
Part (g) sends the hostile answers of issue 12 instead, each within the documented limits
({MAX_ANSWER_CHARS:,} characters, {MAX_ANSWER_WORDS:,} words): {hostile}.

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
  "the same" means the 100,000-row peak is within {TARGETS['memory_ratio'] - 1:.0%} of the
  10,000-row peak. Runs are stopped after {LIMITS['memory_small']:.0f} and
  {LIMITS['memory_large']:.0f} s.
- (g): each hostile answer goes to `Checker.check` (shipped rubrics, first question) in a
  separate process that has checked one normal answer first; the time is that of the call
  alone, taken in that process, and a call still running after {sizes['hostile_seconds']:.0f} s
  is stopped (with its process) and counted as over. Then `essaycheck serve`, as started by
  default (one process, 8 threads), gets the slowest of them on `{API_PATH}` and, 20 ms later,
  a 150-word answer submitted through the student page's form (`GET /` for its token, then
  `POST /check`), again while the hostile request is unanswered (at most 5); latency is the
  worst of those, request sent to response read, bounded at {sizes['hostile_seconds']:.0f} s;
  "alone" is the median of three before the hostile request. The hostile request's own time
  is waited for, within the same bound, before the server is stopped.
- (h): in this process, one core: the workshop's `POST /api/v1/rubrics/try` through its Flask
  app (test client, no network) with the shipped secret-speech rubric edited (one more keyword
  alternative each time, so no fit is reused) and 30 marked synthetic 150-word answers:
  validation, the fit of the changed rubric, scoring, agreement and the JSON response. As in
  the workshop, the answers' spaCy analyses are kept from the first request (they do not
  depend on the rubric), whose time is given apart. Median and 95th percentile of the wall
  clock over the edits, after three warm-up edits, and the median CPU time of the process.

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
    parser.add_argument("--only", default=PARTS,
                        help="parts to run, e.g. 'a,b' (a and b always run together)")
    parser.add_argument("--output", type=Path, default=None,
                        help="write the table here (default: BENCHMARKS.md after a full run)")
    parser.add_argument("--no-write", action="store_true", help="print only; write no file")
    parser.add_argument("--notes", type=Path, default=NOTES, help="revision notes to draw on")
    parser.add_argument("--profile", action="store_true",
                        help="profile check_many with pyinstrument (pip install -e '.[bench]')")
    args = parser.parse_args(argv)
    parts = set(args.only.replace(",", "").replace(" ", "").lower())
    if not parts <= set(PARTS) or not parts:
        parser.error(f"--only takes letters from a to {PARTS[-1]}, e.g. 'a,b'")
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
        if "g" in parts:
            bench_hostile(report, sizes, sources)
        if "h" in parts:
            from bench_workshop import bench_workshop

            bench_workshop(report, sizes, sources)
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
    if output is None and not args.quick and parts == set(PARTS):
        output = BENCHMARKS
    if output is not None and not args.no_write:
        info = machine()
        write_markdown(output, report, info, started, seconds, sources,
                       (load_start, load_average()), sizes)
        print(f"Wrote {output}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
