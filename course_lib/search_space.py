"""Hyperparameter search spaces: a range and a scale for each hyperparameter.

A search space is a dict ``name -> (low, high, scale)``. The scale says which
coordinate is spread evenly when we search:

- ``"linear"``: the value itself (e.g. a dropout rate in [0.1, 0.5]);
- ``"log"``: ``log10(value)``, for values spanning decades (a learning rate in [1e-4, 1]);
- ``"beta"``: ``log10(1 - value)``, for averaging constants close to 1 (a momentum
  beta in [0.9, 0.999]).

`to_unit` maps values to their position u in [0, 1] along that coordinate and
`from_unit` maps positions back, so the grid of the notebook and the synthetic
losses treat every scale alike.

Example
-------
>>> space = {"learning_rate": (1e-4, 1.0, "log")}
>>> check_space(space)
>>> float(to_unit(1e-2, 1e-4, 1.0, "log"))
0.5
>>> [f"{v:g}" for v in grid_values(space, 4)["learning_rate"]]
['0.000316228', '0.00316228', '0.0316228', '0.316228']
"""

import numpy as np

SCALES = ("linear", "log", "beta")
"""The scales a search space may use."""


def check_space(space):
    """Raise ValueError naming the problem unless `space` is a valid search space."""
    if not isinstance(space, dict) or not space:
        raise ValueError("a search space is a non-empty dict name -> (low, high, scale)")
    for name, spec in space.items():
        if not isinstance(spec, (tuple, list)) or len(spec) != 3:
            raise ValueError(f"{name!r}: expected (low, high, scale), got {spec!r}")
        low, high, scale = spec
        if scale not in SCALES:
            raise ValueError(f"{name!r}: scale must be one of {SCALES}, not {scale!r}")
        if not low < high:
            raise ValueError(f"{name!r}: low = {low} must be smaller than high = {high}")
        if scale == "log" and not low > 0:
            raise ValueError(f"{name!r}: a 'log' range needs 0 < low, got low = {low}")
        if scale == "beta" and not (0 <= low and high < 1):
            raise ValueError(f"{name!r}: a 'beta' range needs 0 <= low < high < 1")


def coordinate(value, scale):
    """The coordinate that is spread evenly on `scale`: value, log10(value) or log10(1 - value)."""
    value = np.asarray(value, dtype=np.float64)
    if scale == "linear":
        return value
    if scale == "log":
        return np.log10(value)
    return np.log10(1.0 - value)


def _inverse(c, scale):
    if scale == "linear":
        return c
    if scale == "log":
        return 10.0 ** c
    return 1.0 - 10.0 ** c


def to_unit(value, low, high, scale):
    """Position u of `value` in its range on its scale: 0 at low, 1 at high.

    Works elementwise on arrays. For "beta" the coordinate log10(1 - value)
    decreases with the value; u still runs from 0 at low to 1 at high.
    """
    a, b = coordinate(low, scale), coordinate(high, scale)
    return (coordinate(value, scale) - a) / (b - a)


def from_unit(u, low, high, scale):
    """The value at position u in [0, 1] of the range (inverse of `to_unit`)."""
    a, b = coordinate(low, scale), coordinate(high, scale)
    return _inverse(a + np.asarray(u, dtype=np.float64) * (b - a), scale)


def grid_values(space, points_per_axis):
    """{name: values}: the centres of `points_per_axis` equal cells of each range, on its scale.

    Cell centres rather than end points, so that a grid does not spend trials
    on the edges of the ranges.
    """
    check_space(space)
    u = (np.arange(points_per_axis) + 0.5) / points_per_axis
    return {name: from_unit(u, low, high, scale) for name, (low, high, scale) in space.items()}
