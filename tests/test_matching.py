"""Matcher details added for accuracy: other accepted wordings, derivations, question words."""

from __future__ import annotations

import pytest

from essaycheck import COVERED, MISSED, Checker, MatchSettings, RubricError, dump_rubric
from essaycheck.extract import draft_rubric
from essaycheck.matching import stem
from essaycheck.rubric import parse_rubric

CIRCUIT = {
    "id": "gap", "question": "Explain why the bulb is off.", "max_score": 1,
    "model_answer": "The switch leaves a gap in the circuit.",
    "points": [{"id": "gap", "text": "The switch leaves a gap in the circuit.",
                "accept": ["The circuit is not closed.", "The path is broken"]}],
}


def test_accept_validates_and_round_trips(make_rubric):
    rubric = make_rubric(**CIRCUIT)
    assert rubric.points[0].accept == ("The circuit is not closed.", "The path is broken")
    assert parse_rubric(dump_rubric(rubric), "again") == rubric
    one = make_rubric(**dict(CIRCUIT, points=[dict(CIRCUIT["points"][0], accept="Broken.")]))
    assert one.points[0].accept == ("Broken.",)
    for bad in ({"a": 1}, [""], [["nested"]]):
        with pytest.raises(RubricError) as info:
            make_rubric(**dict(CIRCUIT, points=[dict(CIRCUIT["points"][0], accept=bad)]))
        assert "accept" in str(info.value)


def test_an_accepted_wording_earns_the_point(nlp, make_rubric):
    checker = Checker([make_rubric(**CIRCUIT)], nlp=nlp).fit()
    assert checker.check("gap", "Because the path is broken.").points[0].status == COVERED
    assert checker.check("gap", "The circuit is not closed.").points[0].status == COVERED
    # the accepted wording keeps its negation: the opposite claim does not earn it
    assert checker.check("gap", "The circuit is closed.").points[0].status != COVERED
    assert checker.check("gap", "The battery is flat.").score == 0


def test_draft_attaches_other_model_answers_as_accepted_wordings(analyzer):
    draft = draft_rubric("gap", "Explain why the bulb is off.",
                         "The switch leaves a gap in the circuit.", analyzer,
                         alternatives=["The circuit is not closed.",
                                       "The switch leaves a gap in the circuit."])
    assert draft.points[0].accept == ("The circuit is not closed.",)
    two = draft_rubric("q", "What do plants need?", "Plants need sunlight to make food. "
                       "Plants need water to grow.", analyzer,
                       alternatives=["Water lets plants grow."])
    assert two.points[0].accept == () and two.points[1].accept == ("Water lets plants grow.",)


def test_stems_let_derivations_meet(nlp, make_rubric):
    assert stem("vibrate") == stem("vibration") == stem("vibrates"[:-1])
    assert stem("connect") == stem("connection")
    assert stem("cat") == "cat" and stem("1956") == "1956"
    rubric = make_rubric(
        id="band", question="Why does a rubber band make a sound when plucked?",
        max_score=1, model_answer="The rubber band vibrates.",
        points=[{"id": "vibrates", "text": "The rubber band vibrates."}])
    with_stems = Checker([rubric], nlp=nlp).fit()
    without = Checker([rubric], nlp=nlp, settings=MatchSettings(stems=False)).fit()
    answer = "Because of the vibration."
    assert with_stems.check("band", answer).points[0].status == COVERED
    assert without.check("band", answer).points[0].status == MISSED


def test_question_words_rank_answers_but_never_earn_a_point(nlp, make_rubric):
    rubric = make_rubric(
        id="shadow", question="Why does the tree have a shadow?", max_score=1,
        model_answer="The tree blocks the light from the Sun.",
        points=[{"id": "blocks", "text": "The tree blocks the light from the Sun."}])
    checker = Checker([rubric], nlp=nlp).fit()
    on_topic = checker.check("shadow", "The tree has a shadow.").points[0]
    off_topic = checker.check("shadow", "I like dogs.").points[0]
    assert on_topic.status == off_topic.status == MISSED
    assert on_topic.confidence > off_topic.confidence
    blocks = checker.check("shadow", "It blocks the light.").points[0]
    assert blocks.status == COVERED


def test_matched_terms_are_the_students_own_words(checker):
    result = checker.check("secret-speech-1956",
                           "He exposed the terror, so the victims were rehabilitated. His rivals "
                           "were undermined, which strengthened his position.")
    points = {p.point_id: p for p in result.points}
    terror = points["expose-cult-and-terror"].matched_terms
    rivals = points["weaken-rivals"].matched_terms
    assert "rehabilitated" in terror and "victims" in terror
    assert "rivals" in rivals and "undermined" in rivals
    # never a lemma or a wildcard's prefix in place of what the student wrote
    assert not {"rehabilit", "rival", "undermine", "^rehabilit"} & set(terror + rivals)
    # a misspelt word shows as the word it was taken for
    misspelt = checker.check("secret-speech-1956", "He wanted to weakin his rivels such as "
                                                   "Molotov and strengthen his power.")
    terms = {p.point_id: p for p in misspelt.points}["weaken-rivals"].matched_terms
    assert {"weaken", "rival", "Molotov"} <= set(terms)


