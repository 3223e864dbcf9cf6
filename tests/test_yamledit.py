"""Suggestions written into a teacher's own rubric file: small edits in place, every other byte
kept, verified by reading the file back; the whole rubric written instead when that cannot be
done safely."""

from __future__ import annotations

import csv
import difflib
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from essaycheck.cli import main
from essaycheck.errors import RubricError
from essaycheck.loader import load_rubric_file, write_suggestions
from essaycheck.rubric import parse_rubric
from essaycheck.suggestions import ADD, REMOVE, Suggestion, apply_suggestions
from essaycheck.yamledit import TextEditError, apply_suggestions_to_text

Q = "photosynthesis"
# A teacher's file: comments everywhere, hand line breaks, block and flow groups, quoting,
# keys in the teacher's order.
TEACHER = """\
# Year 9 biology, checked with 9B in March.
id: photosynthesis
max_score: 2   # one per point
question: What does a plant need for photosynthesis, and what does it make?
model_answer: >-
  Plants use light energy, water and carbon dioxide to make glucose.
  Oxygen is released as a by-product.
points:
  # what goes in
  - id: inputs
    keywords:
      - [light, sunlight,    # the class writes both
         "day light"]
      - - carbon dioxide
        - co2        # as written in the textbook
        - 'CO2 gas'
    text: Light energy, water and carbon dioxide are used.
    hint: Name what the plant takes in.
  # what comes out
  - id: products
    text: >-
      Glucose is made
      and oxygen is released.
    keywords: [[glucose, sugar, food], [oxygen, o2]]   # flow, on one line
  - id: water
    text: Water is taken up by the roots.
    hint: Say where the water comes from.   # no keywords yet

# end of file
"""


def s(point, action, term, group):
    """A suggestion for the teacher's rubric."""
    return Suggestion(Q, point, action, term, group, 3, 0, ())


SUGGESTIONS = [
    s("inputs", ADD, "sunshine", 0),          # flow group over two lines
    s("inputs", ADD, "carbon dioxide gas", 1),  # block group
    s("inputs", REMOVE, "co2", 1),            # a block item with its comment
    s("products", REMOVE, "food", 0),         # flow item
    s("products", ADD, "chlorophyll: green", None),  # a new group, quoted
    s("water", ADD, "roots", None),           # a point without keywords
]


def edit(text, suggestions, source="photosynthesis.yaml"):
    rubric = parse_rubric(text, source)
    expected = apply_suggestions(rubric, suggestions)
    return apply_suggestions_to_text(text, rubric, suggestions, expected, source), expected


def test_suggestions_are_written_in_place_keeping_every_other_line():
    edited, expected = edit(TEACHER, SUGGESTIONS)
    assert parse_rubric(edited) == expected
    diff = [(line[0], line[2:]) for line in difflib.ndiff(TEACHER.splitlines(),
                                                          edited.splitlines())
            if line[:1] in "+-"]
    assert diff == [
        ("-", '         "day light"]'),
        ("+", '         "day light", sunshine]'),
        ("-", "        - co2        # as written in the textbook"),
        ("+", "        - carbon dioxide gas"),
        ("-", "    keywords: [[glucose, sugar, food], [oxygen, o2]]   # flow, on one line"),
        ("+", "    keywords: [[glucose, sugar], [oxygen, o2], ['chlorophyll: green']]   # flow, "
              "on one line"),
        ("+", "    keywords:"),
        ("+", "      - [roots]"),
    ]
    assert edited.count("#") == TEACHER.count("#") - 1  # only the removed item's comment
    assert expected.point("inputs").keywords[1] == ("carbon dioxide", "CO2 gas",
                                                    "carbon dioxide gas")


def test_removing_a_groups_last_word_removes_the_group_and_the_last_group_the_key():
    edited, expected = edit(TEACHER, [s("products", REMOVE, "o2", 1),
                                      s("products", REMOVE, "oxygen", 1),
                                      s("inputs", REMOVE, "carbon dioxide", 1),
                                      s("inputs", REMOVE, "co2", 1),
                                      s("inputs", REMOVE, "CO2 gas", 1)])
    assert parse_rubric(edited) == expected
    assert "keywords: [[glucose, sugar, food]]   # flow, on one line" in edited
    assert "carbon dioxide" not in edited.split("points:")[1].split("text:")[0]
    assert expected.point("inputs").keywords == (("light", "sunlight", "day light"),)
    gone, expected = edit(TEACHER, [s("products", REMOVE, term, 0)
                                    for term in ("glucose", "sugar", "food")]
                          + [s("products", REMOVE, "oxygen", 0), s("products", REMOVE, "o2", 0)])
    assert parse_rubric(gone) == expected and not expected.point("products").keywords
    assert "glucose, sugar" not in gone and "# flow, on one line" not in gone
    assert gone.replace("\n", "") in TEACHER.replace("\n", "").replace(
        "    keywords: [[glucose, sugar, food], [oxygen, o2]]   # flow, on one line", "")


