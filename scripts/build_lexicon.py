"""Build essaycheck's lexicon table (``src/essaycheck/data/lexicon.tsv.gz``) from WordNet 3.0.

The table gives, for each English word (a lower-case lemma of one or two words), the
alternatives a student might write instead, as ``essaycheck.lexicon.Lexicon`` serves them:

- **senses**, each a WordNet synset with the word's *share* of it: the sense's tag count in
  WordNet's sense-tagged corpus (``cntlist.rev``), smoothed, over the word's total,
  ``(count + 0.5) / (total + 0.5 * senses)``, so a caller can keep the dominant senses. Every
  member of a synset carries its own share of it, so a synonym's score can say how often the
  synonym itself means that sense. Senses with a zero tag count are dropped unless they are
  the word's first sense of their part of speech (WordNet orders senses by frequency);
- the **word family**: WordNet's derivational links (``+``), pertainyms (``\\``) and
  participles (``<``), two hops deep (legitimacy, legitimate, legitimation; reform, reformer,
  reformist), single words only, plus members of the same synset that share the word's first
  six letters (legitimate, legitimize, legitimatize), each scored by the geometric mean of the
  shares of the two senses that the link joins (two hops: the weaker link's score);
- **spellings**: British and American forms (legitimise/legitimize, labour/labor), from the
  spelling table of spacy-lookups-data (an essaycheck dependency). A British form answers as
  its American form (WordNet lacks most British forms, and lists others in only some senses:
  revitalise);
- **frequency**: how often the word is written (spacy-lookups-data's English unigram
  log-probabilities), so a caller can rank the alternatives a student is likely to write first;
- weaker relations: each kept sense's hypernyms (nouns and verbs: fright -> fear -> emotion)
  and, for adjectives, its similar-to synsets (legitimate -> valid).

Pruned: collocations of three or more words; named individuals (synsets that are instances,
``@i``: Stalin, Moscow), which WordNet only lists as proper nouns; glosses and examples.

Format: one gzip'd UTF-8 text file (written with a zero timestamp, so a rebuild is byte for
byte the same). Line 1 is a header (``essaycheck-lexicon``, format version, counts); then one
line per word (sorted; the line number is the word's id); one record per word in the same
order, ``senses<TAB>family<TAB>spellings<TAB>frequency``, where senses are ``synset:share``,
family members ``word:score``, spellings word ids (a British form's senses are ``=id``: look
the American form ``id`` up instead) and frequency minus ten times the word's natural-log
frequency (empty if unknown); then one line per synset,
``pos<TAB>members<TAB>hypernyms<TAB>similar``, members as ``word:share``. Shares and scores are
integers out of 10,000. Records are parsed only when looked up, so loading is splitting lines.

Size: 2.3 MB gzip'd, 7.5 MB of text (128,367 words, 96,535 synsets); ``get_lexicon()`` loads
it in about 0.2 s; the build takes 20-60 s.

Licence: WordNet 3.0 is Copyright 2006 by Princeton University, under a licence that allows
use, copying and redistribution provided its notice appears on all copies: the script writes
that notice, from Debian's copyright file, as ``src/essaycheck/data/LICENSE-wordnet.txt``
beside the table (with a line on the spellings and frequencies, MIT-licensed in
spacy-lookups-data).

Needs WordNet 3.0's database files as Debian ships them (``/usr/share/wordnet``):

    sudo apt-get install wordnet-base          # Debian / Ubuntu; nothing is downloaded here
    python scripts/build_lexicon.py            # writes src/essaycheck/data/
    python scripts/build_lexicon.py --out /tmp/lexicon --wordnet /usr/share/wordnet
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORDNET = Path("/usr/share/wordnet")
DEFAULT_COPYRIGHT = Path("/usr/share/doc/wordnet-base/copyright")
DEFAULT_OUT = ROOT / "src" / "essaycheck" / "data"
TABLE_NAME = "lexicon.tsv.gz"
LICENCE_NAME = "LICENSE-wordnet.txt"
FORMAT_VERSION = 2
INSTALL_HINT = ("install WordNet 3.0's database with `sudo apt-get install wordnet-base` "
                "(Debian/Ubuntu), or pass --wordnet DIR holding index.noun, data.noun, ... "
                "and cntlist.rev")

POS_FILES = (("noun", "n"), ("verb", "v"), ("adj", "a"), ("adv", "r"))
#: cntlist.rev's sense keys name the part of speech by number; 5 is an adjective satellite.
SENSE_KEY_POS = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}
FAMILY_POINTERS = frozenset({"+", "\\", "<"})
HYPERNYM = "@"
INSTANCE_HYPERNYM = "@i"
SIMILAR_TO = "&"
MAX_WORDS_PER_TERM = 2
SMOOTHING = 0.5
SCALE = 10_000
#: same-synset words sharing this many first letters are one family (legitimate, legitimize).
FAMILY_PREFIX = 6


@dataclass
class Synset:
    """One line of a WordNet data file: its words in order and its pointers."""

    pos: str
    words: list[str]
    #: (symbol, target synset key, source word number, target word number); 0 = whole synset
    pointers: list[tuple[str, tuple[str, str], int, int]]

    @property
    def is_instance(self) -> bool:
        """True for a named individual (Stalin, Moscow): the synset is an instance of another."""
        return any(symbol == INSTANCE_HYPERNYM for symbol, _, _, _ in self.pointers)


def term(word: str) -> str:
    """A WordNet word form as a table word: lower case, spaces for underscores, no marker."""
    if word.endswith(")"):  # adjective position markers: true(a), galore(ip)
        word = word[:word.rindex("(")]
    return word.replace("_", " ").lower()


def read_synsets(wordnet: Path) -> dict[tuple[str, str], Synset]:
    """Every synset of the four data files, keyed by (part of speech, byte offset)."""
    synsets: dict[tuple[str, str], Synset] = {}
    for name, pos in POS_FILES:
        with open(wordnet / f"data.{name}", encoding="latin-1") as lines:
            for line in lines:
                if line.startswith("  "):  # the licence header
                    continue
                fields = line.split(" | ", 1)[0].split()
                count = int(fields[3], 16)
                words = [term(fields[4 + 2 * i]) for i in range(count)]
                at = 4 + 2 * count
                pointers = []
                for _ in range(int(fields[at])):
                    symbol, offset, target_pos, source_target = fields[at + 1:at + 5]
                    target = ("a" if target_pos == "s" else target_pos, offset)
                    pointers.append((symbol, target, int(source_target[:2], 16),
                                     int(source_target[2:], 16)))
                    at += 4
                synsets[(pos, fields[0])] = Synset(pos, words, pointers)
    return synsets


def read_senses(wordnet: Path) -> dict[str, list[tuple[str, str]]]:
    """Each lemma's senses in WordNet's order (nouns, verbs, adjectives, adverbs; by frequency)."""
    senses: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, pos in POS_FILES:
        with open(wordnet / f"index.{name}", encoding="latin-1") as lines:
            for line in lines:
                if line.startswith("  "):
                    continue
                fields = line.split()
                count = int(fields[2])
                senses[term(fields[0])].extend((pos, offset) for offset in fields[-count:])
    return senses


def read_tag_counts(wordnet: Path) -> dict[tuple[str, str, int], int]:
    """Tag counts by (lemma, part of speech, sense number), from cntlist.rev."""
    counts: dict[tuple[str, str, int], int] = {}
    with open(wordnet / "cntlist.rev", encoding="latin-1") as lines:
        for line in lines:
            key, number, count = line.split()
            lemma, lex_sense = key.split("%", 1)
            counts[(term(lemma), SENSE_KEY_POS[lex_sense[0]], int(number))] = int(count)
    return counts


def read_spacy_table(name: str) -> dict[str, float | str]:
    """One of spacy-lookups-data's English tables (an essaycheck dependency)."""
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / f"en_{name}.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        table: dict[str, float | str] = json.load(stream)
    return table


