"""Declarations of 02_batchnorm_derivation's graded cells (see `course_lib.exercise`).

The student's cache is their own object, so every call goes through a driver that calls the
student's functions and returns data only, in both layers (`forward_output`,
`backward_report`); a backward driver also returns the numerical gradient of the student's
forward pass, which only tells whether that forward pass is right.

Tolerances are relative to the largest expected entry: `RTOL` on ordinary units (standard
deviation at least 1, where eps = 1e-5 moves any result by less than 2e-5, so where eps sits
is left to the eps cell), `RTOL_EPS` where eps decides everything. Gradients must be derived:
`ANALYTIC_RTOL` on ordinary units with eps = 0, `RTOL_TINY_GRADIENT` on units whose variance
is below eps.
"""

from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from course_lib.checking import CheckFailed, contract_problem, matches, unchanged_arguments
from course_lib.checks.gradients import ANALYTIC_RTOL, gradient_mismatch
from course_lib.exercise import Call, Exercise, call_student, declare, visible_checks
from course_lib.gradcheck import numerical_gradient

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    import numpy.typing as npt

RTOL = 1e-4
RTOL_EPS = 1e-6

RTOL_TINY_GRADIENT = 1e-12
"""Tolerance of dZ on units whose variance is below eps (means near 0).

There, a correct forward pass that computes the variance in one pass,
mean(Z**2) - mu**2, moves dZ by up to 4e-14 (two-pass forms: 2e-14 at most);
finite differences stay above 3.7e-11 (measured over 100 seeds, every step)."""

RTOL_FORWARD_GRADIENT = 1e-7
"""Tolerance of the numerical gradient of your forward pass on ordinary units, eps = 0.

There centred differences (step 1e-5) are within 1e-9 of the exact gradient, while a
forward pass that uses eps = 1e-5 whatever eps it is given is 1e-6 off."""

FORWARD_MISTAKES = {
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
    "no_gamma": "gamma is missing: Z_tilde = gamma * Z_norm + beta scales each unit by gamma",
    "no_beta": "beta is missing: Z_tilde = gamma * Z_norm + beta shifts each unit by beta",
    "swapped": "gamma and beta are swapped: gamma scales, beta shifts "
               "(Z_tilde = gamma * Z_norm + beta)",
}

EPS_MISTAKES = {
    "eps_outside": "eps is added outside the square root; it belongs inside: sqrt(var + eps)",
    "no_eps": "eps is missing: divide by sqrt(var + eps), not by sqrt(var) (a unit whose "
              "values are all equal has variance 0, and 0 / 0 is nan)",
    "eps_ignored": "batchnorm_forward ignores its argument eps: use the eps it is given, not "
                   "the constant 1e-5",
}

DZ_MISTAKES = {
    "eps_fixed_in_backward": "this is the gradient for eps = 1e-5, not for the eps given to "
                             "batchnorm_forward: use that eps in the forward pass and keep it (or "
                             "sqrt(var + eps)) in the cache for the backward pass",
    "no_dmu": "dZ misses the path through mu: Z reaches the output through Z - mu, through "
              "mu and through var, and each path adds a term (dmu / m is missing)",
    "no_dvar": "dZ misses the path through var: add dvar * 2 (Z - mu) / m",
    "dmu_over_m2": "the mu path is divided by m twice: dmu already sums over the examples, "
                   "and dmu/dZ_i = 1/m once",
    "dvar_m_minus_1": "the var path uses 1/(m - 1); the forward pass's variance is the biased "
                      "one, so dvar/dZ_i = 2 (Z_i - mu) / m",
    "dvar_power": "dvar uses the power -1/2 of var + eps; the derivative of "
                  "(var + eps)**(-1/2) is -1/2 (var + eps)**(-3/2)",
    "no_gamma_in_dZ": "dZ misses the factor gamma: Z_tilde = gamma * Z_norm + beta, so "
                      "dZ_norm = dZ_tilde * gamma",
}

PARAMS_MISTAKES = {
    "dgamma_of_Z": "dgamma sums dZ_tilde * Z; gamma multiplies Z_norm, so dgamma sums "
                   "dZ_tilde * Z_norm",
    "params_not_summed": "gamma and beta are shared by the m examples, so sum their "
                         "contributions over the examples (axis=1, keepdims=True) to get "
                         "shape (n, 1)",
    "swapped_params": "dgamma and dbeta are swapped: dbeta = sum of dZ_tilde, dgamma = sum of "
                      "dZ_tilde * Z_norm",
}

FIX_FORWARD = "batchnorm_forward is wrong (fix it first): "

# ------------------------------------------ drivers (both layers): data in, data out


