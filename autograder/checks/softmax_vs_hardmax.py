"""Grader cases for 04_softmax_vs_hardmax.

The judges are the visible checks' verdicts (`course_lib.checks.softmax_vs_hardmax`), given
the reference's results on hidden inputs of the same kinds, so both layers name a mistake
with the same sentence at the same tolerance.

softmax_cost_grad is compared with the exact gradient at
`course_lib.checks.gradients.ANALYTIC_RTOL` (1e-13 of its largest entry): every
correct form meets it (measured: 4.3e-16 at most over 200 seeds, whether softmax
subtracts the maximum or not, dZ = (A - Y) / m or the Jacobian of softmax
applied to dJ/dA), and a centred-difference gradient cannot (1.5e-11 at best).
"""

import numpy as np

from autograder.case import Case
from autograder.reference import softmax_vs_hardmax as ref
from course_lib.checks.softmax_vs_hardmax import (
    LECTURE_Z,
    cost_problem,
    hardmax_problem,
    softmax_cost_grad_problem,
    softmax_problem,
)
from course_lib.toy_data import one_hot


def _softmax_case(name, Z):
    expected = ref.softmax(Z)
    return Case(name, "softmax", (Z,), lambda A: softmax_problem(Z, A, expected))


def softmax_cases(rng):
    """Values, shape and axis on non-square and square inputs."""
    return [
        _softmax_case("the lecture's z = [5, 2, -1, 3]", LECTURE_Z),
        _softmax_case("Z of shape (3, 5)", rng.normal(size=(3, 5))),
        _softmax_case("Z of shape (5, 2)", 2 * rng.normal(size=(5, 2))),
        _softmax_case("Z of shape (4, 4)", rng.normal(size=(4, 4))),
    ]


def softmax_stable_cases(rng):
    """Finite Z on which an unsafe softmax overflows or underflows, one kind per case."""
    huge = rng.normal(size=(4, 1))
    huge[rng.integers(4)] = rng.uniform(1500, 3000)
    spread = rng.normal(size=(5, 1)) * 3
    spread[:2, 0] = [rng.uniform(900, 1100), -rng.uniform(900, 1100)]
    mixed = rng.normal(size=(4, 1)) * 3 - np.array([[0.0], [1000.0], [1000.0], [998.0]])
    levels = rng.normal(size=(4, 3)) * 3 + np.array([[1000.0, -1000.0, 0.0]])
    return [
        _softmax_case("a column with one huge entry", rng.permutation(huge)),
        _softmax_case("a column with a wide spread", rng.permutation(spread)),
        _softmax_case("a column of mixed signs, most entries near -1000", mixed),
        _softmax_case("every entry -1000", np.full((3, 2), -1000.0)),
        _softmax_case("columns near +1000, -1000 and 0", levels),
    ]


def _hardmax_case(name, Z):
    return Case(name, "hardmax", (Z,), lambda A: hardmax_problem(Z, A))


def hardmax_cases(rng):
    """One 1 per column, at the column's maximum."""
    return [
        _hardmax_case("the lecture's z = [5, 2, -1, 3]", LECTURE_Z),
        _hardmax_case("Z of shape (4, 6)", rng.normal(size=(4, 6))),
        _hardmax_case("Z of shape (3, 3)", rng.normal(size=(3, 3))),
    ]


def hardmax_ties_cases(rng):
    """Ties go to the lowest index, as np.argmax."""
    Z = rng.integers(0, 2, size=(5, 6)).astype(np.float64)
    Z[:, 0] = 1.0
    Z[:2, 1] = 7.0
    return [
        _hardmax_case("Z with tied maxima", Z),
        _hardmax_case("a column of equal values", np.zeros((3, 1))),
    ]


def _cost_case(name, A, Y):
    expected = ref.cross_entropy_cost(A, Y)
    return Case(name, "cross_entropy_cost", (A, Y), lambda J: cost_problem(J, expected, A, Y))


def cross_entropy_cost_cases(rng):
    """Absolute values of J, averaged over examples; one case with an unlikely true class."""
    cases = []
    for C, m in [(4, 5), (3, 8), (5, 1)]:
        A = ref.softmax(rng.normal(size=(C, m)))
        Y = one_hot(rng.integers(0, C, size=m), C)
        cases.append(_cost_case(f"A, Y of shape ({C}, {m})", A, Y))
    A = ref.softmax(rng.normal(size=(3, 4)))
    A[:, 0] = [1e-6 * rng.uniform(0.5, 2), 0.5, 0.0]
    A[2, 0] = 1.0 - A[:2, 0].sum()
    Y = one_hot(np.r_[0, rng.integers(0, 3, size=3)], 3)
    cases.append(_cost_case("a true class of probability about 1e-6", A, Y))
    return cases


def _grad_case(name, Z, Y):
    expected = ref.softmax_cost_grad(Z, Y)
    return Case(name, "softmax_cost_grad", (Z, Y),
                lambda dZ: softmax_cost_grad_problem(dZ, expected, Z, Y))


def softmax_cost_grad_cases(rng):
    """dJ/dZ against the exact gradient at a precision only a derived gradient reaches."""
    cases = []
    for C, m in [(4, 6), (3, 3), (2, 7)]:
        Z = rng.normal(size=(C, m))
        Y = one_hot(rng.integers(0, C, size=m), C)
        cases.append(_grad_case(f"Z, Y of shape ({C}, {m})", Z, Y))
    return cases


CHECKS = {
    "test_softmax": softmax_cases,
    "test_softmax_stable": softmax_stable_cases,
    "test_hardmax": hardmax_cases,
    "test_hardmax_ties": hardmax_ties_cases,
    "test_cross_entropy_cost": cross_entropy_cost_cases,
    "test_softmax_cost_grad": softmax_cost_grad_cases,
}
