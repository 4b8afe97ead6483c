"""Plots shared by the notebooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def plot_decision_regions(predict: Callable[[np.ndarray], npt.ArrayLike], X: np.ndarray,
                          Y: np.ndarray, *, ax: Axes | None = None, resolution: int = 200,
                          title: str | None = None) -> Axes:
    """Colour the plane by predicted class and scatter the labelled points.

    Parameters
    ----------
    predict : callable
        Maps points P of shape (2, k) to class indices of shape (k,).
    X : ndarray (2, m)
        The points, one per column.
    Y : ndarray (C, m)
        One-hot labels.
    ax : matplotlib Axes, optional
        Where to draw (a new figure if omitted).

    Returns
    -------
    ax : matplotlib Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    pad = 1.0
    xs = np.linspace(X[0].min() - pad, X[0].max() + pad, resolution)
    ys = np.linspace(X[1].min() - pad, X[1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    regions = np.asarray(predict(np.vstack([gx.ravel(), gy.ravel()]))).reshape(gx.shape)
    classes = Y.shape[0]
    cmap = plt.get_cmap("tab10")
    ax.contourf(gx, gy, regions, levels=np.arange(classes + 1) - 0.5,
                colors=[cmap(k) for k in range(classes)], alpha=0.25)
    labels = np.argmax(Y, axis=0)
    for k in range(classes):
        ax.scatter(*X[:, labels == k], s=14, color=cmap(k), edgecolor="k", linewidth=0.3,
                   label=f"class {k}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return ax
