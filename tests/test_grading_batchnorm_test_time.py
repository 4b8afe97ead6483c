"""Grading 03_batchnorm_test_time: each known mistake loses its points, right variants keep them.

Every submission is the master with solution cells replaced. Conventions (the EWA's weights,
momentum) are judged after one step, where a long warm-up would hide them. The class (`RIGHT`,
`MISTAKES`) is graded in process and end to end by tests/test_grading_classes.py.
"""

import numpy as np

from tests.helpers import (
    solution_sources,
)

A = "03_batchnorm_test_time"


def changed(grade_id, *replacements):
    """The master's solution cell `grade_id` with each (old, new) of `replacements` made."""
    source = solution_sources(A)[grade_id]
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    return {grade_id: source}


EWA = "exponentially_weighted_average"
EWA_STEP = "v = beta * v + (1 - beta) * values[t - 1]"
EWA_OUT = "v / (1 - beta ** t) if bias_correction else v"
UPDATE_MU = "momentum * running_mu + (1 - momentum) * mu"
UPDATE_VAR = "momentum * running_var + (1 - momentum) * var"
TRACK_VAR = "var = Z.var(axis=1, keepdims=True)"

RIGHT = {
    "ewa_closed_form": {EWA: (
        "def exponentially_weighted_average(values, beta, bias_correction=False):\n"
        "    theta = np.asarray(values, dtype=float)\n"
        "    t = np.arange(1, theta.size + 1)\n"
        "    v = (1 - beta) * beta ** t * np.cumsum(theta * beta ** -t)\n"
        "    return v / (1 - beta ** t) if bias_correction else v\n")},
    "track_inline_without_update_function": {"track_running_stats": (
        "def track_running_stats(batches, momentum=0.9):\n"
        "    rm = rv = 0.0\n"
        "    for Z in batches:\n"
        "        m = Z.shape[1]\n"
        "        mu = Z.sum(axis=1, keepdims=True) / m\n"
        "        rm = momentum * rm + (1 - momentum) * mu\n"
        "        var = ((Z - mu) ** 2).sum(axis=1, keepdims=True) / m\n"
        "        rv = momentum * rv + (1 - momentum) * var\n"
        "    return rm, rv\n")},
    "inference_folded_into_scale_and_shift": {"batchnorm_inference": (
        "def batchnorm_inference(Z, gamma, beta, running_mu, running_var, eps=1e-5):\n"
        "    scale = gamma / np.sqrt(running_var + eps)\n"
        "    return scale * Z + (beta - scale * running_mu)\n")},
}

# student -> (solution cells, {grade_id that must fail: words its message must contain or None})
MISTAKES = {
    "ewa_weights_flipped": (
        changed(EWA, (EWA_STEP, "v = (1 - beta) * v + beta * values[t - 1]")),
        {"test_exponentially_weighted_average": "weights are swapped",
         "test_exponentially_weighted_average_bias_correction": "weights are swapped"}),
    "ewa_starts_at_first_value": (
        changed(EWA, ("v = 0.0", "v = values[0]")),
        {"test_exponentially_weighted_average": "v_0 = 0",
         "test_exponentially_weighted_average_bias_correction": "v_0 = 0"}),
    "ewa_bias_correction_missing": (
        changed(EWA, (EWA_OUT, "v")),
        {"test_exponentially_weighted_average_bias_correction": "bias correction is missing"}),
    "ewa_bias_correction_when_not_asked": (
        changed(EWA, (EWA_OUT, "v / (1 - beta ** t)")),
        {"test_exponentially_weighted_average": "although bias_correction is False"}),
    "update_momentum_convention_flipped": (
        changed("update_running_stats",
                (UPDATE_MU, "(1 - momentum) * running_mu + momentum * mu"),
                (UPDATE_VAR, "(1 - momentum) * running_var + momentum * var")),
        {"test_update_running_stats": "flipped", "test_track_running_stats": "flipped"}),
    "update_sigma_instead_of_variance": (
        changed("update_running_stats",
                (UPDATE_VAR, "momentum * running_var + (1 - momentum) * np.sqrt(var)")),
        {"test_update_running_stats": "sqrt(var)",
         "test_track_running_stats": "standard deviations"}),
    "update_running_stats_never_updated": (
        changed("update_running_stats", ("running_mu = momentum", "new_mu = momentum"),
                ("running_var = momentum", "new_var = momentum")),
        {"test_update_running_stats": "did not change", "test_track_running_stats": "still 0"}),
    "track_unbiased_running_variance": (
        changed("track_running_stats", (TRACK_VAR, "var = Z.var(axis=1, keepdims=True, ddof=1)")),
        {"test_track_running_stats": "unbiased"}),
    "track_sigma_instead_of_variance": (
        changed("track_running_stats", (TRACK_VAR, "var = Z.std(axis=1, keepdims=True)")),
        {"test_track_running_stats": "standard deviations"}),
    "track_running_stats_never_updated": (
        changed("track_running_stats",
                ("running_mu, running_var = update_running_stats(", "update_running_stats(")),
        {"test_track_running_stats": "still 0"}),
    "inference_uses_batch_statistics": (
        {"batchnorm_inference": (
            "def batchnorm_inference(Z, gamma, beta, running_mu, running_var, eps=1e-5):\n"
            "    mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)\n"
            "    return gamma * (Z - mu) / np.sqrt(var + eps) + beta\n")},
        {"test_batchnorm_inference": "exactly beta"}),
    "inference_eps_outside_sqrt": (
        changed("batchnorm_inference",
                ("np.sqrt(running_var + eps)", "(np.sqrt(running_var) + eps)")),
        {"test_batchnorm_inference": "it belongs inside"}),
}


def test_the_momentum_convention_shows_after_one_update_not_after_a_warm_up():
    """Why the cases check one update: after many, both conventions agree."""
    sources, _ = MISTAKES["update_momentum_convention_flipped"]
    namespace = {"np": np}
    exec(sources["update_running_stats"], namespace)
    flipped = namespace["update_running_stats"]
    mu, var = np.full((2, 1), 3.0), np.full((2, 1), 4.0)
    rm, rv = np.zeros((2, 1)), np.zeros((2, 1))
    for _ in range(200):
        rm, rv = flipped(rm, rv, mu, var)
    assert np.allclose(rm, 3.0) and np.allclose(rv, 4.0)
    assert not np.allclose(flipped(np.zeros((2, 1)), np.zeros((2, 1)), mu, var)[0], 0.3)


FEEDBACK = ("inference_uses_batch_statistics", "exactly beta")
"""A student whose feedback page must name the mistake (tests/test_grading_classes.py)."""
