"""Reference solutions of 04_softmax_vs_hardmax (shapes: classes x examples). Instructor material.

Each function takes keyword arguments that reproduce the known mistakes; `MISTAKES` names
them, with the graded cell that must name each one (the sentences are in
`course_lib.checks.softmax_vs_hardmax.HINTS`).

`python -m autograder.reference.softmax_vs_hardmax` computes the expected values of the
visible inputs and writes them into the published checks (the block `EXPECTED`).
"""

import pprint
import re
from pathlib import Path

import numpy as np

SHIFTS = {
    "column": lambda Z: Z.max(axis=0, keepdims=True),
    "none": lambda Z: 0.0,
    "global": lambda Z: Z.max(),
    "min": lambda Z: Z.min(axis=0, keepdims=True),
    "mean": lambda Z: Z.mean(axis=0, keepdims=True),
    "largest_magnitude": lambda Z: np.abs(Z).max(axis=0, keepdims=True),
    "row": lambda Z: Z.max(axis=1, keepdims=True),
}
"""What a softmax subtracts from Z before np.exp: the right one, and students' others."""


def softmax(Z, *, shift="column", axis=0, normalise=True, denominator_eps=0.0):
    """Column-wise softmax of Z (C, m), stable for any finite Z.

    Mistakes: `shift` (see SHIFTS), `axis=1`/`None` (rows or the whole matrix sum to 1),
    `normalise=False`, `denominator_eps > 0`.
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        T = np.exp(Z - SHIFTS[shift](Z))
        if not normalise:
            return T
        return T / (T.sum(axis=axis, keepdims=True) + denominator_eps)


def hardmax(Z, *, axis=0, overall=False, ties="first"):
    """One-hot (C, m) of each column's first maximum.

    Mistakes: `axis=1` (each row's maximum), `overall=True` (one 1 at the largest entry of
    Z), `ties="all"` (a 1 at every maximum), `ties="last"`.
    """
    A = np.zeros(Z.shape)
    C, m = Z.shape
    if overall:
        A[np.unravel_index(np.argmax(Z), Z.shape)] = 1.0
    elif axis == 1:
        A[np.arange(C), np.argmax(Z, axis=1)] = 1.0
    elif ties == "all":
        A = (Z == Z.max(axis=0, keepdims=True)).astype(np.float64)
    elif ties == "last":
        A[C - 1 - np.argmax(Z[::-1], axis=0), np.arange(m)] = 1.0
    else:
        A[np.argmax(Z, axis=0), np.arange(m)] = 1.0
    return A


def cross_entropy_cost(A, Y, *, average="examples", log=np.log, eps=0.0, binary=False,
                       sign=1.0):
    """J = -(1/m) sum_i sum_k Y log A, as a float.

    Mistakes: `average` "none" (summed), "entries" (np.mean over C*m), "per_example"
    (an array of m losses); `log=np.log10`; `eps` inside the log; `binary=True` (adds the
    two-class terms (1 - Y) log(1 - A)); `sign=-1`.
    """
    L = Y * log(A + eps)
    if binary:
        L = L + (1 - Y) * log(1 - A)
    m = Y.shape[1]
    if average == "per_example":
        return -sign * np.sum(L, axis=0) / m
    if average == "entries":
        return float(-sign * np.mean(L))
    return float(-sign * np.sum(L) / (m if average == "examples" else 1))


def softmax_cost_grad(Z, Y, *, over_m=True, sign=1.0, scores=False):
    """dJ/dZ = (softmax(Z) - Y) / m, shape (C, m).

    Mistakes: `over_m=False`, `sign=-1` (Y - A), `scores=True` (Z in place of softmax(Z)).
    """
    A = Z if scores else softmax(Z)
    dZ = sign * (A - Y)
    return dZ / Y.shape[1] if over_m else dZ


MISTAKES = {
    "softmax_no_shift": ("softmax", dict(shift="none"), "test_softmax_stable"),
    "softmax_shift_by_min": ("softmax", dict(shift="min"), "test_softmax_stable"),
    "softmax_shift_by_mean": ("softmax", dict(shift="mean"), "test_softmax_stable"),
    "softmax_shift_by_largest_magnitude": (
        "softmax", dict(shift="largest_magnitude"), "test_softmax_stable"),
    "softmax_global_max": ("softmax", dict(shift="global"), "test_softmax_stable"),
    "softmax_rows_sum_to_one": ("softmax", dict(axis=1), "test_softmax"),
    "softmax_whole_matrix": ("softmax", dict(axis=None), "test_softmax"),
    "softmax_not_normalised": ("softmax", dict(normalise=False), "test_softmax"),
    "softmax_denominator_epsilon": ("softmax", dict(denominator_eps=1e-8), "test_softmax"),
    "softmax_max_over_rows": ("softmax", dict(shift="row"), "test_softmax"),
    "hardmax_rows": ("hardmax", dict(axis=1), "test_hardmax"),
    "hardmax_single_one": ("hardmax", dict(overall=True), "test_hardmax"),
    "hardmax_several_ones_on_tie": ("hardmax", dict(ties="all"), "test_hardmax_ties"),
    "hardmax_last_index_on_tie": ("hardmax", dict(ties="last"), "test_hardmax_ties"),
    "cost_summed": ("cross_entropy_cost", dict(average="none"), "test_cross_entropy_cost"),
    "cost_per_example": (
        "cross_entropy_cost", dict(average="per_example"), "test_cross_entropy_cost"),
    "cost_mean_over_entries": (
        "cross_entropy_cost", dict(average="entries"), "test_cross_entropy_cost"),
    "cost_log10": ("cross_entropy_cost", dict(log=np.log10), "test_cross_entropy_cost"),
    "cost_log_epsilon": ("cross_entropy_cost", dict(eps=1e-8), "test_cross_entropy_cost"),
    "cost_binary": ("cross_entropy_cost", dict(binary=True), "test_cross_entropy_cost"),
    "cost_no_minus": ("cross_entropy_cost", dict(sign=-1.0), "test_cross_entropy_cost"),
    "grad_not_divided_by_m": ("softmax_cost_grad", dict(over_m=False), "test_softmax_cost_grad"),
    "grad_y_minus_a": ("softmax_cost_grad", dict(sign=-1.0), "test_softmax_cost_grad"),
    "grad_scores_not_probabilities": (
        "softmax_cost_grad", dict(scores=True), "test_softmax_cost_grad"),
}
"""id -> (graded function, keywords of the reference that reproduce it, the cell naming it)."""


def visible_expected():
    """{cell: {visible input: the reference's result}} for the published visible checks."""
    from course_lib.checks import softmax_vs_hardmax as visible

    def plain(value):
        return value if isinstance(value, float) else np.asarray(value).tolist()

    return {
        "softmax": {n: plain(softmax(Z)) for n, Z in visible.SOFTMAX_INPUTS.items()},
        "softmax_stable": {n: plain(softmax(Z)) for n, Z in visible.STABLE_INPUTS.items()},
        "cross_entropy_cost": {n: cross_entropy_cost(A, Y)
                               for n, (A, Y) in visible.COST_INPUTS.items()},
        "softmax_cost_grad": {n: plain(softmax_cost_grad(Z, Y))
                              for n, (Z, Y) in visible.GRAD_INPUTS.items()},
    }


GENERATED = re.compile(r"(# BEGIN GENERATED[^\n]*\n).*?(# END GENERATED)", re.S)


def write_visible_expected():
    """Rewrite the EXPECTED block of the published checks from the reference."""
    from course_lib.checks import softmax_vs_hardmax as visible

    path = Path(visible.__file__)
    block = "EXPECTED = " + pprint.pformat(visible_expected(), width=84, sort_dicts=False,
                                          compact=True)
    path.write_text(GENERATED.sub(lambda m: m.group(1) + block + "\n" + m.group(2),
                                  path.read_text(), count=1))
    return path


if __name__ == "__main__":
    print(f"wrote {write_visible_expected()}")
