"""Grading 02_batchnorm_derivation: each known mistake loses its points, right variants keep them.

Every submission is the master with its two solution cells replaced. The mistakes are those of
issue 4; the right variants are a staged backward pass along the computation graph, a compact
one-line one, the equivalent mutant that drops the (zero) var term from dmu, and a forward pass that
computes the variance in one pass. Backward passes built from course_lib's numerical tools
(`numerical_layer`, `numerical_gradient`) must lose every gradient cell, on 200 seeds. The class
(`RIGHT`, `MISTAKES`) is graded in process and end to end by tests/test_grading_classes.py.
"""

import contextlib
import io

import numpy as np

from autograder.case import case_rng, judge_results
from autograder.exercises import checks_for
from course_lib import probe
from course_lib.checking import CheckFailed
from course_lib.checks.batchnorm_derivation import EXERCISES
from tests.helpers import (
    in_process_failures,
    solution_sources,
)

A = "02_batchnorm_derivation"
FULL = {"test_batchnorm_forward": 2, "test_batchnorm_forward_eps": 1,
        "test_batchnorm_backward": 2, "test_batchnorm_backward_params": 1,
        "test_batchnorm_backward_tiny_variance": 1}


def forward(mu="Z.mean(axis=1, keepdims=True)", var="((Z - mu) ** 2).mean(axis=1, keepdims=True)",
            std="np.sqrt(var + eps)", out="gamma * Z_norm + beta"):
    """A compact forward pass (the master's cache) with one of its lines changed."""
    return (f"def batchnorm_forward(Z, gamma, beta, eps=1e-5):\n"
            f"    mu = {mu}\n    var = {var}\n    std = {std}\n"
            f"    Z_norm = (Z - mu) / std\n"
            f"    return {out}, (Z, mu, var, eps, Z_norm, gamma)\n")


STAGED_FORWARD = """def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    m = Z.shape[1]
    mu = np.sum(Z, axis=1, keepdims=True) / m
    Zc = Z - mu
    var = np.sum(Zc ** 2, axis=1, keepdims=True) / m
    std = np.sqrt(var + eps)
    inv = 1.0 / std
    Z_norm = Zc * inv
    return gamma * Z_norm + beta, (Z, mu, Zc, var, eps, std, inv, Z_norm, gamma)
"""

STAGED_LINES = {
    "dbeta": "dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)",
    "dgamma": "dgamma = np.sum(dZ_tilde * Z_norm, axis=1, keepdims=True)",
    "dvar": "dvar = np.sum(dZ_norm * Zc, axis=1, keepdims=True) * -0.5 * (var + eps) ** -1.5",
    "dmu": ("dmu = np.sum(-dZ_norm * inv, axis=1, keepdims=True)"
            " + dvar * np.mean(-2.0 * Zc, axis=1, keepdims=True)"),
    "dZ": "dZ = dZ_norm * inv + dvar * 2.0 * Zc / m + dmu / m",
    "return": "return dZ, dgamma, dbeta",
}


def staged(**changed):
    """Forward and backward along the computation graph, with some backward lines changed."""
    lines = {**STAGED_LINES, **changed}
    body = "\n".join(f"    {lines[k]}" for k in ("dbeta", "dgamma"))
    body += "\n    dZ_norm = dZ_tilde * gamma\n"
    body += "\n".join(f"    {lines[k]}" for k in ("dvar", "dmu", "dZ", "return"))
    backward = ("def batchnorm_backward(dZ_tilde, cache):\n"
                "    Z, mu, Zc, var, eps, std, inv, Z_norm, gamma = cache\n"
                f"    m = Z.shape[1]\n{body}\n")
    return {"batchnorm_forward": STAGED_FORWARD, "batchnorm_backward": backward}


