"""Grader cases for 03_batchnorm_test_time.

The functions return plain data, so the cases call them by name. Each judge is the visible
checks' `judge`, given the reference's result and every named mistake's result on the
case's inputs (`autograder.reference.batchnorm_test_time.MISTAKES`), with the published
hints and tolerance. Conventions are judged after ONE step wherever a long run would hide
them: an EWA or a running average converges to the same value whichever weight goes to the
old value, but its first step differs.
"""

import numpy as np

from autograder.checks.case import Case
from autograder.reference import batchnorm_test_time as ref
from course_lib.checks.batchnorm_test_time import judge


def _case(name, function, *args, **kwargs):
    expected = ref.result(function, args, kwargs)
    known = ref.mistake_results(function, args, kwargs)
    return Case(name, function, args,
                lambda value: judge(value, expected, known, function=function), kwargs)


def _series(rng, T):
    return 10 + 5 * np.sin(np.arange(T) / 8) + 2 * rng.normal(size=T)


EWA = "exponentially_weighted_average"


def ewa_cases(rng):
    """Without correction (the default): whole series, then the first value alone."""
    return [
        _case("50 noisy values, beta = 0.9", EWA, _series(rng, 50), 0.9),
        _case("one value, beta = 0.9 (v_1 = 0.1 theta_1)", EWA, rng.uniform(5, 15, size=1), 0.9),
        _case("200 noisy values, beta = 0.98, bias_correction=False", EWA, _series(rng, 200),
              0.98, bias_correction=False),
        _case("10 values, beta = 0.5", EWA, rng.normal(size=10), 0.5, bias_correction=False),
    ]


def ewa_correction_cases(rng):
    """With bias_correction=True: a constant stays constant, the first value is theta_1."""
    return [
        _case("50 noisy values, beta = 0.9, corrected", EWA, _series(rng, 50), 0.9,
              bias_correction=True),
        _case("a constant series, beta = 0.9, corrected", EWA, np.full(20, rng.uniform(1, 9)),
              0.9, bias_correction=True),
        _case("one value, beta = 0.9, corrected (v_1 = theta_1)", EWA,
              rng.uniform(5, 15, size=1), 0.9, bias_correction=True),
        _case("200 noisy values, beta = 0.98, corrected", EWA, _series(rng, 200), 0.98,
              bias_correction=True),
    ]


def _stats(rng, n):
    """(mu, var) of a mini-batch: means around 0, variances in [0.2, 5], none equal to 1."""
    return rng.normal(size=(n, 1)) * 2, rng.uniform(0.2, 5.0, size=(n, 1))


def update_cases(rng):
    """ONE update, from 0 and from earlier values, with the default and a given momentum."""
    n, update = 4, "update_running_stats"
    zeros = (np.zeros((n, 1)), np.zeros((n, 1)))
    return [
        _case("one update from 0 (momentum 0.9 by default)", update, *zeros, *_stats(rng, n)),
        _case("one update from earlier running values", update, *_stats(rng, n),
              *_stats(rng, n)),
        _case("one update with momentum=0.8", update, *_stats(rng, 3), *_stats(rng, 3),
              momentum=0.8),
        _case("one update with momentum=0.99", update, *_stats(rng, 5), *_stats(rng, 5),
              momentum=0.99),
    ]


def _batches(rng, n, sizes):
    return [rng.normal(size=(n, 1)) + rng.uniform(0.5, 2.5, size=(n, 1)) * rng.normal(size=(n, m))
            for m in sizes]


def track_cases(rng):
    """Running statistics over mini-batches: biased variances, updated, EWA from 0."""
    track = "track_running_stats"
    return [
        _case("4 mini-batches of 8 examples of 5 units", track, _batches(rng, 5, [8] * 4)),
        _case("3 square mini-batches (4 units, 4 examples)", track, _batches(rng, 4, [4] * 3)),
        _case("5 mini-batches of 3 to 10 examples, momentum=0.5", track,
              _batches(rng, 3, [3, 10, 5, 7, 4]), momentum=0.5),
        _case("one mini-batch of 6 examples of 3 units", track, _batches(rng, 3, [6])),
    ]


def _layer(rng, n):
    gamma = rng.uniform(0.5, 2.0, size=(n, 1)) * rng.choice([-1.0, 1.0], size=(n, 1))
    return (gamma, rng.normal(size=(n, 1)), rng.normal(size=(n, 1)),
            rng.uniform(0.3, 4.0, size=(n, 1)))


def inference_cases(rng):
    """Running statistics on any batch: one example, non-square, square, variance below eps."""
    cases, inference = [], "batchnorm_inference"
    for n, m in [(3, 1), (4, 6), (5, 5), (2, 1)]:
        gamma, beta, mu, var = _layer(rng, n)
        Z = mu + np.sqrt(var) * rng.normal(size=(n, m)) + 0.5
        label = f"one example of {n} units (m = 1)" if m == 1 else f"Z of shape ({n}, {m})"
        cases.append(_case(label, inference, Z, gamma, beta, mu, var))
    gamma, beta, mu, _ = _layer(rng, 3)
    cases.append(_case("running variances below eps", inference,
                       mu + 1e-3 * rng.normal(size=(3, 4)), gamma, beta, mu,
                       np.array([[1e-7], [2e-6], [0.0]])))
    gamma, beta, mu, var = _layer(rng, 3)
    cases.append(_case("eps = 0.1 passed as an argument", inference,
                       mu + rng.normal(size=(3, 2)), gamma, beta, mu, var, eps=0.1))
    return cases


CHECKS = {
    "test_exponentially_weighted_average": ewa_cases,
    "test_exponentially_weighted_average_bias_correction": ewa_correction_cases,
    "test_update_running_stats": update_cases,
    "test_track_running_stats": track_cases,
    "test_batchnorm_inference": inference_cases,
}
