"""Drafting a rubric from a model answer."""

from __future__ import annotations

import pytest
import yaml

from essaycheck import RubricError, dump_rubric, parse_rubric
from essaycheck.extract import draft_rubric, split_claims

from .conftest import ROOT

NOTES = ROOT.parent / "shared" / "source" / "khrushchev-destalinisation-notes.txt"
MODEL = ("Khrushchev delivered the Secret Speech to distance the Party from Stalin's legacy, "
         "which had damaged its credibility. This move weakened rivals linked to the purges; "
         "it also strengthened Khrushchev's own power. Internationally, it signalled a shift "
         "in Soviet policy.")


def test_split_claims_splits_two_claim_sentences(analyzer):
    claims = split_claims(analyzer.analyse(MODEL))
    assert claims == [
        "Khrushchev delivered the Secret Speech to distance the Party from Stalin's legacy, "
        "which had damaged its credibility.",
        "This move weakened rivals linked to the purges.",
        "It also strengthened Khrushchev's own power.",
        "Internationally, it signalled a shift in Soviet policy.",
    ]


def test_draft_is_a_valid_editable_rubric(analyzer):
    context = [NOTES.read_text(encoding="utf-8")] if NOTES.exists() else []
    draft = draft_rubric("speech", "Explain why Khrushchev delivered the Secret Speech in 1956.",
                         MODEL, analyzer, context=context)
    assert [p.id for p in draft.points] and len(draft.points) == 4
    assert draft.max_score == 4
    assert len({p.id for p in draft.points}) == 4
    for point in draft.points:
        assert point.keywords and point.hint
        words = {alt.lower() for group in point.keywords for alt in group}
        # words from the question never become keywords: they would reward copying it
        assert not words & {"khrushchev", "secret", "speech", "deliver", "explain"}
    rivals = draft.points[1]
    assert any("rival" in group for group in rivals.keywords)
    assert parse_rubric(dump_rubric(draft), "round trip") == draft


def test_draft_keywords_are_distinctive(analyzer):
    draft = draft_rubric("q", "What happens?", "Plants need sunlight to make food. "
                         "Plants need water to make food.", analyzer)
    first, second = ({a for g in p.keywords for a in g} for p in draft.points)
    assert "sunlight" in first and "water" in second
    assert "sunlight" not in second


def test_draft_model_answer_scores_full_marks(analyzer, nlp):
    from essaycheck import Checker

    draft = draft_rubric("speech", "Explain why Khrushchev delivered the Secret Speech in 1956.",
                         MODEL, analyzer)
    checker = Checker([draft], nlp=nlp).fit()
    assert checker.check("speech", MODEL).score == draft.max_score


def test_draft_keywords_keep_the_claims_negation(analyzer, nlp):
    from essaycheck import Checker

    draft = draft_rubric("reading", "What does a voltage reading of 1.5 tell you about the "
                         "terminals?", "The terminals are not connected.", analyzer)
    assert draft.points[0].keywords[0][0] == "not connect"
    checker = Checker([draft], nlp=nlp).fit()
    said = checker.check("reading", "They are connected.").points[0]
    denied = checker.check("reading", "They aren't connected.").points[0]
    assert said.status == "missed" and denied.status == "covered"


@pytest.mark.parametrize("kwargs, field", [
    ({"rubric_id": "Bad Id"}, "id"), ({"question": " "}, "question"),
    ({"model_answer": ""}, "model_answer"),
])
def test_draft_refuses_bad_input(analyzer, kwargs, field):
    args = {"rubric_id": "q", "question": "Why?", "model_answer": "Because it is so."}
    args.update(kwargs)
    with pytest.raises(RubricError) as info:
        draft_rubric(analyzer=analyzer, **args)
    assert info.value.problems[0].field == field


