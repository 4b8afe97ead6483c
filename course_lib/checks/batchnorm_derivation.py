"""Visible checks of 02_batchnorm_derivation, the grader's drivers, and the judges both share.

Each `check_*` takes the student's functions, runs them on small known inputs
and raises `CheckFailed` with a sentence naming the mistake; otherwise it
prints what it verified. The grader calls the same drivers in the student's
kernel and the same judges outside it, on hidden inputs, with the same
tolerances and the same hint sentences (`HINTS`, one per named mistake).

Forward inputs are built so that the right answer, and the answer of each
mistake, is known in closed form: a unit whose values are `c + s * u`, where
`u` has mean 0 and (biased) variance 1, has mean `c` and variance `s**2`, so
batch norm turns it into `gamma * s * u / sqrt(s**2 + eps) + beta`.

Tolerances: on ordinary units (standard deviation at least 1) eps = 1e-5
changes any result by less than 2e-5 relative, so the forward checks use `RTOL`
and leave the placement of eps to the checks on (near-)constant and
tiny-variance units, which use `RTOL_EPS` and where eps decides everything.
Gradients must be derived, not approximated: they are compared with exact
values at `course_lib.checks.gradients.ANALYTIC_RTOL` (1e-13), on ordinary units
with eps = 0 (so that where eps sits cannot matter), and at
`RTOL_TINY_GRADIENT` on units whose variance is below eps. The exact gradients
of the visible cases, and those of each named mistake, are in
`batchnorm_derivation_values` (generated from the reference solution).
Numerical gradients of your forward pass are compared at `RTOL` / `RTOL_EPS`:
they only show whether the forward pass is right.
"""

import contextlib
import io

import numpy as np

from course_lib.checking import (
    CheckFailed,
    contract_problem,
    describe_mismatch,
    guards_arguments,
)
from course_lib.checks.batchnorm_derivation_values import VALUES
from course_lib.checks.gradients import ANALYTIC_RTOL, gradient_mismatch, known_mistake
from course_lib.gradcheck import numerical_gradient

RTOL = 1e-4
"""Relative tolerance (to the largest expected entry) on ordinary units."""

RTOL_EPS = 1e-6
"""Relative tolerance on near-constant and tiny-variance units."""

RTOL_TINY_GRADIENT = 1e-12
"""Tolerance of dZ on units whose variance is below eps (means near 0).

There, a correct forward pass that computes the variance in one pass,
mean(Z**2) - mu**2, moves dZ by up to 4e-14 (two-pass forms: 2e-14 at most);
finite differences stay above 3.7e-11 (measured over 100 seeds, every step)."""

RTOL_FORWARD_GRADIENT = 1e-7
"""Tolerance of the numerical gradient of your forward pass on ordinary units, eps = 0.

There centred differences (step 1e-5) are within 1e-9 of the exact gradient, while a
forward pass that uses eps = 1e-5 whatever eps it is given is 1e-6 off."""

EPS = 1e-5
"""The default eps of batchnorm_forward."""

