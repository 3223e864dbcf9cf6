"""Words a student might write instead of a rubric's: synonyms by sense, word family, spellings.

The table ``data/lexicon.tsv.gz`` is derived from WordNet 3.0 by ``scripts/build_lexicon.py``
(its docstring gives the format; ``data/LICENSE-wordnet.txt`` the licence). It is read once
per process, on first use, by :func:`get_lexicon`; each word's record is parsed only when it is
looked up, so loading is decompressing and splitting lines (about 0.1 s) and a look-up is a
dictionary access plus parsing a few numbers.

Scores are in [0, 1] and comparable across kinds, so a caller can rank and cap them together:

- a sense's *share* is how often the word means it in WordNet's sense-tagged corpus, smoothed;
- a synonym's score is the word's share of the sense times the synonym's own share of it: a
  synonym of the word's dominant sense that itself mostly means something else scores low
  (precision: a synonym of the wrong sense is worse than none);
- a family member's score is the share of the sense that derives it (two hops multiply);
- a spelling (legitimise for legitimize) scores 1;
- hypernyms and, for adjectives, similar-to words are weaker: their score is discounted by
  :data:`WEAK_DISCOUNT`, and :meth:`Lexicon.alternatives` leaves them out unless asked.

Words are lower-case lemmas as ``analysis.normalise_lemma`` gives them; two-word terms are
joined by one space. An unknown word has no senses and no alternatives.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache

from .resources import data_file

TABLE_RESOURCE = "lexicon.tsv.gz"
FORMAT_VERSION = 1
SCALE = 10_000
#: score factor for hypernyms and similar-to words, which a student uses less often in place
#: of the word than a synonym.
WEAK_DISCOUNT = 0.5
#: kinds of :class:`Alternative`, strongest relation first (ties in score rank by this order).
KINDS = ("spelling", "family", "synonym", "hypernym", "similar")


@dataclass(frozen=True)
class Sense:
    """One WordNet sense of a word: part of speech, the word's share of it, its other words."""

    pos: str
    share: float
    #: the sense's other words, each with its own share of this sense
    synonyms: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Alternative:
    """A word a student might write instead of a rubric word, how it relates and its score."""

    word: str
    kind: str
    score: float


