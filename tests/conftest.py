"""Shared fixtures: one fitted Checker per test session (the spaCy pipeline is heavy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from essaycheck import Checker
from essaycheck.analysis import Analyzer, build_pipeline

ROOT = Path(__file__).resolve().parent.parent
RUBRIC_DIR = ROOT / "rubric"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def nlp():
    """The default spaCy pipeline, built once."""
    return build_pipeline()


@pytest.fixture(scope="session")
def analyzer(nlp):
    """An Analyzer over the shared pipeline."""
    return Analyzer(nlp)


@pytest.fixture(scope="session")
def checker(nlp):
    """A Checker fitted on the shipped rubrics."""
    from essaycheck.loader import load_directory

    return Checker(load_directory(RUBRIC_DIR), nlp=nlp).fit()


@pytest.fixture
def script(monkeypatch):
    """``script("NAME")`` imports scripts/NAME.py as ``python scripts/NAME.py`` runs it: with
    scripts/ on the path, so that it finds the modules it shares with the other scripts."""
    import importlib

    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    return importlib.import_module


#: A small rubric of another subject, the base that ``make_rubric`` changes field by field.
PLANTS = {
    "id": "plants",
    "question": "How do plants make their food?",
    "max_score": 2,
    "model_answer": "Plants make glucose by photosynthesis. Chlorophyll absorbs light energy.",
    "points": [
        {"id": "photosynthesis", "text": "Plants make glucose by photosynthesis.",
         "keywords": [["photosynthesis", "photosynthesise*"], ["glucose", "sugar*"]]},
        {"id": "chlorophyll", "text": "Chlorophyll absorbs light energy.",
         "keywords": [["chlorophyll"], ["light", "sunlight"]],
         "hint": "Say what absorbs the light."},
    ],
}


@pytest.fixture
def make_rubric():
    """``make_rubric(**fields)``: a validated one-off rubric, ``PLANTS`` with those fields
    replaced (``points=[...]`` replaces the points), for tests that need their own rubric."""
    from essaycheck.rubric import validate_rubric

    def make(source: str = "test.yaml", **fields):
        return validate_rubric({**PLANTS, **fields}, source)

    return make