HINTS = {
    # batchnorm_forward
    "units_axis": "the statistics are taken over the units (axis 0) instead of over the m "
                  "examples of each unit (axis 1, one mean and variance per row)",
    "no_keepdims": "a statistic lost its (n, 1) shape, so it does not line up with the rows "
                   "of Z: use keepdims=True so that row i is normalised with unit i's mean "
                   "and variance",
    "unbiased": "the variance is divided by m - 1; batch norm uses the biased variance "
                "(1/m) sum (Z - mu)**2 (np.var's default ddof=0)",
    "not_centred": "Z is divided by sqrt(var + eps) without subtracting the mean first: "
                   "Z_norm = (Z - mu) / sqrt(var + eps)",
    "var_not_std": "Z - mu is divided by var + eps; divide by its square root, the standard "
                   "deviation sqrt(var + eps)",
    "eps_outside": "eps is added outside the square root; it belongs inside: sqrt(var + eps)",
    "no_eps": "eps is missing: divide by sqrt(var + eps), not by sqrt(var) (a unit whose "
              "values are all equal has variance 0, and 0 / 0 is nan)",
    "eps_ignored": "batchnorm_forward ignores its argument eps: use the eps it is given, not "
                   "the constant 1e-5",
    "no_gamma": "gamma is missing: Z_tilde = gamma * Z_norm + beta scales each unit by gamma",
    "no_beta": "beta is missing: Z_tilde = gamma * Z_norm + beta shifts each unit by beta",
    "swapped": "gamma and beta are swapped: gamma scales, beta shifts "
               "(Z_tilde = gamma * Z_norm + beta)",
    # batchnorm_backward
    "no_dmu": "dZ misses the path through mu: Z reaches the output through Z - mu, through "
              "mu and through var, and each path adds a term (dmu / m is missing)",
    "no_dvar": "dZ misses the path through var: add dvar * 2 (Z - mu) / m",
    "dmu_over_m2": "the mu path is divided by m twice: dmu already sums over the examples, "
                   "and dmu/dZ_i = 1/m once",
    "var_no_eps": "the backward pass uses var where the forward pass used var + eps: "
                  "differentiate 1 / sqrt(var + eps)",
    "dvar_m_minus_1": "the var path uses 1/(m - 1); the forward pass's variance is the biased "
                      "one, so dvar/dZ_i = 2 (Z_i - mu) / m",
    "dvar_power": "dvar uses the power -1/2 of var + eps; the derivative of "
                  "(var + eps)**(-1/2) is -1/2 (var + eps)**(-3/2)",
    "eps_fixed_in_backward": "this is the gradient for eps = 1e-5, not for the eps given to "
                             "batchnorm_forward: use that eps in the forward pass and keep it (or "
                             "sqrt(var + eps)) in the cache for the backward pass",
    "no_gamma_in_dZ": "dZ misses the factor gamma: Z_tilde = gamma * Z_norm + beta, so "
                      "dZ_norm = dZ_tilde * gamma",
    "dgamma_of_Z": "dgamma sums dZ_tilde * Z; gamma multiplies Z_norm, so dgamma sums "
                   "dZ_tilde * Z_norm",
    "params_not_summed": "gamma and beta are shared by the m examples, so sum their "
                         "contributions over the examples (axis=1, keepdims=True) to get "
                         "shape (n, 1)",
    "swapped_params": "dgamma and dbeta are swapped: dbeta = sum of dZ_tilde, dgamma = sum of "
                      "dZ_tilde * Z_norm",
}
"""One sentence per named mistake, shown by the visible checks and by the grader."""

PARTS = ("dZ", "dgamma", "dbeta")


def raise_if(problem, context=""):
    """Raise CheckFailed with `problem` (after "`context`: ") unless `problem` is None."""
    if problem:
        raise CheckFailed(f"{context}: {problem}" if context else problem)


def mismatch(actual, expected, *, name, rtol=RTOL, m=None, known=()):
    """None if `actual` matches `expected`, otherwise one sentence naming the mistake.

    The tolerance is relative to the largest |expected| entry, so entries that
    happen to be close to 0 are not held to a stricter standard than the rest.

    Parameters
    ----------
    known : sequence of (values, sentence)
        Results of known mistakes: when `actual` equals `values` (nan where
        `values` is nan), the sentence is the answer.
    """
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    atol = max(rtol * scale, 1e-300)
    problem = describe_mismatch(actual, expected, name=name, m=m, rtol=rtol, atol=atol)
    if problem is None:
        return None
    try:
        values = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return problem
    for wrong, sentence in known:
        if wrong is None:
            continue
        wrong = np.asarray(wrong, dtype=np.float64)
        if wrong.shape == values.shape and np.allclose(values, wrong, rtol=rtol, atol=atol,
                                                       equal_nan=True):
            return f"{name} is wrong: {sentence}"
    return problem


def row_sums_problem(Z, dZ, rtol):
    """A hint when dZ breaks the two identities every batch-norm gradient satisfies, or None.

    Shifting all m values of a unit by the same amount, or (up to eps)
    scaling their deviations from the mean, does not change the output, so each
    row of dZ sums to 0 and is orthogonal to that row of Z - mean.
    """
    dZ = np.asarray(dZ, dtype=np.float64)
    if dZ.shape != Z.shape or not np.all(np.isfinite(dZ)):
        return None
    scale = np.max(np.abs(dZ)) * Z.shape[1]
    if np.any(np.abs(dZ.sum(axis=1)) > rtol * scale):
        return ("each row of dZ should sum to 0 (adding a constant to a unit's m values does "
                "not change its output): check the path through mu")
    deviations = Z - Z.mean(axis=1, keepdims=True)
    spread = np.max(np.abs(deviations))
    if np.any(np.abs((dZ * deviations).sum(axis=1)) > 1e-3 * scale * spread):
        return ("each row of dZ should be orthogonal to that row of Z - mu (scaling a unit's "
                "deviations from its mean does not change its output): check the path "
                "through var")
    return None


