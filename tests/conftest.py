"""Shared fixtures: one fitted Checker per test session (the spaCy pipeline is heavy), one
headless Chromium for the browser tests and their helpers (pages, screenshots, focus, the axe
check), a waitress server that stops at once, and one-off rubrics."""

from __future__ import annotations

import contextlib
import csv
import os
import threading
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

from essaycheck import Checker
from essaycheck.analysis import Analyzer, build_pipeline

ROOT = Path(__file__).resolve().parent.parent
RUBRIC_DIR = ROOT / "rubric"
DATA = Path(__file__).resolve().parent / "data"
#: the axe-core impacts the student page may not have (its minor and moderate ones are allowed)
SERIOUS_IMPACTS = frozenset({"serious", "critical"})
#: where the browser tests' screenshots go
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("ESSAYCHECK_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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


@contextlib.contextmanager
def serve(app, threads: int = 4) -> Iterator[str]:
    """The app served by waitress on a free port of 127.0.0.1 while the block runs: yields its
    URL. On leaving, the loop thread itself closes the listening socket and every connection
    still open (a browser keeps its connections alive), so the loop ends at once; closing the
    server from outside leaves those connections in the loop, which then runs on until a
    timeout."""
    import waitress
    from waitress import wasyncore

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(5)
        server.task_dispatcher.shutdown()
        assert not thread.is_alive(), "the server's loop did not stop"


def require_chromium() -> None:
    """Skip (or, with CI=true, fail) when Debian's Chromium is not there."""
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return
    reason = (f"Chromium not found at {CHROMIUM}: install Debian's chromium "
              "(apt-get install chromium) to run the browser test")
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI=true: the browser test may not be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for every browser test of the session (Debian's, driven by
    Playwright: no browser download)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


def new_page(browser, errors: list, width: int = 1280, height: int = 900, **options):
    """A page in a context of its own (``options`` are Playwright's ``new_context``'s), with
    reduced motion and 15 s timeouts; console errors and uncaught exceptions go to ``errors``."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  reduced_motion="reduce", **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


@pytest.fixture
def browser(chromium):
    """The shared Chromium; the contexts (pages) a test opens are closed after it."""
    yield chromium
    for context in chromium.contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    """A full-page screenshot in ``ARTIFACTS`` (checked not to be blank): its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def active_id(page) -> str:
    """The id of the element that has the focus."""
    return page.evaluate("document.activeElement && document.activeElement.id")


def assert_no_axe_violations(page, label: str, impacts: Collection[str] | None = None) -> None:
    """axe-core (the copy bundled in axe-playwright-python: no network) finds no violation on
    the page, or none of these ``impacts`` ("minor", "moderate", "serious", "critical")."""
    from axe_playwright_python.sync_playwright import Axe

    violations = [v for v in Axe().run(page).response["violations"]
                  if impacts is None or v["impact"] in impacts]
    assert not violations, f"axe ({label}):\n" + "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in violations)


def _write_eval_set(folder, name, header, make_row):
    with open(folder / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for q in range(6):
            for a in range(6):
                writer.writerow(make_row(q, a))


def small_eval_data(tmp_path):
    """The three eval sets in miniature, written to ``tmp_path`` under their file names: six
    questions, six answers each (for the eval and ablation scripts' tests)."""
    topics = ["magnets attract iron", "plants need sunlight", "ice melts when heated",
              "sound is a vibration", "metals conduct electricity", "the moon orbits earth"]

    def answer(q, a):
        return topics[q] + " because of science" if a % 2 else "I do not know the answer"

    def sb(q, a):
        return [f"Q{q}", f"Question {q}?", topics[q].capitalize() + ".", answer(q, a),
                a % 2, "correct" if a % 2 else "incorrect", "x", f"{q}.{a}"]

    def beetle(q, a):
        return [f"B{q}", f"Question {q}?", topics[q], f"[BEST] {topics[q]} || [GOOD] it is so",
                answer(q, a), a % 2, "x", "x", f"{q}.{a}"]

    def saf(q, a):
        score = [0, 1, 0.5, 1, 0.5, 1][a]
        label = {0: "Incorrect", 0.5: "Partially correct", 1: "Correct"}[score]
        return [f"S{q}", f"Question {q}?", topics[q] + ".\n- and more", answer(q, a), score, 1,
                label, "", f"{q}.{a}"]

    common = ["question_id", "question", "reference_answer"]
    _write_eval_set(tmp_path, "scientsbank-train.csv",
                    common + ["student_answer", "score", "label", "label_3way", "answer_id"], sb)
    _write_eval_set(tmp_path, "beetle-train.csv",
                    common + ["all_reference_answers", "student_answer", "score", "label",
                              "label_3way", "answer_id"], beetle)
    _write_eval_set(tmp_path, "saf-en-train.csv",
                    common + ["student_answer", "score", "score_max", "label", "tutor_feedback",
                              "answer_id"], saf)
