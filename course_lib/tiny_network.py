"""A tiny network trained by gradient descent with momentum: a real objective to search.

Three overlapping blobs in the plane (from `course_lib.toy_data`), a 2-layer
network (tanh hidden layer, one sigmoid output per class, "one versus the
rest", trained with the sum of the three logistic losses), and a fixed budget of
full-batch gradient-descent steps with momentum in the lecture's convention

    v = beta * v + (1 - beta) * dW,    W = W - learning_rate * v    (v starts at 0).

The validation loss after the budget depends mostly on the learning rate and
also on beta: with beta close to 1, v averages over about 1 / (1 - beta) steps
and starts slowly from 0, so the best learning rate moves with beta. One trial
(100 steps) takes 10 to 30 milliseconds.

A trial can be given a smaller budget of steps (`steps=`, keyword-only), for
cheap-first methods such as successive halving; and a test set, drawn after
everything else, is kept apart for the one final report of the chosen
hyperparameters (`split="test"`).

The output layer is deliberately not 04's softmax with cross-entropy: this
library is published to students and holds no graded function's solution.

Example
-------
>>> task = TinyNetworkTask()
>>> good = task({"learning_rate": 0.1, "beta": 0.9})
>>> slow = task({"learning_rate": 1e-4, "beta": 0.9})
>>> good < 1.0 < slow
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from course_lib.toy_data import make_blobs

SEARCH_SPACE = {"learning_rate": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta")}
"""The ranges the notebook searches: the learning rate on a log scale, beta by 1 - beta."""

CENTERS = ((-6.0, -3.0), (6.0, -3.0), (0.0, 6.0))
"""The blobs of `toy_data.make_blobs`, three times farther apart (and three times wider)."""


def _logistic_loss_and_gradient(Z: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """Sum over the outputs of the logistic losses of sigmoid(Z) against Y, mean over the
    examples, and its gradient with respect to Z."""
    m = Z.shape[1]
    loss = np.sum(np.logaddexp(0.0, Z) - Y * Z) / m
    return float(loss), (0.5 * (1.0 + np.tanh(0.5 * Z)) - Y) / m


class TinyNetworkTask:
    """Train a 2 -> hidden -> 3 sigmoid network with momentum; report the validation loss.

    Parameters
    ----------
    seed : int
        Seed of the data set and of the initial weights (the same for every
        trial, so the loss is a deterministic function of the hyperparameters).
    m : int
        Examples in the training set, and again in the validation set.
    hidden : int
        Hidden units.
    steps : int
        Full-batch gradient-descent steps per trial (the default budget).

    Attributes
    ----------
    X_train, Y_train, X_val, Y_val, X_test, Y_test : ndarray (2, m), (3, m)
        Training, validation and test sets, examples as columns (one-hot labels).
    """

    def __init__(self, seed: int = 0, *, m: int = 300, hidden: int = 10,
                 steps: int = 100) -> None:
        rng = np.random.default_rng(seed)
        X, Y = make_blobs(2 * m, rng, centers=CENTERS, spread=3.9)
        self.X_train, self.Y_train = X[:, :m], Y[:, :m]
        self.X_val, self.Y_val = X[:, m:], Y[:, m:]
        self.hidden, self.steps = hidden, steps
        n_x, n_y = X.shape[0], Y.shape[0]
        self._initial = (rng.normal(size=(hidden, n_x)) / np.sqrt(n_x), np.zeros((hidden, 1)),
                         rng.normal(size=(n_y, hidden)) / np.sqrt(hidden), np.zeros((n_y, 1)))
        # drawn last, so that the training and validation sets and the weights stay as they were
        self.X_test, self.Y_test = make_blobs(m, rng, centers=CENTERS, spread=3.9)

    def cost_and_gradients(
        self, params: Sequence[np.ndarray],
    ) -> tuple[float, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Training cost J (logistic losses, see the module) and its gradients (dW1, db1, dW2,
        db2)."""
        W1, b1, W2, b2 = params
        X, Y = self.X_train, self.Y_train
        A1 = np.tanh(W1 @ X + b1)
        cost, dZ2 = _logistic_loss_and_gradient(W2 @ A1 + b2, Y)
        dZ1 = (W2.T @ dZ2) * (1.0 - A1 ** 2)
        grads = (dZ1 @ X.T, dZ1.sum(axis=1, keepdims=True),
                 dZ2 @ A1.T, dZ2.sum(axis=1, keepdims=True))
        return float(cost), grads

    def train(self, learning_rate: float, beta: float, *,
              steps: int | None = None) -> list[np.ndarray]:
        """Parameters [W1, b1, W2, b2] after `steps` (default: the task's) steps of gradient
        descent with momentum, from the task's initial weights."""
        params = [p.copy() for p in self._initial]
        velocity = [np.zeros_like(p) for p in params]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(self.steps if steps is None else steps):
                _, grads = self.cost_and_gradients(params)
                for p, v, g in zip(params, velocity, grads, strict=True):
                    v *= beta
                    v += (1.0 - beta) * g
                    p -= learning_rate * v
        return params

    def scores(self, params: Sequence[np.ndarray], X: np.ndarray) -> np.ndarray:
        """Output-layer scores Z2 (3, k) for the points X (2, k)."""
        W1, b1, W2, b2 = params
        return W2 @ np.tanh(W1 @ X + b1) + b2

    def evaluate(self, learning_rate: float, beta: float, *, steps: int | None = None,
                 split: str = "validation") -> dict[str, float]:
        """{"loss", "error"}: loss (as the training cost) and error rate on the validation set
        (or, with split="test", on the test set) after `steps` steps (default: the task's).

        A run that diverged (non-finite weights) has loss inf and error 1.
        """
        X, Y = {"validation": (self.X_val, self.Y_val), "test": (self.X_test, self.Y_test)}[split]
        params = self.train(learning_rate, beta, steps=steps)
        with np.errstate(over="ignore", invalid="ignore"):
            Z = self.scores(params, X)
        if not np.all(np.isfinite(Z)):
            return {"loss": float("inf"), "error": 1.0}
        loss, _ = _logistic_loss_and_gradient(Z, Y)
        error = np.mean(np.argmax(Z, axis=0) != np.argmax(Y, axis=0))
        return {"loss": float(loss), "error": float(error)}

    def __call__(self, params: Mapping[str, float], *, steps: int | None = None) -> float:
        """The objective of a search: validation loss for {"learning_rate", "beta"}, after
        `steps` steps (default: the task's)."""
        return self.evaluate(params["learning_rate"], params["beta"], steps=steps)["loss"]
