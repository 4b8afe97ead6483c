"""The network plumbing of course_lib.dense_network, against numerical gradients."""

import numpy as np
import pytest

from autograder.reference.batchnorm_derivation import batchnorm_backward, batchnorm_forward
from autograder.reference.batchnorm_test_time import batchnorm_inference, update_running_stats
from course_lib.dense_network import (
    BatchNorm,
    DenseNetwork,
    affine_backward,
    affine_forward,
    minibatches,
    relu_backward,
    relu_forward,
    sigmoid_cross_entropy,
    train,
)
from course_lib.gradcheck import numerical_gradient
from course_lib.moons import make_moons
from course_lib.optimizers import GradientDescent


def _statistics(Z):
    return Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)


REFERENCE_BN = BatchNorm(batchnorm_forward, batchnorm_backward, _statistics, update_running_stats,
                         batchnorm_inference)


def test_affine_and_relu_backward_match_numerical_gradients():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(3, 5)), rng.normal(size=(4, 3)), rng.normal(size=(4, 1))
    dZ = rng.normal(size=(4, 5))
    _, cache = affine_forward(X, W, b)
    dX, dW, db = affine_backward(dZ, cache)
    assert np.allclose(dX, numerical_gradient(lambda V: np.sum(dZ * affine_forward(V, W, b)[0]), X))
    assert np.allclose(dW, numerical_gradient(lambda V: np.sum(dZ * affine_forward(X, V, b)[0]), W))
    assert np.allclose(db, numerical_gradient(lambda V: np.sum(dZ * affine_forward(X, W, V)[0]), b))
    Z = rng.normal(size=(4, 5))
    _, cache = relu_forward(Z)
    assert np.allclose(relu_backward(dZ, cache),
                       numerical_gradient(lambda V: np.sum(dZ * relu_forward(V)[0]), Z))


def test_sigmoid_cross_entropy_is_finite_and_its_gradient_is_right():
    Z = np.array([[-800.0, -2.0, 0.0, 3.0, 800.0]])
    Y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
    J, dZ = sigmoid_cross_entropy(Z, Y)
    assert np.isfinite(J) and np.all(np.isfinite(dZ))
    Z = np.array([[-1.0, 0.5, 2.0]])
    Y = np.array([[0.0, 1.0, 1.0]])
    A = 1 / (1 + np.exp(-Z))
    J, dZ = sigmoid_cross_entropy(Z, Y)
    assert np.isclose(J, -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))
    assert np.allclose(dZ, numerical_gradient(lambda V: sigmoid_cross_entropy(V, Y)[0], Z))


@pytest.mark.parametrize("batchnorm", [None, REFERENCE_BN], ids=["plain", "batchnorm"])
def test_network_gradients_match_numerical_gradients(batchnorm):
    rng = np.random.default_rng(1)
    X, Y = make_moons(12, rng)
    net = DenseNetwork([2, 5, 4, 1], rng, batchnorm=batchnorm)
    for key in net.params:  # move gamma and beta away from 1 and 0
        net.params[key] = net.params[key] + 0.3 * rng.normal(size=net.params[key].shape)
    _, grads = net.loss(X, Y)
    assert set(grads) == set(net.params)
    if batchnorm is not None:
        assert "b1" not in net.params and net.params["gamma1"].shape == (5, 1)
    for key, value in net.params.items():
        def J(V, key=key):
            saved = net.params[key]
            net.params[key] = V
            try:
                return net.loss(X, Y)[0]
            finally:
                net.params[key] = saved
        assert np.allclose(grads[key], numerical_gradient(J, value), atol=1e-7), key


def test_running_statistics_follow_the_update_and_serve_inference():
    rng = np.random.default_rng(2)
    X, Y = make_moons(64, rng)
    net = DenseNetwork([2, 6, 1], rng, batchnorm=REFERENCE_BN)
    Z1 = net.params["W1"] @ X
    net.loss(X, Y, update_running=True)
    mu, var = _statistics(Z1)
    assert np.allclose(net.running[0]["mu"], 0.1 * mu)
    assert np.allclose(net.running[0]["var"], 0.1 * var)
    assert np.allclose(net.trace[0]["mu"], mu) and np.allclose(net.trace[0]["z"], Z1)
    net.loss(X, Y)  # without update_running nothing changes
    assert np.allclose(net.running[0]["mu"], 0.1 * mu)
    # inference with the whole set's statistics equals training mode on the whole set
    train_mode = net.predict_proba(X, mode="train")
    assert np.allclose(net.predict_proba(X, stats=[(mu, var)]), train_mode)
    # inference mode treats each example on its own
    alone = np.hstack([net.predict_proba(X[:, [i]]) for i in range(5)])
    assert np.allclose(alone, net.predict_proba(X[:, :5]))
    with pytest.raises(ValueError, match="mode"):
        net.forward(X, mode="test")


def test_minibatches_partition_the_examples_and_train_lowers_the_loss():
    rng = np.random.default_rng(3)
    batches = minibatches(10, 4, rng)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    X, Y = make_moons(256, rng)
    net = DenseNetwork([2, 16, 16, 1], rng, batchnorm=REFERENCE_BN)
    seen = []
    losses = train(net, X, Y, GradientDescent(0.2), epochs=20, batch_size=32, rng=rng,
                   on_step=lambda n: seen.append(len(n.trace)))
    assert len(losses) == len(seen) == 20 * 8 and set(seen) == {2}
    assert np.mean(losses[-8:]) < 0.5 * np.mean(losses[:8])
    assert net.accuracy(X, Y) > 0.9
    assert np.all(net.running[0]["var"] > 0)