COMPACT_ONE_LINE = {
    "batchnorm_forward": (
        "def batchnorm_forward(Z, gamma, beta, eps=1e-5):\n"
        "    ivar = 1 / np.sqrt(Z.var(1, keepdims=True) + eps)\n"
        "    xhat = (Z - Z.mean(1, keepdims=True)) * ivar\n"
        "    return gamma * xhat + beta, {'xhat': xhat, 'gamma': gamma, 'ivar': ivar}\n"),
    "batchnorm_backward": (
        "def batchnorm_backward(dZ_tilde, cache):\n"
        "    x, g, iv, N = cache['xhat'], cache['gamma'], cache['ivar'], dZ_tilde.shape[1]\n"
        "    return (g * iv / N * (N * dZ_tilde - dZ_tilde.sum(1, keepdims=True)"
        " - x * (dZ_tilde * x).sum(1, keepdims=True)),"
        " (dZ_tilde * x).sum(1, keepdims=True), dZ_tilde.sum(1, keepdims=True))\n"),
}

ONE_PASS_VARIANCE = {
    "batchnorm_forward": forward(var="(Z ** 2).mean(axis=1, keepdims=True) - mu ** 2"),
    "batchnorm_backward": COMPACT_ONE_LINE["batchnorm_backward"].replace(
        "cache['xhat'], cache['gamma'], cache['ivar']",
        "cache[4], cache[5], 1 / np.sqrt(cache[2] + cache[3])"),
}

RIGHT = {
    "staged_backward_via_the_graph": staged(),
    # var = E[Z**2] - mu**2 in the forward pass: rounding moves dZ by up to 4e-14 on the
    # tiny-variance units (means near 0), within RTOL_TINY_GRADIENT
    "one_pass_variance": ONE_PASS_VARIANCE,
    "compact_one_line_backward": COMPACT_ONE_LINE,
    # sum(Z - mu) = 0, so the var term of dmu is 0: dropping it changes nothing
    "equivalent_mutant_dmu_without_var_term": staged(
        dmu="dmu = np.sum(-dZ_norm * inv, axis=1, keepdims=True)"),
}

NUMERICAL_FORWARD = """from course_lib.gradcheck import numerical_gradient
from course_lib.numerical_layer import numerical_layer


def _output(Z, gamma, beta, eps):
    mu = Z.mean(axis=1, keepdims=True)
    var = ((Z - mu) ** 2).mean(axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(var + eps) + beta


def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    return _output(Z, gamma, beta, eps), (Z.copy(), gamma.copy(), beta.copy(), eps)
"""

NUMERICAL = {
    # the issue's: the backward pass from course_lib.numerical_layer around a right forward pass
    "backward_from_numerical_layer": {
        "batchnorm_forward": NUMERICAL_FORWARD,
        "batchnorm_backward": """def batchnorm_backward(dZ_tilde, cache):
    Z, gamma, beta, eps = cache
    _, backward = numerical_layer(lambda Z, g, b: _output(Z, g, b, eps))
    return backward(dZ_tilde, (Z, (gamma, beta)))
"""},
    "backward_from_numerical_gradient": {
        "batchnorm_forward": NUMERICAL_FORWARD,
        "batchnorm_backward": """def batchnorm_backward(dZ_tilde, cache):
    Z, gamma, beta, eps = cache
    return (numerical_gradient(lambda V: np.sum(dZ_tilde * _output(V, gamma, beta, eps)), Z),
            numerical_gradient(lambda V: np.sum(dZ_tilde * _output(Z, V, beta, eps)), gamma),
            numerical_gradient(lambda V: np.sum(dZ_tilde * _output(Z, gamma, V, eps)), beta))
"""},
}
"""Backward passes that are not derived: they must lose every gradient cell."""

LOOKS_NUMERICAL = "as a numerical (finite-difference) gradient would: derive it analytically"
BACKWARD_CELLS = ("test_batchnorm_backward", "test_batchnorm_backward_params",
                  "test_batchnorm_backward_tiny_variance")

FORWARD_FAILS = {"test_batchnorm_backward": "batchnorm_forward",
                 "test_batchnorm_backward_params": "batchnorm_forward",
                 "test_batchnorm_backward_tiny_variance": None}

