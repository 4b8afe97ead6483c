"""Visible checks of 04_softmax_vs_hardmax, and the diagnoses the grader shares.

Each `check_*` takes the student's function, runs it on the visible inputs below and raises
`CheckFailed` with a sentence naming the mistake; otherwise it prints what it verified.
The `*_problem` functions are the verdicts of both layers: the grader's judges call them on
its hidden inputs with the reference's results, so a mistake gets the same sentence in the
notebook and in the feedback. Each hint sentence below exists only here, and is shown only
when the result has that mistake's pattern.

The expected values of the visible inputs (`EXPECTED`) are computed from the reference by
`python -m autograder.reference.softmax_vs_hardmax`, never typed by hand.
"""

import numpy as np

from course_lib.checking import (
    CheckFailed,
    contract_problem,
    describe_mismatch,
    guards_arguments,
)
from course_lib.checks.gradients import IDENTIFY_RTOL, gradient_mismatch

# ------------------------------------------------------------------ one tolerance per cell

SOFTMAX_RTOL = 1e-9
"""softmax (both cells): correct forms (shifted or not, exp(Z - logsumexp)) agree to ~1e-13."""

COST_RTOL = 1e-9
"""cross_entropy_cost: every correct form agrees to ~1e-15; an epsilon inside the log does not."""

# grad: course_lib.checks.gradients.ANALYTIC_RTOL; hardmax: exact (0s and 1s).

# ------------------------------------------------------------ the hint sentences, once each

SOFTMAX_NOT_FINITE = (
    "A contains nan or inf: np.exp overflows to inf above about 709, and when every exponent "
    "of a column is below about -745 they all become 0 and 0/0 is nan; subtract each "
    "column's maximum from it before np.exp (the result does not change, and the largest "
    "exponent becomes 0)")
SOFTMAX_GLOBAL_MAX = (
    "A is nan in the columns whose entries are far below the largest entry of Z: subtract "
    "each column's own maximum (Z.max(axis=0, keepdims=True)), not the maximum of all of Z")
SOFTMAX_NEGATIVE = "A has negative entries, but probabilities are never negative"
SOFTMAX_ROWS = ("the rows of A sum to 1 instead of the columns: normalise each column over "
                "the classes (sum over axis=0 with keepdims=True)")
SOFTMAX_WHOLE_MATRIX = ("the entries of A sum to 1 over the whole matrix, not per column: "
                        "normalise each column (sum over axis=0 with keepdims=True)")
SOFTMAX_NOT_NORMALISED = ("A is proportional to exp(Z) in each column but its columns do not "
                          "sum to 1: divide each column by its sum")
SOFTMAX_DENOMINATOR_EPSILON = (
    "the columns of A sum to slightly less than 1: an epsilon added to the denominator "
    "changes the result; after subtracting the column's maximum the sum is at least 1, so "
    "divide by it as it is")
SOFTMAX_MAX_OVER_ROWS = (
    "A is exp(Z minus each row's maximum), normalised: subtract each column's maximum "
    "(axis=0) instead; a different number for each row changes the result")
SOFTMAX_COLUMN_SUMS = "each column of A should sum to 1 (the probabilities of one example)"

HARDMAX_NOT_ONE_HOT = "A should contain only 0s and 1s"
HARDMAX_WRONG_AXIS = ("the 1s mark the maximum of each row instead of each column: take "
                      "np.argmax over axis=0 (the classes) for each column (example)")
HARDMAX_SINGLE_ONE = ("A has a single 1 in the whole matrix, at the largest entry of Z: "
                      "each column (example) needs its own 1, np.argmax(Z, axis=0)")
HARDMAX_TIES_SEVERAL = ("a column of A has more than one 1: when several entries tie for the "
                        "maximum, only the first (lowest index, as np.argmax) gets the 1")
HARDMAX_NO_ONE = "a column of A has no 1: each column needs exactly one 1, at its maximum"
HARDMAX_NOT_AT_MAX = "the 1 of a column is not at that column's maximum"
HARDMAX_TIE_NOT_FIRST = "on ties the 1 should go to the lowest index (as np.argmax does)"

COST_PER_EXAMPLE = ("J has one value per example: return one number, their average (sum "
                    "over the classes and the examples, divide by m)")
COST_MEAN_OVER_ENTRIES = (
    "J is C times too small: np.mean averages over all C*m entries of Y * log(A); sum over "
    "the classes and divide by the number of examples m only")