def read_spellings() -> list[tuple[str, str]]:
    """(British, American) spelling pairs from spacy-lookups-data's English norm table."""
    norms = {key: str(value) for key, value in read_spacy_table("lexeme_norm").items()}
    pairs = []
    for british, american in norms.items():
        british, american = british.strip().lower(), american.strip().lower()
        # The table also normalises slang (cos -> because): keep pairs that spell one word.
        if (british != american and british[:2] == american[:2]
                and abs(len(british) - len(american)) <= 2
                and british.replace("-", "").isalpha() and american.replace("-", "").isalpha()):
            pairs.append((british, american))
    return sorted(pairs)


def log_frequencies(words: list[str]) -> dict[str, float]:
    """Each word's natural-log frequency from spacy-lookups-data's English unigram table; a
    two-word term gets its rarer word's, less one (a phrase is rarer than its words)."""
    probabilities = read_spacy_table("lexeme_prob")
    frequencies = {}
    for word in words:
        parts = word.split()
        known = [float(probabilities[part]) for part in parts if part in probabilities]
        if len(known) == len(parts):
            frequencies[word] = min(known) - (len(parts) - 1)
    return frequencies


def common_prefix(a: str, b: str) -> int:
    """How many first letters two words share."""
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


def build(wordnet: Path) -> str:
    """The table's text, from WordNet's files in ``wordnet``."""
    synsets = read_synsets(wordnet)
    index = read_senses(wordnet)
    counts = read_tag_counts(wordnet)

    # Each word's senses with their smoothed shares; named individuals left out.
    shares: dict[str, list[tuple[tuple[str, str], float, bool]]] = {}
    for word, keys in index.items():
        if len(word.split()) > MAX_WORDS_PER_TERM:
            continue
        numbered = []
        seen_pos: set[str] = set()
        number_in_pos: dict[str, int] = defaultdict(int)
        for key in keys:
            number_in_pos[key[0]] += 1
            if synsets[key].is_instance:
                continue
            count = counts.get((word, key[0], number_in_pos[key[0]]), 0)
            first = key[0] not in seen_pos
            seen_pos.add(key[0])
            numbered.append((key, count, first))
        if not numbered:
            continue
        total = sum(count for _, count, _ in numbered) + SMOOTHING * len(numbered)
        shares[word] = [(key, (count + SMOOTHING) / total, count > 0 or first)
                        for key, count, first in numbered]
    share_of = {(word, key): share for word, senses in shares.items()
                for key, share, _ in senses}

    kept_synsets = {key for senses in shares.values() for key, _, kept in senses if kept}
    weak_targets = {target for key in kept_synsets
                    for symbol, target, _, _ in synsets[key].pointers
                    if symbol in (HYPERNYM, SIMILAR_TO) and not synsets[target].is_instance}
    synset_keys = sorted(kept_synsets | weak_targets)

    # The word family, one hop: derivational links from any sense, and same-synset look-alikes.
    links: dict[str, dict[str, float]] = defaultdict(dict)

    def link(word: str, other: str, score: float) -> None:
        # Only single words: a compound (admission fee, publishing house) names another thing.
        if (other != word and other in shares and " " not in other and " " not in word
                and score > links[word].get(other, 0.0)):
            links[word][other] = score

    for word, senses in shares.items():
        for key, share, _ in senses:
            synset = synsets[key]
            for position, member in enumerate(synset.words, 1):
                if member != word:
                    if common_prefix(word, member) >= FAMILY_PREFIX:
                        link(word, member, math.sqrt(share * share_of.get((member, key), 0.0)))
                    continue
                for symbol, target, source, target_number in synset.pointers:
                    if symbol in FAMILY_POINTERS and source == position and target_number:
                        other = synsets[target].words[target_number - 1]
                        # Both senses count: reform -> reformatory is its rare sense of
                        # reform; legitimate -> legitimacy goes through legitimate's rare verb
                        # sense but legitimacy's dominant one.
                        link(word, other, math.sqrt(share * share_of.get((other, target), 0.0)))

    spelling_pairs = read_spellings()
    spellings: dict[str, set[str]] = defaultdict(set)
    for british, american in spelling_pairs:
        if american in shares or british in shares:
            spellings[british].add(american)
            spellings[american].add(british)
    # Two-word terms get the spellings of their words (labor camp, labour camp).
    single = dict(spellings)
    for word in shares:
        parts = word.split()
        if len(parts) == 2:
            for i, part in enumerate(parts):
                for other in sorted(single.get(part, ())):
                    variant = " ".join(parts[:i] + [other] + parts[i + 1:])
                    spellings[word].add(variant)
                    spellings[variant].add(word)

    known = set(shares)
    words = sorted(known | {word for word, others in spellings.items() if others & known})
    word_id = {word: i for i, word in enumerate(words)}
    synset_id = {key: i for i, key in enumerate(synset_keys)}

    def scaled(value: float) -> int:
        return max(1, round(value * SCALE))

    # A British form answers as its American one (revitalise as revitalize), even where
    # WordNet lists the British form too: it does so in only some of the senses.
    american_of: dict[str, str] = {}
    for british, american in spelling_pairs:
        if american in shares and british not in american_of:
            american_of[british] = american

    frequencies = log_frequencies(words)

    def frequency(word: str) -> str:
        return str(round(-frequencies[word] * 10)) if word in frequencies else ""

    records = []
    for word in words:
        if word in american_of:
            records.append("\t".join((f"={word_id[american_of[word]]}", "", ",".join(
                str(word_id[other]) for other in sorted(spellings[word]) if other in word_id),
                frequency(word))))
            continue
        kept_senses = sorted(((key, share) for key, share, kept in shares.get(word, ()) if kept),
                             key=lambda item: -item[1])  # stable: ties keep WordNet's order
        family: dict[str, float] = dict(links.get(word, {}))
        for other, score in links.get(word, {}).items():
            for second, second_score in links.get(other, {}).items():
                # a chain of two links is as strong as its weaker link
                if second != word and min(score, second_score) > family.get(second, 0.0):
                    family[second] = min(score, second_score)
        own_spellings = spellings.get(word, set())
        family_items = sorted(((other, score) for other, score in family.items()
                               if other not in own_spellings),
                              key=lambda item: (-scaled(item[1]), item[0]))
        records.append("\t".join((
            ",".join(f"{synset_id[key]}:{scaled(share)}" for key, share in kept_senses),
            ",".join(f"{word_id[other]}:{scaled(score)}" for other, score in family_items),
            ",".join(str(word_id[other]) for other in sorted(own_spellings) if other in word_id),
            frequency(word),
        )))

    synset_lines = []
    for key in synset_keys:
        synset = synsets[key]
        members = []
        for member in dict.fromkeys(synset.words):
            if member in word_id and (member, key) in share_of:
                members.append(f"{word_id[member]}:{scaled(share_of[(member, key)])}")
        hypernyms, similar = [], []
        if key in kept_synsets:
            for symbol, target, _, _ in synset.pointers:
                if target in synset_id and symbol == HYPERNYM:
                    hypernyms.append(str(synset_id[target]))
                elif target in synset_id and symbol == SIMILAR_TO:
                    similar.append(str(synset_id[target]))
        synset_lines.append("\t".join((synset.pos, ",".join(members), ",".join(hypernyms),
                                       ",".join(similar))))

    header = (f"essaycheck-lexicon\t{FORMAT_VERSION}\twords={len(words)}"
              f"\tsynsets={len(synset_keys)}\tsource=WordNet 3.0")
    return "\n".join([header, *words, *records, *synset_lines]) + "\n"


