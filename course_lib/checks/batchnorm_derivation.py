"""Visible checks of 02_batchnorm_derivation, the grader's drivers, and the comparison they share.

Each `check_*` takes the student's functions, runs them on small known inputs
and raises `CheckFailed` with a sentence naming the mistake; otherwise it
prints what it verified. The inputs are built so that the right answer is
known in closed form: a unit whose values are `c + s * u`, where `u` has mean 0
and (biased) variance 1, has mean `c` and variance `s**2`, so batch norm turns
it into `gamma * s * u / sqrt(s**2 + eps) + beta`.

Tolerances: on ordinary units (standard deviation at least 1) eps = 1e-5
changes any result by less than 2e-5 relative, so the forward checks use `RTOL`
and leave the placement of eps to the checks on (near-)constant and
tiny-variance units, which use `RTOL_EPS` and where eps decides everything.
Gradients must be derived, not approximated: they are compared with exact
values at `course_lib.checks.gradients.ANALYTIC_RTOL` (1e-13), on ordinary units
with eps = 0 (so that where eps sits cannot matter), and at
`RTOL_TINY_GRADIENT` on units whose variance is below eps. The grader uses the
same tolerances and the same eps. Numerical gradients of your forward pass are
compared at `RTOL` / `RTOL_EPS`: they only show whether the forward pass is right.

The drivers (`forward_output`, `backward_report`) are what the grader calls in
the student's kernel: they run the student's functions and return data only,
never the student's cache.
"""

import numpy as np

from course_lib.checking import CheckFailed, describe_mismatch
from course_lib.checks.gradients import ANALYTIC_RTOL, gradient_mismatch
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

SWAPPED_PARAMS = ("dgamma and dbeta are swapped: dbeta = sum of dZ_tilde, dgamma = sum of "
                  "dZ_tilde * Z_norm")

EPS = 1e-5
"""The default eps of batchnorm_forward."""

U5 = np.array([[2.0, -1.0, 0.0, 1.0, -2.0],
               [1.0, 1.0, -1.0, -1.0, 0.0],
               [3.0, -1.0, -1.0, -1.0, 0.0]]) / np.sqrt([[2.0], [0.8], [2.4]])
"""Three patterns of m = 5 values, each with mean 0 and biased variance 1."""

U4 = np.array([[1.0, -1.0, 1.0, -1.0],
               [1.0, 1.0, -1.0, -1.0],
               [1.0, -1.0, -1.0, 1.0],
               [np.sqrt(2.0), 0.0, -np.sqrt(2.0), 0.0]])
"""Four patterns of m = 4 values, each with mean 0 and biased variance 1."""


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


def unpack_grads(grads):
    """(dZ, dgamma, dbeta) from `backward_report`'s "grads", or a sentence saying why not."""
    if isinstance(grads, (tuple, list)) and len(grads) == 3:
        return tuple(grads), None
    if isinstance(grads, (tuple, list)):
        what = f"{len(grads)} values"
    elif grads == "NoneType":
        what = "None: did you forget to return them?"
    else:
        what = f"a {grads}" if isinstance(grads, str) else "a single array"
    return None, f"batchnorm_backward should return a tuple (dZ, dgamma, dbeta), not {what}"


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


# --- drivers: called by the grader in the student's kernel; they return data only ---

def forward_output(batchnorm_forward, Z, gamma, beta, eps=None):
    """Z_tilde from the student's forward pass (the cache is dropped); eps=None: the default."""
    if eps is None:
        result = batchnorm_forward(Z, gamma, beta)
    else:
        result = batchnorm_forward(Z, gamma, beta, eps)
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return result[0]
    return {"not_a_pair": type(result).__name__}


def backward_report(batchnorm_forward, batchnorm_backward, Z, gamma, beta, dZ_tilde, eps, h):
    """The student's gradients and the centred-difference gradients of their own forward pass.

    Both are gradients of J = sum(dZ_tilde * Z_tilde) with Z_tilde =
    batchnorm_forward(Z, gamma, beta, eps)[0]. Returns
    {"grads": what batchnorm_backward returned, "numerical": (dZ, dgamma, dbeta)}.
    """
    def J(Z_, gamma_, beta_):
        return float(np.sum(dZ_tilde * batchnorm_forward(Z_, gamma_, beta_, eps)[0]))

    _, cache = batchnorm_forward(Z.copy(), gamma.copy(), beta.copy(), eps)
    grads = batchnorm_backward(dZ_tilde.copy(), cache)
    if isinstance(grads, (tuple, list)):  # only data crosses: name anything else by its type
        grads = tuple(g if isinstance(g, (np.ndarray, float, int)) else type(g).__name__
                      for g in grads)
    elif not isinstance(grads, np.ndarray):
        grads = type(grads).__name__
    numerical = (numerical_gradient(lambda V: J(V, gamma, beta), Z, h),
                 numerical_gradient(lambda V: J(Z, V, beta), gamma, h),
                 numerical_gradient(lambda V: J(Z, gamma, V), beta, h))
    return {"grads": grads, "numerical": numerical}


