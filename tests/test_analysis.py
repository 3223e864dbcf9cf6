"""Answer validation and the lemma-level view of a text."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from essaycheck.analysis import (
    MAX_ANSWER_CHARS,
    MAX_SYMBOL_RUN,
    MAX_TOKEN_CHARS,
    Analyzer,
    build_pipeline,
    clean_answer,
    count_words,
    normalise_lemma,
    spacy_text,
)
from essaycheck.errors import AnswerError, AnswerTooLongError, EmptyAnswerError, PipelineError

LONG_RUN = re.compile(rf"\S{{{MAX_TOKEN_CHARS + 1},}}")
LONG_SYMBOL_RUN = re.compile(rf"(?:_|[^\w\s]){{{MAX_SYMBOL_RUN + 1},}}")
# Texts an attacker or a careless paste may send: long runs of one character (punctuation,
# emoji, combining accents, right-to-left marks, zero-width joiners), scripts mixed with no
# space, words glued by commas, as well as ordinary words.
PIECES = ["!", ".", "_", "🙂", "\u0301", "\u200f", "\u200d", "a", "Stalin", "абв", "中文", "أبت",
          ",", "-", " ", "\n", "\x00", "\u2028", "1"]
hostile_texts = st.lists(st.tuples(st.sampled_from(PIECES), st.integers(1, 300)), max_size=12
                         ).map(lambda runs: "".join(piece * n for piece, n in runs))
ordinary_texts = st.lists(st.one_of(
    st.sampled_from(["Stalin", "purged", "his", "rivals", "and", "the", "terror", "!", "...",
                     "?!", "🙂", "don't", "e.g.", "\n", "1956,", "(Khrushchev)", "over-long"]),
    st.text(max_size=MAX_SYMBOL_RUN)), max_size=60).map(" ".join)


def as_spacy_reads(text: str) -> str:
    """The text with control characters (but tab and line breaks), line and paragraph
    separators and lone surrogates as spaces."""
    return "".join(" " if c not in "\t\n\r" and unicodedata.category(c) in
                   ("Cc", "Cs", "Zl", "Zp") else c for c in text)


class RecordingTokenizer:
    """Passes texts on to spaCy's tokeniser, keeping each one: what spaCy was asked to read."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.seen: list[str] = []

    def __call__(self, text):
        self.seen.append(text)
        return self.tokenizer(text)


def test_clean_answer_keeps_the_answer_as_given():
    assert clean_answer("a\x00b\x1fc\ud800d") == "a\x00b\x1fc\ud800d"
    assert clean_answer("line one\nline two\ttab") == "line one\nline two\ttab"
    assert clean_answer("caf\u00e9".encode()) == "caf\u00e9"


def test_spacy_reads_control_characters_as_spaces(analyzer):
    text = "Stalin\x00purged\x1brivals\u2028and\ud800Beria"
    analysis = analyzer.analyse(text)
    assert [text[a:b] for a, b in zip(analysis.starts, analysis.ends, strict=True)] == [
        "Stalin", "purged", "rivals", "and", "Beria"]
    assert analysis.text == text


def test_no_run_reaching_spacy_is_longer_than_the_caps():
    nlp = build_pipeline()
    nlp.tokenizer = recording = RecordingTokenizer(nlp.tokenizer)
    analyzer = Analyzer(nlp)
    texts = ["!" * 16_000, "🙂" * 5_000, "a" + "\u0301" * 3_000, "x" * 1_000 + " end",
             "word," * 400]
    analyzer.analyse(texts[0])
    list(analyzer.analyse_many((text, None) for text in texts[1:]))
    assert len(recording.seen) == len(texts)
    for seen in recording.seen:
        assert not LONG_RUN.search(seen) and not LONG_SYMBOL_RUN.search(seen)


@settings(max_examples=300, deadline=None)
@given(text=hostile_texts)
def test_spacy_text_caps_every_run_and_only_inserts_spaces(text):
    seen, inserted = spacy_text(text)
    assert not LONG_RUN.search(seen) and not LONG_SYMBOL_RUN.search(seen)
    assert inserted == sorted(set(inserted)) and len(seen) == len(text) + len(inserted)
    # taking the inserted spaces out gives back the text, control characters as spaces
    spaces = {cut + k for k, cut in enumerate(inserted)}
    assert "".join(c for i, c in enumerate(seen) if i not in spaces) == as_spacy_reads(text)
    for cut in inserted:
        assert not text[cut - 1].isspace() and not text[cut].isspace()


