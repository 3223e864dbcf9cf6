"""The feature encoding: how a word of a rubric or an answer becomes the strings the matcher
compares, with one name for each mark a feature can carry.

A feature is a lemma, marked by what it stands for: ``NEGATED`` ("not:close", said under
negation), ``STEM`` ("~vibr", a light stem that derivations share), ``PREFIX`` ("^rehabilit", a
wildcard's prefix of the word as written) or ``QUESTION_WORD`` ("?speech", one of the
question's own words, which counts in recall only). A word's character n-grams are marked with
``NEGATED_GRAM`` when it is negated, so that they meet only negated words. A keyword
alternative of a rubric is a tuple of *patterns*, ``(feature, is_prefix)`` pairs.
"""

from __future__ import annotations

import math
from functools import lru_cache

from ..analysis import Analysis, normalise_lemma

#: marks a lemma said under negation: "not:close"
NEGATED = "not:"
#: marks a light stem (``stem``): "~vibr"
STEM = "~"
#: marks a wildcard's prefix of a word as written: "^rehabilit"
PREFIX = "^"
#: marks one of the question's own words in the evidence index: it counts in recall only
QUESTION_WORD = "?"
#: marks the n-grams of a negated word, so they meet only negated words
NEGATED_GRAM = "!"
#: Character n-gram lengths (scikit-learn's ``char_wb`` analyser: within words, space-padded).
CHAR_NGRAMS = (3, 5)


def lemma_feature(lemma: str, negated: bool) -> str:
    """The feature of a lemma: itself, or ``NEGATED``-marked when it is said under negation."""
    return NEGATED + lemma if negated else lemma


def unnegated(feature: str) -> str:
    """A feature without its ``NEGATED`` mark."""
    return feature.removeprefix(NEGATED)


def prefix_feature(feature: str, length: int) -> str:
    """The ``PREFIX`` feature of a word's first ``length`` characters (a wildcard meets it)."""
    return PREFIX + feature[:length]


def question_word_feature(feature: str) -> str:
    """The feature a question word offers in the evidence index (recall only)."""
    return QUESTION_WORD + feature


_SUFFIXES = ("ations", "ation", "itions", "ition", "ions", "ion", "ments", "ment", "nesses",
             "ness", "ities", "ity", "ically", "ical", "ally", "ly", "ives", "ive", "ances",
             "ance", "ences", "ence", "ates", "ate", "als", "al", "ers", "er", "es", "s", "e")


def stem(word: str) -> str:
    """A light stem that lets derivations meet ("vibrate", "vibration" -> "vibr"): the lemma
    less its longest common suffix, keeping at least four letters."""
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[:-len(suffix)]
    return word


def stem_feature(feature: str) -> str:
    """The ``STEM`` feature of a lemma's feature (keeping its ``NEGATED`` mark first)."""
    if feature.startswith(NEGATED):
        return NEGATED + STEM + stem(feature[len(NEGATED):])
    return STEM + stem(feature)


def token_features(analysis: Analysis, start: int, end: int, question_words: frozenset[str],
                   normalise=None) -> list[str]:
    """Content lemmas (``NEGATED``-marked under negation) and their bigrams for tokens
    start..end, leaving out the question's own words; ``normalise`` maps each lemma first."""
    unigrams = []
    for i in range(start, end):
        if not analysis.content[i]:
            continue
        lemma = analysis.lemmas[i]
        if normalise is not None:
            lemma = normalise(lemma)
        if lemma in question_words:
            continue
        unigrams.append(lemma_feature(lemma, analysis.negated[i]))
    bigrams = [f"{a} {b}" for a, b in zip(unigrams, unigrams[1:], strict=False)]
    return unigrams + bigrams


def idf(documents) -> dict[str, float]:
    """Each term's inverse document frequency over documents given as lists of terms, as
    scikit-learn's ``TfidfVectorizer`` (smooth_idf=True) computes ``idf_``:
    ln((1 + n) / (1 + df)) + 1. Written out because importing scikit-learn costs about 0.6 s
    of every process start, and this is all the matcher needs of it; test_matching checks
    the figures against ``TfidfVectorizer`` itself."""
    frequency: dict[str, int] = {}
    n = 0
    for terms in documents:
        n += 1
        for term in set(terms):
            frequency[term] = frequency.get(term, 0) + 1
    return {term: math.log((1 + n) / (1 + df)) + 1 for term, df in frequency.items()}


@lru_cache(maxsize=4_096)
def word_grams(word: str, negated: bool = False) -> frozenset[str]:
    """A word's character n-grams as written (normalised), marked when the word is negated so
    that they meet only negated words. Cached for the process, shared by every rubric."""
    grams = char_ngrams([normalise_lemma(word)])
    return frozenset(NEGATED_GRAM + g for g in grams) if negated else frozenset(grams)


def char_ngrams(words) -> list[str]:
    """Character n-grams of each word, space-padded, as scikit-learn's ``char_wb`` makes
    them (a word shorter than an n-gram counts once, whole)."""
    low, high = CHAR_NGRAMS
    grams = []
    for word in words:
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:
                grams.append(padded)
                break
            grams.extend(padded[i:i + n] for i in range(length - n + 1))
    return grams


def strip_wildcard(text: str) -> str:
    """A keyword alternative without its trailing wildcard ``*``."""
    return text[:-1] if text.endswith("*") else text


def alternative_patterns(alt: Analysis, prefix: bool) -> tuple[tuple[str, bool], ...]:
    """The lemmas a keyword alternative needs, as (feature, is_prefix) patterns; with
    ``prefix`` (it ended in ``*``) its last word is a prefix of the word as written."""
    indices = [i for i in range(len(alt)) if alt.content[i]]
    if not indices:
        indices = [i for i in range(len(alt)) if any(c.isalnum() for c in alt.lemmas[i])]
    patterns = []
    for n, i in enumerate(indices):
        lemma = alt.lemmas[i]
        is_prefix = prefix and n == len(indices) - 1
        if is_prefix:
            # a wildcard matches the word as written, before lemmatising
            lemma = alt.text[alt.starts[i]:alt.ends[i]].lower()
        patterns.append((lemma_feature(lemma, alt.negated[i]), is_prefix))
    return tuple(patterns)


def pattern_key(pattern: tuple[str, bool]) -> str:
    """The feature a one-word pattern looks up: the lemma, or its ``PREFIX``-marked prefix."""
    return PREFIX + pattern[0] if pattern[1] else pattern[0]


def negated_patterns(patterns: tuple[tuple[str, bool], ...]) -> tuple[tuple[str, bool], ...]:
    """The same patterns said under negation (what meets "not ..." in an answer)."""
    return tuple((NEGATED + f, pre) for f, pre in patterns)


def matched_words(terms) -> tuple[set[str], tuple[str, ...]]:
    """Matched terms as plain words and as wildcard prefixes (negation marks dropped)."""
    words, prefixes = set(), []
    for term in terms:
        prefix = term.startswith(PREFIX)
        term = term[len(PREFIX):] if prefix else term
        term = unnegated(term)
        if prefix:
            prefixes.append(term)
        else:
            words.update(term.split(" "))
    return words, tuple(prefixes)

