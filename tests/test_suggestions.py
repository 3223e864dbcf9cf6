"""Suggestions learned from a teacher's marks, point by point: the report on a small marked set
(biology), applying a suggestion, and ``calibrate --suggest`` writing only when asked."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from essaycheck import Checker
from essaycheck.cli import main
from essaycheck.evaluation import MarkedAnswer
from essaycheck.loader import load_rubric_file
from essaycheck.rubric import dump_rubric, validate_rubric
from essaycheck.suggestions import (
    ADD,
    REMOVE,
    Suggestion,
    SuggestionError,
    apply_suggestion,
    distance,
    suggest,
    teacher_labels,
)

QUESTION = "photosynthesis"
RUBRIC = {
    "id": QUESTION, "subject": "biology",
    "question": "What does a plant need for photosynthesis, and what does it make?",
    "max_score": 2,
    "model_answer": "Plants use light energy, water and carbon dioxide to make glucose. "
                    "Oxygen is released as a by-product.",
    "points": [
        {"id": "inputs", "text": "Light energy, water and carbon dioxide are used.",
         "keywords": [["light", "sunlight"], ["carbon dioxide", "co2"]]},
        {"id": "products", "text": "Glucose is made and oxygen is released.",
         "keywords": [["glucose", "sugar", "food"], ["oxygen", "o2"]]},
    ],
}
# (answer, teacher's credit for inputs, for products). The teacher credits "sunshine" as the
# light a plant needs, which the rubric does not know; and "food" only fires in answers that
# say plants take their food from the soil, which the teacher does not credit.
MARKED = [
    ("The plant takes in sunshine and carbon dioxide from the air.", 1, 0),
    ("It needs sunshine, water and carbon dioxide.", 1, 0),
    ("With sunshine the leaf uses carbon dioxide to make glucose and oxygen.", 1, 1),
    ("Sunshine lets the leaves turn carbon dioxide and water into sugar.", 1, 0),
    ("Light and carbon dioxide are used to make glucose, releasing oxygen.", 1, 1),
    ("Sunlight and carbon dioxide make sugar and oxygen.", 1, 1),
    ("The plant uses light and carbon dioxide.", 1, 0),
    ("Food is made in the soil and released into the roots.", 0, 0),
    ("They make food from the soil, releasing it into the roots.", 0, 0),
    ("The plant makes food from soil and releases it.", 0, 0),
    ("It makes glucose and gives off oxygen.", 0, 1),
    ("Glucose is made and oxygen released.", 0, 1),
    ("Plants need water.", 0, 0),
    ("I do not know.", 0, 0),
    ("Plants are green because of chlorophyll.", 0, 0),
]


def rows(marked=MARKED, question=QUESTION):
    return [MarkedAnswer(question, answer, None, {"inputs": bool(i), "products": bool(p)},
                         point_marks={"inputs": float(i), "products": float(p)})
            for answer, i, p in marked]


@pytest.fixture(scope="module")
def rubric():
    return validate_rubric(RUBRIC, "photosynthesis.yaml")


@pytest.fixture(scope="module")
def biology(nlp, rubric):
    return Checker([rubric], nlp=nlp).fit()


@pytest.fixture(scope="module")
def found(biology, rubric):
    return suggest(biology, rubric, rows())


def test_a_synonym_the_teacher_credits_is_suggested_for_its_group(found):
    add = [s for s in found if s.action == ADD and s.point_id == "inputs"]
    assert add and add[0].term == "sunshine" and add[0].group == 0  # the "light" group
    # the two answers it lifts from partly to fully made (the others are covered already)
    assert add[0].fixes == 2 and add[0].breaks == 0 and not add[0].inferred
    assert any("sunshine" in quote.lower() for quote in add[0].evidence)
    assert add[0].to_dict()["group"] == 0 and add[0].to_dict()["action"] == "add"


def test_a_misleading_alternative_is_suggested_for_removal(found):
    remove = [s for s in found if s.action == REMOVE]
    assert [(s.point_id, s.term, s.group) for s in remove][:1] == [("products", "food", 0)]
    assert remove[0].fixes == 3 and remove[0].breaks == 0
    assert all("food" in quote.lower() for quote in remove[0].evidence)


def test_every_suggestion_fixes_more_than_it_breaks_and_ranks_best_first(found):
    assert found and all(s.fixes > s.breaks for s in found)
    for point in ("inputs", "products"):
        nets = [s.fixes - s.breaks for s in found if s.point_id == point]
        assert nets == sorted(nets, reverse=True)
    assert len(found) <= 5 * 2


def test_nothing_is_suggested_where_the_rubric_already_agrees(biology, rubric):
    # the teacher's labels are the rubric's own verdicts
    agreeing = []
    for answer, _, _ in MARKED:
        result = biology.check(QUESTION, answer)
        credit = {p.point_id: {"covered": 1.0, "partial": 0.5, "missed": 0.0}[p.status]
                  for p in result.points}
        agreeing.append(MarkedAnswer(QUESTION, answer, None,
                                     {k: v > 0 for k, v in credit.items()}, point_marks=credit))
    assert suggest(biology, rubric, agreeing) == []
    assert suggest(biology, rubric, rows(question="another-question")) == []


def test_applying_a_suggestion_gives_a_valid_rubric_that_marks_as_the_teacher_did(
        biology, rubric, found):
    best = {s.action: s for s in found}
    changed = apply_suggestion(rubric, best[ADD])
    assert "sunshine" in changed.point("inputs").keywords[0]
    assert rubric.point("inputs").keywords[0] == ("light", "sunlight")  # the input is kept
    changed = apply_suggestion(changed, best[REMOVE])
    assert changed.point("products").keywords[0] == ("glucose", "sugar")
    assert validate_rubric(changed.to_dict()) == changed
    refitted = biology.with_rubrics([changed])
    for answer in ("The plant takes in sunshine and carbon dioxide from the air.",
                   "With sunshine the leaf uses carbon dioxide to make glucose and oxygen."):
        assert biology.check(QUESTION, answer).points[0].status == "partial"
        assert refitted.check(QUESTION, answer).points[0].status == "covered"
    for answer in ("Food is made in the soil and released into the roots.",
                   "The plant makes food from soil and releases it."):
        assert biology.check(QUESTION, answer).points[1].status != "missed"
        assert refitted.check(QUESTION, answer).points[1].status == "missed"


def test_a_suggestion_that_does_not_fit_is_refused(rubric):
    with pytest.raises(SuggestionError, match="no point"):
        apply_suggestion(rubric, Suggestion(QUESTION, "nope", ADD, "x", None, 1, 0, ()))
    with pytest.raises(SuggestionError, match="not in keyword group 1"):
        apply_suggestion(rubric, Suggestion(QUESTION, "inputs", REMOVE, "sun", 0, 1, 0, ()))
    with pytest.raises(SuggestionError, match="no group 5"):
        apply_suggestion(rubric, Suggestion(QUESTION, "inputs", ADD, "sun", 4, 1, 0, ()))
    with pytest.raises(SuggestionError, match="not 'photosynthesis'"):
        apply_suggestion(rubric, Suggestion("other", "inputs", ADD, "sun", 0, 1, 0, ()))
    new_group = apply_suggestion(rubric, Suggestion(QUESTION, "inputs", ADD, "chlorophyll",
                                                    None, 1, 0, ()))
    assert new_group.point("inputs").keywords[-1] == ("chlorophyll",)


def test_labels_from_a_total_mark_are_inferred_only_where_unambiguous(rubric):
    def labels(mark, statuses):
        return teacher_labels(rubric, MarkedAnswer(QUESTION, "x", mark), statuses)

    assert labels(2, ["missed", "missed"]) == {"inputs": (1.0, True), "products": (1.0, True)}
    assert labels(0, ["covered", "partial"]) == {"inputs": (0.0, True),
                                                 "products": (0.0, True)}
    # the rubric's own mark: its verdicts
    assert labels(1, ["covered", "missed"]) == {"inputs": (1.0, True),
                                                "products": (0.0, True)}
    # more than the rubric gave: at least its credits, and here only one way to reach it
    assert labels(1.5, ["covered", "missed"]) == {"inputs": (1.0, True),
                                                  "products": (0.5, True)}
    # 1 for (partial, missed): (full, none) or (half, half); the first point was made
    assert labels(1, ["partial", "missed"]) == {"inputs": (True, True)}
    # less than the rubric gave: half a mark off one of them, both still made
    assert labels(1.5, ["covered", "covered"]) == {"inputs": (True, True),
                                                   "products": (True, True)}
    # a whole mark off one of two: which one is unknown
    assert labels(1, ["covered", "covered"]) == {}
    assert labels(None, ["covered", "covered"]) == {}
    assert distance(0.5, True) == 0 and distance(0.0, True) == 1 and distance(0.5, 1.0) == 0.5


def test_suggestions_from_total_marks_alone_say_their_evidence_is_weaker(biology, rubric):
    marks = [MarkedAnswer(QUESTION, answer, float(i + p)) for answer, i, p in MARKED]
    found = suggest(biology, rubric, marks)
    assert found and all(s.inferred for s in found)
    assert any(s.term == "food" and s.action == REMOVE for s in found)


# -- the command line ---------------------------------------------------------------------
@pytest.fixture()
def files(tmp_path, rubric):
    folder = tmp_path / "rubric"
    folder.mkdir()
    (folder / "photosynthesis.yaml").write_text(dump_rubric(rubric), encoding="utf-8")
    marked = tmp_path / "marked.csv"
    with open(marked, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question_id", "answer", "point:inputs", "point:products"])
        for answer, i, p in MARKED:
            writer.writerow([QUESTION, answer, "covered" if i else "missed",
                             "covered" if p else "missed"])
    return folder, marked


def test_calibrate_suggest_prints_and_writes_nothing_unless_asked(files):
    folder, marked = files
    before = (folder / "photosynthesis.yaml").read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["calibrate", str(marked), "--suggest",
                                       "--rubrics", str(folder)])
    assert result.exit_code == 0, result.output
    assert "point inputs" in result.output and "'sunshine'" in result.output
    assert "remove 'food' from keyword group 1 [glucose, sugar, food]" in result.output
    assert "fixes 3, breaks 0" in result.output and "Nothing written" in result.output
    assert (folder / "photosynthesis.yaml").read_text(encoding="utf-8") == before
    assert not (folder / "photosynthesis.yaml.bak").exists()

    as_json = CliRunner().invoke(main, ["calibrate", str(marked), "--suggest", "--json",
                                        "--rubrics", str(folder)])
    data = json.loads(as_json.output)
    listed = data["questions"][0]["suggestions"]
    assert data["written"] == [] and listed[0]["number"] == 1
    food = next(s for s in listed if s["term"] == "food")
    assert (folder / "photosynthesis.yaml").read_text(encoding="utf-8") == before

    bad = CliRunner().invoke(main, ["calibrate", str(marked), "--suggest", "--apply", "99",
                                    "--rubrics", str(folder)])
    assert bad.exit_code == 2 and "not a suggestion number" in bad.output
    assert (folder / "photosynthesis.yaml").read_text(encoding="utf-8") == before

    applied = CliRunner().invoke(main, ["calibrate", str(marked), "--suggest", "--apply",
                                        str(food["number"]), "--rubrics", str(folder)])
    assert applied.exit_code == 0, applied.output
    assert "Wrote 1 rubric file(s) in place" in applied.output
    assert (folder / "photosynthesis.yaml.bak").read_text(encoding="utf-8") == before
    written = load_rubric_file(folder / "photosynthesis.yaml")
    assert written.point("products").keywords[0] == ("glucose", "sugar")
    assert written.point("inputs").keywords == (("light", "sunlight"),
                                                ("carbon dioxide", "co2"))


def test_apply_without_suggest_is_refused(files):
    folder, marked = files
    result = CliRunner().invoke(main, ["calibrate", str(marked), "--apply", "1",
                                       "--rubrics", str(folder)])
    assert result.exit_code == 2 and "--apply goes with --suggest" in result.output


def test_a_word_another_points_wildcard_stands_for_is_not_suggested(nlp):
    """'Hungary' was suggested for censorship persisting, where the reversal point's
    'Hungar*' already has it: a wildcard, like an alternative, keeps its word to its point."""
    data = json.loads(json.dumps(RUBRIC))
    data["points"][1]["keywords"][0].append("sunsh*")
    rubric = validate_rubric(data, "photosynthesis.yaml")
    checker = Checker([rubric], nlp=nlp).fit()
    found = suggest(checker, rubric, rows())
    assert not [s for s in found if s.action == ADD and s.term.startswith("sunsh")]
    plain = suggest(checker.with_rubrics([validate_rubric(RUBRIC, "p.yaml")]),
                    validate_rubric(RUBRIC, "p.yaml"), rows())
    assert [s for s in plain if s.action == ADD and s.term == "sunshine"]
