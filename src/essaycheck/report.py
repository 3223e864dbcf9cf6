"""The class report: one self-contained HTML page from a ``ClassSummary``.

The page needs no network: CSS is inline and the charts are SVG drawn with matplotlib and
embedded in the page. Student text is escaped by Jinja2's autoescape and evidence is wrapped in
``<mark>``. This module returns text and opens no file.

A teacher reads it top down: the class at a glance (mean per question, the points most often
missed), then per question the score distribution, the share of the class making each point,
a row per student, and a link from each row to that student's answer with the evidence marked.
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from dataclasses import dataclass

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from .csvio import RowResult
from .scoring import ClassSummary, QuestionStats
from .results import COVERED, MISSED, PARTIAL

COLOURS = {COVERED: "#2f7d4f", PARTIAL: "#e3a21a", MISSED: "#d9dee4"}
BAR_COLOUR = "#3c6e9f"
INK = "#1f2a37"
MUTED = "#5b6775"
SYMBOLS = {COVERED: "✓", PARTIAL: "~", MISSED: "✗"}
LABELS = {COVERED: "covered", PARTIAL: "partly", MISSED: "missed"}


# --------------------------------------------------------------------------------------------
# Charts


def _svg(figure, name: str, label: str) -> Markup:
    """A matplotlib figure as an inline ``<svg>`` element: ids made unique to this chart,
    fixed size dropped (CSS sizes it), and an accessible label."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', text)
    text = re.sub(r'url\(#([^)]+)\)', rf'url(#{name}-\1)', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{name}-\1"', text)
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"',
                  r'<svg\1 role="img" aria-label="__LABEL__"', text, count=1)
    text = text.replace("__LABEL__", Markup.escape(label), 1)
    return Markup(text.strip())


def _figure(width: float, height: float):
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasSVG(figure)
    return figure


def _style(axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color("#9aa5b1")
    axes.tick_params(colors=MUTED, labelsize=9)
    axes.xaxis.label.set_color(MUTED)
    axes.yaxis.label.set_color(MUTED)


def score_step(max_score: float) -> float:
    """Width of one bar of the score distribution: half marks for short mark schemes."""
    if max_score <= 12:
        return 0.5
    if max_score <= 30:
        return 1.0
    return math.ceil(max_score / 20)


def score_bins(stats: QuestionStats) -> list[tuple[float, int]]:
    """(score, answers) for every step from 0 to the maximum, empty steps included."""
    step = score_step(stats.rubric.max_score)
    counts: Counter = Counter()
    for score, n in stats.scores.items():
        counts[round(math.floor(score / step + 1e-9) * step, 6)] += n
    steps = int(math.floor(stats.rubric.max_score / step + 1e-9))
    return [(round(i * step, 6), counts.get(round(i * step, 6), 0)) for i in range(steps + 1)]


def distribution_chart(stats: QuestionStats, name: str) -> Markup:
    """Bar chart: how many answers got each score, with the mean marked."""
    from matplotlib.ticker import MaxNLocator

    rubric = stats.rubric
    bins = score_bins(stats)
    step = score_step(rubric.max_score)
    figure = _figure(5.4, 3.0)
    axes = figure.add_axes((0.11, 0.17, 0.86, 0.72))
    axes.bar([b for b, _ in bins], [n for _, n in bins], width=step * 0.82, color=BAR_COLOUR,
             zorder=2)
    if stats.mean is not None:
        axes.axvline(stats.mean, color=INK, linestyle=(0, (4, 3)), linewidth=1.2, zorder=3)
        right = stats.mean > 0.75 * rubric.max_score
        axes.annotate(f"mean {stats.mean:.1f}", (stats.mean, 1.0),
                      xycoords=("data", "axes fraction"), xytext=(-4 if right else 4, -2),
                      textcoords="offset points", va="top", ha="right" if right else "left",
                      fontsize=9, color=INK)
    axes.set_xlim(-step * 0.7, rubric.max_score + step * 0.7)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.grid(axis="y", color="#e6e9ed", zorder=0)
    axes.set_xlabel(f"score (out of {rubric.max_score:g})", fontsize=9)
    axes.set_ylabel("answers", fontsize=9)
    _style(axes)
    label = f"Score distribution for {rubric.id}: " + ", ".join(
        f"{n} scored {b:g}" for b, n in bins if n)
    return _svg(figure, name, label)


def coverage_chart(stats: QuestionStats, name: str) -> Markup:
    """Stacked horizontal bars: per point, the share of answers covering it, partly or not."""
    from matplotlib.ticker import PercentFormatter

    points = stats.rubric.points
    height = 0.95 + 0.42 * len(points)
    figure = _figure(5.4, height)
    axes = figure.add_axes((0.36, 0.55 / height, 0.6, 1 - 1.05 / height))
    labels = [f"{i}  {_clip(p.id, 26)}" for i, p in enumerate(points, 1)]
    y = list(range(len(points)))
    left = [0.0] * len(points)
    for status in (COVERED, PARTIAL, MISSED):
        shares = [stats.share(p.id, status) * 100 for p in points]
        axes.barh(y, shares, left=left, color=COLOURS[status], height=0.66,
                  label=LABELS[status], zorder=2)
        left = [a + b for a, b in zip(left, shares)]
    for i, point in enumerate(points):
        covered = stats.share(point.id, COVERED) * 100
        if covered >= 12:
            axes.text(covered - 1.5, i, f"{covered:.0f}%", va="center", ha="right",
                      fontsize=8.5, color="white", zorder=4)
    axes.set_yticks(y, labels, fontsize=9)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    axes.tick_params(axis="y", length=0)
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False, fontsize=9,
                handlelength=1.2, borderaxespad=0.2)
    _style(axes)
    axes.spines["left"].set_visible(False)
    label = f"Share of answers making each point of {stats.rubric.id}: " + "; ".join(
        f"{p.id} {stats.share(p.id, COVERED):.0%} covered, {stats.share(p.id, PARTIAL):.0%} "
        "partly" for p in points)
    return _svg(figure, name, label)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# Evidence in the student's text


