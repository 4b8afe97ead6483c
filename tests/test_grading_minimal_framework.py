"""Grading 05_minimal_framework: each known mistake loses exactly its points.

Each mistake is the master's solution cell with one edit, as a student would make it. The
end-to-end tests grade them with `python -m autograder grade` (one seed); the in-process
tests run the same grader cases and judges on several seeds, since a real grading run draws
a fresh seed.
"""

import functools

import numpy as np
import pytest

from autograder.checks import checks_for
from autograder.checks.case import case_rng, judge_results
from course_lib import probe
from tests.helpers import (
    assert_feedback_hides_hidden_tests,
    assert_full_marks,
    assert_loses_exactly,
    assert_untouched_scores_zero,
    grade_class,
    master,
)

A = "05_minimal_framework"
FULL = {"test_topological_order": 2, "test_local_gradients_add_sub": 1,
        "test_local_gradients_mul": 1, "test_local_gradients_pow": 1, "test_backward": 3,
        "test_backward_reset": 1, "test_backward_lecture": 2}

RESET_FAILS = {"test_backward_reset": "make test_backward pass first"}
"""A wrong backward pass also loses the reset cell: both passes are compared with the reference."""

# name: (solution cell, text of the master's cell, what the student wrote instead,
#        {graded cell that must fail: words its message must contain})
MISTAKES = {
    "assigned_not_accumulated": (
        "backward", "parent.grad += grad", "parent.grad = grad",
        {"test_backward": "`+=`", **RESET_FAILS,
         "test_backward_lecture": "w after 1 step"}),
    "traversal_not_reversed": (
        "backward", "for node in reversed(order):", "for node in order:",
        {"test_backward": "reversed(topological_order(cost))", **RESET_FAILS,
         "test_backward_lecture": "w after 1 step"}),
    "no_visited_set": (
        "topological_order",
        "        if node in visited:\n            return\n        visited.add(node)\n", "",
        {"test_topological_order": "visited", "test_backward": "visited", **RESET_FAILS}),
    "output_not_seeded": (
        "backward", "    cost.grad = np.ones(cost.shape)\n", "",
        {"test_backward": "seed the output", **RESET_FAILS,
         "test_backward_lecture": "w after 1 step"}),
    "gradients_never_reset": (
        "backward", "    for node in order:\n        node.grad = np.zeros(node.shape)\n", "",
        {"test_backward_reset": "never reset", "test_backward_lecture": "oscillates"}),
    "mul_rule_swapped": (
        "local_gradients", "return [upstream * values[b], upstream * values[a]]",
        "return [upstream * values[a], upstream * values[b]]",
        {"test_local_gradients_mul": "swapped", "test_backward": "mul", **RESET_FAILS,
         "test_backward_lecture": "w after 1 step"}),
    "pow_rule_exponent_not_lowered": (
        "local_gradients", "base ** (node.exponent - 1)", "base ** node.exponent",
        {"test_local_gradients_pow": "exponent drops by one", "test_backward": None,
         **RESET_FAILS, "test_backward_lecture": None}),
    "pow_rule_assumes_square": (
        "local_gradients", "return [upstream * node.exponent * base ** (node.exponent - 1)]",
        "return [upstream * 2 * base]",
        {"test_local_gradients_pow": "node.exponent", "test_backward": "pow", **RESET_FAILS}),
    "sub_rule_gives_plus_one_to_b": (
        "local_gradients", "return [upstream, -upstream]", "return [upstream, upstream]",
        {"test_local_gradients_add_sub": "-upstream", "test_backward": "sub", **RESET_FAILS,
         "test_backward_lecture": "w after 1 step"}),
    # sets no gradient at all: the reset cell compares both passes with the reference's
    # gradients, so it cannot be earned by leaving .grad untouched
    "backward_does_nothing": (
        "backward", """    order = topological_order(cost)
    for node in order:
        node.grad = np.zeros(node.shape)
    cost.grad = np.ones(cost.shape)
    for node in reversed(order):
        for parent, grad in zip(node.inputs, local_gradients(node, node.grad, values)):
            parent.grad += grad
""", "    pass\n",
        {"test_backward": "seed the output",
         "test_backward_reset": "the first backward pass on the graph is already wrong",
         "test_backward_lecture": "w after 1 step"}),
}


@functools.cache
def solution_sources():
    """{grade_id: source} of the master's solution cells, in notebook order."""
    return {cell.metadata.nbgrader["grade_id"]: cell.source for cell in master(A).cells
            if cell.metadata.get("nbgrader", {}).get("solution")}


def mistaken_sources(student):
    """{solution grade_id: source} of the submission with the mistake `student`."""
    cell_id, old, new, _ = MISTAKES[student]
    source = solution_sources()[cell_id]
    assert source.count(old) == 1, (student, old)
    return {cell_id: source.replace(old, new)}


def solution_namespace(replacements=None):
    """The master's solution cells executed in one namespace, some replaced."""
    namespace = {"np": np}
    for grade_id, source in solution_sources().items():
        exec((replacements or {}).get(grade_id, source), namespace)
    return namespace


def failing_cells(namespace, seed):
    """{grade_id: message} of the graded cells whose grader cases fail on `namespace`."""
    failures = {}
    for grade_id, make_cases in checks_for(A).items():
        cases = make_cases(case_rng(seed, grade_id))
        verdict = judge_results(cases, [probe.call_one(c.request(), namespace) for c in cases])
        if not verdict.ok:
            failures[grade_id] = verdict.message
    return failures


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_solutions_pass_on_any_seed(seed):
    assert failing_cells(solution_namespace(), seed) == {}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("student", sorted(MISTAKES))
def test_mistake_fails_exactly_its_cells_on_any_seed(student, seed):
    expected = MISTAKES[student][3]
    failures = failing_cells(solution_namespace(mistaken_sources(student)), seed)
    assert set(failures) == set(expected), failures
    for grade_id, words in expected.items():
        if words:
            assert words in failures[grade_id], (grade_id, failures[grade_id])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_class(tmp_path_factory, A,
                       {student: mistaken_sources(student) for student in MISTAKES})


def test_correct_submission_gets_full_marks(graded):
    assert_full_marks(graded[2]["correct"], FULL)


def test_untouched_stub_scores_zero_with_a_status(graded):
    assert_untouched_scores_zero(graded[2]["untouched"], FULL)


@pytest.mark.parametrize("student", sorted(MISTAKES))
def test_mistake_loses_exactly_its_points(graded, student):
    assert_loses_exactly(graded[2][student], FULL, MISTAKES[student][3])


def test_feedback_is_written_and_hides_hidden_tests(graded):
    out, _, table = graded
    assert_feedback_hides_hidden_tests(out, A, table, student="no_visited_set", words="visited")


def test_terminal_summary(graded):
    _, proc, _ = graded
    assert f"{A}: {len(MISTAKES) + 2} students" in proc.stdout
