"""Grader cases for 03_batchnorm_test_time.

The functions return plain arrays, so the cases call them by name. Conventions
are judged after ONE step wherever a long run would hide them: an EWA or a
running average converges to the same value whichever weight goes to the old
value, but its first step differs.
"""

import numpy as np

from autograder.checks.case import Case
from autograder.reference import batchnorm_test_time as ref
from course_lib.checks.batchnorm_derivation import mismatch
from course_lib.checks.batchnorm_test_time import RTOL


def _series(rng, T):
    return 10 + 5 * np.sin(np.arange(T) / 8) + 2 * rng.normal(size=T)


def _ewa_case(name, values, beta, bias_correction=None):
    asked = bool(bias_correction)
    expected = ref.exponentially_weighted_average(values, beta, asked)
    known = [(ref.ewa_variant(kind, values, beta, asked), sentence)
             for kind, sentence in ref.EWA_MISTAKES.items()]

    def judge(v):
        shape = np.shape(v)
        if shape != values.shape:
            return (f"the result should have one value per input value, shape {values.shape}, "
                    f"not {shape}")
        return mismatch(v, expected, name="v", rtol=RTOL, known=known)

    kwargs = {} if bias_correction is None else {"bias_correction": bias_correction}
    return Case(name, "exponentially_weighted_average", (values, beta), judge, kwargs)


def ewa_cases(rng):
    """Without correction (the default): whole series, then the first value alone."""
    return [
        _ewa_case("50 noisy values, beta = 0.9", _series(rng, 50), 0.9),
        _ewa_case("one value, beta = 0.9 (v_1 = 0.1 theta_1)", rng.uniform(5, 15, size=1), 0.9),
        _ewa_case("200 noisy values, beta = 0.98, bias_correction=False", _series(rng, 200),
                  0.98, False),
        _ewa_case("10 values, beta = 0.5", rng.normal(size=10), 0.5, False),
    ]


def ewa_correction_cases(rng):
    """With bias_correction=True: a constant stays constant, the first value is theta_1."""
    return [
        _ewa_case("50 noisy values, beta = 0.9, corrected", _series(rng, 50), 0.9, True),
        _ewa_case("a constant series, beta = 0.9, corrected", np.full(20, rng.uniform(1, 9)),
                  0.9, True),
        _ewa_case("one value, beta = 0.9, corrected (v_1 = theta_1)", rng.uniform(5, 15, size=1),
                  0.9, True),
        _ewa_case("200 noisy values, beta = 0.98, corrected", _series(rng, 200), 0.98, True),
    ]


def _pair_judge(expected, known):
    """Judge a (running_mu, running_var) pair; `known` = [(pair, sentence)]."""
    def judge(result):
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            return "the function should return a pair (running_mu, running_var)"
        for i, name in enumerate(("running_mu", "running_var")):
            problem = mismatch(result[i], expected[i], name=name, rtol=RTOL,
                               known=[(pair[i] if pair is not None else None, sentence)
                                      for pair, sentence in known])
            if problem:
                return problem
        return None
    return judge


def _stats(rng, n):
    """(mu, var) of a mini-batch: means around 0, variances in [0.2, 5], none equal to 1."""
    return rng.normal(size=(n, 1)) * 2, rng.uniform(0.2, 5.0, size=(n, 1))


def _update_case(name, old, batch, **kwargs):
    expected = ref.update_running_stats(*old, *batch, **kwargs)
    known = [(ref.update_variant(kind, *old, *batch, **kwargs), sentence)
             for kind, sentence in ref.UPDATE_MISTAKES.items()]
    return Case(name, "update_running_stats", (*old, *batch), _pair_judge(expected, known),
                kwargs)


def update_cases(rng):
    """ONE update, from 0 and from earlier values, with the default and a given momentum."""
    n = 4
    zeros = (np.zeros((n, 1)), np.zeros((n, 1)))
    return [
        _update_case("one update from 0 (momentum 0.9 by default)", zeros, _stats(rng, n)),
        _update_case("one update from earlier running values", _stats(rng, n), _stats(rng, n)),
        _update_case("one update with momentum=0.8", _stats(rng, 3), _stats(rng, 3),
                     momentum=0.8),
        _update_case("one update with momentum=0.99", _stats(rng, 5), _stats(rng, 5),
                     momentum=0.99),
    ]