def test_a_long_flow_line_breaks_under_its_first_item():
    edited, expected = edit(TEACHER, [s("products", ADD, "a very long alternative " * 3, 0)])
    assert parse_rubric(edited) == expected
    assert "    keywords: [[glucose, sugar, food,\n                 'a very long alternative" in \
        edited or "keywords: [[glucose, sugar, food,\n" in edited


def test_windows_line_breaks_and_a_byte_order_mark_are_kept(tmp_path):
    path = tmp_path / "photosynthesis.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + TEACHER.replace("\n", "\r\n").encode("utf-8"))
    rubric = load_rubric_file(path)
    outcome = write_suggestions([rubric], SUGGESTIONS, {Q: path})
    assert outcome.rewritten == {} and outcome.written == (path,)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\n" not in data.replace(b"\r\n", b"")
    assert load_rubric_file(path) == apply_suggestions(rubric, SUGGESTIONS)
    assert (tmp_path / "photosynthesis.yaml.bak").read_bytes().replace(b"\r\n", b"\n") \
        == b"\xef\xbb\xbf" + TEACHER.encode("utf-8")


@pytest.mark.parametrize("text, why", [
    (TEACHER.replace("  - id: water\n    text: Water is taken up by the roots.\n"
                     "    hint: Say where the water comes from.   # no keywords yet\n",
                     "  - {id: water, text: Water is taken up by the roots.}\n"),
     "flow mapping"),
    (TEACHER.replace("    keywords: [[glucose, sugar, food], [oxygen, o2]]   # flow, on one line",
                     "    keywords: [[glucose, sugar, # sweet\n      food], [oxygen, o2]]"),
     "comment"),
])
def test_what_cannot_be_edited_safely_is_refused(text, why):
    with pytest.raises(TextEditError) as caught:
        edit(text, [s("water", ADD, "roots", None), s("products", REMOVE, "food", 0)])
    assert why in caught.value.message


def test_a_changed_file_is_refused():
    rubric = parse_rubric(TEACHER)
    with pytest.raises(TextEditError, match="no longer holds"):
        apply_suggestions_to_text(TEACHER.replace("max_score: 2", "max_score: 3"), rubric,
                                  SUGGESTIONS, apply_suggestions(rubric, SUGGESTIONS))


# -- the command ---------------------------------------------------------------------------
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


def _files(tmp_path, text, name="rubric"):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "photosynthesis.yaml").write_text(text, encoding="utf-8")
    marked = tmp_path / f"{name}.csv"
    with open(marked, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["question_id", "answer", "point:inputs", "point:products"])
        for answer, i, p in MARKED:
            writer.writerow([Q, answer, "covered" if i else "missed",
                             "covered" if p else "missed"])
    return folder, marked


