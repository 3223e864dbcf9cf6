"""Rubric parsing and validation: every shipped file validates; every fault is named."""

from __future__ import annotations

import textwrap

import pytest

from essaycheck import RubricError, dump_rubric, parse_rubric
from essaycheck.feedback import mark
from essaycheck.loader import check_directory, load_directory, rubric_files
from essaycheck.rubric import validate_rubric

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
    assert rubric.point("scatter").keywords == (("scatter", "scattering"),
                                                ("molecule", "molecules", "air"))
    assert rubric.point("scatter").weight == 1.0
    assert rubric.point("blue-most").weight == 2.0
    assert rubric.point("blue-most").hint.startswith("Say which")


def test_dump_round_trips():
    rubric = parse_rubric(VALID, "test.yaml")
    assert parse_rubric(dump_rubric(rubric), "again.yaml") == rubric


def test_missing_field_is_named_with_fix():
    found = problems_of(VALID.replace("max_score: 3\n", ""))
    assert found == ["test.yaml: max_score: missing required field "
                     "(fix: add 'max_score:' with a number)"]


def test_a_rubric_too_large_in_all_is_refused_with_the_limit_and_a_fix():
    """Each text within its own limit, but 900 points in a 1 MB file: fitting it would stall
    a page that reloads its rubrics and end in a MemoryError, so validation refuses it."""
    points = [{"id": f"p{i}", "text": f"Claim number {i} " + "word " * 200} for i in range(900)]
    data = {"id": "huge", "question": "Q?", "model_answer": "A.", "max_score": 1,
            "points": points}
    with pytest.raises(RubricError) as caught:
        validate_rubric(data, "huge.yaml")
    [found] = [str(p) for p in caught.value.problems]
    assert found.startswith("huge.yaml: points: too long in all") and "20,000" in found
    assert "split the question" in found
    data["points"] = points[:15]  # about 15,000 characters: within the limit
    assert len(validate_rubric(data, "huge.yaml").points) == 15


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
    found = problems_of(VALID.replace(
        "keywords: [[scatter, scattering], [molecule, molecules, air]]", "keywords: {a: b}"))
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
def test_mark_shift_must_be_a_share_of_max_score(value, message, make_rubric):
    with pytest.raises(RubricError) as error:
        make_rubric(max_score=4, mark_shift=value)
    assert "mark_shift" in str(error.value) and message in str(error.value)


def test_a_mark_shift_moves_every_mark_within_0_and_max_score(make_rubric):
    plain = make_rubric(max_score=4)  # two points
    lenient = make_rubric(max_score=4, mark_shift=0.25)
    harsh = make_rubric(max_score=4, mark_shift=-0.25)
    statuses = ["covered", "missed"]
    assert mark(plain, statuses) == 2 and mark(lenient, statuses) == 3
    assert mark(harsh, statuses) == 1
    assert mark(lenient, ["covered", "covered"]) == 4 and mark(harsh, ["missed", "missed"]) == 0


def test_yaml_aliases_are_refused_before_they_expand():
    bomb = VALID.replace("max_score: 3", textwrap.dedent("""\
        a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        max_score: [*c, *c, *c, *c, *c, *c, *c, *c, *c]"""))
    problems = problems_of(bomb)
    assert len(problems) == 1
    assert "test.yaml: line 4, column 8: uses the YAML alias *a" in problems[0]
    assert "write the value out in full" in problems[0]


@pytest.mark.parametrize("field", ["max_score", "thresholds", "bands", "mark_shift", "question"])
def test_an_alias_under_any_field_is_refused(field):
    text = f"notes: &big [x, x]\n{VALID.replace(f'{field}: 3', '')}{field}: *big\n"
    problems = problems_of(text)
    assert len(problems) == 1 and "alias *big" in problems[0] and "line" in problems[0]


def test_deep_nesting_gets_a_message_not_a_traceback():
    problems = problems_of(VALID + "notes: " + "[" * 5000 + "\n")
    assert len(problems) == 1
    assert "test.yaml: line 13, column 23: is nested more than 16 levels deep" in problems[0]


