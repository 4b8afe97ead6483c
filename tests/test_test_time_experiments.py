"""course_lib.test_time_experiments: running vs population statistics per mini-batch size."""

import numpy as np
import pytest

from course_lib.dense_network import BatchNorm
from course_lib.moons import make_moons
from course_lib.numerical_layer import numerical_layer
from course_lib.test_time_experiments import batch_size_effects


def _statistics(Z):
    return Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)


def _inference(Z, gamma, beta, mu, var, eps=1e-5):
    return gamma * (Z - mu) / np.sqrt(var + eps) + beta


def _batchnorm(momentum):
    def update(running_mu, running_var, mu, var):
        return (momentum * running_mu + (1 - momentum) * mu,
                momentum * running_var + (1 - momentum) * var)
    forward, backward = numerical_layer(lambda Z, g, b: _inference(Z, g, b, *_statistics(Z)))
    return BatchNorm(forward=forward, backward=backward, statistics=_statistics,
                     update_running_stats=update, inference=_inference)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return make_moons(64, rng), make_moons(50, rng)


def test_shapes_and_ranges(data):
    (X, Y), (X_test, Y_test) = data
    out = batch_size_effects(_batchnorm(0.9), X, Y, X_test, Y_test, batch_sizes=[4, 16],
                             seeds=[0, 1, 2], epochs=2, layer_sizes=(2, 8, 8, 8, 1))
    assert out["mean_distance"].shape == out["variance_ratio"].shape == (3, 2, 3)
    assert out["accuracy_running"].shape == out["accuracy_population"].shape == (2, 3)
    assert np.all(out["mean_distance"] >= 0) and np.all(out["variance_ratio"] > 0)
    for key in ("accuracy_running", "accuracy_population"):
        assert np.all((0 <= out[key]) & (out[key] <= 1))


def test_frozen_full_batch_running_statistics_are_the_population_ones(data):
    # learning rate 0 and momentum 0 with the whole set as one mini-batch: the running statistics
    # are the statistics of that batch, i.e. the population statistics
    (X, Y), (X_test, Y_test) = data
    out = batch_size_effects(_batchnorm(0.0), X, Y, X_test, Y_test, batch_sizes=[64],
                             seeds=[3], epochs=2, learning_rate=0.0)
    np.testing.assert_allclose(out["mean_distance"], 0.0, atol=1e-12)
    np.testing.assert_allclose(out["variance_ratio"], 1.0, rtol=1e-12)
    assert out["accuracy_running"][0, 0] == out["accuracy_population"][0, 0]


def test_first_layer_running_variance_is_short_by_about_m_minus_1_over_m(data):
    # frozen weights: layer 1 sees fixed values, and the biased variance of m of the N examples
    # (drawn without replacement) is on average (m - 1)/m * N/(N - 1) of the population's
    (X, Y), (X_test, Y_test) = data
    m, N = 4, X.shape[1]
    out = batch_size_effects(_batchnorm(0.9), X, Y, X_test, Y_test, batch_sizes=[m],
                             seeds=list(range(12)), epochs=4, learning_rate=0.0)
    expected = (m - 1) / m * N / (N - 1)
    assert abs(np.mean(out["variance_ratio"][0]) - expected) < 0.12
