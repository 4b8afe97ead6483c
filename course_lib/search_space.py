"""Hyperparameter search spaces: a range and a scale for each hyperparameter.

A search space is a dict ``name -> (low, high, scale)`` (the notebook's format). The
scale says which coordinate is spread evenly when we search; each is a small class,
and `dimension(low, high, scale)` makes the one a space's entry names:

- ``"linear"``, `Linear`: the value itself (e.g. a dropout rate in [0.1, 0.5]);
- ``"log"``, `LogUniform`: ``log10(value)``, for values spanning decades (a learning
  rate in [1e-4, 1]), sampled with the notebook's ``sample_log_uniform``;
- ``"beta"``, `OneMinusLogUniform`: ``log10(1 - value)``, for averaging constants
  close to 1 (a momentum beta in [0.9, 0.999]), sampled with ``sample_beta``.

`to_unit` maps values to their position u in [0, 1] along that coordinate and
`from_unit` maps positions back, so the grid of the notebook and the synthetic
losses treat every scale alike. A dimension's `sample` draws with the sampler it is
given (the student's, in the notebook): this module holds no sampler of its own.

Example
-------
>>> space = {"learning_rate": (1e-4, 1.0, "log")}
>>> check_space(space)
>>> float(to_unit(1e-2, 1e-4, 1.0, "log"))
0.5
>>> [f"{v:g}" for v in grid_values(space, 4)["learning_rate"]]
['0.000316228', '0.00316228', '0.0316228', '0.316228']
>>> dimension(0.9, 0.999, "beta")
OneMinusLogUniform(0.9, 0.999)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import numpy.typing as npt

    _Sampler = Callable[[float, float, int, np.random.Generator], np.ndarray]
    """A notebook's sampler: (low, high, size, rng) -> `size` values."""


class Dimension:
    """One hyperparameter's range [low, high] on its scale (see the subclasses)."""

    scale = ""
    """The name of the scale in a search space's entries."""
    sampler = None
    """The name of the notebook's sampler for this scale (None: rng.uniform)."""
    formula = ""
    """A value in terms of its base-10 exponent r, for sentences."""
    bounds_of_r = rule = error_note = ""
    """For sentences: the range of r (smaller bound first), the rule on (low, high), and a
    note for a sampler raising ValueError on valid bounds."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def __repr__(self):
        return f"{type(self).__name__}({self.low:g}, {self.high:g})"

    def problem(self) -> str | None:
        """None, or why (low, high) is no range of this scale."""
        return None if self.low < self.high else (
            f"low = {self.low} must be smaller than high = {self.high}")

    def coordinate(self, value: npt.ArrayLike,
                   log: Callable[[np.ndarray], np.ndarray] = np.log10) -> np.ndarray | float:
        """The coordinate spread evenly on this scale (`log` = np.log: in natural units)."""
        raise NotImplementedError

    def value(self, coordinate: np.ndarray | float) -> np.ndarray | float:
        """Inverse of `coordinate`."""
        raise NotImplementedError

    def to_unit(self, value: npt.ArrayLike) -> np.ndarray | float:
        """Position u of `value` in the range on its scale: 0 at low, 1 at high (elementwise)."""
        a, b = self.coordinate(self.low), self.coordinate(self.high)
        return (self.coordinate(value) - a) / (b - a)

    def from_unit(self, u: npt.ArrayLike) -> np.ndarray | float:
        """The value at position u in [0, 1] of the range (inverse of `to_unit`)."""
        a, b = self.coordinate(self.low), self.coordinate(self.high)
        return self.value(a + np.asarray(u, dtype=np.float64) * (b - a))

    def sample(self, size: int, rng: np.random.Generator,
               samplers: Mapping[str, _Sampler]) -> np.ndarray:
        """`size` values drawn with `samplers[self.sampler]` (the notebook's function)."""
        return samplers[self.sampler](self.low, self.high, size, rng)

    def shown(self, values: npt.ArrayLike) -> np.ndarray | float:
        """What a plot's axis shows for `values`."""
        return np.asarray(values, dtype=np.float64)

    def label(self, name: str) -> str:
        """The axis label of hyperparameter `name`."""
        return name

    axis = "log"
    """The matplotlib axis scale that spreads `shown` values evenly."""


class Linear(Dimension):
    """Values spread evenly between low and high."""

    scale, axis = "linear", "linear"

    def coordinate(self, value: npt.ArrayLike,
                   log: Callable[[np.ndarray], np.ndarray] = np.log10) -> np.ndarray | float:
        return np.asarray(value, dtype=np.float64)

    def value(self, coordinate: np.ndarray | float) -> np.ndarray | float:
        return coordinate

    def sample(self, size: int, rng: np.random.Generator,
               samplers: Mapping[str, _Sampler] | None = None) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=size)