@dataclass(frozen=True)
class Segment:
    """A stretch of an answer: plain, or evidence for one or more points."""

    text: str
    numbers: tuple[int, ...] = ()
    status: str | None = None


def segments(text: str, result) -> list[Segment]:
    """Split an answer into plain stretches and evidence stretches (overlaps merged), each
    evidence stretch naming the points (by number) it is evidence for."""
    marks: list[tuple[int, int, int, str]] = []
    for number, point in enumerate(result.points, 1):
        if point.status == MISSED:
            continue
        for span in point.evidence:
            if 0 <= span.start < span.end <= len(text):
                marks.append((span.start, span.end, number, point.status))
    if not marks:
        return [Segment(text)]
    bounds = sorted({0, len(text), *(m[0] for m in marks), *(m[1] for m in marks)})
    pieces: list[Segment] = []
    for start, end in zip(bounds, bounds[1:]):
        active = [m for m in marks if m[0] <= start and end <= m[1]]
        numbers = tuple(sorted({m[2] for m in active}))
        status = (COVERED if any(m[3] == COVERED for m in active) else PARTIAL) \
            if active else None
        if pieces and pieces[-1].numbers == numbers and pieces[-1].status == status:
            last = pieces.pop()
            pieces.append(Segment(last.text + text[start:end], numbers, status))
        else:
            pieces.append(Segment(text[start:end], numbers, status))
    return [p for p in pieces if p.text]


# --------------------------------------------------------------------------------------------
# The page


@dataclass
class QuestionView:
    stats: QuestionStats
    anchor: str
    distribution: Markup
    coverage: Markup
    missed: list
    rows: list[RowResult]


def _number(value) -> str:
    return "" if value is None else f"{value:g}"


def _environment() -> Environment:
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                      undefined=StrictUndefined)
    env.filters["num"] = _number
    env.filters["pct"] = lambda value: f"{value:.0%}"
    env.filters["mean"] = lambda value: "–" if value is None else f"{value:.1f}"
    env.globals.update(SYMBOLS=SYMBOLS, LABELS=LABELS, COVERED=COVERED, PARTIAL=PARTIAL,
                       MISSED=MISSED, segments=segments)
    return env


def render_report(summary: ClassSummary, *, source: str = "", title: str = "Class report"
                  ) -> str:
    """The class report as one HTML document (text)."""
    views = []
    for index, stats in enumerate(summary.asked, 1):
        anchor = f"q{index}"
        views.append(QuestionView(
            stats=stats, anchor=anchor,
            distribution=distribution_chart(stats, f"{anchor}-scores") if stats.answers else "",
            coverage=coverage_chart(stats, f"{anchor}-points") if stats.answers else "",
            missed=summary.most_missed(limit=3, question_id=stats.rubric.id),
            rows=stats.details))
    return _environment().from_string(TEMPLATE).render(
        title=title, source=source, summary=summary, questions=views,
        most_missed=summary.most_missed(limit=5), detail_limit=summary.detail_limit)


TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}{% if source %} · {{ source }}{% endif %}</title>
<style>
:root { --ink: #1f2a37; --muted: #5b6775; --line: #e3e7ec; --bg: #f5f7f9; --card: #fff;
  --covered: #2f7d4f; --covered-bg: #e3f1e8; --partial: #9a6700; --partial-bg: #fcefc9;
  --missed: #a33a3a; --missed-bg: #f6e3e3; --accent: #3c6e9f; }
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--accent); }
header.top { background: var(--ink); color: #fff; padding: 22px 0 16px; }
header.top a { color: #cfe0f3; }
.wrap { max-width: 1120px; margin: 0 auto; padding: 0 24px; }
h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; }
h2 { font-size: 21px; margin: 0 0 4px; }
h3 { font-size: 16px; margin: 22px 0 8px; }
.meta { color: #c5ced8; margin: 0; }
nav.toc { margin-top: 10px; display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 14px; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 22px 24px; margin: 22px 0; }
.question-text { color: var(--muted); margin: 0 0 14px; font-size: 16px; }
.qid { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px;
  color: var(--muted); font-weight: 500; }
.stats { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 6px; }
.stat { background: var(--bg); border-radius: 8px; padding: 8px 14px; min-width: 120px; }
.stat b { display: block; font-size: 22px; }
.stat span { color: var(--muted); font-size: 13px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr));
  gap: 18px; margin-top: 10px; }
figure { margin: 0; }
figcaption { font-weight: 600; font-size: 14px; margin-bottom: 2px; }
figure svg { width: 100%; height: auto; display: block; }
.overview-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr));
  gap: 14px; }
.qcard { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.qcard h3 { margin: 0 0 2px; font-size: 15px; }
.meter { height: 8px; background: var(--line); border-radius: 4px; overflow: hidden;
  margin: 6px 0 2px; }
.meter i { display: block; height: 100%; background: var(--accent); }
ol.missed { padding-left: 0; list-style: none; margin: 0; }
ol.missed li { border-left: 4px solid var(--missed); background: #fbf6f6; padding: 8px 12px;
  margin: 0 0 8px; border-radius: 0 6px 6px 0; }
ol.missed .share { font-weight: 650; color: var(--missed); }
ol.missed .hint { color: var(--muted); font-size: 14px; margin: 2px 0 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted);
  font-weight: 600; }
