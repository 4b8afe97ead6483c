"""Parameter updates for a dict of numpy parameters: plain gradient descent and momentum.

Both update the arrays of `params` in place from the gradients `grads`, which
has the same keys. Momentum keeps, for each parameter, an exponentially
weighted average of its gradients in the lecture's convention

    v = beta * v + (1 - beta) * dW,    W = W - learning_rate * v    (v starts at 0),

so with `beta = 0` it is plain gradient descent.

Example
-------
>>> import numpy as np
>>> params = {"w": np.array([1.0])}
>>> GradientDescent(0.1).update(params, {"w": np.array([2.0])})
>>> params["w"].tolist()
[0.8]
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import numpy as np


class GradientDescent:
    """W = W - learning_rate * dW for every parameter."""

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def update(self, params: MutableMapping[str, np.ndarray],
               grads: Mapping[str, np.ndarray]) -> None:
        for key, grad in grads.items():
            params[key] -= self.learning_rate * grad

    def __repr__(self) -> str:
        return f"GradientDescent(learning_rate={self.learning_rate:g})"


class Momentum:
    """Gradient descent on the exponentially weighted average v of the gradients."""

    def __init__(self, learning_rate: float, beta: float = 0.9) -> None:
        self.learning_rate = learning_rate
        self.beta = beta
        self.velocity: dict[str, np.ndarray] = {}

    def update(self, params: MutableMapping[str, np.ndarray],
               grads: Mapping[str, np.ndarray]) -> None:
        for key, grad in grads.items():
            v = self.velocity.get(key, np.zeros_like(grad))
            v = self.beta * v + (1 - self.beta) * grad
            self.velocity[key] = v
            params[key] -= self.learning_rate * v

    def __repr__(self) -> str:
        return f"Momentum(learning_rate={self.learning_rate:g}, beta={self.beta:g})"
