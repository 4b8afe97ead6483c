"""Declarations of 04_softmax_vs_hardmax's graded cells (see `course_lib.exercise`).

Shapes are classes x examples. Tolerances, one per cell, the same in both layers, relative
to the largest expected entry:
- softmax (both cells) and cross_entropy_cost: 1e-9. Every right form (shifted by the
  column's maximum or not, exp(Z - logsumexp)) agrees to about 1e-13. An epsilon in the
  denominator or inside the log (`np.log(A + 1e-8)`) moves the result by at least about 1e-8
  relative (eps / A for the log, much more for an unlikely true class), so it is a named
  mistake at 1e-9, in the notebook and at grading alike; a looser 1e-7 would give it full
  marks on ordinary inputs.
- hardmax: 1e-9 on 0s and 1s, that is exact.
- softmax_cross_entropy (both cells): 1e-9, as the cost: log-sum-exp and log(softmax(Z))
  agree to about 1e-15 relative wherever softmax does not underflow.
- softmax_cost_grad: `ANALYTIC_RTOL` (1e-13): derived forms agree to 4.3e-16 over 200 seeds
  (shifted softmax or not, (A - Y) / m or the Jacobian of softmax applied to dJ/dA), a
  centred-difference gradient reaches 1.5e-11 at best and is named as numerical.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from course_lib.checks.gradients import ANALYTIC_RTOL, gradient_mismatch
from course_lib.exercise import Call, Exercise, declare, visible_checks

if TYPE_CHECKING:
    from typing import Any

RTOL = 1e-9
"""Tolerance of softmax, hardmax and the cost, visible and graded (see above)."""

LECTURE_Z = np.array([[5.0], [2.0], [-1.0], [3.0]])
"""The lecture's 4-class example z = [5, 2, -1, 3], as one column."""

GRAD_Z = np.array([[1.0, -1.0, 0.5, 2.0], [0.0, 2.0, -0.5, 1.0], [-1.0, 0.5, 0.0, 0.0]])
GRAD_Y = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
COST_A = np.array([[0.7, 0.1, 0.2, 0.6], [0.2, 0.8, 0.3, 0.3], [0.1, 0.1, 0.5, 0.1]])
UNLIKELY_A = np.array([[0.25, 1e-6, 0.5], [0.25, 0.999998, 0.25], [0.5, 1e-6, 0.25]])
UNLIKELY_Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])

NOT_FINITE = (
    "A contains nan or inf: np.exp overflows to inf above about 709, and when every exponent "
    "of a column is below about -745 they all become 0 and 0/0 is nan; subtract each "
    "column's maximum from it before np.exp (the result does not change, and the largest "
    "exponent becomes 0)")
NOT_NORMALISED = ("A is proportional to exp(Z) in each column but its columns do not sum to "
                  "1: divide each column by its sum")
WRONG_AXIS = ("the 1s mark the maximum of each row instead of each column: take np.argmax "
              "over axis=0 (the classes) for each column (example)")


def softmax_problem(call: Call, A: Any, expected: np.ndarray | None) -> str | None:
    """What is wrong with A = softmax(Z), from its properties (None: compare the values).

    >>> Z = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> softmax_problem(Call("Z", (Z,)), np.exp(Z), None) == NOT_NORMALISED
    True
    """
    Z = call.args[0]
    if not isinstance(A, np.ndarray) or A.shape != Z.shape:
        return None
    if not np.all(np.isfinite(A)):
        return NOT_FINITE
    if np.any(A < 0):
        return "A has negative entries, but probabilities are never negative"
    if not np.allclose(A.sum(axis=0), 1.0, rtol=0, atol=RTOL):
        used = A > 1e-250
        offsets = np.log(np.where(used, A, 1.0)) - Z
        if all(u.any() and np.ptp(o[u]) <= 1e-8 for o, u in zip(offsets.T, used.T, strict=True)):
            return NOT_NORMALISED
        return "each column of A should sum to 1 (the probabilities of one example)"
    return None


