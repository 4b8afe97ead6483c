"""Reference solutions of 02_batchnorm_derivation (shapes: units x examples). Instructor material.

The reference's cache is the master's. In the hidden calls, ordinary units have standard
deviations in [1, 3] (eps = 1e-5 moves results by less than 2e-5 there) and ordinary backward
calls pass eps = 0 (then h, the step of the numerical gradient), so where eps sits is judged
only by the calls built for it; units whose variance is below eps have means near 0, where a
one-pass variance, mean(Z**2) - mu**2, loses at most 4e-14.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from autograder.exercises import hidden
from course_lib.checks.batchnorm_derivation import EXERCISES, units
from course_lib.exercise import Call

if TYPE_CHECKING:
    Cache = tuple[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray, np.ndarray]
    """(Z, mu, var, eps, Z_norm, gamma): what batchnorm_backward needs of the forward pass."""


def batchnorm_forward(Z: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5, *,
                      units_axis: bool = False, no_keepdims: bool = False,
                      unbiased: bool = False, not_centred: bool = False,
                      var_not_std: bool = False, eps_outside: bool = False,
                      no_eps: bool = False, eps_ignored: bool = False, no_gamma: bool = False,
                      no_beta: bool = False, swapped: bool = False
                      ) -> tuple[np.ndarray, Cache]:
    """Z_tilde = gamma * (Z - mu) / sqrt(var + eps) + beta, statistics over the examples."""
    axis = 0 if units_axis else 1
    eps = 1e-5 if eps_ignored else 0.0 if no_eps else eps
    mu = Z.mean(axis=axis, keepdims=not no_keepdims)
    var = ((Z - mu) ** 2).mean(axis=axis, keepdims=not no_keepdims)
    if unbiased:
        var = var * Z.shape[axis] / (Z.shape[axis] - 1)
    std = np.sqrt(var) + eps if eps_outside else var + eps if var_not_std else np.sqrt(var + eps)
    Z_norm = (Z if not_centred else Z - mu) / std
    scale, shift = (beta, gamma) if swapped else (gamma, beta)
    Z_tilde = (1.0 if no_gamma else scale) * Z_norm + (0.0 if no_beta else shift)
    return Z_tilde, (Z, mu, var, eps, Z_norm, gamma)


def batchnorm_backward(dZ_tilde: np.ndarray, cache: Cache, *, no_dmu: bool = False,
                       no_dvar: bool = False, dmu_over_m2: bool = False,
                       var_no_eps: bool = False, dvar_m_minus_1: bool = False,
                       dvar_power: bool = False, eps_fixed_in_backward: bool = False,
                       no_gamma_in_dZ: bool = False, dgamma_of_Z: bool = False,
                       params_not_summed: bool = False, swapped_params: bool = False
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dZ, dgamma, dbeta) staged along the computation graph Z -> mu -> var -> Z_norm."""
    Z, mu, var, eps, Z_norm, gamma = cache
    m = Z.shape[1]
    Zc = Z - mu
    v = var if var_no_eps else var + (1e-5 if eps_fixed_in_backward else eps)
    dbeta, dgamma = dZ_tilde, dZ_tilde * (Z if dgamma_of_Z else Z_norm)
    if not params_not_summed:
        dbeta, dgamma = dbeta.sum(axis=1, keepdims=True), dgamma.sum(axis=1, keepdims=True)
    dZ_norm = dZ_tilde if no_gamma_in_dZ else dZ_tilde * gamma
    dvar = np.sum(dZ_norm * Zc, axis=1, keepdims=True) * -0.5 * v ** (
        -0.5 if dvar_power else -1.5)
    dmu = -np.sum(dZ_norm, axis=1, keepdims=True) / np.sqrt(v)
    dZ = dZ_norm / np.sqrt(v)
    if not no_dvar:
        dZ = dZ + dvar * 2 * Zc / (m - 1 if dvar_m_minus_1 else m)
    if not no_dmu:
        dZ = dZ + dmu / (m * m if dmu_over_m2 else m)
    return (dZ, dbeta, dgamma) if swapped_params else (dZ, dgamma, dbeta)


# ------------------------------------------------------------------ the hidden calls


def _units(rng, n, m, low=1.0, high=3.0, mean=3.0):
    """Z (n, m) whose rows have means in [-mean, mean] and standard deviations in [low, high]."""
    return units(rng.normal(size=(n, m)), rng.uniform(-mean, mean, n), rng.uniform(low, high, n))[0]


def _params(rng, n):
    gamma = rng.uniform(0.5, 2.0, size=(n, 1)) * rng.choice([-1.0, 1.0], size=(n, 1))
    return gamma, rng.uniform(-2.0, 2.0, size=(n, 1))


@hidden(EXERCISES["test_batchnorm_forward"])
def forward_calls(rng: np.random.Generator) -> list[Call]:
    return [Call.of(f"Z of shape ({n}, {m})", _units(rng, n, m), *_params(rng, n))
            for n, m in [(4, 4), (3, 6), (6, 3)]]


@hidden(EXERCISES["test_batchnorm_forward_eps"])
def forward_eps_calls(rng: np.random.Generator) -> list[Call]:
    """A constant unit (variance 0: nan without eps) and near-constant units (eps's place)."""
    Z, near, small = (_units(rng, n, m) for n, m in [(3, 6), (4, 5), (3, 4)])
    Z[1] = float(rng.integers(-3, 4))
    near[2] = rng.uniform(1, 2) + 1e-4 * (near[2] - near[2].mean()) / near[2].std()
    small[0] = 0.5 + 1e-2 * (small[0] - small[0].mean()) / small[0].std()
    return [Call.of("a unit whose values are all equal", Z, *_params(rng, 3)),
            Call.of("a unit with variance 1e-8", near, *_params(rng, 4)),
            Call.of("a unit with variance 1e-4 and eps = 1e-3 passed as an argument", small,
                    *_params(rng, 3), 1e-3)]


@hidden(EXERCISES["test_batchnorm_backward"])
@hidden(EXERCISES["test_batchnorm_backward_params"])
def backward_calls(rng: np.random.Generator) -> list[Call]:
    return [Call.of(f"Z of shape ({n}, {m}), eps = 0", _units(rng, n, m), *_params(rng, n),
                    rng.normal(size=(n, m)), 0.0, 1e-5)
            for n, m in [(4, 4), (3, 6), (5, 3)]]


@hidden(EXERCISES["test_batchnorm_backward_tiny_variance"])
def backward_tiny_variance_calls(rng: np.random.Generator) -> list[Call]:
    """Units whose variance (1e-7 to 1e-6) is below eps: var + eps as in the forward pass."""
    return [Call.of(f"Z of shape ({n}, {m}) with variances below eps = {eps:g}",
                    _units(rng, n, m, 3e-4, 1e-3, mean=0.05), *_params(rng, n),
                    rng.normal(size=(n, m)), eps, 1e-8)
            for (n, m), eps in [((3, 5), 1e-5), ((4, 4), 1e-4)]]
