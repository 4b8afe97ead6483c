"""The class report: `python -m autograder report DIR` writes DIR/report/index.html.

It reads only DIR/grades.csv (and the course's declarations, for the hint sentence of each
named mistake) and writes one self-contained page: inline CSS, no script, no address
outside the page, every figure embedded as a `data:` URI and also written beside the page
as a PNG file, for slides. Per assignment it shows the distribution of the students'
totals, each question's mean score and share of full marks, the most common named
mistakes with their hints, the statuses that are not about the student's answer with the
students they concern, and how well each question discriminates (its corrected
item-total correlation).

The numbers come from `class_statistics`, a pure function of grades.csv's rows; the page
only renders them.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import os
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.course import graded_cells
from autograder.exercises import ASSIGNMENTS, exercises
from autograder.export import read_grades
from autograder.records import Row
from autograder.submissions import REFUSED_STATUSES, GradingError

NOT_ABOUT_THE_ANSWER: dict[str, str] = {
    "timeout": "the cell or the notebook went over its time limit: an endless loop, or a "
               "limit too tight for the machine",
    "kernel_died": "the Python kernel stopped (exit called, a crash, or a memory, CPU-time "
                   "or process limit): nothing after it was judged",
    "no_result": "the cell produced no result, as when the kernel was stopped before it ran",
    "unreadable_notebook": "the file handed in is not a notebook the grader can read",
    "missing_submission": "no notebook was handed in for this assignment",
    "symlink_refused": "the submission is a symbolic link, which the grader never follows",
    "grading_failed": "the grader's own machinery failed; a rerun of `grade` retries it",
    "cell_missing": "the graded test cell is gone from the notebook (deleted or its "
                    "metadata changed), so there was nothing to run",
    "not_scored": "the checks passed but nbgrader did not award the points",
}
"""Statuses of grades.csv that say nothing about the student's answer, with why each is one.

A score of 0 with one of these is not a judgement of the code the student wrote: the
notebook was not there or not readable, the kernel or the grader stopped, or the points got
lost on the way. They need an instructor's look (a rerun, a late submission, a word with the
student), not a hint, so the report lists them apart, student by student. Every other
status (wrong_answer, not_implemented, exception, ...) is a verdict on the answer."""

NOT_GRADED = REFUSED_STATUSES
"""Statuses that a submission gets on every row when it could not be graded at all: its
student is counted, but left out of the assignment's statistics (totals, question means,
correlations), which describe the submissions the grader read."""

DISCRIMINATION_THRESHOLD = 0.2
"""A corrected item-total correlation below this flags a question that tells little about
who does well on the rest of the assignment (a usual rule of thumb for classroom tests)."""

TOP_MISTAKES = 10
"""How many named mistakes the report shows per question, the most common first."""

REPORT_PAGE = "index.html"
FULL_MARKS_TOLERANCE = 1e-9


@dataclass(frozen=True)
class QuestionStats:
    """One graded test cell over the assignment's graded submissions."""

    grade_id: str
    points: float
    mean: float
    """Mean score, in points (nan when no submission was graded)."""
    full_share: float
    """Share of the graded submissions with full marks, 0 to 1 (nan when none)."""
    correlation: float | None
    """Corrected item-total correlation; None when undefined (every student the same
    score on the question, or on the rest, or fewer than three students)."""

    @property
    def flagged(self) -> bool:
        """True when the question discriminates poorly or the correlation is undefined."""
        return self.correlation is None or self.correlation < DISCRIMINATION_THRESHOLD


@dataclass(frozen=True)
class MistakeCount:
    """A named mistake of one question and how many students made it."""

    grade_id: str
    mistake: str
    count: int
    hint: str | None
    """The declared hint sentence; None when the id is no longer declared."""
    message: str
    """The message of one row that named it (shown when the id is no longer declared)."""


