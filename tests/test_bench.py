"""Smoke tests for the benchmark (scripts/bench.py and its modules): its synthetic class
(scripts/bench_data.py) is the advertised mix, the same on every run, and a quick run of parts
(a) and (b) works."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from .conftest import ROOT

BENCH = ROOT / "scripts" / "bench.py"


@pytest.fixture
def bench(script):
    """scripts/bench_data.py: the synthetic class."""
    return script("bench_data")


@pytest.fixture
def sources(bench):
    return bench.load_sources()


def test_synthetic_class_is_the_advertised_mix(bench, sources):
    rows = bench.synthetic_class(1000, sources=sources)
    assert len(rows) == 1000
    assert len({r.key for r in rows}) == 1000
    ok = [r for r in rows if r.kind == "ok"]
    words = [r.words for r in ok]
    assert min(words) >= 50 and max(words) <= 400
    assert min(words) < 80 and max(words) > 370  # the whole range, not a narrow band of it
    assert set(Counter(r.question_id for r in ok)) == set(sources.by_question) == {
        "secret-speech-1956", "thaw-significance"}
    bad = Counter(r.kind for r in rows if r.kind != "ok")
    assert set(bad) == set(bench.BAD_KINDS)
    assert 10 <= sum(bad.values()) <= 40  # about 2%
    by_kind = {r.kind: r for r in rows}
    assert by_kind["empty"].answer == ""
    assert not by_kind["blank"].answer.strip()
    assert by_kind["unknown-question"].question_id == bench.UNKNOWN_QUESTION
    assert by_kind["too-long"].words > 5000


def test_synthetic_class_is_the_same_every_run(bench, sources):
    assert bench.synthetic_class(200, sources=sources) == bench.synthetic_class(200,
                                                                                sources=sources)
    assert bench.synthetic_class(50, seed=1, sources=sources) != bench.synthetic_class(
        50, seed=2, sources=sources)


def test_fixed_length_answers_for_the_per_core_target(bench, sources):
    rows = bench.synthetic_class(100, words=(150, 150), bad_share=0, sources=sources)
    assert {r.words for r in rows} == {150}
    assert {r.kind for r in rows} == {"ok"}


def test_falls_back_to_the_rubrics_without_the_notes(bench, tmp_path):
    sources = bench.load_sources(tmp_path / "missing.txt")
    assert "not found" in sources.origin
    rows = bench.synthetic_class(50, sources=sources)
    assert {r.kind for r in rows} >= {"ok"}
    assert all(50 <= r.words <= 400 for r in rows if r.kind == "ok")


def test_quick_run_of_the_core_parts(tmp_path):
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--only", "a,b", "--no-write"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "(a) spaCy pipeline alone (floor), 50-400-word mix" in out
    assert "(b) check_many per core, 150-word answers" in out
    assert "(b)/(a) = " in out
    assert "Targets:" in out
    assert "Wrote" not in out  # a quick run never overwrites BENCHMARKS.md


def test_hostile_answers_are_the_issues_and_within_the_limits(bench):
    from essaycheck import MAX_ANSWER_CHARS, MAX_ANSWER_WORDS

    answers = dict(bench.hostile_answers())
    assert answers["16,000 '!'"] == "!" * 16_000
    assert answers["50,000 '!'"] == "!" * 50_000
    assert len(answers["8,000 emoji"]) == 8_000 and len(answers["50,000 emoji"]) == 50_000
    assert len(answers["one 12,000-character token of '('"].split()) == 1
    assert all(len(a) <= MAX_ANSWER_CHARS and len(a.split()) <= MAX_ANSWER_WORDS
               for a in answers.values())


def test_checker_process_times_check_and_stops_an_overrun(script):
    harness = script("bench_harness")
    worker = harness.CheckerProcess(start_timeout=120)
    try:
        seconds, outcome = worker.check("Khrushchev denounced Stalin in 1956.", timeout=60)
        assert outcome == "checked" and 0 < seconds < 60
        assert worker.check("(" * 50_000, timeout=0.001) is None  # stopped, not waited for
        assert worker.process is None
        _, outcome = worker.check("", timeout=60)  # a fresh process takes the next answer
        assert outcome.startswith("refused: ")
    finally:
        worker.stop()
