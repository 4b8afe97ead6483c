"""Reference solutions of 03_batchnorm_test_time (shapes: units x examples). Instructor material.

Each function takes one keyword flag per named mistake of its exercises
(`course_lib.checks.batchnorm_test_time.EXERCISES`); with every flag off it is the right
solution. Below them, the hidden calls of each graded cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from autograder.exercises import hidden
from course_lib.checks.batchnorm_test_time import EXERCISES
from course_lib.exercise import Call

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt


def exponentially_weighted_average(values: npt.ArrayLike, beta: float,
                                   bias_correction: bool = False, *, flipped: bool = False,
                                   start_at_first: bool = False, correction_always: bool = False,
                                   correction_never: bool = False,
                                   correction_power_plus_one: bool = False,
                                   correction_power_from_zero: bool = False,
                                   divided_by_power: bool = False, shifted: bool = False,
                                   with_v0: bool = False) -> np.ndarray:
    """v_t = beta v_(t-1) + (1 - beta) theta_t from v_0 = 0; divided by 1 - beta**t if asked."""
    values = np.asarray(values, dtype=np.float64)
    v = values[0] if start_at_first and values.size else 0.0
    averages = []
    for theta in values:
        v = (1 - beta) * v + beta * theta if flipped else beta * v + (1 - beta) * theta
        averages.append(v)
    averages = np.array(averages, dtype=np.float64)
    if shifted:
        averages = np.concatenate([[0.0], averages[:-1]])
    if (bias_correction or correction_always) and not correction_never:
        power = np.arange(1, values.size + 1) + correction_power_plus_one
        power = power - correction_power_from_zero
        with np.errstate(divide="ignore", invalid="ignore"):
            averages = averages / (beta ** power if divided_by_power else 1 - beta ** power)
    return np.concatenate([[0.0], averages]) if with_v0 else averages


def update_running_stats(running_mu: np.ndarray, running_var: np.ndarray, mu: np.ndarray,
                         var: np.ndarray, momentum: float = 0.9, *, flipped: bool = False,
                         sigma: bool = False, var_from_mu: bool = False,
                         fixed_momentum: bool = False, not_updated: bool = False
                         ) -> tuple[np.ndarray, np.ndarray]:
    """new = momentum * old + (1 - momentum) * batch, for the mean and the variance."""
    if not_updated:
        return running_mu, running_var
    weight = 0.9 if fixed_momentum else momentum
    weight = 1 - weight if flipped else weight
    batch_var = mu if var_from_mu else np.sqrt(var) if sigma else var
    return (weight * running_mu + (1 - weight) * mu,
            weight * running_var + (1 - weight) * batch_var)


def track_running_stats(batches: Sequence[np.ndarray], momentum: float = 0.9, *,
                        unbiased: bool = False, sigma: bool = False, not_updated: bool = False,
                        wrong_axis: bool = False, keepdims_missing: bool = False,
                        transposed: bool = False, start_at_first: bool = False,
                        plain_average: bool = False, pooled: bool = False,
                        fixed_momentum: bool = False, update_flipped: bool = False
                        ) -> tuple[np.ndarray, np.ndarray] | None:
    """Running statistics after the mini-batches, in order, starting from zeros.

    None where the mistake raises (statistics over the wrong axis of mini-batches of
    different sizes cannot be added up).
    """
    stats, axis, keepdims = [], 0 if wrong_axis else 1, not keepdims_missing
    for Z in batches:
        mu = Z.mean(axis=axis, keepdims=keepdims)
        var = Z.var(axis=axis, keepdims=keepdims, ddof=int(unbiased))
        stats.append((mu.T, var.T) if transposed else (mu, np.sqrt(var) if sigma else var))
    if plain_average:
        return tuple(np.mean([s[k] for s in stats], axis=0) for k in (0, 1))
    if pooled:
        Z = np.concatenate(batches, axis=1)
        return Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
    n = batches[0].shape[0]
    running = (np.zeros((1, n) if transposed else (n, 1)),) * 2
    if start_at_first:
        running, stats = stats[0], stats[1:]
    for mu, var in stats:
        if not not_updated:
            try:
                running = update_running_stats(*running, mu, var, momentum,
                                               fixed_momentum=fixed_momentum,
                                               flipped=update_flipped)
            except ValueError:
                return None
    return running


def batchnorm_inference(Z: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                        running_mu: np.ndarray, running_var: np.ndarray, eps: float = 1e-5, *,
                        batch_stats: bool = False, eps_outside: bool = False,
                        var_as_std: bool = False, swapped: bool = False, fixed_eps: bool = False,
                        no_eps: bool = False, transposed: bool = False,
                        returns_tuple: bool = False
                        ) -> np.ndarray | tuple[np.ndarray, tuple[np.ndarray, np.ndarray]] | None:
    """gamma * (Z - running_mu) / sqrt(running_var + eps) + beta, example by example.

    None where the mistake raises (statistics used as rows of a non-square Z).
    """
    mu, var = running_mu, running_var
    if batch_stats:
        mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
    if swapped:
        gamma, beta = beta, gamma
    if transposed:
        gamma, beta, mu, var = gamma.T, beta.T, mu.T, var.T
    eps = 0.0 if no_eps else 1e-5 if fixed_eps else eps
    scale = (np.sqrt(var) + eps if eps_outside else var + eps if var_as_std
             else np.sqrt(var + eps))
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            Z_tilde = gamma * (Z - mu) / scale + beta
    except ValueError:
        return None
    return (Z_tilde, (running_mu, running_var)) if returns_tuple else Z_tilde


# ------------------------------------------------------------------ the hidden calls


def _series(rng, T):
    return 10 + 5 * np.sin(np.arange(T) / 8) + 2 * rng.normal(size=T)


@hidden(EXERCISES["test_exponentially_weighted_average"])
def ewa_calls(rng: np.random.Generator) -> list[Call]:
    """Without correction (the default): whole series, then the first value alone."""
    return [
        Call.of("50 noisy values, beta = 0.9", _series(rng, 50), 0.9),
        Call.of("one value, beta = 0.9 (v_1 = 0.1 theta_1)", rng.uniform(5, 15, size=1), 0.9),
        Call.of("200 noisy values, beta = 0.98, bias_correction=False", _series(rng, 200),
                0.98, bias_correction=False),
        Call.of("10 values, beta = 0.5", rng.normal(size=10), 0.5, bias_correction=False),
    ]


@hidden(EXERCISES["test_exponentially_weighted_average_bias_correction"])
def ewa_correction_calls(rng: np.random.Generator) -> list[Call]:
    """With bias_correction=True: a constant stays constant, the first value is theta_1."""
    return [
        Call.of("50 noisy values, beta = 0.9, corrected", _series(rng, 50), 0.9,
                bias_correction=True),
        Call.of("a constant series, beta = 0.9, corrected", np.full(20, rng.uniform(1, 9)),
                0.9, bias_correction=True),
        Call.of("one value, beta = 0.9, corrected (v_1 = theta_1)", rng.uniform(5, 15, size=1),
                0.9, bias_correction=True),
        Call.of("200 noisy values, beta = 0.98, corrected", _series(rng, 200), 0.98,
                bias_correction=True),
    ]


def _stats(rng, n):
    """(mu, var) of a mini-batch: means around 0, variances in [0.2, 5], none equal to 1."""
    return rng.normal(size=(n, 1)) * 2, rng.uniform(0.2, 5.0, size=(n, 1))


@hidden(EXERCISES["test_update_running_stats"])
def update_calls(rng: np.random.Generator) -> list[Call]:
    """ONE update, from 0 and from earlier values, with the default and a given momentum."""
    n = 4
    zeros = (np.zeros((n, 1)), np.zeros((n, 1)))
    return [
        Call.of("one update from 0 (momentum 0.9 by default)", *zeros, *_stats(rng, n)),
        Call.of("one update from earlier running values", *_stats(rng, n),
                *_stats(rng, n)),
        Call.of("one update with momentum=0.8", *_stats(rng, 3), *_stats(rng, 3),
                momentum=0.8),
        Call.of("one update with momentum=0.99", *_stats(rng, 5), *_stats(rng, 5),
                momentum=0.99),
    ]


def _batches(rng, n, sizes):
    return [rng.normal(size=(n, 1)) + rng.uniform(0.5, 2.5, size=(n, 1)) * rng.normal(size=(n, m))
            for m in sizes]


@hidden(EXERCISES["test_track_running_stats"])
def track_calls(rng: np.random.Generator) -> list[Call]:
    """Running statistics over mini-batches: biased variances, updated, EWA from 0."""
    return [
        Call.of("4 mini-batches of 8 examples of 5 units", _batches(rng, 5, [8] * 4)),
        Call.of("3 square mini-batches (4 units, 4 examples)", _batches(rng, 4, [4] * 3)),
        Call.of("5 mini-batches of 3 to 10 examples, momentum=0.5",
                _batches(rng, 3, [3, 10, 5, 7, 4]), momentum=0.5),
        Call.of("one mini-batch of 6 examples of 3 units", _batches(rng, 3, [6])),
    ]


def _layer(rng, n):
    gamma = rng.uniform(0.5, 2.0, size=(n, 1)) * rng.choice([-1.0, 1.0], size=(n, 1))
    return (gamma, rng.normal(size=(n, 1)), rng.normal(size=(n, 1)),
            rng.uniform(0.3, 4.0, size=(n, 1)))


@hidden(EXERCISES["test_batchnorm_inference"])
def inference_calls(rng: np.random.Generator) -> list[Call]:
    """Running statistics on any batch: one example, non-square, square, variance below eps."""
    cases = []
    for n, m in [(3, 1), (4, 6), (5, 5), (2, 1)]:
        gamma, beta, mu, var = _layer(rng, n)
        Z = mu + np.sqrt(var) * rng.normal(size=(n, m)) + 0.5
        label = f"one example of {n} units (m = 1)" if m == 1 else f"Z of shape ({n}, {m})"
        cases.append(Call.of(label, Z, gamma, beta, mu, var))
    gamma, beta, mu, _ = _layer(rng, 3)
    cases.append(Call.of("running variances below eps", mu + 1e-3 * rng.normal(size=(3, 4)),
                         gamma, beta, mu, np.array([[1e-7], [2e-6], [0.0]])))
    gamma, beta, mu, var = _layer(rng, 3)
    cases.append(Call.of("eps = 0.1 passed as an argument", mu + rng.normal(size=(3, 2)),
                         gamma, beta, mu, var, eps=0.1))
    return cases


