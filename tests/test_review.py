"""A graded class as Formgrader reviews it (autograder/review.py), without a browser.

- Every submission that was run is in DIR/autograded where Formgrader looks, each graded
  test cell showing exactly its row's verdict, and the gradebook's scores are grades.csv's.
- A re-run of `grade` keeps every manual score, extra credit and comment of every cell
  that is still graded, including a submission graded again and edits made through a
  gradebook that was open during the run (as Formgrader's is); what belonged to a student
  who is gone is reported and kept in a backup gradebook.
The browser side (an instructor in Formgrader) is tests/test_formgrader.py.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from contextlib import closing

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.records import Row
from autograder.review import CONFIG, autograded_path, verdict_text, with_verdicts
from autograder.submissions import REFUSED_STATUSES
from tests.helpers import run_grader


def _submissions(rows):
    """{(student, assignment): [Row]} from grades.csv's dicts, in file order."""
    found = defaultdict(list)
    for r in rows:
        found[(r["student_id"], r["assignment"])].append(
            Row(r["student_id"], r["assignment"], r["grade_id"], float(r["score"]),
                float(r["max_score"]), r["status"], r["message"], r["mistake"]))
    return found


def _graded_cells(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


def test_every_run_submission_is_where_formgrader_looks_with_its_verdicts(graded_class):
    out = graded_class.out
    assert (out / "nbgrader_config.py").read_text() == CONFIG
    submissions = _submissions(graded_class.rows())
    shown = 0
    for (student, assignment), rows in submissions.items():
        path = autograded_path(out, student, assignment)
        assert (out / "source" / assignment / f"{assignment}.ipynb").exists()
        if {r.status for r in rows} <= REFUSED_STATUSES:
            assert not path.exists(), path
            continue
        cells = _graded_cells(nbformat.read(path, as_version=4))
        for row in rows:
            if row.status == "cell_missing":
                assert row.grade_id not in cells
                continue
            (output,) = cells[row.grade_id].outputs
            assert output.text == verdict_text(row) + "\n"
            kept = row.status == "ok" and row.score == row.max_score
            assert output.name == ("stdout" if kept else "stderr")
            shown += 1
    assert shown >= len(submissions)


def test_the_gradebook_formgrader_reads_has_the_scores_of_grades_csv(graded_class):
    rows = graded_class.rows()
    with Gradebook(f"sqlite:///{graded_class.out / 'gradebook.db'}") as gradebook:
        for row in rows:
            grade = gradebook.find_grade(row["grade_id"], row["assignment"],
                                         row["assignment"], row["student_id"])
            assert (grade.auto_score, grade.max_score, grade.manual_score) == (
                float(row["score"]), float(row["max_score"]), None), row


def test_verdicts_replace_every_graded_cells_outputs_and_nothing_else():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade": False,
                                                                   "solution": True,
                                                                   "grade_id": "a"}}),
        nbformat.v4.new_code_cell("check()", metadata={"nbgrader": {"grade": True,
                                                                     "grade_id": "t1"}}),
        nbformat.v4.new_code_cell("check()", metadata={"nbgrader": {"grade": True,
                                                                     "grade_id": "t2"}}),
    ])
    for cell in nb.cells:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="probe\n")]
    rows = [Row("s", "a", "t1", 1.0, 1.0, "ok", "all 3 cases passed"),
            Row("s", "a", "t2", 0.0, 2.0, "wrong_answer", "= 'hint'", "no_shift")]
    with_verdicts(nb, rows)
    assert nb.cells[0].outputs[0].text == "probe\n"
    assert nb.cells[1].outputs[0].text == "✓ 1 / 1 points: ok\nall 3 cases passed\n"
    assert nb.cells[2].outputs[0].name == "stderr"
    assert nb.cells[2].outputs[0].text == ("✗ 0 / 2 points: wrong_answer (mistake: no_shift)"
                                           "\n= 'hint'\n")


