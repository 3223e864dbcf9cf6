"""Matching one answer against the points of one rubric: keyword groups, word recall and
character n-grams. Three parts:

- ``features``: the feature encoding, how a word becomes the strings the matcher compares
  (lemmas and the marks ``NEGATED``, ``STEM``, ``PREFIX``, ``QUESTION_WORD``, ``NEGATED_GRAM``),
  and the IDF and character n-grams of scikit-learn's ``TfidfVectorizer``;
- ``index``: the evidence index, a rubric's wordings as matrices, so that an answer's evidence
  for every wording of every point in every segment is a few numpy products;
- ``matcher``: ``PointMatcher``, which fits both on a rubric and turns the evidence into each
  point's strength and status (``combine``, ``STRENGTH_WEIGHTS``, ``MatchSettings``).

How it is computed: ``fit`` turns the rubric into an ``EvidenceIndex``, matrices whose rows are
the features a word can offer (lemmas, stems, wildcard prefixes, question words) and the points'
character n-grams. ``match`` reads each sentence of the answer as two bit masks over those rows
(per word, cached by word type), unpacks them for every segment at once, and gets every
wording's coverage, recall and char_recall in every segment from a few numpy products; Python
loops remain only for the chosen segment of each point (its matched words and quote).
"""

from .features import (
    CHAR_NGRAMS,
    NEGATED,
    NEGATED_GRAM,
    PREFIX,
    QUESTION_WORD,
    STEM,
    char_ngrams,
    idf,
    stem,
    token_features,
    word_grams,
)
from .index import EvidenceIndex, EvidenceTable, limit_blas_threads
from .matcher import (
    DEFAULT_THRESHOLDS,
    STRENGTH_WEIGHTS,
    MatchSettings,
    PointMatch,
    PointMatcher,
    Wording,
    combine,
    segments,
)

# Names importers used before the split, when they were private (scripts/fit_strength.py).
_char_ngrams = char_ngrams
_segments = segments

__all__ = [
    "CHAR_NGRAMS", "DEFAULT_THRESHOLDS", "EvidenceIndex", "EvidenceTable", "MatchSettings",
    "NEGATED", "NEGATED_GRAM", "PREFIX", "PointMatch", "PointMatcher", "QUESTION_WORD", "STEM",
    "STRENGTH_WEIGHTS", "Wording", "char_ngrams", "combine", "idf", "limit_blas_threads",
    "segments", "stem", "token_features", "word_grams",
]
