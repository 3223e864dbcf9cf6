"""The class report: one self-contained HTML page from a ``ClassSummary``.

The page needs no network: CSS is inline and the charts are SVG drawn with matplotlib and
embedded in the page. Student text is escaped by Jinja2's autoescape and evidence is wrapped in
``<mark>``. The page's template is ``report.html`` beside the student page's templates (found
by ``resources.templates_dir``, which Jinja's loader reads); this module returns text.

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

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .csvio import RowResult
from .formatting import evidence_runs, format_number, truncate
from .resources import templates_dir
from .results import COVERED, MISSED, PARTIAL
from .scoring import ClassSummary, QuestionStats

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
    labels = [f"{i}  {truncate(p.id, 26)}" for i, p in enumerate(points, 1)]
    y = list(range(len(points)))
    left = [0.0] * len(points)
    for status in (COVERED, PARTIAL, MISSED):
        shares = [stats.share(p.id, status) * 100 for p in points]
        axes.barh(y, shares, left=left, color=COLOURS[status], height=0.66,
                  label=LABELS[status], zorder=2)
        left = [a + b for a, b in zip(left, shares, strict=True)]
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


#: The page's template, in the same folder as the student page's templates.
TEMPLATE_NAME = "report.html"


def _environment() -> Environment:
    """The Jinja environment of the report: templates from ``resources.templates_dir()``,
    everything escaped (the whole page holds student text), whitespace of the tags trimmed."""
    env = Environment(loader=FileSystemLoader(templates_dir()), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
    env.filters["num"] = format_number
    env.filters["pct"] = lambda value: f"{value:.0%}"
    env.filters["mean"] = lambda value: "–" if value is None else f"{value:.1f}"
    env.globals.update(SYMBOLS=SYMBOLS, LABELS=LABELS, COVERED=COVERED, PARTIAL=PARTIAL,
                       MISSED=MISSED, evidence_runs=evidence_runs)
    return env


def render_report(summary: ClassSummary, *, source: str = "", title: str = "Class report"
                  ) -> str:
    """The class report as one HTML document (text)."""
    views = []
    for index, stats in enumerate(summary.asked, 1):
        anchor = f"q{index}"
        views.append(QuestionView(
            stats=stats, anchor=anchor,
            distribution=(distribution_chart(stats, f"{anchor}-scores") if stats.answers
                          else Markup()),
            coverage=coverage_chart(stats, f"{anchor}-points") if stats.answers else Markup(),
            missed=summary.most_missed(limit=3, question_id=stats.rubric.id),
            rows=stats.details))
    return _environment().get_template(TEMPLATE_NAME).render(
        title=title, source=source, summary=summary, questions=views,
        most_missed=summary.most_missed(limit=5), detail_limit=summary.detail_limit)