def _manual_fields(db):
    """{(kind, student, assignment, cell): value} of every manual field set in `db`."""
    found = {}
    with closing(sqlite3.connect(db)) as con:
        for kind, table, column in (("score", "grade", "manual_score"),
                                    ("extra", "grade", "extra_credit"),
                                    ("comment", "comment", "manual_comment")):
            query = (f"SELECT s.student_id, a.name, c.name, t.{column} FROM {table} t "
                     "JOIN submitted_notebook n ON t.notebook_id = n.id "
                     "JOIN submitted_assignment s ON n.assignment_id = s.id "
                     "JOIN assignment a ON s.assignment_id = a.id "
                     "JOIN base_cell c ON t.cell_id = c.id "
                     f"WHERE t.{column} IS NOT NULL")
            for student, assignment, cell, value in con.execute(query):
                found[(kind, student, assignment, cell)] = value
    return found


@pytest.fixture(scope="module")
def reviewed(graded_class, tmp_path_factory):
    """A copy of the class where an instructor set manual fields on every cell of two
    students in every assignment, then graded again after one reviewed notebook changed,
    one student left, and an edit came through a gradebook open during the run."""
    submissions, out = graded_class.copy_of(tmp_path_factory.mktemp("reviewed"))
    rows = graded_class.rows()
    reviewed = ["correct", "untouched"]
    set_before = {}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        for assignment in sorted({r["assignment"] for r in rows}):
            for student in [*reviewed, "unreadable"]:
                submission = gradebook.find_submission(assignment, student)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        grade.manual_score = grade.max_score / 2
                        grade.extra_credit = 0.25
                        set_before[("score", student, assignment, grade.name)] = grade.max_score / 2
                        set_before[("extra", student, assignment, grade.name)] = 0.25
                    for comment in notebook.comments:
                        comment.manual_comment = f"see me, {student} ({comment.name})"
                        set_before[("comment", student, assignment, comment.name)] = (
                            comment.manual_comment)
        gradebook.db.commit()
    assert _manual_fields(out / "gradebook.db") == set_before
    # graded again: a changed notebook of a reviewed student; "unreadable" leaves the class
    first = sorted({r["assignment"] for r in rows})[0]
    changed = submissions / "correct" / first / f"{first}.ipynb"
    nb = nbformat.read(changed, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("a note added after the deadline"))
    nbformat.write(nb, changed)
    for folder in (submissions / "unreadable").iterdir():
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    (submissions / "unreadable").rmdir()
    open_gradebook = Gradebook(f"sqlite:///{out / 'gradebook.db'}")  # as Formgrader's is
    open_gradebook.find_grade(next(g for (_, s, a, g) in set_before if s == "correct"),
                              first, first, "correct")
    proc, _ = run_grader(submissions, out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    # an edit after the run, through the gradebook that was open all along
    cell = next(g for (k, s, a, g) in set_before if k == "comment" and s == "untouched")
    comment = open_gradebook.find_comment(cell, first, first, "untouched")
    comment.manual_comment = "written while the run finished"
    open_gradebook.db.commit()
    open_gradebook.close()
    set_before[("comment", "untouched", first, cell)] = "written while the run finished"
    return out, proc, set_before


def test_a_rerun_keeps_every_manual_field_of_every_cell_still_graded(reviewed):
    out, proc, set_before = reviewed
    kept = {k: v for k, v in set_before.items() if k[1] != "unreadable"}
    assert _manual_fields(out / "gradebook.db") == kept
    grades = sum(1 for k in kept if k[0] == "score")
    comments = sum(1 for k in kept if k[0] == "comment")
    assert f"kept the manual grades of {grades} cells and {comments} comments" in proc.stdout


def test_what_belonged_to_a_student_who_left_is_reported_and_kept_in_a_backup(reviewed):
    out, proc, set_before = reviewed
    gone = {k: v for k, v in set_before.items() if k[1] == "unreadable"}
    (backup,) = out.glob("gradebook.before-*.db")
    assert str(backup) in proc.stdout and "no longer graded" in proc.stdout
    assert {k: v for k, v in _manual_fields(backup).items() if k[1] == "unreadable"} == gone
