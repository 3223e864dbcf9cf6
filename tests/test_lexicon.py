"""The lexicon table: it ships in the package, loads without network, holds the pairs a student
would use, ranks the dominant sense first, and is what scripts/build_lexicon.py builds."""

from __future__ import annotations

import gzip
import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from essaycheck.lexicon import (
    CONTEXT_SHARE,
    KINDS,
    MIN_COMMONNESS,
    Lexicon,
    get_lexicon,
    read_table,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "essaycheck" / "data"
WORDNET = Path("/usr/share/wordnet")


def load_build_script():
    """scripts/build_lexicon.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("build_lexicon",
                                                  ROOT / "scripts" / "build_lexicon.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    """The packaged lexicon, as the process shares it."""
    return get_lexicon()


def test_table_loads_from_the_package_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the lexicon tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    table = Lexicon(read_table())
    assert len(table) > 100_000
    assert "legitimacy" in table and "qwertyuiop" not in table


def test_licence_notice_ships_beside_the_table():
    notice = (DATA / "LICENSE-wordnet.txt").read_text(encoding="utf-8")
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in notice
    assert "lexicon.tsv.gz" in notice


def test_importing_essaycheck_does_not_load_the_table():
    code = ("import essaycheck, essaycheck.lexicon as lexicon; "
            "print(lexicon.get_lexicon.cache_info().currsize)")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert output.strip() == "0"


def test_get_lexicon_is_loaded_once(lexicon):
    assert get_lexicon() is lexicon


def test_word_family(lexicon):
    assert "legitimate" in lexicon.family("legitimacy")
    assert "legitimacy" in lexicon.family("legitimate")
    assert {"legitimize", "legitimise"} <= set(lexicon.family("legitimacy"))
    assert "reformer" in lexicon.family("reform")
    assert "credible" in lexicon.family("credibility")


def test_synonyms(lexicon):
    assert "harm" in dict(lexicon.synonyms("damage"))
    assert "fright" in dict(lexicon.synonyms("fear"))
    assert "believability" in dict(lexicon.synonyms("credibility"))
    assert "bequest" in dict(lexicon.synonyms("legacy"))
    assert "panic" in dict(lexicon.synonyms("terror"))


def test_weaker_relations_are_flagged(lexicon):
    related = {word: kind for word, _, kind in lexicon.related("terror")}
    assert related.get("fear") == "hypernym"
    assert dict((w, k) for w, _, k in lexicon.related("legitimate")).get("lawful") == "similar"
    assert "fear" not in {a.word for a in lexicon.alternatives("terror")}
    assert "fear" in {a.word for a in lexicon.alternatives("terror", weak=True, limit=None)}


def test_spellings_both_ways_and_british_forms_wordnet_lacks(lexicon):
    assert "legitimise" in lexicon.spellings("legitimize")
    assert "legitimize" in lexicon.spellings("legitimise")
    assert "labour" in lexicon.spellings("labor")
    # WordNet lists revitalise in one of revitalize's two senses: the British form answers as
    # the American one.
    assert lexicon.spellings("revitalise") == ["revitalize"]
    assert lexicon.senses("revitalise") == lexicon.senses("revitalize")
    assert "revitalization" in lexicon.family("revitalise")


def test_dominant_sense_first(lexicon):
    senses = lexicon.senses("fear")
    assert senses[0].share == max(sense.share for sense in senses)
    assert "fright" in dict(senses[0].synonyms)
    # "rival" as a verb (match, equal) is a common sense, but those words mostly mean other
    # things: the rival people rank above them.
    ranked = [word for word, _ in lexicon.synonyms("rival")]
    assert set(ranked[:3]) == {"challenger", "competitor", "contender"}
    assert ranked.index("match") > 2


def test_max_senses_and_min_share_keep_only_dominant_senses(lexicon):
    assert len(lexicon.senses("fear", max_senses=1)) == 1
    assert all(sense.share >= 0.15 for sense in lexicon.senses("fear", min_share=0.15))
    # fear's fourth sense (concern, care) is rare: only asking for it brings it in.
    assert "concern" not in dict(lexicon.synonyms("fear"))
    assert "concern" in dict(lexicon.synonyms("fear", max_senses=None, min_share=0.0))


def test_alternatives_rank_once_each_under_the_strongest_kind(lexicon):
    alternatives = lexicon.alternatives("terror", limit=None)
    words = [a.word for a in alternatives]
    assert len(words) == len(set(words)) and "terror" not in words
    assert [a.weight for a in alternatives] == sorted((a.weight for a in alternatives),
                                                      reverse=True)
    assert all(a.kind in KINDS for a in alternatives)
    assert {"terrorize", "terrorise", "panic"} <= set(words)
    assert len(lexicon.alternatives("terror", limit=3)) == 3
    kinds = {a.word: a.kind for a in lexicon.alternatives("credibility")}
    assert kinds["credible"] == "family" and kinds["believability"] == "synonym"


def test_common_words_rank_before_rare_ones(lexicon):
    assert lexicon.commonness("rival") > 0.9 > lexicon.commonness("rivalrous")
    assert lexicon.commonness("qwertyuiop") == MIN_COMMONNESS
    # a British spelling is as common as its American one
    assert lexicon.commonness("legitimise") == lexicon.commonness("legitimize")
    ranked = [a.word for a in lexicon.alternatives("rival", limit=None)]
    assert ranked.index("competitor") < ranked.index("rivalrous")


def test_context_brings_in_the_sense_it_points_to(lexicon):
    # fear's sense "concern, care" is rare: a context that speaks of concern chooses it.
    assert "care" not in dict(lexicon.synonyms("fear"))
    assert "care" in dict(lexicon.synonyms("fear", context={"concern", "worry"}))
    chosen = lexicon.senses("fear", max_senses=2, context={"concern"})
    assert any(sense.share >= CONTEXT_SHARE and "care" in dict(sense.synonyms)
               for sense in chosen)
    # ... though "care" itself mostly means other things, so only "concern" passes the cut.
    words = {a.word for a in lexicon.alternatives("fear", context={"concern"})}
    assert "concern" in words and "care" not in words


def test_a_shared_sense_has_one_id(lexicon):
    fear = lexicon.senses("fear")[0]
    assert fear.synset in {sense.synset for sense in lexicon.senses("fright")}


def test_unknown_words_give_empty_results(lexicon):
    for word in ("qwertyuiop", "", "khrushchev", "cult of personality"):
        assert lexicon.senses(word) == []
        assert lexicon.synonyms(word) == []
        assert lexicon.family(word) == []
        assert lexicon.spellings(word) == []
        assert lexicon.related(word) == []
        assert lexicon.alternatives(word) == []
        assert lexicon.log_frequency(word) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_string_gives_lists_and_never_fails(text):
    lexicon = get_lexicon()
    alternatives = lexicon.alternatives(text, limit=5, weak=True)
    assert len(alternatives) <= 5
    assert all(0.0 < a.score <= 1.0 and 0.0 < a.commonness <= 1.0 for a in alternatives)
    assert isinstance(lexicon.synonyms(text), list) and isinstance(lexicon.family(text), list)


def test_a_table_of_another_format_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="rebuild it with scripts/build_lexicon.py"):
        Lexicon("some other file\n")


@pytest.mark.skipif(not (WORDNET / "index.noun").is_file(),
                    reason="WordNet 3.0 is not installed (apt-get install wordnet-base): "
                           "cannot rebuild the lexicon table to compare")
def test_build_script_reproduces_the_shipped_table(tmp_path):
    build_lexicon = load_build_script()
    assert build_lexicon.main(["--out", str(tmp_path)]) == 0
    built, shipped = tmp_path / "lexicon.tsv.gz", DATA / "lexicon.tsv.gz"
    assert gzip.decompress(built.read_bytes()) == gzip.decompress(shipped.read_bytes()), \
        "the shipped table is stale: run python scripts/build_lexicon.py"
    assert built.read_bytes() == shipped.read_bytes()
    assert (tmp_path / "LICENSE-wordnet.txt").read_bytes() == \
        (DATA / "LICENSE-wordnet.txt").read_bytes()


def test_build_script_says_how_to_install_wordnet(tmp_path, capsys):
    build_lexicon = load_build_script()
    assert build_lexicon.main(["--wordnet", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "apt-get install wordnet-base" in capsys.readouterr().err
    assert not (tmp_path / "lexicon.tsv.gz").exists()
