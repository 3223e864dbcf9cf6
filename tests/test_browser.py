"""End to end in real headless Chromium: type an answer, check it, see the checklist and the
highlights, with and without JavaScript, by keyboard alone, and with no serious or critical
axe-core violations.

Uses Debian's chromium (no browser download) driven by Playwright, and the axe-core copy
bundled in the axe-playwright-python wheel (no network at test time). Screenshots go to
test-artifacts/. Outside CI the test skips, saying why, only when Chromium is absent; with
CI=true it fails instead.
"""

from __future__ import annotations

import re

import pytest

from essaycheck.web import create_app

from .conftest import (
    SERIOUS_IMPACTS,
    active_id,
    assert_no_axe_violations,
    new_page,
    screenshot,
    serve,
)

pytestmark = pytest.mark.browser

QID = "secret-speech-1956"
ANSWER = ("Khrushchev wanted to weaken his rivals like Molotov and Malenkov, who were linked to "
          "the purges. He also wanted to expose the cult of personality and the terror so "
          "victims could be rehabilitated.\n\nStalin's legacy had damaged the credibility of "
          "the Party.")


@pytest.fixture(scope="module")
def server(checker):
    """The real app, CSRF on, served by waitress on a free port of 127.0.0.1."""
    with serve(create_app(checker=checker)) as url:
        yield url


@pytest.fixture
def page_errors():
    """The console errors and uncaught exceptions of the test's pages (``new_page``'s)."""
    return []


def assert_result_matches_core(page, checker, answer: str) -> None:
    """The checklist and the highlights on the page are exactly the core's result."""
    result = checker.check(QID, answer)
    items = page.locator("ol.checklist > li")
    assert items.count() == len(result.points)
    for number, point in enumerate(result.points, 1):
        item = page.locator(f"#point-{number}")
        assert f"point--{point.status}" in item.get_attribute("class")
        label = {"covered": "Covered", "partial": "Partly covered", "missed": "Missed"}
        assert label[point.status] in item.locator(".badge").inner_text()
        if point.status == "missed":
            assert item.locator(".hint").inner_text().endswith(point.hint)
            assert item.locator("blockquote").count() == 0
        else:
            assert item.locator("blockquote").inner_text() == point.quote
    expected = {(span.text, number) for number, point in enumerate(result.points, 1)
                if point.status != "missed" for span in point.evidence}
    assert expected, "the sample answer earns points"
    marks = page.locator(".answer-view mark.evidence")
    assert marks.count() >= 1
    seen = set()
    for index in range(marks.count()):
        mark = marks.nth(index)
        numbers = [int(n) for n in mark.get_attribute("data-points").split()]
        text = mark.evaluate("""el => Array.from(el.childNodes)
            .filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join('')""")
        assert text in answer.replace("\r\n", "\n")
        # a cue that needs no colour: a solid underline, a point number, words for readers
        assert mark.evaluate("el => getComputedStyle(el).borderBottomStyle") == "solid"
        assert mark.locator("sup.evidence-ref").inner_text() == ",".join(map(str, numbers))
        assert "evidence for point" in mark.locator(".visually-hidden").text_content()
        seen.update((span_text, n) for span_text, n in expected
                    if n in numbers and span_text in text)
    assert seen == expected
    view = page.locator(".answer-view").evaluate("""el => Array.from(el.querySelectorAll('*'))
        .length && el.innerText""")
    assert "Stalin's legacy" in view


def test_type_check_and_see_checklist_and_highlights(browser, server, checker, page_errors):
    from playwright.sync_api import expect

    page = new_page(browser, page_errors)
    page.goto(server + "/")
    assert page.title() == "essaycheck"
    assert_no_axe_violations(page, "empty page", SERIOUS_IMPACTS)

    page.get_by_label("Explain why Khrushchev delivered the Secret Speech in 1956.").check()
    textarea = page.get_by_label("Write your answer")
    textarea.press_sequentially("Khrushchev wanted to weaken his rivals")
    assert page.locator("#word-count").inner_text() == "6 words"  # live, as the student types
    textarea.fill(ANSWER)
    assert page.locator("#word-count").inner_text() == f"{len(ANSWER.split())} words"
    page.get_by_role("button", name="Check my answer").click()

    heading = page.locator("#result-heading")
    heading.filter(has_text="Your feedback").wait_for()
    assert page.url == server + "/"  # checked without a reload
    assert active_id(page) == "result-heading"  # focus moves to the result
    assert page.locator("#answer").input_value() == ANSWER  # the draft stays to revise
    assert_result_matches_core(page, checker, ANSWER)
    score = checker.check(QID, ANSWER).score
    assert page.locator(".score-value").inner_text() == f"{score:g}"
    assert page.title().startswith(f"Feedback: {score:g} out of 6")
    assert_no_axe_violations(page, "result", SERIOUS_IMPACTS)
    screenshot(page, "browser-result-laptop.png")

    # revise and check again
    revised = ANSWER + " The speech laid the groundwork for de-Stalinisation and reform."
    textarea.fill(revised)
    page.get_by_role("button", name="Check my answer").click()
    expect(page.locator(".answer-view")).to_contain_text("groundwork for de-Stalinisation")
    assert_result_matches_core(page, checker, revised)

    assert page_errors == []  # no script errors, no CSP violations

    # an empty answer: a clear message, focus on it, no result
    textarea.fill("   ")
    page.get_by_role("button", name="Check my answer").click()
    page.locator("#form-error").wait_for()
    assert "Empty answer" in page.locator("#form-error").inner_text()
    assert active_id(page) == "form-error"
    assert page.locator("#answer").get_attribute("aria-invalid") == "true"
    assert page.locator("ol.checklist").count() == 0
    assert_no_axe_violations(page, "error", SERIOUS_IMPACTS)
    # the only console message: the browser noting the 422 status of the refused answer
    assert all("status of 422" in error for error in page_errors), page_errors


