"""Suggestions for a rubric's keyword groups, learned from a teacher's marks, point by point.

From marked answers (per-point labels as ``evaluate`` reads ``point:<id>`` columns, or only a
total mark) ``suggest`` proposes, for each point:

- **add**: a word or short phrase (1 to 3 words, lemmatised, as the students wrote it) of answers
  the teacher credited for the point but the rubric missed, rare in answers the teacher did not
  credit; for the keyword group it stands in for (the one those answers leave unmet) or a new
  group;
- **remove**: an alternative of a keyword group that is there in answers the teacher did not
  credit but the rubric did, and rarely in credited ones.

Every candidate is tried: the rubric with the change is fitted on the same pipeline
(``Checker.with_rubrics``), the marked answers are matched again, and the suggestion counts how
many (answer, point) verdicts it fixes and how many it breaks; only those fixing more than they
break are kept, best first. Nothing here changes a rubric: ``apply_suggestion`` returns a new one
when the caller (the teacher) asks for it.

A point counts as made when it is covered or partly made, as ``evaluate`` counts it. Without a
per-point label, a point's label is inferred from the total mark only where that is unambiguous
(full marks, zero, or a mark that leaves one point to account for); suggestions resting on such
inferred labels say so (``inferred``), as their evidence is weaker.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .analysis import Analysis, clean_answer
from .errors import EssaycheckError
from .evaluation import MarkedAnswer
from .feedback import CREDIT
from .feedback import mark as rubric_mark
from .rubric import Rubric, validate_rubric

ADD, REMOVE = "add", "remove"
#: longest phrase proposed, in words
MAX_PHRASE_WORDS = 3
#: candidates tried (each a refit and a re-match) per point and action, the likeliest first
CANDIDATES_PER_POINT = 8
#: longest evidence quote, in characters
QUOTE_CHARS = 160
#: evidence quotes per suggestion
QUOTES = 2
#: most ways of crediting an answer's points tried when inferring them from its total mark
MAX_CREDITINGS = 20_000
#: fewest verdicts a suggestion must fix: one answer alone is an anecdote (any of its words
#: would fix it)
MIN_FIXES = 2


class SuggestionError(EssaycheckError):
    """A suggestion does not fit the rubric it is applied to."""

    code = "suggestion"


class Superseded(EssaycheckError):
    """``suggest`` stopped because its caller said the suggestions are no longer wanted."""

    code = "superseded"


@dataclass(frozen=True)
class Suggestion:
    """One proposed change to a point's keyword groups, with the evidence for it."""

    question_id: str
    point_id: str
    #: "add" (the term into a group) or "remove" (the term from a group)
    action: str
    #: the word or phrase, as a keyword alternative is written
    term: str
    #: index of the keyword group in ``point.keywords``; ``None`` (add only): a new group
    group: int | None
    #: (answer, point) verdicts that would come to agree with the teacher
    fixes: int
    #: (answer, point) verdicts that agree now and would not
    breaks: int
    #: a sentence or two of the marked answers that show the term
    evidence: tuple[str, ...]
    #: some of the verdicts counted were inferred from a total mark: weaker evidence
    inferred: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The suggestion as JSON-ready data."""
        return {"question_id": self.question_id, "point_id": self.point_id,
                "action": self.action, "term": self.term, "group": self.group,
                "fixes": self.fixes, "breaks": self.breaks, "evidence": list(self.evidence),
                "inferred": self.inferred}

    def describe(self, rubric: Rubric | None = None) -> str:
        """The change in words, e.g. "add 'glucose' to group 2 [sugar, sucrose]"."""
        where = "a new keyword group" if self.group is None else f"keyword group {self.group + 1}"
        if rubric is not None and self.group is not None:
            try:
                group = rubric.point(self.point_id).keywords[self.group]
                where += " [" + ", ".join(group) + "]"
            except (KeyError, IndexError):
                pass
        if self.action == ADD:
            return f"add {self.term!r} to {where}"
        return f"remove {self.term!r} from {where}"


# -- applying ------------------------------------------------------------------------------
def apply_suggestion(rubric: Rubric, suggestion: Suggestion) -> Rubric:
    """A new, validated rubric with the suggestion's change made; ``SuggestionError`` when it
    does not fit this rubric."""
    if suggestion.question_id != rubric.id:
        raise SuggestionError(f"the suggestion is for question {suggestion.question_id!r}, "
                              f"not {rubric.id!r}")
    try:
        point = rubric.point(suggestion.point_id)
    except KeyError:
        raise SuggestionError(f"{rubric.id} has no point {suggestion.point_id!r}") from None
    term = " ".join(str(suggestion.term).split())
    if not term:
        raise SuggestionError("the suggestion has no term")
    groups = [list(group) for group in point.keywords]
    index = suggestion.group
    if index is not None and not 0 <= index < len(groups):
        raise SuggestionError(f"{rubric.id}:{point.id} has {len(groups)} keyword group(s); "
                              f"there is no group {index + 1}")
    if suggestion.action == ADD:
        if index is None:
            groups.append([term])
        elif term.lower() not in (alt.lower() for alt in groups[index]):
            groups[index].append(term)
    elif suggestion.action == REMOVE:
        if index is None:
            raise SuggestionError("a removal names the keyword group to remove the term from")
        kept = [alt for alt in groups[index] if alt.lower() != term.lower()]
        if len(kept) == len(groups[index]):
            raise SuggestionError(f"{term!r} is not in keyword group {index + 1} of "
                                  f"{rubric.id}:{point.id} ({', '.join(groups[index])})")
        if kept:
            groups[index] = kept
        else:
            del groups[index]
    else:
        raise SuggestionError(f"unknown action {suggestion.action!r}: use 'add' or 'remove'")
    data = rubric.to_dict()
    position = [p.id for p in rubric.points].index(point.id)
    entry = data["points"][position]
    if groups:
        entry["keywords"] = groups
    else:
        entry.pop("keywords", None)
    return validate_rubric(data, f"{rubric.id} (with a suggestion applied)")


def apply_suggestions(rubric: Rubric, suggestions: Iterable[Suggestion]) -> Rubric:
    """The rubric with several suggestions applied in turn (later group indices are kept
    right when an earlier removal empties a group: such a suggestion is skipped)."""
    result = rubric
    for suggestion in suggestions:
        if suggestion.question_id != rubric.id:
            continue
        try:
            result = apply_suggestion(result, suggestion)
        except SuggestionError:
            continue
    return result


# -- the teacher's labels ------------------------------------------------------------------
#: A teacher's label for a point: a credit (1, 0.5 or 0, as a point's verdict counts in the
#: mark), or ``MADE`` for "credited", partly or fully, as ``evaluate`` reads 1 / yes / covered /
#: partial (it does not tell them apart).
MADE = True
Label = float | bool


@dataclass
class _Row:
    """A marked answer as the suggestions read it."""

    answer: MarkedAnswer
    analysis: Analysis
    lemmas: frozenset[str]
    #: point id -> (the teacher's label, inferred from the total mark)
    labels: dict[str, tuple[Label, bool]]


def _credits(statuses: Sequence[str]) -> list[float]:
    return [CREDIT[status] for status in statuses]


def distance(credit: float, label: Label) -> float:
    """How far a point's verdict (its credit) is from the teacher's label: 0 when they agree."""
    if label is MADE:
        return 0.0 if credit > 0 else 1.0
    return abs(credit - float(label))


def teacher_labels(rubric: Rubric, row: MarkedAnswer, statuses: Sequence[str]
                   ) -> dict[str, tuple[Label, bool]]:
    """Per point, the teacher's label and whether it was inferred from the total mark, for the
    points where it is known: a per-point label (``point_marks``' credit, else ``points``'
    made or not); else, with a total mark, what every way of crediting the points that gives
    that mark agrees on (full marks: every point; zero: none; the rubric's own mark: its
    verdicts; a higher mark: credits at least the rubric's, a lower one at most).
    ``statuses``: the rubric's verdicts, as point statuses."""
    ids = [point.id for point in rubric.points]
    labels: dict[str, tuple[Label, bool]] = {}
    for point_id, value in row.points.items():
        if point_id in ids and value is not None:
            label: Label = row.point_marks.get(point_id, MADE if value else 0.0)
            labels[point_id] = (label, False)
    for point_id, given in row.point_marks.items():
        if point_id in ids and point_id not in labels:
            labels[point_id] = (float(given), False)
    open_ids = [point_id for point_id in ids if point_id not in labels]
    if row.mark is None or not open_ids:
        return labels
    credit = dict(zip(ids, _credits(statuses), strict=True))
    total = sum(point.weight for point in rubric.points) or 1.0
    # within a quarter of the smallest point's worth, two marks are the same mark
    tolerance = min(point.weight for point in rubric.points) / total * rubric.max_score / 4
    given = rubric_mark(rubric, list(statuses))
    if abs(row.mark - given) <= tolerance:
        labels.update({point_id: (credit[point_id], True) for point_id in open_ids})
        return labels
    higher = row.mark > given
    choices = []
    for point_id in ids:
        if point_id in labels:
            known = labels[point_id][0]
            choices.append([credit[point_id]] if known is MADE and credit[point_id] > 0
                           else [1.0, 0.5] if known is MADE else [float(known)])
        else:
            now = credit[point_id]
            choices.append([c for c in (0.0, 0.5, 1.0) if (c >= now if higher else c <= now)])
    if math.prod(len(c) for c in choices) > MAX_CREDITINGS:
        return labels
    status_of = {value: status for status, value in CREDIT.items()}
    fitting = [ways for ways in itertools.product(*choices)
               if abs(rubric_mark(rubric, [status_of[c] for c in ways]) - row.mark)
               <= tolerance]
    for j, point_id in enumerate(ids):
        if point_id not in open_ids or not fitting:
            continue
        seen = {ways[j] for ways in fitting}
        if len(seen) == 1:
            labels[point_id] = (seen.pop(), True)
        elif 0.0 not in seen:
            labels[point_id] = (MADE, True)
    return labels


# -- candidates ----------------------------------------------------------------------------
def _alternative_lemmas(analyzer, alternative: str) -> tuple[tuple[str, ...], bool]:
    """The content lemmas an alternative needs, and whether its last one is a wildcard."""
    prefix = alternative.endswith("*")
    analysis = analyzer.analyse(alternative[:-1] if prefix else alternative)
    indices = [i for i in range(len(analysis)) if analysis.content[i]] or \
        [i for i in range(len(analysis)) if any(c.isalnum() for c in analysis.lemmas[i])]
    lemmas = [analysis.lemmas[i] for i in indices]
    if prefix and indices:
        last = indices[-1]
        lemmas[-1] = analysis.text[analysis.starts[last]:analysis.ends[last]].lower()
    return tuple(lemmas), prefix


def _present(lemmas: tuple[str, ...], prefix: bool, words: frozenset[str]) -> bool:
    """Whether an alternative's lemmas are all among an answer's words."""
    if not lemmas:
        return False
    if prefix:
        *whole, last = lemmas
        return all(w in words for w in whole) and any(w.startswith(last) for w in words)
    return all(w in words for w in lemmas)


def _answer_terms(analysis: Analysis, skip: frozenset[str],
                  skip_prefixes: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """The answer's words and phrases of up to ``MAX_PHRASE_WORDS`` consecutive content words
    (none of them negated, in ``skip`` or starting with one of ``skip_prefixes``), each with
    the character span it covers."""
    terms: dict[str, tuple[int, int]] = {}
    for first, last in analysis.sentences:
        run: list[int] = []
        for i in range(first, last + 1):
            usable = (i < last and analysis.content[i] and not analysis.negated[i]
                      and len(analysis.lemmas[i]) > 1
                      and any(c.isalpha() for c in analysis.lemmas[i])
                      and analysis.lemmas[i] not in skip
                      and not analysis.lemmas[i].startswith(skip_prefixes))
            if usable:
                run.append(i)
                continue
            for start in range(len(run)):
                for size in range(1, MAX_PHRASE_WORDS + 1):
                    if start + size > len(run):
                        break
                    chosen = run[start:start + size]
                    term = " ".join(analysis.lemmas[j] for j in chosen)
                    terms.setdefault(term, (analysis.starts[chosen[0]], analysis.ends[chosen[-1]]))
            run = []
    return terms


def _quote(analysis: Analysis, span: tuple[int, int]) -> str:
    """The sentence of the answer holding a character span, cut to ``QUOTE_CHARS``."""
    start, end = span
    for first, last in analysis.sentences:
        a, b = analysis.starts[first], analysis.ends[last - 1]
        if a <= start < b or first == last - 1 and a <= start <= b:
            text = " ".join(analysis.text[a:b].split())
            if len(text) > QUOTE_CHARS:
                offset = max(0, min(start - a - QUOTE_CHARS // 3, len(text) - QUOTE_CHARS))
                text = ("…" if offset else "") + text[offset:offset + QUOTE_CHARS].strip() + "…"
            return text
    return " ".join(analysis.text[start:end].split())


# -- suggesting ----------------------------------------------------------------------------
def _statuses(checker, rubric: Rubric, rows: Sequence[_Row]) -> list[list[str]]:
    matcher = checker.matcher(rubric.id)
    return [[match.status for match in matcher.match(row.analysis)] for row in rows]


def _tally(rubric: Rubric, rows: Sequence[_Row], before: list[list[float]],
           after: list[list[float]]) -> tuple[int, int, bool, list[int]]:
    """Fixes (verdicts moved towards the teacher's label), breaks (moved away), whether any of
    them rest on an inferred label, and the rows with a fix."""
    fixes = breaks = 0
    inferred = False
    fixed_rows = []
    ids = [point.id for point in rubric.points]
    for r, row in enumerate(rows):
        for j, point_id in enumerate(ids):
            known = row.labels.get(point_id)
            if known is None or before[r][j] == after[r][j]:
                continue
            label, guessed = known
            change = distance(after[r][j], label) - distance(before[r][j], label)
            if change < 0:
                fixes += 1
                if r not in fixed_rows:
                    fixed_rows.append(r)
            elif change > 0:
                breaks += 1
            inferred = inferred or (guessed and change != 0)
    return fixes, breaks, inferred, fixed_rows


def suggest(checker, rubric: Rubric, marked: Iterable[MarkedAnswer], limit: int = 5,
            min_fixes: int = MIN_FIXES, stop: Callable[[], bool] | None = None
            ) -> list[Suggestion]:
    """Suggested keyword changes for ``rubric`` from the teacher's marks in ``marked`` (rows
    for other questions are ignored), at most ``limit`` per point: in rubric point order,
    each point's best first (most fixes net of breaks); only those that fix more verdicts than
    they break, and at least ``min_fixes``. ``checker`` is any fitted Checker: its pipeline is
    reused. ``stop`` is asked before each candidate is tried (a refit and a re-match); when it
    says True, ``Superseded`` is raised, so that a caller whose rubric has changed meanwhile
    does not wait for, or share the processor with, suggestions it will throw away."""
    fitted = checker.with_rubrics([rubric])
    analyzer = fitted.analyzer
    matcher = fitted.matcher(rubric.id)
    usable = []
    for row in marked:
        if row.question_id != rubric.id:
            continue
        try:
            usable.append((clean_answer(row.answer), row))
        except EssaycheckError:
            continue  # an answer that cannot be checked teaches nothing
    rows: list[_Row] = []
    for analysis, answer in analyzer.analyse_many(usable):
        words = frozenset(matcher.spell(analysis.lemmas[i]) for i in range(len(analysis))
                          if analysis.content[i] and not analysis.negated[i])
        rows.append(_Row(answer, analysis, words, {}))
    if not rows:
        return []
    statuses = _statuses(fitted, rubric, rows)
    for read, found in zip(rows, statuses, strict=True):
        read.labels = teacher_labels(rubric, read.answer, found)
    before = [_credits(found) for found in statuses]

    suggestions: list[Suggestion] = []
    for j, point in enumerate(rubric.points):
        labelled = [(r, row.labels[point.id][0]) for r, row in enumerate(rows)
                    if point.id in row.labels]
        # under-credited: the teacher gave more than the rubric; over-credited: less
        missed = [r for r, label in labelled if distance(before[r][j], label) > 0
                  and (label is MADE or before[r][j] < float(label))]
        wrong = [r for r, label in labelled if label is not MADE
                 and before[r][j] > float(label)]
        if not missed and not wrong:
            continue  # the rubric already agrees with the teacher on this point
        credited = [r for r, label in labelled if label is MADE or float(label) > 0]
        uncredited = [r for r, label in labelled if label is not MADE and float(label) == 0]
        candidates = _add_candidates(fitted, rubric, j, rows, uncredited, missed, min_fixes) \
            + _remove_candidates(analyzer, rubric, j, rows, credited, wrong)
        tried: dict[tuple[str, str], Suggestion] = {}
        for candidate, quotes_from in candidates:
            if stop is not None and stop():
                raise Superseded("stopped: the suggestions were no longer wanted")
            try:
                changed = apply_suggestion(rubric, candidate)
            except EssaycheckError:
                continue
            after = [_credits(found) for found in
                     _statuses(fitted.with_rubrics([changed]), changed, rows)]
            fixes, breaks, inferred, fixed_rows = _tally(rubric, rows, before, after)
            if fixes <= breaks or fixes < min_fixes:
                continue
            evidence = _evidence(rows, fixed_rows or quotes_from, candidate, analyzer)
            found_one = replace(candidate, fixes=fixes, breaks=breaks, evidence=evidence,
                                inferred=inferred)
            key = (candidate.action, candidate.term)
            best = tried.get(key)
            if best is None or _rank(found_one) < _rank(best):
                tried[key] = found_one
        suggestions.extend(sorted(tried.values(), key=_rank)[:limit])
    return suggestions


def _rank(suggestion: Suggestion) -> tuple:
    return (-(suggestion.fixes - suggestion.breaks), -suggestion.fixes,
            suggestion.action != ADD, len(suggestion.term.split()), suggestion.term,
            # an existing group before a new one: it changes the point less
            suggestion.group if suggestion.group is not None else len(suggestion.term) + 10**6)


def _evidence(rows: Sequence[_Row], indices: Sequence[int], suggestion: Suggestion,
              analyzer) -> tuple[str, ...]:
    """Quotes of the sentences that hold the term, from the first answers given."""
    lemmas, prefix = _alternative_lemmas(analyzer, suggestion.term)
    quotes: list[str] = []
    for r in indices:
        analysis = rows[r].analysis
        for i in range(len(analysis)):
            lemma = analysis.lemmas[i]
            if (lemma.startswith(lemmas[-1]) if prefix and lemmas else lemma in lemmas[:1]):
                quote = _quote(analysis, (analysis.starts[i], analysis.ends[i]))
                if quote not in quotes:
                    quotes.append(quote)
                break
        if len(quotes) >= QUOTES:
            break
    return tuple(quotes)


def _add_candidates(checker, rubric: Rubric, j: int, rows: Sequence[_Row],
                    uncredited: list[int], missed: list[int], min_fixes: int = 1
                    ) -> list[tuple[Suggestion, list[int]]]:
    """Words and phrases of the answers the rubric missed, rare where the teacher gave no
    credit, each for the group those answers leave unmet (and for a new group)."""
    if not missed:
        return []
    point = rubric.points[j]
    matcher = checker.matcher(rubric.id)
    analyzer = checker.analyzer
    groups = [[_alternative_lemmas(analyzer, alt) for alt in group] for group in point.keywords]
    have = {lemma for group in groups for lemmas, _ in group for lemma in lemmas}
    # another point's keywords play that point's role, not this one's
    others = {lemma for k, other in enumerate(rubric.points) if k != j
              for group in other.keywords for alt in group
              for lemma in _alternative_lemmas(analyzer, alt)[0]}
    skip = frozenset(matcher.question_words) | frozenset(have) | frozenset(others)
    # a wildcard alternative (Hungar*, relax*), this point's or another's, already stands for
    # every word it starts: Hungary is the reversal point's evidence, not a new word for this one
    wildcards = (_alternative_lemmas(analyzer, alt) for other in rubric.points
                 for group in other.keywords for alt in group if alt.endswith("*"))
    prefixes = tuple(sorted({lemmas[-1] for lemmas, prefix in wildcards if prefix and lemmas}))
    in_missed: dict[str, list[int]] = {}
    for r in missed:
        for term in _answer_terms(rows[r].analysis, skip, prefixes):
            in_missed.setdefault(term, []).append(r)
    scored = []
    for term, where in in_missed.items():
        words = term.split()
        against = sum(1 for r in uncredited if all(w in rows[r].lemmas for w in words))
        if len(where) <= against or len(where) < min_fixes:
            continue
        scored.append(((-(len(where) - against), -len(where), len(words), term), term, where))
    scored.sort()
    candidates = []
    for _, term, where in scored[:CANDIDATES_PER_POINT]:
        unmet = [0] * len(groups)
        for r in where:
            for g, group in enumerate(groups):
                if not any(_present(lemmas, prefix, rows[r].lemmas) for lemmas, prefix in group):
                    unmet[g] += 1
        places: list[int | None] = [None]
        if groups and max(unmet) > 0:
            places.insert(0, max(range(len(groups)), key=lambda g: (unmet[g], -g)))
        for place in places:
            candidates.append((Suggestion(rubric.id, point.id, ADD, term, place, 0, 0, ()),
                               where))
    return candidates


def _remove_candidates(analyzer, rubric: Rubric, j: int, rows: Sequence[_Row],
                       credited: list[int], wrong: list[int]
                       ) -> list[tuple[Suggestion, list[int]]]:
    """Alternatives there in answers the rubric credited and the teacher did not, and rarely
    in credited ones (never a group's only alternative: that would drop the group)."""
    if not wrong:
        return []
    point = rubric.points[j]
    scored = []
    for g, group in enumerate(point.keywords):
        if len(group) < 2:
            continue
        for alternative in group:
            lemmas, prefix = _alternative_lemmas(analyzer, alternative)
            where = [r for r in wrong if _present(lemmas, prefix, rows[r].lemmas)]
            needed = sum(1 for r in credited if _present(lemmas, prefix, rows[r].lemmas))
            if where and len(where) > needed:
                scored.append(((-(len(where) - needed), -len(where), alternative), g,
                               alternative, where))
    scored.sort()
    return [(Suggestion(rubric.id, point.id, REMOVE, alternative, g, 0, 0, ()), where)
            for _, g, alternative, where in scored[:CANDIDATES_PER_POINT]]


# -- every question at once, for the command line -----------------------------------------
@dataclass(frozen=True)
class QuestionSuggestions:
    """The suggestions for one question, and how many marked answers they rest on."""

    question_id: str
    answers: int
    suggestions: tuple[Suggestion, ...]


def suggest_all(checker, rows: Sequence[MarkedAnswer], limit: int = 5
                ) -> list[QuestionSuggestions]:
    """``suggest`` for every rubric of a fitted Checker that has marked answers in ``rows``,
    in the checker's question order."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.question_id] = counts.get(row.question_id, 0) + 1
    return [QuestionSuggestions(question_id, counts[question_id], tuple(
                suggest(checker, checker.rubric(question_id), rows, limit)))
            for question_id in checker.question_ids if question_id in counts]


def numbered(report: Sequence[QuestionSuggestions]) -> list[tuple[int, Suggestion]]:
    """Every suggestion of a report with its number, from 1, as ``format_suggestions`` lists
    them (the numbers ``calibrate --suggest --apply`` takes)."""
    items = [s for question in report for s in question.suggestions]
    return list(enumerate(items, start=1))


def format_suggestions(report: Sequence[QuestionSuggestions], rubrics) -> str:
    """The suggestions for a terminal: per question and point, numbered, ranked, with fixes,
    breaks and a quote or two. ``rubrics``: question id -> Rubric (to name the groups)."""
    lines = ["Suggested keyword changes, learned from the teacher's marks. Each was tried:",
             "'fixes' and 'breaks' count the marked answers' point verdicts that would come",
             "to agree with the teacher, or stop agreeing.", ""]
    number = 0
    weaker = False
    for question in report:
        lines.append(f"{question.question_id} ({question.answers} marked answer"
                     f"{'' if question.answers == 1 else 's'})")
        if not question.suggestions:
            lines.append("  nothing to suggest: no change tried fixes more verdicts than it "
                         "breaks")
        point_id = None
        for suggestion in question.suggestions:
            number += 1
            if suggestion.point_id != point_id:
                point_id = suggestion.point_id
                lines.append(f"  point {point_id}")
            flag = "  *" if suggestion.inferred else ""
            weaker = weaker or suggestion.inferred
            change = suggestion.describe(rubrics.get(question.question_id))
            lines.append(f"    {number:>2}. {change}: fixes {suggestion.fixes}, "
                         f"breaks {suggestion.breaks}{flag}")
            for quote in suggestion.evidence:
                lines.append(f"        \u201c{quote}\u201d")
        lines.append("")
    if weaker:
        lines.append("* counted in part on point verdicts inferred from a total mark (no "
                     "point:<id> column): weaker evidence.")
    return "\n".join(lines).rstrip()


def suggestions_dict(report: Sequence[QuestionSuggestions]) -> dict[str, Any]:
    """The suggestions as JSON-ready data, each with its number."""
    numbers = {id(s): n for n, s in numbered(report)}
    return {"questions": [
        {"question_id": q.question_id, "answers": q.answers,
         "suggestions": [{"number": numbers[id(s)], **s.to_dict()} for s in q.suggestions]}
        for q in report]}