def test_a_number_of_5001_digits_gets_a_message():
    problems = problems_of(VALID.replace("max_score: 3", "max_score: " + "9" * 5001))
    assert len(problems) == 1
    assert "line 3" in problems[0] and "a number 5001 characters long" in problems[0]
    assert "write a plain number" in problems[0]


def test_huge_numbers_as_plain_data_are_named_shortly():
    data = parse_rubric(VALID, "q1.yaml").to_dict()
    data["max_score"] = 10 ** 5000
    with pytest.raises(RubricError) as info:
        validate_rubric(data, "q1.yaml")
    message = str(info.value.problems[0])
    assert "max_score: must be a number, not <a number of about 5001 digits>" in message
    data["max_score"] = [[list(range(1000))] * 1000] * 1000
    with pytest.raises(RubricError) as info:
        validate_rubric(data, "q1.yaml")
    assert len(str(info.value.problems[0])) < 300


def test_duplicate_keys_are_refused_naming_both_lines():
    problems = problems_of(VALID.replace("max_score: 3", "max_score: 2\nmax_score: 5"))
    assert problems == ["test.yaml: line 4, column 1: 'max_score' is given twice, on line 3 "
                        "and on line 4 (fix: keep one of them: YAML would silently use the "
                        "last)"]
    nested = VALID.replace("    weight: 2\n", "    weight: 2\n    weight: 3\n")
    assert "'weight' is given twice, on line 11 and on line 12" in problems_of(nested)[0]


def test_rubric_files_larger_than_the_limit_are_refused(tmp_path):
    from essaycheck.loader import load_rubric_file
    from essaycheck.rubric import MAX_RUBRIC_BYTES

    big = VALID + "notes: " + "x" * MAX_RUBRIC_BYTES + "\n"
    assert "is larger than a rubric file may be (1,000,000 bytes)" in problems_of(big)[0]
    path = tmp_path / "big.yaml"
    path.write_text(big, encoding="utf-8")
    with pytest.raises(RubricError) as info:
        load_rubric_file(path)
    assert str(info.value.problems[0]).startswith(f"{path}: is larger than a rubric file")


def test_validation_refuses_what_loading_would(nlp):
    from essaycheck import Checker
    from essaycheck.rubric import MAX_CONTEXT_CHARS, MAX_FIELD_CHARS

    long_context = VALID + "context: " + "word " * 50_000 + "\n"
    problems = problems_of(long_context)
    assert problems == [f"test.yaml: context: is 249,999 characters long; it may be at most "
                        f"{MAX_CONTEXT_CHARS:,} (fix: shorten it: keep the passage the answers "
                        "draw on)"]
    long_answer = VALID.replace("model_answer: Sunlight", "model_answer: " + "x" * MAX_FIELD_CHARS)
    problem = problems_of(long_answer)[0]
    assert "test.yaml: model_answer: is 50,0" in problem and "may be at most 50,000" in problem
    # the longest context allowed, of the text spaCy is given most of (symbols cut with spaces)
    at_limit = parse_rubric(VALID + "context: '" + "!" * MAX_CONTEXT_CHARS + "'\n", "q1.yaml")
    assert Checker([at_limit], nlp=nlp).fit().check("q1", "Sunlight scatters.").score >= 0


@pytest.mark.parametrize("group", [
    "[the, and, of, a]", "[of the, in a, more than]", "[not, never]", "[be*, the*]",
])
def test_keyword_groups_of_common_words_are_refused(group):
    text = VALID.replace("[molecule, molecules, air]", group)
    problems = problems_of(text)
    assert len(problems) == 1
    assert "test.yaml: points[0].keywords[1]: holds only common words" in problems[0]
    assert "replace them with words that carry the point" in problems[0]


def test_a_common_word_among_content_words_is_the_authors_choice():
    rubric = parse_rubric(VALID.replace("[molecule, molecules, air]",
                                        "[molecule, air, but, however, show*]"), "q1.yaml")
    assert rubric.points[0].keywords[1] == ("molecule", "air", "but", "however", "show*")
    # what the analysis counts as a content word is never refused, however short
    short = VALID.replace("[molecule, molecules, air]", "[q., a., 5, show*]")
    assert parse_rubric(short, "q1.yaml").points[0].keywords[1] == ("q.", "a.", "5", "show*")

