"""End to end in real headless Chromium, as a teacher would use the workshop for a biology
question: draft a rubric from a model answer, paste five marked answers, add a keyword
alternative and see a verdict change, save; then the student page, running on the same rubric
folder all along, offers the saved rubric without a restart and checks an answer against it.
Once with the mouse, once by keyboard alone; axe-core finds no violation on the workshop page.

Uses Debian's chromium and the axe-core bundled in axe-playwright-python, as
tests/test_browser.py does (no download, no network). Screenshots go to test-artifacts/
(``workshop.png`` is the one in docs/ and the README).
"""

from __future__ import annotations

import shutil

import pytest

from essaycheck.loader import load_directory
from essaycheck.workshop_web import create_workshop_app

from .conftest import (
    ARTIFACTS,
    RUBRIC_DIR,
    SERIOUS_IMPACTS,
    active_id,
    assert_no_axe_violations,
    new_page,
    screenshot,
    serve,
)

pytestmark = pytest.mark.browser

TOKEN = "browser-test-token-0123456789"
QUESTION = "Explain how a plant makes glucose by photosynthesis."
MODEL = ("Chlorophyll in the chloroplasts absorbs light energy. Carbon dioxide and water react "
         "to make glucose and oxygen. The glucose is used in respiration or stored as starch.")
#: Five marked answers; the first says "soaks up" where the rubric says "absorbs", the last
#: gets a mark more from the teacher than from the rubric.
ANSWERS = [
    ("Chlorophyll soaks up light. Carbon dioxide and water react to make glucose.", "2"),
    ("Chlorophyll in the chloroplasts absorbs light energy. Carbon dioxide and water react to "
     "make glucose and oxygen. The glucose is stored as starch.", "3"),
    ("Plants get their food from the soil through their roots.", "0"),
    ("Light is absorbed by chlorophyll. The plant stores the glucose as starch.", "2"),
    ("Carbon dioxide and water make glucose and oxygen.", "2"),  # a generous mark
]
STUDENT_ANSWER = ("Chlorophyll soaks up light in the chloroplasts. Carbon dioxide and water "
                  "react to make glucose, which is stored as starch.")


@pytest.fixture
def folder(tmp_path):
    """A rubric folder holding the two shipped rubrics."""
    for path in RUBRIC_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


@pytest.fixture
def workshop(folder, nlp):
    from essaycheck import Checker

    with serve(create_workshop_app(folder, checker=Checker([], nlp=nlp).fit(),
                                   token=TOKEN)) as url:
        yield url


#: the workshop's pages: a wide window, and downloads kept (the YAML download)
WORKSHOP_PAGE = {"width": 1400, "height": 1000, "accept_downloads": True}


def wait_scored(page, count: int) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#try-status")).to_contain_text(f"Scored {count} answer")


def verdict(page, answer: int, point: int) -> str:
    return page.locator(f"#s{answer}-p{point} .badge").inner_text()


@pytest.fixture
def student(folder):
    """The student page on the rubric folder, as ``serve`` runs it (following the folder),
    started before the test saves a rubric there: its URL."""
    from essaycheck.web import create_app

    with serve(create_app(rubrics_dir=folder, reload_interval=0.2)) as url:
        yield url


def student_checks_the_saved_rubric(browser, folder, url, errors) -> None:
    """The student page, running on the same folder since before the rubric was saved, offers
    the new rubric without a restart and checks an answer against it."""
    import time

    assert "photosynthesis" in [r.id for r in load_directory(folder)]
    time.sleep(0.25)  # the page looks at its folder at most every 0.2 s
    page = new_page(browser, errors, width=1280, height=900)
    try:
        page.goto(url + "/")
        page.get_by_label(QUESTION).check()
        page.get_by_label("Write your answer").fill(STUDENT_ANSWER)
        page.get_by_role("button", name="Check my answer").click()
        page.locator("#result-heading").filter(has_text="Your feedback").wait_for()
        assert QUESTION in page.locator(".feedback-question").inner_text()
        assert page.locator("ol.checklist > li").count() == 3
        assert page.locator("ol.checklist > li.point--covered").count() == 3
        assert_no_axe_violations(page, "student page, saved rubric", SERIOUS_IMPACTS)
    finally:
        page.close()


