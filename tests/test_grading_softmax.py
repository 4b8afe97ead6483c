"""Grading 04_softmax_vs_hardmax end to end: each known mistake loses exactly its points."""

import pytest

from tests.helpers import (
    run_grader,
    scores_by_student,
    student_version,
    with_solutions,
    write_submission,
)

A = "04_softmax_vs_hardmax"
FULL = {"test_softmax": 2, "test_softmax_stable": 1, "test_hardmax": 1, "test_hardmax_ties": 1,
        "test_cross_entropy_cost": 2, "test_softmax_cost_grad": 2}

MISTAKES = {
    "softmax_wrong_axis": (
        {"softmax": "def softmax(Z):\n    T = np.exp(Z - Z.max(axis=0, keepdims=True))\n"
                    "    return T / T.sum(axis=1, keepdims=True)\n"},
        {"test_softmax": "rows of A sum to 1", "test_softmax_stable": None,
         "test_softmax_cost_grad": None}),
    "softmax_no_max_subtraction": (
        {"softmax": "def softmax(Z):\n    T = np.exp(Z)\n    return T / T.sum(axis=0)\n"},
        {"test_softmax_stable": "subtract each column's maximum"}),
    "cost_summed": (
        {"cross_entropy_cost": "def cross_entropy_cost(A, Y):\n"
                               "    return float(-np.sum(Y * np.log(A)))\n"},
        {"test_cross_entropy_cost": "times too large"}),
    "grad_not_divided_by_m": (
        {"softmax_cost_grad": "def softmax_cost_grad(Z, Y):\n    return softmax(Z) - Y\n"},
        {"test_softmax_cost_grad": "times too large"}),
    "grad_y_minus_a": (
        {"softmax_cost_grad": "def softmax_cost_grad(Z, Y):\n"
                              "    return (Y - softmax(Z)) / Y.shape[1]\n"},
        {"test_softmax_cost_grad": "wrong sign"}),
    "hardmax_several_ones_on_tie": (
        {"hardmax": "def hardmax(Z):\n    return (Z == Z.max(axis=0)).astype(float)\n"},
        {"test_hardmax_ties": "more than one 1"}),
    "hardmax_last_index_on_tie": (
        {"hardmax": "def hardmax(Z):\n    A = np.zeros(Z.shape)\n"
                    "    idx = Z.shape[0] - 1 - np.argmax(Z[::-1], axis=0)\n"
                    "    A[idx, np.arange(Z.shape[1])] = 1.0\n    return A\n"},
        {"test_hardmax_ties": "lowest index"}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("graded")
    write_submission(root, "correct", A, with_solutions(A))
    write_submission(root, "untouched", A, student_version(A))
    for student, (replacements, _) in MISTAKES.items():
        write_submission(root, student, A, with_solutions(A, replacements))
    proc, rows = run_grader(root, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc, scores_by_student(rows)


def test_correct_submission_gets_full_marks(graded):
    _, _, table = graded
    assert {g: s for g, (s, _, _) in table["correct"].items()} == FULL
    assert {status for _, status, _ in table["correct"].values()} == {"ok"}


def test_untouched_stub_scores_zero_with_a_status(graded):
    _, _, table = graded
    for grade_id, (score, status, message) in table["untouched"].items():
        assert score == 0, grade_id
        assert status == "not_implemented" and "not implemented" in message


@pytest.mark.parametrize("student", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded, student):
    _, _, table = graded
    expected_failures = MISTAKES[student][1]
    for grade_id, points in FULL.items():
        score, status, message = table[student][grade_id]
        if grade_id in expected_failures:
            assert score == 0, (grade_id, status, message)
            assert status == "wrong_answer", (grade_id, status, message)
            hint = expected_failures[grade_id]
            if hint:
                assert hint in message, (grade_id, message)
        else:
            assert (score, status) == (points, "ok"), (grade_id, status, message)


def test_feedback_is_written_and_hides_hidden_tests(graded):
    out, _, table = graded
    for student in table:
        page = (out / "feedback" / student / f"{A}.html").read_text()
        assert len(page) > 1000
        assert "BEGIN HIDDEN TESTS" not in page and "run_in_process" not in page
    page = (out / "feedback" / "cost_summed" / f"{A}.html").read_text()
    assert "times too large" in page


def test_terminal_summary(graded):
    _, proc, _ = graded
    assert f"{A}: {len(MISTAKES) + 2} students" in proc.stdout
