"""Plots of hyperparameter searches: trials in the plane of two hyperparameters.

Each axis shows one hyperparameter on its scale (see `course_lib.search_space`):
a 'log' hyperparameter on a log axis, a 'beta' one as 1 - beta on a log axis
(so 0.9, 0.99, 0.999 are evenly spaced), a 'linear' one as it is.

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> space = {"learning_rate": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta")}
>>> trials = [{"learning_rate": 0.01, "beta": 0.99, "loss": 0.5}]
>>> fig, ax = plt.subplots()
>>> _ = plot_trials(ax, trials, space, "learning_rate", "beta")
>>> ax.get_xscale(), ax.get_ylabel()
('log', '1 - beta')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from matplotlib.patches import Rectangle

from course_lib.search_space import DIMENSIONS, dimension

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.contour import QuadContourSet

    from course_lib.synthetic_loss import SyntheticLoss

_Space = Mapping[str, tuple[float, float, str]]


def shown(values: npt.ArrayLike, scale: str) -> np.ndarray | float:
    """What the axis of a hyperparameter shows: the values, or 1 - beta for 'beta'."""
    return DIMENSIONS[scale](None, None).shown(values)


def setup_axes(ax: Axes, space: _Space, x: str, y: str) -> Axes:
    """Scale, limits and labels of `ax` for hyperparameters x (horizontal) and y (vertical)."""
    for name, set_scale, set_lim, set_label in ((x, ax.set_xscale, ax.set_xlim, ax.set_xlabel),
                                                (y, ax.set_yscale, ax.set_ylim, ax.set_ylabel)):
        dim = dimension(*space[name])
        set_scale(dim.axis)
        set_lim(*sorted(dim.shown([dim.low, dim.high])))
        set_label(dim.label(name))
    return ax


def plot_trials(ax: Axes, trials: Sequence[Mapping[str, float]], space: _Space, x: str, y: str,
                **scatter: Any) -> PathCollection:
    """Scatter the trials in the (x, y) plane of `space`; returns the PathCollection."""
    xs = shown([t[x] for t in trials], space[x][2])
    ys = shown([t[y] for t in trials], space[y][2])
    setup_axes(ax, space, x, y)
    return ax.scatter(xs, ys, **scatter)


def draw_space(ax: Axes, space: _Space, x: str, y: str, **style: Any) -> None:
    """Outline the ranges of x and y in `space` as a rectangle on `ax`."""
    (xl, xh), (yl, yh) = (sorted(shown(space[n][:2], space[n][2])) for n in (x, y))
    style = {"fill": False, "lw": 1.5, "ls": "--", "color": "k", **style}
    ax.add_patch(Rectangle((xl, yl), xh - xl, yh - yl, **style))


def plot_loss_map(ax: Axes, loss: SyntheticLoss, space: _Space, x: str, y: str, *,
                  resolution: int = 80, cmap: str = "viridis_r",
                  levels: int | npt.ArrayLike = 20) -> QuadContourSet:
    """Filled contours of `loss.evaluate(**{x: X, y: Y})` over the ranges of x and y.

    `loss` is a `course_lib.synthetic_loss.SyntheticLoss`; every other
    hyperparameter is held at its best value. Returns the contour set.
    """
    u = np.linspace(0.0, 1.0, resolution)
    grid = {n: dimension(*space[n]).from_unit(u) for n in (x, y)}
    X, Y = np.meshgrid(grid[x], grid[y])
    others = {n: v for n, v in loss.best_params().items() if n not in (x, y)}
    values = loss.evaluate(**{x: X, y: Y}, **others)
    setup_axes(ax, space, x, y)
    return ax.contourf(shown(X, space[x][2]), shown(Y, space[y][2]), values, levels=levels,
                       cmap=cmap)


def best_marker(ax: Axes, trial: Mapping[str, float], space: _Space, x: str, y: str,
                **style: Any) -> None:
    """Mark one trial (e.g. the best) with a star, labelled "best trial" for the legend.

    The star is not clipped: a best trial on the border of the range stays whole.
    """
    style = {"marker": "*", "s": 260, "color": "gold", "edgecolor": "k", "zorder": 5,
             "clip_on": False, "label": "best trial", **style}
    ax.scatter(shown(trial[x], space[x][2]), shown(trial[y], space[y][2]), **style)