def test_draft_try_edit_and_save_then_the_student_page_uses_it(browser, workshop, folder,
                                                                student):
    from playwright.sync_api import expect

    errors: list[str] = []
    page = new_page(browser, errors, **WORKSHOP_PAGE)
    page.goto(f"{workshop}/?token={TOKEN}")
    assert page.url == workshop + "/"  # the token left the address bar
    expect(page.locator("#open-id")).to_contain_text("secret-speech-1956")
    assert_no_axe_violations(page, "start")

    page.get_by_label("Question", exact=True).fill(QUESTION)
    page.get_by_label("Model answer", exact=True).fill(MODEL)
    page.get_by_label("Rubric id").fill("photosynthesis")
    page.get_by_label("Marks available").fill("3")
    page.get_by_role("button", name="Draft the rubric").click()
    expect(page.locator("#start-status")).to_contain_text("Drafted 3 points")
    assert active_id(page) == "edit-heading"
    expect(page.locator("#p0-text")).to_have_value(
        "Chlorophyll in the chloroplasts absorbs light energy.")

    for answer, mark in ANSWERS:
        page.get_by_label("A student’s answer").fill(answer)
        page.get_by_label("Your mark (optional)").fill(mark)
        page.get_by_role("button", name="Add the answer").click()
    wait_scored(page, 5)
    assert page.locator("#samples > li").count() == 5
    expect(page.locator("#figure-n")).to_have_text("5")
    assert verdict(page, 0, 0) == "Partly covered"
    assert page.locator("#s0-score").inner_text() == "Rubric: 1.64 out of 3"
    assert page.locator("#sample-0 mark.evidence").count() == 2  # the evidence, highlighted
    first = page.locator("#samples > li").first
    assert first.get_attribute("id") == "sample-4"  # the disagreement is listed first
    assert "the rubric gives 1 mark less" in first.inner_text()

    group = page.locator("#points [data-field='points[0].keywords[2]']")
    assert "absorb" in group.inner_text()
    page.get_by_label("Add an alternative to group 3 of point 1").fill("soak*")
    page.get_by_role("button", name="Add the alternative to group 3 of point 1").click()
    expect(group).to_contain_text("soak*")
    expect(page.locator("#s0-p0 .badge")).to_have_text("Covered")  # the verdict changed
    expect(page.locator("#s0-score")).to_have_text("Rubric: 2.03 out of 3")
    assert "soaks" in page.locator("#s0-p0").inner_text()

    # a problem is shown at the field it names, in rubric check's words, and then fixed
    page.locator("#p1-text").fill("")
    expect(page.locator("#problems")).to_contain_text("points[1].text: is empty")
    assert page.locator("#p1-text").get_attribute("aria-invalid") == "true"
    expect(page.locator("#point-card-1 .ws-field-error")).to_contain_text("Is empty")
    page.locator("#p1-text").fill("Carbon dioxide and water react to make glucose and oxygen.")
    expect(page.locator("#problems")).to_be_hidden()
    wait_scored(page, 5)
    assert_no_axe_violations(page, "rubric with results")
    screenshot(page, "workshop-full.png")
    # the one in docs/ and the README: point cards beside the agreement and the answers
    top = page.evaluate("document.getElementById('agreement').getBoundingClientRect().top"
                        " + window.scrollY - 24")
    page.screenshot(path=str(ARTIFACTS / "workshop.png"), full_page=True,
                    clip={"x": 0, "y": top, "width": 1400, "height": 1150})

    page.get_by_role("button", name="Save to the rubric folder").click()
    expect(page.locator("#save-status")).to_contain_text("Saved photosynthesis.yaml")
    saved = next(r for r in load_directory(folder) if r.id == "photosynthesis")
    assert "soak*" in saved.points[0].keywords[2]

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the YAML").click()
    assert download.value.suggested_filename == "photosynthesis.yaml"

    # the shipped rubrics open for editing too
    page.get_by_label("Rubric", exact=True).select_option("thaw-significance")
    page.get_by_role("button", name="Open for editing").click()
    expect(page.locator("#rubric-id")).to_have_value("thaw-significance")

    # the only console messages: the browser noting the 422 of the invalid edit
    assert all("status of 422" in error for error in errors), errors
    student_checks_the_saved_rubric(browser, folder, student, errors)
    assert all("status of 422" in error for error in errors), errors


def tab_to(page, element_id: str, backwards: bool = False, limit: int = 250) -> None:
    """Press Tab (or Shift+Tab) until the element with this id has the focus."""
    for _ in range(limit):
        if active_id(page) == element_id:
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"#{element_id} cannot be reached with the keyboard")