def licence_notice(copyright_file: Path) -> str:
    """The WordNet 3.0 licence as Debian's copyright file states it, with what the table is."""
    text = copyright_file.read_text(encoding="utf-8")
    start = text.index("License: WordNet3.0")
    paragraph = text[start:].split("\n\n", 1)[0].splitlines()[1:]
    body = "\n".join("" if line.strip() == "." else line[1:] for line in paragraph)
    return (
        "lexicon.tsv.gz in this folder is derived from WordNet 3.0 (Princeton University) by\n"
        "scripts/build_lexicon.py in the essaycheck repository. Its British/American spelling\n"
        "pairs and word frequencies come from the English norm and probability tables of\n"
        "spacy-lookups-data (MIT licence).\n\n"
        "WordNet Release 3.0\n\n" + body.strip() + "\n")


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so it is never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the table is for everyone
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main(argv: list[str] | None = None) -> int:
    """Build the table and its licence notice into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wordnet", type=Path, default=DEFAULT_WORDNET,
                        help=f"WordNet 3.0 database folder (default {DEFAULT_WORDNET})")
    parser.add_argument("--copyright", type=Path, default=DEFAULT_COPYRIGHT,
                        help=f"Debian's copyright file holding the licence "
                             f"(default {DEFAULT_COPYRIGHT})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for lexicon.tsv.gz and LICENSE-wordnet.txt "
                             "(default src/essaycheck/data)")
    args = parser.parse_args(argv)
    needed = [args.wordnet / f"{kind}.{name}" for name, _ in POS_FILES
              for kind in ("index", "data")] + [args.wordnet / "cntlist.rev", args.copyright]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        print(f"build_lexicon: {missing[0]} is missing"
              f"{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}: "
              f"{INSTALL_HINT}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    text = build(args.wordnet)
    table = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
    write_atomically(args.out / TABLE_NAME, table)
    write_atomically(args.out / LICENCE_NAME, licence_notice(args.copyright).encode("utf-8"))
    header = text.split("\n", 1)[0].split("\t")
    print(f"wrote {args.out / TABLE_NAME}: {len(table) / 1e6:.2f} MB gzip'd "
          f"({len(text) / 1e6:.1f} MB of text), {header[2]}, {header[3]}, "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
