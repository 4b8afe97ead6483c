"""export: per-student totals in Canvas's and Moodle's import formats and the plain CSV.

Every format is checked on the graded class (every student, every assignment), manual grades
and comments are set with nbgrader's own Gradebook on a copy, and what `grade` wrote is never
written over.
"""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from autograder.course import REPO_DIR, graded_cells
from autograder.exercises import ASSIGNMENTS
from autograder.export import write_csv
from autograder.lms import (
    CANVAS_HEADER,
    CANVAS_POINTS_POSSIBLE,
    CSV_HEADER,
    CSV_TRAILER,
    FORMATS,
    MOODLE_FEEDBACK,
    MOODLE_HEADER,
    PROTECTED,
    PROTECTED_FOLDERS,
    export_grades,
)
from autograder.records import Row
from autograder.submissions import GradingError


def _read(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _expected(rows) -> dict[str, dict[str, float]]:
    """student -> assignment -> the sum of its cells' scores in grades.csv."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        sums[row["student_id"]][row["assignment"]] += float(row["score"])
    return sums


def _assignments(rows) -> list[str]:
    present = {r["assignment"] for r in rows}
    return [a for a in ASSIGNMENTS if a in present]


def _totals(fmt: str, table: list[list[str]]) -> dict[str, dict[str, float]]:
    """student -> assignment -> total, read back from an export in format `fmt`."""
    header = table[0]
    if fmt == "canvas":
        body, key = table[2:], header.index("ID")
    else:
        body, key = table[1:], 0
    return {row[key]: {a: float(row[header.index(a)]) for a in ASSIGNMENTS if a in header}
            for row in body}


def _header(fmt: str, assignments: list[str]) -> list[str]:
    if fmt == "canvas":
        return [*CANVAS_HEADER, *assignments]
    if fmt == "moodle":
        return [*MOODLE_HEADER, *(c for a in assignments
                                  for c in (a, MOODLE_FEEDBACK.format(assignment=a)))]
    return [*CSV_HEADER, *assignments, *CSV_TRAILER]


def _digest(out: Path) -> dict[str, str]:
    """Hash of every file `grade` wrote that the export must never change."""
    files = [out / "grades.csv", out / "gradebook.db",
             *sorted((out / ".results").rglob("*")), *sorted((out / "feedback").rglob("*"))]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_total_is_the_sum_of_grades_csv(graded_class, tmp_path, fmt):
    before = _digest(graded_class.out)
    rows = graded_class.rows()
    assignments = _assignments(rows)
    table = _read(export_grades(graded_class.out, fmt, tmp_path / f"{fmt}.csv"))
    assert table[0] == _header(fmt, assignments)
    expected = _expected(rows)
    totals = _totals(fmt, table)
    assert sorted(totals) == sorted(expected)  # one row per student
    assert len(totals) == len(table) - (2 if fmt == "canvas" else 1)
    for student, per in expected.items():
        assert totals[student] == pytest.approx(dict(per)), student
    if fmt == "canvas":
        points = table[1]
        assert points[0] == CANVAS_POINTS_POSSIBLE and "Points Possible" in points[0]
        for assignment in assignments:
            assert float(points[table[0].index(assignment)]) == pytest.approx(
                sum(p for _, p in graded_cells(assignment)))
    if fmt == "csv":
        for row in table[1:]:
            assert float(row[-2]) == pytest.approx(sum(expected[row[0]].values()))
    assert _digest(graded_class.out) == before


def test_manual_grades_and_comments_from_formgrader(graded_class, tmp_path):
    from nbgrader.api import Gradebook

    _, out = graded_class.copy_of(tmp_path)
    rows = graded_class.rows()
    assignment = ASSIGNMENTS[0]
    students = sorted({r["student_id"] for r in rows if r["assignment"] == assignment})[:3]
    csv_score = {(r["student_id"], r["grade_id"]): float(r["score"]) for r in rows
                 if r["assignment"] == assignment}
    first, second = graded_cells(assignment)[0][0], graded_cells(assignment)[1][0]
    before = {fmt: _totals(fmt, _read(export_grades(out, fmt, tmp_path / f"a-{fmt}.csv")))
              for fmt in ("csv", "moodle")}
    delta: dict[str, float] = {}
    remark = "=check the loop bounds, then the log scale"
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        for number, student in enumerate(students):
            grade = gradebook.find_grade(first, assignment, assignment, student)
            grade.manual_score = 0.5 + number
            delta[student] = grade.manual_score - csv_score[(student, first)]
            if number == 0:
                extra = gradebook.find_grade(second, assignment, assignment, student)
                extra.extra_credit = 1.25
                delta[student] += 1.25
            notebook = gradebook.find_submission_notebook(assignment, assignment, student)
            comment = min(notebook.comments, key=lambda c: c.name)
            comment.manual_comment = f"{remark} ({student})"
            first_solution = comment.name
        gradebook.db.commit()
    for fmt in ("csv", "moodle"):
        table = _read(export_grades(out, fmt, tmp_path / f"b-{fmt}.csv"))
        after = _totals(fmt, table)
        for student, per in after.items():
            for name, total in per.items():
                change = delta.get(student, 0.0) if name == assignment else 0.0
                assert total == pytest.approx(before[fmt][student][name] + change)
        for row in table[1:]:
            if fmt == "csv":
                text = row[table[0].index("comments")]
            else:
                text = row[table[0].index(MOODLE_FEEDBACK.format(assignment=assignment))]
            if row[0] in students:
                assert text == f"{first_solution}: {remark} ({row[0]})" if fmt == "moodle" else (
                    text == f"{assignment}/{first_solution}: {remark} ({row[0]})")
            else:
                assert text == ""


def test_default_destination_and_refusals(graded_class, tmp_path):
    _, out = graded_class.copy_of(tmp_path)
    (out / "feedback").mkdir(exist_ok=True)
    before = _digest(out)
    for fmt in FORMATS:
        assert export_grades(out, fmt) == out / "export" / f"{fmt}.csv"
    (tmp_path / "link.csv").symlink_to(out / "grades.csv")
    protected = [out / name for name in PROTECTED] + [out / name / "x.csv"
                                                      for name in PROTECTED_FOLDERS]
    for dest in (*protected, out / "feedback", tmp_path / "link.csv"):
        with pytest.raises(GradingError, match="refusing to write .*; choose another --to"):
            export_grades(out, "canvas", dest)
    with pytest.raises(GradingError, match="is a folder; give --to a file name"):
        export_grades(out, "csv", out / "export")
    with pytest.raises(GradingError, match="unknown format 'blackboard'; choose one of canvas"):
        export_grades(out, "blackboard")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GradingError, match="has no grades.csv: run `python -m autograder grade"):
        export_grades(tmp_path / "empty", "csv", tmp_path / "x.csv")
    with pytest.raises(GradingError, match="is not a folder; give the folder `grade --out`"):
        export_grades(tmp_path / "nowhere", "csv", tmp_path / "x.csv")
    assert _digest(out) == before
    proc = subprocess.run([sys.executable, "-m", "autograder", "export", str(out), "--format",
                           "canvas", "--to", str(out / "grades.csv")],
                          capture_output=True, text=True, cwd=REPO_DIR)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: refusing to write {out / 'grades.csv'}")
    assert _digest(out) == before


def _small_class(out: Path, students: list[str]) -> None:
    """OUT/grades.csv of `students` (no gradebook): full marks on the first assignment."""
    assignment = ASSIGNMENTS[0]
    write_csv(out / "grades.csv", [Row(s, assignment, cell, points, points, "ok", "")
                                   for s in students for cell, points in graded_cells(assignment)])


def test_moodle_full_names_need_a_roster(tmp_path):
    out = tmp_path / "out"
    _small_class(out, ["Jane Doe", "Zoë Ångström"])
    with pytest.raises(GradingError, match="cannot be Moodle usernames .*pass a roster"):
        export_grades(out, "moodle")
    roster = tmp_path / "moodle-export.csv"
    roster.write_text('"First name","Last name","ID number","Email address"\n'
                      'Jane,Doe,,jane@example.org\n"Zoë","Ångström",,zoe@example.org\n',
                      encoding="utf-8")
    table = _read(export_grades(out, "moodle", roster=roster))
    assert table[0][0] == "Email address"
    total = sum(p for _, p in graded_cells(ASSIGNMENTS[0]))
    assert {row[0]: float(row[1]) for row in table[1:]} == {
        "jane@example.org": total, "zoe@example.org": total}
    short = tmp_path / "short.csv"
    short.write_text("student_id,Email address\nJane Doe,jane@example.org\n")
    with pytest.raises(GradingError, match="has no row for 1 student.*Zoë Ångström"):
        export_grades(out, "moodle", roster=short)


def test_canvas_roster_fills_its_columns_and_text_is_neutralised(tmp_path):
    out = tmp_path / "out"
    _small_class(out, ["jdoe", "=cmd"])
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,Student,SIS Login ID,Section\n"
                      "jdoe,\"Doe, Jane\",jdoe,A\n=cmd,@Evil,=1+1,B\n")
    table = _read(export_grades(out, "canvas", roster=roster))
    body = {row[0]: row for row in table[2:]}
    assert body["Doe, Jane"][:5] == ["Doe, Jane", "", "", "jdoe", "A"]
    assert body["'@Evil"][:5] == ["'@Evil", "", "", "'=1+1", "B"]
    plain = _read(export_grades(out, "csv"))
    assert sorted(row[0] for row in plain[1:]) == ["'=cmd", "jdoe"]
