"""The class report (`python -m autograder report DIR`), checked against grades.csv.

- The page and its PNG figures are written; the page is self-contained (no script, no
  address outside it).
- Every number shown agrees with an independent count from grades.csv: each question's
  mean and full-marks share, each named mistake's count (the list shows the ten largest),
  the students of each status that is not about the answer, the students counted, and the
  corrected item-total correlations (against numpy's corrcoef).
- Untrusted text (student ids, messages) is escaped; neutralised fields show as written.
- Bad input stops with a clear error, in Python and on the command line.
- In Chromium at 1280x800: no horizontal overflow, every figure loaded; a screenshot goes to
  test-artifacts/report/ (or $COURSE_TEST_ARTIFACTS/report/).
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autograder.__main__ import main
from autograder.export import CSV_COLUMNS, FORMULA_STARTS, TEXT_COLUMNS, neutralise, read_grades
from autograder.lms import read_totals
from autograder.records import Row
from autograder.report import (
    DISCRIMINATION_THRESHOLD,
    NOT_ABOUT_THE_ANSWER,
    NOT_GRADED,
    TOP_MISTAKES,
    class_statistics,
    write_report,
)
from autograder.submissions import GradingError
from tests.helpers import REPO

ARTIFACTS = Path(os.environ.get("COURSE_TEST_ARTIFACTS", REPO / "test-artifacts")) / "report"
MIN_FIGURE = (800, 250)
"""Smallest width and height (pixels) of a figure that reads on a 1280 px wide page."""


class Page(HTMLParser):
    """The report's tables as text: [{"class", "assignment", "question", "rows"}], each row a
    list of cells {"text", "students"}; and every tag seen (to look for scripts)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.tags: list[str] = []
        self.images: list[str] = []
        self.lead: list[str] = []
        self._assignment = None
        self._cell = None
        self._student = None
        self._in_lead = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "section":
            self._assignment = attrs.get("data-assignment")
        elif tag == "table":
            self.tables.append({"class": (attrs.get("class") or "").split(),
                                "assignment": self._assignment,
                                "question": attrs.get("data-question"), "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = {"text": "", "students": []}
            self.tables[-1]["rows"][-1].append(self._cell)
        elif tag == "span" and "student" in (attrs.get("class") or "").split():
            self._student = ""
        elif tag == "img":
            self.images.append(attrs.get("src") or "")
        elif tag == "p" and "lead" in (attrs.get("class") or "").split() and not self.lead:
            self._in_lead = True
            self.lead.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None
        elif tag == "span" and self._student is not None:
            self._cell["students"].append(self._student)
            self._student = None
        elif tag == "p":
            self._in_lead = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        if self._student is not None:
            self._student += data
        if self._in_lead:
            self.lead[-1] += data

    def table(self, kind: str, assignment: str | None = None, question: str | None = None):
        """The data rows (header left out) of the one table of `kind` there."""
        found = [t for t in self.tables if kind in t["class"]
                 and (assignment is None or t["assignment"] == assignment)
                 and (question is None or t["question"] == question)]
        assert len(found) == 1, (kind, assignment, question, len(found))
        return found[0]["rows"][1:]

    def tables_of(self, kind: str, assignment: str) -> list[dict]:
        return [t for t in self.tables if kind in t["class"] and t["assignment"] == assignment]


def shown(text: str) -> str:
    """A field of grades.csv as the report must show it (without a neutralising quote)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def expected_class(rows: list[dict]) -> dict:
    """An independent count from grades.csv's rows (csv.DictReader's dicts)."""
    per = defaultdict(list)
    for raw in rows:
        r = {k: shown(v) if k in TEXT_COLUMNS else v for k, v in raw.items()}
        per[r["assignment"]].append(r)
    result = {}
    for assignment, mine in per.items():
        students = {r["student_id"] for r in mine}
        ungraded = {r["student_id"] for r in mine if r["status"] in NOT_GRADED}
        graded = sorted(students - ungraded)
        grade_ids = list(dict.fromkeys(r["grade_id"] for r in mine))
        score = {(r["student_id"], r["grade_id"]): float(r["score"]) for r in mine}
        points = {g: max(float(r["max_score"]) for r in mine if r["grade_id"] == g)
                  for g in grade_ids}
        matrix = np.array([[score.get((s, g), 0.0) for g in grade_ids] for s in graded])
        statuses = defaultdict(set)
        for r in mine:
            if r["status"] in NOT_ABOUT_THE_ANSWER:
                statuses[r["status"]].add(r["student_id"])
        result[assignment] = {
            "students": len(students),
            "submitted": len(students - {r["student_id"] for r in mine
                                         if r["status"] == "missing_submission"}),
            "graded": graded, "grade_ids": grade_ids, "points": points, "matrix": matrix,
            "mistakes": Counter((r["grade_id"], r["mistake"]) for r in mine if r["mistake"]),
            "statuses": statuses}
    return result


def corrcoef_or_none(x: np.ndarray, y: np.ndarray) -> float | None:
    """numpy's Pearson correlation of x and y; None where a vector is constant."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


@pytest.fixture(scope="module")
def report(graded_class, tmp_path_factory):
    """The graded class's report, written outside the (read-only) class folder."""
    folder = tmp_path_factory.mktemp("report")
    path = write_report(graded_class.out, folder)
    return {"path": path, "folder": folder, "text": path.read_text(encoding="utf-8"),
            "rows": graded_class.rows(), "out": graded_class.out}


def test_page_and_figures_are_written_self_contained(report):
    text = report["text"]
    assert report["path"] == report["folder"] / "index.html"
    page = Page(text)
    pngs = sorted(report["folder"].glob("*.png"))
    assignments = {r["assignment"] for r in report["rows"]}
    assert len(pngs) == 3 * len(assignments)
    for png in pngs:
        with Image.open(png) as image:
            image.verify()
        with Image.open(png) as image:
            assert image.format == "PNG"
            assert image.width >= MIN_FIGURE[0] and image.height >= MIN_FIGURE[1], png.name
    assert len(page.images) == len(pngs)
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    # the same figures as the files beside the page
    import base64
    embedded = {base64.b64decode(src.split(",", 1)[1]) for src in page.images}
    assert embedded == {png.read_bytes() for png in pngs}
    assert "<script" not in text.lower() and "script" not in page.tags
    assert "http:" not in text.lower() and "https:" not in text.lower()


def test_students_counted(report):
    rows, page = report["rows"], Page(report["text"])
    expected = expected_class(rows)
    students = len({r["student_id"] for r in rows})
    submissions = sum(e["submitted"] for e in expected.values())
    assert f"{students} students" in page.lead[0]
    assert f"{submissions} submissions" in page.lead[0]
    summary = {row[0]["text"]: row for row in page.table("summary")[0:]}
    assert set(summary) == set(expected)
    for assignment, e in expected.items():
        cells = [c["text"] for c in summary[assignment]]
        assert cells[1:4] == [str(e["students"]), str(e["submitted"]), str(len(e["graded"]))]


def test_question_means_and_full_marks(report):
    rows, page = report["rows"], Page(report["text"])
    stats = {a.assignment: a for a in class_statistics(read_grades(report["out"] /
                                                                   "grades.csv")).assignments}
    for assignment, e in expected_class(rows).items():
        table = page.table("questions", assignment)
        assert sorted(row[0]["text"] for row in table) == sorted(e["grade_ids"])
        for row in table:
            grade_id = row[0]["text"]
            j = e["grade_ids"].index(grade_id)
            column = e["matrix"][:, j]
            mean = column.mean()
            full = (column >= e["points"][grade_id]).mean()
            assert float(row[1]["text"]) == e["points"][grade_id]
            assert abs(float(row[2]["text"]) - mean) <= 0.005 + 1e-9, (assignment, grade_id)
            assert abs(float(row[4]["text"].rstrip("%")) - 100 * full) <= 0.5 + 1e-9
            q = next(q for q in stats[assignment].questions if q.grade_id == grade_id)
            assert q.mean == pytest.approx(mean) and q.full_share == pytest.approx(full)
        totals = e["matrix"].sum(axis=1)
        assert stats[assignment].totals == pytest.approx(list(totals))
        assert stats[assignment].max_points == sum(e["points"].values())


def test_questions_in_notebook_order(report):
    from autograder.course import graded_cells

    page = Page(report["text"])
    for assignment in expected_class(report["rows"]):
        order = [g for g, _ in graded_cells(assignment)]
        assert [row[0]["text"] for row in page.table("questions", assignment)] == order


def test_named_mistakes_counted(report):
    page = Page(report["text"])
    for assignment, e in expected_class(report["rows"]).items():
        per_question = defaultdict(dict)
        for (grade_id, mistake), count in e["mistakes"].items():
            per_question[grade_id][mistake] = count
        tables = page.tables_of("mistakes", assignment)
        assert {t["question"] for t in tables} == set(per_question)
        for grade_id, counts in per_question.items():
            listed = {row[0]["text"]: int(row[1]["text"])
                      for row in page.table("mistakes", assignment, grade_id)}
            assert len(listed) == min(TOP_MISTAKES, len(counts))
            assert all(counts[m] == c for m, c in listed.items())
            assert sorted(listed.values(), reverse=True) == sorted(
                counts.values(), reverse=True)[:TOP_MISTAKES]


def test_top_mistakes_are_the_largest():
    """A question with more named mistakes than the list holds: the largest are kept."""
    counts = {f"made_up_{i:02d}": i + 1 for i in range(TOP_MISTAKES + 4)}
    rows, n = [], 0
    for mistake, count in counts.items():
        for _ in range(count):
            rows.append(Row(f"s{n:03d}", "01_hyperparameter_search", "test_zoom", 0, 3,
                            "wrong_answer", f"message of {mistake}", mistake))
            n += 1
    (stats,) = class_statistics(rows).assignments
    listed = stats.mistakes["test_zoom"]
    assert [m.count for m in listed] == sorted(counts.values(), reverse=True)[:TOP_MISTAKES]
    assert all(counts[m.mistake] == m.count for m in listed)
    assert all(m.hint is None and m.message == f"message of {m.mistake}" for m in listed)


def test_statuses_not_about_the_answer(report):
    page = Page(report["text"])
    seen = set()
    for assignment, e in expected_class(report["rows"]).items():
        expected = {status: sorted(students) for status, students in e["statuses"].items()}
        if not expected:
            assert not page.tables_of("statuses", assignment)
            continue
        listed = {row[0]["text"]: row[2]["students"]
                  for row in page.table("statuses", assignment)}
        assert listed == expected, assignment
        seen |= set(listed)
    # the graded class holds statuses of both kinds: the test checks something
    assert {"kernel_died", "unreadable_notebook", "missing_submission"} <= seen


def test_correlation_against_numpy(report):
    page = Page(report["text"])
    stats = {a.assignment: a for a in class_statistics(read_grades(report["out"] /
                                                                   "grades.csv")).assignments}
    defined = 0
    for assignment, e in expected_class(report["rows"]).items():
        matrix = e["matrix"]
        shown_rows = {row[0]["text"]: row for row in page.table("discrimination", assignment)}
        for j, grade_id in enumerate(e["grade_ids"]):
            x = matrix[:, j]
            expected = corrcoef_or_none(x, matrix.sum(axis=1) - x)
            q = next(q for q in stats[assignment].questions if q.grade_id == grade_id)
            row = shown_rows[grade_id]
            if expected is None:
                assert q.correlation is None and q.flagged and row[1]["text"] == "–"
                assert "undefined" in row[2]["text"]
            else:
                defined += 1
                assert q.correlation == pytest.approx(expected, abs=1e-9)
                assert abs(float(row[1]["text"]) - expected) <= 0.005 + 1e-9
                low = expected < DISCRIMINATION_THRESHOLD
                assert q.flagged == low
                assert ("below" in row[2]["text"]) == low
    assert defined > 0


def test_correlation_of_random_classes_against_numpy():
    """Random score matrices, constant columns included: numpy's value or None."""
    from autograder.report import item_total_correlations

    rng = np.random.default_rng(7)
    for _ in range(50):
        students, questions = rng.integers(1, 40), rng.integers(1, 8)
        scores = rng.integers(0, 3, size=(students, questions)).astype(float)
        scores[:, rng.integers(questions)] = rng.integers(0, 3)  # one constant column
        for j, value in enumerate(item_total_correlations(scores)):
            expected = corrcoef_or_none(scores[:, j], scores.sum(axis=1) - scores[:, j])
            if expected is None or math.isnan(expected):
                assert value is None
            else:
                assert value == pytest.approx(expected, abs=1e-9)


HOSTILE = "<img src=x onerror=alert(1)>"


def write_grades(path: Path, rows: list[list[str]], header: list[str] = CSV_COLUMNS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_untrusted_text_is_escaped_and_neutralised_fields_shown_as_written(tmp_path):
    formula = "=HYPERLINK(\"x\")"
    assignment, grade_id = "01_hyperparameter_search", "test_zoom"
    rows = [
        [HOSTILE, assignment, grade_id, "0", "3", "wrong_answer", "made_up_mistake",
         f"your code said {HOSTILE}"],
        [neutralise(formula), assignment, grade_id, "0", "3", "timeout", "", "too slow"],
        [neutralise("-minus"), assignment, grade_id, "0", "3", "kernel_died", "", "stopped"],
        ["x & y", assignment, grade_id, "0", "3", "missing_submission", "", "no notebook"],
        ["s5", assignment, grade_id, "0", "3", "wrong_answer", "other_made_up",
         neutralise("-1 is not the answer")],
    ]
    write_grades(tmp_path / "grades.csv", rows)
    path = write_report(tmp_path)
    assert path == tmp_path / "report" / "index.html"
    text = path.read_text(encoding="utf-8")
    assert HOSTILE not in text and "<img src=x" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "x &amp; y" in text
    page = Page(text)
    listed = {row[0]["text"]: row[2]["students"] for row in page.table("statuses")}
    # shown without the neutralising quote (and escaped)
    assert listed == {"timeout": [formula], "kernel_died": ["-minus"],
                      "missing_submission": ["x & y"]}
    mistakes = {row[0]["text"]: row[2]["text"]
                for row in page.table("mistakes", assignment, grade_id)}
    assert set(mistakes) == {"made_up_mistake", "other_made_up"}
    assert all("no longer declared" in hint for hint in mistakes.values())
    assert mistakes["made_up_mistake"].endswith(f"your code said {HOSTILE}")  # text, no markup
    assert mistakes["other_made_up"].endswith(": -1 is not the answer")
    assert page.tags.count("img") == 3  # the figures only
    assert [r.student_id for r in read_grades(tmp_path / "grades.csv")] == [
        HOSTILE, formula, "-minus", "x & y", "s5"]


def test_declared_mistake_shows_its_hint(tmp_path):
    from autograder.exercises import ASSIGNMENTS, exercises

    assignment = ASSIGNMENTS[0]
    grade_id, exercise = next((g, e) for g, e in exercises(assignment).items() if e.mistakes)
    mistake, hint = next(iter(exercise.mistakes.items()))
    write_grades(tmp_path / "grades.csv", [["s1", assignment, grade_id, "0", "2",
                                            "wrong_answer", mistake, "some message"]])
    page = Page(write_report(tmp_path, tmp_path / "elsewhere").read_text(encoding="utf-8"))
    (row,) = page.table("mistakes", assignment, grade_id)
    assert row[2]["text"] == hint


BAD_INPUT = {
    "no grades.csv": (None, r"has no grades\.csv: run `python -m autograder grade"),
    "missing column": ("missing", r"lacks the column\(s\) status"),
    "short line": ("short", r"line 2 has 7 fields, the header 8: grade again"),
    "bad score": ("score", r"line 2: score 'lots' .* is not a number"),
    "bad max_score": ("max_score", r"line 2: score '1' / max_score '' is not a number"),
    "infinite score": ("inf", r"line 2: score 'inf' .* is not a finite number"),
    "nan score": ("nan", r"line 2: score 'nan' .* is not a finite number"),
}
"""Each kind of malformed grades.csv, and the sentence both of its readers (the report and
the LMS export, through `export.read_grades`) refuse it with."""


def _bad_folder(folder: Path, kind: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    row = ["s1", "01_hyperparameter_search", "test_zoom", "1", "3", "wrong_answer", "", "m"]
    if kind == "missing":
        header = [c for c in CSV_COLUMNS if c != "status"]
        write_grades(folder / "grades.csv", [row[:5] + row[6:]], header)
    elif kind == "short":
        write_grades(folder / "grades.csv", [row[:-1]])
    elif kind == "max_score":
        write_grades(folder / "grades.csv", [row[:4] + [""] + row[5:]])
    elif kind is not None:
        write_grades(folder / "grades.csv", [row[:3] + [{"score": "lots"}.get(kind, kind)]
                                             + row[4:]])
    return folder


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_a_clear_error(tmp_path, capsys, case):
    kind, message = BAD_INPUT[case]
    folder = _bad_folder(tmp_path / "out", kind)
    with pytest.raises(GradingError, match=message):
        write_report(folder)
    with pytest.raises(GradingError, match=message):
        read_totals(folder)
    assert not (folder / "report" / "index.html").exists()
    capsys.readouterr()
    assert main(["report", str(folder)]) == 2  # what `python -m autograder report` exits with
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: ")
    assert any(re.search(message, line) for line in stderr.splitlines())


def test_command_line_writes_the_report(tmp_path):
    write_grades(tmp_path / "out" / "grades.csv",
                 [["s1", "01_hyperparameter_search", "test_zoom", "3", "3", "ok", "", "ok"]])
    proc = subprocess.run([sys.executable, "-m", "autograder", "report", str(tmp_path / "out"),
                           "--to", str(tmp_path / "slides")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {tmp_path / 'slides' / 'index.html'}"
    assert len(list((tmp_path / "slides").glob("*.png"))) == 3


def test_report_in_chromium(report):
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM_ARGS

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: `make test` installs it (apt-get)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(report["path"].as_uri())
            page.wait_for_load_state("load")
            widths = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
            assert widths[0] <= widths[1], widths
            images = page.evaluate("Array.from(document.images, i => [i.complete, "
                                   "i.naturalWidth])")
            assert len(images) == len(list(report["folder"].glob("*.png")))
            assert all(complete and width > 0 for complete, width in images), images
            page.screenshot(path=ARTIFACTS / "report.png", full_page=True)
        finally:
            browser.close()
    with Image.open(ARTIFACTS / "report.png") as shot:
        assert shot.width == 1280
