"""Reference solutions of 04_softmax_vs_hardmax (shapes: classes x examples). Instructor material.

Each function takes one keyword flag per named mistake of its exercises
(`course_lib.checks.softmax_vs_hardmax.EXERCISES`); with every flag off it is the right
solution. Below them, the hidden calls of each graded cell.
"""

from __future__ import annotations

import numpy as np

from autograder.exercises import hidden
from course_lib.checks.softmax_vs_hardmax import EXERCISES, LECTURE_Z
from course_lib.exercise import Call
from course_lib.toy_data import one_hot


def softmax(Z: np.ndarray, *, no_shift: bool = False, shift_by_min: bool = False,
            shift_by_mean: bool = False, shift_by_largest_magnitude: bool = False,
            global_max: bool = False, max_over_rows: bool = False, rows_sum_to_one: bool = False,
            whole_matrix: bool = False, not_normalised: bool = False,
            denominator_epsilon: bool = False) -> np.ndarray:
    """Column-wise softmax of Z (C, m), finite for any finite Z."""
    shift = (0.0 if no_shift else Z.min(axis=0, keepdims=True) if shift_by_min
             else Z.mean(axis=0, keepdims=True) if shift_by_mean
             else np.abs(Z).max(axis=0, keepdims=True) if shift_by_largest_magnitude
             else Z.max() if global_max else Z.max(axis=1, keepdims=True) if max_over_rows
             else Z.max(axis=0, keepdims=True))
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        T = np.exp(Z - shift)
        if not_normalised:
            return T
        axis = 1 if rows_sum_to_one else None if whole_matrix else 0
        return T / (T.sum(axis=axis, keepdims=True) + (1e-8 if denominator_epsilon else 0.0))


def hardmax(Z: np.ndarray, *, rows: bool = False, single_one: bool = False,
            several_ones_on_tie: bool = False, last_index_on_tie: bool = False) -> np.ndarray:
    """One-hot (C, m) of each column's first maximum."""
    A = np.zeros(Z.shape)
    C, m = Z.shape
    if single_one:
        A[np.unravel_index(np.argmax(Z), Z.shape)] = 1.0
    elif rows:
        A[np.arange(C), np.argmax(Z, axis=1)] = 1.0
    elif several_ones_on_tie:
        A = (Z == Z.max(axis=0, keepdims=True)).astype(np.float64)
    elif last_index_on_tie:
        A[C - 1 - np.argmax(Z[::-1], axis=0), np.arange(m)] = 1.0
    else:
        A[np.argmax(Z, axis=0), np.arange(m)] = 1.0
    return A


def cross_entropy_cost(A: np.ndarray, Y: np.ndarray, *, summed: bool = False,
                       per_example: bool = False, mean_over_entries: bool = False,
                       log10: bool = False, log_epsilon: bool = False, binary: bool = False,
                       no_minus: bool = False, log_of_labels: bool = False
                       ) -> float | np.ndarray:
    """J = -(1/m) sum_i sum_k Y log A, as a float."""
    log = np.log10 if log10 else np.log
    with np.errstate(divide="ignore", invalid="ignore"):
        L = A * log(Y) if log_of_labels else Y * log(A + (1e-8 if log_epsilon else 0.0))
    if binary:
        L = L + (1 - Y) * log(1 - A)
    sign, m = (1.0 if no_minus else -1.0), Y.shape[1]
    if per_example:
        return sign * np.sum(L, axis=0) / m
    if mean_over_entries:
        return float(sign * np.mean(L))
    return float(sign * np.sum(L) / (1 if summed else m))


def softmax_cost_grad(Z: np.ndarray, Y: np.ndarray, *, not_divided_by_m: bool = False,
                      y_minus_a: bool = False, scores: bool = False) -> np.ndarray:
    """dJ/dZ = (softmax(Z) - Y) / m, shape (C, m)."""
    dZ = (Z if scores else softmax(Z)) - Y
    dZ = -dZ if y_minus_a else dZ
    return dZ if not_divided_by_m else dZ / Y.shape[1]


def softmax_cross_entropy(Z: np.ndarray, Y: np.ndarray, *, summed: bool = False,
                          mean_over_entries: bool = False, no_minus: bool = False,
                          log10: bool = False, wrong_axis: bool = False,
                          max_not_added_back: bool = False, no_shift: bool = False,
                          via_softmax: bool = False) -> float:
    """J = -(1/m) sum_i sum_k Y (Z - logsumexp(Z)), from the scores, as a float."""
    log = np.log10 if log10 else np.log
    axis = 1 if wrong_axis else 0
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if via_softmax:
            log_A = np.log(softmax(Z))
        else:
            top = 0.0 if no_shift else Z.max(axis=axis, keepdims=True)
            lse = log(np.sum(np.exp(Z - top), axis=axis, keepdims=True))
            log_A = Z - lse - (0.0 if max_not_added_back else top)
        L = Y * log_A
    sign, m = (1.0 if no_minus else -1.0), Y.shape[1]
    if mean_over_entries:
        return float(sign * np.mean(L))
    return float(sign * np.sum(L) / (1 if summed else m))


# ------------------------------------------------------------------ the hidden calls