def test_calibrate_apply_keeps_the_teachers_comments_and_layout(tmp_path):
    folder, marked = _files(tmp_path, TEACHER)
    path = folder / "photosynthesis.yaml"
    result = CliRunner().invoke(main, ["calibrate", str(marked), "--suggest", "--apply", "all",
                                       "--rubrics", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Edited in place, comments and layout kept: photosynthesis." in result.output
    assert "own layout" not in result.output
    edited = path.read_text(encoding="utf-8")
    rubric = load_rubric_file(path)
    assert "sunshine" in rubric.point("inputs").keywords[0] and "sunshine" in edited
    assert "food" not in rubric.point("products").keywords[0]
    # every line the suggestions did not touch is there, in order, byte for byte
    assert edited == TEACHER.replace('"day light"]', '"day light", sunshine]').replace(
        "[[glucose, sugar, food], [oxygen, o2]]", "[[glucose, sugar], [oxygen, o2]]")
    assert (folder / "photosynthesis.yaml.bak").read_text(encoding="utf-8") == TEACHER
    check = CliRunner().invoke(main, ["rubric", "check", str(folder)])
    assert check.exit_code == 0, check.output


def test_calibrate_apply_says_when_it_writes_its_own_layout(tmp_path):
    flow_point = TEACHER.replace(
        "  - id: products\n    text: >-\n      Glucose is made\n      and oxygen is released.\n"
        "    keywords: [[glucose, sugar, food], [oxygen, o2]]   # flow, on one line\n",
        "  - {id: products, text: Glucose is made and oxygen is released., "
        "keywords: [[glucose, sugar, food], [oxygen, o2]]}\n")
    folder, marked = _files(tmp_path, flow_point)
    result = CliRunner().invoke(main, ["calibrate", str(marked), "--suggest", "--apply", "all",
                                       "--rubrics", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    assert "flow mapping" in result.output  # "rewritten" in the JSON
    again, marked = _files(tmp_path, flow_point, "again")
    shown = CliRunner().invoke(main, ["calibrate", str(marked), "--suggest", "--apply", "all",
                                      "--rubrics", str(again)])
    assert "photosynthesis.yaml: written in essaycheck's own layout instead (comments and " \
        "line breaks not kept; the .bak has them)" in shown.output
    for where in (folder, again):
        rubric = load_rubric_file(where / "photosynthesis.yaml")
        assert "food" not in rubric.point("products").keywords[0]


# -- any rubric YAML: edited exactly, or written in full, never corrupted -------------------
WORDS = ["light", "sunlight", "carbon dioxide", "co2", "glucose", "sugar*", "it's", "re-use",
         "naïve", "a: b", "x #y", "1917", "[odd]", "50%", "-dash", "oxygen", "say \"hi\"",
         "{brace}", "tab\tword", "true", "null thing", "'quoted'", "comma, word"]
TERMS = WORDS + ["sunshine", "chlorophyll", "*star", "#hash", "leaf: green", "it's, odd"]


def _scalar(draw, word: str, flow: bool) -> str:
    """``word`` written plain, single- or double-quoted, or (rarely) tagged ``!!str`` (a style
    that reads back as it)."""
    styles = [word, "'" + word.replace("'", "''") + "'",
              '"' + word.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"']
    style = draw(st.sampled_from(styles))
    if draw(st.integers(0, 9)) == 0:
        style = "!!str " + style
    try:
        if yaml.safe_load(f"[{style}]" if flow else f"- {style}") == [word]:
            return style
    except yaml.YAMLError:
        pass
    return styles[2]


#: rarely, YAML that rubrics seldom hold: an anchor on a group, a comment inside a flow
#: sequence, a block scalar as a keyword, a point written as a flow mapping
_ODD = st.integers(0, 7).map(lambda n: n == 0)


@st.composite
def rubric_yaml(draw):
    """Rubric YAML with keyword groups in block and flow style, comments and quoting."""
    comment = st.sampled_from(["", "", "  # note", "   #x: [y]", " # - z"])
    indent = draw(st.sampled_from(["", "  ", "    "]))
    lines = ["# generated", "id: photosynthesis", "question: What does a plant need?",
             "max_score: 2" + draw(comment), "model_answer: Plants use light.", "points:"]
    groups_per_point = []
    for p in range(draw(st.integers(1, 3))):
        pad = indent + "  "
        if draw(st.booleans()):
            lines.append(indent + "# point" + draw(comment))
        lines.append(f"{indent}- id: p{p}" + draw(comment))
        text_lines = [f"{pad}text: Point {p} is about light." + draw(comment)]
        groups = [draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4, unique=True))
                  for _ in range(draw(st.integers(0, 3)))]
        groups_per_point.append(groups)
        body = [text_lines]
        keyword_lines: list[str] = []
        if groups:
            style = draw(st.sampled_from(["flow", "block", "mixed"]))
            if style == "flow":
                rendered = []
                for group in groups:
                    items = [_scalar(draw, w, True) for w in group]
                    single = len(items) == 1 and draw(st.booleans())
                    anchor = f"&g{p}x{len(rendered)} " if draw(_ODD) else ""
                    rendered.append(anchor + (items[0] if single else
                                              "[" + ", ".join(items) + "]"))
                sep = draw(st.sampled_from([", ", ",\n" + pad + "    "] + (
                    [",  # inside\n" + pad + "    "] if draw(_ODD) else [])))
                keyword_lines.append(f"{pad}keywords: [" + sep.join(rendered) + "]"
                                     + draw(comment))
            else:
                keyword_lines.append(f"{pad}keywords:" + draw(comment))
                dash = pad + draw(st.sampled_from(["", "  "]))
                for group in groups:
                    if style == "mixed" and draw(st.booleans()):
                        items = [_scalar(draw, w, True) for w in group]
                        sep = draw(st.sampled_from([", ", ",\n" + dash + "   "]))
                        keyword_lines.append(f"{dash}- [" + sep.join(items) + "]"
                                             + draw(comment))
                    elif len(group) == 1 and draw(st.booleans()):
                        keyword_lines.append(f"{dash}- " + _scalar(draw, group[0], False)
                                             + draw(comment))
                    elif draw(_ODD) and "\t" not in group[0]:
                        keyword_lines.append(f"{dash}- &b{p}x{len(keyword_lines)}")
                        keyword_lines += [f"{dash}  - >-", f"{dash}      {group[0]}"]
                        keyword_lines += [f"{dash}  - " + _scalar(draw, w, False)
                                          for w in group[1:]]
                    else:
                        first, *rest = group
                        keyword_lines.append(f"{dash}- - " + _scalar(draw, first, False)
                                             + draw(comment))
                        keyword_lines += [f"{dash}  - " + _scalar(draw, w, False)
                                          + draw(comment) for w in rest]
            body.append(keyword_lines)
        if draw(st.booleans()):
            body.append([f"{pad}hint: Say it." + draw(comment)])
        fields = draw(st.permutations(body))
        if draw(_ODD):  # a flow mapping: the point on one line
            fields = [[f"{pad}text: Point {p} is about light."]]
            if groups:
                fields.append([f"{pad}keywords: " + json.dumps(groups, ensure_ascii=False)])
            lines[-1] = f"{indent}- {{id: p{p}, " + ", ".join(
                field[0].strip() for field in fields) + "}"
            fields = []
        # the point's fields in any order, each with its lines
        lines += [line for field in fields for line in field]
    if draw(st.booleans()):
        lines.append("# the end")
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text, groups_per_point


@st.composite
def suggestion_lists(draw, groups_per_point):
    """Suggestions for those points: words of their groups to remove, terms to add."""
    found = []
    for _ in range(draw(st.integers(1, 4))):
        p = draw(st.integers(0, len(groups_per_point) - 1))
        groups = groups_per_point[p]
        action = draw(st.sampled_from([ADD, REMOVE]))
        group = draw(st.sampled_from([None, *range(len(groups) + 1)]))
        if action == REMOVE and groups and draw(st.booleans()):
            group = draw(st.integers(0, len(groups) - 1))
            term = draw(st.sampled_from(groups[group]))
        else:
            term = draw(st.sampled_from(TERMS))
        found.append(Suggestion(Q, f"p{p}", action, term, group, 2, 0, ()))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_rubric_yaml_is_edited_exactly_or_written_in_full(data):
    text, groups = data.draw(rubric_yaml())
    try:
        rubric = parse_rubric(text, "generated.yaml")
    except RubricError:
        assume(False)
        raise
    suggestions = data.draw(suggestion_lists(groups))
    try:
        expected = apply_suggestions(rubric, suggestions)
    except RubricError:  # a suggestion that would leave a group of common words only
        assume(False)
        raise
    try:
        edited = apply_suggestions_to_text(text, rubric, suggestions, expected)
    except TextEditError:
        edited = None
    if edited is not None:
        assert parse_rubric(edited) == expected
        if expected == rubric:
            assert edited == text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photosynthesis.yaml"
        path.write_bytes(text.encode("utf-8"))
        outcome = write_suggestions([rubric], suggestions, {Q: path})
        assert load_rubric_file(path) == expected  # whichever way it was written
        assert (Q in outcome.rewritten) == (edited is None)
        if edited is not None:
            assert path.read_bytes() == edited.encode("utf-8")


@pytest.mark.parametrize("name", ["secret-speech-1956.yaml", "thaw-significance.yaml"])
def test_the_shipped_rubrics_take_every_kind_of_suggestion_in_place(name):
    from .conftest import RUBRIC_DIR

    text = (RUBRIC_DIR / name).read_text(encoding="utf-8")
    rubric = parse_rubric(text, name)
    suggestions = []
    for point in rubric.points:
        suggestions += [Suggestion(rubric.id, point.id, ADD, "sunshine", 0, 2, 0, ()),
                        Suggestion(rubric.id, point.id, ADD, "new idea", None, 2, 0, ()),
                        Suggestion(rubric.id, point.id, REMOVE, point.keywords[0][1], 0, 2, 0,
                                   ())]
    expected = apply_suggestions(rubric, suggestions)
    edited = apply_suggestions_to_text(text, rubric, suggestions, expected, name)
    assert parse_rubric(edited) == expected != rubric
    kept = [line for line in text.splitlines() if line.lstrip().startswith("#")
            or not line.startswith("      ")]  # comments, and every line but keyword groups'
    assert [line for line in edited.splitlines() if line in set(kept)] == kept