th.pt, td.pt { text-align: center; width: 34px; padding-left: 2px; padding-right: 2px; }
td.num, th.num { text-align: right; white-space: nowrap; }
tbody tr:hover { background: #f8fafc; }
.st { display: inline-block; width: 24px; height: 24px; line-height: 24px; border-radius: 5px;
  font-weight: 700; text-align: center; font-size: 13px; }
.st.covered { background: var(--covered-bg); color: var(--covered); }
.st.partial { background: var(--partial-bg); color: var(--partial); }
.st.missed { background: var(--missed-bg); color: var(--missed); }
.scorebar { display: inline-block; width: 60px; height: 6px; background: var(--line);
  border-radius: 3px; vertical-align: middle; margin-left: 6px; overflow: hidden; }
.scorebar i { display: block; height: 100%; background: var(--accent); }
.note { color: var(--muted); font-size: 13px; }
.legend { color: var(--muted); font-size: 13px; margin: 10px 0 0; }
ol.points-key { columns: 2 320px; font-size: 13px; color: var(--muted); padding-left: 20px;
  margin: 6px 0 0; }
ol.points-key li { break-inside: avoid; margin-bottom: 2px; }
ol.points-key b { color: var(--ink); font-weight: 600; }
article.answer { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 16px 22px; margin: 14px 0; scroll-margin-top: 12px; }
article.answer:target { outline: 3px solid #9cc3e6; }
article.answer header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 14px; }
article.answer h3 { margin: 0; font-size: 17px; }
.score-pill { background: var(--ink); color: #fff; border-radius: 20px; padding: 1px 10px;
  font-size: 13px; font-weight: 600; }
.back { margin-left: auto; font-size: 13px; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; background: #fbfcfd;
  border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin: 12px 0;
  line-height: 1.65; }
mark { border-radius: 3px; padding: 1px 0; color: inherit; }
mark.covered { background: #cfe9d8; box-shadow: inset 0 -2px 0 #7cbf95; }
mark.partial { background: #fbe7b0; box-shadow: inset 0 -2px 0 #e3b341; }
mark + sup, sup.refs { font-size: 10px; font-weight: 700; color: var(--muted); margin: 0 2px; }
ul.points { list-style: none; padding: 0; margin: 0; display: grid; gap: 6px; }
ul.points li { display: grid; grid-template-columns: 92px 1fr; gap: 10px; font-size: 14px; }
.tag { display: inline-block; border-radius: 5px; padding: 0 8px; font-size: 12px;
  font-weight: 650; text-align: center; height: 22px; line-height: 22px; }
.tag.covered { background: var(--covered-bg); color: var(--covered); }
.tag.partial { background: var(--partial-bg); color: var(--partial); }
.tag.missed { background: var(--missed-bg); color: var(--missed); }
.quote { font-style: italic; }
.hint { color: var(--muted); }
.warn { background: #fff7e0; border-radius: 6px; padding: 6px 10px; font-size: 14px;
  margin: 10px 0 0; }
footer { color: var(--muted); font-size: 13px; padding: 10px 0 40px; }
@media print {
  body { background: #fff; } header.top { background: #fff; color: var(--ink); }
  section.card, article.answer { break-inside: avoid; border-color: #ccc; }
  .back, nav.toc { display: none; }
}
</style>
</head>
<body>
<header class="top" id="top">
  <div class="wrap">
    <h1>{{ title }}</h1>
    <p class="meta">{% if source %}{{ source }} · {% endif %}{{ summary.rows }} answers:
      {{ summary.scored }} scored{% if summary.failed %}, {{ summary.failed }} not scored{% endif %}</p>
    <nav class="toc">
      {% for q in questions %}<a href="#{{ q.anchor }}">{{ q.stats.rubric.id }}</a>{% endfor %}
      {% if summary.error_rows %}<a href="#not-scored">Rows not scored</a>{% endif %}
      <a href="#answers">Answers in detail</a>
    </nav>
  </div>
</header>
<main class="wrap">

<section class="card" id="overview">
  <h2>The class at a glance</h2>
  <div class="overview-grid">
  {% for q in questions %}
    {% set s = q.stats %}
    <div class="qcard">
      <h3><a href="#{{ q.anchor }}">{{ s.rubric.id }}</a></h3>
      <div class="note">{{ s.answers }} answers{% if s.errors %}, {{ s.errors }} not scored{% endif %}</div>
      {% if s.answers %}
      <div class="meter"><i style="width: {{ '%.1f' % (100 * s.mean / s.rubric.max_score) }}%"></i></div>
      <div>mean <b>{{ s.mean|mean }}</b> / {{ s.rubric.max_score|num }} · median {{ s.median|num }}</div>
      {% endif %}
    </div>
  {% endfor %}
  </div>
  {% if most_missed %}
  <h3>Points most often missed</h3>
  <ol class="missed">
  {% for m in most_missed %}
    <li><span class="share">{{ m.missed_share|pct }}</span> missed
      <b>{{ m.question_id }} · {{ m.number }} {{ m.point_id }}</b>
      <span class="note">({{ m.missed }} of {{ m.answers }}{% if m.partial %}; {{ m.partial }} more only partly{% endif %})</span>
      <p class="hint">{{ m.text }}</p></li>
  {% endfor %}
  </ol>
  {% endif %}
</section>

{% for q in questions %}
{% set s = q.stats %}
{% set rubric = s.rubric %}
<section class="card question" id="{{ q.anchor }}">
  <h2>{{ rubric.question }}</h2>
  <p class="question-text"><span class="qid">{{ rubric.id }}</span>{% if rubric.subject %} · {{ rubric.subject }}{% endif %}</p>
  <div class="stats">
    <div class="stat"><b>{{ s.answers }}</b><span>answers scored</span></div>
    <div class="stat"><b>{{ s.mean|mean }}</b><span>mean score (out of {{ rubric.max_score|num }})</span></div>
    <div class="stat"><b>{{ s.median|num if s.answers else '–' }}</b><span>median score</span></div>
    {% if s.errors %}<div class="stat"><b>{{ s.errors }}</b><span>not scored</span></div>{% endif %}
  </div>
  {% if s.answers %}
  <div class="charts">
    <figure><figcaption>Score distribution</figcaption>{{ q.distribution }}</figure>
    <figure><figcaption>Share of the class making each point</figcaption>{{ q.coverage }}</figure>
  </div>
  <ol class="points-key">
  {% for p in rubric.points %}<li><b>{{ p.id }}</b> — {{ p.text }}</li>{% endfor %}
  </ol>
  {% if q.missed %}
  <h3>Points most often missed</h3>
  <ol class="missed">
  {% for m in q.missed %}
    <li><span class="share">{{ m.missed_share|pct }}</span> missed <b>{{ m.number }} {{ m.point_id }}</b>
      <span class="note">({{ m.missed }} of {{ m.answers }}{% if m.partial %}; {{ m.partial }} more only partly{% endif %})</span>
      {% if m.hint %}<p class="hint">To reteach: {{ m.hint }}</p>{% endif %}</li>
  {% endfor %}
  </ol>
  {% endif %}
  <h3>Students</h3>
  <table class="students">
    <thead><tr><th>Student</th><th class="num">Line</th><th>Score</th>
      {% for p in rubric.points %}<th class="pt" title="{{ p.id }}: {{ p.text }}">{{ loop.index }}</th>{% endfor %}
      <th>Notes</th></tr></thead>
    <tbody>
    {% for item in q.rows %}
      {% set r = item.result %}
      <tr class="student" data-line="{{ item.row.line }}">
        <td><a href="#line-{{ item.row.line }}">{{ item.row.label }}</a></td>
        <td class="num">{{ item.row.line }}</td>
        <td class="num">{{ r.score|num }} / {{ r.max_score|num }}<span class="scorebar"><i style="width: {{ '%.0f' % (100 * r.score / r.max_score) }}%"></i></span></td>
        {% for p in r.points %}<td class="pt"><span class="st {{ p.status }}" title="{{ p.point_id }}: {{ LABELS[p.status] }}">{{ SYMBOLS[p.status] }}</span></td>{% endfor %}
        <td class="note">{{ r.warnings|join(' ') }}</td>
      </tr>
    {% endfor %}
    </tbody>
  </table>
  <p class="legend"><span class="st covered">✓</span> covered &nbsp; <span class="st partial">~</span> partly &nbsp; <span class="st missed">✗</span> missed · click a student to read the answer with its evidence marked.</p>
  {% if s.answers > q.rows|length %}
  <p class="warn">The charts and counts cover all {{ s.answers }} answers; only the first {{ q.rows|length }} are listed here and in detail below (the limit is {{ detail_limit }} per question). The results file has every row.</p>
  {% endif %}
  {% endif %}
</section>
{% endfor %}

{% if summary.error_rows %}
<section class="card" id="not-scored">
  <h2>Rows not scored ({{ summary.failed }})</h2>
  <table>
    <thead><tr><th class="num">Line</th><th>Student</th><th>Question</th><th>Problem</th></tr></thead>
    <tbody>
    {% for item in summary.error_rows %}
      <tr class="error-row"><td class="num">{{ item.row.line }}</td><td>{{ item.row.student_id }}</td>
        <td>{{ item.row.question_id }}</td><td>{{ item.error.message }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% if summary.failed > summary.error_rows|length %}
  <p class="note">Only the first {{ summary.error_rows|length }} are listed; the results file marks every one.</p>
  {% endif %}
</section>
{% endif %}

<section id="answers">
  <h2 style="margin-top: 30px">Answers in detail</h2>
  {% if not summary.scored %}<p class="note">No answer was scored.</p>{% endif %}
  {% for q in questions %}
  {% for item in q.rows %}
    {% set r = item.result %}
    <article class="answer" id="line-{{ item.row.line }}">
      <header>
        <h3>{{ item.row.label }}</h3>
        <span class="qid">{{ r.question_id }} · line {{ item.row.line }}</span>
        <span class="score-pill">{{ r.score|num }} / {{ r.max_score|num }}</span>
        <a class="back" href="#{{ q.anchor }}">back to the class</a>
      </header>
      <div class="text">{% for seg in segments(item.row.answer, r) %}{% if seg.status %}<mark class="{{ seg.status }}" title="evidence for point {{ seg.numbers|join(', ') }}">{{ seg.text }}</mark><sup class="refs">{{ seg.numbers|join(',') }}</sup>{% else %}{{ seg.text }}{% endif %}{% endfor %}</div>
      <ul class="points">
      {% for p in r.points %}
        <li><span class="tag {{ p.status }}">{{ SYMBOLS[p.status] }} {{ LABELS[p.status] }}</span>
          <span><b>{{ loop.index }} {{ p.point_id }}</b>
          {% if p.quote %} — <span class="quote">“{{ p.quote }}”</span>{% endif %}
          {% if p.note %}<br><span class="hint">{{ p.note }}</span>{% endif %}
          {% if p.hint %}<br><span class="hint">Next step: {{ p.hint }}</span>{% endif %}</span></li>
      {% endfor %}
      </ul>
      {% for w in r.warnings %}<p class="warn">{{ w }}</p>{% endfor %}
    </article>
  {% endfor %}
  {% endfor %}
</section>
</main>
<footer class="wrap">Made by essaycheck on this computer; nothing was sent anywhere. Marks are
suggestions from the rubric's keywords and wording: read the answers before you grade.</footer>
</body>
</html>
"""