def lost_keepdims(error, n):
    """[name, shape] of the (n,)-shaped local behind a broadcasting ValueError, or None.

    Looks through the traceback for the innermost frame outside numpy holding an
    array of shape (n,) (a mean or variance taken without keepdims); the name is
    None when the array is not a named local.
    """
    if "broadcast" not in str(error):
        return None
    frames, tb = [], error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        if "numpy" in frame.f_code.co_filename.replace("\\", "/").split("/"):
            continue
        for name, value in frame.f_locals.items():
            if isinstance(value, np.ndarray) and value.shape == (n,):
                return [name, [n]]
        break
    return [None, [n]]


def keepdims_sentence(lost, n):
    """The sentence for `lost_keepdims`'s answer."""
    name = lost[0] if isinstance(lost[0], str) else "a mean or variance"
    return f"{name} has shape ({n},), should be ({n}, 1): {HINTS['no_keepdims']}"


# --- drivers: called by the grader in the student's kernel; they return data only ---

def _data(value):
    """`value` if it can be sent as data, otherwise {"type": its type's name}."""
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        return {"type": "np.matrix" if isinstance(value, np.matrix) else type(value).__name__}
    if value is None or isinstance(value, (np.ndarray, float, int, bool, list, tuple)):
        return value
    return {"type": type(value).__name__}


def forward_output(batchnorm_forward, Z, gamma, beta, eps=None):
    """The result of the student's forward pass with its cache replaced by None.

    eps=None calls with the default eps. A broadcasting error from a statistic
    without keepdims comes back as {"lost_keepdims": [name, shape]}.
    """
    try:
        if eps is None:
            result = batchnorm_forward(Z, gamma, beta)
        else:
            result = batchnorm_forward(Z, gamma, beta, eps)
    except ValueError as error:
        lost = lost_keepdims(error, Z.shape[0])
        if lost is None:
            raise
        return {"lost_keepdims": lost}
    if isinstance(result, (tuple, list)):
        head = [_data(v) for v in result[:1]]
        return type(result)(head + [None] * (len(result) - len(head)))
    return _data(result)


def backward_report(batchnorm_forward, batchnorm_backward, Z, gamma, beta, dZ_tilde, eps, h):
    """The student's gradients and the centred-difference gradients of their own forward pass.

    Both are gradients of J = sum(dZ_tilde * Z_tilde) with Z_tilde =
    batchnorm_forward(Z, gamma, beta, eps)[0]. Returns
    {"grads": what batchnorm_backward returned, "numerical": (dZ, dgamma, dbeta)}.
    The student's functions get the arguments themselves first (so that a change
    to them is seen), then copies.
    """
    try:
        _, cache = batchnorm_forward(Z, gamma, beta, eps)
    except ValueError as error:
        lost = lost_keepdims(error, Z.shape[0])
        if lost is None:
            raise
        return {"lost_keepdims": lost}
    grads = batchnorm_backward(dZ_tilde, cache)
    if isinstance(grads, (tuple, list)):
        grads = type(grads)(_data(g) for g in grads)
    else:
        grads = _data(grads)
    Z, gamma, beta = Z.copy(), gamma.copy(), beta.copy()

    def J(Z_, gamma_, beta_):
        return float(np.sum(dZ_tilde * batchnorm_forward(Z_, gamma_, beta_, eps)[0]))

    numerical = (numerical_gradient(lambda V: J(V, gamma, beta), Z, h),
                 numerical_gradient(lambda V: J(Z, V, beta), gamma, h),
                 numerical_gradient(lambda V: J(Z, gamma, V), beta, h))
    return {"grads": grads, "numerical": numerical}


# --- judges: used by the visible checks and by the grader ---