# --- visible checks ---

def raise_if(problem, context=""):
    """Raise CheckFailed with `problem` (after "`context`: ") unless `problem` is None."""
    if problem:
        raise CheckFailed(f"{context}: {problem}" if context else problem)


def _pair(result, name="batchnorm_forward"):
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise CheckFailed(f"{name} should return a pair (Z_tilde, cache), "
                          f"not {type(result).__name__}")
    return result


def _constructed(U, c, s):
    """Z = c + s * U row by row, and its normalisation for eps = EPS."""
    return c + s * U, s * U / np.sqrt(s ** 2 + EPS)


def _statistics_problem(Z_norm, m):
    """Properties of batchnorm_forward(Z, 1, 0): each row has mean 0 and variance about 1."""
    Z_norm = np.asarray(Z_norm, dtype=np.float64)
    if not np.all(np.isfinite(Z_norm)):
        return None
    if np.allclose(Z_norm, 1.0):
        return ("with gamma = 1 and beta = 0 every entry is 1, so gamma and beta are swapped: "
                "gamma scales, beta shifts")
    if not np.allclose(Z_norm.mean(axis=1), 0.0, atol=1e-9):
        if np.allclose(Z_norm.mean(axis=0), 0.0, atol=1e-9):
            return ("the columns of Z_tilde have mean 0 instead of the rows: take the mean "
                    "and variance of each unit over its m examples (axis=1, keepdims=True)")
        return ("the rows of Z_tilde (gamma = 1, beta = 0) should have mean 0: subtract each "
                "unit's mean over its m examples (axis=1, keepdims=True)")
    variances = Z_norm.var(axis=1)
    if m > 1 and np.allclose(variances, (m - 1) / m, rtol=1e-3):
        return ("the variance is divided by m - 1; batch norm uses the biased variance "
                "(1/m) sum (Z - mu)**2, np.var's default ddof=0")
    return None


def check_batchnorm_forward(batchnorm_forward):
    """Check Z_tilde on units with known mean and variance, shapes (3, 5) and (4, 4)."""
    for U, c, s, gamma, beta in [
        (U5, np.array([[1.0], [-3.0], [0.5]]), np.array([[2.0], [1.0], [3.0]]),
         np.array([[1.5], [0.5], [-2.0]]), np.array([[0.3], [-1.0], [2.0]])),
        (U4, np.array([[0.0], [4.0], [-1.0], [2.0]]), np.array([[1.0], [2.5], [1.5], [1.0]]),
         np.array([[2.0], [-1.0], [0.5], [3.0]]), np.array([[1.0], [0.0], [-0.5], [0.25]])),
    ]:
        Z, Z_norm = _constructed(U, c, s)
        context = f"Z of shape {Z.shape}"
        ones, zeros = np.ones_like(gamma), np.zeros_like(beta)
        plain, _ = _pair(batchnorm_forward(Z.copy(), ones, zeros))
        problem = mismatch(plain, Z_norm, name="Z_tilde", m=Z.shape[1])
        if problem:
            problem = _statistics_problem(plain, Z.shape[1]) or problem
        raise_if(problem, f"{context}, gamma = 1, beta = 0")
        scaled, _ = _pair(batchnorm_forward(Z.copy(), gamma.copy(), beta.copy()))
        known = [(beta * Z_norm + gamma,
                  "gamma and beta are swapped: gamma scales, beta shifts")]
        raise_if(mismatch(scaled, gamma * Z_norm + beta, name="Z_tilde", known=known),
                 f"{context}, with gamma and beta")
    print("batchnorm_forward: each unit normalised over its examples, then scaled by gamma "
          "and shifted by beta.")


