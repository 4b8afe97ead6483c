"""Synthetic validation losses where only one hyperparameter really matters.

The lecture's argument for random search: in a 5 x 5 grid over two
hyperparameters, the important one takes only 5 distinct values; 25 random
trials try 25. A `SyntheticLoss` makes this measurable. Along the important
hyperparameter it has a narrow valley, at a random place; the others only
add a small bowl. Positions are measured on each hyperparameter's scale (see
`course_lib.search_space`), so a valley "0.05 wide" on a learning rate in
[1e-4, 1] is 0.2 decades wide.

Example
-------
>>> import numpy as np
>>> loss = SyntheticLoss.random(LECTURE_SPACE, "alpha", np.random.default_rng(0))
>>> best = loss.best_params()
>>> round(loss(best), 6) == loss.floor
True
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from course_lib.search_space import check_space, from_unit, to_unit

LECTURE_SPACE = {"alpha": (1e-4, 1.0, "log"), "epsilon": (1e-10, 1e-6, "log")}
"""The lecture's picture: the learning rate alpha matters, Adam's epsilon hardly does."""


class SyntheticLoss:
    """loss(params) = floor + depth * valley(important) + minor * sum of bowls(others).

    With u the position of a hyperparameter in its range on its scale (0 at
    low, 1 at high) and c its best position:

    - valley(u) = 1 - exp(-(u - c)**2 / (2 * width**2)), for the important one;
    - bowl(u) = (u - c)**2, for each of the others.

    Parameters
    ----------
    space : dict
        name -> (low, high, scale).
    important : str
        The hyperparameter that matters.
    best_position : dict
        name -> c in [0, 1], the best position of each hyperparameter.
    width, depth, floor, minor : float
        Shape of the loss (defaults: a valley 0.05 wide, 1.0 deep, above 0.1;
        the other hyperparameters change the loss by at most 0.02).
    """

    def __init__(self, space: Mapping[str, tuple[float, float, str]], important: str,
                 best_position: Mapping[str, float], *, width: float = 0.05,
                 depth: float = 1.0, floor: float = 0.1, minor: float = 0.02) -> None:
        check_space(space)
        if important not in space:
            raise ValueError(f"{important!r} is not a hyperparameter of the space")
        if set(best_position) != set(space):
            raise ValueError("best_position needs one position per hyperparameter")
        self.space = dict(space)
        self.important = important
        self.best_position = {name: float(c) for name, c in best_position.items()}
        self.width, self.depth, self.floor, self.minor = width, depth, floor, minor

    @classmethod
    def random(cls, space: Mapping[str, tuple[float, float, str]], important: str,
               rng: np.random.Generator, **shape: float) -> SyntheticLoss:
        """A loss whose best positions are drawn uniformly from [0.05, 0.95] with `rng`."""
        positions = {name: rng.uniform(0.05, 0.95) for name in space}
        return cls(space, important, positions, **shape)

    def _terms(self, name: str, value: npt.ArrayLike) -> np.ndarray | float:
        low, high, scale = self.space[name]
        u = to_unit(value, low, high, scale)
        gap = u - self.best_position[name]
        if name == self.important:
            return self.depth * (1.0 - np.exp(-gap ** 2 / (2 * self.width ** 2)))
        return self.minor * gap ** 2

    def __call__(self, params: Mapping[str, float]) -> float:
        """The loss at params = {name: value} (one float)."""
        missing = set(self.space) - set(params)
        if missing:
            raise KeyError(f"params lacks {sorted(missing)}")
        return float(self.floor + sum(self._terms(name, params[name]) for name in self.space))

    def evaluate(self, **arrays: npt.ArrayLike) -> np.ndarray | float:
        """The loss on arrays of values (broadcast), e.g. a mesh for a contour plot."""
        total = self.floor
        for name in self.space:
            total = total + self._terms(name, np.asarray(arrays[name], dtype=np.float64))
        return total

    def along(self, name: str, values: npt.ArrayLike) -> np.ndarray | float:
        """The loss as a function of one hyperparameter, the others at their best."""
        arrays = {other: self.best_params()[other] for other in self.space}
        arrays[name] = np.asarray(values, dtype=np.float64)
        return self.evaluate(**arrays)

    def best_params(self) -> dict[str, float]:
        """{name: value} where the loss is lowest (equal to `floor`)."""
        return {name: float(from_unit(self.best_position[name], *self.space[name]))
                for name in self.space}