COST_LOG10 = "J is too small by a factor ln(10): use the natural log np.log, not np.log10"
COST_BINARY = ("J adds the terms (1 - Y) * log(1 - A) of the two-class (logistic) loss: with "
               "softmax only the true class counts, J = -(1/m) sum of Y * log(A)")
COST_LOG_EPSILON = (
    "J is a little smaller than the exact cost, as with an epsilon inside the log "
    "(np.log(A + 1e-8)): it changes J by about epsilon / A, a lot for an unlikely true class; "
    "A's entries are positive here, so use np.log(A) as it is")

GRAD_SCORES_NOT_A = "(Z - Y) / m uses the scores Z where the probabilities softmax(Z) belong"

HINTS = {
    "softmax_no_shift": SOFTMAX_NOT_FINITE,
    "softmax_shift_by_min": SOFTMAX_NOT_FINITE,
    "softmax_shift_by_mean": SOFTMAX_NOT_FINITE,
    "softmax_shift_by_largest_magnitude": SOFTMAX_NOT_FINITE,
    "softmax_global_max": SOFTMAX_GLOBAL_MAX,
    "softmax_rows_sum_to_one": SOFTMAX_ROWS,
    "softmax_whole_matrix": SOFTMAX_WHOLE_MATRIX,
    "softmax_not_normalised": SOFTMAX_NOT_NORMALISED,
    "softmax_denominator_epsilon": SOFTMAX_DENOMINATOR_EPSILON,
    "softmax_max_over_rows": SOFTMAX_MAX_OVER_ROWS,
    "hardmax_rows": HARDMAX_WRONG_AXIS,
    "hardmax_single_one": HARDMAX_SINGLE_ONE,
    "hardmax_several_ones_on_tie": HARDMAX_TIES_SEVERAL,
    "hardmax_last_index_on_tie": HARDMAX_TIE_NOT_FIRST,
    "cost_per_example": COST_PER_EXAMPLE,
    "cost_mean_over_entries": COST_MEAN_OVER_ENTRIES,
    "cost_log10": COST_LOG10,
    "cost_binary": COST_BINARY,
    "cost_log_epsilon": COST_LOG_EPSILON,
    "grad_scores_not_probabilities": GRAD_SCORES_NOT_A,
}
"""The named mistakes of this notebook and their sentences (the reference models each one)."""

LOG_EPSILONS = (1e-16, 1e-15, 1e-12, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5)
"""Epsilons students put inside the log, recognised by `cost_problem`."""

# ------------------------------------------------------------------------- visible inputs

LECTURE_Z = np.array([[5.0], [2.0], [-1.0], [3.0]])
"""The lecture's 4-class example z = [5, 2, -1, 3], as one column."""

SOFTMAX_INPUTS = {
    "the lecture's z = [5, 2, -1, 3]": LECTURE_Z,
    "Z of shape (3, 5)": np.array([[0.5, -1.2, 2.0, 0.0, 1.1], [1.5, 0.3, -0.7, 0.0, -2.2],
                                   [-0.4, 0.8, 0.9, 0.0, 0.6]]),
    "Z of shape (4, 4)": np.array([[1.0, -0.5, 0.2, 2.5], [0.3, 1.7, -1.1, 0.4],
                                   [-2.0, 0.6, 0.9, -0.3], [0.8, -1.4, 0.1, 1.2]]),
}

STABLE_INPUTS = {
    "a column with one huge entry (2000)": np.array([[0.0], [2000.0], [1.0], [-3.0]]),
    "a column with a wide spread (-1000 to 1000)": np.array([[1000.0], [-1000.0], [0.0],
                                                             [998.0]]),
    "a column of mixed signs, most entries near -1000": np.array([[3.0], [-1000.0],
                                                                  [-998.0]]),
    "every entry near -1000": np.array([[-1000.0, -1002.0], [-1001.0, -1000.0],
                                        [-999.5, -1000.0]]),
    "columns near +1000 and near -1000": np.array([[1000.0, -1000.0], [999.0, -1001.0],
                                                   [998.0, -1000.0]]),
}
"""Finite Z on which an unsafe softmax fails, one kind each (the grader draws its own)."""

HARDMAX_INPUTS = {
    "the lecture's z = [5, 2, -1, 3]": LECTURE_Z,
    "Z of shape (4, 6)": np.array([[0.2, -1.0, 1.5, 0.3, -0.2, 0.9],
                                   [1.1, 0.4, -0.3, 0.7, 2.0, -0.5],
                                   [-0.6, 1.3, 0.8, -1.2, 0.1, 0.4],
                                   [0.5, 0.0, 1.9, 0.6, -0.9, 1.0]]),
    "Z of shape (3, 3)": np.array([[1.5, 2.0, 0.4], [1.2, -0.3, 0.6], [0.5, 0.9, 1.8]]),
}

