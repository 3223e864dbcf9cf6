"""What the lexicon proposes for every keyword of the shipped rubrics, against their curation.

For each keyword of ``rubric/*.yaml`` (lemmatised as the matcher lemmatises it, ``*`` dropped),
the top alternatives ``Lexicon.alternatives`` gives at its defaults, each marked with whether
the rubric's curators put it in the same keyword group (``*`` entries match as prefixes). That
mark is a lower bound on precision (a curated group is not every word a student might use), and
the share of a group's curated words that the lexicon proposes from the group's other words is
a lower bound on recall. Writes Markdown: a summary, then one table per keyword group.

    python scripts/lexicon_sample.py                         # prints it
    python scripts/lexicon_sample.py --out /work/coord/LEXICON_SAMPLE.md
    python scripts/lexicon_sample.py --top 5 --weak          # hypernyms and similar-to too
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from essaycheck.analysis import build_pipeline, normalise_lemma  # noqa: E402  (path set above)
from essaycheck.lexicon import get_lexicon  # noqa: E402  (path set above)
from essaycheck.loader import load_directory  # noqa: E402  (path set above)


def lemmatise(nlp, keyword: str) -> str:
    """The keyword's lemma as the matcher sees it: token lemmas joined by spaces."""
    return " ".join(normalise_lemma(token.lemma_ or token.text)
                    for token in nlp(keyword.rstrip("*")) if not token.is_space)


def in_group(word: str, group: list[tuple[str, bool]]) -> bool:
    """Whether a curated group holds ``word``: as a lemma, or under a ``*`` prefix."""
    return any(word.startswith(entry) if prefix else word == entry for entry, prefix in group)


def sample(directory: Path, top: int, weak: bool) -> str:
    """The Markdown report for the rubrics in ``directory``."""
    nlp = build_pipeline()
    lexicon = get_lexicon()
    keywords = known = proposed = confirmed = stems = 0
    recalled = curated = 0
    sections = []
    for rubric in load_directory(directory):
        for point in rubric.points:
            for number, raw_group in enumerate(point.keywords, 1):
                group = [(lemmatise(nlp, k), k.endswith("*")) for k in raw_group]
                rows = []
                reached: set[int] = set()
                for keyword, (lemma, prefix) in zip(raw_group, group, strict=True):
                    if prefix and lemma not in lexicon:  # a stem (rehabilit*), not a word
                        stems += 1
                        rows.append(f"| {keyword} | (a stem, not a word) |")
                        continue
                    keywords += 1
                    alternatives = lexicon.alternatives(lemma, limit=top, weak=weak)
                    known += lemma in lexicon
                    cells = []
                    for alternative in alternatives:
                        proposed += 1
                        hit = in_group(alternative.word, group)
                        confirmed += hit
                        cells.append(f"{'**' if hit else ''}{alternative.word}"
                                     f"{'**' if hit else ''} ({alternative.kind[:3]} "
                                     f"{alternative.score:.2f}x{alternative.commonness:.2f})")
                        for i, (entry, prefix) in enumerate(group):
                            if entry != lemma and in_group(alternative.word, [(entry, prefix)]):
                                reached.add(i)
                    shown = keyword if lemma == keyword.lower() else f"{keyword} ({lemma})"
                    status = ", ".join(cells) if cells else \
                        ("(known, nothing above the cut)" if lemma in lexicon else "(unknown)")
                    rows.append(f"| {shown} | {status} |")
                recalled += len(reached)
                curated += len(group)
                sections.append(f"\n### {rubric.id} / {point.id} / group {number}: "
                                f"{len(reached)} of {len(group)} curated words proposed\n\n"
                                f"| keyword | top {top} proposals |\n|---|---|\n"
                                + "\n".join(rows))
    summary = (
        f"# What the lexicon proposes for the shipped rubrics' keywords\n\n"
        f"`python scripts/lexicon_sample.py --top {top}{' --weak' if weak else ''}`: "
        f"`Lexicon.alternatives(lemma, limit={top}{', weak=True' if weak else ''})` at its "
        f"defaults (two dominant senses, share >= 0.1, score >= 0.05, no context), ranked by "
        f"score x commonness (both shown). **Bold**: the curators put the word in the same "
        f"group (a lower bound on precision). Kinds: spe(lling), fam(ily), syn(onym), "
        f"hyp(ernym), sim(ilar).\n\n"
        f"- {keywords + stems} keywords, {stems} of them stems (`rehabilit*`) left out below; "
        f"of the other {keywords}, {known} ({known / keywords:.0%}) are words of the table "
        f"(the rest are mostly names, phrases of 3+ words and inflected forms of phrases);\n"
        f"- {proposed} proposals, {proposed / keywords:.1f} per keyword; {confirmed} "
        f"({confirmed / max(proposed, 1):.0%}) are in the keyword's curated group;\n"
        f"- of the curated groups' {curated} words, {recalled} ({recalled / curated:.0%}) are "
        f"proposed from another word of the same group.\n")
    return summary + "\n".join(sections) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print or write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rubrics", type=Path, default=ROOT / "rubric")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--weak", action="store_true", help="include hypernyms and similar-to")
    parser.add_argument("--out", type=Path, help="write Markdown here instead of printing it")
    args = parser.parse_args(argv)
    report = sample(args.rubrics, args.top, args.weak)
    if args.out:
        temporary = args.out.with_name(f".{args.out.name}.tmp")
        temporary.write_text(report, encoding="utf-8")
        temporary.replace(args.out)
    else:
        print(report, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
