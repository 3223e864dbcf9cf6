#!/usr/bin/env python3
"""Issue 10, item 6, measured by kind: how many of a small probe set's answers get the verdict a
teacher would give, with the matcher before issue 10's changes and now.

    python scripts/probe_kinds.py                 # before (commit b383f23) and now, a table
    python scripts/probe_kinds.py --json          # this checkout's verdicts only, as JSON

``tests/data/probe-kinds.csv`` holds, per kind, eight answers written as students write them
(columns ``kind, question_id, point_id, expected, answer``): four kinds of miss, a point made
with none of the mark scheme's words (distancing the Party from Stalin; rehabilitation of the
victims; less fear; the rivals' part in the purges; all expected ``covered``), and two kinds of
false credit (the thaw in relations with the USA for the cultural thaw's reversals; censorship
said to have ended entirely for censorship persisting; expected ``missed``). It is a
measurement, written before either matcher was run on it; nothing is chosen on it.

Each answer is checked against (a) the shipped, curated rubric of its question and (b) the rubric
``rubric extract --context`` drafts from its model answer with the revision notes, no edits
(as ``scripts/seed_eval.py`` drafts it). A drafted rubric's points are not the curated ones: a
curated point is judged by the drafted points that map onto it (those sharing with its text at
least two of their content words, or half of them), by the best status among them. An answer
is *right* when it is credited (covered or partial) exactly when the teacher would credit it;
*exact* when its status is the expected one. Two more columns (this checkout only) match the
curated rubrics with their keyword groups removed, without and with the lexicon's alternatives
for points without keywords (``MatchSettings.alternative_*``).

"Before" runs this script on the essaycheck source of ``--before`` (default b383f23, the commit
before issue 10's first change to marking: suggestions, calibration, "says the opposite",
drafting from the lexicon, the finer mark), exported with ``git archive`` into a temporary
folder and put first on ``PYTHONPATH``; the rubrics, notes and probes are this checkout's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBES = ROOT / "tests" / "data" / "probe-kinds.csv"
NOTES = ROOT.parent / "shared" / "source" / "khrushchev-destalinisation-notes.txt"
BEFORE = "b383f23"
KINDS = ("distancing", "rehabilitation", "fear", "rivals", "usa-thaw", "censorship-ended")
RANK = {"missed": 0, "partial": 1, "covered": 2}
#: the columns of the table: (heading, verdicts' key, "before" or "now")
COLUMNS = (("curated rubrics, before", "curated", "before"),
           ("curated rubrics, now", "curated", "now"),
           ("drafted rubrics, before", "drafted", "before"),
           ("drafted rubrics, now", "drafted", "now"),
           ("curated, keywords removed, no alternatives", "keywordless-off", "now"),
           ("curated, keywords removed, alternatives", "keywordless", "now"))


def read_probes(path: Path = PROBES) -> list[dict[str, str]]:
    """The probe answers, one dict per row."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _content(analyzer, text: str, question_words: frozenset[str]) -> set[str]:
    doc = analyzer.analyse(text)
    return {doc.lemmas[i] for i in range(len(doc))
            if doc.content[i] and doc.lemmas[i] not in question_words}


def point_map(curated, drafted, analyzer) -> dict[str, list[str]]:
    """Per curated point id, the drafted point ids that map onto it: a drafted point maps onto
    every curated point whose text holds at least two of its content words, or half of them
    (the question's words left out)."""
    asked = analyzer.analyse(curated.question)
    question_words = frozenset(asked.lemmas[i] for i in range(len(asked)) if asked.content[i])
    words = {p.id: _content(analyzer, p.text, question_words) for p in curated.points}
    mapping: dict[str, list[str]] = {p.id: [] for p in curated.points}
    for point in drafted.points:
        own = _content(analyzer, point.text, question_words)
        for q, theirs in words.items():
            shared = len(own & theirs)
            if shared >= 2 or (shared and 2 * shared >= len(own)):
                mapping[q].append(point.id)
    return mapping


def verdicts(probes: list[dict[str, str]], notes: str) -> dict:
    """Each probe's status under the curated and the drafted rubric of its question, with this
    process's essaycheck, and the drafted points each curated one was judged by."""
    from essaycheck import Checker
    from essaycheck.extract import draft_rubric

    curated = Checker.from_directory(ROOT / "rubric")
    analyzer = curated.analyzer
    drafted_rubrics = [draft_rubric(r.id, r.question, r.model_answer, analyzer,
                                    context=[notes], max_score=r.max_score)
                       for r in curated.rubrics]
    drafted = curated.with_rubrics(drafted_rubrics)  # one spaCy pipeline for both
    maps = {r.id: point_map(curated.rubric(r.id), r, analyzer) for r in drafted_rubrics}
    out: dict = {"curated": [], "drafted": [], "confidence": {"curated": [], "drafted": []},
                 "map": maps}
    bare = _keywordless(curated)
    for probe in probes:
        qid, pid = probe["question_id"], probe["point_id"]
        point = next(p for p in curated.check(qid, probe["answer"]).points if p.point_id == pid)
        out["curated"].append(point.status)
        out["confidence"]["curated"].append(point.confidence)
        chosen = set(maps[qid][pid])
        points = [p for p in drafted.check(qid, probe["answer"]).points if p.point_id in chosen]
        best = max(points, key=lambda p: (RANK[p.status], p.confidence), default=None)
        out["drafted"].append("missed" if best is None else best.status)
        out["confidence"]["drafted"].append(0.0 if best is None else best.confidence)
        for key, checker in bare.items():
            point = next(p for p in checker.check(qid, probe["answer"]).points
                         if p.point_id == pid)
            out.setdefault(key, []).append(point.status)
            out["confidence"].setdefault(key, []).append(point.confidence)
    return out