@dataclass(frozen=True)
class AssignmentStats:
    """Everything the report shows for one assignment."""

    assignment: str
    students: int
    """Students with rows for the assignment in grades.csv."""
    submitted: int
    """Students who handed a notebook in (no `missing_submission`)."""
    graded: tuple[str, ...]
    """Students whose submission was graded (no status of NOT_GRADED), sorted."""
    max_points: float
    totals: tuple[float, ...]
    """The graded students' totals, in the order of `graded`."""
    questions: tuple[QuestionStats, ...]
    """In notebook order (questions the master no longer has come last)."""
    mistakes: dict[str, tuple[MistakeCount, ...]]
    """{grade_id: the TOP_MISTAKES most common named mistakes, most common first}."""
    not_about_the_answer: dict[str, tuple[str, ...]]
    """{status of NOT_ABOUT_THE_ANSWER: the students with it on any row, sorted}."""

    @property
    def mean(self) -> float:
        """Mean total of the graded students (nan when none)."""
        return statistics.fmean(self.totals) if self.totals else float("nan")

    @property
    def median(self) -> float:
        """Median total of the graded students (nan when none)."""
        return statistics.median(self.totals) if self.totals else float("nan")


@dataclass(frozen=True)
class ClassStatistics:
    """The class report's numbers: the whole class, then each assignment."""

    students: int
    """Distinct student ids in grades.csv."""
    submissions: int
    """(student, assignment) pairs with a notebook handed in."""
    assignments: tuple[AssignmentStats, ...]
    """In course order (assignments the course no longer has come last)."""


def _course_order(assignment: str) -> tuple[int, str]:
    return (ASSIGNMENTS.index(assignment) if assignment in ASSIGNMENTS else len(ASSIGNMENTS),
            assignment)


def _notebook_order(assignment: str, seen: Iterable[str]) -> list[str]:
    """The grade_ids `seen` in grades.csv, in the master's order, unknown ones last."""
    declared = ([g for g, _ in graded_cells(assignment)] if assignment in ASSIGNMENTS else [])
    seen = list(dict.fromkeys(seen))
    return [g for g in declared if g in seen] + [g for g in seen if g not in declared]


def _hint(assignment: str, grade_id: str, mistake: str) -> str | None:
    try:
        return exercises(assignment)[grade_id].mistakes.get(mistake)
    except KeyError:
        return None


def item_total_correlations(scores: np.ndarray) -> list[float | None]:
    """Corrected item-total correlation of each column of `scores`.

    Parameters: scores, a (students, questions) array of points. Returns, per question, the
    Pearson correlation of its scores with each student's total of the other questions;
    None where it is undefined (a constant vector, or fewer than three students).
    """
    result: list[float | None] = []
    if scores.ndim != 2 or scores.shape[0] < 3:
        return [None] * (scores.shape[1] if scores.ndim == 2 else 0)
    rest = scores.sum(axis=1, keepdims=True) - scores
    x = scores - scores.mean(axis=0)
    y = rest - rest.mean(axis=0)
    cov = (x * y).sum(axis=0)
    spread = np.sqrt((x * x).sum(axis=0) * (y * y).sum(axis=0))
    for c, s, col, other in zip(cov, spread, scores.T, rest.T, strict=True):
        constant = np.ptp(col) <= FULL_MARKS_TOLERANCE or np.ptp(other) <= FULL_MARKS_TOLERANCE
        result.append(None if constant or s == 0 else float(c / s))
    return result


