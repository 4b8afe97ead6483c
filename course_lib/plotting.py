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
                          title: str | None = None,
                          scores: Callable[[np.ndarray], np.ndarray] | None = None) -> Axes:
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
    resolution : int
        Grid points per axis.
    title : str, optional
    scores : callable, optional
        Maps points P of shape (2, k) to the C class scores, shape (C, k), whose largest is
        the prediction. Given, each region is drawn where its class's lead over the best
        other class is >= 0: that lead is piecewise linear in the scores, so the edges are
        the exact boundaries (up to the grid's linear interpolation), without the steps of
        the grid, and black lines mark them.

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
    P = np.vstack([gx.ravel(), gy.ravel()])
    classes = Y.shape[0]
    cmap = plt.get_cmap("tab10")
    if scores is not None:
        S = np.asarray(scores(P), dtype=np.float64)
        leads = [(S[k] - np.delete(S, k, axis=0).max(axis=0)).reshape(gx.shape)
                 for k in range(classes)]
    else:  # each class filled on its own: filling the labels' contours would colour a
        # sliver of class 1 along every boundary between classes 0 and 2
        regions = np.asarray(predict(P)).reshape(gx.shape)
        leads = [np.where(regions == k, 1.0, -1.0) for k in range(classes)]
    for k, lead in enumerate(leads):
        if lead.max() >= 0:
            ax.contourf(gx, gy, lead, levels=[0.0, lead.max() + 1.0], colors=[cmap(k)],
                        alpha=0.25)
        if scores is not None and lead.min() < 0 < lead.max():
            ax.contour(gx, gy, lead, levels=[0.0], colors="k", linewidths=0.8)
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