@settings(max_examples=300, deadline=None)
@given(text=ordinary_texts)
def test_text_without_long_runs_reaches_spacy_unchanged(text):
    if LONG_RUN.search(text) or LONG_SYMBOL_RUN.search(text):
        return
    assert spacy_text(text) == (as_spacy_reads(text), [])


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(hostile_texts, ordinary_texts))
def test_analysis_offsets_point_into_the_text_as_given(analyzer, text):
    analysis = analyzer.analyse(text)
    assert analysis.text == text
    previous_end = 0
    for start, end in zip(analysis.starts, analysis.ends, strict=True):
        written = text[start:end]
        assert written and not any(c.isspace() for c in written)
        assert len(written) <= MAX_TOKEN_CHARS and start >= previous_end
        previous_end = end


@settings(max_examples=100, deadline=None)
@given(text=ordinary_texts)
def test_analysis_of_ordinary_text_is_spacys_own(analyzer, nlp, text):
    if LONG_RUN.search(text) or LONG_SYMBOL_RUN.search(text) or text != as_spacy_reads(text):
        return
    doc = nlp(text)
    analysis = analyzer.analyse(text)
    kept = [t for t in doc if not t.is_space and t.lemma_.lower() not in ("'s", "s'", "'")]
    assert analysis.starts == tuple(t.idx for t in kept)


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
    negated = {lemma for lemma, flag in zip(analysis.lemmas, analysis.negated, strict=True) if flag}
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


def test_caching_analyzer_gives_what_analysing_again_gives(analyzer):
    """Kept analyses equal fresh ones, in input order through analyse_many whatever mix of
    kept and new texts (across batches), and the cache keeps to both of its bounds."""
    from essaycheck.analysis import CachingAnalyzer

    cache = CachingAnalyzer(analyzer, max_texts=50, max_chars=2_000)
    texts = [f"Stalin's terror was not forgotten, answer {i}." for i in range(80)]
    assert cache.analyse(texts[3]) == analyzer.analyse(texts[3])
    assert cache.analyse(texts[3]) is cache.analyse(texts[3])
    mixed = texts[:70] + texts[3:6] + ["Another text.", texts[3]]
    got = list(cache.analyse_many((text, k) for k, text in enumerate(mixed)))
    assert [k for _, k in got] == list(range(len(mixed)))
    assert [a for a, _ in got] == [analyzer.analyse(text) for text in mixed]
    assert cache.known_words is analyzer.known_words
    assert cache.kept <= 50 and sum(map(len, cache._kept)) <= 2_000
    assert texts[3] in cache._kept  # used last, so kept
    assert texts[0] not in cache._kept  # least recently used: dropped
    cache.analyse("x" * 2_001)  # over the bound on its own: analysed, never kept
    assert "x" * 2_001 not in cache._kept
    cache.clear()
    assert cache.kept == 0



def test_answers_words_are_not_kept_past_the_bound(checker, monkeypatch):
    """A long-running server's memory stays bounded: past ``Analyzer.MAX_STRINGS``, the words
    of answers (here thousands of distinct random ones, alone, in batches and from several
    threads at once) are dropped from spaCy's vocabulary after each analysis, and results are
    the same as when they are kept."""
    import random
    import string
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(3)

    def random_answer() -> str:
        return " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(8))
                        for _ in range(40))

    analyzer, question = checker.analyzer, checker.question_ids[0]
    strings = analyzer.nlp.vocab.strings
    bound = len(strings) + 500
    monkeypatch.setattr(analyzer, "MAX_STRINGS", bound)
    fresh = [random_answer() for _ in range(20)]
    zoned = [checker.check(question, text).to_dict() for text in fresh]
    answers = [random_answer() for _ in range(300)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda text: checker.check(question, text), answers))
    batch = [result.to_dict() for _, result in
             checker.check_many((question, text, None) for text in fresh + answers)]
    assert bound <= len(strings) <= bound + 64 * 40 * 2  # of 12,800 new words: one batch's
    monkeypatch.setattr(analyzer, "MAX_STRINGS", 10**9)
    assert batch[:20] == zoned == [checker.check(question, t).to_dict() for t in fresh]