TIES_INPUTS = {
    "Z with tied maxima": np.array([[1.0, 3.0, 0.0, 2.0], [1.0, 3.0, 2.0, 2.0],
                                    [0.0, 1.0, 2.0, -1.0]]),
    "a column of equal values": np.zeros((3, 1)),
}

GRAD_Z = np.array([[1.0, -1.0, 0.5, 2.0], [0.0, 2.0, -0.5, 1.0], [-1.0, 0.5, 0.0, 0.0]])
GRAD_Y = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])

COST_INPUTS = {
    "A, Y of shape (3, 4)": (
        np.array([[0.7, 0.1, 0.2, 0.6], [0.2, 0.8, 0.3, 0.3], [0.1, 0.1, 0.5, 0.1]]), GRAD_Y),
    "a true class of probability 1e-6 (m = 3)": (
        np.array([[0.25, 1e-6, 0.5], [0.25, 0.999998, 0.25], [0.5, 1e-6, 0.25]]),
        np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])),
    "one example (m = 1)": (np.array([[0.1], [0.2], [0.6], [0.1]]),
                            np.array([[0.0], [0.0], [1.0], [0.0]])),
}

GRAD_INPUTS = {"Z, Y of shape (3, 4)": (GRAD_Z, GRAD_Y)}

# BEGIN GENERATED by `python -m autograder.reference.softmax_vs_hardmax`: do not edit
EXPECTED = {'softmax': {"the lecture's z = [5, 2, -1, 3]": [[0.8420335723974581],
                                                 [0.04192238303698896],
                                                 [0.0020871925504063493],
                                                 [0.11395685201514683]],
             'Z of shape (3, 5)': [[0.24243297070471392, 0.0776955791485706,
                                    0.7142466366085031, 0.3333333333333333,
                                    0.6084894647358406],
                                   [0.6590011388859679, 0.3482074278837349,
                                    0.04800131143591617, 0.3333333333333333,
                                    0.02244301878974293],
                                   [0.09856589040931818, 0.5740969929676946,
                                    0.23775205195558083, 0.3333333333333333,
                                    0.36906751647441655]],
             'Z of shape (4, 4)': [[0.42281454424939086, 0.0744283021639213,
                                    0.23859959682305026, 0.6869083519680135],
                                   [0.2099634889035101, 0.6717164317693516,
                                    0.0650259759393784, 0.08411634331914508],
                                   [0.021050696621471656, 0.22359497658087116,
                                    0.4804805841037816, 0.04177093990096017],
                                   [0.3461712702256275, 0.030260289485855994,
                                    0.21589384313378973, 0.18720436481188132]]},
 'softmax_stable': {'a column with one huge entry (2000)': [[0.0], [1.0], [0.0],
                                                            [0.0]],
                    'a column with a wide spread (-1000 to 1000)': [[0.8807970779778823],
                                                                    [0.0], [0.0],
                                                                    [0.11920292202211755]],
                    'a column of mixed signs, most entries near -1000': [[1.0],
                                                                         [0.0],
                                                                         [0.0]],
                    'every entry near -1000': [[0.33149896042409155,
                                                0.06337893833303762],
                                               [0.12195165230972886,
                                                0.4683105308334812],
                                               [0.5465493872661796,
                                                0.4683105308334812]],
                    'columns near +1000 and near -1000': [[0.6652409557748218,
                                                           0.4223187982515182],
                                                          [0.24472847105479764,
                                                           0.15536240349696362],
                                                          [0.09003057317038046,
                                                           0.4223187982515182]]},
 'cross_entropy_cost': {'A, Y of shape (3, 4)': 0.4459478248947195,
                        'a true class of probability 1e-6 (m = 3)': 5.529366426734685,
                        'one example (m = 1)': 0.5108256237659907},
 'softmax_cost_grad': {'Z, Y of shape (3, 4)': [[-0.08368976105629455,
                                                 0.009778143317671864,
                                                 0.1266200977639135,
                                                 -0.08368976105629455],
                                                [0.06118211776369941,
                                                 -0.05360074135268103,
                                                 0.0465809308064619,
                                                 0.06118211776369941],
                                                [0.022507643292595116,
                                                 0.04382259803500917,
                                                 -0.1732010285703754,
                                                 0.022507643292595116]]}}