def _keywordless(curated) -> dict:
    """The curated rubrics with their keyword groups removed, matched without and with the
    lexicon's alternatives for points without keywords (none when this essaycheck predates
    them)."""
    from dataclasses import fields, replace

    from essaycheck import Checker
    from essaycheck.matching import MatchSettings

    if "alternative_synonyms" not in {f.name for f in fields(MatchSettings)}:
        return {}
    rubrics = [replace(r, points=tuple(replace(p, keywords=()) for p in r.points))
               for r in curated.rubrics]
    off = MatchSettings(alternative_family=0, alternative_synonyms=0, alternative_context=0)
    return {"keywordless-off": Checker(rubrics, nlp=curated.analyzer.nlp, settings=off).fit(),
            "keywordless": Checker(rubrics, nlp=curated.analyzer.nlp).fit()}


def tally(probes: list[dict[str, str]], statuses: list[str]) -> dict[str, dict[str, int]]:
    """Per kind: answers, right (credited exactly when expected) and exact (the status)."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "right": 0, "exact": 0})
    for probe, status in zip(probes, statuses, strict=True):
        entry = found[probe["kind"]]
        entry["n"] += 1
        entry["right"] += (status != "missed") == (probe["expected"] != "missed")
        entry["exact"] += status == probe["expected"]
    return dict(found)


def _mean_confidence(probes: list[dict[str, str]], report: dict, which: str, kind: str
                     ) -> float:
    values = [c for p, c in zip(probes, report["confidence"][which], strict=True)
              if p["kind"] == kind]
    return sum(values) / len(values)


def run_before(revision: str, probes_path: Path, notes_path: Path) -> dict:
    """This script's ``--json`` output on the essaycheck source of ``revision``."""
    with tempfile.TemporaryDirectory(prefix="probe-before-") as folder:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        env = dict(os.environ, PYTHONPATH=str(Path(folder) / "src"))
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--json", "--probes",
             str(probes_path), "--notes", str(notes_path), "--expect-source",
             str(Path(folder) / "src")],
            check=True, capture_output=True, text=True, env=env)
        return json.loads(done.stdout)


def table(probes: list[dict[str, str]], before: dict | None, now: dict) -> str:
    """Per kind: right of n (exact in brackets) and the point's mean confidence, for each
    rubric set, before and now."""
    reports = {"before": before or {}, "now": now}
    columns = [(heading, which, reports[when]) for heading, which, when in COLUMNS
               if which in reports[when]]
    lines = ["| kind | expected | n | " + " | ".join(h for h, _, _ in columns) + " |",
             "|---|---|---|" + "---|" * len(columns)]
    tallies = [tally(probes, report[which]) for _, which, report in columns]
    expected = {p["kind"]: p["expected"] for p in probes}
    kinds = [k for k in KINDS if k in expected] + sorted(set(expected) - set(KINDS))
    for kind in kinds:
        n = tallies[0][kind]["n"]
        cells = [f"{t[kind]['right']} ({t[kind]['exact']}); {c:.2f}" for t, c in zip(
            tallies, [_mean_confidence(probes, report, which, kind)
                      for _, which, report in columns], strict=True)]
        lines.append(f"| {kind} | {expected[kind]} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table (or ``--json``, the verdicts) of the probe answers by kind."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=Path, default=PROBES)
    parser.add_argument("--notes", type=Path, default=NOTES,
                        help="revision notes, the drafted rubrics' context")
    parser.add_argument("--before", default=BEFORE,
                        help=f"the commit to compare with (default {BEFORE}); '' for none")
    parser.add_argument("--json", action="store_true",
                        help="this checkout's verdicts as JSON (no comparison)")
    parser.add_argument("--expect-source", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.expect_source is not None:
        import essaycheck

        # the exported source, not the editable install, must be the one imported
        assert Path(essaycheck.__file__).resolve().is_relative_to(args.expect_source.resolve())
    probes = read_probes(args.probes)
    notes = args.notes.read_text(encoding="utf-8-sig")
    now = verdicts(probes, notes)
    if args.json:
        print(json.dumps(now))
        return 0
    before = run_before(args.before, args.probes, args.notes) if args.before else None
    print(table(probes, before, now))
    print("\nright of n: credited (covered or partial) exactly when the teacher would; in "
          "brackets, the expected status itself; then the point's mean confidence (covered "
          "from 0.50, partial from 0.28 by default). Drafted points judged for each curated "
          "one:")
    for qid, mapping in now["map"].items():
        for pid in sorted({p["point_id"] for p in probes if p["question_id"] == qid}):
            print(f"  {qid} {pid}: {', '.join(mapping[pid]) or '(none)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