def judge_forward(result, expected, *, known, rtol=RTOL):
    """None if forward_output's `result` holds `expected`, otherwise one sentence.

    `known`: pairs (values, sentence) of the named mistakes on this case.
    """
    n, m = expected.shape
    if isinstance(result, dict):
        if "lost_keepdims" in result:
            return keepdims_sentence(result["lost_keepdims"], n)
        return f"batchnorm_forward returned a {result.get('type')}: return (Z_tilde, cache)"
    problem = contract_problem(result, (expected, None), name="the result of batchnorm_forward")
    if problem:
        return f"{problem} (Z_tilde, cache)"
    if isinstance(result[0], dict):
        return f"Z_tilde is a {result[0].get('type')}: return a plain numpy array"
    problem = contract_problem(result[0], expected, name="Z_tilde")
    return problem or mismatch(result[0], expected, name="Z_tilde", rtol=rtol, m=m,
                               known=known)


def known_gradients(variants, expected):
    """{part: [(values, hint)]} from {mistake: {part: values}} (parts that differ only)."""
    known = {part: [] for part in PARTS}
    for kind, parts in variants.items():
        for part, values in parts.items():
            values = np.asarray(values, dtype=np.float64)
            if values.shape == np.shape(expected[PARTS.index(part)]):
                known[part].append((values, HINTS[kind]))
    return known


def gradient_problem(name, value, expected, numerical, *, known=(), rtol=RTOL,
                     analytic_rtol=ANALYTIC_RTOL, Z=None):
    """Right only if `value` matches `expected` to `analytic_rtol`, and the forward is right.

    A named mistake (`known`) is named first; then, for dZ on ordinary units
    (`Z` given), a broken identity of every batch-norm gradient. `numerical` is
    the centred-difference gradient of the student's own forward pass, compared
    at the finite-difference tolerance `rtol`: when it differs from `expected`,
    the forward pass is wrong, and the sentence says so first.
    """
    named = known_mistake(value, expected, known)
    against_expected = (named and f"{name} is wrong: {named}") or gradient_mismatch(
        value, expected, name=name, rtol=analytic_rtol)
    if against_expected and not named and Z is not None:
        against_expected = row_sums_problem(Z, value, RTOL) or against_expected
    if mismatch(numerical, expected, name=name, rtol=rtol) is None:
        return against_expected
    if mismatch(value, numerical, name=name, rtol=rtol) is None:
        return (f"{name} matches the numerical gradient of your batchnorm_forward, but "
                "batchnorm_forward itself is wrong: fix it first")
    if against_expected is None:
        return (f"{name} has the right values, but batchnorm_forward is wrong, so this is not "
                "the gradient of your forward pass: fix batchnorm_forward first")
    return (f"batchnorm_forward is wrong (fix it first), and {name} is not the gradient of "
            f"your forward pass either: {against_expected}")


def judge_backward(report, expected, *, parts, known, rtol=RTOL, analytic_rtol=ANALYTIC_RTOL,
                   Z=None):
    """None if backward_report's `report` holds the `expected` gradients named in `parts`.

    `known`: {part: [(values, hint)]} of the named mistakes on this case; `Z` (ordinary
    units only) adds the hints of `row_sums_problem`.
    """
    if isinstance(report, dict) and "lost_keepdims" in report:
        return "batchnorm_forward is wrong (fix it first): " + keepdims_sentence(
            report["lost_keepdims"], np.shape(expected[0])[0])
    if not isinstance(report, dict) or "grads" not in report or "numerical" not in report:
        return "the backward report could not be read"
    grads = report["grads"]
    if isinstance(grads, dict):
        return (f"batchnorm_backward returned a {grads.get('type')}: return the tuple "
                "(dZ, dgamma, dbeta)")
    problem = contract_problem(grads, tuple(expected), name="the result of batchnorm_backward")
    if problem:
        return f"{problem} (dZ, dgamma, dbeta)"
    for i, name in enumerate(PARTS):
        if name not in parts:
            continue
        value = grads[i]
        if isinstance(value, dict):
            return f"{name} is a {value.get('type')}: return a plain numpy array"
        if name != "dZ" and np.shape(value) == np.shape(expected[0]):
            return (f"{name} has shape {np.shape(value)}, one entry per example: "
                    f"{HINTS['params_not_summed']}")
        problem = contract_problem(value, expected[i], name=name) or gradient_problem(
            name, value, expected[i], report["numerical"][i], known=known.get(name, ()),
            rtol=rtol, analytic_rtol=analytic_rtol, Z=Z if name == "dZ" else None)
        if problem:
            return problem
    return None


# --- visible checks ---