# student -> (solution cells, {grade_id that must fail: words its message must contain or None})
MISTAKES = {
    "forward_statistics_over_units": (
        {"batchnorm_forward": forward(mu="Z.mean(axis=0, keepdims=True)",
                                      var="((Z - mu) ** 2).mean(axis=0, keepdims=True)")},
        {"test_batchnorm_forward": "over the units (axis 0)", "test_batchnorm_forward_eps": None,
         **FORWARD_FAILS}),
    "forward_statistics_without_keepdims": (  # broadcasts along the wrong axis when n == m
        {"batchnorm_forward": forward(mu="Z.mean(axis=1)",
                                      var="((Z - mu) ** 2).mean(axis=1)")},
        {"test_batchnorm_forward": "keepdims=True", "test_batchnorm_forward_eps": None,
         **FORWARD_FAILS}),
    "forward_unbiased_variance": (
        {"batchnorm_forward": forward(var="Z.var(axis=1, keepdims=True, ddof=1)")},
        {"test_batchnorm_forward": "m - 1", "test_batchnorm_forward_eps": None,
         **FORWARD_FAILS}),
    "forward_eps_outside_sqrt": (
        {"batchnorm_forward": forward(std="np.sqrt(var) + eps")},
        {"test_batchnorm_forward_eps": "outside the square root",
         "test_batchnorm_backward_tiny_variance": "batchnorm_forward"}),
    "forward_eps_omitted": (
        {"batchnorm_forward": forward(std="np.sqrt(var)")},
        {"test_batchnorm_forward_eps": "nan",
         "test_batchnorm_backward_tiny_variance": "batchnorm_forward"}),
    "forward_gamma_beta_swapped": (
        {"batchnorm_forward": forward(out="beta * Z_norm + gamma")},
        {"test_batchnorm_forward": "swapped", "test_batchnorm_forward_eps": "swapped",
         **FORWARD_FAILS}),
    "backward_dmu_path_dropped": (
        staged(dZ="dZ = dZ_norm * inv + dvar * 2.0 * Zc / m"),
        {"test_batchnorm_backward": "path through mu",
         "test_batchnorm_backward_tiny_variance": "path through mu"}),
    "backward_dvar_path_dropped": (
        staged(dZ="dZ = dZ_norm * inv + dmu / m"),
        {"test_batchnorm_backward": "path through var",
         "test_batchnorm_backward_tiny_variance": "path through var"}),
    "backward_dmu_divided_by_m_twice": (
        staged(dmu="dmu = np.sum(-dZ_norm * inv, axis=1, keepdims=True) / m"),
        {"test_batchnorm_backward": "divided by m twice",
         "test_batchnorm_backward_tiny_variance": "divided by m twice"}),
    "backward_dgamma_dbeta_swapped": (
        staged(**{"return": "return dZ, dbeta, dgamma"}),
        {"test_batchnorm_backward_params": "swapped"}),
    "backward_dgamma_not_summed": (
        staged(dgamma="dgamma = dZ_tilde * Z_norm"),
        {"test_batchnorm_backward_params": "dgamma has shape"}),
    "backward_dbeta_not_summed": (
        staged(dbeta="dbeta = dZ_tilde.copy()"),
        {"test_batchnorm_backward_params": "dbeta has shape"}),
    "backward_var_instead_of_var_plus_eps": (
        staged(dvar="dvar = np.sum(dZ_norm * Zc, axis=1, keepdims=True) * -0.5 * var ** -1.5",
               dmu="dmu = np.sum(-dZ_norm / np.sqrt(var), axis=1, keepdims=True)",
               dZ="dZ = dZ_norm / np.sqrt(var) + dvar * 2.0 * Zc / m + dmu / m"),
        {"test_batchnorm_backward_tiny_variance": "var + eps"}),
    **{student: (sources, dict.fromkeys(BACKWARD_CELLS, LOOKS_NUMERICAL))
       for student, sources in NUMERICAL.items()},
    "backward_m_minus_1_in_dvar_path": (
        staged(dZ="dZ = dZ_norm * inv + dvar * 2.0 * Zc / (m - 1) + dmu / m"),
        {"test_batchnorm_backward": "m - 1", "test_batchnorm_backward_tiny_variance": "m - 1"}),
}


def gradient_cell_failures(namespaces, seed):
    """{student: {gradient cell: verdict}} of the cells that fail, each cell's cases drawn once."""
    failed = {student: {} for student in namespaces}
    for grade_id in BACKWARD_CELLS:
        cases = checks_for(A)[grade_id](case_rng(seed, grade_id))
        for student, namespace in namespaces.items():
            records = [probe.call_one(case.request(), namespace) for case in cases]
            verdict = judge_results(cases, records)
            if not verdict.ok:
                failed[student][grade_id] = verdict
    return failed


