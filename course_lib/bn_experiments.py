"""Experiments of notebook 02: how robust training is to the learning rate, with and without
batch norm, and how far the distribution of a hidden unit drifts during training.

Batch norm is not implemented here: the functions take a `BatchNorm` (the notebook passes
the student's own `batchnorm_forward` / `batchnorm_backward`) or None for a plain network.
Examples are columns, as everywhere in the course.

Example
-------
>>> import numpy as np
>>> from course_lib.moons import make_moons
>>> X, Y = make_moons(128, np.random.default_rng(0))
>>> losses = learning_rate_sweep(X, Y, [2, 8, 1], [0.1, 1.0], seeds=[0, 1], epochs=3,
...                              batch_size=32)
>>> losses.shape
(2, 2)
>>> stats = np.array([[[0.0, 1.0]], [[0.0, 1.0]], [[1.0, 4.0]], [[1.0, 4.0]]])  # 4 steps, 1 unit
>>> shift, ratio = drift(stats, steps=2)
>>> shift.tolist(), ratio.tolist()
([1.0], [4.0])
"""

from collections.abc import Sequence

import numpy as np

from course_lib.dense_network import BatchNorm, DenseNetwork, train
from course_lib.optimizers import GradientDescent


def final_loss(losses: Sequence[float], steps: int) -> float:
    """Average of the last `steps` mini-batch losses; inf if any of them is not finite.

    Parameters
    ----------
    losses : sequence of float
        The loss of each training step, in order (what `train` returns).
    steps : int
        How many of the last steps to average (e.g. one epoch's worth).

    Returns
    -------
    float
        Their mean, or inf when training diverged (an inf or nan among them).
    """
    last = np.asarray(losses[-steps:], dtype=float)
    return float(last.mean()) if np.all(np.isfinite(last)) else float("inf")


def learning_rate_sweep(X: np.ndarray, Y: np.ndarray, layer_sizes: Sequence[int],
                        learning_rates: Sequence[float], seeds: Sequence[int], *,
                        batchnorm: BatchNorm | None = None, epochs: int,
                        batch_size: int) -> np.ndarray:
    """Final training loss of a `DenseNetwork` trained by plain gradient descent, per rate and seed.

    Each run draws its initial weights and its mini-batch order from
    `np.random.default_rng(seed)`, so with and without batch norm the same seed
    gives the same mini-batches.

    Parameters
    ----------
    X : ndarray (n_0, m)
        Inputs, one column per example.
    Y : ndarray (1, m)
        Labels 0 or 1.
    layer_sizes : sequence of int
        [n_0, n_1, ..., 1], as for `DenseNetwork`.
    learning_rates : sequence of float, length R
    seeds : sequence of int, length S
    batchnorm : BatchNorm, optional
        Batch norm in every hidden layer; None for the plain network.
    epochs, batch_size : int
        Training length and mini-batch size.

    Returns
    -------
    ndarray (R, S)
        The mean mini-batch loss over the last epoch of each run (`final_loss`), inf for a
        run that diverged.
    """
    steps = -(-X.shape[1] // batch_size)                  # mini-batches per epoch
    result = np.empty((len(learning_rates), len(seeds)))
    for i, rate in enumerate(learning_rates):
        for j, seed in enumerate(seeds):
            rng = np.random.default_rng(seed)
            net = DenseNetwork(layer_sizes, rng, batchnorm=batchnorm)
            with np.errstate(all="ignore"):              # a diverging run overflows
                losses = train(net, X, Y, GradientDescent(rate), epochs=epochs,
                               batch_size=batch_size, rng=rng)
            result[i, j] = final_loss(losses, steps)
    return result


def drift(stats: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """How far each unit's distribution moved between the first and the last `steps` steps.

    Parameters
    ----------
    stats : ndarray (T, n, 2)
        At each of T training steps, for each of n units, the mean and the variance of
        the unit's values over the mini-batch.
    steps : int
        How many steps at each end to average over (e.g. one epoch).

    Returns
    -------
    shift : ndarray (n,)
        |change of the average mean| divided by the first steps' standard deviation
        (square root of their average variance): 1 means the unit moved by one spread.
    ratio : ndarray (n,)
        Average variance over the last steps divided by that over the first steps.
    """
    first, last = stats[:steps].mean(axis=0), stats[-steps:].mean(axis=0)
    shift = np.abs(last[:, 0] - first[:, 0]) / np.sqrt(first[:, 1])
    return shift, last[:, 1] / first[:, 1]