def hardmax_problem(call: Call, A: Any, expected: np.ndarray) -> str | None:
    """What is wrong with A = hardmax(Z), from its properties (None: compare the values)."""
    if not isinstance(A, np.ndarray) or A.shape != expected.shape:
        return None
    if not np.all((A == 0) | (A == 1)):
        return "A should contain only 0s and 1s"
    if np.any(A.sum(axis=0) != 1):
        return "each column of A should have exactly one 1, at the column's maximum"
    return "the 1 of a column is not at that column's first maximum"


def gradient_problem(call: Call, dZ: Any, expected: np.ndarray) -> str | None:
    """dZ against the exact gradient: a numerical gradient, an m or a sign are named."""
    return gradient_mismatch(dZ, expected, name="dZ", m=call.args[1].shape[1])

HUGE_Z = np.array([[0.0], [800.0]])
"""Two scores 800 apart: softmax underflows to [0, 1]; with the first class true, J = 800."""
HUGE_Y = np.array([[1.0], [0.0]])

STABLE_Z = np.array([[1000.0, -1000.0, 3.0], [999.0, -1001.0, -30.0],
                     [990.0, -1000.5, 2.0]])
STABLE_Y = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

SUMMED = ("J is the sum of the examples' losses: the cost is their average, divide the sum by "
          "the number of examples m = Y.shape[1]")
MEAN_OVER_ENTRIES = ("J is C times too small: np.mean averages over all C*m entries of "
                     "Y * log(A); sum over the classes and divide by the number of examples "
                     "m only")
UNSHIFTED_LSE = (
    "J is nan or inf for large scores: np.exp overflows to inf above about 709 (and gives 0, "
    "whose log is -inf, below about -745); subtract each column's maximum before np.exp and "
    "add it back after the log, logsumexp(z) = max(z) + log(sum(exp(z - max(z))))")
LOG_OF_SOFTMAX = (
    "J is inf: it was computed as log(softmax(Z)), and the softmax of a true class far below "
    "the maximum underflows to 0, whose log is -inf; compute the log-probabilities from the "
    "scores directly, Z - logsumexp(Z), which stay finite")

# --------------------------------------------------------------------- the exercises

