"""What the benchmark runs on: the checkout's rubrics, the revision notes, and the seeded
synthetic class built from them (``synthetic_class``), as rows, a CSV file or API bodies."""

from __future__ import annotations

import csv
import json
import random
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUBRIC_DIR = ROOT / "rubric"
#: The revision notes the rubrics were drafted from; in a fresh clone, ../shared/source/.
NOTES = ROOT.parent / "shared" / "source" / "khrushchev-destalinisation-notes.txt"

SEED = 20_060  # the synthetic class is the same on every run
WORDS = (50, 400)
BAD_SHARE = 0.02  # share of rows that cannot be scored (empty, blank, unknown question, too long)
BAD_KINDS = ("empty", "blank", "unknown-question", "too-long")
UNKNOWN_QUESTION = "no-such-question"

# The documented interfaces of the edges (README, issue text).
CSV_COLUMNS = ("student_id", "question_id", "answer")


@dataclass(frozen=True)
class Row:
    """One synthetic answer: ``kind`` is 'ok' or one of ``BAD_KINDS``."""

    key: str
    question_id: str
    answer: str
    kind: str = "ok"

    @property
    def words(self) -> int:
        """Words in the answer (split on white space)."""
        return len(self.answer.split())


@dataclass
class Sources:
    """Sentences to build answers from: shared ones and each question's own."""

    shared: list[str]
    by_question: dict[str, list[str]]
    origin: str

    @property
    def question_ids(self) -> list[str]:
        """The questions, sorted."""
        return sorted(self.by_question)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, one per line or per full stop; headings and fragments dropped."""
    sentences = []
    for line in text.splitlines():
        for sentence in _SENTENCE_END.split(line.strip()):
            sentence = sentence.strip()
            if len(sentence.split()) >= 4:
                sentences.append(sentence)
    return sentences


def load_sources(notes: Path | None = NOTES, rubric_dir: Path = RUBRIC_DIR) -> Sources:
    """The notes' sentences (shared by both questions) and each rubric's model answer and point
    texts; without the notes, the rubrics' model answers and ``context`` are shared instead."""
    from essaycheck.loader import load_directory

    rubrics = load_directory(rubric_dir)
    by_question = {r.id: split_sentences(r.model_answer) + [p.text for p in r.points]
                   for r in rubrics}
    if notes is not None and Path(notes).is_file():
        shared = split_sentences(Path(notes).read_text(encoding="utf-8"))
        origin = f"sentences of {Path(notes).name} and the rubrics' model answers"
    else:
        shared = []
        for r in rubrics:
            shared.extend(split_sentences(r.model_answer))
            shared.extend(split_sentences(r.context))
        origin = "the rubrics' model answers and context (revision notes not found)"
    return Sources(shared=shared, by_question=by_question, origin=origin)


def _typo(word: str, rng: random.Random) -> str:
    """A student's slip: two letters swapped or one dropped."""
    i = rng.randrange(1, len(word) - 2)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i + 1:]


def _answer(question_id: str, words: int, sources: Sources, rng: random.Random) -> str:
    """An answer of ``words`` words: sentences of the question's own and the shared texts."""
    own = sources.by_question[question_id]
    out: list[str] = []
    parts: list[str] = []
    while len(out) < words:
        sentence = rng.choice(own if rng.random() < 0.35 or not sources.shared
                              else sources.shared)
        tokens = [(_typo(w, rng) if len(w) >= 6 and w.isalpha() and rng.random() < 0.02 else w)
                  for w in sentence.split()]
        tokens = tokens[: words - len(out)]
        out.extend(tokens)
        text = " ".join(tokens)
        if not text.endswith((".", "!", "?")):
            text += "."
        parts.append(text)
        if rng.random() < 0.1:
            parts.append("\n\n")
    return " ".join(parts).replace(" \n\n ", "\n\n").strip()


