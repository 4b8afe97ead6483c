"""Derived gradients, visibly: the exact constants of 02's and 04's visible checks, the shared
comparison at the analytic tolerance, and numerical answers named as such by the visible checks
(the grader's side is tested in tests/test_grading_*.py)."""

import doctest
import re

import numpy as np
import pytest

from autograder.reference import batchnorm_derivation as bn
from autograder.reference import softmax_vs_hardmax as sm
from course_lib.checking import CheckFailed
from course_lib.checks import batchnorm_derivation as vis02
from course_lib.checks import gradients
from course_lib.checks import softmax_vs_hardmax as vis04
from course_lib.gradcheck import numerical_gradient
from course_lib.numerical_layer import numerical_layer

LOOKS_NUMERICAL = "as a numerical (finite-difference) gradient would"


def test_doctests():
    assert doctest.testmod(gradients).failed == 0


def test_the_visible_constants_are_exact():
    for case, (Z, gamma, beta, dZ_tilde, eps) in vis02.BACKWARD_INPUTS.items():
        exact = bn.gradients(Z, gamma, beta, dZ_tilde, eps)
        for part, got in zip(vis02.PARTS, exact, strict=True):
            assert gradients.scaled_error(got, vis02.VALUES[case]["exact"][part]) <= 1e-15
    assert gradients.scaled_error(sm.softmax_cost_grad(vis04.GRAD_Z, vis04.GRAD_Y),
                                  vis04.GRAD_DZ) <= 1e-15


def test_gradient_mismatch_names_numerical_answers_known_mistakes_and_others():
    exact = np.array([[0.5, -1.0], [2.0, 0.25]])
    assert gradients.gradient_mismatch(exact * (1 + 2e-16), exact, name="g") is None
    assert LOOKS_NUMERICAL in gradients.gradient_mismatch(exact + 1e-9, exact, name="g")
    assert "times too large" in gradients.gradient_mismatch(2 * exact, exact, name="g", m=2)
    assert "named" in gradients.gradient_mismatch(exact + 1.0, exact, name="g",
                                                  known=[(exact + 1.0, "named")])
    assert gradients.known_mistake(exact + 1.0, exact, [(exact + 1.0, "named")]) == "named"
    # a known mistake that gives the right numbers here names nothing
    assert LOOKS_NUMERICAL in gradients.gradient_mismatch(exact + 1e-10, exact, name="g",
                                                          known=[(exact, "same")])


def _bn_output(Z, gamma, beta, eps):
    return bn.batchnorm_forward(Z, gamma, beta, eps)[0]


def _numerical_layer_pair():
    def forward(Z, gamma, beta, eps=1e-5):
        out, cache = numerical_layer(lambda Z, g, b: _bn_output(Z, g, b, eps))[0](Z, gamma, beta)
        return out, (cache, eps)

    def backward(dZ_tilde, cache):
        inner, eps = cache
        return numerical_layer(lambda Z, g, b: _bn_output(Z, g, b, eps))[1](dZ_tilde, inner)

    return forward, backward


@pytest.mark.parametrize("check", [vis02.check_batchnorm_backward,
                                   vis02.check_batchnorm_backward_params,
                                   vis02.check_batchnorm_backward_tiny_variance])
def test_visible_batchnorm_checks_pass_derived_and_name_numerical_backward(check, capsys):
    check(bn.batchnorm_forward, bn.batchnorm_backward)
    with pytest.raises(CheckFailed, match=re.escape(LOOKS_NUMERICAL)):
        check(*_numerical_layer_pair())


def test_visible_softmax_check_passes_derived_and_names_numerical_gradient(capsys):
    vis04.check_softmax_cost_grad(sm.softmax_cost_grad, sm.softmax, sm.cross_entropy_cost)

    def numerical(Z, Y):
        return numerical_gradient(lambda V: sm.cross_entropy_cost(sm.softmax(V), Y), Z)

    with pytest.raises(CheckFailed, match=re.escape(LOOKS_NUMERICAL)):
        vis04.check_softmax_cost_grad(numerical, sm.softmax, sm.cross_entropy_cost)
