"""A small fully connected network in numpy, with the batch-norm functions passed in.

Examples are columns. The network is

    [affine -> (batch norm) -> ReLU] x (L - 1)  ->  affine -> sigmoid

for binary classification, trained on the average cross-entropy. Each layer is
a pair in the CS231n style: `*_forward(...) -> (out, cache)` and
`*_backward(dout, cache) -> gradients`.

Batch norm is **not** implemented here. A network built with
`batchnorm=BatchNorm(forward, backward, ...)` calls the functions it is given:
the notebooks pass in the student's own. With batch norm a hidden layer has no
bias `b` (the batch norm's `beta` takes its place) and two parameters
`gamma{l}`, `beta{l}` of shape (n_l, 1) instead.

Example
-------
>>> import numpy as np
>>> from course_lib.moons import make_moons
>>> from course_lib.optimizers import GradientDescent
>>> rng = np.random.default_rng(0)
>>> X, Y = make_moons(200, rng)
>>> net = DenseNetwork([2, 16, 16, 1], rng)
>>> losses = train(net, X, Y, GradientDescent(0.5), epochs=30, batch_size=50, rng=rng)
>>> bool(losses[-1] < losses[0]), net.accuracy(X, Y) > 0.8
(True, True)
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


def affine_forward(X: np.ndarray, W: np.ndarray, b: np.ndarray | None = None,
                   ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Z = W X + b (no bias if b is None). X (n_in, m), W (n_out, n_in), b (n_out, 1)."""
    Z = W @ X
    if b is not None:
        Z = Z + b
    return Z, (X, W)


def affine_backward(dZ: np.ndarray, cache: tuple[np.ndarray, np.ndarray],
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dX, dW, db) of the affine layer; db sums dZ over the examples."""
    X, W = cache
    return W.T @ dZ, dZ @ X.T, dZ.sum(axis=1, keepdims=True)


def relu_forward(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A = max(Z, 0), elementwise."""
    return np.maximum(Z, 0.0), Z


