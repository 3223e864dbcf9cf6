"""scripts/probe_kinds.py: the probe set by kind (issue 10, item 6) and how it is tallied."""

from __future__ import annotations

from essaycheck.loader import load_directory

from .conftest import RUBRIC_DIR


def test_probe_set_is_eight_answers_per_kind_about_real_points(script):
    probe = script("probe_kinds")
    probes = probe.read_probes()
    rubrics = {r.id: {p.id for p in r.points} for r in load_directory(RUBRIC_DIR)}
    kinds = {p["kind"] for p in probes}
    assert kinds == set(probe.KINDS)
    for kind in kinds:
        rows = [p for p in probes if p["kind"] == kind]
        assert len(rows) == 8 and len({p["expected"] for p in rows}) == 1
    for p in probes:
        assert p["point_id"] in rubrics[p["question_id"]] and p["answer"].strip()
        assert p["expected"] in ("covered", "missed")


def test_probes_are_tallied_right_and_exact_by_kind(script):
    probe = script("probe_kinds")
    probes = [{"kind": "a", "expected": "covered"}, {"kind": "a", "expected": "covered"},
              {"kind": "b", "expected": "missed"}, {"kind": "b", "expected": "missed"}]
    tally = probe.tally(probes, ["partial", "missed", "missed", "covered"])
    # partial credit is the right verdict for a point made, but not its expected status
    assert tally == {"a": {"n": 2, "right": 1, "exact": 0}, "b": {"n": 2, "right": 1, "exact": 1}}
    report = {"curated": ["partial", "missed", "missed", "covered"],
              "drafted": ["covered", "covered", "missed", "missed"],
              "confidence": {"curated": [0.3, 0.1, 0.0, 0.6], "drafted": [0.5, 0.7, 0.0, 0.1]}}
    table = probe.table(probes, None, report)
    assert "| a | covered | 2 | 1 (0); 0.20 | 2 (2); 0.60 |" in table
    assert "| b | missed | 2 | 1 (1); 0.30 | 2 (2); 0.05 |" in table


def test_drafted_points_map_onto_the_curated_points_they_share_words_with(checker, script):
    probe = script("probe_kinds")
    from essaycheck.extract import draft_rubric

    curated = checker.rubric("thaw-significance")
    drafted = draft_rubric(curated.id, curated.question, curated.model_answer, checker.analyzer)
    mapping = probe.point_map(curated, drafted, checker.analyzer)
    hungary = next(p.id for p in drafted.points if "Hungarian" in p.text)
    # the model answer's claim on the Hungarian Uprising is the reversals' point, and no other
    assert [q for q, ids in mapping.items() if hungary in ids] == ["inconsistent-and-reversed"]