U5 = np.array([[2.0, -1.0, 0.0, 1.0, -2.0],
               [1.0, 1.0, -1.0, -1.0, 0.0],
               [3.0, -1.0, -1.0, -1.0, 0.0]]) / np.sqrt([[2.0], [0.8], [2.4]])
"""Three patterns of m = 5 values, each with mean 0 and biased variance 1."""

U4 = np.array([[1.0, -1.0, 1.0, -1.0],
               [1.0, 1.0, -1.0, -1.0],
               [1.0, -1.0, -1.0, 1.0],
               [np.sqrt(2.0), 0.0, -np.sqrt(2.0), 0.0]])
"""Four patterns of m = 4 values, each with mean 0 and biased variance 1."""

U3 = np.array([[1.0, 0.0, -1.0], [1.0, 1.0, -2.0], [2.0, -1.0, -1.0], [-1.0, 2.0, -1.0],
               [0.0, 1.0, -1.0]]) / np.sqrt([[2 / 3], [2.0], [2.0], [2.0], [2 / 3]])
"""Five patterns of m = 3 values, each with mean 0 and biased variance 1."""


def _constructed(U, c, s, gamma, beta, given_eps=None):
    """Z = c + s * U row by row, the right Z_tilde and the named mistakes' Z_tilde.

    `given_eps` is the eps passed to batchnorm_forward (None: the default EPS).
    """
    m = U.shape[1]
    eps = EPS if given_eps is None else given_eps
    with np.errstate(divide="ignore", invalid="ignore"):
        def out(Z_norm, g=gamma, b=beta):
            return g * Z_norm + b
        known = {
            "unbiased": out(s * U / np.sqrt(s ** 2 * m / (m - 1) + eps)),
            "not_centred": out((c + s * U) / np.sqrt(s ** 2 + eps)),
            "var_not_std": out(s * U / (s ** 2 + eps)),
            "eps_outside": out(s * U / (s + eps)),
            "no_eps": out(s * U / s),
            "eps_ignored": out(s * U / np.sqrt(s ** 2 + EPS)),
            "no_gamma": out(s * U / np.sqrt(s ** 2 + eps), g=1.0),
            "no_beta": out(s * U / np.sqrt(s ** 2 + eps), b=0.0),
            "swapped": out(s * U / np.sqrt(s ** 2 + eps), g=beta, b=gamma),
        }
    return c + s * U, out(s * U / np.sqrt(s ** 2 + eps)), [
        (values, HINTS[kind]) for kind, values in known.items()]


def _statistics_problem(Z_tilde, gamma, beta):
    """A hint from (Z_tilde - beta) / gamma, which should have rows of mean 0, or None."""
    Z_tilde = np.asarray(Z_tilde, dtype=np.float64)
    if Z_tilde.ndim != 2 or not np.all(np.isfinite(Z_tilde)):
        return None
    Z_norm = (Z_tilde - beta) / gamma
    if not np.allclose(Z_norm.mean(axis=1), 0.0, atol=1e-9):
        if np.allclose(Z_norm.mean(axis=0), 0.0, atol=1e-9):
            return f"Z_tilde is wrong: {HINTS['units_axis']}"
        return ("the rows of (Z_tilde - beta) / gamma should have mean 0: subtract each "
                "unit's mean over its m examples (axis=1, keepdims=True)")
    return None


def _judge_constructed(batchnorm_forward, Z, gamma, beta, expected, known, eps=None,
                       rtol=RTOL):
    """judge_forward on a constructed case, then the row-mean properties for other errors."""
    result = forward_output(batchnorm_forward, Z, gamma, beta, eps)
    problem = judge_forward(result, expected, known=known, rtol=rtol)
    if problem and "does not match the expected values" in problem:
        problem = _statistics_problem(result[0], gamma, beta) or problem
    return problem


FORWARD_INPUTS = [
    (U5, [[1.0], [-3.0], [0.5]], [[2.0], [1.0], [3.0]], [[1.5], [0.5], [-2.0]],
     [[0.3], [-1.0], [2.0]]),
    (U4, [[0.0], [4.0], [-1.0], [2.0]], [[1.0], [2.5], [1.5], [1.0]],
     [[2.0], [-1.0], [0.5], [3.0]], [[1.0], [0.0], [-0.5], [0.25]]),
    (U3, [[2.0], [-1.0], [0.0], [1.5], [-2.0]], [[1.5], [1.0], [2.0], [1.0], [3.0]],
     [[-1.0], [2.0], [0.5], [1.0], [1.5]], [[0.5], [0.0], [-1.0], [2.0], [0.1]]),
]
"""(U, c, s, gamma, beta): units of shape (3, 5), (4, 4) and (5, 3)."""


