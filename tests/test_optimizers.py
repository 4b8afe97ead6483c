"""Gradient descent and momentum (the lecture's EWA convention) in course_lib.optimizers."""

import numpy as np

from course_lib.optimizers import GradientDescent, Momentum


def test_gradient_descent_steps_against_the_gradient_in_place():
    w = np.array([[1.0, -2.0]])
    params = {"w": w}
    GradientDescent(0.5).update(params, {"w": np.array([[2.0, 2.0]])})
    assert params["w"] is w and w.tolist() == [[0.0, -3.0]]


def test_momentum_steps_along_the_weighted_average_of_gradients():
    params = {"w": np.zeros(1)}
    optimizer = Momentum(1.0, beta=0.9)
    optimizer.update(params, {"w": np.array([1.0])})
    assert np.allclose(params["w"], [-0.1])  # v_1 = 0.1 * g: the average starts at 0
    optimizer.update(params, {"w": np.array([1.0])})
    assert np.allclose(params["w"], [-0.1 - 0.19])  # v_2 = 0.9 * 0.1 + 0.1
    for _ in range(200):
        optimizer.update(params, {"w": np.array([1.0])})
    assert np.isclose(optimizer.velocity["w"][0], 1.0)


def test_momentum_with_beta_zero_is_gradient_descent():
    rng = np.random.default_rng(0)
    a = {"w": rng.normal(size=3)}
    b = {"w": a["w"].copy()}
    for _ in range(3):
        g = rng.normal(size=3)
        Momentum(0.1, beta=0.0).update(a, {"w": g})
        GradientDescent(0.1).update(b, {"w": g})
    assert np.allclose(a["w"], b["w"])