def solved(sources):
    namespace = {"np": np}
    for source in {**solution_sources(A), **sources}.values():
        exec(source, namespace)
    return namespace


MANY_SEEDS = 200


def test_derived_gradients_pass_and_numerical_ones_fail_on_every_seed():
    """On 200 seeds: every right backward pass keeps the three gradient cells at the analytic
    tolerance, and every numerical one loses all three, named as numerical."""
    namespaces = {student: solved(sources) for student, sources in {**RIGHT, **NUMERICAL}.items()}
    namespaces["master"] = solved({})
    with np.errstate(all="ignore"):
        for seed in range(MANY_SEEDS):
            failed = gradient_cell_failures(namespaces, seed)
            for student in [*RIGHT, "master"]:
                assert failed[student] == {}, (seed, student, failed[student])
            for student in NUMERICAL:
                assert set(failed[student]) == set(BACKWARD_CELLS), (seed, student)
                for verdict in failed[student].values():
                    assert LOOKS_NUMERICAL in verdict.message, (seed, student, verdict.message)


STATUSES = ("wrong_answer", "exception")
"""What a failing cell may say: a mistake, or a student's forward pass raising inside it."""
FEEDBACK = ("backward_var_instead_of_var_plus_eps", "var + eps")
"""A student whose feedback page must name the mistake (tests/test_grading_classes.py)."""


def visible_and_graded(sources, seed=0):
    """({grade_id: visible message or None}, {grade_id: the grader's message}) of a submission."""
    namespace = solved(sources)
    visible = {}
    for grade_id, exercise in EXERCISES.items():
        try:
            with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
                exercise.check(*(namespace[f] for f in exercise.notebook_functions))
            visible[grade_id] = None
        except CheckFailed as failure:
            visible[grade_id] = str(failure)
    with np.errstate(all="ignore"):
        graded = {g: v.message for g, v in in_process_failures(A, sources, seed).items()}
    return visible, graded


def test_a_lost_keepdims_is_named_by_the_statistic_and_its_shape():
    visible, graded = visible_and_graded(MISTAKES["forward_statistics_without_keepdims"][0])
    assert "mu has shape (3,), should be (3, 1)" in visible["test_batchnorm_forward"]
    assert "mu has shape (" in graded["test_batchnorm_forward_eps"]
    assert "broadcast" not in visible["test_batchnorm_forward"] + str(graded)


def test_the_var_plus_eps_remark_appears_only_when_dz_is_that_mistake():
    half = {"batchnorm_backward": (
        "def batchnorm_backward(dZ_tilde, cache):\n"
        "    dZ, dgamma, dbeta = _reference(dZ_tilde, cache)\n"
        "    return 1.5 * dZ, dgamma, dbeta\n"
        "from autograder.reference.batchnorm_derivation import batchnorm_backward as _reference\n")}
    visible, graded = visible_and_graded(half)
    messages = [visible["test_batchnorm_backward_tiny_variance"],
                graded["test_batchnorm_backward_tiny_variance"]]
    assert all(m and "dZ" in m and "var + eps" not in m for m in messages), messages


def test_a_forward_that_changes_its_input_is_named_so_by_every_cell():
    """Not as a wrong forward pass to fix first: the forward checks are not green either."""
    changing = {"batchnorm_forward": forward().replace(
        "    mu = ", "    Z -= Z.mean(axis=1, keepdims=True)\n    mu = ", 1)}
    visible, graded = visible_and_graded(changing)
    sentence = "batchnorm_forward modified its argument Z in place"
    assert set(graded) == set(FULL)
    for message in [*visible.values(), *graded.values()]:
        assert sentence in message and "fix it first" not in message, message


def test_a_numerical_backward_pass_is_named_as_such_by_the_visible_checks():
    for student in NUMERICAL:
        visible, _ = visible_and_graded(NUMERICAL[student])
        for grade_id in BACKWARD_CELLS:
            assert LOOKS_NUMERICAL in visible[grade_id], (student, visible[grade_id])