# END GENERATED


def visible_expected(cell, name):
    """The reference's result for the visible input `name` of `cell` (float64)."""
    value = EXPECTED[cell][name]
    return float(value) if isinstance(value, float) else np.array(value, dtype=np.float64)


GRAD_DZ = np.array(EXPECTED.get("softmax_cost_grad", {}).get("Z, Y of shape (3, 4)", np.nan))
"""The exact dJ/dZ of cross_entropy_cost(softmax(GRAD_Z), GRAD_Y)."""

# --------------------------------------------------------------- verdicts of both layers


def _proportional_to_exp(S, A):
    """Whether each column of A is a positive multiple of exp(S) (where A is not tiny)."""
    if np.any(A < 0):
        return False
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.log(A) - S
    for column, used in zip(offset.T, (A > 1e-250).T, strict=True):
        if not used.any() or np.ptp(column[used]) > 1e-8:
            return False
    return True


def softmax_problem(Z, A, expected):
    """None, or the sentence naming what is wrong with A = softmax(Z) (expected: reference's)."""
    problem = contract_problem(A, expected, name="A")
    if problem:
        return problem
    if A.shape != Z.shape:
        return describe_mismatch(A, expected, name="A")
    finite = np.all(np.isfinite(A), axis=0)
    if not finite.all():
        tops = Z.max(axis=0)
        underflows = tops < Z.max() - 746
        if (np.all(tops[~finite] < Z.max() - 745) and not np.any(finite & underflows)
                and describe_mismatch(A[:, finite], expected[:, finite], name="A",
                                      rtol=SOFTMAX_RTOL) is None):
            return SOFTMAX_GLOBAL_MAX
        return SOFTMAX_NOT_FINITE
    if np.any(A < 0):
        return SOFTMAX_NEGATIVE
    sums = A.sum(axis=0)
    if not np.allclose(sums, 1.0, rtol=0, atol=SOFTMAX_RTOL):
        rows, columns = Z.shape
        if columns > 1 and abs(A.sum() - 1.0) <= SOFTMAX_RTOL:
            return SOFTMAX_WHOLE_MATRIX
        if (columns > 1 and np.allclose(A.sum(axis=1), 1.0, rtol=0, atol=SOFTMAX_RTOL)) or (
                columns == 1 and rows > 1 and np.allclose(A, 1.0)):
            return SOFTMAX_ROWS
        if _proportional_to_exp(Z, A):
            if np.all((sums < 1.0) & (sums > 1.0 - 1e-5)):
                return SOFTMAX_DENOMINATOR_EPSILON
            return SOFTMAX_NOT_NORMALISED
        return SOFTMAX_COLUMN_SUMS
    mismatch = describe_mismatch(A, expected, name="A", rtol=SOFTMAX_RTOL)
    if mismatch and _proportional_to_exp(Z - Z.max(axis=1, keepdims=True), A):
        return SOFTMAX_MAX_OVER_ROWS
    return mismatch


def _one_hot_at(rows, columns, shape):
    A = np.zeros(shape)
    A[rows, columns] = 1.0
    return A


def hardmax_problem(Z, A):
    """None, or the sentence naming what is wrong with A = hardmax(Z), from its properties."""
    problem = contract_problem(A, np.zeros(Z.shape), name="A")
    if problem:
        return problem
    if A.shape != Z.shape:
        return f"A should have the shape of Z, {Z.shape}, but has shape {A.shape}"
    if not np.all((A == 0) | (A == 1)):
        return HARDMAX_NOT_ONE_HOT
    C, m = Z.shape
    if np.array_equal(A, _one_hot_at(np.argmax(Z, axis=0), np.arange(m), Z.shape)):
        return None
    if np.array_equal(A, _one_hot_at(np.arange(C), np.argmax(Z, axis=1), Z.shape)) or (
            C == m and np.array_equal(A, _one_hot_at(np.argmax(Z, axis=1), np.arange(m),
                                                     Z.shape))):
        return HARDMAX_WRONG_AXIS
    if m > 1 and A.sum() == 1 and Z[A == 1][0] == Z.max():
        return HARDMAX_SINGLE_ONE
    ones = A.sum(axis=0)
    at_max = np.all((A == 0) | (Z == Z.max(axis=0)))
    if np.any(ones > 1):
        return HARDMAX_TIES_SEVERAL if at_max else (
            "a column of A has more than one 1: each column needs exactly one 1, at its maximum")
    if np.any(ones < 1):
        return HARDMAX_NO_ONE
    return HARDMAX_TIE_NOT_FIRST if at_max else HARDMAX_NOT_AT_MAX


