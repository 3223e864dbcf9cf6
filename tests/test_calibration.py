"""Calibration: thresholds fitted to a marked sample, judged only by cross-validation."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from essaycheck import Checker
from essaycheck import calibration as cal
from essaycheck.calibration import MarkedItem, calibrate_rubrics, format_outcome, outcome_dict
from essaycheck.cli import main
from essaycheck.evaluation import whole_marks
from essaycheck.loader import RubricWriteError, load_directory, write_rubrics
from essaycheck.rubric import parse_rubric, validate_rubric

from .conftest import RUBRIC_DIR

QUESTION = {
    "id": "plants", "question": "What do plants need to grow?", "max_score": 1,
    "model_answer": "Plants need sunlight and water to make their food.",
    "points": [{"id": "light-water", "text": "Plants need sunlight and water to make food.",
                "keywords": [["sunlight", "light", "sun"], ["water", "watering"],
                             ["food", "sugar", "energy"]]}],
}
# A generous marker: one of the three ideas is enough for the mark.
GENEROUS = [
    ("They need sunlight.", 1), ("Water is needed.", 1), ("The sun helps them.", 1),
    ("They make food.", 1), ("Light from the sun.", 1), ("Lots of water.", 1),
    ("They like music.", 0), ("Plants are green.", 0), ("Nothing at all.", 0),
    ("Because of soil.", 0), ("I am not sure.", 0), ("Roots are brown.", 0),
]


@pytest.fixture()
def plants(nlp):
    return Checker([validate_rubric(QUESTION, "plants.yaml")], nlp=nlp).fit()


def marked(rows):
    return [MarkedItem("plants", answer, mark) for answer, mark in rows]


def test_fit_finds_thresholds_that_separate_the_marks():
    rubric = validate_rubric(QUESTION, "plants.yaml")
    strengths = np.array([[0.1], [0.2], [0.35], [0.38], [0.6], [0.9]])
    listed = np.zeros_like(strengths, dtype=bool)
    marks = np.array([0, 0, 1, 1, 1, 1], dtype=float)
    covered, partial, _, shift = cal._fit(rubric, strengths, listed, marks, (0.5, 0.28), False)
    assert 0.2 < covered <= 0.35 and partial <= covered
    # the thresholds put every answer on its side of "covered"; the mark keeps the evidence
    # within "missed", so only a small shift is left
    assert abs(shift) < 0.05
    credits = cal._credits(strengths, listed, covered, partial, rubric)
    assert ((credits == 1.0) == (marks[:, None] == 1)).all()
    assert (cal._credits(strengths, listed, covered, partial) == (marks[:, None] == 1)).all()


def test_listed_points_stay_below_covered():
    strengths = np.array([[0.9], [0.9]])
    listed = np.array([[True], [False]])
    assert cal._credits(strengths, listed, 0.5, 0.3).tolist() == [[0.5], [1.0]]


def test_cross_validation_never_fits_on_the_answers_it_predicts(monkeypatch):
    rubric = validate_rubric(QUESTION, "plants.yaml")
    n = 12
    strengths = np.linspace(0.05, 0.95, n).reshape(-1, 1)   # each row is recognisable
    listed = np.zeros_like(strengths, dtype=bool)
    marks = (np.arange(n) % 2).astype(float)
    seen = []
    real_fit = cal._fit

    def spy(rubric_, s, lst, m, start, learn, *more):
        seen.append(set(np.round(s[:, 0], 6)))
        return real_fit(rubric_, s, lst, m, start, learn, *more)

    monkeypatch.setattr(cal, "_fit", spy)
    predicted = cal._cross_validated(rubric, strengths, listed, marks, (0.5, 0.28), False)
    assert len(predicted) == n and len(seen) == cal.FOLDS
    everything = set(np.round(strengths[:, 0], 6))
    held_out = [everything - train for train in seen]
    # every answer is predicted exactly once, by a fit that never saw it
    assert sorted(x for fold in held_out for x in fold) == sorted(everything)
    assert all(len(fold) >= 2 for fold in held_out)


def test_cross_validated_figure_is_not_the_in_sample_one(nlp):
    # marks that have nothing to do with the answers: in-sample a threshold can still fit some
    # of them, cross-validation must not pretend it generalises
    rng = np.random.default_rng(0)
    answers = [a for a, _ in GENEROUS] * 2
    rows = [MarkedItem("plants", a, float(m))
            for a, m in zip(answers, rng.integers(0, 2, 24), strict=True)]
    checker = Checker([validate_rubric(QUESTION, "plants.yaml")], nlp=nlp).fit()
    outcome = calibrate_rubrics(checker, rows)
    (entry,) = outcome.questions
    rubric = checker.rubric("plants")
    strengths, listed = cal._strengths(checker, rubric, answers)
    marks = np.array([r.mark for r in rows])
    covered, partial, w, shift = cal._fit(rubric, strengths, listed, marks, (0.5, 0.28), False)
    in_sample = np.mean((cal._shifted(rubric, cal._marks(
        rubric, cal._credits(strengths, listed, covered, partial, rubric), w), shift) - marks) ** 2)
    cv = cal._cross_validated(rubric, strengths, listed, marks, (0.5, 0.28), False,
                              learn_thresholds=entry.calibration != "shift")
    assert np.mean((cv - marks) ** 2) >= in_sample
    assert entry.cv_calibrated["n"] == 24
    assert entry.cv_calibrated["exact"] == pytest.approx(np.mean(whole_marks(cv) == marks))


def test_calibration_learns_a_generous_marker_and_applies_it(plants):
    before = [plants.check("plants", a).score for a, _ in GENEROUS]
    outcome = calibrate_rubrics(plants, marked(GENEROUS))
    (entry,) = outcome.questions
    assert entry.applied and outcome.changed == ["plants"]
    assert entry.thresholds["covered"] < 0.5
    # applied because its cross-validated error beats the current rubric's
    assert "cross-validated" in entry.reason and entry.reason.endswith("applied")
    assert entry.cv_calibrated["exact"] >= entry.cv_current["exact"]
    calibrated = Checker(outcome.rubrics, nlp=plants.analyzer.nlp).fit()
    after = [calibrated.check("plants", a).score for a, _ in GENEROUS]
    human = [m for _, m in GENEROUS]
    assert (sum(a == h for a, h in zip(after, human, strict=True))
            > sum(b == h for b, h in zip(before, human, strict=True)))
    text = format_outcome(outcome)
    assert "never in-sample" in text and "applied" in text
    assert outcome_dict(outcome)["changed"] == ["plants"]


def test_calibration_keeps_rubrics_it_cannot_improve(plants):
    few = calibrate_rubrics(plants, marked(GENEROUS[:3]))
    assert not few.changed and "at least 5" in few.questions[0].reason
    too_high = calibrate_rubrics(plants, [MarkedItem("plants", a, 5) for a, _ in GENEROUS])
    assert not too_high.changed and "max_score" in too_high.questions[0].reason
    # a marker who agrees with the current thresholds already: nothing to gain
    current = [(a, plants.check("plants", a).score) for a, _ in GENEROUS]
    same = calibrate_rubrics(plants, marked(current))
    assert not same.changed and "left unapplied" in same.questions[0].reason
    assert "would not mark new answers better" in same.questions[0].reason


def test_weights_are_learned_only_when_asked(nlp, make_rubric):
    checker = Checker([make_rubric(**dict(QUESTION, max_score=2, points=[
        {"id": "light", "text": "Plants need sunlight.", "keywords": [["sunlight", "sun"]]},
        {"id": "water", "text": "Plants need water.", "keywords": [["water"]]}]))],
        nlp=nlp).fit()
    # the marker gives both marks for light and nothing for water
    rows = [("They need sunlight.", 2), ("The sun.", 2), ("Sunlight matters.", 2),
            ("Water.", 0), ("They need water.", 0), ("Water them.", 0),
            ("Sun and water.", 2), ("Nothing.", 0), ("Sunlight and water.", 2),
            ("Only water.", 0)]
    items = [MarkedItem("plants", a, m) for a, m in rows]
    plain = calibrate_rubrics(checker, items)
    assert plain.questions[0].weights is None
    # (not cross-validated: ten answers are too few for weights to earn their place there)
    weighted = calibrate_rubrics(checker, items, weights=True, cross_validate=False)
    weights = weighted.questions[0].weights
    assert weights["light"] > weights["water"] > 0


def test_write_in_place_keeps_a_backup_and_refuses_to_clobber_it(tmp_path, plants):
    folder = tmp_path / "rubric"
    folder.mkdir()
    source = folder / "plants.yaml"
    source.write_text(yaml.safe_dump(QUESTION), encoding="utf-8")
    outcome = calibrate_rubrics(plants, marked(GENEROUS))
    written = write_rubrics(outcome.rubrics, outcome.changed, {"plants": source})
    assert written == [source]
    backup = folder / "plants.yaml.bak"
    assert yaml.safe_load(backup.read_text())["id"] == "plants"
    assert "thresholds" not in yaml.safe_load(backup.read_text())
    rubric = parse_rubric(source.read_text(), "plants.yaml")
    assert rubric.thresholds == outcome.rubrics[0].thresholds
    with pytest.raises(RubricWriteError) as info:
        write_rubrics(outcome.rubrics, outcome.changed, {"plants": source})
    assert "--force" in str(info.value)
    write_rubrics(outcome.rubrics, outcome.changed, {"plants": source}, force=True)
    assert not list(folder.glob(".*.tmp"))


def test_write_beside_with_output(tmp_path, plants):
    folder = tmp_path / "rubric"
    folder.mkdir()
    source = folder / "plants.yaml"
    original = yaml.safe_dump(QUESTION)
    source.write_text(original, encoding="utf-8")
    outcome = calibrate_rubrics(plants, marked(GENEROUS))
    out = tmp_path / "calibrated"
    write_rubrics(outcome.rubrics, outcome.changed, {"plants": source}, output=out)
    assert source.read_text() == original and not (folder / "plants.yaml.bak").exists()
    assert parse_rubric((out / "plants.yaml").read_text(), "x").thresholds
    with pytest.raises(RubricWriteError):
        write_rubrics(outcome.rubrics, outcome.changed, {"plants": source}, output=out)
    with pytest.raises(RubricWriteError):
        write_rubrics(outcome.rubrics, outcome.changed, {"plants": source}, output=folder,
                      force=True)


def test_calibrate_command(tmp_path):
    rubrics = tmp_path / "rubric"
    shutil.copytree(RUBRIC_DIR, rubrics)
    speech = load_directory(rubrics)[0]
    rows = ["question_id,answer,mark"]
    sample = [
        (speech.model_answer, 6), ("Stalin was a dictator.", 0), ("Because he wanted to.", 0),
        ("He wanted to weaken his rivals like Molotov, who were linked to the purges.", 1),
        ("He wanted more power over his opponents.", 1),
        ("It paved the way for reform and de-Stalinisation.", 1),
        ("The speech was given in 1956.", 0),
    ]
    for answer, mark in sample:
        rows.append(f"{speech.id},\"{answer}\",{mark}")
    path = tmp_path / "marked.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    runner = CliRunner()
    before = {p.name: p.read_bytes() for p in rubrics.iterdir()}
    dry = runner.invoke(main, ["calibrate", str(path), "--rubrics", str(rubrics), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "cross-validation" in dry.output and "Nothing written" in dry.output
    assert {p.name: p.read_bytes() for p in rubrics.iterdir()} == before
    out = tmp_path / "out"
    result = runner.invoke(main, ["calibrate", str(path), "--rubrics", str(rubrics),
                                  "--output", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert '"questions"' in result.output
    bad = runner.invoke(main, ["calibrate", str(path), "--rubrics", str(rubrics),
                               "--mark-column", "score"])
    assert bad.exit_code == 2 and "no column 'score'" in bad.output
    path.write_text("question_id,answer,mark\nnope,x,1\n", encoding="utf-8")
    none = runner.invoke(main, ["calibrate", str(path), "--rubrics", str(rubrics)])
    assert none.exit_code == 2 and "matches a rubric" in none.output


# ------------------------------------------------------------------ the mark shift
TWO_POINTS = {
    "id": "seeds", "question": "What does a seed need to germinate?", "max_score": 4,
    "model_answer": "A seed needs water and warmth to germinate.",
    "points": [{"id": "water", "text": "A seed needs water.", "keywords": [["water", "moist"]]},
               {"id": "warmth", "text": "A seed needs warmth.",
                "keywords": [["warmth", "warm", "heat"]]}],
}
# A lenient marker: naming either need earns 3 of 4, naming both 4 of 4, nothing 1 of 4.
LENIENT = ([("It needs water.", 3), ("Water.", 3), ("Keep it moist.", 3), ("Warmth.", 3),
            ("It must be warm.", 3), ("Some heat.", 3), ("Water and warmth.", 4),
            ("Warm water.", 4), ("Heat and water.", 4), ("Soil.", 1), ("Sunlight.", 1),
            ("Nothing.", 1)] * 2)


def test_fit_learns_a_lenient_markers_level_as_a_mark_shift():
    rubric = validate_rubric(TWO_POINTS, "seeds.yaml")
    # each answer has one point covered (0.9), both, or neither: marks 2, 4, 0 as the rubric
    # reads them; this marker gives 3, 4, 1
    strengths = np.array([[0.9, 0.0], [0.0, 0.9], [0.9, 0.9], [0.0, 0.0]] * 5)
    listed = np.zeros_like(strengths, dtype=bool)
    marks = np.array([3, 3, 4, 1] * 5, dtype=float)
    covered, partial, _, shift = cal._fit(rubric, strengths, listed, marks, (0.5, 0.28), False)
    assert 0.15 < shift <= 0.1875  # +0.75 of 4 on average, shrunk a little by the noise
    predicted = cal._shifted(rubric, cal._marks(rubric, cal._credits(
        strengths, listed, covered, partial), np.ones(2)), shift)
    assert np.abs(predicted - marks).mean() < np.abs(cal._marks(rubric, cal._credits(
        strengths, listed, 0.5, 0.28), np.ones(2)) - marks).mean()
    # a level no clearer than the sample's noise is left alone
    noisy = np.array([2, 4, 4, 0, 1, 4, 3, 0] * 2 + [2, 2, 4, 0], dtype=float)
    assert cal._fit(rubric, strengths, listed, noisy, (0.5, 0.28), False)[3] == 0


def test_calibration_applies_a_mark_shift_and_the_checker_shows_it(nlp):
    checker = Checker([validate_rubric(TWO_POINTS, "seeds.yaml")], nlp=nlp).fit()
    outcome = calibrate_rubrics(checker, [MarkedItem("seeds", a, m) for a, m in LENIENT])
    (entry,) = outcome.questions
    assert entry.applied and entry.mark_shift > 0.1
    (rubric,) = outcome.rubrics
    assert rubric.mark_shift == entry.mark_shift
    assert "shift" in format_outcome(outcome) and f"{entry.mark_shift:+.2f}" in format_outcome(
        outcome)
    calibrated = Checker(outcome.rubrics, nlp=nlp).fit()
    result = calibrated.check("seeds", "It needs water.")
    assert result.score > checker.check("seeds", "It needs water.").score
    assert "your teacher's calibration" in result.summary
    assert calibrated.check("seeds", "Water and warmth.").score == 4  # never above max_score
    # the shift is written with the rubric and read back
    assert parse_rubric(yaml.safe_dump(rubric.to_dict()), "seeds.yaml").mark_shift == \
        rubric.mark_shift


def test_credit_adds_the_shift_within_0_and_1(plants):
    from essaycheck.evaluation import credit

    result = plants.check("plants", "Plants need sunlight and water to make food.")
    assert credit(result, shift=0.5) == 1.0
    assert credit(result, shift=-2.0) == 0.0
    assert credit(result, shift=-0.1) == pytest.approx(credit(result) - 0.1)


# ------------------------------------------------------------------ never worse on new answers
# Sixteen answers whose marks follow the rubric's strengths only loosely: a single 5-fold split
# finds a calibration a little better than the rubric, within the noise of so few answers.
NOISY_STRENGTHS = [0.96, 0.72, 0.54, 0.28, 0.16, 0.97, 0.52, 0.12, 0.62, 0.78, 0.61, 0.92,
                   0.04, 0.53, 0.46, 0.06]
NOISY_MARKS = [0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1]


def test_calibration_within_the_noise_is_left_unapplied_and_says_why():
    rubric = validate_rubric(QUESTION, "plants.yaml")
    strengths = np.array(NOISY_STRENGTHS).reshape(-1, 1)
    listed = np.zeros_like(strengths, dtype=bool)
    marks = np.array(NOISY_MARKS, dtype=float)
    # the rule as it was (one split, any gain applied) would have applied it
    before, _, _ = cal.calibrate_question(rubric, strengths, listed, marks, (0.5, 0.28),
                                          rule=cal.SINGLE_SPLIT)
    assert before.applied
    entry, current, _ = cal.calibrate_question(rubric, strengths, listed, marks, (0.5, 0.28))
    assert not entry.applied
    assert "left unapplied" in entry.reason and "within the noise of 16 marked answers" in \
        entry.reason
    outcome = cal.CalibrationOutcome([rubric], [entry])
    assert not outcome.changed
    text = format_outcome(outcome)
    assert "left unapplied" in text and "within the noise" in text


def test_a_shift_alone_is_preferred_when_thresholds_do_not_earn_their_place(nlp):
    checker = Checker([validate_rubric(TWO_POINTS, "seeds.yaml")], nlp=nlp).fit()
    outcome = calibrate_rubrics(checker, [MarkedItem("seeds", a, m) for a, m in LENIENT])
    (entry,) = outcome.questions
    assert entry.applied and entry.calibration == "shift"
    (rubric,) = outcome.rubrics
    # the rubric's own thresholds are left as they were written
    assert rubric.thresholds == checker.rubric("seeds").thresholds and rubric.mark_shift > 0
    assert "applied (shift)" in format_outcome(outcome)


def test_calibration_credits_points_as_the_mark_does():
    from essaycheck.feedback import point_credit

    rubric = validate_rubric(QUESTION, "plants.yaml")
    strengths = np.array([[0.0], [0.1], [0.3], [0.45], [0.5], [0.8], [0.9], [0.6]])
    listed = np.array([[False]] * 7 + [[True]])
    credits = cal._credits(strengths, listed, 0.5, 0.28, rubric)
    expected = [point_credit(s, 0.5, 0.28, bool(b)) for s, b in zip(strengths[:, 0],
                                                                    listed[:, 0], strict=True)]
    assert credits[:, 0].tolist() == pytest.approx(expected)
    assert expected[4] == 1.0 and expected[-1] == 0.5  # covered; named only in a list