def _forward(batchnorm_forward, Z, *args, **kwargs):
    """batchnorm_forward's result, or {"lost_keepdims": [name, n]} when it raised a
    broadcasting ValueError and its innermost frame outside numpy (the student's code) has an
    (n,)-shaped local `name`: a mean or variance computed without keepdims."""
    try:
        return batchnorm_forward(Z, *args, **kwargs)
    except ValueError as error:
        frames = [f for f, _ in traceback.walk_tb(error.__traceback__)
                  if "numpy" not in f.f_code.co_filename.replace("\\", "/").split("/")]
        names = [k for k, v in frames[-1].f_locals.items()
                 if isinstance(v, np.ndarray) and v.shape == Z.shape[:1]]
        if not names or "broadcast" not in str(error):
            raise
        return {"lost_keepdims": [names[0], Z.shape[0]]}


def _head(result):
    """`result` with every value after the first (the cache, the student's object) ()."""
    if isinstance(result, (tuple, list)):
        return type(result)([*result[:1], *[()] * (len(result) - 1)])
    return result


def _forward_problem(result):
    """The sentence for a forward result that lost an (n, 1) shape or is no (Z_tilde, cache)."""
    if isinstance(result, dict) and set(result) == {"lost_keepdims"}:
        name, n = result["lost_keepdims"]
        return f"{name} has shape ({n},), should be ({n}, 1): {FORWARD_MISTAKES['no_keepdims']}"
    return contract_problem(result, ((), ()), name="the result of batchnorm_forward")


def forward_output(batchnorm_forward: Callable, Z: np.ndarray, *args: Any, **kwargs: Any
                   ) -> Any:
    """What batchnorm_forward(Z, ...) returns, with its cache replaced by ()."""
    return _head(_forward(batchnorm_forward, Z, *args, **kwargs))


def backward_report(batchnorm_forward: Callable, batchnorm_backward: Callable, Z: np.ndarray,
                    gamma: np.ndarray, beta: np.ndarray, dZ_tilde: np.ndarray, eps: float,
                    h: float) -> dict[str, Any]:
    """{"grads": batchnorm_backward's result, "numerical": the centred-difference gradients
    of sum(dZ_tilde * Z_tilde)}, or {"forward": its result} for no (Z_tilde, cache)."""
    result = _forward(batchnorm_forward, Z, gamma, beta, eps)
    if _forward_problem(result):
        return {"forward": _head(result)}
    grads, point = batchnorm_backward(dZ_tilde, result[1]), [Z, gamma, beta]

    def J(k: int, V: np.ndarray) -> float:
        return float(np.sum(dZ_tilde * batchnorm_forward(*point[:k], V, *point[k + 1:], eps)[0]))

    return {"grads": grads, "numerical": tuple(
        numerical_gradient(functools.partial(J, k), X, h) for k, X in enumerate(point))}


# ------------------------------------------------------------------- the exercises


@dataclass
class _Driven(Exercise):
    """A cell whose calls go through `driver` in both layers, with the notebook's functions."""

    driver: str = ""

    def request(self, call: Call) -> tuple[str, tuple, dict]:
        functions = tuple({"__global__": name} for name in self.notebook_functions)
        return f"{__name__}:{self.driver}", functions + call.args, call.kwargs

    def run(self, call: Call, functions: tuple[Callable, ...]) -> Any:
        guarded = [unchanged_arguments(f) for f in functions]
        args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in call.args]
        try:
            return globals()[self.driver](*guarded, *args, **call.kwargs)
        except CheckFailed as error:  # a function that changed its arguments
            raise CheckFailed(error.problem, call=call.label) from None
        except Exception as raised:  # one sentence naming the function and line that raised
            codes = {f.__code__: f.__name__ for f in functions if hasattr(f, "__code__")}
            tb, name, error = raised.__traceback__, self.function, raised
            while tb is not None:
                name, tb = codes.get(tb.tb_frame.f_code, name), tb.tb_next

            def again(*args: Any, **kwargs: Any) -> NoReturn:
                raise error
            return call_student(again, name, call)


