"""Every assignment graded as a class: in process on several seeds, then end to end.

Each assignment's test module (`tests/test_grading_<name>.py`) holds its class:

- `RIGHT`: {student: solution cells} — right variants, which keep every point;
- `MISTAKES`: {student: (solution cells, {grade_id: words its message must contain, or
  None})} — exactly those cells lose their points;
- `FEEDBACK`: (student, words) — what that student's feedback page must show;
- optionally `STATUSES`, the statuses a failing cell may have (default wrong_answer; None:
  any but ok), `HINTED_STATUSES`, those of a cell whose hint is given, and `END_TO_END`, the
  students sent through the real grader (default all of them).

Here every class is graded once end to end through `python -m autograder grade`, every
assignment's class in one run: the masters get full marks, the released notebooks 0 with
`not_implemented`, each mistake loses exactly its cells, feedback pages hide the hidden
tests, and the terminal summary counts everyone. tests/test_grading_in_process.py runs the
same classes in process on four seeds.
"""

import csv

import pytest

from autograder import exercises as registry
from autograder.course import graded_cells
from autograder.exercises import ASSIGNMENTS
from autograder.export import CSV_COLUMNS
from tests.graded_class import CLASSES, end_to_end
from tests.helpers import (
    assert_feedback_hides_hidden_tests,
    assert_full_marks,
    assert_loses_exactly,
    assert_untouched_scores_zero,
    scores_by_student,
)

MISTAKES = [(a, s) for a, m in CLASSES.items() for s in m.MISTAKES]


def full(assignment):
    """{grade_id: points} of the master's graded cells."""
    return dict(graded_cells(assignment))


# --------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def graded(graded_class):
    """(out folder, the run's GradedClass, {assignment: {student: {grade_id: row}}})."""
    assert graded_class.returncode == 0, graded_class.stderr[-3000:]
    rows = graded_class.rows()
    table = {a: scores_by_student([r for r in rows if r["assignment"] == a]) for a in CLASSES}
    return graded_class.out, graded_class, table


def graded_right():
    return [(a, s) for a in CLASSES for s in ["correct", *CLASSES[a].RIGHT]
            if s == "correct" or s in end_to_end(a)]


def graded_mistakes():
    return [(a, s) for a, s in MISTAKES if s in end_to_end(a)]


@pytest.mark.parametrize("assignment, student", graded_right())
def test_right_submissions_get_full_marks(graded, assignment, student):
    assert_full_marks(graded[2][assignment][student], full(assignment))


def test_every_assignment_has_a_class():
    assert list(CLASSES) == list(ASSIGNMENTS)


@pytest.mark.parametrize("assignment", CLASSES)
def test_untouched_notebook_scores_zero_with_a_status(graded, assignment):
    assert_untouched_scores_zero(graded[2][assignment]["untouched"], full(assignment))


@pytest.mark.parametrize("assignment, student", graded_mistakes())
def test_each_mistake_loses_exactly_its_points(graded, assignment, student):
    module = CLASSES[assignment]
    assert_loses_exactly(graded[2][assignment][student], full(assignment),
                         module.MISTAKES[student][1],
                         statuses=getattr(module, "STATUSES", ("wrong_answer",)),
                         hinted_statuses=getattr(module, "HINTED_STATUSES", None))


@pytest.mark.parametrize("assignment", CLASSES)
def test_feedback_names_the_mistake_and_hides_hidden_tests(graded, assignment):
    out, _, table = graded
    student, words = CLASSES[assignment].FEEDBACK
    assert_feedback_hides_hidden_tests(out, assignment, table[assignment], student=student,
                                       words=words)


@pytest.mark.parametrize("assignment", CLASSES)
def test_terminal_summary_counts_every_student(graded, assignment):
    _, run, table = graded
    assert f"{assignment}: {len(table[assignment])} students" in run.stdout


def test_notebooks_that_are_not_answers_get_their_status_on_every_cell(graded):
    table = graded[2]
    first, *others = CLASSES
    for assignment in CLASSES:
        assert {v[1] for v in table[assignment]["unreadable"].values()} == {"unreadable_notebook"}
        assert all(v[0] == 0 for v in table[assignment]["unreadable"].values())
    assert "kernel_died" in {v[1] for v in table[first]["crashed"].values()}
    for assignment in others:
        assert {v[1] for v in table[assignment]["crashed"].values()} == {"missing_submission"}


def test_grades_csv_names_each_mistake_by_its_id(graded):
    """The `mistake` column: a declared id of the row's cell whose hint the message gives, on
    wrong answers only; empty elsewhere; and set for every message that gives a hint."""
    out = graded[0]
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == CSV_COLUMNS
    named = 0
    for row in rows:
        mistakes = registry.exercises(row["assignment"])[row["grade_id"]].mistakes
        hinted = [m for m, hint in mistakes.items() if hint in row["message"]]
        if row["mistake"]:
            named += 1
            assert row["status"] == "wrong_answer", row
            assert mistakes[row["mistake"]] in row["message"], row
        else:
            assert not (row["status"] == "wrong_answer" and hinted), row
    assert named >= len(CLASSES)
