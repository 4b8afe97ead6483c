"""02_batchnorm_derivation, both layers at once: every named mistake (a keyword of the reference)
is named by the visible check and by the grader with the same hint; the right reference passes
both; a function that changes its arguments and each wrong result container get their sentence;
the visible checks' frozen gradients are the reference's."""

import contextlib
import io

import numpy as np
import pytest

from autograder.reference import batchnorm_derivation as ref
from course_lib import probe
from course_lib.checking import CheckFailed
from course_lib.checks import batchnorm_derivation as vis
from tests.helpers import in_process_failures

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix

A = "02_batchnorm_derivation"
FORWARD_CHECKS = {"test_batchnorm_forward": vis.check_batchnorm_forward,
                  "test_batchnorm_forward_eps": vis.check_batchnorm_forward_eps}
BACKWARD_CHECKS = {"test_batchnorm_backward": vis.check_batchnorm_backward,
                   "test_batchnorm_backward_params": vis.check_batchnorm_backward_params,
                   "test_batchnorm_backward_tiny_variance":
                       vis.check_batchnorm_backward_tiny_variance}
SEEDS = (0, 1, 2)
FIRST = "make its checks pass first"

SOURCES = {
    "batchnorm_forward": "def batchnorm_forward(Z, gamma, beta, eps=1e-5):\n"
                         "    return _ref.batchnorm_forward(Z, gamma, beta, eps, **_forward)\n",
    "batchnorm_backward": "def batchnorm_backward(dZ_tilde, cache):\n"
                          "    return _ref.batchnorm_backward(dZ_tilde, cache, **_backward)\n",
}
"""A submission: the reference with the keywords of a mistake."""


def visible_failures(namespace):
    """{grade_id: the visible check's message, or None when it passes}."""
    forward, backward = namespace["batchnorm_forward"], namespace["batchnorm_backward"]
    failures = {}
    for grade_id, check in {**FORWARD_CHECKS, **BACKWARD_CHECKS}.items():
        args = (forward,) if grade_id in FORWARD_CHECKS else (forward, backward)
        try:
            with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
                check(*args)
            failures[grade_id] = None
        except CheckFailed as failure:
            failures[grade_id] = str(failure)
    return failures


def both_layers(sources, extra, seeds=SEEDS):
    """(visible failures, [grader failures for each seed]) of a submission."""
    namespace = {"np": np, **extra}
    for source in sources.values():
        exec(source, namespace)
    with np.errstate(all="ignore"):
        graded = [{g: v.message for g, v in in_process_failures(A, sources, seed, extra).items()}
                  for seed in seeds]
    return visible_failures(namespace), graded


def flagged(forward=None, backward=None):
    return both_layers(SOURCES, {"_ref": ref, "_forward": forward or {},
                                 "_backward": backward or {}})


def test_the_right_reference_passes_both_layers():
    visible, graded = flagged()
    assert visible == dict.fromkeys(visible)
    assert graded == [{}] * len(SEEDS)


def test_every_named_mistake_has_one_hint():
    assert set(vis.HINTS) == set(ref.FORWARD_MISTAKES) | set(ref.BACKWARD_MISTAKES)


SAME_GRADIENT = {"eps_ignored": "eps_fixed_in_backward"}
"""Forward mistakes whose gradients are a backward mistake's: a forward pass that ignores
eps has, at eps = 0 (where the forward checks cannot see eps), the gradient for 1e-5."""

MISTAKES = [("forward", kind) for kind in ref.FORWARD_MISTAKES] + [
    ("backward", kind) for kind in ref.BACKWARD_MISTAKES]


@pytest.mark.parametrize(("function", "kind"), MISTAKES)
def test_each_mistake_is_named_with_its_hint_by_both_layers(function, kind):
    forward = function == "forward"
    mistakes = ref.FORWARD_MISTAKES if forward else ref.BACKWARD_MISTAKES
    visible, graded = flagged(**{function: mistakes[kind]})
    hint = vis.HINTS[kind]
    own = FORWARD_CHECKS if forward else BACKWARD_CHECKS
    named = {g for g in own if visible[g]}
    assert named, visible
    for grade_id, message in visible.items():
        if grade_id in own and message:
            assert hint in message, (grade_id, message)
        elif message:  # a forward mistake, seen from the backward checks
            assert forward and (FIRST in message and hint in message
                                or vis.HINTS.get(SAME_GRADIENT.get(kind), hint) in message), (
                grade_id, message)
    for failed in graded:
        assert {g for g in failed if g in own} == named, (failed, visible)
        for grade_id, message in failed.items():
            assert hint in message or (forward and "batchnorm_forward" in message), (
                grade_id, message)


def test_a_lost_keepdims_is_named_by_the_statistic_and_its_shape():
    visible, graded = flagged(forward={"keepdims": False})
    assert "mu has shape (3,), should be (3, 1)" in visible["test_batchnorm_forward"]
    assert any("mu has shape (" in m for failed in graded for m in failed.values())