@dataclass
class Forward(_Driven):
    """A cell of batchnorm_forward: (Z_tilde, cache) is judged by Z_tilde and its length."""

    driver: str = "forward_output"

    def reference_call(self, solve: Callable, call: Call, flags: dict[str, bool]) -> Any:
        return forward_output(functools.partial(solve, **flags), *call.args, **call.kwargs)

    def same(self, result: Any, expected: Any) -> bool:
        if isinstance(result, dict) or isinstance(expected, dict):  # a lost (n, 1) shape
            return isinstance(result, dict) and result == expected
        return matches(result, expected, self.rtol)

    def contract_problem(self, result: Any, expected: Any) -> str | None:
        return _forward_problem(result) or super().contract_problem(result, expected)


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
    step of the numerical gradient of the student's forward pass; the values of `parts` are
    judged. That numerical gradient off the exact one (RTOL_FORWARD_GRADIENT with eps = 0,
    else RTOL_EPS) means the forward pass is wrong on these inputs, and the sentence says so."""

    driver: str = "backward_report"
    parts: tuple = ("dZ",)

    def __post_init__(self) -> None:
        self.problem, self.uses = self._gradient_problem, ("batchnorm_forward", self.function)

    def reference_call(self, solve: Callable, call: Call, flags: dict[str, bool]) -> Any:
        Z, gamma, beta, dZ_tilde, eps, _ = call.args
        _, cache = solve.__globals__["batchnorm_forward"](Z, gamma, beta, eps)
        return solve(dZ_tilde, cache, **flags)

    def _parts(self, result, expected):
        parts = super()._parts(result, expected)
        return [p for p in parts if p[2] in self.parts] or parts

    def same(self, result: Any, expected: Any) -> bool:
        return all(matches(a, e, self.rtol) for a, e, _ in self._parts(result, expected))

    def _gradient_problem(self, call, result, expected):
        Z, m = call.args[0], call.args[0].shape[1]
        for value, wanted, name in self._parts(result, expected):
            if name != "dZ" and np.shape(value) == Z.shape:
                return (f"{name} has shape {Z.shape}, one entry per example: "
                        f"{PARAMS_MISTAKES['params_not_summed']}")
            if matches(value, wanted, self.rtol):
                continue
            dZ = np.asarray(value, dtype=np.float64)
            if (name == "dZ" and call.args[4] == 0 and dZ.shape == Z.shape
                    and np.all(np.isfinite(dZ))):
                # with eps = 0, shifting a unit's m values or scaling their deviations does
                # not change its output: rows of dZ sum to 0, orthogonal to those of Z - mean
                scale, deviations = np.max(np.abs(dZ)) * m, Z - Z.mean(axis=1, keepdims=True)
                if np.any(np.abs(dZ.sum(axis=1)) > RTOL * scale):
                    return ("each row of dZ should sum to 0 (adding a constant to a unit's m "
                            "values does not change its output): check the path through mu")
                if np.any(np.abs((dZ * deviations).sum(axis=1))
                          > 1e-3 * scale * np.max(np.abs(deviations))):
                    return ("each row of dZ should be orthogonal to that row of Z - mu "
                            "(scaling a unit's deviations from its mean does not change its "
                            "output): check the path through var")
            return gradient_mismatch(value, wanted, name=name, rtol=self.rtol, m=m)
        return None

    def assess(self, report: Any, expected: Any, known: dict[str, Any],
               call: Call | None = None) -> tuple[str | None, str | None]:
        if "forward" in report:
            return None, FIX_FORWARD + _forward_problem(report["forward"])
        grads, numerical = report["grads"], report["numerical"]
        mistake, problem = super().assess(grads, expected, known, call)
        rtol = RTOL_FORWARD_GRADIENT if call.args[4] == 0 else RTOL_EPS
        if all(matches(n, e, rtol) for n, e, _ in self._parts(numerical, expected)):
            return mistake, problem
        if not problem or all(matches(g, n, rtol) for g, n, _ in self._parts(grads, numerical)):
            problem = "its numerical gradient is not batch norm's on these inputs"
        return None, FIX_FORWARD + problem


# ------------------------------------------------------------------- the visible inputs


def units(noise: npt.ArrayLike, mean: npt.ArrayLike, std: npt.ArrayLike,
          *params: npt.ArrayLike) -> tuple[np.ndarray, ...]:
    """(Z, *params as columns): row i of Z is row i of `noise` moved and scaled to have mean
    mean[i] and (biased) standard deviation std[i]."""
    noise = noise - np.mean(noise, axis=1, keepdims=True)
    mean, std, *params = (np.array(v, dtype=np.float64).reshape(-1, 1)
                          for v in (mean, std, *params))
    return mean + std * noise / noise.std(axis=1, keepdims=True), *params


U5 = [[2, -1, 0, 1, -2], [1, 1, -1, -1, 0], [3, -1, -1, -1, 0]]
U4 = [[1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1], [1, 0, -1, 0]]
U3 = [[1, 0, -1], [1, 1, -2], [2, -1, -1], [-1, 2, -1], [0, 1, -1]]

FORWARD_INPUTS = [
    units(U5, [1.0, -3.0, 0.5], [2.0, 1.0, 3.0], [1.5, 0.5, -2.0], [0.3, -1.0, 2.0]),
    units(U4, [0.0, 4.0, -1.0, 2.0], [1.0, 2.5, 1.5, 1.0], [2.0, -1.0, 0.5, 3.0],
          [1.0, 0.0, -0.5, 0.25]),
    units(U3, [2.0, -1.0, 0.0, 1.5, -2.0], [1.5, 1.0, 2.0, 1.0, 3.0],
          [-1.0, 2.0, 0.5, 1.0, 1.5], [0.5, 0.0, -1.0, 2.0, 0.1])]

DZ_TILDE = np.array([[0.3, -1.2, 0.8, 0.1, -0.4], [1.0, 0.5, -0.7, 0.2, -1.1],
                     [-0.6, 0.9, 0.4, -0.3, 1.3]])
BACKWARD_INPUTS = [
    (*units(U5, [0.2, 3.1, -0.3], [1.6, 1.4, 1.8], [1.5, -0.5, 2.0], [0.5, 1.0, -1.0]),
     DZ_TILDE),
    (*units(U4, [1.0, -2.0, 0.0, 5.0], [3.0] * 4, [0.4, -1.3, 0.8, 2.1], [-0.2, 0.7, 1.1, -0.9]),
     np.array([[0.5, -1.1, 0.3, 0.9], [-0.8, 0.2, 1.4, -0.6], [1.2, 0.4, -0.3, -1.0],
               [0.1, -0.7, 0.6, 0.8]]))]
BACKWARD_CALLS = [Call(f"Z of shape {Z.shape}, eps = 0", (Z, *rest, 0.0, 1e-5))
                  for Z, *rest in BACKWARD_INPUTS]
TINY = (*units(U5, [0.03, -0.02, 0.01], [5e-4, 1e-3, 3e-4], [1.0, 2.0, -0.5], [0.0, 1.0, 0.5]),
        DZ_TILDE)

EXERCISES = declare(
    "02_batchnorm_derivation",
    Forward(
        "test_batchnorm_forward", "batchnorm_forward", ("Z_tilde", "cache"),
        "batchnorm_forward: each unit normalised over its examples, then scaled by gamma and "
        "shifted by beta.",
        [Call(f"Z of shape {Z.shape}, {label}", (Z, *params)) for Z, gamma, beta in FORWARD_INPUTS
         for label, params in [("gamma = 1, beta = 0", (gamma ** 0, beta * 0)),
                               ("with gamma and beta", (gamma, beta))]],
        FORWARD_MISTAKES, RTOL, _row_means_problem),
    Forward(
        "test_batchnorm_forward_eps", "batchnorm_forward", ("Z_tilde", "cache"),
        "batchnorm_forward: eps sits inside the square root; a constant unit gives beta.",
        [Call("units with variance 1, 0 and 1e-8",
              units(U5, [0.5, 3.0, 2.0], [1.0, 0.0, 1e-4], [2.0, 1.5, 1.0], [-1.0, 0.5, 0.25])),
         Call("units with variance 1e-4 and 9e-4, eps = 1e-3 passed as an argument",
              (*units(U4, [0.5, -1.0, 2.0, 0.0], [1e-2, 2.0, 1.0, 3e-2], [1.0, -2.0, 0.5, 1.5],
                      [0.0, 1.0, -0.5, 2.0]), 1e-3))],
        {**EPS_MISTAKES, **FORWARD_MISTAKES}, RTOL_EPS, _row_means_problem),
    Backward(
        "test_batchnorm_backward", "batchnorm_backward", ("dZ", "dgamma", "dbeta"),
        "batchnorm_backward: dZ matches the exact gradient (and the numerical gradient of "
        "your forward pass).", BACKWARD_CALLS, DZ_MISTAKES, ANALYTIC_RTOL),
    Backward(
        "test_batchnorm_backward_params", "batchnorm_backward", ("dZ", "dgamma", "dbeta"),
        "batchnorm_backward: dgamma and dbeta have shape (n, 1) and the right values.",
        BACKWARD_CALLS, PARAMS_MISTAKES, ANALYTIC_RTOL, parts=("dgamma", "dbeta")),
    Backward(
        "test_batchnorm_backward_tiny_variance", "batchnorm_backward", ("dZ", "dgamma", "dbeta"),
        "batchnorm_backward: dZ is right when the variance is smaller than eps.",
        [Call(f"units with variance below eps = {eps:g}", (*TINY, eps, 1e-8))
         for eps in (1e-5, 1e-4)],
        {"var_no_eps": "the backward pass uses var where the forward pass used var + eps: "
                       "differentiate 1 / sqrt(var + eps)", **DZ_MISTAKES}, RTOL_TINY_GRADIENT),
)

__getattr__ = visible_checks(EXERCISES)