def cost_problem(J, expected, A, Y):
    """None, or the sentence naming what is wrong with J = cross_entropy_cost(A, Y)."""
    C, m = Y.shape
    problem = contract_problem(J, expected, name="J")
    if problem:
        if isinstance(J, np.ndarray) and J.shape == (m,) and m > 1:
            return COST_PER_EXAMPLE
        return problem
    mismatch = describe_mismatch(J, expected, name="J", m=m, rtol=COST_RTOL)
    if mismatch is None or not np.isfinite(J):
        return mismatch
    true = Y > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        known = [(expected / C, COST_MEAN_OVER_ENTRIES), (expected / np.log(10), COST_LOG10),
                 (expected - np.sum(np.where(true, 0.0, np.log1p(-A))) / m, COST_BINARY)]
        known += [(expected - np.sum(np.log1p(eps / A[true])) / m, COST_LOG_EPSILON)
                  for eps in LOG_EPSILONS]
    for value, sentence in known:
        if (abs(value - expected) > IDENTIFY_RTOL * abs(expected)
                and abs(float(J) - value) <= IDENTIFY_RTOL * abs(value)):
            return sentence
    return mismatch


def softmax_cost_grad_problem(dZ, expected, Z, Y):
    """None, or what is wrong with dZ against the exact gradient `expected`.

    The tolerance is `course_lib.checks.gradients.ANALYTIC_RTOL`: a derived gradient
    meets it, a numerical (finite-difference) one cannot.
    """
    m = Y.shape[1]
    return contract_problem(dZ, expected, name="dZ") or gradient_mismatch(
        dZ, expected, name="dZ", m=m, known=[((Z - Y) / m, GRAD_SCORES_NOT_A)])


# ------------------------------------------------------------------------ visible checks


def _raise_if(problem, context):
    if problem:
        raise CheckFailed(f"{context}: {problem}")


@guards_arguments
def check_softmax(softmax):
    """Check softmax on the lecture's example, a non-square and a square Z."""
    for name, Z in SOFTMAX_INPUTS.items():
        _raise_if(softmax_problem(Z, softmax(Z.copy()), visible_expected("softmax", name)), name)
    print("softmax: lecture example, column sums and values are right.")


@guards_arguments
def check_softmax_stable(softmax):
    """Check that softmax stays finite and right for Z with entries far from 0."""
    for name, Z in STABLE_INPUTS.items():
        _raise_if(softmax_problem(Z, softmax(Z.copy()), visible_expected("softmax_stable", name)),
                  name)
    print("softmax: finite and correct for wide spreads, mixed signs and |Z| up to 2000.")


@guards_arguments
def check_hardmax(hardmax):
    """Check hardmax on the lecture's example, a non-square and a square Z."""
    for name, Z in HARDMAX_INPUTS.items():
        _raise_if(hardmax_problem(Z, hardmax(Z.copy())), name)
    print("hardmax: one 1 per column, at the maximum.")


@guards_arguments
def check_hardmax_ties(hardmax):
    """Check that ties go to the lowest index."""
    for name, Z in TIES_INPUTS.items():
        _raise_if(hardmax_problem(Z, hardmax(Z.copy())), name)
    print("hardmax: ties go to the first maximum.")


@guards_arguments
def check_cross_entropy_cost(cross_entropy_cost):
    """Check J against its exact value on three inputs (m = 4, an unlikely class, m = 1)."""
    for name, (A, Y) in COST_INPUTS.items():
        J = cross_entropy_cost(A.copy(), Y.copy())
        _raise_if(cost_problem(J, visible_expected("cross_entropy_cost", name), A, Y), name)
    print("cross_entropy_cost: J is right, averaged over the examples.")


@guards_arguments
def check_softmax_cost_grad(softmax_cost_grad, softmax=None, cross_entropy_cost=None):
    """Check dZ against the exact gradient, at a precision only a derived gradient reaches.

    `softmax` and `cross_entropy_cost` are accepted for notebooks that pass them; unused.
    """
    for name, (Z, Y) in GRAD_INPUTS.items():
        dZ = softmax_cost_grad(Z.copy(), Y.copy())
        _raise_if(softmax_cost_grad_problem(dZ, visible_expected("softmax_cost_grad", name), Z, Y),
                  name)
    print("softmax_cost_grad: matches the exact gradient (A - Y) / m.")