def relu_backward(dA: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dZ = dA where Z > 0, else 0."""
    return dA * (cache > 0)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-Z)), without overflow for large |Z|."""
    return 0.5 * (1.0 + np.tanh(0.5 * Z))


def sigmoid_cross_entropy(Z: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """Average binary cross-entropy of sigmoid(Z) against labels Y (1, m), and dJ/dZ.

    J = (1/m) sum_i [log(1 + exp(Z_i)) - Y_i Z_i], which equals
    -(1/m) sum_i [Y_i log A_i + (1 - Y_i) log(1 - A_i)] for A = sigmoid(Z) and
    stays finite for any Z.
    """
    m = Z.shape[1]
    J = float(np.sum(np.logaddexp(0.0, Z) - Y * Z) / m)
    return J, (sigmoid(Z) - Y) / m


@dataclass(frozen=True)
class BatchNorm:
    """The batch-norm functions a `DenseNetwork` calls; course_lib implements none of them.

    forward : (Z, gamma, beta) -> (Z_tilde, cache)
        Training mode: normalise with the mini-batch's own statistics.
    backward : (dZ_tilde, cache) -> (dZ, dgamma, dbeta)
    statistics : Z -> (mu, var), optional
        The mini-batch statistics, recorded in `DenseNetwork.trace` and used to
        update the running statistics.
    update_running_stats : (running_mu, running_var, mu, var) -> (running_mu, running_var), optional
        Folds one mini-batch's statistics into the running ones (needs `statistics`).
    inference : (Z, gamma, beta, mu, var) -> Z_tilde, optional
        Test mode: normalise with statistics given from outside.
    """

    forward: Callable
    backward: Callable
    statistics: Callable | None = None
    update_running_stats: Callable | None = None
    inference: Callable | None = None


class _Optimizer(Protocol):
    """What `train` needs of an optimizer (e.g. `course_lib.optimizers.Momentum`)."""

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Change `params` in place from `grads` (same keys)."""


class DenseNetwork:
    """[affine -> (batch norm) -> ReLU] x (L - 1) -> affine -> sigmoid, examples as columns.

    Parameters
    ----------
    layer_sizes : sequence of int
        [n_0, n_1, ..., n_L]: inputs, hidden units of each layer, and n_L = 1 output.
    rng : numpy.random.Generator
        Draws the initial weights, W{l} ~ N(0, 2 / n_{l-1}) (He initialisation).
    batchnorm : BatchNorm, optional
        Put batch norm between the affine part and the ReLU of every hidden layer.

    Attributes
    ----------
    params : dict of str -> ndarray
        W1, b1 (or gamma1, beta1 with batch norm), ..., WL, bL.
    running : list of dict
        Per hidden layer {"mu": (n_l, 1), "var": (n_l, 1)}, starting at 0 (as an
        EWA does); updated by training steps when `batchnorm.update_running_stats` is given.
    trace : list of dict
        What the last forward pass saw in each hidden layer: "z" (before batch
        norm), "z_tilde" (what the ReLU receives; equal to "z" without batch
        norm), and "mu", "var" (the batch statistics, when `batchnorm.statistics`
        is given and the pass was in training mode).
    """

    def __init__(self, layer_sizes: Sequence[int], rng: np.random.Generator, *,
                 batchnorm: BatchNorm | None = None) -> None:
        self.layer_sizes = list(layer_sizes)
        self.batchnorm = batchnorm
        self.L = len(self.layer_sizes) - 1
        self.params = {}
        for k in range(1, self.L + 1):
            n_in, n_out = self.layer_sizes[k - 1], self.layer_sizes[k]
            self.params[f"W{k}"] = rng.normal(size=(n_out, n_in)) * np.sqrt(2.0 / n_in)
            if batchnorm is not None and k < self.L:
                self.params[f"gamma{k}"] = np.ones((n_out, 1))
                self.params[f"beta{k}"] = np.zeros((n_out, 1))
            else:
                self.params[f"b{k}"] = np.zeros((n_out, 1))
        self.running = [{"mu": np.zeros((n, 1)), "var": np.zeros((n, 1))}
                        for n in self.layer_sizes[1:-1]]
        self.trace = []

    def forward(self, X: np.ndarray, *, mode: str = "train",
                stats: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
                update_running: bool = False) -> tuple[np.ndarray, list[Any]]:
        """Scores Z_L (1, m) and the caches for `backward`.

        mode "train" normalises with each mini-batch's statistics (`batchnorm.forward`);
        mode "inference" uses `batchnorm.inference` with `stats`, a list of
        (mu, var) per hidden layer (default: the running statistics).
        `update_running=True` folds this batch's statistics into `running`.
        """
        if mode not in ("train", "inference"):
            raise ValueError(f"mode must be 'train' or 'inference', not {mode!r}")
        bn = self.batchnorm
        if stats is None and bn is not None:
            stats = [(r["mu"], r["var"]) for r in self.running]
        A, caches, self.trace = X, [], []
        for k in range(1, self.L):
            p = self.params
            Z, affine_cache = affine_forward(A, p[f"W{k}"], p.get(f"b{k}"))
            seen = {"z": Z}
            bn_cache = None
            if bn is None:
                Z_tilde = Z
            elif mode == "train":
                Z_tilde, bn_cache = bn.forward(Z, p[f"gamma{k}"], p[f"beta{k}"])
                if bn.statistics is not None:
                    seen["mu"], seen["var"] = bn.statistics(Z)
                    if update_running and bn.update_running_stats is not None:
                        r = self.running[k - 1]
                        r["mu"], r["var"] = bn.update_running_stats(
                            r["mu"], r["var"], seen["mu"], seen["var"])
            else:
                Z_tilde = bn.inference(Z, p[f"gamma{k}"], p[f"beta{k}"], *stats[k - 1])
            seen["z_tilde"] = Z_tilde
            self.trace.append(seen)
            A, relu_cache = relu_forward(Z_tilde)
            caches.append((affine_cache, bn_cache, relu_cache))
        Z_L, last_cache = affine_forward(A, self.params[f"W{self.L}"], self.params[f"b{self.L}"])
        caches.append(last_cache)
        return Z_L, caches

    def backward(self, dZ_L: np.ndarray, caches: list[Any]) -> dict[str, np.ndarray]:
        """Gradients of every parameter, from dJ/dZ_L (1, m); keys as in `params`."""
        grads = {}
        dA, grads[f"W{self.L}"], grads[f"b{self.L}"] = affine_backward(dZ_L, caches[-1])
        for k in range(self.L - 1, 0, -1):
            affine_cache, bn_cache, relu_cache = caches[k - 1]
            dZ = relu_backward(dA, relu_cache)
            if self.batchnorm is not None:
                dZ, grads[f"gamma{k}"], grads[f"beta{k}"] = self.batchnorm.backward(dZ, bn_cache)
            dA, grads[f"W{k}"], db = affine_backward(dZ, affine_cache)
            if f"b{k}" in self.params:
                grads[f"b{k}"] = db
        return grads

    def loss(self, X: np.ndarray, Y: np.ndarray, *,
             update_running: bool = False) -> tuple[float, dict[str, np.ndarray]]:
        """(J, grads) on the mini-batch (X, Y), in training mode."""
        Z_L, caches = self.forward(X, mode="train", update_running=update_running)
        J, dZ_L = sigmoid_cross_entropy(Z_L, Y)
        return J, self.backward(dZ_L, caches)

    def predict_proba(self, X: np.ndarray, *, mode: str = "inference",
                      stats: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
                      ) -> np.ndarray:
        """P(y = 1 | x) for each column of X, shape (1, m); inference mode by default.

        Without batch norm the two modes are the same.
        """
        if self.batchnorm is None:
            mode = "train"
        Z_L, _ = self.forward(X, mode=mode, stats=stats)
        return sigmoid(Z_L)

    def accuracy(self, X: np.ndarray, Y: np.ndarray, **kwargs: Any) -> float:
        """Fraction of the columns of X classified as in Y (threshold 0.5).

        kwargs are those of `predict_proba`.
        """
        return float(np.mean((self.predict_proba(X, **kwargs) > 0.5) == (Y > 0.5)))


def minibatches(m: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Index arrays that split range(m), shuffled, into mini-batches (the last may be shorter)."""
    order = rng.permutation(m)
    return [order[k:k + batch_size] for k in range(0, m, batch_size)]


def train(net: DenseNetwork, X: np.ndarray, Y: np.ndarray, optimizer: _Optimizer, *,
          epochs: int, batch_size: int, rng: np.random.Generator,
          on_step: Callable[[DenseNetwork], object] | None = None) -> list[float]:
    """Mini-batch training; returns the loss of every step's mini-batch (a list of floats).

    Each epoch shuffles the examples with `rng` and takes one optimizer step per
    mini-batch, updating the running statistics of batch norm if the network
    has them. `on_step(net)`, if given, is called after each step's forward
    pass, e.g. to read `net.trace`.
    """
    losses = []
    for _ in range(epochs):
        for batch in minibatches(X.shape[1], batch_size, rng):
            J, grads = net.loss(X[:, batch], Y[:, batch], update_running=True)
            losses.append(J)
            if on_step is not None:
                on_step(net)
            optimizer.update(net.params, grads)
    return losses