def test_keyboard_only(browser, workshop, folder):
    from playwright.sync_api import expect

    errors: list[str] = []
    page = new_page(browser, errors, **WORKSHOP_PAGE)
    page.goto(f"{workshop}/?token={TOKEN}")
    expect(page.locator("#open-id")).to_contain_text("secret-speech-1956")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for element_id, text in (("draft-question", QUESTION), ("draft-model", MODEL),
                             ("draft-id", "photosynthesis"), ("draft-max", "3")):
        tab_to(page, element_id)
        page.keyboard.type(text)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Draft the rubric"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("#start-status")).to_contain_text("Drafted 3 points")
    assert active_id(page) == "edit-heading"

    tab_to(page, "sample-answer")
    for answer, mark in ANSWERS:
        assert active_id(page) == "sample-answer"  # focus comes back to paste the next one
        page.keyboard.type(answer)
        page.keyboard.press("Tab")
        page.keyboard.type(mark)
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
    wait_scored(page, 5)
    assert verdict(page, 0, 0) == "Partly covered"

    tab_to(page, "p0-g2-add", backwards=True)
    page.keyboard.type("soak*")
    page.keyboard.press("Enter")
    assert active_id(page) == "p0-g2-add"  # ready for another alternative
    expect(page.locator("#s0-p0 .badge")).to_have_text("Covered")

    # a chip goes with its own button, and comes back with Enter in the add box
    tab_to(page, "p0-g2-x2", backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator("#s0-p0 .badge")).to_have_text("Partly covered")
    tab_to(page, "p0-g2-add")
    page.keyboard.type("soak*")
    page.keyboard.press("Enter")
    expect(page.locator("#s0-p0 .badge")).to_have_text("Covered")

    tab_to(page, "save-button")
    page.keyboard.press("Enter")
    expect(page.locator("#save-status")).to_contain_text("Saved photosynthesis.yaml")
    assert "soak*" in next(r for r in load_directory(folder)
                           if r.id == "photosynthesis").points[0].keywords[2]
    assert errors == []


def test_a_suggestion_shows_beside_its_point_and_one_click_accepts_it(browser, workshop):
    """The page shows the engine's suggestions at their point and accepts one with a click:
    the server applies it, validates the rubric again and the answers are scored again. The
    suggestion list is fixed here (the page's rendering is under test; what the engine
    suggests is tests/test_suggestions.py's); applying it is the real server's."""
    import json

    from playwright.sync_api import expect

    errors: list[str] = []
    page = new_page(browser, errors, **WORKSHOP_PAGE)
    page.goto(f"{workshop}/?token={TOKEN}")
    page.get_by_label("Question", exact=True).fill(QUESTION)
    page.get_by_label("Model answer", exact=True).fill(MODEL)
    page.get_by_label("Rubric id").fill("photosynthesis")
    page.get_by_label("Marks available").fill("3")
    page.get_by_role("button", name="Draft the rubric").click()
    expect(page.locator("#p0-text")).to_be_visible()
    suggestion = {"question_id": "photosynthesis", "point_id": "", "action": "add",
                  "term": "soak*", "group": 2, "fixes": 3, "breaks": 0,
                  "evidence": ["Chlorophyll soaks up light."], "inferred": False}

    def fulfil(route):
        body = json.loads(route.request.post_data)
        suggestion["point_id"] = body["rubric"]["points"][0]["id"]
        found = [] if "soak*" in body["rubric"]["points"][0]["keywords"][2] else [suggestion]
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"suggestions": found}))

    page.route("**/api/v1/rubrics/suggest", fulfil)
    page.get_by_label("A student’s answer").fill(ANSWERS[0][0])
    page.get_by_label("Your mark (optional)").fill(ANSWERS[0][1])
    page.get_by_role("button", name="Add the answer").click()
    box = page.locator("#p0-suggestions")
    expect(box).to_contain_text("Add “soak*” to group 3 (absorb, absorbs) of point 1")
    expect(box).to_contain_text("fixes 3 verdicts, breaks 0")
    assert verdict(page, 0, 0) == "Partly covered"
    assert_no_axe_violations(page, "suggestion shown")
    page.get_by_role("button", name="Accept: Add “soak*” to group 3").click()
    expect(page.locator("#s0-p0 .badge")).to_have_text("Covered")
    expect(page.locator("#points [data-field='points[0].keywords[2]']")).to_contain_text("soak*")
    expect(box).to_be_empty()
    assert errors == []


def test_drafting_a_long_model_answer_says_what_was_left_out(browser, workshop):
    from playwright.sync_api import expect

    from .test_extract import _long_model_answer

    errors: list[str] = []
    page = new_page(browser, errors, **WORKSHOP_PAGE)
    page.goto(f"{workshop}/?token={TOKEN}")
    page.get_by_label("Question", exact=True).fill("Why did the provinces change?")
    page.get_by_label("Model answer", exact=True).fill(_long_model_answer())
    page.get_by_label("Rubric id").fill("long")
    page.get_by_role("button", name="Draft the rubric").click()
    expect(page.locator("#start-status")).to_contain_text(
        "Drafted 40 points from the model answer: check each one below. The model answer "
        "makes 80 claims, more than a draft holds: 0 claims merged into a point like it as "
        "accepted wordings, 40 claims with the least distinctive words left out (add back any "
        "you need as points).")
    assert page.locator("#p39-text").count() == 1 and page.locator("#p40-text").count() == 0
    assert not errors