def test_phone_width(browser, server, checker, page_errors):
    page = new_page(browser, page_errors, width=375, height=812)
    page.goto(server + "/")
    page.get_by_label("Write your answer").fill(ANSWER)
    page.get_by_role("button", name="Check my answer").click()
    page.locator("#result-heading").filter(has_text="Your feedback").wait_for()
    assert_result_matches_core(page, checker, ANSWER)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "nothing scrolls sideways on a phone"
    assert_no_axe_violations(page, "phone result", SERIOUS_IMPACTS)
    screenshot(page, "browser-result-phone.png")
    assert page_errors == []


def test_works_with_javascript_off(browser, server, checker, page_errors):
    page = new_page(browser, page_errors, java_script_enabled=False)
    page.goto(server + "/")
    page.get_by_label("Write your answer").fill(ANSWER)
    page.get_by_role("button", name="Check my answer").click()
    page.wait_for_url(server + "/check")
    assert page.locator("#result-heading").inner_text() == "Your feedback"
    assert active_id(page) == "result-heading"  # autofocus moves focus with no script
    assert page.locator("#answer").input_value() == ANSWER
    assert_result_matches_core(page, checker, ANSWER)
    assert page.locator("#word-count").inner_text() == f"{len(ANSWER.split())} words"
    screenshot(page, "browser-result-no-js.png")
    assert page_errors == []


def test_keyboard_only(browser, server, checker, page_errors):
    page = new_page(browser, page_errors)
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(3):  # brand link, then the question group, checked radio first
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "radio":
            break
    assert page.evaluate("document.activeElement.value") == QID
    page.keyboard.press("ArrowDown")  # radios: arrows choose
    assert page.evaluate("document.activeElement.value") == "thaw-significance"
    assert page.locator("input[value='thaw-significance']").is_checked()
    page.keyboard.press("Tab")
    assert active_id(page) == "answer"
    page.keyboard.type("Censorship was relaxed, so writers and artists had more freedom. "
                       "Solzhenitsyn published One Day in the Life of Ivan Denisovich.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", "the focused control shows a focus ring"
    page.keyboard.press("Enter")
    page.locator("#result-heading").filter(has_text="Your feedback").wait_for()
    assert active_id(page) == "result-heading"
    assert "thaw" in page.locator(".feedback-question").inner_text()
    assert page.locator("ol.checklist > li.point--covered").count() >= 1
    assert page_errors == []


def test_student_text_shows_as_text_not_markup(browser, server, page_errors):
    page = new_page(browser, page_errors)
    page.goto(server + "/")
    hostile = ("Khrushchev wanted to weaken his rivals. <script>window.pwned = 1</script>"
               "<img src=x onerror=\"window.pwned = 2\"> They were linked to the purges.")
    page.get_by_label("Write your answer").fill(hostile)
    page.get_by_role("button", name="Check my answer").click()
    page.locator("#result-heading").filter(has_text="Your feedback").wait_for()
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert "<script>window.pwned = 1</script>" in page.locator(".answer-view").inner_text()
    assert page.locator(".answer-view img, .answer-view script").count() == 0
    # the same with a full page load (no script)
    nojs = new_page(browser, page_errors, java_script_enabled=False)
    nojs.goto(server + "/")
    nojs.get_by_label("Write your answer").fill(hostile)
    nojs.get_by_role("button", name="Check my answer").click()
    nojs.wait_for_url(server + "/check")
    assert "<script>window.pwned = 1</script>" in nojs.locator(".answer-view").inner_text()
    assert re.search(r"<img src=x", nojs.locator("#answer").input_value())
    assert page_errors == []