def check_batchnorm_forward_eps(batchnorm_forward):
    """Check eps on a constant unit (variance 0) and a near-constant one (variance 1e-8)."""
    s = np.array([[1.0], [0.0], [1e-4]])
    Z, Z_norm = _constructed(U5, np.array([[0.5], [3.0], [2.0]]), s)
    gamma, beta = np.array([[2.0], [1.5], [1.0]]), np.array([[-1.0], [0.5], [0.25]])
    Z_tilde, _ = _pair(batchnorm_forward(Z.copy(), gamma, beta))
    Z_tilde = np.asarray(Z_tilde, dtype=np.float64)
    if Z_tilde.shape == Z.shape and not np.all(np.isfinite(Z_tilde[1])):
        raise CheckFailed("a unit whose values are all equal (variance 0) gives nan: 0 / 0. "
                          "Add eps to the variance before the square root: sqrt(var + eps)")
    outside = s * U5 / (s + EPS)
    raise_if(mismatch(Z_tilde, gamma * Z_norm + beta, name="Z_tilde", rtol=RTOL_EPS, known=[
        (gamma * outside + beta, "eps is added outside the square root; it belongs inside: "
                                 "sqrt(var + eps)"),
        (gamma * U5 + beta, "eps is missing: divide by sqrt(var + eps), not by sqrt(var)")]),
        "units with variance 4, 0 and 1e-8")
    eps = 1e-3
    Z_tilde, _ = _pair(batchnorm_forward(Z.copy(), gamma, beta, eps))
    expected = gamma * s * U5 / np.sqrt(s ** 2 + eps) + beta
    raise_if(mismatch(Z_tilde, expected, name="Z_tilde", rtol=RTOL_EPS),
             "with eps = 1e-3 passed as an argument (use the argument, not the constant 1e-5)")
    print("batchnorm_forward: eps sits inside the square root; a constant unit gives beta.")


GRAD_Z = np.array([[1.0, -2.0, 0.5, 3.0, -1.5],
                   [4.0, 2.5, 3.0, 5.0, 1.0],
                   [-1.0, 0.0, 2.0, -3.0, 0.5]])
GRAD_GAMMA = np.array([[1.5], [-0.5], [2.0]])
GRAD_BETA = np.array([[0.5], [1.0], [-1.0]])
GRAD_DZ_TILDE = np.array([[0.3, -1.2, 0.8, 0.1, -0.4],
                          [1.0, 0.5, -0.7, 0.2, -1.1],
                          [-0.6, 0.9, 0.4, -0.3, 1.3]])
"""A fixed case for the backward checks (m = 5 examples of 3 units, standard deviations > 1)."""

GRAD_EPS = 0.0
"""eps of the gradient checks on ordinary units: 0, so that its place cannot matter."""

GRAD_DZ = np.array([
    [0.14933529870290924, -0.47298005869044296, 0.6686959450451092, -0.43271559248726954,
     0.0876644074296942],
    [-0.2548181633546592, -0.27244709289491864, 0.2371892338143997, 0.174686665444389,
     0.11538935699078905],
    [-0.9203411232281632, 0.5836096790897072, -0.6219935742764741, 0.04449042396647964,
     0.9142345944484501]])
GRAD_DGAMMA = np.array([[2.2597030045365822], [2.477024863402272], [2.082675258383807]])
GRAD_DBETA = np.array([[-0.4], [-0.1], [1.7]])
"""The exact gradients of sum(GRAD_DZ_TILDE * Z_tilde) for eps = GRAD_EPS, to 17 digits."""

TINY_Z = np.array([[0.03], [-0.02], [0.01]]) + 1e-3 * np.array([[0.5], [1.0], [0.3]]) * U5
"""Three units with variances 2.5e-7, 1e-6 and 9e-8, well below eps = 1e-5."""
TINY_GAMMA = np.array([[1.0], [2.0], [-0.5]])
TINY_BETA = np.array([[0.0], [1.0], [0.5]])
TINY_DZ = np.array([
    [114.5782136002261, -347.77230391292034, 274.8658209239467, 54.16563156234094,
     -95.83736217359339],
    [587.6730207042954, 286.1616761265319, -382.6453063914162, 160.07511384855815,
     -651.2645042879693],
    [146.9798896648586, -87.8203904728873, -9.116821720317496, 101.06817453328024,
     -151.11085200493403]])
"""The exact dZ for TINY_Z, TINY_GAMMA, TINY_BETA, GRAD_DZ_TILDE and eps = 1e-5."""


def _gradients(batchnorm_forward, batchnorm_backward, Z, gamma, beta, dZ_tilde, h, exact=None,
               part=0, rtol=RTOL, eps=GRAD_EPS):
    """The student's (dZ, dgamma, dbeta) and the numerical ones of their forward pass.

    With `exact`, first check that the numerical gradient number `part` of the
    student's forward pass is the exact one, i.e. that the forward pass is right.
    """
    report = backward_report(batchnorm_forward, batchnorm_backward, Z, gamma, beta, dZ_tilde,
                             eps, h)
    grads, problem = unpack_grads(report["grads"])
    if problem:
        raise CheckFailed(problem)
    numerical = report["numerical"]
    if exact is not None and mismatch(numerical[part], exact, name="", rtol=rtol):
        raise CheckFailed("the numerical gradient of your batchnorm_forward is not the expected "
                          "one, so batchnorm_forward is wrong: make its checks pass first")
    return grads, numerical