def _batches(rng, n, sizes):
    return [rng.normal(size=(n, 1)) + rng.uniform(0.5, 2.5, size=(n, 1)) * rng.normal(size=(n, m))
            for m in sizes]


def _track_case(name, batches, **kwargs):
    expected = ref.track_running_stats(batches, **kwargs)
    known = [(ref.track_variant(kind, batches, **kwargs), sentence)
             for kind, sentence in ref.TRACK_MISTAKES.items()]
    return Case(name, "track_running_stats", (batches,), _pair_judge(expected, known), kwargs)


def track_cases(rng):
    """Running statistics over mini-batches: biased variances, updated, EWA from 0."""
    return [
        _track_case("one mini-batch of 6 examples of 3 units", _batches(rng, 3, [6])),
        _track_case("4 mini-batches of 8 examples of 5 units", _batches(rng, 5, [8] * 4)),
        _track_case("3 square mini-batches (4 units, 4 examples)", _batches(rng, 4, [4] * 3)),
        _track_case("5 mini-batches of 3 to 10 examples, momentum=0.5",
                    _batches(rng, 3, [3, 10, 5, 7, 4]), momentum=0.5),
    ]


def _inference_case(name, Z, gamma, beta, running_mu, running_var, eps=None):
    args = (Z, gamma, beta, running_mu, running_var)
    e = 1e-5 if eps is None else eps
    expected = ref.batchnorm_inference(*args, e)
    known = [(ref.inference_variant(kind, *args, e), sentence)
             for kind, sentence in ref.INFERENCE_MISTAKES.items()]

    def judge(Z_tilde):
        if Z.shape[1] == 1 and np.shape(Z_tilde) == beta.shape and np.allclose(Z_tilde, beta):
            return ("one example alone (m = 1) gives exactly beta: you normalised with the "
                    "batch's own statistics (mean = the example, variance 0); use running_mu "
                    "and running_var")
        return mismatch(Z_tilde, expected, name="Z_tilde", rtol=RTOL, known=known)

    return Case(name, "batchnorm_inference", args if eps is None else (*args, eps), judge)


def _layer(rng, n):
    gamma = rng.uniform(0.5, 2.0, size=(n, 1)) * rng.choice([-1.0, 1.0], size=(n, 1))
    return (gamma, rng.normal(size=(n, 1)), rng.normal(size=(n, 1)),
            rng.uniform(0.3, 4.0, size=(n, 1)))


def inference_cases(rng):
    """Running statistics on any batch: non-square, square, one example, variance below eps."""
    cases = []
    for n, m in [(3, 1), (4, 6), (5, 5), (2, 1)]:
        gamma, beta, mu, var = _layer(rng, n)
        Z = mu + np.sqrt(var) * rng.normal(size=(n, m)) + 0.5
        label = f"one example of {n} units (m = 1)" if m == 1 else f"Z of shape ({n}, {m})"
        cases.append(_inference_case(label, Z, gamma, beta, mu, var))
    gamma, beta, mu, _ = _layer(rng, 3)
    tiny = np.array([[1e-7], [2e-6], [0.0]])
    cases.append(_inference_case("running variances below eps", mu + 1e-3 * rng.normal(
        size=(3, 4)), gamma, beta, mu, tiny))
    gamma, beta, mu, var = _layer(rng, 3)
    cases.append(_inference_case("eps = 0.1 passed as an argument", mu + rng.normal(size=(3, 2)),
                                 gamma, beta, mu, var, eps=0.1))
    return cases


CHECKS = {
    "test_exponentially_weighted_average": ewa_cases,
    "test_exponentially_weighted_average_bias_correction": ewa_correction_cases,
    "test_update_running_stats": update_cases,
    "test_track_running_stats": track_cases,
    "test_batchnorm_inference": inference_cases,
}