def test_a_wrong_dz_gets_the_var_plus_eps_remark_only_when_it_is_that_mistake():
    half = {**SOURCES, "batchnorm_backward": (
        "def batchnorm_backward(dZ_tilde, cache):\n"
        "    dZ, dgamma, dbeta = _ref.batchnorm_backward(dZ_tilde, cache)\n"
        "    return 1.5 * dZ, dgamma, dbeta\n")}
    visible, graded = both_layers(half, {"_ref": ref, "_forward": {}}, seeds=(0,))
    messages = [visible["test_batchnorm_backward_tiny_variance"],
                graded[0]["test_batchnorm_backward_tiny_variance"]]
    assert all(m and "dZ" in m and "var + eps" not in m for m in messages), messages


MUTATING = {
    "batchnorm_forward": ("def batchnorm_forward(Z, gamma, beta, eps=1e-5):\n"
                          "    Z -= Z.mean(axis=1, keepdims=True)\n"
                          "    return _ref.batchnorm_forward(Z, gamma, beta, eps)\n", "Z"),
    "batchnorm_backward": ("def batchnorm_backward(dZ_tilde, cache):\n"
                           "    dZ_tilde *= 2.0\n"
                           "    return _ref.batchnorm_backward(dZ_tilde / 2.0, cache)\n",
                           "dZ_tilde"),
}


@pytest.mark.parametrize("function", sorted(MUTATING))
def test_a_function_that_changes_its_argument_is_named_by_every_visible_check(function):
    source, argument = MUTATING[function]
    namespace = {"np": np, "_ref": ref, "_forward": {}, "_backward": {}}
    for each in {**SOURCES, function: source}.values():
        exec(each, namespace)
    visible = visible_failures(namespace)
    sentence = f"{function} modified its argument {argument} in place"
    checks = BACKWARD_CHECKS if function == "batchnorm_backward" else visible
    for grade_id in checks:
        assert sentence in visible[grade_id], (grade_id, visible[grade_id])
        assert FIRST not in visible[grade_id]


@pytest.mark.parametrize("function", sorted(MUTATING))
def test_a_function_that_changes_its_argument_is_named_by_the_grader(function):
    if not hasattr(probe, "_arguments_after"):
        pytest.skip("the probe does not guard the functions it hands to drivers yet")
    source, argument = MUTATING[function]
    _, graded = both_layers({**SOURCES, function: source},
                            {"_ref": ref, "_forward": {}, "_backward": {}}, seeds=(0,))
    sentence = f"{function} modified its argument {argument} in place"
    cells = BACKWARD_CHECKS if function == "batchnorm_backward" else {
        **FORWARD_CHECKS, **BACKWARD_CHECKS}
    assert set(graded[0]) == set(cells)
    assert all(sentence in message for message in graded[0].values()), graded[0]


def returning(forward_return=None, backward_return=None):
    """Sources whose result containers are changed (the values stay right)."""
    sources = dict(SOURCES)
    if forward_return:
        sources["batchnorm_forward"] = (
            "def batchnorm_forward(Z, gamma, beta, eps=1e-5):\n"
            "    Z_tilde, cache = _ref.batchnorm_forward(Z, gamma, beta, eps)\n"
            f"    return {forward_return}\n")
    if backward_return:
        sources["batchnorm_backward"] = (
            "def batchnorm_backward(dZ_tilde, cache):\n"
            "    dZ, dgamma, dbeta = _ref.batchnorm_backward(dZ_tilde, cache)\n"
            f"    return {backward_return}\n")
    return sources


CONTAINERS = [
    ("forward", "[Z_tilde, cache]", "should be a tuple of 2 values, not a list"),
    ("forward", "Z_tilde", "should be a tuple of 2 values, not an array"),
    ("forward", "Z_tilde.astype(np.float32), cache", "Z_tilde is float32"),
    ("forward", "Z_tilde.tolist(), cache", "Z_tilde is a list"),
    ("forward", "np.asmatrix(Z_tilde), cache", "Z_tilde is a np.matrix"),
    ("backward", "[dZ, dgamma, dbeta]", "should be a tuple of 3 values, not a list"),
    ("backward", "dZ, dgamma", "has 2 values but should have 3"),
    ("backward", "dZ.astype(np.float32), dgamma, dbeta", "dZ is float32"),
    ("backward", "dZ, dgamma.tolist(), dbeta", "dgamma is a list"),
    ("backward", "dZ, dgamma, dbeta > 0", "dbeta has dtype bool"),
]


@pytest.mark.parametrize(("function", "expression", "sentence"), CONTAINERS)
def test_each_wrong_container_gets_its_sentence_in_both_layers(function, expression, sentence):
    sources = returning(**{f"{function}_return": expression})
    visible, graded = both_layers(sources, {"_ref": ref, "_forward": {}, "_backward": {}},
                                  seeds=(0,))
    checks = FORWARD_CHECKS if function == "forward" else BACKWARD_CHECKS
    for grade_id in checks:
        if function == "backward" and (grade_id == "test_batchnorm_backward_params") == (
                sentence.startswith("dZ")):
            continue  # dZ's cells do not look at dgamma and dbeta, nor the params' cell at dZ
        assert sentence in (visible[grade_id] or ""), (grade_id, visible[grade_id])
        assert sentence in graded[0].get(grade_id, ""), (grade_id, graded[0])


def test_the_frozen_gradients_are_the_references():
    assert ref.VALUES_FILE.read_text() == ref.values_source()
