"""Declarations of 02_batchnorm_derivation's graded cells (see `course_lib.exercise`).

The student's cache is their own object, so every call goes through a driver of this module
(`forward_output`, `backward_report`) that calls the student's functions and returns data
only, here for the visible checks and in the student's kernel for the grader. A backward
cell takes both notebook functions: its driver also returns the centred-difference gradients
of the student's own forward pass, which only tell whether that forward pass is right.

Tolerances, one per cell and the same in both layers, relative to the largest expected
entry: `RTOL` on ordinary units (standard deviation at least 1, where eps = 1e-5 moves any
result by less than 2e-5, so where eps sits is left to the eps cell), `RTOL_EPS` on constant,
near-constant and tiny-variance units, where eps decides everything. Gradients must be
derived: `gradients.ANALYTIC_RTOL` (1e-13) on ordinary units with eps = 0 (where eps sits
cannot matter there), `RTOL_TINY_GRADIENT` on units whose variance is below eps.
"""

import functools
from dataclasses import dataclass

import numpy as np

from course_lib.checking import CheckFailed, contract_problem, matches, unchanged_arguments
from course_lib.checks.gradients import ANALYTIC_RTOL, gradient_mismatch
from course_lib.exercise import Call, Exercise, call_student, declare, visible_checks
from course_lib.gradcheck import numerical_gradient

RTOL = 1e-4
"""Tolerance of the forward pass on ordinary units."""

RTOL_EPS = 1e-6
"""Tolerance of the forward pass on near-constant and tiny-variance units."""

RTOL_TINY_GRADIENT = 1e-12
"""Tolerance of dZ on units whose variance is below eps (means near 0).

There, a correct forward pass that computes the variance in one pass,
mean(Z**2) - mu**2, moves dZ by up to 4e-14 (two-pass forms: 2e-14 at most);
finite differences stay above 3.7e-11 (measured over 100 seeds, every step)."""

RTOL_FORWARD_GRADIENT = 1e-7
"""Tolerance of the numerical gradient of your forward pass on ordinary units, eps = 0.

There centred differences (step 1e-5) are within 1e-9 of the exact gradient, while a
forward pass that uses eps = 1e-5 whatever eps it is given is 1e-6 off."""

