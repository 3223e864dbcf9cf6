"""scripts/seed_eval.py: the marked seed set reads at three levels and is whole, and the
measurement compares essaycheck's point statuses and marks with the teacher's."""

from __future__ import annotations

import importlib.util
import math
import sys

import pytest

from .conftest import DATA, ROOT

SCRIPT = ROOT / "scripts" / "seed_eval.py"
SEED = DATA / "seed-marked.csv"
DEV = DATA / "seed-dev.csv"
STRONG = {
    "secret-speech-1956": (
        "Khrushchev wanted to distance the Communist Party from Stalin's crimes, which had "
        "damaged its reputation. He exposed the cult of personality and the terror so that "
        "victims could be rehabilitated and people were no longer afraid. It also weakened "
        "his rivals Molotov and Malenkov, who were linked to the purges, and strengthened his "
        "power."),
    "thaw-significance": (
        "Censorship was relaxed, so writers and artists could explore forbidden themes. "
        "Solzhenitsyn's One Day in the Life of Ivan Denisovich exposed the gulag. However "
        "censorship remained and dissidents were still arrested, and the Hungarian Uprising "
        "was crushed in 1956."),
}
WEAK = {"secret-speech-1956": "Stalin was bad.", "thaw-significance": "Things changed."}


@pytest.fixture(scope="module")
def seed_eval():
    spec = importlib.util.spec_from_file_location("essaycheck_seed_eval", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def _rows_agreeing_with(seed_eval, checker):
    """Two answers per question, labelled and marked exactly as the checker marks them."""
    rows = []
    for question_id in STRONG:
        for n, text in enumerate((STRONG[question_id], WEAK[question_id])):
            result = checker.check(question_id, text)
            rows.append(seed_eval.SeedRow(
                f"{question_id}-{n}", question_id, text, result.score,
                {p.point_id: seed_eval.ORDINAL[p.status] for p in result.points}))
    return rows


def test_measure_agrees_fully_with_labels_equal_to_the_engine(seed_eval, checker):
    rows = _rows_agreeing_with(seed_eval, checker)
    # the two answers per question differ, or every figure below would be undefined
    for question_id in STRONG:
        scores = [r.mark for r in rows if r.question_id == question_id]
        assert scores[0] > scores[1]
    report = seed_eval.measure(rows, checker, checker)
    pooled = report["pooled_point_level"]
    assert pooled["n"] == sum(len(r.points) for r in rows)
    assert pooled["exact"] == 1.0 and pooled["qwk"] == pytest.approx(1.0)
    assert pooled["under"] == pooled["over"] == 0 and report["disagreements"] == []
    for entry in report["questions"].values():
        assert entry["curated"]["pearson"] == pytest.approx(1.0)
        assert entry["drafted"]["pearson"] == pytest.approx(1.0)
    assert all(t["met"] for t in report["targets"])
    # the same rubrics as "drafted": each point aligned with itself, the same point figures
    assert all(a == {p.id: p.id for p in checker.rubric(q).points}
               for q, a in report["alignments"].items())
    assert report["drafted_pooled_point_level"] == pooled
    assert report["unknown_points"] == []
    rows[0].points["no-such-point"] = 2
    assert seed_eval.measure(rows, checker, checker)["unknown_points"] == [
        f"{rows[0].question_id}:no-such-point"]


def test_measure_counts_a_miss_and_false_credit_at_three_levels(seed_eval, checker):
    rows = _rows_agreeing_with(seed_eval, checker)
    strong = rows[0]
    covered = [p for p, v in strong.points.items() if v == 2]
    missed = [p for p, v in strong.points.items() if v == 0]
    assert covered and missed
    # the teacher gives one covered point only partial credit (essaycheck over-credits it by
    # one level) and one missed point full credit (essaycheck misses it by two levels)
    strong.points[covered[0]] = 1
    strong.points[missed[0]] = 2
    weak = rows[1]
    strong.mark, weak.mark = weak.mark, strong.mark  # and ranks the two answers the other way
    report = seed_eval.measure(rows, checker, checker)
    figures = report["questions"][strong.question_id]["point_level"]
    n = len(strong.points) * 2
    assert figures["n"] == n
    assert figures["exact"] == pytest.approx((n - 2) / n)
    assert figures["over"] == 1 and figures["under"] == 1
    assert 0 < figures["qwk"] < 1
    assert {(d["point_id"], d["teacher"], d["essaycheck"]) for d in report["disagreements"]} \
        == {(covered[0], 1, 2), (missed[0], 2, 0)}
    entry = report["questions"][strong.question_id]
    assert entry["curated"]["pearson"] == pytest.approx(-1.0)
    drafted_r = [t for t in report["targets"] if t["where"] == strong.question_id
                 and t["target"].startswith("drafted")][0]
    assert drafted_r["met"]  # the same checker twice: drafted r equals curated r


def test_read_seed_keeps_partial_apart_and_names_a_bad_label(seed_eval, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("answer_id,question_id,answer,mark,point:a,point:b,point:c\n"
                    "x1,q,\"one, two\",1.5,covered,partial,\n"
                    "x2,q,three,0,missed,MISSED,partial\n", encoding="utf-8")
    rows = seed_eval.read_seed(good)
    assert [(r.answer_id, r.mark, r.points) for r in rows] == [
        ("x1", 1.5, {"a": 2, "b": 1}), ("x2", 0.0, {"a": 0, "b": 0, "c": 1})]
    bad = tmp_path / "bad.csv"
    bad.write_text("answer_id,question_id,answer,mark,point:a\nx1,q,text,1,yes\n",
                   encoding="utf-8")
    with pytest.raises(seed_eval.MarkedFileError, match=r"line 2, column 'point:a'.*'yes'"):
        seed_eval.read_seed(bad)


@pytest.mark.parametrize("path, least", [(SEED, 30), (DEV, 20)])
def test_the_seed_sets_are_whole_and_marked_by_their_stated_rule(seed_eval, checker, path,
                                                                  least):
    """Every answer labels every point of its question's rubric and none of the other's, and
    its mark is the README's rule: the weighted credit (covered 1, partial 1/2), rounded down.
    The development set (drafting's choices are made on it) shares no answer with the test."""
    rows = seed_eval.read_seed(path)
    assert len(rows) >= 2 * least and len({r.answer_id for r in rows}) == len(rows)
    if path == DEV:
        test = seed_eval.read_seed(SEED)
        assert not {r.answer for r in rows} & {r.answer for r in test}
        assert not {r.answer_id for r in rows} & {r.answer_id for r in test}
    for question_id in checker.question_ids:
        rubric = checker.rubric(question_id)
        mine = [r for r in rows if r.question_id == question_id]
        assert len(mine) >= least
        weights = {p.id: p.weight for p in rubric.points}
        for row in mine:
            assert set(row.points) == set(weights), row.answer_id
            credit = sum(weights[p] * level / 2 for p, level in row.points.items())
            assert row.mark == math.floor(credit + 1e-9), row.answer_id
            assert 0 <= row.mark <= rubric.max_score


def test_align_points_pairs_a_drafted_point_with_the_curated_one_it_words(seed_eval, checker,
                                                                          analyzer):
    from essaycheck.extract import draft_rubric

    curated = checker.rubric("secret-speech-1956")
    drafted = draft_rubric("d", curated.question, "His rivals Molotov and Malenkov were "
                           "weakened. Relations with communist allies abroad were mended.",
                           analyzer)
    aligned = seed_eval.align_points(drafted, curated, analyzer)
    assert list(aligned.values()) == ["weaken-rivals", "signal-to-allies"]
