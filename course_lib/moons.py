"""Two interleaving half-moons in the plane: a small binary classification set, examples as columns.

A straight line cannot separate the two classes, so a network needs hidden
layers; the set is small enough that a few hundred mini-batch steps take well
under a second.

Example
-------
>>> import numpy as np
>>> X, Y = make_moons(200, np.random.default_rng(0))
>>> X.shape, Y.shape, sorted(set(Y.ravel().tolist()))
((2, 200), (1, 200), [0.0, 1.0])
"""

from __future__ import annotations

import numpy as np


def make_moons(m: int, rng: np.random.Generator, *,
               noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """m points on two interleaving half-circles, labelled 0 and 1.

    Parameters
    ----------
    m : int
        Number of examples (each class gets about half).
    rng : numpy.random.Generator
        Source of randomness.
    noise : float
        Standard deviation of the Gaussian noise added to each coordinate.

    Returns
    -------
    X : ndarray (2, m)
        The points, one per column; class 0 is the upper moon centred at (0, 0),
        class 1 the lower moon centred at (1, 0.5).
    Y : ndarray (1, m)
        The labels, 0.0 or 1.0.
    """
    labels = rng.integers(0, 2, size=m)
    angle = rng.uniform(0.0, np.pi, size=m)
    x = np.where(labels == 0, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(labels == 0, np.sin(angle), 0.5 - np.sin(angle))
    X = np.vstack([x, y]) + noise * rng.normal(size=(2, m))
    return X, labels.astype(np.float64).reshape(1, m)
