"""Visible checks of 04_softmax_vs_hardmax, and the property tests the grader shares.

Each `check_*` takes the student's function, runs it on small known inputs and
raises `CheckFailed` with a sentence naming the mistake; otherwise it prints
what it verified.
"""

import numpy as np

from course_lib.checking import CheckFailed, expect_match
from course_lib.checks.gradients import gradient_mismatch
from course_lib.gradcheck import numerical_gradient

LECTURE_Z = np.array([[5.0], [2.0], [-1.0], [3.0]])
"""The lecture's 4-class example z = [5, 2, -1, 3], as one column."""

LECTURE_SOFTMAX = np.array(
    [[0.842033572397458], [0.041922383036989], [0.002087192550406], [0.113956852015147]])
"""softmax(LECTURE_Z), to 15 digits."""

GRAD_Z = np.array([[1.0, -1.0, 0.5, 2.0], [0.0, 2.0, -0.5, 1.0], [-1.0, 0.5, 0.0, 0.0]])
GRAD_Y = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
GRAD_J = 0.5591982240469131
"""Cross-entropy cost of softmax(GRAD_Z) against GRAD_Y."""
GRAD_DZ = np.array([
    [-0.08368976105629455, 0.009778143317671864, 0.1266200977639135, -0.08368976105629455],
    [0.06118211776369941, -0.05360074135268103, 0.0465809308064619, 0.06118211776369941],
    [0.022507643292595116, 0.04382259803500917, -0.1732010285703754, 0.022507643292595116]])
"""The exact dJ/dZ of cross_entropy_cost(softmax(GRAD_Z), GRAD_Y), to 17 digits."""

CONSTANT_RTOL = 1e-9
"""Tolerance against the constants above (they carry 15 significant digits)."""


def softmax_problem(Z, A):
    """A sentence naming what is wrong with A = softmax(Z) from its properties alone, or None."""
    A = np.asarray(A, dtype=np.float64)
    if A.shape != Z.shape:
        return f"A should have the shape of Z, {Z.shape}, but has shape {A.shape}"
    if not np.all(np.isfinite(A)):
        return ("A contains nan or inf: np.exp overflows for large entries; subtract each "
                "column's maximum from Z before np.exp (the result does not change)")
    if np.any(A < 0):
        return "A has negative entries, but probabilities are never negative"
    columns_ok = np.allclose(A.sum(axis=0), 1.0, rtol=1e-9)
    if not columns_ok:
        if Z.shape[1] == 1 and Z.shape[0] > 1 and np.allclose(A, 1.0):
            return ("every entry of A is 1, so the rows of A sum to 1 instead of the columns: "
                    "normalise each column over the classes (sum over axis=0)")
        if Z.shape[1] > 1 and np.allclose(A.sum(axis=1), 1.0, rtol=1e-9):
            return ("the rows of A sum to 1 instead of the columns: normalise each column "
                    "over the classes (sum over axis=0 with keepdims=True)")
        return "each column of A should sum to 1: check the axis of your sum"
    return None


def hardmax_problem(Z, A):
    """A sentence naming what is wrong with A = hardmax(Z) from its properties alone, or None."""
    A = np.asarray(A, dtype=np.float64)
    if A.shape != Z.shape:
        return f"A should have the shape of Z, {Z.shape}, but has shape {A.shape}"
    if not np.all((A == 0) | (A == 1)):
        return "A should contain only 0s and 1s"
    ones = A.sum(axis=0)
    if np.any(ones > 1):
        return ("a column of A has more than one 1: when several entries tie for the maximum, "
                "only the first (lowest index, as np.argmax) gets the 1")
    if np.any(ones < 1):
        return "a column of A has no 1: each column needs exactly one 1, at its maximum"
    winners = np.argmax(A, axis=0)
    if not np.all(Z[winners, np.arange(Z.shape[1])] == Z.max(axis=0)):
        return "the 1 of a column is not at that column's maximum: check the axis of argmax"
    if not np.array_equal(winners, np.argmax(Z, axis=0)):
        return "on ties the 1 should go to the lowest index (as np.argmax does)"
    return None


def _raise_if(problem, context):
    if problem:
        raise CheckFailed(f"{context}: {problem}")


