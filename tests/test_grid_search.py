"""course_lib.grid_search: every grid point once, the best by loss."""

import doctest

import numpy as np

from course_lib import grid_search as module
from course_lib.grid_search import grid_search


def test_doctests():
    assert doctest.testmod(module).failed == 0


def test_grid_search_evaluates_every_point_once_and_keeps_the_lowest():
    space = {"lr": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta"), "p": (0.0, 1.0, "linear")}
    calls = []

    def objective(params):
        calls.append(dict(params))
        return (np.log10(params["lr"]) + 2.5) ** 2 + params["p"]

    best, trials = grid_search(objective, space, 4)
    assert len(trials) == len(calls) == 64
    assert len({tuple(sorted(c.items())) for c in calls}) == 64
    assert {len({t[name] for t in trials}) for name in space} == {4}
    assert best == min(trials, key=lambda t: t["loss"])
    assert np.isclose(best["lr"], 10 ** -2.5) and np.isclose(best["p"], 0.125)
    assert all(set(t) == {"lr", "beta", "p", "loss"} for t in trials)
