"""How the mini-batch size affects batch norm's running statistics (notebook 03).

`batch_size_effects` trains one small batch-norm network per mini-batch size and
seed, then compares the running statistics it kept during training with the
population statistics of the final network (the whole training set as one
batch), and measures the test accuracy with each.

Example
-------
>>> import numpy as np
>>> from course_lib.dense_network import BatchNorm
>>> from course_lib.moons import make_moons
>>> from course_lib.numerical_layer import numerical_layer
>>> def stats(Z):
...     return Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
>>> def infer(Z, gamma, beta, mu, var, eps=1e-5):
...     return gamma * (Z - mu) / np.sqrt(var + eps) + beta
>>> def update(rmu, rvar, mu, var, momentum=0.9):
...     return momentum * rmu + (1 - momentum) * mu, momentum * rvar + (1 - momentum) * var
>>> fwd, bwd = numerical_layer(lambda Z, g, b: infer(Z, g, b, *stats(Z)))
>>> bn = BatchNorm(forward=fwd, backward=bwd, statistics=stats,
...                update_running_stats=update, inference=infer)
>>> rng = np.random.default_rng(0)
>>> (X, Y), test = make_moons(64, rng), make_moons(64, rng)
>>> out = batch_size_effects(bn, X, Y, *test, batch_sizes=[8, 32], seeds=[0], epochs=2)
>>> out["variance_ratio"].shape
(2, 2, 1)
"""

from __future__ import annotations

import numpy as np

from course_lib.dense_network import BatchNorm, DenseNetwork, train
from course_lib.optimizers import Momentum


def batch_size_effects(batchnorm: BatchNorm, X: np.ndarray, Y: np.ndarray,
                       X_test: np.ndarray, Y_test: np.ndarray, *,
                       batch_sizes: list[int], seeds: list[int], epochs: int = 30,
                       layer_sizes: tuple[int, ...] = (2, 32, 32, 1),
                       learning_rate: float = 0.1) -> dict[str, np.ndarray]:
    """Running vs population statistics after training with each mini-batch size.

    For every mini-batch size m and seed, a `DenseNetwork(layer_sizes)` with
    `batchnorm` in its hidden layers is trained for `epochs` epochs (momentum
    optimizer, the same number of passes over the data for every m; seed s
    draws the initial weights and the shuffling). Then the whole training set
    is run through it as one batch in training mode: each hidden layer's
    population mean mu_pop and variance var_pop, shapes (n, 1).

    Parameters
    ----------
    batchnorm : BatchNorm
        The batch norm layer's functions (with `update_running_stats`).
    X, Y : ndarray (2, N), (1, N)
        Training data.
    X_test, Y_test : ndarray (2, N_test), (1, N_test)
        Test data.
    batch_sizes, seeds : list of int
    epochs : int
    layer_sizes : tuple of int
    learning_rate : float

    Returns
    -------
    dict of ndarray
        "mean_distance" (L, S, R): per hidden layer l, size and seed, the mean over
        the layer's units of |mu_run - mu_pop| / sqrt(var_pop) (0 = exact);
        "variance_ratio" (L, S, R): the mean over units of var_run / var_pop (1 = exact);
        "accuracy_running", "accuracy_population" (S, R): test accuracy with the
        running statistics and with the population statistics;
        L = hidden layers, S = len(batch_sizes), R = len(seeds).
    """
    hidden = len(layer_sizes) - 2
    shape = (len(batch_sizes), len(seeds))
    out = {"mean_distance": np.zeros((hidden, *shape)),
           "variance_ratio": np.zeros((hidden, *shape)),
           "accuracy_running": np.zeros(shape), "accuracy_population": np.zeros(shape)}
    for i, m in enumerate(batch_sizes):
        for j, seed in enumerate(seeds):
            net = DenseNetwork(list(layer_sizes), np.random.default_rng(seed),
                               batchnorm=batchnorm)
            train(net, X, Y, Momentum(learning_rate, beta=0.9), epochs=epochs, batch_size=m,
                  rng=np.random.default_rng(1000 + seed))
            net.forward(X, mode="train")
            population = [(seen["mu"], seen["var"]) for seen in net.trace]
            for k, ((mu, var), run) in enumerate(zip(population, net.running, strict=True)):
                out["mean_distance"][k, i, j] = np.mean(np.abs(run["mu"] - mu) / np.sqrt(var))
                out["variance_ratio"][k, i, j] = np.mean(run["var"] / var)
            out["accuracy_running"][i, j] = net.accuracy(X_test, Y_test)
            out["accuracy_population"][i, j] = net.accuracy(X_test, Y_test, stats=population)
    return out