@guards_arguments
def check_batchnorm_forward(batchnorm_forward):
    """Check Z_tilde on units with known mean and variance, shapes (3, 5), (4, 4) and (5, 3)."""
    for U, *columns in FORWARD_INPUTS:
        c, s, gamma, beta = (np.array(v) for v in columns)
        context = f"Z of shape {U.shape}"
        ones, zeros = np.ones_like(gamma), np.zeros_like(beta)
        Z, expected, known = _constructed(U, c, s, ones, zeros)
        raise_if(_judge_constructed(batchnorm_forward, Z, ones, zeros, expected, known),
                 f"{context}, gamma = 1, beta = 0")
        Z, expected, known = _constructed(U, c, s, gamma, beta)
        raise_if(_judge_constructed(batchnorm_forward, Z, gamma, beta, expected, known),
                 f"{context}, with gamma and beta")
    print("batchnorm_forward: each unit normalised over its examples, then scaled by gamma "
          "and shifted by beta.")


EPS_INPUT = (U5, [[0.5], [3.0], [2.0]], [[1.0], [0.0], [1e-4]], [[2.0], [1.5], [1.0]],
             [[-1.0], [0.5], [0.25]])
"""(U, c, s, gamma, beta): units with variance 1, 0 and 1e-8."""

SMALL_INPUT = (U4, [[0.5], [-1.0], [2.0], [0.0]], [[1e-2], [2.0], [1.0], [3e-2]],
               [[1.0], [-2.0], [0.5], [1.5]], [[0.0], [1.0], [-0.5], [2.0]])
"""(U, c, s, gamma, beta): units with variance 1e-4 and 9e-4 among ordinary ones."""


@guards_arguments
def check_batchnorm_forward_eps(batchnorm_forward):
    """Check eps on a constant unit (variance 0), a near-constant one, and eps = 1e-3 given."""
    for (U, *columns), eps, context in [
            (EPS_INPUT, None, "units with variance 1, 0 and 1e-8"),
            (SMALL_INPUT, 1e-3, "units with variance 1e-4 and 9e-4, eps = 1e-3 passed as an "
                                "argument")]:
        c, s, gamma, beta = (np.array(v) for v in columns)
        Z, expected, known = _constructed(U, c, s, gamma, beta, given_eps=eps)
        raise_if(_judge_constructed(batchnorm_forward, Z, gamma, beta, expected, known, eps,
                                    rtol=RTOL_EPS), context)
    print("batchnorm_forward: eps sits inside the square root; a constant unit gives beta.")


def _inputs(Z, gamma, beta, dZ_tilde, eps):
    return tuple(np.array(v, dtype=np.float64) for v in (Z, gamma, beta, dZ_tilde)) + (eps,)


_rng = np.random.default_rng(2)
BACKWARD_INPUTS = {
    "ordinary": _inputs([[1.0, -2.0, 0.5, 3.0, -1.5], [4.0, 2.5, 3.0, 5.0, 1.0],
                         [-1.0, 0.0, 2.0, -3.0, 0.5]], [[1.5], [-0.5], [2.0]],
                        [[0.5], [1.0], [-1.0]],
                        [[0.3, -1.2, 0.8, 0.1, -0.4], [1.0, 0.5, -0.7, 0.2, -1.1],
                         [-0.6, 0.9, 0.4, -0.3, 1.3]], 0.0),
    "square": _inputs(3.0 * U4 + np.array([[1.0], [-2.0], [0.0], [5.0]]),
                      _rng.normal(size=(4, 1)), _rng.normal(size=(4, 1)),
                      _rng.normal(size=(4, 4)), 0.0),
    "tiny": _inputs(np.array([[0.03], [-0.02], [0.01]])
                    + 1e-3 * np.array([[0.5], [1.0], [0.3]]) * U5,
                    [[1.0], [2.0], [-0.5]], [[0.0], [1.0], [0.5]],
                    [[0.3, -1.2, 0.8, 0.1, -0.4], [1.0, 0.5, -0.7, 0.2, -1.1],
                     [-0.6, 0.9, 0.4, -0.3, 1.3]], EPS),
}
"""(Z, gamma, beta, dZ_tilde, eps) of the visible backward cases. Ordinary units use eps = 0,
so that where eps sits cannot matter; "tiny" has variances 2.5e-7, 1e-6 and 9e-8, below eps."""
BACKWARD_INPUTS["tiny_eps"] = BACKWARD_INPUTS["tiny"][:4] + (1e-4,)
del _rng


