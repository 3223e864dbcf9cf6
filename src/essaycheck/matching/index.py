"""The evidence index: a rubric's wordings as matrices, and an answer's evidence as a few
products with them.

``EvidenceIndex`` is built once per rubric from the matcher's ``Wording``s; ``EvidenceIndex.table``
reads an answer (each sentence as bit masks over the index's rows) into an ``EvidenceTable``:
every wording's coverage, recall and char_recall in every segment at once.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import numpy

from .features import (
    negated_patterns,
    pattern_key,
    question_word_feature,
    stem_feature,
    unnegated,
)

if TYPE_CHECKING:
    from .matcher import Wording

#: share of a wording's keyword weight that must be in one segment, at least half of it only
#: under negation, before a missed point is said to be contradicted
NEGATION_CORE = 0.5
#: a keyword alternative as ``found_terms`` reads it: the bit mask of its features as written,
#: their keys, and (stems allowed) per pattern the mask of its routes, any of which will do
_Alternative = tuple[int, tuple[str, ...], tuple[int, ...] | None]


def limit_blas_threads() -> None:
    """Use one BLAS thread in this process. The matcher's matrix products are small, and BLAS
    threads only contend with a server's or a worker pool's own threads and processes (a
    request took 7 ms instead of 1.9 ms with the other core busy). Called where essaycheck
    owns the process: the CLI, the web app factory and batch workers."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


class EvidenceTable(NamedTuple):
    """The evidence of each segment (rows) for each wording (columns)."""

    coverage: numpy.ndarray
    recall: numpy.ndarray
    char: numpy.ndarray
    own: numpy.ndarray  # any of the wording's own words or keywords is there
    negated: numpy.ndarray  # a keyword group is there only under negation
    grouped: numpy.ndarray  # per wording: it has keyword groups
    sentences: list[int]  # per sentence, the bit mask of the index's features (and n-grams)

    def features(self, first: int, last: int) -> int:
        """The bit mask of the features sentences first..last hold."""
        if last - first == 1:
            return self.sentences[first]
        return functools.reduce(operator.or_, self.sentences[first:last])

    def strengths(self, weights: tuple[float, float, float], partial: float) -> numpy.ndarray:
        """``combine`` over the whole table."""
        coverage_weight, recall_weight, char_weight = weights
        rest = recall_weight + char_weight
        grouped = coverage_weight * self.coverage + recall_weight * self.recall \
            + char_weight * self.char
        plain = (recall_weight * self.recall + char_weight * self.char) / rest if rest \
            else self.recall
        strength = numpy.where(self.grouped, grouped, plain)
        return numpy.where(self.own, strength, numpy.minimum(strength, partial / 2))