def test_extract_command_writes_a_valid_rubric(tmp_path):
    from click.testing import CliRunner

    from essaycheck.cli import main

    model = tmp_path / "model.txt"
    model.write_text(MODEL, encoding="utf-8")
    out = tmp_path / "speech.yaml"
    runner = CliRunner()
    args = ["rubric", "extract", "--id", "speech", "--question", "Why the speech?",
            "--model-answer", str(model), "-o", str(out)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text())["id"] == "speech"
    again = runner.invoke(main, args)
    assert again.exit_code == 2 and "--force" in again.output
    assert runner.invoke(main, args + ["--force"]).exit_code == 0
    check = runner.invoke(main, ["rubric", "check", str(tmp_path)])
    assert check.exit_code == 0 and "ok      speech" in check.output



def test_drafted_group_holds_a_synonym_and_a_family_member(analyzer, nlp):
    from essaycheck import Checker

    draft = draft_rubric("trust", "Why did it matter?", "It damaged their credibility.",
                         analyzer)
    groups = {group[0]: group for group in draft.points[0].keywords}
    assert "credible" in groups["credibility"]  # word family
    assert "believability" in groups["credibility"]  # synonym of its only sense
    checker = Checker([draft], nlp=nlp).fit()
    answer = "It damaged how credible they were."
    result = checker.check("trust", answer)
    assert result.points[0].status == "covered"
    assert "credible" in result.points[0].matched_terms  # as the student wrote it
    # an answer alone or in a batch: the same result
    batch = dict(checker.check_many([("trust", answer, 0), ("trust", "Nothing here.", 1)]))
    assert batch[0] == result


def test_drafting_keeps_a_wrong_sense_out(analyzer):
    from essaycheck.extract import NO_ANTICIPATION

    model = "It attacked the cult of personality around Stalin."
    draft = draft_rubric("cult", "What did the speech attack?", model, analyzer)
    words = {alt for point in draft.points for group in point.keywords for alt in group}
    assert "cult" in words and not words & {"fad", "craze", "furor"}
    plain = draft_rubric("cult", "What did the speech attack?", model, analyzer,
                         anticipation=NO_ANTICIPATION)
    # without the lexicon, a group holds only the model answer's own forms
    assert all(alt in model.lower() for g in plain.points[0].keywords for alt in g)


NOTES_TEXT = """Photosynthesis
Leaves capture light energy from the sun and use it to turn carbon dioxide and water into sugar.
Oxygen, the gas that animals breathe, is released as the waste of making food.
Roots take up minerals such as nitrates from the soil.
Practice question
Plants use sunlight to make glucose from carbon dioxide and water.
"""
PLANT_MODEL = ("Plants use sunlight to make glucose from carbon dioxide and water. "
               "They release oxygen as a by-product.")


def test_draft_accepts_the_contexts_wording_of_a_claim(analyzer):
    draft = draft_rubric("leaf", "What do plants do with light?", PLANT_MODEL, analyzer,
                         context=[NOTES_TEXT])
    sugar, oxygen = draft.points
    assert sugar.accept == ("Leaves capture light energy from the sun and use it to turn "
                            "carbon dioxide and water into sugar.",)
    assert oxygen.accept == ("Oxygen, the gas that animals breathe, is released as the waste "
                             "of making food.",)
    accepted = {text for point in draft.points for text in point.accept}
    # a heading, a sentence about neither claim, and the model answer's own sentence, which
    # the notes repeat, are no wording of a claim
    assert not accepted & {"Photosynthesis", "Practice question", PLANT_MODEL.split(". ")[0]
                           + "."}
    assert not any("nitrates" in text for text in accepted)
    plain = draft_rubric("leaf", "What do plants do with light?", PLANT_MODEL, analyzer,
                         context=[NOTES_TEXT], context_wordings=0)
    assert all(not point.accept for point in plain.points)
    assert parse_rubric(dump_rubric(draft), "round trip") == draft


