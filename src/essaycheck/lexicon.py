"""Words a student might write instead of a rubric's: synonyms by sense, word family, spellings.

The table ``data/lexicon.tsv.gz`` is derived from WordNet 3.0 by ``scripts/build_lexicon.py``
(its docstring gives the format; ``data/LICENSE-wordnet.txt`` the licence). It is read once
per process, on first use, by :func:`get_lexicon`; each word's record is parsed only when it is
looked up, so loading is decompressing and splitting lines (0.17 s of CPU) and a look-up is a
dictionary access plus parsing a few numbers (``alternatives`` takes about 0.1 ms).

Scores are in [0, 1] and comparable across kinds, so a caller can rank and cap them together:

- a sense's *share* is how often the word means it in WordNet's sense-tagged corpus, smoothed;
- a synonym's score is the word's share of the sense times the synonym's own share of it: a
  synonym of the word's dominant sense that itself mostly means something else scores low
  (precision: a synonym of the wrong sense is worse than none);
- a family member's score is the geometric mean of the shares of the two senses its
  derivation joins (two hops: the weaker link's);
- a spelling (legitimise for legitimize) scores 1;
- hypernyms and, for adjectives, similar-to words are weaker: their score is discounted by
  :data:`WEAK_DISCOUNT`, and :meth:`Lexicon.alternatives` leaves them out unless asked.

Beside its score, each alternative has a *commonness* (how often English text uses it): a rare
word (foeman, remotion) does no harm to precision but wastes a place under a cap, so
:meth:`Lexicon.alternatives` ranks by score x commonness. A caller's ``context`` (the lemmas of
a model answer and its notes) brings in a sense outside the dominant ones when the context
uses one of that sense's words.

Words are lower-case lemmas as ``analysis.normalise_lemma`` gives them; two-word terms are
joined by one space. An unknown word has no senses and no alternatives.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

from .resources import data_file

TABLE_RESOURCE = "lexicon.tsv.gz"
FORMAT_VERSION = 2
SCALE = 10_000
#: score factor for hypernyms and similar-to words, which a student uses less often in place
#: of the word than a synonym.
WEAK_DISCOUNT = 0.5
#: natural-log word frequencies (spacy-lookups-data's unigram table) at and above which a word
#: counts as fully common (about 6 in a million words: rival, regime), and the rarest it holds.
COMMON_LOG_FREQUENCY = -12.0
RAREST_LOG_FREQUENCY = -19.5
#: commonness of a word the frequency table lacks or holds at its rarest (foeman, remotion).
MIN_COMMONNESS = 0.05
#: a sense that the caller's context points to (one of its words occurs there) counts as at
#: least this share, so its synonyms rank as those of a dominant sense.
CONTEXT_SHARE = 0.5
#: kinds of :class:`Alternative`, strongest relation first (ties in score rank by this order).
KINDS = ("spelling", "family", "synonym", "hypernym", "similar")


@dataclass(frozen=True)
class Sense:
    """One WordNet sense of a word: part of speech, the word's share of it, its other words."""

    #: the synset's row in the table: two words with the same id share this sense
    synset: int
    pos: str
    share: float
    #: the sense's other words, each with its own share of this sense
    synonyms: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Alternative:
    """A word a student might write instead of a rubric word, how it relates and its score."""

    word: str
    kind: str
    #: how surely the word stands for the rubric word (see the module docstring)
    score: float
    #: how often students may be expected to write it, in (0, 1] (:meth:`Lexicon.commonness`)
    commonness: float

    @property
    def weight(self) -> float:
        """score x commonness: how much the alternative is worth under a cap (the ranking)."""
        return self.score * self.commonness


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

    def senses(self, lemma: str, max_senses: int | None = None, min_share: float = 0.0,
               context: Collection[str] = ()) -> list[Sense]:
        """The word's senses, dominant first: the first ``max_senses`` with share >= min_share,
        and any other whose words (or hypernyms' words) occur in ``context``, with its share
        raised to :data:`CONTEXT_SHARE`."""
        record = self._record(lemma)
        if record is None:
            return []
        own = {lemma, *self.spellings(lemma)}
        senses = []
        for rank, (synset, share) in enumerate(self._pairs(record[0])):
            dominant = (max_senses is None or rank < max_senses) and share >= min_share
            if not dominant and not context:
                break
            fields = self._synset(synset)
            members = tuple((self._words[i], s) for i, s in self._pairs(fields[1])
                            if self._words[i] not in own)
            if not dominant:
                if not self._in_context(members, fields[2], context):
                    continue
                share = max(share, CONTEXT_SHARE)
            senses.append(Sense(synset, fields[0], share, members))
        return sorted(senses, key=lambda sense: -sense.share)

    def _in_context(self, members: tuple[tuple[str, float], ...], hypernyms: str,
                    context: Collection[str]) -> bool:
        """Whether a sense's other words, or its hypernyms' words, occur in ``context``."""
        if any(word in context for word, _ in members):
            return True
        return any(self._words[i] in context for target in hypernyms.split(",") if target
                   for i, _ in self._pairs(self._synset(int(target))[1]))

    def synonyms(self, lemma: str, max_senses: int | None = 2, min_share: float = 0.1,
                 min_score: float = 0.0,
                 context: Collection[str] = ()) -> list[tuple[str, float]]:
        """Synonyms from the chosen senses (see :meth:`senses`), best first, each with its
        score: the sense's share x the synonym's own share of that sense."""
        scores: dict[str, float] = {}
        for sense in self.senses(lemma, max_senses, min_share, context):
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

    def log_frequency(self, word: str) -> float | None:
        """The word's natural-log frequency in English text, or None if the table lacks it."""
        index = self._ids.get(word)
        if index is None:
            return None
        field = self._records[index].split("\t")[3]
        return -int(field) / 10 if field else None

    def commonness(self, word: str) -> float:
        """How common the word is in any of its spellings, in [MIN_COMMONNESS, 1]: 1 from
        :data:`COMMON_LOG_FREQUENCY` up, falling linearly to the table's rarest words."""
        known = [f for w in (word, *self.spellings(word))
                 if (f := self.log_frequency(w)) is not None]
        if not known:
            return MIN_COMMONNESS
        position = (max(known) - RAREST_LOG_FREQUENCY) / (COMMON_LOG_FREQUENCY
                                                          - RAREST_LOG_FREQUENCY)
        return min(1.0, max(MIN_COMMONNESS, position))

    def related(self, lemma: str, max_senses: int | None = 1, min_share: float = 0.1,
                context: Collection[str] = ()) -> list[tuple[str, float, str]]:
        """Weaker alternatives from the chosen senses, best first: (word, score x
        :data:`WEAK_DISCOUNT`, "hypernym" or "similar")."""
        own = {lemma, *self.spellings(lemma)}
        best: dict[str, tuple[float, str]] = {}
        for sense in self.senses(lemma, max_senses, min_share, context):
            fields = self._synset(sense.synset)
            for kind, targets in (("hypernym", fields[2]), ("similar", fields[3])):
                for target in targets.split(",") if targets else ():
                    for word_id, own_share in self._pairs(self._synset(int(target))[1]):
                        word = self._words[word_id]
                        score = sense.share * own_share * WEAK_DISCOUNT
                        if word not in own and score > best.get(word, (0.0, ""))[0]:
                            best[word] = (score, kind)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
        return [(word, score, kind) for word, (score, kind) in ranked]

    def alternatives(self, lemma: str, limit: int | None = 10, max_senses: int | None = 2,
                     min_share: float = 0.1, min_score: float = 0.05, weak: bool = False,
                     context: Collection[str] = ()) -> list[Alternative]:
        """Spellings, family, synonyms (and with ``weak``, hypernyms and similar-to words)
        merged: each word once under its highest score, score >= min_score, ranked by
        :attr:`Alternative.weight`, at most ``limit``; a word's other spellings follow it."""
        candidates = [("spelling", w, 1.0) for w in self.spellings(lemma)]
        candidates += [("family", w, s) for w, s in self.family_scores(lemma)]
        candidates += [("synonym", w, s)
                       for w, s in self.synonyms(lemma, max_senses, min_share, 0.0, context)]
        if weak:
            candidates += [(kind, w, s)
                           for w, s, kind in self.related(lemma, max_senses, min_share, context)]
        best: dict[str, Alternative] = {}
        for kind, word, score in candidates:
            if score < min_score or word == lemma:
                continue
            held = best.get(word)
            if held is None or score > held.score:
                best[word] = Alternative(word, kind, score, self.commonness(word))
        ranked = sorted(best.values(),
                        key=lambda a: (-a.weight, -a.score, KINDS.index(a.kind), a.word))
        chosen: list[Alternative] = []
        seen = {lemma}
        for alternative in ranked:
            for word in (alternative.word, *self.spellings(alternative.word)):
                if word not in seen:
                    seen.add(word)
                    chosen.append(Alternative(word, alternative.kind, alternative.score,
                                              alternative.commonness))
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