EXERCISES = declare(
    "04_softmax_vs_hardmax",
    Exercise(
        "test_softmax", "softmax", "A",
        "softmax: lecture example, column sums and values are right.",
        [Call.of("Z of shape (3, 5)", np.array([[0.5, -1.2, 2.0, 0.0, 1.1],
                                                [1.5, 0.3, -0.7, 0.0, -2.2],
                                                [-0.4, 0.8, 0.9, 0.0, 0.6]])),
         Call.of("the lecture's z = [5, 2, -1, 3]", LECTURE_Z),
         Call.of("Z of shape (4, 4)", np.array([[1.0, -0.5, 0.2, 2.5], [0.3, 1.7, -1.1, 0.4],
                                                [-2.0, 0.6, 0.9, -0.3], [0.8, -1.4, 0.1, 1.2]]))],
        {
            "rows_sum_to_one": "the rows of A sum to 1 instead of the columns: normalise each "
                               "column over the classes (sum over axis=0 with keepdims=True)",
            "whole_matrix": "the entries of A sum to 1 over the whole matrix, not per column: "
                            "normalise each column (sum over axis=0 with keepdims=True)",
            "not_normalised": NOT_NORMALISED,
            "denominator_epsilon": (
                "the columns of A sum to slightly less than 1: an epsilon added to the "
                "denominator changes the result; after subtracting the column's maximum the "
                "sum is at least 1, so divide by it as it is"),
            "max_over_rows": "A is exp(Z minus each row's maximum), normalised: subtract each "
                             "column's maximum (axis=0) instead; a different number for each "
                             "row changes the result",
        }, RTOL, softmax_problem),
    Exercise(
        "test_softmax_stable", "softmax", "A",
        "softmax: finite and correct for wide spreads, mixed signs and |Z| up to 2000.",
        [Call.of("a column with one huge entry (2000)", np.array([[0.0], [2000.0], [1.0],
                                                                  [-3.0]])),
         Call.of("a column with a wide spread (-1000 to 1000)",
                 np.array([[1000.0], [-1000.0], [0.0], [998.0]])),
         Call.of("a column of mixed signs, most entries near -1000",
                 np.array([[3.0], [-1000.0], [-998.0]])),
         Call.of("every entry near -1000", np.array([[-1000.0, -1002.0], [-1001.0, -1000.0],
                                                     [-999.5, -1000.0]])),
         Call.of("columns near +1000, -1000 and 0", np.array(
             [[1000.0, -1000.0, 0.5], [999.0, -1001.0, -2.0], [998.0, -1000.0, 1.0]]))],
        {
            "no_shift": NOT_FINITE,
            "shift_by_min": NOT_FINITE,
            "shift_by_mean": NOT_FINITE,
            "shift_by_largest_magnitude": NOT_FINITE,
            "global_max": "A is nan in the columns whose entries are far below the largest "
                          "entry of Z: subtract each column's own maximum "
                          "(Z.max(axis=0, keepdims=True)), not the maximum of all of Z",
        }, RTOL, softmax_problem),
    Exercise(
        "test_hardmax", "hardmax", "A", "hardmax: one 1 per column, at the maximum.",
        [Call.of("the lecture's z = [5, 2, -1, 3]", LECTURE_Z),
         Call.of("Z of shape (4, 6)", np.array([[0.2, -1.0, 1.5, 0.3, -0.2, 0.9],
                                                [1.1, 0.4, -0.3, 0.7, 2.0, -0.5],
                                                [-0.6, 1.3, 0.8, -1.2, 0.1, 0.4],
                                                [0.5, 0.0, 1.9, 0.6, -0.9, 1.0]])),
         Call.of("Z of shape (3, 3)", np.array([[1.5, 2.0, 0.4], [1.2, -0.3, 0.6],
                                                [0.5, 0.9, 1.8]]))],
        {
            "rows": WRONG_AXIS,
            "single_one": "A has a single 1 in the whole matrix, at the largest entry of Z: "
                          "each column (example) needs its own 1, np.argmax(Z, axis=0)",
        }, RTOL, hardmax_problem),
    Exercise(
        "test_hardmax_ties", "hardmax", "A", "hardmax: ties go to the first maximum.",
        [Call.of("Z with tied maxima", np.array([[1.0, 3.0, 0.0, 2.0], [1.0, 3.0, 2.0, 2.0],
                                                 [0.0, 1.0, 2.0, -1.0]])),
         Call.of("a column of equal values", np.zeros((3, 1)))],
        {
            "rows": WRONG_AXIS,
            "several_ones_on_tie": "a column of A has more than one 1: when several entries "
                                   "tie for the maximum, only the first (lowest index, as "
                                   "np.argmax) gets the 1",
            "last_index_on_tie": "on ties the 1 should go to the lowest index (as np.argmax "
                                 "does), not the last",
        }, RTOL, hardmax_problem),
    Exercise(
        "test_cross_entropy_cost", "cross_entropy_cost", "J",
        "cross_entropy_cost: J is right, averaged over the examples.",
        [Call.of("A, Y of shape (3, 4)", COST_A, GRAD_Y),
         Call.of("a true class of probability 1e-6 (m = 3)", UNLIKELY_A, UNLIKELY_Y),
         Call.of("one example (m = 1)", np.array([[0.1], [0.2], [0.6], [0.1]]),
                 np.array([[0.0], [0.0], [1.0], [0.0]]))],
        {
            "summed": SUMMED,
            "per_example": "J has one value per example: return one number, their average "
                           "(sum over the classes and the examples, divide by m)",
            "mean_over_entries": MEAN_OVER_ENTRIES,
            "log10": "J is too small by a factor ln(10): use the natural log np.log, not "
                     "np.log10",
            "log_epsilon": "J is a little smaller than the exact cost, as with an epsilon "
                           "inside the log (np.log(A + 1e-8)): it changes J by about "
                           "epsilon / A, a lot for an unlikely true class; A's entries are "
                           "positive here, so use np.log(A) as it is",
            "binary": "J adds the terms (1 - Y) * log(1 - A) of the two-class (logistic) "
                      "loss: with softmax only the true class counts, J = -(1/m) sum of "
                      "Y * log(A)",
            "no_minus": "J is negative: log(A) <= 0, so the cost is minus the average, "
                        "J = -(1/m) sum of Y * log(A)",
            "log_of_labels": "J is inf: the log is taken of the labels Y, whose 0s have no "
                             "log; take the log of the probabilities, Y * np.log(A)",
        }, RTOL),
    Exercise(
        "test_softmax_cost_grad", "softmax_cost_grad", "dZ",
        "softmax_cost_grad: matches the exact gradient (A - Y) / m.",
        [Call.of("Z, Y of shape (3, 4)", GRAD_Z, GRAD_Y)],
        {
            "not_divided_by_m": "dZ is the gradient of the summed loss: J averages over the "
                                "m examples, so dZ = (A - Y) / m",
            "y_minus_a": "dZ is (Y - A) / m, the wrong sign: dJ/dZ = (A - Y) / m",
            "scores": "(Z - Y) / m uses the scores Z where the probabilities softmax(Z) belong",
        }, ANALYTIC_RTOL, gradient_problem),
    Exercise(
        "test_softmax_cross_entropy", "softmax_cross_entropy", "J",
        "softmax_cross_entropy: J is right, averaged over the examples, and log C at Z = 0.",
        [Call.of("Z, Y of shape (3, 4)", GRAD_Z, GRAD_Y),
         Call.of("Z = 0 with C = 4 classes (J = log 4)", np.zeros((4, 3)),
                 np.eye(4)[:, [0, 2, 3]]),
         Call.of("one example (m = 1)", np.array([[2.0], [-1.0], [0.5], [1.5]]),
                 np.array([[0.0], [0.0], [1.0], [0.0]]))],
        {
            "summed": SUMMED,
            "mean_over_entries": MEAN_OVER_ENTRIES,
            "no_minus": "J is negative: the log-probabilities Z - logsumexp(Z) are <= 0, so "
                        "the cost is minus their average over the true classes",
            "log10": "J uses np.log10 in the log-sum-exp: the cost needs the natural log "
                     "np.log, the inverse of np.exp",
            "wrong_axis": "the log-sum-exp is taken over each row (axis=1) instead of each "
                          "column: take the max and the sum over the classes, axis=0 with "
                          "keepdims=True",
            "max_not_added_back": "J is off by the average of the columns' maxima: after "
                                  "subtracting each column's maximum before np.exp, add it "
                                  "back after the log, logsumexp(z) = max(z) + "
                                  "log(sum(exp(z - max(z))))",
        }, RTOL),
    Exercise(
        "test_softmax_cross_entropy_stable", "softmax_cross_entropy", "J",
        "softmax_cross_entropy: finite and right for scores up to 1000 in magnitude.",
        [Call.of("z = [0, 800], true class 0 (J = 800)", HUGE_Z, HUGE_Y),
         Call.of("columns near +1000, -1000 and 0", STABLE_Z, STABLE_Y)],
        {"no_shift": UNSHIFTED_LSE, "via_softmax": LOG_OF_SOFTMAX}, RTOL),
)
"""{grade_id: Exercise}: every graded cell of the notebook, in the master's order."""

__getattr__ = visible_checks(EXERCISES)
