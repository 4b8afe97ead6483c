"""Numerical gradients by centred differences, to check analytic ones.

Example
-------
>>> import numpy as np
>>> g = numerical_gradient(lambda X: float(np.sum(X ** 2)), np.array([[1.0], [-2.0]]))
>>> np.round(g, 6).ravel().tolist()
[2.0, -4.0]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], X: np.ndarray,
                       h: float = 1e-5) -> np.ndarray:
    """Centred-difference gradient of a scalar function.

    Parameters
    ----------
    f : callable
        Takes an array shaped like X and returns a float.
    X : ndarray, any shape, float64
        The point at which to differentiate. It is restored after use.
    h : float
        The step; 1e-5 balances truncation and rounding error in float64.

    Returns
    -------
    grad : ndarray, same shape as X
        (f(X + h e_i) - f(X - h e_i)) / (2h) for each entry i.
    """
    X = np.array(X, dtype=np.float64)
    grad = np.zeros_like(X)
    for index in np.ndindex(X.shape):
        old = X[index]
        X[index] = old + h
        f_plus = float(f(X))
        X[index] = old - h
        f_minus = float(f(X))
        X[index] = old
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad
