"""course_lib.numerical_layer: a backward pass by centred differences, in one stacked call."""

import numpy as np
import pytest

from autograder.reference.batchnorm_derivation import batchnorm_backward, batchnorm_forward
from course_lib.gradcheck import numerical_gradient
from course_lib.numerical_layer import numerical_layer


def _batchnorm(Z, gamma, beta):
    return batchnorm_forward(Z, gamma, beta)[0]


@pytest.mark.parametrize("scale, shift", [(1.0, 0.0), (1e-3, 5.0), (50.0, -20.0)])
def test_matches_the_analytic_batchnorm_backward(scale, shift):
    rng = np.random.default_rng(0)
    Z = shift + scale * rng.normal(size=(6, 9))
    gamma, beta, dout = rng.normal(size=(6, 1)), rng.normal(size=(6, 1)), rng.normal(size=(6, 9))
    forward, backward = numerical_layer(_batchnorm)
    out, cache = forward(Z, gamma, beta)
    assert np.array_equal(out, _batchnorm(Z, gamma, beta))
    exact = batchnorm_backward(dout, batchnorm_forward(Z, gamma, beta)[1])
    for got, want in zip(backward(dout, cache), exact, strict=True):
        assert got.shape == want.shape
        assert np.max(np.abs(got - want)) <= 1e-6 * np.max(np.abs(want))


def test_calls_the_function_once_per_backward_pass():
    calls = []

    def squash(Z, a):
        calls.append(Z.shape)
        return a * np.tanh(Z - Z.mean(axis=1, keepdims=True))

    rng = np.random.default_rng(1)
    Z, a, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 1)), rng.normal(size=(3, 4))
    forward, backward = numerical_layer(squash)
    _, cache = forward(Z, a)
    dZ, da = backward(dout, cache)
    assert calls == [(3, 4), ((2 * 4 + 2) * 3, 4)]
    assert np.allclose(dZ, numerical_gradient(lambda V: np.sum(dout * squash(V, a)), Z))
    assert np.allclose(da, numerical_gradient(lambda V: np.sum(dout * squash(Z, V)), a))