def test_an_answer_in_the_notes_words_earns_more_with_their_wording(analyzer, nlp):
    from essaycheck import Checker

    question = "What do plants do with light?"
    answer = "The leaves capture energy from the sun and turn it into sugar."
    marks = []
    for wordings in (0, 2):
        draft = draft_rubric("leaf", question, PLANT_MODEL, analyzer, context=[NOTES_TEXT],
                             context_wordings=wordings)
        marks.append(Checker([draft], nlp=nlp).fit().check("leaf", answer).points[0])
    assert marks[1].confidence > marks[0].confidence
    assert marks[1].status != "missed" and "sugar" in marks[1].matched_terms


@pytest.mark.parametrize("question, asks", [
    ("How significant was the 'thaw' in transforming Soviet society?", True),
    ("To what extent do antibiotics in farming harm human health?", True),
    ("Evaluate the use of pesticides on farms.", True),
    ("how far was the speech a turning point?", True),
    ("Explain why Khrushchev delivered the Secret Speech in 1956.", False),
    ("How does a vaccine protect the body?", False),
    ("Jack measured how far the boat sank. Identify the standard.", False),
])
def test_asks_for_judgement_reads_the_questions_command(question, asks):
    from essaycheck.extract import asks_for_judgement

    assert asks_for_judgement(question) is asks


BIOLOGY_MODEL = ("Antibiotics given to farm animals prevent disease and let them grow faster. "
                 "However, bacteria exposed to them evolve resistance, which spreads to humans. "
                 "Overall the harm to human health outweighs the gain in meat production.")


def test_an_evaluative_question_gets_a_judgement_point(analyzer, nlp):
    from essaycheck import Checker
    from essaycheck.extract import JUDGEMENT_KEYWORDS, JUDGEMENT_WEIGHT

    question = "To what extent do antibiotics in farming harm human health?"
    draft = draft_rubric("farm", question, BIOLOGY_MODEL, analyzer, max_score=4)
    judgement = draft.points[-1]
    assert judgement.id == "overall-judgement" and judgement.weight == JUDGEMENT_WEIGHT
    assert judgement.keywords == JUDGEMENT_KEYWORDS
    # the model answer's last claim, its own judgement, is a wording of the point
    assert judgement.accept == (
        "Overall the harm to human health outweighs the gain in meat production.",)
    assert parse_rubric(dump_rubric(draft), "round trip") == draft
    checker = Checker([draft], nlp=nlp).fit()
    assert checker.check("farm", BIOLOGY_MODEL).score == draft.max_score
    weighed = checker.check("farm", "Resistant bacteria spread to people. Overall antibiotics "
                            "do more harm than good, but they do keep animals healthy.")
    one_sided = checker.check("farm", "Resistant bacteria spread to people.")
    assert weighed.points[-1].status == "covered"
    assert one_sided.points[-1].status == "missed"
    # a question that asks for no judgement, or a weight of 0: no such point
    explain = draft_rubric("farm", "Explain how resistance spreads.", BIOLOGY_MODEL, analyzer)
    off = draft_rubric("farm", question, BIOLOGY_MODEL, analyzer, judgement_weight=0)
    for other in (explain, off):
        assert "overall-judgement" not in {p.id for p in other.points}
        assert len(other.points) == len(draft.points) - 1


LONG_CLAIM = ("Exposing the purges weakened rival leaders linked to Stalinist terror and "
              "strengthened his personal power.")