class LogUniform(Dimension):
    """10**r with r spread evenly: each decade of the range gets its share."""

    scale, sampler, formula = "log", "sample_log_uniform", "10**r"
    bounds_of_r, rule = "[log10(low), log10(high)]", "0 < low < high"

    def problem(self) -> str | None:
        if not self.low > 0:
            return f"a 'log' range needs 0 < low, got low = {self.low}"
        return super().problem()

    def coordinate(self, value: npt.ArrayLike,
                   log: Callable[[np.ndarray], np.ndarray] = np.log10) -> np.ndarray | float:
        return log(np.asarray(value, dtype=np.float64))

    def value(self, coordinate: np.ndarray | float) -> np.ndarray | float:
        return 10.0 ** coordinate


class OneMinusLogUniform(Dimension):
    """1 - 10**r with r spread evenly: each decade of 1 - beta gets its share."""

    scale, sampler, formula = "beta", "sample_beta", "1 - 10**r"
    bounds_of_r, rule = "[log10(1 - high), log10(1 - low)]", "0 <= low < high < 1"
    error_note = (": if you call sample_log_uniform, pass it (1 - high, 1 - low), since "
                  "1 - high is the smaller")

    def problem(self) -> str | None:
        if not (0 <= self.low and self.high < 1):
            return "a 'beta' range needs 0 <= low < high < 1"
        return super().problem()

    def coordinate(self, value: npt.ArrayLike,
                   log: Callable[[np.ndarray], np.ndarray] = np.log10) -> np.ndarray | float:
        return log(1.0 - np.asarray(value, dtype=np.float64))

    def value(self, coordinate: np.ndarray | float) -> np.ndarray | float:
        return 1.0 - 10.0 ** coordinate

    def shown(self, values: npt.ArrayLike) -> np.ndarray | float:
        return 1.0 - np.asarray(values, dtype=np.float64)

    def label(self, name: str) -> str:
        return f"1 - {name}"


DIMENSIONS = {cls.scale: cls for cls in (Linear, LogUniform, OneMinusLogUniform)}
"""The scales a search space may use, by name."""

SCALES = tuple(DIMENSIONS)
"""The scales' names."""


def dimension(low: float, high: float, scale: str) -> Dimension:
    """The `Dimension` of a search space's entry (low, high, scale)."""
    if scale not in DIMENSIONS:
        raise ValueError(f"scale must be one of {SCALES}, not {scale!r}")
    return DIMENSIONS[scale](low, high)


def dimensions(space: Mapping[str, tuple[float, float, str]]) -> dict[str, Dimension]:
    """{name: Dimension}: a search space in the notebook's format, converted once."""
    return {name: dimension(*spec) for name, spec in space.items()}


def check_space(space: object) -> None:
    """Raise ValueError naming the problem unless `space` is a valid search space."""
    if not isinstance(space, dict) or not space:
        raise ValueError("a search space is a non-empty dict name -> (low, high, scale)")
    for name, spec in space.items():
        if not isinstance(spec, (tuple, list)) or len(spec) != 3:
            raise ValueError(f"{name!r}: expected (low, high, scale), got {spec!r}")
        try:
            problem = dimension(*spec).problem()
        except ValueError as error:
            problem = str(error)
        if problem:
            raise ValueError(f"{name!r}: {problem}")


def to_unit(value: npt.ArrayLike, low: float, high: float, scale: str) -> np.ndarray | float:
    """Position u of `value` in its range on its scale: 0 at low, 1 at high.

    Works elementwise on arrays. For "beta" the coordinate log10(1 - value)
    decreases with the value; u still runs from 0 at low to 1 at high.
    """
    return dimension(low, high, scale).to_unit(value)


def from_unit(u: npt.ArrayLike, low: float, high: float, scale: str) -> np.ndarray | float:
    """The value at position u in [0, 1] of the range (inverse of `to_unit`)."""
    return dimension(low, high, scale).from_unit(u)


def grid_values(space: Mapping[str, tuple[float, float, str]],
                points_per_axis: int) -> dict[str, np.ndarray]:
    """{name: values}: the centres of `points_per_axis` equal cells of each range, on its scale.

    Cell centres rather than end points, so that a grid does not spend trials
    on the edges of the ranges.
    """
    check_space(space)
    u = (np.arange(points_per_axis) + 0.5) / points_per_axis
    return {name: dim.from_unit(u) for name, dim in dimensions(space).items()}
