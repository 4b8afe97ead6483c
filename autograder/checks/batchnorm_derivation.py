"""Grader cases for 02_batchnorm_derivation.

The student's cache is their own object: every case goes through a driver of
`course_lib.checks.batchnorm_derivation` that calls the student's forward pass
(and backward pass) and returns data only. The judges are those of the visible
checks (`judge_forward`, `judge_backward`), given the reference's values and the
values of each named mistake (`ref.FORWARD_MISTAKES`, `ref.BACKWARD_MISTAKES`) on
the hidden inputs. The backward pass is judged twice: against the reference values
and against centred-difference gradients of the student's own forward pass,
computed in their kernel by the driver.

Ordinary cases use units whose standard deviation is between 1 and 3, where
eps = 1e-5 moves results by less than 2e-5 relative (forward tolerance RTOL =
1e-4): the placement of eps is judged only by the cases built for it, a
constant and a near-constant unit, and units whose variance is below eps.

Gradients must be derived: they are compared with the reference at
`ANALYTIC_RTOL` (1e-13 of the largest entry), which a correct backward pass in
any of its forms meets and finite differences cannot (see
`course_lib.checks.gradients`). So that the place of eps cannot matter there,
the ordinary backward cases pass eps = 0 (every placement of eps then gives the
same numbers); units whose variance is below eps are judged at
`RTOL_TINY_GRADIENT` (1e-12), and have means near 0, where computing the
variance in one pass, mean(Z**2) - mu**2, still loses no more than 4e-14.
"""

from autograder.case import Case, global_ref
from autograder.reference import batchnorm_derivation as ref
from course_lib.checks.batchnorm_derivation import (
    HINTS,
    RTOL,
    RTOL_EPS,
    RTOL_FORWARD_GRADIENT,
    RTOL_TINY_GRADIENT,
    judge_backward,
    judge_forward,
    known_gradients,
)
from course_lib.checks.gradients import ANALYTIC_RTOL

FORWARD = "course_lib.checks.batchnorm_derivation:forward_output"
BACKWARD = "course_lib.checks.batchnorm_derivation:backward_report"


def _units(rng, n, m, low, high):
    """Z (n, m) whose rows have means in [-3, 3] and standard deviations in [low, high]."""
    noise = rng.normal(size=(n, m))
    noise = (noise - noise.mean(axis=1, keepdims=True)) / noise.std(axis=1, keepdims=True)
    return rng.uniform(-3, 3, size=(n, 1)) + rng.uniform(low, high, size=(n, 1)) * noise


def _params(rng, n):
    gamma = rng.uniform(0.5, 2.0, size=(n, 1)) * rng.choice([-1.0, 1.0], size=(n, 1))
    return gamma, rng.uniform(-2.0, 2.0, size=(n, 1))


def _forward_case(name, Z, gamma, beta, eps=None, rtol=RTOL):
    value = 1e-5 if eps is None else eps
    expected, _ = ref.batchnorm_forward(Z, gamma, beta, value)
    known = [(ref.forward_variant(kind, Z, gamma, beta, value), HINTS[kind])
             for kind in ref.FORWARD_MISTAKES]

    def judge(result):
        return judge_forward(result, expected, known=known, rtol=rtol)

    args = (global_ref("batchnorm_forward"), Z, gamma, beta)
    return Case(name, FORWARD, args if eps is None else args + (eps,), judge)


def forward_cases(rng):
    """Values on a square and on non-square shapes, ordinary units."""
    cases = []
    for n, m in [(4, 4), (3, 6), (6, 3)]:
        Z = _units(rng, n, m, 1.0, 3.0)
        cases.append(_forward_case(f"Z of shape ({n}, {m})", Z, *_params(rng, n)))
    return cases


def forward_eps_cases(rng):
    """A constant unit (variance 0: nan without eps) and near-constant units (eps's place)."""
    Z = _units(rng, 3, 6, 1.0, 3.0)
    Z[1] = float(rng.integers(-3, 4))
    near = _units(rng, 4, 5, 1.0, 3.0)
    near[2] = rng.uniform(1, 2) + 1e-4 * (near[2] - near[2].mean()) / near[2].std()
    small = _units(rng, 3, 4, 1.0, 3.0)
    small[0] = 0.5 + 1e-2 * (small[0] - small[0].mean()) / small[0].std()
    return [
        _forward_case("a unit whose values are all equal", Z, *_params(rng, 3),
                      rtol=RTOL_EPS),
        _forward_case("a unit with variance 1e-8", near, *_params(rng, 4), rtol=RTOL_EPS),
        _forward_case("a unit with variance 1e-4 and eps = 1e-3 passed as an argument",
                      small, *_params(rng, 3), eps=1e-3, rtol=RTOL_EPS),
    ]


def _backward_case(name, Z, gamma, beta, dZ_tilde, parts, *, eps=0.0, h=1e-5,
                   rtol=RTOL_FORWARD_GRADIENT,
                   analytic_rtol=ANALYTIC_RTOL, ordinary=True):
    expected = ref.gradients(Z, gamma, beta, dZ_tilde, eps)
    variants = {kind: dict(zip(("dZ", "dgamma", "dbeta"), values, strict=True))
                for kind, values in ref.backward_variants(Z, gamma, beta, dZ_tilde, eps).items()}
    known = known_gradients(variants, expected)

    def judge(report):
        return judge_backward(report, expected, parts=parts, known=known, rtol=rtol,
                              analytic_rtol=analytic_rtol, Z=Z if ordinary else None)

    args = (global_ref("batchnorm_forward"), global_ref("batchnorm_backward"), Z, gamma, beta,
            dZ_tilde, eps, h)
    return Case(name, BACKWARD, args, judge)


def _backward_cases(rng, parts):
    """Ordinary units, eps = 0 (see the module's docstring)."""
    cases = []
    for n, m in [(4, 4), (3, 6), (5, 3)]:
        Z = _units(rng, n, m, 1.0, 3.0)
        cases.append(_backward_case(f"Z of shape ({n}, {m}), eps = 0", Z, *_params(rng, n),
                                    rng.normal(size=(n, m)), parts))
    return cases


def backward_cases(rng):
    """dZ on a square and non-square shapes: reference values and your forward's gradient."""
    return _backward_cases(rng, ("dZ",))


def backward_params_cases(rng):
    """dgamma and dbeta: shape (n, 1), not swapped, right values."""
    return _backward_cases(rng, ("dgamma", "dbeta"))


def backward_tiny_variance_cases(rng):
    """dZ on units whose variance (1e-7 to 1e-6) is below eps: var + eps as in the forward."""
    cases = []
    for (n, m), eps in [((3, 5), 1e-5), ((4, 4), 1e-4)]:
        Z = _units(rng, n, m, 3e-4, 1e-3)
        Z = Z - Z.mean(axis=1, keepdims=True) + rng.uniform(-0.05, 0.05, size=(n, 1))
        cases.append(_backward_case(
            f"Z of shape ({n}, {m}) with variances below eps = {eps:g}", Z, *_params(rng, n),
            rng.normal(size=(n, m)), ("dZ",), eps=eps, h=1e-8,
            rtol=RTOL_EPS, analytic_rtol=RTOL_TINY_GRADIENT, ordinary=False))
    return cases


CHECKS = {
    "test_batchnorm_forward": forward_cases,
    "test_batchnorm_forward_eps": forward_eps_cases,
    "test_batchnorm_backward": backward_cases,
    "test_batchnorm_backward_params": backward_params_cases,
    "test_batchnorm_backward_tiny_variance": backward_tiny_variance_cases,
}