class EvidenceIndex:
    """A rubric's points as matrices, so that an answer's evidence for every wording of every
    point is a few matrix products rather than a loop over points, wordings and segments.

    Rows of ``features_`` are the features a word can offer (``feature_ids``: lemmas, stems,
    wildcard prefixes, question words); its columns are, in turn: the wordings' recall words (a
    word is found by its lemma, its stem or, for a question word, as asked), per keyword group
    its one-word alternatives (as said, then negated), the words of its alternatives of
    several words (as said, then negated), and per wording whether a feature is one of its own
    words. Rows of ``grams_`` are the points' character n-grams (``gram_ids``), its columns
    the wordings, holding each n-gram's share of the wording's IDF weight.
    """

    def __init__(self, wordings: Sequence[Sequence[Wording]], stems: bool,
                 question_words: frozenset[str], grams: Iterable[str]) -> None:
        """Build the matrices from each point's wordings (in rubric order); ``grams`` are the
        character n-grams that can count (the points' own)."""
        self.wordings = [wording for of_point in wordings for wording in of_point]
        # per point, the (first, last) columns of its wordings
        self.point_wordings: list[tuple[int, int]] = []
        start = 0
        for of_point in wordings:
            self.point_wordings.append((start, start + len(of_point)))
            start += len(of_point)
        self.wording_starts_ = numpy.array([first for first, _ in self.point_wordings], dtype=int)
        self.feature_ids: dict[str, int] = {}
        n_wordings = len(self.wordings)

        def routes(pattern, wording) -> list[int]:
            found = [pattern_key(pattern)]
            if stems and not wording.curated and not pattern[1] and " " not in pattern[0]:
                found.append(stem_feature(pattern[0]))
            return [self._id(route) for route in found]

        word_cells: list[tuple[int, int]] = []  # (feature row, recall-word column)
        own_cells: list[tuple[int, int]] = []  # (feature row, wording)
        word_weights: list[tuple[int, float]] = []  # per recall-word column: (wording, weight)
        single_cells: list[list[int]] = []  # per group, said then negated: feature rows
        multi_cells: list[list[int]] = []  # per word of a multi-word alternative: feature rows
        multi_alternatives: list[tuple[int, list[int]]] = []  # (group column, word columns)
        group_wordings: list[tuple[int, float]] = []  # per keyword group: (wording, weight)
        for k, wording in enumerate(self.wordings):
            for feature, stemmed, weight in wording.words:
                column = len(word_weights)
                word_weights.append((k, weight))
                for route in ([feature, stemmed] if stems else [feature]):
                    word_cells.append((self._id(route), column))
                    if weight > 0:
                        own_cells.append((self._id(route), k))
                if unnegated(feature) in question_words:
                    word_cells.append((self._id(question_word_feature(feature)), column))
            for group, weight in zip(wording.groups, wording.group_weights, strict=True):
                said, unsaid = len(single_cells), len(single_cells) + 1
                group_wordings.append((k, weight))
                single_cells.extend(([], []))
                for patterns in group:
                    if len(patterns) == 1:
                        single_cells[said].extend(routes(patterns[0], wording))
                        single_cells[unsaid].extend(
                            routes(negated_patterns(patterns)[0], wording)[:1])
                        continue
                    for column, variant in ((said, patterns),
                                            (unsaid, negated_patterns(patterns))):
                        words = []
                        for pattern in variant:
                            words.append(len(multi_cells))
                            multi_cells.append(routes(pattern, wording)[:1] if column == unsaid
                                               else routes(pattern, wording))
                        multi_alternatives.append((column, words))
        n_words, n_singles, n_multi = len(word_weights), len(single_cells), len(multi_cells)
        self.bounds_ = tuple(numpy.cumsum([n_words, n_singles, n_multi, n_wordings]).tolist())
        # 0/1 and small counts: float32 is exact, and twice as fast to multiply
        self.features_ = numpy.zeros((len(self.feature_ids), self.bounds_[-1]),
                                     dtype=numpy.float32)
        for row, column in word_cells:
            self.features_[row, column] = 1.0
        for column, rows in enumerate(single_cells):
            self.features_[rows, n_words + column] = 1.0
        for column, rows in enumerate(multi_cells):
            self.features_[rows, n_words + n_singles + column] = 1.0
        for row, k in own_cells:
            self.features_[row, n_words + n_singles + n_multi + k] = 1.0
        # recall: the found words' weights over the wording's total
        self.word_weights_ = numpy.zeros((n_words, n_wordings))
        for column, (k, weight) in enumerate(word_weights):
            self.word_weights_[column, k] = weight
        self.word_totals_ = numpy.array([wording.words_total or math.inf
                                         for wording in self.wordings])
        # alternatives of several words: met when all their words are; each meets its group
        self.multi_words_ = numpy.zeros((n_multi, len(multi_alternatives)))
        self.multi_needed_ = numpy.array([len(words) for _, words in multi_alternatives],
                                         dtype=float)
        self.multi_groups_ = numpy.zeros((len(multi_alternatives), n_singles))
        for a, (column, words) in enumerate(multi_alternatives):
            self.multi_words_[words, a] = 1.0
            self.multi_groups_[a, column] = 1.0
        # coverage: the met groups' weights over the wording's total
        self.group_weights_ = numpy.zeros((len(group_wordings), n_wordings))
        for g, (k, weight) in enumerate(group_wordings):
            self.group_weights_[g, k] = weight
        self.weight_totals_ = numpy.array([sum(wording.group_weights) or math.inf
                                           for wording in self.wordings])
        # character n-grams: each n-gram's share of the wording's IDF weight
        gram_ids = {gram: n for n, gram in enumerate(sorted(grams))}
        self.grams_ = numpy.zeros((len(gram_ids), n_wordings))
        for k, wording in enumerate(self.wordings):
            total = sum(wording.grams.values())
            for gram, weight in wording.grams.items():
                self.grams_[gram_ids[gram], k] = weight / total
        self.grouped = numpy.array([bool(wording.groups) for wording in self.wordings])
        # a word's features and n-grams are bits of one integer (the n-grams' after the
        # features'): a sentence's are their OR
        self.feature_bits = {f: 1 << n for f, n in self.feature_ids.items()}
        shift = self.features_.shape[0]
        self.gram_bits = {gram: 1 << (shift + n) for gram, n in gram_ids.items()}
        # per wording, what tells which of its terms a segment holds (see ``found_terms``)
        bits = self.feature_bits
        self.terms_: list[tuple[list[tuple[int, list[_Alternative]]],
                                list[tuple[str, int]]]] = []
        for wording in self.wordings:
            groups = []
            for group in wording.groups:
                alternatives: list[_Alternative] = []
                for patterns in group:
                    keys = tuple(pattern_key(pattern) for pattern in patterns)
                    either = None
                    if stems and not wording.curated:
                        either = tuple(functools.reduce(operator.or_, map(
                            (1).__lshift__, routes(pattern, wording))) for pattern in patterns)
                    alternatives.append((
                        functools.reduce(operator.or_, map(bits.__getitem__, keys)), keys,
                        either))
                # every bit any alternative could be met by: without one, none is
                anything = functools.reduce(operator.or_, (
                    mask | functools.reduce(operator.or_, either or (), 0)
                    for mask, _, either in alternatives), 0)
                groups.append((anything, alternatives))
            word_masks = [(feature, bits[feature] | (bits[stemmed] if stems else 0))
                          for feature, stemmed, _ in wording.words]
            self.terms_.append((groups, word_masks))

    def _id(self, feature: str) -> int:
        return self.feature_ids.setdefault(feature, len(self.feature_ids))

    def found_terms(self, k: int, features: int) -> list[str]:
        """The terms of wording k that a segment holding these features (a bit mask) uses:
        per keyword group met, the patterns of its first alternative met (as written, else
        by stem); then the wording's words found by lemma or stem."""
        groups, words = self.terms_[k]
        terms: list[str] = []
        for anything, alternatives in groups:
            if not features & anything:
                continue
            found = next((keys for mask, keys, _ in alternatives if features & mask == mask),
                         None)
            if found is None:
                found = next((keys for _, keys, either in alternatives
                              if either and all(features & mask for mask in either)), None)
            if found is not None:
                terms.extend(key for key in found if key not in terms)
        terms.extend(feature for feature, mask in words
                     if features & mask and feature not in terms)
        return terms

    def table(self, sentences: list[int], ranges: list[tuple[int, int]]) -> EvidenceTable:
        """The evidence table of one answer from its sentences' masks of features and n-grams
        (``feature_bits`` and ``gram_bits``)."""
        words_end, singles_end, multi_end, own_end = self.bounds_
        width = self.features_.shape[0]
        rows = _unpack(sentences, width + self.grams_.shape[0])
        segments = _gathered(rows, _gather(tuple(ranges)))
        # multiply just the features some sentence holds (an answer meets a small part)
        present = numpy.flatnonzero(rows[:, :width].any(axis=0))
        hits = (segments[:, present].astype(self.features_.dtype)
                @ self.features_[present]) > 0
        groups = hits[:, words_end:singles_end]
        if multi_end > singles_end:
            met = (hits[:, singles_end:multi_end] @ self.multi_words_) >= self.multi_needed_
            groups = groups | ((met @ self.multi_groups_) > 0)
        said, unsaid = groups[:, 0::2], groups[:, 1::2]
        coverage = (said @ self.group_weights_) / self.weight_totals_
        # "says the opposite" needs the point's core under negation, not a stray word: more
        # than half of the wording's keyword weight there, said or negated, and at least half
        # of that negated ("Stalin's fault, not the communist party's" denies no foreign allies)
        present = ((said | unsaid) @ self.group_weights_) / self.weight_totals_
        denied = ((unsaid & ~said) @ self.group_weights_) / self.weight_totals_
        negated = (present > NEGATION_CORE) & (denied * 2 >= present - 1e-9) & (denied > 0)
        recall = (hits[:, :words_end] @ self.word_weights_) / self.word_totals_
        own = hits[:, multi_end:own_end] | (coverage > 0)
        chars = segments[:, width:].astype(self.grams_.dtype) @ self.grams_
        return EvidenceTable(coverage, recall, chars, own, negated, self.grouped, sentences)

    def best(self, strengths: numpy.ndarray, cap: float, is_listed) -> list[tuple[int, int]]:
        """Per point, the (segment, wording) that makes it most strongly: the strongest, then
        the first segment (``matcher.segments`` lists the shorter first, so a single sentence beats
        a window that is no stronger) and the first wording. A segment that ``is_listed`` (a
        list of key words) has its strengths capped at ``cap`` in place; it is tested only
        when it would otherwise win above the cap. Ties are judged on strengths rounded to
        1e-9, so that float noise cannot decide them."""
        starts = self.wording_starts_
        rounded = numpy.round(strengths, 9)
        tops = numpy.maximum.reduceat(rounded, starts, axis=1)
        # per segment and point, its strongest wording's strength (as the strengths stand)
        peaks = numpy.maximum.reduceat(strengths, starts, axis=1)
        # each point's strongest segment, while no segment is capped
        first_tops = tops.argmax(axis=0).tolist()
        capped: set[int] = set()
        out = []
        for p, (first_wording, last_wording) in enumerate(self.point_wordings):
            while True:
                s = int(tops[:, p].argmax()) if capped else first_tops[p]
                if s in capped or peaks[s, p] <= cap or not is_listed(s):
                    break
                # a list of key words: capped for every point, then look again
                capped.add(s)
                numpy.minimum(strengths[s], cap, out=strengths[s])
                rounded[s] = numpy.round(strengths[s], 9)
                tops[s] = numpy.maximum.reduceat(rounded[s], starts)
                peaks[s] = numpy.maximum.reduceat(strengths[s], starts)
            k = first_wording if last_wording - first_wording == 1 else \
                first_wording + int(rounded[s, first_wording:last_wording].argmax())
            out.append((s, k))
        return out


