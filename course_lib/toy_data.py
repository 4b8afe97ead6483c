"""Small synthetic data sets, with examples as columns.

Example
-------
>>> import numpy as np
>>> X, Y = make_blobs(30, np.random.default_rng(0))
>>> X.shape, Y.shape, Y.sum(axis=0).tolist() == [1.0] * 30
((2, 30), (3, 30), True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def one_hot(labels: npt.ArrayLike, num_classes: int) -> np.ndarray:
    """One-hot matrix Y of shape (num_classes, m) for integer labels of shape (m,)."""
    labels = np.asarray(labels, dtype=int)
    Y = np.zeros((num_classes, labels.size))
    Y[labels, np.arange(labels.size)] = 1.0
    return Y


def make_blobs(m: int, rng: np.random.Generator, *,
               centers: Sequence[tuple[float, float]] = ((-2.0, -1.0), (2.0, -1.0), (0.0, 2.0)),
               spread: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """m points in 2-D around `centers`, one class per center.

    Parameters
    ----------
    m : int
        Number of examples.
    rng : numpy.random.Generator
        Source of randomness.
    centers : sequence of (x, y)
        One center per class; C = len(centers).
    spread : float
        Standard deviation of each blob.

    Returns
    -------
    X : ndarray (2, m)
        The points, one per column.
    Y : ndarray (C, m)
        One-hot labels.
    """
    centers = np.asarray(centers, dtype=np.float64)
    labels = rng.integers(0, len(centers), size=m)
    X = centers[labels].T + spread * rng.normal(size=(2, m))
    return X, one_hot(labels, len(centers))
