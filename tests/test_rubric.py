"""Rubric parsing and validation: every shipped file validates; every fault is named."""

from __future__ import annotations

import textwrap

import pytest

from essaycheck import RubricError, dump_rubric, parse_rubric
from essaycheck.rubric import validate_rubric
from essaycheck.feedback import mark
from essaycheck.loader import check_directory, load_directory, rubric_files

from .conftest import RUBRIC_DIR

VALID = textwrap.dedent("""\
    id: q1
    question: Why is the sky blue?
    max_score: 3
    model_answer: Sunlight scatters off air molecules. Blue light scatters most.
    points:
      - id: scatter
        text: Sunlight scatters off air molecules.
        keywords: [[scatter, scattering], [molecule, molecules, air]]
      - id: blue-most
        text: Shorter blue wavelengths scatter most.
        weight: 2
        hint: Say which colour scatters most, and why.
    """)


def problems_of(text: str) -> list[str]:
    with pytest.raises(RubricError) as info:
        parse_rubric(text, "test.yaml")
    return [str(p) for p in info.value.problems]


def test_every_shipped_rubric_validates():
    files = rubric_files(RUBRIC_DIR)
    assert {f.name for f in files} >= {"secret-speech-1956.yaml", "thaw-significance.yaml"}
    rubrics, problems = check_directory(RUBRIC_DIR)
    assert problems == []
    assert len(rubrics) == len(files)


def test_shipped_rubrics_have_hints_and_keywords():
    for rubric in load_directory(RUBRIC_DIR):
        assert rubric.max_score > 0
        for point in rubric.points:
            assert point.hint, f"{rubric.id}:{point.id} has no hint"
            assert point.keywords, f"{rubric.id}:{point.id} has no keywords"


def test_valid_rubric_parses_with_defaults():
    rubric = parse_rubric(VALID, "test.yaml")
    assert rubric.id == "q1"
    assert rubric.point("scatter").keywords == (("scatter", "scattering"), ("molecule", "molecules", "air"))
    assert rubric.point("scatter").weight == 1.0
    assert rubric.point("blue-most").weight == 2.0
    assert rubric.point("blue-most").hint.startswith("Say which")


def test_dump_round_trips():
    rubric = parse_rubric(VALID, "test.yaml")
    assert parse_rubric(dump_rubric(rubric), "again.yaml") == rubric


def test_missing_field_is_named_with_fix():
    found = problems_of(VALID.replace("max_score: 3\n", ""))
    assert found == ["test.yaml: max_score: missing required field (fix: add 'max_score:' with a number)"]


def test_duplicate_point_id():
    text = VALID.replace("id: blue-most", "id: scatter")
    [found] = problems_of(text)
    assert "points[1].id" in found and "duplicate point id 'scatter'" in found


def test_empty_point_text():
    [found] = problems_of(VALID.replace("text: Shorter blue wavelengths scatter most.", "text: ''"))
    assert found.startswith("test.yaml: points[1].text: is empty")


def test_unknown_key_suggests_the_right_one():
    [found] = problems_of(VALID.replace("max_score: 3", "max_score: 3\nmodel_anwser: x"))
    assert "model_anwser: unknown field" in found and "did you mean 'model_answer'" in found
    [found] = problems_of(VALID.replace("weight: 2", "wieght: 2"))
    assert "points[1].wieght: unknown field" in found


def test_bands_out_of_range_and_not_rising():
    found = problems_of(VALID + "bands: {5: 3}\n")
    assert any("bands.5" in p and "out of range" in p for p in found)
    found = problems_of(VALID + "bands: {1: 4}\n")
    assert any("bands.1" in p and "max_score" in p for p in found)
    found = problems_of(VALID + "bands: {1: 2, 2: 1}\n")
    assert any("bands.2" in p and "earns less" in p for p in found)


def test_all_problems_reported_at_once():
    text = "id: Bad Id\nquestion: ''\nmax_score: -1\nmodel_answer: x\npoints: []\n"
    found = problems_of(text)
    fields = [p.split(": ")[1] for p in found]
    assert fields == ["id", "question", "max_score", "points"]


@pytest.mark.parametrize("text, expected", [
    ("", "the file is empty"),
    ("- a\n- b\n", "not a mapping"),
    ("id: [unclosed\n", "not valid YAML"),
    (b"id: caf\xe9\n", "not UTF-8"),
])
def test_unreadable_files(text, expected):
    [found] = problems_of(text)
    assert expected in found


def test_keywords_shape_errors():
    found = problems_of(VALID.replace("keywords: [[scatter, scattering], [molecule, molecules, air]]",
                                      "keywords: {a: b}"))
    assert any("points[0].keywords" in p and "list of groups" in p for p in found)
    found = problems_of(VALID.replace("[molecule, molecules, air]", "[]"))
    assert any("points[0].keywords[1]" in p for p in found)


def test_bands_decide_the_mark():
    rubric = parse_rubric(VALID.replace("max_score: 3", "max_score: 3\nbands: {2: 3, 1: 1}"), "t")
    assert mark(rubric, ["covered", "covered"]) == 3
    assert mark(rubric, ["covered", "partial"]) == 1
    assert mark(rubric, ["missed", "missed"]) == 0


def test_weighted_share_without_bands():
    rubric = parse_rubric(VALID, "t")
    assert mark(rubric, ["covered", "missed"]) == 1.0      # weight 1 of 3
    assert mark(rubric, ["partial", "covered"]) == 2.5     # 0.5 + 2 of 3
    assert mark(rubric, ["covered", "covered"]) == 3.0


def test_missing_directory_and_empty_directory(tmp_path):
    rubrics, problems = check_directory(tmp_path / "nope")
    assert rubrics == [] and "no such directory" in str(problems[0])
    rubrics, problems = check_directory(tmp_path)
    assert "holds no rubric files" in str(problems[0])


def test_duplicate_rubric_ids_across_files(tmp_path):
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID)
    rubrics, problems = check_directory(tmp_path)
    assert len(rubrics) == 1
    assert "duplicate rubric id 'q1'" in str(problems[0]) and "b.yaml" in str(problems[0])


@pytest.mark.parametrize("value, message", [
    (1.5, "must be between -1 and 1"), (-1.2, "must be between -1 and 1"),
    ("lots", "must be a number"), (True, "must be a number")])
def test_mark_shift_must_be_a_share_of_max_score(value, message):
    data = {"id": "q", "question": "Why?", "max_score": 4, "model_answer": "Because.",
            "points": [{"id": "p", "text": "Because."}], "mark_shift": value}
    with pytest.raises(RubricError) as error:
        validate_rubric(data, "q.yaml")
    assert "mark_shift" in str(error.value) and message in str(error.value)


def test_a_mark_shift_moves_every_mark_within_0_and_max_score():
    data = {"id": "q", "question": "Why?", "max_score": 4, "model_answer": "Because.",
            "points": [{"id": "a", "text": "One."}, {"id": "b", "text": "Two."}]}
    plain = validate_rubric(data, "q.yaml")
    lenient = validate_rubric({**data, "mark_shift": 0.25}, "q.yaml")
    harsh = validate_rubric({**data, "mark_shift": -0.25}, "q.yaml")
    statuses = ["covered", "missed"]
    assert mark(plain, statuses) == 2 and mark(lenient, statuses) == 3
    assert mark(harsh, statuses) == 1
    assert mark(lenient, ["covered", "covered"]) == 4 and mark(harsh, ["missed", "missed"]) == 0