def synthetic_class(n: int, seed: int = SEED, words: tuple[int, int] = WORDS,
                    bad_share: float = BAD_SHARE, sources: Sources | None = None) -> list[Row]:
    """``n`` answers to the rubrics' questions, the same for the same arguments.

    Valid answers have between ``words[0]`` and ``words[1]`` words (uniform) and alternate
    questions at random; about ``bad_share`` of the rows are bad, a mix of ``BAD_KINDS``.
    """
    sources = sources or load_sources()
    rng = random.Random(seed)
    questions = sources.question_ids
    rows = []
    bad_every = round(1 / bad_share) if bad_share > 0 else 0
    for i in range(n):
        key = f"s{i + 1:06d}"
        question_id = rng.choice(questions)
        if bad_every and i % bad_every == bad_every // 2:
            kind = BAD_KINDS[(i // bad_every) % len(BAD_KINDS)]
            if kind == "empty":
                rows.append(Row(key, question_id, "", kind))
            elif kind == "blank":
                rows.append(Row(key, question_id, " \n\t  ", kind))
            elif kind == "unknown-question":
                rows.append(Row(key, UNKNOWN_QUESTION,
                                _answer(question_id, rng.randint(*words), sources, rng), kind))
            else:  # over the documented 5,000-word limit, under the character limit
                rows.append(Row(key, question_id, " ".join(["purge"] * 5_100), kind))
            continue
        rows.append(Row(key, question_id, _answer(question_id, rng.randint(*words), sources, rng)))
    return rows


def describe(rows: list[Row]) -> str:
    """One line on the class: size, word counts, questions and bad rows."""
    ok = [r.words for r in rows if r.kind == "ok"]
    questions = Counter(r.question_id for r in rows if r.kind == "ok")
    bad = Counter(r.kind for r in rows if r.kind != "ok")
    words = f"{min(ok)}-{max(ok)} words (mean {statistics.mean(ok):.0f})" if ok else "no answers"
    return (f"{len(rows):,} rows: {words}; "
            + ", ".join(f"{q} {c:,}" for q, c in sorted(questions.items()))
            + (f"; {sum(bad.values())} bad ("
               + ", ".join(f"{k} {c}" for k, c in sorted(bad.items())) + ")" if bad else ""))


def write_csv(rows: list[Row], path: Path) -> None:
    """The rows as a CSV in the documented columns, as a teacher's export would hold them."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow((row.key, row.question_id, row.answer))


def api_body(row: Row) -> bytes:
    """The row as the JSON body of a POST to the API."""
    return json.dumps({"question_id": row.question_id, "answer": row.answer}).encode("utf-8")



def hostile_answers() -> list[tuple[str, str]]:
    """``(what it is, answer)`` for the answers an attacker would send (issue 12, defect 1):
    long runs of one character that spaCy's tokeniser splits off one at a time, long single
    tokens, and the word limit filled with punctuation. Each is within the documented limits
    (``MAX_ANSWER_CHARS`` characters, ``MAX_ANSWER_WORDS`` words), so essaycheck must check it."""
    from essaycheck import MAX_ANSWER_CHARS, MAX_ANSWER_WORDS

    chars = MAX_ANSWER_CHARS
    answers = [
        ("16,000 '!'", "!" * 16_000),
        (f"{chars:,} '!'", "!" * chars),
        ("8,000 emoji", "\N{GRINNING FACE}" * 8_000),
        (f"{chars:,} emoji", "\N{GRINNING FACE}" * chars),
        ("one 12,000-character token of '('", "(" * 12_000),
        (f"{chars:,} '('", "(" * chars),
        (f"one {chars:,}-letter word", "a" * chars),
        (f"{MAX_ANSWER_WORDS:,} words of nine '!'", " ".join(["!" * 9] * MAX_ANSWER_WORDS)),
        ("16,000 emoji joined by zero-width joiners",
         "\N{WOMAN}\N{ZERO WIDTH JOINER}\N{PERSONAL COMPUTER}" * 16_000),
        (f"one letter and {chars - 1:,} combining accents",
         "a" + "\N{COMBINING ACUTE ACCENT}" * (chars - 1)),
        (f"{chars // 2:,} '.-'", ".-" * (chars // 2)),
        (f"one {chars:,}-character web address",
         ("http://example.org/" + "a/" * chars)[:chars]),
    ]
    for label, answer in answers:
        assert len(answer) <= chars and len(answer.split()) <= MAX_ANSWER_WORDS, label
    return answers