def _expected(case):
    """The exact (dZ, dgamma, dbeta) of a visible backward case and the named mistakes' ones."""
    values = VALUES[case]
    expected = tuple(np.array(values["exact"][part]) for part in PARTS)
    variants = {kind: parts for kind, parts in values.items() if kind != "exact"}
    return expected, known_gradients(variants, expected)


def _forward_failure(batchnorm_forward):
    """What the forward checks say about `batchnorm_forward`, or None when they pass."""
    for check in (check_batchnorm_forward, check_batchnorm_forward_eps):
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                check(batchnorm_forward)
        except CheckFailed as failure:
            return str(failure)
    return None


def _check_gradients(batchnorm_forward, batchnorm_backward, case, parts, context):
    """Judge the student's gradients on a visible case as the grader does on its own."""
    Z, gamma, beta, dZ_tilde, eps = BACKWARD_INPUTS[case]
    tiny = case.startswith("tiny")
    rtol = RTOL_EPS if tiny else RTOL_FORWARD_GRADIENT
    expected, known = _expected(case)
    try:
        report = backward_report(batchnorm_forward, batchnorm_backward, Z.copy(), gamma.copy(),
                                 beta.copy(), dZ_tilde.copy(), eps, 1e-8 if tiny else 1e-5)
    except CheckFailed:  # a function that changed its arguments
        raise
    except Exception:  # the forward pass raised (returned no pair, lost keepdims, ...)
        failure = _forward_failure(batchnorm_forward)
        if failure is None:
            raise
        report = {"failed": failure}
    if set(report) != {"grads", "numerical"} or any(
            mismatch(report["numerical"][PARTS.index(p)], expected[PARTS.index(p)], name=p,
                     rtol=rtol) for p in parts):
        failure = _forward_failure(batchnorm_forward)
        raise CheckFailed(
            f"batchnorm_forward is wrong, so its gradients cannot be checked: make its "
            f"checks pass first ({failure})" if failure else
            f"{context}: the numerical gradient of your batchnorm_forward is not the gradient "
            "of batch norm here, although its checks pass: does it use anything besides its "
            "arguments (a global variable, a value kept from an earlier call)?")
    raise_if(judge_backward(report, expected, parts=parts, known=known, rtol=rtol,
                            analytic_rtol=RTOL_TINY_GRADIENT if tiny else ANALYTIC_RTOL,
                            Z=None if tiny else Z), context)


@guards_arguments
def check_batchnorm_backward(batchnorm_forward, batchnorm_backward):
    """Check dZ against exact values (and your forward pass's numerical gradient), eps = 0."""
    for case in ("ordinary", "square"):
        _check_gradients(batchnorm_forward, batchnorm_backward, case, ("dZ",),
                         f"Z of shape {BACKWARD_INPUTS[case][0].shape}, eps = 0")
    print("batchnorm_backward: dZ matches the exact gradient (and the numerical gradient of "
          "your forward pass).")


@guards_arguments
def check_batchnorm_backward_params(batchnorm_forward, batchnorm_backward):
    """Check dgamma and dbeta: shape (n, 1), not swapped, exact values."""
    for case in ("ordinary", "square"):
        _check_gradients(batchnorm_forward, batchnorm_backward, case, ("dgamma", "dbeta"),
                         f"Z of shape {BACKWARD_INPUTS[case][0].shape}")
    print("batchnorm_backward: dgamma and dbeta have shape (n, 1) and the right values.")


@guards_arguments
def check_batchnorm_backward_tiny_variance(batchnorm_forward, batchnorm_backward):
    """Check dZ where the variance is smaller than eps, with eps = 1e-5 and eps = 1e-4 given."""
    for case in ("tiny", "tiny_eps"):
        _check_gradients(batchnorm_forward, batchnorm_backward, case, ("dZ",),
                         f"units with variance below eps = {BACKWARD_INPUTS[case][4]:g}")
    print("batchnorm_backward: dZ is right when the variance is smaller than eps.")