def test_a_long_claim_can_get_more_keywords_in_fewer_broader_groups(analyzer):
    from essaycheck.extract import KEYWORDS_PER_POINT, LONG_CLAIM_GROUPS, LONG_CLAIM_KEYWORDS

    question = "Why did Khrushchev speak?"
    plain = draft_rubric("q", question, LONG_CLAIM, analyzer, long_claim_groups=0).points[0]
    point = draft_rubric("q", question, LONG_CLAIM, analyzer).points[0]
    assert LONG_CLAIM_GROUPS == 2  # on by default (ACCURACY.md); 0: one group per keyword
    assert point == draft_rubric("q", question, LONG_CLAIM, analyzer,
                                 long_claim_groups=2).points[0]
    assert len(plain.keywords) == KEYWORDS_PER_POINT
    assert len(point.keywords) == 2
    # the plain draft's groups, best first, are the first of the long claim's keywords
    merged = [alt for group in point.keywords for alt in group]
    assert all(alt in merged for group in plain.keywords for alt in group)
    heads = [group[0] for group in plain.keywords]
    # consecutive keywords share a group: the three best, then the next three
    assert all(head in point.keywords[0] for head in heads[:3])
    assert heads[3] in point.keywords[1]
    assert len({alt for alt in merged if " " not in alt}) >= LONG_CLAIM_KEYWORDS
    # a short claim keeps one group per keyword
    short = draft_rubric("q", question, "His rivals were weakened.", analyzer).points[0]
    assert len(short.keywords) == 2
    assert short.keywords == draft_rubric("q", question, "His rivals were weakened.", analyzer,
                                          long_claim_groups=0).points[0].keywords
    # a claim is long only from LONG_CLAIM_KEYWORDS candidates: five keep a group each
    five = "Chlorophyll in the chloroplasts absorbs light energy."
    plant = "How do plants make food?"
    assert draft_rubric("q", plant, five, analyzer).points[0].keywords == draft_rubric(
        "q", plant, five, analyzer, long_claim_groups=0).points[0].keywords
    assert len(draft_rubric("q", plant, five, analyzer).points[0].keywords) == 4
    six = "Chlorophyll in the green chloroplasts absorbs light energy."
    assert len(draft_rubric("q", plant, six, analyzer).points[0].keywords) == 2


def test_an_answer_naming_part_of_a_long_claim_earns_more(analyzer, nlp):
    from essaycheck import Checker

    question = "Why did Khrushchev speak?"
    answer = "He weakened his rivals and made his power stronger."
    found = []
    for groups in (0, 2):
        draft = draft_rubric("q", question, LONG_CLAIM, analyzer, long_claim_groups=groups)
        found.append(Checker([draft], nlp=nlp).fit().check("q", answer).points[0])
    assert found[1].confidence > found[0].confidence
    assert found[1].status == "covered" and found[0].status != "covered"
    broad = draft_rubric("q", question, LONG_CLAIM, analyzer, long_claim_groups=2)
    assert Checker([broad], nlp=nlp).fit().check(
        "q", "The weather was cold that winter.").points[0].status == "missed"


# -- a model answer longer than a draft may be ----------------------------------------------
_GROUPS = ["farmers", "miners", "teachers", "soldiers", "merchants", "sailors", "weavers",
           "bankers", "priests", "engineers"]
_VERBS = ["demanded", "resisted", "welcomed", "financed", "opposed", "organised", "celebrated",
          "criticised"]
_THINGS = ["railway", "harvest", "tariff", "censorship", "cathedral", "telegraph",
           "conscription", "irrigation", "monopoly", "vaccination"]


def _long_model_answer(n: int = 80) -> str:
    """``n`` distinct sentences, each its own claim."""
    return " ".join(
        f"In {1800 + i} the {_GROUPS[i % 10]} of the province {_VERBS[i % 8]} the new "
        f"{_THINGS[i // 8]}." for i in range(n))


def test_a_long_model_answer_drafts_at_most_the_workshops_points(analyzer):
    from essaycheck.extract import draft_rubric_report
    from essaycheck.rubric import MAX_POINTS
    from essaycheck.workshop import rubric_from_json, rubric_to_json, size_problems

    report = draft_rubric_report("long", "How far did the provinces change?",
                                 _long_model_answer(), analyzer)
    draft = report.rubric
    assert report.claims == 80 and len(draft.points) == MAX_POINTS == 40
    assert draft.points[-1].id == "overall-judgement"  # the judgement point counts in the cap
    assert len(report.dropped) + len(report.merged) == 80 - (MAX_POINTS - 1)
    kept = [p.text for p in draft.points[:-1]]
    assert sorted(kept + list(report.dropped) + [c for _, c in report.merged]) == sorted(
        _long_model_answer().replace(". ", ".\n").splitlines())
    assert kept == sorted(kept, key=_long_model_answer().index)  # in the model answer's order
    assert parse_rubric(dump_rubric(draft), "round trip") == draft
    assert size_problems(rubric_to_json(draft)) == []
    assert rubric_from_json(rubric_to_json(draft)) == draft