def _unpack(masks: list[int], width: int) -> numpy.ndarray:
    """Bit masks (one per sentence) as rows of 0/1 of ``width`` columns."""
    size = (width + 7) // 8
    packed = numpy.frombuffer(b"".join(mask.to_bytes(size, "little") for mask in masks),
                              dtype=numpy.uint8).reshape(len(masks), size)
    return numpy.unpackbits(packed, axis=1, count=width, bitorder="little")


def _gathered(rows: numpy.ndarray, gather: tuple) -> numpy.ndarray:
    """Segment rows, each the union of its sentences' ``rows``; ``gather`` is
    ``_gather(ranges)``."""
    firsts, more = gather
    segments = rows[firsts]
    for which, sentence in more:
        segments[which] |= rows[sentence]
    return segments


@lru_cache(maxsize=1_024)
def _gather(ranges: tuple[tuple[int, int], ...]) -> tuple:
    """How to build segment rows from sentence rows: each range's first sentence, then for
    each further position j, the ranges that long and their sentence at j. Cached: answers
    with as many sentences share it."""
    firsts = numpy.array([first for first, _ in ranges], dtype=numpy.intp)
    more = []
    for j in range(1, max(last - first for first, last in ranges)):
        which = [n for n, (first, last) in enumerate(ranges) if last - first > j]
        more.append((numpy.array(which, dtype=numpy.intp),
                     numpy.array([ranges[n][0] + j for n in which], dtype=numpy.intp)))
    return firsts, tuple(more)