def test_a_short_bare_list_is_capped_at_partial(checker):
    result = checker.check("secret-speech-1956", "Socialism, party, humane.")
    point = {p.point_id: p for p in result.points}["humane-socialism"]
    assert point.status != COVERED
    assert any("key words" in w for w in result.warnings)
    sentence = checker.check("secret-speech-1956",
                             "He wanted a more humane socialism than Stalin's.")
    assert {p.point_id: p for p in sentence.points}["humane-socialism"].status == COVERED


@pytest.mark.parametrize("answer, listed", [
    ("Socialism, party, humane.", True),
    ("Rivals, Molotov, weaken.", True),
    ("The bulbs A and C", False),
    ("terminal 1 is connected to the positive terminal", False),
    ("A and C, because they are in the same path.", False),
    ("Series, parallel.", False),
])
def test_what_counts_as_a_list_of_key_words(analyzer, answer, listed):
    from essaycheck.matching.matcher import _looks_like_list

    analysis = analyzer.analyse(answer)
    assert _looks_like_list(analysis, 0, len(analysis)) is listed


def test_strength_weights_are_documented_constants():
    from essaycheck.matching import STRENGTH_WEIGHTS

    weights = dict(STRENGTH_WEIGHTS)
    assert list(weights) == ["coverage", "recall", "char_recall"]
    assert sum(weights.values()) == pytest.approx(1.0)
    settings = MatchSettings()
    assert (settings.coverage_weight, settings.recall_weight, settings.char_weight) == \
        tuple(weights.values())
    # a point whose keyword groups are all met is covered on coverage alone
    assert weights["coverage"] >= settings.covered


def test_evidence_and_combine_give_the_strengths_match_reports(checker, analyzer):
    """The evidence scripts/fit_strength.py fits the weights on is the evidence match uses."""
    from essaycheck.matching import combine

    from .test_checker import SPEECH_PARAPHRASE, THAW_PARAPHRASE

    for question_id, text in [("secret-speech-1956", SPEECH_PARAPHRASE),
                              ("thaw-significance", THAW_PARAPHRASE),
                              ("secret-speech-1956", "Socialism, party, humane. He wanted to "
                                                     "weaken his rivals.")]:
        matcher = checker.matcher(question_id)
        settings = matcher.fitted_settings
        weights = (settings.coverage_weight, settings.recall_weight, settings.char_weight)
        analysis = analyzer.analyse(text)
        for match, rows in zip(matcher.match(analysis), matcher.evidence(analysis),
                               strict=True):
            strengths = []
            for cov, rec, char, own, listed, grouped, _ in rows:
                s = combine(cov, rec, char, own, grouped, weights, settings.partial)
                strengths.append(min(s, settings.covered - 1e-6) if listed else s)
            best = max(strengths)
            assert match.strength == round(min(1.0, max(0.0, best)), 3)


def test_character_ngrams_meet_a_misspelling_the_speller_misses(nlp, make_rubric):
    rubric = make_rubric(
        id="leaf", question="What does a leaf use to make food?", max_score=1,
        model_answer="Photosynthesis uses chlorophyll.",
        points=[{"id": "chlorophyll", "text": "Photosynthesis uses chlorophyll."}])
    checker = Checker([rubric], nlp=nlp).fit()
    matcher = checker.matcher("leaf")
    misspelt = checker.analyzer.analyse("Fotosinthesis with chlorofil.")
    unrelated = checker.analyzer.analyse("Roots take water from the soil.")
    char = max(row[2] for row in matcher.evidence(misspelt)[0])
    assert char > 0.2
    assert max(row[2] for row in matcher.evidence(unrelated)[0]) < char / 3
    assert checker.check("leaf", "Fotosinthesis with chlorofil.").points[0].confidence > \
        checker.check("leaf", "Roots take water from the soil.").points[0].confidence


def test_character_ngrams_are_scikit_learns_char_wb():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from essaycheck.matching import CHAR_NGRAMS, char_ngrams

    words = ["rivals", "of", "a", "de-stalinisation"]
    sklearn = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS).build_analyzer()
    assert sorted(char_ngrams(words)) == sorted(sklearn(" ".join(words)))


def test_a_known_english_word_is_not_taken_for_a_misspelling(checker, analyzer):
    assert "things" in analyzer.known_words and "rivels" not in analyzer.known_words
    result = checker.check("thaw-significance", "People had more things and more freedom; "
                                                "writers and poets were less censored.")
    terms = {t for p in result.points for t in p.matched_terms}
    assert "think" not in terms
    # while a real misspelling of a rubric word is still read as that word
    assert "censorship" in checker.matcher("thaw-significance").spell("censorhip")