def test_the_cap_merges_claims_that_say_the_same_before_dropping_any(analyzer):
    from essaycheck.extract import draft_rubric_report

    model = ("Photosynthesis turns light energy into chemical energy in the leaves. "
             "Photosynthesis turns light energy into chemical energy in green leaves. "
             "Roots absorb water and minerals from the soil. "
             "Stomata let carbon dioxide diffuse into the leaf.")
    report = draft_rubric_report("plants", "Explain how plants make food.", model, analyzer,
                                 max_points=3)
    assert len(report.rubric.points) == 3 and report.dropped == ()
    (point_id, claim), = report.merged
    point = report.rubric.point(point_id)
    assert {point.text, claim} == set(model.replace(". ", ".\n").splitlines()[:2])
    assert claim in point.accept
    one = draft_rubric_report("plants", "Explain how plants make food.", model, analyzer,
                              max_points=1)
    assert len(one.rubric.points) == 1 and len(one.dropped) + len(one.merged) == 3


def test_drafting_within_the_cap_is_unchanged(analyzer):
    question = "Explain why Khrushchev delivered the Secret Speech in 1956."
    draft = draft_rubric("speech", question, MODEL, analyzer)
    assert draft_rubric("speech", question, MODEL, analyzer, max_points=4) == draft
    assert len(draft_rubric("speech", question, MODEL, analyzer, max_points=3).points) == 3


def test_draft_refuses_a_cap_below_one(analyzer):
    with pytest.raises(RubricError) as caught:
        draft_rubric("q", "Why?", MODEL, analyzer, max_points=0)
    assert caught.value.problems[0].field == "max_points"


def test_workshop_draft_of_a_long_model_answer_is_accepted(checker):
    from essaycheck.workshop import draft, rubric_from_json, rubric_to_json

    drafted = draft(checker, "long", "Why did the provinces change?", _long_model_answer())
    assert len(drafted.points) == 40
    assert rubric_from_json(rubric_to_json(drafted)) == drafted


def test_extract_cli_says_what_the_cap_left_out_and_how_to_keep_it(tmp_path):
    from click.testing import CliRunner

    from essaycheck.cli import main

    model = tmp_path / "model.txt"
    model.write_text(_long_model_answer(), encoding="utf-8")
    out = tmp_path / "long.yaml"
    args = ["rubric", "extract", "--id", "long", "--question", "Why did they change?",
            "--model-answer", str(model), "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "the model answer makes 80 claims; the draft holds 40 points" in result.stderr
    assert "40 claim(s) with the least distinctive words were left out:" in result.stderr
    assert "higher --max-points (the workshop takes at most 40 points)" in result.stderr
    assert len(yaml.safe_load(out.read_text())["points"]) == 40
    more = CliRunner().invoke(main, args + ["--force", "--max-points", "80"])
    assert more.exit_code == 0 and "left out" not in more.stderr
    assert len(yaml.safe_load(out.read_text())["points"]) == 80
    plain = CliRunner().invoke(main, args[:-2])  # to stdout: the message stays on stderr
    assert "left out" in plain.stderr and "left out" not in plain.stdout


def test_extract_cli_warns_of_the_workshops_other_limits(tmp_path):
    from click.testing import CliRunner

    from essaycheck.cli import main

    model = tmp_path / "model.txt"
    model.write_text("The farmers of the province demanded " + ", ".join(
        f"a new railway station number {n}" for n in range(120)) + ".", encoding="utf-8")
    result = CliRunner().invoke(main, ["rubric", "extract", "--id", "long", "--question",
                                       "Why?", "--model-answer", str(model)])
    assert result.exit_code == 0, result.output
    assert "the workshop will refuse this draft until it is edited:" in result.stderr
    assert "draft: points[0].text: too long" in result.stderr
    assert "left out" not in result.stderr