def _assignment_stats(assignment: str, rows: Sequence[Row]) -> AssignmentStats:
    students = sorted({r.student_id for r in rows})
    missing = {r.student_id for r in rows if r.status == "missing_submission"}
    ungraded = {r.student_id for r in rows if r.status in NOT_GRADED}
    graded = [s for s in students if s not in ungraded]
    order = _notebook_order(assignment, (r.grade_id for r in rows))
    column = {g: i for i, g in enumerate(order)}
    row_of = {s: i for i, s in enumerate(graded)}
    scores = np.zeros((len(graded), len(order)))
    full = np.zeros((len(graded), len(order)), dtype=bool)
    points = dict.fromkeys(order, 0.0)
    at_i: list[int] = []
    at_j: list[int] = []
    got: list[float] = []
    whole: list[bool] = []
    mistakes: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], str] = {}
    others: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        points[r.grade_id] = max(points[r.grade_id], r.max_score)
        i = row_of.get(r.student_id)
        if i is not None:
            at_i.append(i)
            at_j.append(column[r.grade_id])
            got.append(r.score)
            whole.append(r.score >= r.max_score - FULL_MARKS_TOLERANCE)
        if r.mistake:
            key = (r.grade_id, r.mistake)
            mistakes[key] += 1
            example.setdefault(key, r.message)
        if r.status in NOT_ABOUT_THE_ANSWER:
            others[r.status].add(r.student_id)
    scores[at_i, at_j] = got
    full[at_i, at_j] = whole
    correlations = item_total_correlations(scores)
    n = len(graded)
    questions = tuple(
        QuestionStats(g, points[g],
                      float(scores[:, j].mean()) if n else float("nan"),
                      float(full[:, j].mean()) if n else float("nan"),
                      correlations[j] if n else None)
        for j, g in enumerate(order))
    by_question: dict[str, list[MistakeCount]] = defaultdict(list)
    for (g, m), count in sorted(mistakes.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(by_question[g]) < TOP_MISTAKES:
            by_question[g].append(MistakeCount(g, m, count, _hint(assignment, g, m),
                                               example[(g, m)]))
    return AssignmentStats(
        assignment=assignment, students=len(students), submitted=len(students) - len(missing),
        graded=tuple(graded), max_points=sum(points.values()),
        totals=tuple(float(t) for t in scores.sum(axis=1)), questions=questions,
        mistakes={g: tuple(by_question[g]) for g in order if by_question.get(g)},
        not_about_the_answer={s: tuple(sorted(others[s]))
                              for s in NOT_ABOUT_THE_ANSWER if others.get(s)})


def class_statistics(rows: Iterable[Row]) -> ClassStatistics:
    """The report's numbers from grades.csv's rows (see `read_grades`).

    Parameters: rows, the rows of grades.csv. Returns the class's ClassStatistics: per
    assignment (course order) its AssignmentStats.
    """
    per_assignment: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        per_assignment[r.assignment].append(r)
    stats = tuple(_assignment_stats(a, per_assignment[a])
                  for a in sorted(per_assignment, key=_course_order))
    students = {r.student_id for a in per_assignment.values() for r in a}
    return ClassStatistics(students=len(students),
                           submissions=sum(a.submitted for a in stats), assignments=stats)


# ---------------------------------------------------------------- figures

FIGURE_WIDTH_IN, FIGURE_DPI = 11.0, 110
"""Figures are about 1200 px wide: they read at 1280 px and fill a slide."""
COLOURS = {"score": "#3b6ea8", "full": "#e08a2c", "good": "#3b8a4a", "flag": "#c0392b"}


def _mpl_text(text: str) -> str:
    """`text` for a matplotlib label: a `$` would otherwise start a formula."""
    return text.replace("$", r"\$")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 12, "axes.titlesize": 15, "axes.labelsize": 13,
                         "xtick.labelsize": 11, "ytick.labelsize": 11,
                         "legend.fontsize": 11, "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI,
                metadata={"Software": None})
    return buffer.getvalue()