def anticipated(lemma: str, own_words: Collection[str], family: int = 0, synonyms: int = 0,
                context: int = 0, family_weight: float = 0.3, synonym_weight: float = 0.3,
                skip: Callable[[str], bool] | None = None) -> list[str]:
    """Words a student may write for ``lemma``, from the packaged lexicon, best first: its
    other spellings; then, each kind capped (``family``, ``synonyms``, ``context``), its word
    family and the synonyms of its dominant senses at or above their weight cuts (a rare or
    wrong-sense word is worse than none), and any family member or synonym, of whatever sense,
    that the teacher's own texts (``own_words``) use. Single words only (a phrase that holds
    the lemma adds nothing, and other phrases rarely occur as written); a word ``skip`` says
    True for is passed over before it is counted. The one rule by which drafting
    (``extract``) fills a keyword group and matching gives a point without keyword groups its
    alternatives; nothing when every cap is 0."""
    if not (family or synonyms or context):
        return []
    lexicon = get_lexicon()
    if lemma not in lexicon:
        return []
    chosen = [word for word in lexicon.spellings(lemma) if word.isascii()]
    caps = {"family": family, "synonym": synonyms, "context": context}
    cuts = {"family": family_weight, "synonym": synonym_weight}
    counts = dict.fromkeys(caps, 0)
    for alternative in lexicon.alternatives(lemma, limit=None, context=own_words):
        word = alternative.word
        if (" " in word or "-" in word or not word.isascii() or word in chosen
                or word == lemma or (skip is not None and skip(word))):
            continue
        if word in own_words and alternative.kind != "spelling":
            kind = "context"
        elif alternative.kind in cuts and alternative.weight >= cuts[alternative.kind]:
            kind = alternative.kind
        else:
            continue
        if counts[kind] < caps[kind]:
            counts[kind] += 1
            chosen.append(word)
    return chosen