@hidden(EXERCISES["test_softmax"])
def softmax_calls(rng: np.random.Generator) -> list[Call]:
    """Values, shape and axis on non-square and square inputs."""
    return [Call.of("Z of shape (3, 5)", rng.normal(size=(3, 5))),
            Call.of("the lecture's z = [5, 2, -1, 3]", LECTURE_Z),
            Call.of("Z of shape (5, 2)", 2 * rng.normal(size=(5, 2))),
            Call.of("Z of shape (4, 4)", rng.normal(size=(4, 4)))]


@hidden(EXERCISES["test_softmax_stable"])
def softmax_stable_calls(rng: np.random.Generator) -> list[Call]:
    """Finite Z on which an unsafe softmax overflows or underflows, one kind per call."""
    huge = rng.normal(size=(4, 1))
    huge[rng.integers(4)] = rng.uniform(1500, 3000)
    spread = rng.normal(size=(5, 1)) * 3
    spread[:2, 0] = [rng.uniform(900, 1100), -rng.uniform(900, 1100)]
    mixed = rng.normal(size=(4, 1)) * 3 - np.array([[0.0], [1000.0], [1000.0], [998.0]])
    levels = rng.normal(size=(4, 3)) * 3 + np.array([[1000.0, -1000.0, 0.0]])
    return [Call.of("a column with one huge entry", rng.permutation(huge)),
            Call.of("a column with a wide spread", rng.permutation(spread)),
            Call.of("a column of mixed signs, most entries near -1000", mixed),
            Call.of("every entry -1000", np.full((3, 2), -1000.0)),
            Call.of("columns near +1000, -1000 and 0", levels)]


@hidden(EXERCISES["test_hardmax"])
def hardmax_calls(rng: np.random.Generator) -> list[Call]:
    """One 1 per column, at the column's maximum."""
    return [Call.of("the lecture's z = [5, 2, -1, 3]", LECTURE_Z),
            *[Call.of(f"Z of shape {s}", rng.normal(size=s)) for s in [(4, 6), (3, 3)]]]


@hidden(EXERCISES["test_hardmax_ties"])
def hardmax_ties_calls(rng: np.random.Generator) -> list[Call]:
    """Ties go to the lowest index, as np.argmax."""
    Z = rng.integers(0, 2, size=(5, 6)).astype(np.float64)
    Z[:, 0], Z[:2, 1] = 1.0, 7.0
    return [Call.of("Z with tied maxima", Z), Call.of("a column of equal values", np.zeros((3, 1)))]


@hidden(EXERCISES["test_cross_entropy_cost"])
def cost_calls(rng: np.random.Generator) -> list[Call]:
    """Absolute values of J, averaged over examples; one call with an unlikely true class."""
    calls = [Call.of(f"A, Y of shape ({C}, {m})", softmax(rng.normal(size=(C, m))),
                     one_hot(rng.integers(0, C, size=m), C)) for C, m in [(4, 5), (3, 8), (5, 1)]]
    A = softmax(rng.normal(size=(3, 4)))
    A[:, 0] = [1e-6 * rng.uniform(0.5, 2), 0.5, 0.5]
    A[2, 0] -= A[0, 0]
    Y = one_hot(np.r_[0, rng.integers(0, 3, size=3)], 3)
    return [*calls, Call.of("a true class of probability about 1e-6", A, Y)]


@hidden(EXERCISES["test_softmax_cost_grad"])
def softmax_cost_grad_calls(rng: np.random.Generator) -> list[Call]:
    """dJ/dZ against the exact gradient at a precision only a derived gradient reaches."""
    return [Call.of(f"Z, Y of shape ({C}, {m})", rng.normal(size=(C, m)),
                    one_hot(rng.integers(0, C, size=m), C)) for C, m in [(4, 6), (3, 3), (2, 7)]]


@hidden(EXERCISES["test_softmax_cross_entropy"])
def softmax_cross_entropy_calls(rng: np.random.Generator) -> list[Call]:
    """Values on ordinary scores (m > 1 first), the log C of Z = 0, one example."""
    C = int(rng.integers(3, 7))
    calls = [Call.of(f"Z, Y of shape ({c}, {m})", 2 * rng.normal(size=(c, m)),
                     one_hot(rng.integers(0, c, size=m), c)) for c, m in [(4, 6), (3, 3)]]
    return [*calls,
            Call.of(f"Z = 0 with C = {C} classes (J = log {C})", np.zeros((C, 4)),
                    one_hot(rng.integers(0, C, size=4), C)),
            Call.of("one example (m = 1)", 2 * rng.normal(size=(5, 1)),
                    one_hot(rng.integers(0, 5, size=1), 5))]


@hidden(EXERCISES["test_softmax_cross_entropy_stable"])
def softmax_cross_entropy_stable_calls(rng: np.random.Generator) -> list[Call]:
    """Scores where exp overflows, or where the true class's softmax underflows to 0."""
    gap = rng.uniform(760, 1200)
    huge = np.array([[0.0], [gap]]) + rng.normal()
    levels = rng.normal(size=(3, 3)) * 3 + np.array([[1000.0, -1000.0, 0.0]])
    return [Call.of("two scores about 800 to 1200 apart, the lower one true", huge,
                    np.array([[1.0], [0.0]])),
            Call.of("columns near +1000, -1000 and 0", levels,
                    one_hot(rng.integers(0, 3, size=3), 3))]