def _totals_figure(plt, a: AssignmentStats) -> bytes:
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 3.7), layout="constrained")
    top = a.max_points
    if a.totals:
        width = max(1.0, float(np.ceil(top / 40)))  # one bar per point up to 40 points
        bins = np.arange(-width / 2, top + width, width)
        ax.hist(a.totals, bins=bins, color=COLOURS["score"], edgecolor="white")
        ax.axvline(a.mean, color=COLOURS["full"], linewidth=2.5,
                   label=f"mean {a.mean:.1f}")
        ax.axvline(a.median, color="#222222", linewidth=2, linestyle="--",
                   label=f"median {a.median:.1f}")
        ax.legend(loc="upper left", frameon=False)
    else:
        ax.text(0.5, 0.5, "no graded submission", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xlim(-0.5, top + 0.5)
    ax.set_title(_mpl_text(f"{a.assignment}: totals of {len(a.totals)} graded students "
                           f"(out of {top:g} points)"))
    ax.set_xlabel("total score (points)")
    ax.set_ylabel("students (count)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    try:
        return _png(fig)
    finally:
        plt.close(fig)


def _questions_figure(plt, a: AssignmentStats) -> bytes:
    n = len(a.questions)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 1.6 + 0.55 * max(n, 1)),
                           layout="constrained")
    y = np.arange(n)
    mean_share = [100 * q.mean / q.points if q.points else 0 for q in a.questions]
    full_share = [100 * q.full_share for q in a.questions]
    for bars in (ax.barh(y - 0.2, mean_share, height=0.4, color=COLOURS["score"],
                         label="mean score (% of the question's points)"),
                 ax.barh(y + 0.2, full_share, height=0.4, color=COLOURS["full"],
                         label="full marks (% of students)")):
        if a.graded:
            ax.bar_label(bars, fmt="%.0f%%", padding=3, fontsize=10)
    if not a.graded:
        ax.text(0.5, 0.5, "no graded submission", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_yticks(y, [_mpl_text(q.grade_id) for q in a.questions])
    ax.invert_yaxis()
    ax.set_xlim(0, 108)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel("percent (%)")
    ax.set_title(_mpl_text(f"{a.assignment}: per question, {len(a.graded)} graded students"))
    fig.legend(loc="outside lower center", ncol=2, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    try:
        return _png(fig)
    finally:
        plt.close(fig)


def _correlation_figure(plt, a: AssignmentStats) -> bytes:
    from matplotlib.patches import Patch

    n = len(a.questions)
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH_IN, 1.6 + 0.45 * max(n, 1)),
                           layout="constrained")
    y = np.arange(n)
    values = [q.correlation if q.correlation is not None else 0.0 for q in a.questions]
    colours = [COLOURS["flag"] if q.flagged else COLOURS["good"] for q in a.questions]
    ax.barh(y, values, height=0.6, color=colours)
    for i, q in enumerate(a.questions):
        if q.correlation is None:
            ax.text(0.01, i, "undefined: the same score for all, or under 3 students",
                    va="center", fontsize=11, color=COLOURS["flag"])
    line = ax.axvline(DISCRIMINATION_THRESHOLD, color="#222222", linestyle="--",
                      linewidth=1.5, label=f"threshold {DISCRIMINATION_THRESHOLD}")
    ax.axvline(0, color="#888888", linewidth=1)
    ax.set_yticks(y, [_mpl_text(q.grade_id) for q in a.questions])
    ax.invert_yaxis()
    ax.set_xlim(min(-0.2, min(values, default=0) - 0.05), 1)
    ax.set_xlabel("corrected item-total correlation (Pearson r, no unit)")
    ax.set_title(_mpl_text(f"{a.assignment}: how well each question discriminates"))
    fig.legend(handles=[line, Patch(color=COLOURS["good"], label="discriminates"),
                        Patch(color=COLOURS["flag"],
                              label="flagged: below the threshold or undefined")],
               loc="outside lower center", ncol=3, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    try:
        return _png(fig)
    finally:
        plt.close(fig)


# ---------------------------------------------------------------- page

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1d1d1d; background: #fafafa; line-height: 1.45; font-size: 16px; }
main { max-width: 1220px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 1.8em; margin: 0.4em 0 0.2em; }
h2 { font-size: 1.45em; margin-top: 2em; padding-top: 0.6em; border-top: 3px solid #3b6ea8; }
h3 { font-size: 1.15em; margin-top: 1.6em; }
h4 { font-size: 1em; margin: 1.2em 0 0.3em; font-family: ui-monospace, monospace; }
p.lead { color: #444; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; background: #fff; max-width: 100%; }
th, td { border: 1px solid #d6d6d6; padding: 4px 10px; text-align: left;
         vertical-align: top; overflow-wrap: anywhere; }
table.fixed { table-layout: fixed; width: 100%; }
th { background: #eef2f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.wide { width: 100%; }
tr.flag td { background: #fdecea; }
code, .id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em;
            overflow-wrap: anywhere; }
figure { margin: 0.6em 0 1em; }
img { max-width: 100%; height: auto; display: block; border: 1px solid #e3e3e3;
      background: #fff; }
.note { color: #555; font-size: 0.94em; max-width: 80ch; }
.gone { color: #a03020; }
ul.students { margin: 0.2em 0 0.8em; padding-left: 1.4em; }
nav a { margin-right: 1em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float, digits: int = 2) -> str:
    return "–" if value != value else f"{value:.{digits}f}"  # nan shows as a dash


def _pct(share: float) -> str:
    return "–" if share != share else f"{100 * share:.0f}%"


def _anchor(assignment: str) -> str:
    return "a-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in assignment)


def _figure(data: bytes, alt: str) -> str:
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<figure><img src="{uri}" alt="{_e(alt)}"></figure>'


def _summary_html(stats: ClassStatistics, csv_path: Path) -> str:
    stamp = datetime.datetime.fromtimestamp(csv_path.stat().st_mtime, datetime.timezone.utc)
    rows = "".join(
        f'<tr><td><a href="#{_anchor(a.assignment)}">{_e(a.assignment)}</a></td>'
        f'<td class="num">{a.students}</td><td class="num">{a.submitted}</td>'
        f'<td class="num">{len(a.graded)}</td>'
        f'<td class="num">{_num(a.mean, 1)} / {a.max_points:g}</td>'
        f'<td class="num">{_num(a.median, 1)}</td>'
        f'<td class="num">{sum(q.flagged for q in a.questions)}</td></tr>'
        for a in stats.assignments)
    return (
        "<h1>Class report</h1>"
        f'<p class="lead">{len(stats.assignments)} assignments, {stats.students} students, '
        f"{stats.submissions} submissions; grades.csv of "
        f"{stamp:%Y-%m-%d %H:%M} UTC.</p>"
        '<table class="summary"><tr><th>assignment</th><th class="num">students</th>'
        '<th class="num">submitted</th><th class="num">graded</th>'
        '<th class="num">mean total</th><th class="num">median</th>'
        '<th class="num">questions flagged</th></tr>'
        f"{rows}</table>"
        '<p class="note">Submitted: a notebook was handed in. Graded: the grader could read '
        "it; totals, question statistics and correlations are over the graded students. "
        "Flagged: questions that discriminate poorly (see each assignment's last "
        "section).</p>")


def _assignment_html(a: AssignmentStats, figures: dict[str, bytes]) -> str:
    name = _e(a.assignment)
    parts = [f'<section class="assignment" data-assignment="{name}">'
             f'<h2 id="{_anchor(a.assignment)}">{name}</h2>',
             f'<p class="lead">{a.students} students in grades.csv, {a.submitted} submitted, '
             f"{len(a.graded)} graded.</p>",
             "<h3>Totals</h3>",
             f"<p>{len(a.graded)} graded students; maximum {a.max_points:g} points, mean "
             f"{_num(a.mean)}, median {_num(a.median)}.</p>",
             _figure(figures["totals"], f"histogram of the totals of {a.assignment}"),
             "<h3>Questions</h3>",
             _figure(figures["questions"], f"mean score and full marks per question of "
                                           f"{a.assignment}"),
             '<table class="wide questions"><tr><th>question (notebook order)</th>'
             '<th class="num">points</th><th class="num">mean score</th>'
             '<th class="num">mean (% of points)</th><th class="num">full marks</th></tr>']
    for q in a.questions:
        share = q.mean / q.points if q.points else float("nan")
        parts.append(f'<tr><td class="id">{_e(q.grade_id)}</td><td class="num">{q.points:g}'
                     f'</td><td class="num">{_num(q.mean)}</td><td class="num">{_pct(share)}'
                     f'</td><td class="num">{_pct(q.full_share)}</td></tr>')
    parts.append("</table>")

    parts.append("<h3>Most common named mistakes</h3>")
    if not a.mistakes:
        parts.append("<p>No named mistake in this assignment.</p>")
    for grade_id, mistakes in a.mistakes.items():
        parts.append(f"<h4>{_e(grade_id)}</h4>"
                     f'<table class="fixed mistakes" data-question="{_e(grade_id)}">'
                     '<colgroup><col style="width:24%"><col style="width:9%">'
                     '<col></colgroup><tr><th>mistake</th><th class="num">students</th>'
                     "<th>hint the students were given</th></tr>")
        for m in mistakes:
            hint = (_e(m.hint) if m.hint is not None else
                    '<span class="gone">this id is no longer declared; one student\'s '
                    f"message:</span> {_e(m.message)}")
            parts.append(f'<tr><td class="id">{_e(m.mistake)}</td><td class="num">{m.count}'
                         f"</td><td>{hint}</td></tr>")
        parts.append("</table>")

    parts.append("<h3>Not about the answer</h3>")
    if not a.not_about_the_answer:
        parts.append("<p>Every row is a verdict on a student's answer.</p>")
    else:
        parts.append('<table class="fixed statuses"><colgroup><col style="width:20%">'
                     '<col style="width:9%"><col></colgroup>'
                     '<tr><th>status</th><th class="num">students</th>'
                     "<th>students affected</th></tr>")
        for status, students in a.not_about_the_answer.items():
            parts.append(
                f'<tr><td class="id">{_e(status)}</td><td class="num">{len(students)}</td>'
                f'<td><span class="note">{_e(NOT_ABOUT_THE_ANSWER[status])}.</span><br>'
                + ", ".join(f'<span class="id student">{_e(s)}</span>' for s in students)
                + "</td></tr>")
        parts.append("</table>")

    parts.append("<h3>Which questions discriminate</h3>")
    parts.append(
        '<p class="note">For each question: the correlation between its score and the '
        "total of the other questions, over the graded students. Near 1, the students who "
        "do well on it are those who do well on the rest; near 0 or below, it measures "
        f"something else (or it is too easy or too hard). Below {DISCRIMINATION_THRESHOLD} "
        "or undefined (every student the same score, or fewer than three students) is "
        "flagged: look at the question.</p>")
    parts.append(_figure(figures["discrimination"],
                         f"corrected item-total correlation per question of {a.assignment}"))
    parts.append('<table class="wide discrimination"><tr><th>question</th>'
                 '<th class="num">correlation</th>'
                 "<th>reading</th></tr>")
    for q in a.questions:
        if q.correlation is None:
            reading = ("undefined: every graded student has the same score (or the same "
                       "rest), or there are fewer than three")
        elif q.flagged:
            reading = f"below {DISCRIMINATION_THRESHOLD}: discriminates poorly"
        else:
            reading = "discriminates"
        value = "–" if q.correlation is None else f"{q.correlation:.2f}"
        parts.append(f'<tr{" class=flag" if q.flagged else ""}><td class="id">'
                     f'{_e(q.grade_id)}</td><td class="num">{value}</td><td>{reading}</td></tr>')
    parts.append("</table></section>")
    return "".join(parts)


def figure_name(assignment: str, kind: str) -> str:
    """File name of one of the report's PNG figures.

    Parameters: assignment, the assignment; kind, "totals", "questions" or
    "discrimination". Returns a file name without any path separator.
    """
    return f"{_anchor(assignment)[2:]}-{kind}.png"


def write_report(out_dir: str | os.PathLike[str],
                 report_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write the class report of a graded folder.

    Parameters: out_dir, the folder `python -m autograder grade --out` wrote (its
    grades.csv is all that is read); report_dir, where to write index.html and the PNG
    figures (default: out_dir/report). Returns the path of index.html. Raises
    GradingError when grades.csv is missing or not grades.csv as the grader writes it.
    """
    out = Path(out_dir)
    csv_path = out / "grades.csv"
    stats = class_statistics(read_grades(csv_path))
    target = Path(report_dir) if report_dir is not None else out / "report"
    if target.exists() and not target.is_dir():
        raise GradingError(f"{target} is a file: give --to a folder for the report")
    target.mkdir(parents=True, exist_ok=True)
    plt = _pyplot()
    body = [_summary_html(stats, csv_path)]
    if stats.assignments:
        body.append("<nav>" + "".join(f'<a href="#{_anchor(a.assignment)}">'
                                      f"{_e(a.assignment)}</a>"
                                      for a in stats.assignments) + "</nav>")
    else:
        body.append("<p>grades.csv has no rows: nothing was graded yet.</p>")
    for a in stats.assignments:
        figures = {"totals": _totals_figure(plt, a), "questions": _questions_figure(plt, a),
                   "discrimination": _correlation_figure(plt, a)}
        for kind, data in figures.items():
            (target / figure_name(a.assignment, kind)).write_bytes(data)
        body.append(_assignment_html(a, figures))
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>Class report</title>"
            f"<style>{CSS}</style></head><body><main>{''.join(body)}</main></body></html>\n")
    path = target / REPORT_PAGE
    path.write_text(page, encoding="utf-8")
    return path
