"""The experiments of notebook 02 (course_lib.bn_experiments)."""

import numpy as np

from autograder.reference.batchnorm_derivation import batchnorm_backward, batchnorm_forward
from course_lib.bn_experiments import drift, final_loss, learning_rate_sweep
from course_lib.dense_network import BatchNorm, DenseNetwork, train
from course_lib.moons import make_moons
from course_lib.optimizers import GradientDescent

BN = BatchNorm(batchnorm_forward, batchnorm_backward)


def test_final_loss_averages_the_last_steps_and_flags_divergence():
    assert final_loss([5.0, 1.0, 2.0, 3.0], 2) == 2.5
    assert final_loss([1.0, float("nan"), 2.0], 2) == float("inf")
    assert final_loss([1.0, float("inf")], 1) == float("inf")


def test_sweep_repeats_train_with_the_seed_and_the_rate():
    X, Y = make_moons(96, np.random.default_rng(1))
    sweep = learning_rate_sweep(X, Y, [2, 6, 1], [0.05, 0.5], [3, 4], batchnorm=BN, epochs=2,
                                batch_size=32)
    rng = np.random.default_rng(4)
    net = DenseNetwork([2, 6, 1], rng, batchnorm=BN)
    losses = train(net, X, Y, GradientDescent(0.5), epochs=2, batch_size=32, rng=rng)
    assert sweep.shape == (2, 2)
    assert sweep[1, 1] == np.mean(losses[-3:])


def test_sweep_reports_a_diverged_run_as_inf():
    X, Y = make_moons(64, np.random.default_rng(0))
    sweep = learning_rate_sweep(X, Y, [2, 8, 8, 1], [1e200], [0], epochs=3, batch_size=16)
    assert sweep[0, 0] == np.inf


def test_drift_measures_the_shift_in_spreads_and_the_variance_ratio():
    stats = np.zeros((6, 2, 2))
    stats[:, :, 1] = 4.0                       # variance 4: spread 2
    stats[3:, 0, 0] = 3.0                      # unit 0: mean 0 -> 3
    stats[3:, 1, 1] = 1.0                      # unit 1: variance 4 -> 1
    shift, ratio = drift(stats, steps=3)
    np.testing.assert_allclose(shift, [1.5, 0.0])
    np.testing.assert_allclose(ratio, [1.0, 0.25])