MISTAKES = {
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
"""One sentence per named mistake (the reference's keyword flag of the same name)."""


def _mistakes(*ids):
    return {mistake: MISTAKES[mistake] for mistake in ids}


FIX_FORWARD = "batchnorm_forward is wrong (fix it first): "

# ------------------------------------------ drivers (both layers): data in, data out


def _lost_keepdims(error, n):
    """The name of the (n,)-shaped local (a mean or variance without keepdims) in the
    innermost frame outside numpy, the student's code, behind a broadcasting ValueError."""
    tb, frame = error.__traceback__, None
    while tb is not None:
        if "numpy" not in tb.tb_frame.f_code.co_filename.replace("\\", "/").split("/"):
            frame = tb.tb_frame
        tb = tb.tb_next
    names = [k for k, v in (frame.f_locals if frame else {}).items()
             if isinstance(v, np.ndarray) and v.shape == (n,)]
    return names[0] if names and "broadcast" in str(error) else None


def _lost(value):
    return isinstance(value, dict) and set(value) == {"lost_keepdims"}


def _forward(batchnorm_forward, Z, *args, **kwargs):
    """batchnorm_forward's result, or {"lost_keepdims": [name, n]} for a lost (n, 1) shape."""
    try:
        return batchnorm_forward(Z, *args, **kwargs)
    except ValueError as error:
        if not (name := _lost_keepdims(error, Z.shape[0])):
            raise
        return {"lost_keepdims": [name, Z.shape[0]]}


def _head(result):
    """`result` with every value after the first (the cache, the student's object) None."""
    if isinstance(result, (tuple, list)):
        return type(result)([*result[:1], *[None] * (len(result) - 1)])
    return result


def forward_output(batchnorm_forward, Z, *args, **kwargs):
    """What batchnorm_forward(Z, ...) returns, with its cache replaced by None."""
    return _head(_forward(batchnorm_forward, Z, *args, **kwargs))


def backward_report(batchnorm_forward, batchnorm_backward, Z, gamma, beta, dZ_tilde, eps, h):
    """{"grads": batchnorm_backward's result, "numerical": centred-difference gradients}.

    Both are gradients of J = sum(dZ_tilde * Z_tilde), Z_tilde = batchnorm_forward(Z, gamma,
    beta, eps)[0]. When the forward pass gives no (Z_tilde, cache): {"forward": its result}.
    """
    result = _forward(batchnorm_forward, Z, gamma, beta, eps)
    if _lost(result) or not isinstance(result, tuple) or len(result) != 2:
        return result if _lost(result) else {"forward": _head(result)}
    grads, point = batchnorm_backward(dZ_tilde, result[1]), [Z, gamma, beta]

    def J(k, V):
        args = [V if i == k else X for i, X in enumerate(point)]
        return float(np.sum(dZ_tilde * batchnorm_forward(*args, eps)[0]))

    return {"grads": grads, "numerical": tuple(
        numerical_gradient(functools.partial(J, k), X, h) for k, X in enumerate(point))}


def _keepdims_sentence(marker):
    name, n = marker["lost_keepdims"]
    return f"{name} has shape ({n},), should be ({n}, 1): {MISTAKES['no_keepdims']}"


# ------------------------------------------------------------------- the exercises


def _raises(error):
    def again(*args, **kwargs):
        raise error
    return again


@dataclass
class _Driven(Exercise):
    """A cell whose calls go through `driver` in both layers, with the notebook's functions."""

    driver: str = ""

    def request(self, call):
        functions = tuple({"__global__": name} for name in self.notebook_functions)
        return f"{__name__}:{self.driver}", functions + call.args, call.kwargs

    def run(self, call, functions):
        guarded = [unchanged_arguments(f) for f in functions]
        args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in call.args]
        try:
            return globals()[self.driver](*guarded, *args, **call.kwargs)
        except CheckFailed as error:  # a function that changed its arguments
            raise CheckFailed(f"{call.label}: {error}") from None
        except Exception as error:  # one sentence naming the function and line that raised
            codes, tb, name = {f.__code__: f.__name__ for f in functions
                               if hasattr(f, "__code__")}, error.__traceback__, self.function
            while tb is not None:
                name, tb = codes.get(tb.tb_frame.f_code, name), tb.tb_next
            return call_student(_raises(error), name, call)


@dataclass
class Forward(_Driven):
    """A cell of batchnorm_forward: (Z_tilde, cache) is judged by Z_tilde and its length."""

    driver: str = "forward_output"

    def reference_call(self, solve, call, flags):
        return forward_output(functools.partial(solve, **flags), *call.args, **call.kwargs)

    def same(self, result, expected):
        if _lost(result) or _lost(expected):
            return _lost(result) and result == expected
        return (isinstance(result, tuple) and len(result) == 2
                and matches(result[0], expected[0], self.rtol))

    def contract_problem(self, result, expected):
        return (contract_problem(result, expected, name="the result of batchnorm_forward")
                or contract_problem(result[0], expected[0], name="Z_tilde"))

    def judge(self, result, expected, known, call=None):
        if _lost(result):
            return _keepdims_sentence(result)
        return super().judge(result, expected, known, call)


def _row_means_problem(call, result, expected):
    """The rows of (Z_tilde - beta) / gamma have mean 0 whatever the scale is wrong by."""
    Z_tilde, gamma, beta = np.asarray(result[0], dtype=np.float64), call.args[1], call.args[2]
    if Z_tilde.shape == call.args[0].shape and np.all(np.isfinite(Z_tilde)) and not np.allclose(
            ((Z_tilde - beta) / gamma).mean(axis=1), 0.0, atol=1e-9):
        return ("the rows of (Z_tilde - beta) / gamma should have mean 0: subtract each "
                "unit's mean over its m examples (axis=1, keepdims=True)")
    return None


