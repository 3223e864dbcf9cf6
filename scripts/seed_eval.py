"""Agreement with a teacher on the seed questions' marked set (tests/data/seed-marked.csv).

The set holds answers to the two shipped questions, each marked by a teacher with a mark and,
for every point of the shipped rubric, covered / partial / missed (see tests/data/README.md).
This script scores them with two sets of rubrics:

(a) curated: the shipped rubrics in ``rubric/``;
(b) drafted: for each question, what ``essaycheck rubric extract --context NOTES`` drafts from
    the shipped rubric's model answer, with the revision notes as context and no edits
    (``essaycheck.extract.draft_rubric``, with the shipped rubric's max_score).

and reports, per question:

- point level: quadratic weighted kappa and exact agreement of essaycheck's status with the
  teacher's, covered / partial / missed as 2 / 1 / 0, per question and pooled over both. For
  (b), whose point ids are not the curated ones, each drafted point is aligned with the curated
  point whose text shares the largest share of its content words (``align_points``), and a
  curated point's drafted status is the best status of the drafted points aligned with it
  (missed if none is): a diagnostic of where drafting under- or over-credits;
- answer level, (a) and (b): Pearson r of essaycheck's mark with the teacher's mark.

It ends with the targets of issue 10 (curated point kappa >= 0.80; drafted answer r within
0.05 of curated on both questions), met or not met.

    python scripts/seed_eval.py                 # the table
    python scripts/seed_eval.py --json          # the figures, for machines
    python scripts/seed_eval.py --disagreements # and each point the engine and teacher differ on
    python scripts/seed_eval.py --data tests/data/seed-dev.csv   # the development set

Drafting choices are made on the development set (tests/data/seed-dev.csv); seed-marked.csv is
the test set, reported only (tests/data/README.md).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

# E402: these imports follow the sys.path line, so the script runs from a checkout
from essaycheck.evaluation import (  # noqa: E402
    POINT_PREFIX,
    MarkedFileError,
    agreement,
    exact_agreement,
    format_figure,
    json_ready,
    quadratic_kappa,
    read_marked,
)
from essaycheck.results import COVERED, MISSED, PARTIAL, CheckResult  # noqa: E402

DEFAULT_DATA = ROOT / "tests" / "data" / "seed-marked.csv"
DEFAULT_NOTES = ROOT.parent / "shared" / "source" / "khrushchev-destalinisation-notes.txt"
DEFAULT_RUBRICS = ROOT / "rubric"
# A point's status as an ordinal category, for the weighted kappa.
ORDINAL = {COVERED: 2, PARTIAL: 1, MISSED: 0}
LEVELS = sorted(ORDINAL.values())
POINT_KAPPA_TARGET = 0.80
DRAFTED_R_MARGIN = 0.05


@dataclass
class SeedRow:
    """One marked answer: the teacher's mark and, per point id, the teacher's status (2/1/0)."""

    answer_id: str
    question_id: str
    answer: str
    mark: float
    points: dict[str, int] = field(default_factory=dict)
    line: int = 0


# -- reading the marked set --------------------------------------------------------------
def read_seed(path: Path) -> list[SeedRow]:
    """The marked set at ``path``: rows as ``evaluation.read_marked`` reads them (so its
    messages name the line and column of a bad cell), with the point columns kept at three
    levels, which ``read_marked`` folds into made / not made."""
    from essaycheck.csvio import CsvInput

    with open(path, encoding="utf-8", newline="") as handle:
        marked = read_marked(handle, str(path))
    rows = []
    with open(path, encoding="utf-8", newline="") as handle:
        reader = CsvInput(handle, str(path), student_column=None)
        columns = reader.layout.columns
        ids = [i for i, c in enumerate(columns) if c.strip().lower() == "answer_id"]
        points = [(i, c[len(POINT_PREFIX):].strip()) for i, c in enumerate(columns)
                  if c.lower().startswith(POINT_PREFIX)]
        for raw, row in zip(reader, marked, strict=True):
            labels = {}
            for index, point_id in points:
                text = raw.cells[index].strip().lower()
                if not text:
                    continue
                if text not in ORDINAL:
                    raise MarkedFileError(
                        f"{path}, line {raw.line}, column {columns[index]!r}: {text!r} is not "
                        "covered, partial or missed (this set needs the three levels)")
                labels[point_id] = ORDINAL[text]
            assert row.mark is not None  # read_marked requires a mark on every row
            answer_id = raw.cells[ids[0]].strip() if ids else f"line {raw.line}"
            rows.append(SeedRow(answer_id, row.question_id, row.answer, row.mark, labels,
                                raw.line))
    return rows


# -- rubrics -----------------------------------------------------------------------------
def drafted_rubrics(curated: Iterable, notes: str, analyzer) -> list:
    """For each curated rubric, the rubric ``rubric extract --context`` drafts from its model
    answer, question and max_score with ``notes`` as context: no edits."""
    from essaycheck.extract import draft_rubric

    return [draft_rubric(rubric.id, rubric.question, rubric.model_answer, analyzer,
                         context=[notes], max_score=rubric.max_score)
            for rubric in curated]


# -- the measurement ---------------------------------------------------------------------
def results(checker, rows: Sequence[SeedRow]) -> list[CheckResult]:
    """The checker's result for every row, in order; an answer it cannot check stops the run
    with its message (every answer in the set is meant to be checkable)."""
    outcomes = []
    for (_, outcome), row in zip(
            checker.check_many((r.question_id, r.answer, i) for i, r in enumerate(rows)),
            rows, strict=True):
        if not isinstance(outcome, CheckResult):
            raise MarkedFileError(f"line {row.line} (answer {row.answer_id}) cannot be checked: "
                                  f"{outcome}; fix or remove that row")
        outcomes.append(outcome)
    return outcomes


def point_pairs(rows: Sequence[SeedRow], outcomes: Sequence[CheckResult]
                ) -> list[dict[str, Any]]:
    """One entry per point the teacher labelled on a row and the rubric has: the teacher's
    and essaycheck's level (2/1/0) and the terms essaycheck matched."""
    pairs = []
    for row, outcome in zip(rows, outcomes, strict=True):
        found = {p.point_id: p for p in outcome.points}
        for point_id, teacher in row.points.items():
            point = found.get(point_id)
            if point is not None:
                pairs.append({"answer_id": row.answer_id, "question_id": row.question_id,
                              "point_id": point_id, "teacher": teacher,
                              "essaycheck": ORDINAL[point.status],
                              "matched_terms": list(point.matched_terms)})
    return pairs


