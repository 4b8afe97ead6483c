"""Grid search, the baseline that random search is compared with.

Trials have the format of the notebook's `random_search`: a dict with one
entry per hyperparameter and the objective's value under "loss".

Example
-------
>>> space = {"x": (0.0, 1.0, "linear"), "y": (0.0, 1.0, "linear")}
>>> best, trials = grid_search(lambda p: (p["x"] - 0.3) ** 2 + p["y"], space, 5)
>>> len(trials), round(best["x"], 2), round(best["y"], 2)
(25, 0.3, 0.1)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

from course_lib.search_space import grid_values


def grid_search(objective: Callable[[dict[str, float]], float],
                space: Mapping[str, tuple[float, float, str]],
                points_per_axis: int) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Evaluate `objective` on every point of a grid over `space`.

    Parameters
    ----------
    objective : callable
        Takes a dict {name: value} and returns the validation loss (a float).
    space : dict
        name -> (low, high, scale); see `course_lib.search_space`.
    points_per_axis : int
        Values per hyperparameter, spread evenly on its scale (cell centres);
        the grid has points_per_axis ** len(space) points.

    Returns
    -------
    best : dict
        The trial with the lowest loss.
    trials : list of dict
        Every trial {name: value, ..., "loss": loss}, in grid order.
    """
    axes = grid_values(space, points_per_axis)
    names = list(space)
    trials = []
    for values in itertools.product(*(axes[name] for name in names)):
        params = {name: float(v) for name, v in zip(names, values, strict=True)}
        trials.append({**params, "loss": float(objective(dict(params)))})
    best = min(trials, key=lambda trial: trial["loss"])
    return best, trials