@dataclass
class Backward(_Driven):
    """A cell of batchnorm_backward, called with (Z, gamma, beta, dZ_tilde, eps, h), h the
    step of the numerical gradient of the student's forward pass.

    The contract (a tuple of three float64 arrays) is judged whole, the values of `parts` at
    `rtol`. When the numerical gradient of the student's forward pass is not the exact one
    (at `forward_rtol`), that forward pass is wrong on these inputs, and the sentence says so.
    """

    driver: str = "backward_report"
    parts: tuple = ("dZ",)
    forward_rtol: float = RTOL_FORWARD_GRADIENT
    ordinary: bool = True

    def __post_init__(self):
        self.problem = self.problem or self._gradient_problem

    def reference_call(self, solve, call, flags):
        Z, gamma, beta, dZ_tilde, eps, _ = call.args
        _, cache = solve.__globals__["batchnorm_forward"](Z, gamma, beta, eps)
        return solve(dZ_tilde, cache, **flags)

    def _parts(self, result, expected):
        parts = super()._parts(result, expected)
        return [p for p in parts if p[2] in self.parts] or parts

    def same(self, result, expected):
        return (isinstance(result, tuple) and len(result) == 3
                and all(matches(a, e, self.rtol) for a, e, _ in self._parts(result, expected)))

    def _gradient_problem(self, call, result, expected):
        Z = call.args[0]
        for value, wanted, name in self._parts(result, expected):
            if name != "dZ" and np.shape(value) == Z.shape:
                return (f"{name} has shape {Z.shape}, one entry per example: "
                        f"{MISTAKES['params_not_summed']}")
            if not matches(value, wanted, self.rtol):
                return (name == "dZ" and self.ordinary and _row_sums_problem(Z, value)
                        or gradient_mismatch(value, wanted, name=name, rtol=self.rtol,
                                             m=Z.shape[1]))
        return None

    def judge(self, report, expected, known, call=None):
        if _lost(report):
            return FIX_FORWARD + _keepdims_sentence(report)
        if "forward" in report:
            return FIX_FORWARD + contract_problem(report["forward"], (None, None),
                                                  name="the result of batchnorm_forward")
        grads, numerical = report["grads"], report["numerical"]
        problem = super().judge(grads, expected, known, call)
        if all(matches(n, e, self.forward_rtol) for n, e, _ in self._parts(numerical, expected)):
            return problem
        if problem is None:
            return ("the gradients are right, but batchnorm_forward is wrong on these inputs "
                    "(its numerical gradient is not batch norm's): fix batchnorm_forward first")
        if all(matches(g, n, self.forward_rtol) for g, n, _ in self._parts(grads, numerical)):
            return ("the gradients are those of your batchnorm_forward, but batchnorm_forward "
                    "itself is wrong on these inputs: fix it first")
        return FIX_FORWARD + problem


def _row_sums_problem(Z, dZ):
    """A hint when dZ breaks an identity of every batch-norm gradient, or None: shifting a
    unit's m values, or (up to eps) scaling their deviations from the mean, does not change
    its output, so each row of dZ sums to 0 and is orthogonal to that row of Z - mean."""
    dZ = np.asarray(dZ, dtype=np.float64)
    if dZ.shape != Z.shape or not np.all(np.isfinite(dZ)):
        return None
    scale, deviations = np.max(np.abs(dZ)) * Z.shape[1], Z - Z.mean(axis=1, keepdims=True)
    if np.any(np.abs(dZ.sum(axis=1)) > RTOL * scale):
        return ("each row of dZ should sum to 0 (adding a constant to a unit's m values does "
                "not change its output): check the path through mu")
    if np.any(np.abs((dZ * deviations).sum(axis=1)) > 1e-3 * scale * np.max(np.abs(deviations))):
        return ("each row of dZ should be orthogonal to that row of Z - mu (scaling a unit's "
                "deviations from its mean does not change its output): check the path "
                "through var")
    return None