class Lexicon:
    """The lexicon table in memory: word ids, and records parsed when looked up."""

    def __init__(self, text: str) -> None:
        """Index the table's text (as ``scripts/build_lexicon.py`` writes it)."""
        lines = text.split("\n")
        header = lines[0].split("\t")
        if header[:2] != ["essaycheck-lexicon", str(FORMAT_VERSION)]:
            raise ValueError(f"lexicon table: header {lines[0][:60]!r} is not format "
                             f"{FORMAT_VERSION}; rebuild it with scripts/build_lexicon.py")
        fields = dict(field.split("=", 1) for field in header[2:] if "=" in field)
        n_words, n_synsets = int(fields["words"]), int(fields["synsets"])
        self._words = lines[1:1 + n_words]
        self._records = lines[1 + n_words:1 + 2 * n_words]
        self._synsets = lines[1 + 2 * n_words:1 + 2 * n_words + n_synsets]
        self._ids = dict(zip(self._words, range(n_words), strict=True))

    def __len__(self) -> int:
        """How many words the table knows."""
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        """Whether the table knows ``word`` (a lower-case lemma)."""
        return word in self._ids

    # Records -------------------------------------------------------------------------------

    def _record(self, word: str) -> list[str] | None:
        """The word's record fields (senses, family, spellings); a British form's are its
        American form's."""
        index = self._ids.get(word)
        if index is None:
            return None
        fields = self._records[index].split("\t")
        if fields[0].startswith("="):
            return self._records[int(fields[0][1:])].split("\t")
        return fields

    def _pairs(self, field: str) -> list[tuple[int, float]]:
        """``id:score,id:score`` as (id, score in [0, 1]) pairs."""
        if not field:
            return []
        pairs = []
        for item in field.split(","):
            index, score = item.split(":")
            pairs.append((int(index), int(score) / SCALE))
        return pairs

    def _synset(self, index: int) -> list[str]:
        """A synset's fields: pos, members, hypernyms, similar-to."""
        return self._synsets[index].split("\t")

    # Look-ups --------------------------------------------------------------------------------

    def senses(self, lemma: str, max_senses: int | None = None,
               min_share: float = 0.0) -> list[Sense]:
        """The word's kept senses, dominant first: at most ``max_senses``, share >= min_share."""
        record = self._record(lemma)
        if record is None:
            return []
        own = {lemma, *self.spellings(lemma)}
        senses = []
        for synset, share in self._pairs(record[0])[:max_senses]:
            if share < min_share:
                break
            fields = self._synset(synset)
            members = tuple((self._words[i], s) for i, s in self._pairs(fields[1])
                            if self._words[i] not in own)
            senses.append(Sense(fields[0], share, members))
        return senses

    def synonyms(self, lemma: str, max_senses: int | None = 2, min_share: float = 0.1,
                 min_score: float = 0.0) -> list[tuple[str, float]]:
        """Synonyms from the dominant senses, best first: (word, sense share x own share)."""
        scores: dict[str, float] = {}
        for sense in self.senses(lemma, max_senses, min_share):
            for word, own_share in sense.synonyms:
                scores[word] = max(scores.get(word, 0.0), sense.share * own_share)
        return _ranked(scores, min_score)

    def family_scores(self, lemma: str, min_score: float = 0.0) -> list[tuple[str, float]]:
        """The word family (derived and deriving words), best first, with their scores."""
        record = self._record(lemma)
        if record is None:
            return []
        return [(self._words[i], score) for i, score in self._pairs(record[1])
                if score >= min_score and self._words[i] != lemma]

    def family(self, lemma: str, min_score: float = 0.0) -> list[str]:
        """The word family, best first: legitimacy -> legitimate, legitimation, legitimize."""
        return [word for word, _ in self.family_scores(lemma, min_score)]

    def spellings(self, word: str) -> list[str]:
        """The word's other spellings, British or American: legitimise <-> legitimize."""
        index = self._ids.get(word)
        if index is None:
            return []
        field = self._records[index].split("\t")[2]
        return [self._words[int(i)] for i in field.split(",")] if field else []

    def related(self, lemma: str, max_senses: int | None = 1,
                min_share: float = 0.1) -> list[tuple[str, float, str]]:
        """Weaker alternatives, best first: (word, discounted score, "hypernym" or "similar")."""
        record = self._record(lemma)
        if record is None:
            return []
        own = {lemma, *self.spellings(lemma)}
        best: dict[str, tuple[float, str]] = {}
        for synset, share in self._pairs(record[0])[:max_senses]:
            if share < min_share:
                break
            fields = self._synset(synset)
            for kind, targets in (("hypernym", fields[2]), ("similar", fields[3])):
                for target in targets.split(",") if targets else ():
                    for word_id, own_share in self._pairs(self._synset(int(target))[1]):
                        word = self._words[word_id]
                        score = share * own_share * WEAK_DISCOUNT
                        if word not in own and score > best.get(word, (0.0, ""))[0]:
                            best[word] = (score, kind)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
        return [(word, score, kind) for word, (score, kind) in ranked]

    def alternatives(self, lemma: str, limit: int | None = 10, max_senses: int | None = 2,
                     min_share: float = 0.1, min_score: float = 0.05,
                     weak: bool = False) -> list[Alternative]:
        """Everything above merged, each word once under its strongest kind, ranked by score,
        at most ``limit``; each word's other spellings follow it with the same score."""
        candidates: list[Alternative] = [Alternative(w, "spelling", 1.0)
                                         for w in self.spellings(lemma)]
        candidates += [Alternative(w, "family", s) for w, s in self.family_scores(lemma)]
        candidates += [Alternative(w, "synonym", s)
                       for w, s in self.synonyms(lemma, max_senses, min_share)]
        if weak:
            candidates += [Alternative(w, kind, s)
                           for w, s, kind in self.related(lemma, max_senses, min_share)]
        best: dict[str, Alternative] = {}
        for candidate in candidates:
            if candidate.score < min_score or candidate.word == lemma:
                continue
            held = best.get(candidate.word)
            if held is None or candidate.score > held.score:
                best[candidate.word] = candidate
        ranked = sorted(best.values(),
                        key=lambda a: (-a.score, KINDS.index(a.kind), a.word))
        chosen: list[Alternative] = []
        seen = {lemma}
        for candidate in ranked:
            for word in (candidate.word, *self.spellings(candidate.word)):
                if word not in seen:
                    seen.add(word)
                    chosen.append(Alternative(word, candidate.kind, candidate.score))
        return chosen[:limit]


def _ranked(scores: dict[str, float], min_score: float) -> list[tuple[str, float]]:
    """(word, score) pairs at or above ``min_score``, best first, ties alphabetical."""
    return sorted(((w, s) for w, s in scores.items() if s >= min_score),
                  key=lambda item: (-item[1], item[0]))


def read_table() -> str:
    """The packaged table's text (the only file this module opens)."""
    data = data_file(TABLE_RESOURCE).read_bytes()
    return gzip.decompress(data).decode("utf-8")


@lru_cache(maxsize=1)
def get_lexicon() -> Lexicon:
    """The packaged lexicon, loaded on first call and shared by the whole process."""
    return Lexicon(read_table())
