"""Grader cases for 04_softmax_vs_hardmax.

softmax_cost_grad is compared with the exact gradient at
`course_lib.checks.gradients.ANALYTIC_RTOL` (1e-13 of its largest entry): every
correct form meets it (measured: 4.3e-16 at most over 200 seeds, whether softmax
subtracts the maximum or not, dZ = (A - Y) / m or the Jacobian of softmax
applied to dJ/dA), and a centred-difference gradient cannot (1.5e-11 at best).
"""

import numpy as np

from autograder.checks.case import Case
from autograder.reference import softmax_vs_hardmax as ref
from course_lib.checking import describe_mismatch
from course_lib.checks.softmax_vs_hardmax import (
    hardmax_problem,
    softmax_cost_grad_problem,
    softmax_problem,
)


def _one_hot(labels, classes):
    Y = np.zeros((classes, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0
    return Y


def _softmax_case(name, Z):
    expected = ref.softmax(Z)

    def judge(A):
        return softmax_problem(Z, A) or describe_mismatch(A, expected, name="A")
    return Case(name, "softmax", (Z,), judge)


def softmax_cases(rng):
    """Values, shape and axis on non-square and square inputs."""
    return [
        _softmax_case("the lecture's z = [5, 2, -1, 3]", np.array([[5.0], [2.0], [-1.0], [3.0]])),
        _softmax_case("Z of shape (3, 5)", rng.normal(size=(3, 5))),
        _softmax_case("Z of shape (5, 2)", 2 * rng.normal(size=(5, 2))),
        _softmax_case("Z of shape (4, 4)", rng.normal(size=(4, 4))),
    ]


def softmax_stable_cases(rng):
    """Entries of size 1000 must not overflow or underflow to nan."""
    big = rng.normal(size=(4, 3)) * 3 + np.array([[1000.0, -1000.0, 0.0]])
    return [
        _softmax_case("Z with entries near +1000 and -1000", big),
        _softmax_case("Z with every entry -1000", np.full((3, 2), -1000.0)),
    ]


def _hardmax_case(name, Z):
    expected = ref.hardmax(Z)

    def judge(A):
        return hardmax_problem(Z, A) or describe_mismatch(A, expected, name="A")
    return Case(name, "hardmax", (Z,), judge)


def hardmax_cases(rng):
    """One 1 per column, at the column's maximum."""
    return [
        _hardmax_case("the lecture's z = [5, 2, -1, 3]", np.array([[5.0], [2.0], [-1.0], [3.0]])),
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

    def judge(J):
        if isinstance(J, np.ndarray) and J.size != 1:
            return f"J should be one number, but it has shape {J.shape}: sum over both axes"
        return describe_mismatch(J, expected, name="J", m=Y.shape[1])
    return Case(name, "cross_entropy_cost", (A, Y), judge)


def cross_entropy_cost_cases(rng):
    """Absolute values of J, averaged over examples."""
    cases = []
    for C, m in [(4, 5), (3, 8), (5, 1)]:
        A = ref.softmax(rng.normal(size=(C, m)))
        Y = _one_hot(rng.integers(0, C, size=m), C)
        cases.append(_cost_case(f"A, Y of shape ({C}, {m})", A, Y))
    return cases


def _grad_case(name, Z, Y):
    expected = ref.softmax_cost_grad(Z, Y)

    def judge(dZ):
        return softmax_cost_grad_problem(dZ, expected, Y.shape[1])
    return Case(name, "softmax_cost_grad", (Z, Y), judge)


def softmax_cost_grad_cases(rng):
    """dJ/dZ against the exact gradient at a precision only a derived gradient reaches."""
    cases = []
    for C, m in [(4, 6), (3, 3), (2, 7)]:
        Z = rng.normal(size=(C, m))
        Y = _one_hot(rng.integers(0, C, size=m), C)
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