# ------------------------------------------------------------------- the visible inputs

U5 = np.array([[2.0, -1.0, 0.0, 1.0, -2.0], [1.0, 1.0, -1.0, -1.0, 0.0],
               [3.0, -1.0, -1.0, -1.0, 0.0]]) / np.sqrt([[2.0], [0.8], [2.4]])
U4 = np.array([[1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0], [1.0, -1.0, -1.0, 1.0],
               [np.sqrt(2.0), 0.0, -np.sqrt(2.0), 0.0]])
U3 = np.array([[1.0, 0.0, -1.0], [1.0, 1.0, -2.0], [2.0, -1.0, -1.0], [-1.0, 2.0, -1.0],
               [0.0, 1.0, -1.0]]) / np.sqrt([[2 / 3], [2.0], [2.0], [2.0], [2 / 3]])
"""Patterns of m = 5, 4 and 3 values, each row with mean 0 and biased variance 1."""


def _units(U, c, s, *params):
    """(Z, *params) as columns: unit i of Z has mean c[i] and standard deviation s[i]."""
    c, s, *params = (np.array(v, dtype=np.float64).reshape(-1, 1) for v in (c, s, *params))
    return c + s * U, *params


FORWARD_INPUTS = [
    _units(U5, [1.0, -3.0, 0.5], [2.0, 1.0, 3.0], [1.5, 0.5, -2.0], [0.3, -1.0, 2.0]),
    _units(U4, [0.0, 4.0, -1.0, 2.0], [1.0, 2.5, 1.5, 1.0], [2.0, -1.0, 0.5, 3.0],
           [1.0, 0.0, -0.5, 0.25]),
    _units(U3, [2.0, -1.0, 0.0, 1.5, -2.0], [1.5, 1.0, 2.0, 1.0, 3.0],
           [-1.0, 2.0, 0.5, 1.0, 1.5], [0.5, 0.0, -1.0, 2.0, 0.1])]
"""(Z, gamma, beta) of shapes (3, 5), (4, 4) and (5, 3)."""

DZ_TILDE = np.array([[0.3, -1.2, 0.8, 0.1, -0.4], [1.0, 0.5, -0.7, 0.2, -1.1],
                     [-0.6, 0.9, 0.4, -0.3, 1.3]])
BACKWARD_INPUTS = [
    (*_units(U5, [0.2, 3.1, -0.3], [1.6, 1.4, 1.8], [1.5, -0.5, 2.0], [0.5, 1.0, -1.0]),
     DZ_TILDE),
    (*_units(U4, [1.0, -2.0, 0.0, 5.0], [3.0] * 4, [0.4, -1.3, 0.8, 2.1],
             [-0.2, 0.7, 1.1, -0.9]), np.array([[0.5, -1.1, 0.3, 0.9], [-0.8, 0.2, 1.4, -0.6],
                                                [1.2, 0.4, -0.3, -1.0], [0.1, -0.7, 0.6, 0.8]]))]
"""(Z, gamma, beta, dZ_tilde) of ordinary units, (3, 5) and (4, 4)."""
TINY = (*_units(U5, [0.03, -0.02, 0.01], [5e-4, 1e-3, 3e-4], [1.0, 2.0, -0.5],
                [0.0, 1.0, 0.5]), DZ_TILDE)
"""(Z, gamma, beta, dZ_tilde) of units with variances 2.5e-7, 1e-6 and 9e-8."""


