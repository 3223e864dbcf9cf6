"""Answer validation and the lemma-level view of a text."""

from __future__ import annotations

import pytest

from essaycheck.analysis import (
    MAX_ANSWER_CHARS,
    build_pipeline,
    clean_answer,
    count_words,
    normalise_lemma,
)
from essaycheck.errors import AnswerError, AnswerTooLongError, EmptyAnswerError, PipelineError


def test_clean_answer_keeps_offsets_and_replaces_controls():
    assert clean_answer("a\x00b\x1fc\ud800d") == "a b c d"
    assert clean_answer("line one\nline two\ttab") == "line one\nline two\ttab"


@pytest.mark.parametrize("bad, error", [
    ("", EmptyAnswerError), (" \n ", EmptyAnswerError), ("\x00\x01", EmptyAnswerError),
    ("x" * (MAX_ANSWER_CHARS + 1), AnswerTooLongError), (b"\xff", AnswerError),
    (None, AnswerError), (42, AnswerError),
])
def test_clean_answer_refuses(bad, error):
    with pytest.raises(error):
        clean_answer(bad)


def test_negation_scope(analyzer):
    analysis = analyzer.analyse("He did not want to weaken rivals, but he did expose the terror.")
    negated = {lemma for lemma, flag in zip(analysis.lemmas, analysis.negated) if flag}
    assert {"want", "weaken", "rival"} <= negated
    assert "expose" not in negated and "terror" not in negated


def test_not_only_is_affirmative(analyzer):
    analysis = analyzer.analyse("He not only weakened rivals.")
    assert not any(analysis.negated)


def test_possessives_and_quotes_are_normalised(analyzer):
    analysis = analyzer.analyse("Stalin’s cult and Stalin's purges.")
    assert analysis.lemmas.count("stalin") == 2
    assert "'s" not in analysis.lemmas
    assert normalise_lemma("Gomułka") == "gomułka" or normalise_lemma("Café") == "cafe"


def test_sentences_cover_tokens(analyzer):
    analysis = analyzer.analyse("One sentence here. And another one! A third?")
    assert len(analysis.sentences) == 3
    assert analysis.sentences[0][0] == 0 and analysis.sentences[-1][1] == len(analysis)


def test_count_words():
    assert count_words("  two   words\n") == 2


def test_missing_named_pipeline_is_a_clear_error():
    with pytest.raises(PipelineError) as info:
        build_pipeline("no_such_pipeline_xyz")
    assert "not installed" in str(info.value)


def test_sentences_with_spaces_and_possessives_at_their_edges(analyzer):
    analysis = analyzer.analyse("  Leading space. Stalin's cult!\n\n  ’s Another reason.  ")
    content = [[analysis.lemmas[i] for i in range(a, b) if analysis.content[i]]
               for a, b in analysis.sentences]
    assert content == [["leading", "space"], ["stalin", "cult"], ["reason"]]
    assert analysis.sentences[0][0] == 0 and analysis.sentences[-1][1] == len(analysis)


def test_known_words_come_from_the_lemmatiser_table(analyzer):
    known = analyzer.known_words
    assert "things" in known and "thing" in known and "rehabilitated" in known
    assert "rivels" not in known and "secrit" not in known and 42 not in known