def check_softmax(softmax):
    """Check softmax on the lecture's example, a non-square and a square Z."""
    A = softmax(LECTURE_Z.copy())
    _raise_if(softmax_problem(LECTURE_Z, A), "lecture example")
    expect_match(A, LECTURE_SOFTMAX, name="A", rtol=CONSTANT_RTOL, context="lecture example: ")
    rng = np.random.default_rng(0)
    for shape in [(3, 5), (4, 4)]:
        Z = rng.normal(size=shape)
        _raise_if(softmax_problem(Z, softmax(Z.copy())), f"Z of shape {shape}")
        shifted = softmax(Z + np.array([[1.0] * shape[1]]) * np.arange(shape[1]))
        expect_match(shifted, softmax(Z.copy()), name="A",
                     context=f"Z of shape {shape} plus a constant per column: ")
    print("softmax: lecture example, column sums and shift invariance are right.")


def check_softmax_stable(softmax):
    """Check that softmax stays finite for entries of size 1000."""
    Z = np.array([[1000.0, -1000.0], [999.0, -1001.0], [998.0, -1000.0]])
    A = softmax(Z.copy())
    _raise_if(softmax_problem(Z, A), "Z with entries near +-1000")
    expect_match(A[:, :1], softmax(Z[:, :1] - 1000.0), name="A",
                 context="Z with entries near 1000: ")
    print("softmax: finite and correct for |Z| = 1000.")


def check_hardmax(hardmax):
    """Check hardmax on the lecture's example and a random Z."""
    expected = np.array([[1.0], [0.0], [0.0], [0.0]])
    A = hardmax(LECTURE_Z.copy())
    _raise_if(hardmax_problem(LECTURE_Z, A), "lecture example")
    expect_match(A, expected, name="A", context="lecture example: ")
    Z = np.random.default_rng(1).normal(size=(4, 6))
    _raise_if(hardmax_problem(Z, hardmax(Z.copy())), "Z of shape (4, 6)")
    print("hardmax: one 1 per column, at the maximum.")


def check_hardmax_ties(hardmax):
    """Check that ties go to the lowest index."""
    Z = np.array([[1.0, 3.0, 0.0], [1.0, 3.0, 2.0], [0.0, 1.0, 2.0]])
    _raise_if(hardmax_problem(Z, hardmax(Z.copy())), "Z with ties")
    print("hardmax: ties go to the first maximum.")


def check_cross_entropy_cost(cross_entropy_cost):
    """Check J against its exact value for a known A and Y (m = 4)."""
    from_softmax = np.exp(GRAD_Z - GRAD_Z.max(axis=0))
    A = from_softmax / from_softmax.sum(axis=0)
    J = cross_entropy_cost(A, GRAD_Y.copy())
    if isinstance(J, np.ndarray) and J.size != 1:
        raise CheckFailed(f"J should be one number, but it has shape {J.shape}")
    expect_match(J, GRAD_J, name="J", m=GRAD_Y.shape[1], rtol=CONSTANT_RTOL)
    print(f"cross_entropy_cost: J = {float(J):.6f} as expected.")


def softmax_cost_grad_problem(dZ, expected, m):
    """None, or what is wrong with the gradient dZ against the exact one (grader and check).

    The tolerance is `course_lib.checks.gradients.ANALYTIC_RTOL`: a derived gradient
    meets it, a numerical (finite-difference) one cannot.
    """
    return gradient_mismatch(dZ, expected, name="dZ", m=m)


def check_softmax_cost_grad(softmax_cost_grad, softmax, cross_entropy_cost):
    """Check dZ against the numerical gradient of your cost and against exact values."""
    dZ = softmax_cost_grad(GRAD_Z.copy(), GRAD_Y.copy())
    numeric = numerical_gradient(
        lambda Z: cross_entropy_cost(softmax(Z), GRAD_Y.copy()), GRAD_Z)
    expect_match(dZ, numeric, name="dZ", m=GRAD_Y.shape[1], rtol=1e-6,
                 context="against the numerical gradient of your cost (centred differences, "
                         "relative tolerance 1e-6): ")
    _raise_if(softmax_cost_grad_problem(dZ, GRAD_DZ, GRAD_Y.shape[1]),
              "against the exact gradient")
    print("softmax_cost_grad: matches the numerical gradient and the exact values.")