def align_points(drafted, curated, analyzer) -> dict[str, str]:
    """Drafted point id -> the id of the curated point of the same question whose text holds
    the largest share of the drafted point's content lemmas (ties: the first curated point)."""
    def lemmas(text: str) -> set[str]:
        doc = analyzer.analyse(text)
        return {doc.lemmas[i] for i in range(len(doc)) if doc.content[i]}

    targets = [(point.id, lemmas(point.text)) for point in curated.points]
    aligned = {}
    for point in drafted.points:
        words = lemmas(point.text)
        shares = [len(words & other) / max(1, len(words)) for _, other in targets]
        aligned[point.id] = targets[max(range(len(targets)), key=lambda i: (shares[i], -i))][0]
    return aligned


def drafted_point_pairs(rows: Sequence[SeedRow], outcomes: Sequence[CheckResult],
                        alignments: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """As ``point_pairs`` for drafted rubrics: a curated point's level is the best level of
    the drafted points aligned with it (``alignments``: per question, drafted -> curated id),
    0 when none is."""
    pairs = []
    for row, outcome in zip(rows, outcomes, strict=True):
        aligned = alignments[row.question_id]
        for point_id, teacher in row.points.items():
            mine = [p for p in outcome.points if aligned.get(p.point_id) == point_id]
            level = max((ORDINAL[p.status] for p in mine), default=0)
            terms = [t for p in mine if ORDINAL[p.status] == level and level
                     for t in p.matched_terms]
            pairs.append({"answer_id": row.answer_id, "question_id": row.question_id,
                          "point_id": point_id, "teacher": teacher, "essaycheck": level,
                          "matched_terms": list(dict.fromkeys(terms))})
    return pairs


def point_figures(pairs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Quadratic weighted kappa and exact agreement over point pairs, with the two ways they
    disagree: the engine crediting less than the teacher (misses) or more (false credit)."""
    teacher = [p["teacher"] for p in pairs]
    engine = [p["essaycheck"] for p in pairs]
    return {"n": len(pairs), "qwk": quadratic_kappa(teacher, engine, LEVELS),
            "exact": exact_agreement(teacher, engine),
            "under": sum(e < t for t, e in zip(teacher, engine, strict=True)),
            "over": sum(e > t for t, e in zip(teacher, engine, strict=True))}


def measure(rows: Sequence[SeedRow], curated, drafted) -> dict[str, Any]:
    """Every figure of the report, from the marked rows and two fitted checkers (curated and
    drafted rubrics): point level for the curated one, answer level for both."""
    report: dict[str, Any] = {"rows": len(rows), "questions": {}, "points": []}
    questions = sorted({row.question_id for row in rows})
    by_rubrics = {"curated": results(curated, rows), "drafted": results(drafted, rows)}
    pairs = point_pairs(rows, by_rubrics["curated"])
    alignments = {q: align_points(drafted.rubric(q), curated.rubric(q), curated.analyzer)
                  for q in questions}
    report["alignments"] = alignments
    drafted_pairs = drafted_point_pairs(rows, by_rubrics["drafted"], alignments)
    for question_id in questions:
        index = [i for i, row in enumerate(rows) if row.question_id == question_id]
        teacher = [rows[i].mark for i in index]
        entry: dict[str, Any] = {"n": len(index),
                                 "max_score": by_rubrics["curated"][index[0]].max_score}
        for name, outcomes in by_rubrics.items():
            entry[name] = agreement(teacher, [outcomes[i].score for i in index])
        entry["drafted_points"] = len(by_rubrics["drafted"][index[0]].points)
        entry["point_level"] = point_figures(
            [p for p in pairs if p["question_id"] == question_id])
        entry["drafted_point_level"] = point_figures(
            [p for p in drafted_pairs if p["question_id"] == question_id])
        report["questions"][question_id] = entry
        for point_id in dict.fromkeys(p["point_id"] for p in pairs
                                      if p["question_id"] == question_id):
            figures = point_figures([p for p in pairs if p["question_id"] == question_id
                                     and p["point_id"] == point_id])
            drafted_figures = point_figures(
                [p for p in drafted_pairs if p["question_id"] == question_id
                 and p["point_id"] == point_id])
            report["points"].append({"question_id": question_id, "point_id": point_id,
                                     **figures, "drafted": drafted_figures})
    report["pooled_point_level"] = point_figures(pairs)
    report["drafted_pooled_point_level"] = point_figures(drafted_pairs)
    known = {(o.question_id, p.point_id) for o in by_rubrics["curated"] for p in o.points}
    report["unknown_points"] = sorted({f"{row.question_id}:{point_id}" for row in rows
                                       for point_id in row.points
                                       if (row.question_id, point_id) not in known})
    report["disagreements"] = [p for p in pairs if p["teacher"] != p["essaycheck"]]
    report["drafted_disagreements"] = [p for p in drafted_pairs
                                       if p["teacher"] != p["essaycheck"]]
    report["targets"] = targets(report)
    return report


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 10's targets on this set, each with its figure and whether it is met."""
    found = []
    for question_id, entry in report["questions"].items():
        found.append({"target": f"curated point kappa >= {POINT_KAPPA_TARGET:.2f}",
                      "where": question_id, "value": entry["point_level"]["qwk"],
                      "threshold": POINT_KAPPA_TARGET})
    found.append({"target": f"curated point kappa >= {POINT_KAPPA_TARGET:.2f}",
                  "where": "pooled", "value": report["pooled_point_level"]["qwk"],
                  "threshold": POINT_KAPPA_TARGET})
    for question_id, entry in report["questions"].items():
        curated_r = entry["curated"]["pearson"]
        found.append({"target": f"drafted answer r >= curated r - {DRAFTED_R_MARGIN:.2f}",
                      "where": question_id, "value": entry["drafted"]["pearson"],
                      "threshold": curated_r - DRAFTED_R_MARGIN})
    for item in found:
        # an undefined figure (nan) counts as not met
        item["met"] = bool(math.isfinite(item["value"]) and math.isfinite(item["threshold"])
                           and item["value"] >= item["threshold"])
    return found


# -- output ------------------------------------------------------------------------------
LABELS = {v: k for k, v in ORDINAL.items()}


def table(report: dict[str, Any]) -> str:
    """The report as Markdown tables."""
    f = format_figure
    lines = [f"Seed questions: {report['rows']} answers marked by a teacher "
             f"({report.get('data', 'tests/data/seed-marked.csv')})", "",
             "| question | n | point QWK, curated / drafted | point exact, curated / drafted "
             "| answer r, curated | answer r, drafted | drafted points |",
             "|---|---|---|---|---|---|---|"]
    for question_id, e in report["questions"].items():
        c, d = e["point_level"], e["drafted_point_level"]
        lines.append(f"| {question_id} | {e['n']} | {f(c['qwk'])} / {f(d['qwk'])} | "
                     f"{f(c['exact'])} / {f(d['exact'])} | {f(e['curated']['pearson'])} | "
                     f"{f(e['drafted']['pearson'])} | {e['drafted_points']} |")
    c, d = report["pooled_point_level"], report["drafted_pooled_point_level"]
    lines.append(f"| pooled | {report['rows']} | {f(c['qwk'])} / {f(d['qwk'])} | "
                 f"{f(c['exact'])} / {f(d['exact'])} | | | |")
    lines += ["", "Per point, curated / drafted rubrics (drafted points aligned with the curated "
              "point their text shares most words with; under: essaycheck credits less than "
              "the teacher; over: more):", "",
              "| question | point | n | QWK | exact | under | over |",
              "|---|---|---|---|---|---|---|"]
    for p in report["points"]:
        d = p["drafted"]
        lines.append(f"| {p['question_id']} | {p['point_id']} | {p['n']} | "
                     f"{f(p['qwk'])} / {f(d['qwk'])} | {f(p['exact'])} / {f(d['exact'])} | "
                     f"{p['under']} / {d['under']} | {p['over']} / {d['over']} |")
    lines += ["", "Drafted points aligned with curated ones:", ""]
    for question_id, aligned in report["alignments"].items():
        lines.append(f"- {question_id}: " + "; ".join(
            f"{drafted} -> {curated}" for drafted, curated in aligned.items()))
    lines += ["", "| target | where | figure | needed | |", "|---|---|---|---|---|"]
    for t in report["targets"]:
        # three decimals, so that a figure at the threshold shows which side it falls
        lines.append(f"| {t['target']} | {t['where']} | {f(t['value'], 3)} | "
                     f">= {f(t['threshold'], 3)} | {'met' if t['met'] else 'not met'} |")
    if report["unknown_points"]:
        lines += ["", "Labels naming no point of the curated rubric (ignored): "
                  + ", ".join(report["unknown_points"])]
    return "\n".join(lines)


def disagreement_lines(report: dict[str, Any], key: str = "disagreements") -> str:
    """Each point the engine and the teacher label differently, misses first (``key``:
    "drafted_disagreements" for the drafted rubrics')."""
    lines = ["", f"{'Drafted rubrics: d' if key.startswith('drafted') else 'D'}isagreements "
             "(teacher -> essaycheck; matched terms):"]
    ordered = sorted(report[key],
                     key=lambda p: (p["essaycheck"] > p["teacher"], p["question_id"],
                                    p["point_id"], p["answer_id"]))
    for p in ordered:
        kind = "false credit" if p["essaycheck"] > p["teacher"] else "miss"
        lines.append(f"  {kind:<12} {p['answer_id']:<6} {p['point_id']:<26} "
                     f"{LABELS[p['teacher']]} -> {LABELS[p['essaycheck']]}; "
                     f"{', '.join(p['matched_terms']) or '-'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="the marked CSV (default: tests/data/seed-marked.csv)")
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES,
                        help="revision notes, the drafted rubrics' context "
                             "(default: ../shared/source/khrushchev-destalinisation-notes.txt)")
    parser.add_argument("--rubrics", type=Path, default=DEFAULT_RUBRICS,
                        help="the curated rubrics (default: rubric/)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--disagreements", action="store_true",
                        help="also list every point essaycheck and the teacher label "
                             "differently (answer ids and matched terms, not the answers)")
    args = parser.parse_args(argv)
    for path, option in ((args.data, "--data"), (args.notes, "--notes")):
        if not path.is_file():
            print(f"Error: {path} does not exist; pass {option} with its path",
                  file=sys.stderr)
            return 2

    from essaycheck import Checker
    from essaycheck.errors import EssaycheckError
    from essaycheck.loader import load_directory

    try:
        notes = args.notes.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        print(f"Error: {args.notes} is not UTF-8 text (bad byte at position {exc.start}); "
              "save it as UTF-8", file=sys.stderr)
        return 2
    try:
        rows = read_seed(args.data)
        curated = load_directory(args.rubrics)
        checker = Checker(curated).fit()
        drafted = checker.with_rubrics(
            drafted_rubrics(curated, notes, checker.analyzer))  # one spaCy pipeline for both
        report = measure(rows, checker, drafted)
        data = args.data.resolve()
        report["data"] = str(data.relative_to(ROOT) if data.is_relative_to(ROOT) else data)
    except (MarkedFileError, EssaycheckError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(json_ready(report), indent=2))
    else:
        print(table(report))
        if args.disagreements:
            print(disagreement_lines(report))
            print(disagreement_lines(report, "drafted_disagreements"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