def _backward_calls(what):
    return [Call(f"Z of shape {Z.shape}, eps = 0{what}", (Z, *rest, 0.0, 1e-5))
            for Z, *rest in BACKWARD_INPUTS]


EXERCISES = declare(
    "02_batchnorm_derivation",
    Forward(
        "test_batchnorm_forward", "batchnorm_forward", ("Z_tilde", "cache"),
        "batchnorm_forward: each unit normalised over its examples, then scaled by gamma and "
        "shifted by beta.",
        [Call(f"Z of shape {Z.shape}, {label}", (Z, *params)) for Z, gamma, beta in FORWARD_INPUTS
         for label, params in [("gamma = 1, beta = 0", (gamma ** 0, beta * 0)),
                               ("with gamma and beta", (gamma, beta))]],
        _mistakes("units_axis", "no_keepdims", "unbiased", "not_centred", "var_not_std",
                  "no_gamma", "no_beta", "swapped"), RTOL, _row_means_problem),
    Forward(
        "test_batchnorm_forward_eps", "batchnorm_forward", ("Z_tilde", "cache"),
        "batchnorm_forward: eps sits inside the square root; a constant unit gives beta.",
        [Call("units with variance 1, 0 and 1e-8",
              _units(U5, [0.5, 3.0, 2.0], [1.0, 0.0, 1e-4], [2.0, 1.5, 1.0], [-1.0, 0.5, 0.25])),
         Call("units with variance 1e-4 and 9e-4, eps = 1e-3 passed as an argument",
              (*_units(U4, [0.5, -1.0, 2.0, 0.0], [1e-2, 2.0, 1.0, 3e-2], [1.0, -2.0, 0.5, 1.5],
                       [0.0, 1.0, -0.5, 2.0]), 1e-3))],
        _mistakes("eps_outside", "no_eps", "eps_ignored", "units_axis", "no_keepdims",
                  "unbiased", "not_centred", "var_not_std", "no_gamma", "no_beta", "swapped"),
        RTOL_EPS, _row_means_problem),
    Backward(
        "test_batchnorm_backward", "batchnorm_backward", ("dZ", "dgamma", "dbeta"),
        "batchnorm_backward: dZ matches the exact gradient (and the numerical gradient of "
        "your forward pass).", _backward_calls(""),
        _mistakes("no_dmu", "no_dvar", "dmu_over_m2", "dvar_m_minus_1", "dvar_power",
                  "eps_fixed_in_backward", "no_gamma_in_dZ"), ANALYTIC_RTOL,
        uses=("batchnorm_forward", "batchnorm_backward")),
    Backward(
        "test_batchnorm_backward_params", "batchnorm_backward", ("dZ", "dgamma", "dbeta"),
        "batchnorm_backward: dgamma and dbeta have shape (n, 1) and the right values.",
        _backward_calls(" (dgamma and dbeta)"),
        _mistakes("dgamma_of_Z", "params_not_summed", "swapped_params"), ANALYTIC_RTOL,
        uses=("batchnorm_forward", "batchnorm_backward"), parts=("dgamma", "dbeta")),
    Backward(
        "test_batchnorm_backward_tiny_variance", "batchnorm_backward", ("dZ", "dgamma", "dbeta"),
        "batchnorm_backward: dZ is right when the variance is smaller than eps.",
        [Call(f"units with variance below eps = {eps:g}", (*TINY, eps, 1e-8))
         for eps in (1e-5, 1e-4)],
        _mistakes("var_no_eps", "eps_fixed_in_backward", "no_dmu", "no_dvar", "dmu_over_m2",
                  "dvar_m_minus_1", "dvar_power", "no_gamma_in_dZ"), RTOL_TINY_GRADIENT,
        uses=("batchnorm_forward", "batchnorm_backward"), forward_rtol=RTOL_EPS, ordinary=False),
)
"""{grade_id: Exercise}: every graded cell of the notebook, in the master's order."""

__getattr__ = visible_checks(EXERCISES)
