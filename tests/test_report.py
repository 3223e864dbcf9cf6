"""The class report: one self-contained HTML page from a ClassSummary."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest

from essaycheck.csvio import CsvInput
from essaycheck.report import TEMPLATE_NAME, render_report
from essaycheck.resources import templates_dir
from essaycheck.scoring import ClassSummary, score_rows

SS = "secret-speech-1956"
TH = "thaw-significance"
GOOD = ("Khrushchev wanted to weaken his rivals like Molotov and Malenkov, who were linked to "
        "the purges. He also wanted to distance the Party from Stalin's crimes, which had "
        "damaged its reputation.")
THAW = "The thaw relaxed censorship so writers and artists had more freedom."


def class_summary(checker, answers, detail_limit=1000) -> ClassSummary:
    """The summary of a class whose rows are (student id, question id, answer)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["student_id", "question_id", "answer"])
    writer.writerows(answers)
    rows = CsvInput(io.StringIO(text.getvalue(), newline=""), "class.csv")
    summary = ClassSummary(checker.rubrics_by_id, detail_limit=detail_limit)
    for item in score_rows(checker, rows, rows.layout):
        summary.add(item)
    return summary


class Page(HTMLParser):
    """What the tests look at: tags, ids, in-page links, student rows, marked evidence, the text
    of elements by class."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.student_links: list[str] = []
        self.students = 0
        self.marks: list[str] = []
        self.scripts = 0
        self.texts: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        href = attrs.get("href") or ""
        if tag == "a" and href.startswith("#"):
            self.links.append(href[1:])
            if self._open and any(t == "tr" and c == "student" for t, c in self._open):
                self.student_links.append(href[1:])
        if tag == "tr" and "student" in (attrs.get("class") or "").split():
            self.students += 1
        if tag == "mark":
            self.marks.append("")
        if tag == "script":
            self.scripts += 1
        if tag not in ("br", "meta", "img", "input", "link", "path", "use"):
            self._open.append((tag, attrs.get("class")))
            if attrs.get("class"):
                self.texts.setdefault(attrs["class"], []).append("")

    def handle_endtag(self, tag):
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        if any(t == "mark" for t, _ in self._open):
            self.marks[-1] += data
        for _, cls in self._open:
            if cls:
                self.texts[cls][-1] += " " + data   # a tag boundary separates words


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def class_page(checker):
    summary = class_summary(checker, [
        ["a&b", SS, GOOD], ["<b>bold</b>", SS, "<script>alert('x')</script> " + GOOD],
        ["c", SS, "Stalin was bad."], ["d", TH, THAW], ["e", SS, ""], ["f", "nope", "x"]])
    html = render_report(summary, source="class.csv")
    return summary, html, parse(html)


def test_the_template_is_a_file_beside_the_page_templates():
    assert (templates_dir() / TEMPLATE_NAME).is_file()


def test_the_report_shows_the_class_counts(class_page):
    summary, html, page = class_page
    ss, th = summary.questions[SS], summary.questions[TH]
    assert (ss.answers, ss.errors, th.answers) == (3, 1, 1)
    cards = [" ".join(t.split()) for t in page.texts["qcard"]]
    assert any(card.startswith(f"{SS} 3 answers, 1 not scored mean {ss.mean:.1f} / 6")
               for card in cards), cards
    assert any(card.startswith(f"{TH} 1 answers") for card in cards), cards
    stats = [" ".join(t.split()) for t in page.texts["stat"]]
    assert "3 answers scored" in stats and "1 not scored" in stats
    assert page.tags.count("svg") == 4          # two charts per question asked
    assert page.students == 4                   # the scored answers, one row each
    missed = summary.most_missed(limit=5)
    assert missed and f"{missed[0].missed} of {missed[0].answers}" in html
    # the rows that could not be scored are listed with their line and reason
    assert "line 6, column &#39;answer&#39;: empty answer" in html
    assert "unknown question id &#39;nope&#39;" in html


def test_the_report_escapes_student_text(class_page):
    _, html, page = class_page
    assert page.scripts == 0 and "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html
    assert "a&amp;b" in html


def test_every_student_row_links_to_that_answer_with_its_evidence_marked(class_page):
    summary, html, page = class_page
    lines = [item.row.line for stats in summary.asked for item in stats.details]
    assert page.student_links == [f"line-{line}" for line in lines]
    assert all(target in page.ids for target in page.links)
    assert any("weaken his rivals" in mark for mark in page.marks)
    answer = html[html.index('id="line-2"'):]
    answer = answer[:answer.index("</article>")]
    assert "<mark class=" in answer and "weaken his rivals" in answer


def test_the_report_needs_no_network(class_page):
    _, html, _ = class_page
    for external in ('src="http', "href=\"http", "url(http", "@import", "<link"):
        assert external not in html
    # the only addresses are XML namespace names, which nothing fetches
    assert set(re.findall(r"https?://[^\"'\s<]+", html)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_the_report_obeys_the_detail_limit(checker):
    summary = class_summary(checker, [[f"s{i}", SS, GOOD] for i in range(4)], detail_limit=2)
    html = render_report(summary)
    page = parse(html)
    assert page.students == 2
    assert page.student_links == ["line-2", "line-3"]
    assert 'id="line-4"' not in html and 'id="line-5"' not in html
    assert "cover all 4 answers; only the first 2" in html and "the limit is 2" in html
    assert " ".join(page.texts["stat"][0].split()) == "4 answers scored"


def test_a_report_with_nothing_scored_says_so(checker):
    summary = class_summary(checker, [["a", SS, ""], ["b", "nope", "x"]])
    html = render_report(summary)
    assert "No answer was scored." in html and parse(html).students == 0