def test_idf_is_scikit_learns(checker, analyzer):
    """The matcher's IDF (written out to keep scikit-learn off the start-up path) is
    TfidfVectorizer's, on the shipped rubrics' own corpora."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from essaycheck.matching import char_ngrams, idf, token_features

    for rubric in checker.rubrics:
        docs = [analyzer.analyse(t) for t in [rubric.question, rubric.model_answer,
                                               rubric.context] + [p.text for p in rubric.points]
                if t]
        corpus = [token_features(d, a, b, frozenset()) for d in docs for a, b in d.sentences]
        corpus = [features for features in corpus if features]
        words = [[d.text[d.starts[i]:d.ends[i]].lower() for i in range(a, b) if d.content[i]]
                 for d in docs for a, b in d.sentences]
        words = [w for w in words if w]
        for documents, analyzer_ in ((corpus, lambda x: x), (words, char_ngrams)):
            reference = TfidfVectorizer(analyzer=analyzer_, lowercase=False).fit(documents)
            expected = dict(zip(reference.get_feature_names_out(), reference.idf_, strict=True))
            got = idf(map(analyzer_, documents))
            assert got.keys() == expected.keys()
            assert all(got[t] == pytest.approx(expected[t], rel=1e-12) for t in got)


def test_evidence_of_any_range_of_sentences(checker, analyzer):
    """A range's evidence is that of the union of its sentences: never less than any one of
    them, and the same whether asked for alone or among the default segments."""
    from .test_checker import SPEECH_PARAPHRASE

    matcher = checker.matcher("secret-speech-1956")
    analysis = analyzer.analyse(SPEECH_PARAPHRASE + " He also freed prisoners from the camps.")
    n = len(analysis.sentences)
    assert n >= 3
    whole = matcher.evidence(analysis, [(0, n)])
    singles = matcher.evidence(analysis, [(i, i + 1) for i in range(n)])
    default = matcher.evidence(analysis)
    for point_whole, point_singles, point_default in zip(whole, singles, default, strict=True):
        for coverage, recall, char, *_ in point_singles:
            assert point_whole[0][0] >= coverage and point_whole[0][1] >= recall
            assert point_whole[0][2] >= char - 1e-12
        assert point_default[:n] == point_singles  # singles come first, in order


def test_the_web_app_uses_one_blas_thread(checker):
    """The matcher's products are tiny; BLAS threads would only contend with the server's."""
    from threadpoolctl import threadpool_info

    from essaycheck.web import create_app

    create_app(checker=checker)
    assert all(info["num_threads"] == 1 for info in threadpool_info()
               if info["user_api"] == "blas")


def test_question_overlap_is_the_share_of_the_question_words(checker):
    matcher = checker.matcher("secret-speech-1956")
    asked = sorted(matcher.question_words)[:2]
    assert matcher.question_overlap([]) == 0.0
    assert matcher.question_overlap(asked + ["zebra", "zebra"]) == 0.5
    assert matcher.question_overlap(iter(asked)) == 1.0  # any iterable, read once
    analysis = checker.analyzer.analyse("Why did Khrushchev give the secret speech?")
    content = [lemma for lemma, c in zip(analysis.lemmas, analysis.content, strict=True) if c]
    assert matcher.question_overlap(content) == 1.0


def test_default_thresholds_are_the_settings_and_the_credit_defaults():
    import inspect

    from essaycheck.evaluation import credit
    from essaycheck.matching import DEFAULT_THRESHOLDS

    assert (MatchSettings().covered, MatchSettings().partial) == DEFAULT_THRESHOLDS
    defaults = inspect.signature(credit).parameters
    assert (defaults["covered"].default, defaults["partial"].default) == DEFAULT_THRESHOLDS


def test_the_names_importers_used_before_the_split_still_import():
    from essaycheck import matching

    for name in ("MatchSettings", "PointMatcher", "PointMatch", "STRENGTH_WEIGHTS", "combine",
                 "idf", "stem", "token_features", "word_grams", "limit_blas_threads",
                 "CHAR_NGRAMS", "NEGATED", "NEGATED_GRAM", "DEFAULT_THRESHOLDS", "_segments",
                 "_char_ngrams"):
        assert hasattr(matching, name), name
    assert matching._segments is matching.segments


def test_the_feature_encoding_marks():
    from essaycheck.matching.features import (
        lemma_feature,
        matched_words,
        negated_patterns,
        pattern_key,
        prefix_feature,
        question_word_feature,
        stem_feature,
        unnegated,
    )

    assert lemma_feature("close", True) == "not:close" and lemma_feature("close", False) == "close"
    assert unnegated("not:close") == unnegated("close") == "close"
    assert stem_feature("vibration") == "~vibr" and stem_feature("not:vibration") == "not:~vibr"
    assert prefix_feature("rehabilitated", 9) == "^rehabilit"
    assert question_word_feature("not:speech") == "?not:speech"
    assert pattern_key(("rehabilit", True)) == "^rehabilit" and pattern_key(("gap", False)) == "gap"
    assert negated_patterns((("gap", False), ("rehabilit", True))) == (
        ("not:gap", False), ("not:rehabilit", True))
    assert matched_words(["^rehabilit", "not:party leader", "gap"]) == (
        {"party", "leader", "gap"}, ("rehabilit",))