NUMERICAL = "against the numerical gradient of your batchnorm_forward (centred differences)"
EXACT = "against the exact values"


def check_batchnorm_backward(batchnorm_forward, batchnorm_backward):
    """Check dZ against numerical gradients of your forward pass and against exact values.

    eps = 0 here (see GRAD_EPS); the place of eps is checked on tiny variances.
    """
    rng = np.random.default_rng(2)
    Z4 = 3.0 * U4 + np.array([[1.0], [-2.0], [0.0], [5.0]])
    cases = [(GRAD_Z, GRAD_GAMMA, GRAD_BETA, GRAD_DZ_TILDE, GRAD_DZ),
             (Z4, rng.normal(size=(4, 1)), rng.normal(size=(4, 1)), rng.normal(size=(4, 4)),
              None)]
    for Z, gamma, beta, dZ_tilde, exact in cases:
        (dZ, _, _), numerical = _gradients(batchnorm_forward, batchnorm_backward, Z, gamma,
                                           beta, dZ_tilde, 1e-5, exact)
        problem = mismatch(dZ, numerical[0], name="dZ", m=Z.shape[1])
        if problem:
            problem = row_sums_problem(Z, dZ, RTOL) or problem
        raise_if(problem, f"Z of shape {Z.shape}, {NUMERICAL}")
        if exact is not None:
            raise_if(gradient_mismatch(dZ, exact, name="dZ", m=Z.shape[1]),
                     f"Z of shape {Z.shape}, {EXACT}")
    print("batchnorm_backward: dZ matches the numerical gradient of your forward pass and the "
          "exact values.")


def check_batchnorm_backward_params(batchnorm_forward, batchnorm_backward):
    """Check dgamma and dbeta: shape (n, 1), numerical gradients, exact values."""
    (_, dgamma, dbeta), numerical = _gradients(
        batchnorm_forward, batchnorm_backward, GRAD_Z, GRAD_GAMMA, GRAD_BETA, GRAD_DZ_TILDE,
        1e-5, GRAD_DGAMMA, part=1)
    for name, value, expected, other, exact in [
            ("dgamma", dgamma, numerical[1], numerical[2], GRAD_DGAMMA),
            ("dbeta", dbeta, numerical[2], numerical[1], GRAD_DBETA)]:
        shape = np.shape(value)
        if shape == GRAD_Z.shape:
            raise CheckFailed(f"{name} has shape {shape}, one entry per example: gamma and beta "
                              "are shared by the m examples, so sum their contributions over "
                              "the examples (axis=1, keepdims=True) to get shape (3, 1)")
        raise_if(mismatch(value, expected, name=name, known=[(other, SWAPPED_PARAMS)]),
                 NUMERICAL)
        raise_if(gradient_mismatch(value, exact, name=name, rtol=ANALYTIC_RTOL), EXACT)
    print("batchnorm_backward: dgamma and dbeta have shape (n, 1) and the right values.")


def check_batchnorm_backward_tiny_variance(batchnorm_forward, batchnorm_backward):
    """Check dZ where the variance is smaller than eps."""
    (dZ, _, _), numerical = _gradients(batchnorm_forward, batchnorm_backward, TINY_Z, TINY_GAMMA,
                                       TINY_BETA, GRAD_DZ_TILDE, 1e-8, TINY_DZ,
                                       rtol=RTOL_EPS, eps=EPS)
    problem = mismatch(dZ, numerical[0], name="dZ", rtol=RTOL_EPS)
    if problem:
        sums = np.asarray(dZ, dtype=np.float64).sum(axis=1) if np.shape(dZ) == TINY_Z.shape \
            else np.zeros(1)
        if np.all(np.abs(sums) <= RTOL * np.max(np.abs(dZ)) * TINY_Z.shape[1]):
            problem += (" (the variances here are smaller than eps, so wherever the forward "
                        "pass used var + eps, the backward pass must use var + eps too)")
    raise_if(problem, f"units with variance below eps, {NUMERICAL}")
    raise_if(gradient_mismatch(dZ, TINY_DZ, name="dZ", rtol=RTOL_TINY_GRADIENT),
             f"units with variance below eps, {EXACT}")
    print("batchnorm_backward: dZ is right when the variance is smaller than eps.")
