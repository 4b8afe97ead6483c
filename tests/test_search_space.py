"""course_lib.search_space: ranges on their scales, against direct formulas."""

import doctest

import numpy as np
import pytest

from course_lib import search_space
from course_lib.search_space import check_space, from_unit, grid_values, to_unit


def test_doctests():
    assert doctest.testmod(search_space).failed == 0


@pytest.mark.parametrize("low, high, scale, value, u", [
    (0.0, 2.0, "linear", 0.5, 0.25),
    (1e-4, 1.0, "log", 1e-3, 0.25),
    (0.9, 0.999, "beta", 0.99, 0.5),
    (0.9, 0.999, "beta", 0.9, 0.0),
    (0.9, 0.999, "beta", 0.999, 1.0),
])
def test_to_unit_and_back(low, high, scale, value, u):
    assert to_unit(value, low, high, scale) == pytest.approx(u, abs=1e-12)
    assert from_unit(u, low, high, scale) == pytest.approx(value, rel=1e-12)


def test_to_unit_is_increasing_on_every_scale():
    for low, high, scale in [(0.1, 0.5, "linear"), (1e-6, 1e-2, "log"), (0.5, 0.9999, "beta")]:
        values = from_unit(np.linspace(0, 1, 50), low, high, scale)
        assert np.all(np.diff(values) > 0)
        assert np.allclose(to_unit(values, low, high, scale), np.linspace(0, 1, 50))


def test_grid_values_are_cell_centres_on_the_scale():
    grid = grid_values({"lr": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta")}, 2)
    assert np.allclose(grid["lr"], [1e-3, 1e-1])
    assert np.allclose(1 - grid["beta"], [10 ** -1.5, 10 ** -2.5])


@pytest.mark.parametrize("space, message", [
    ({}, "non-empty"),
    ({"a": (0.0, 1.0)}, "expected"),
    ({"a": (0.0, 1.0, "cubic")}, "scale must be"),
    ({"a": (1.0, 1.0, "linear")}, "smaller"),
    ({"a": (0.0, 1.0, "log")}, "0 < low"),
    ({"a": (0.9, 1.0, "beta")}, "high < 1"),
])
def test_check_space_names_the_problem(space, message):
    with pytest.raises(ValueError, match=message):
        check_space(space)
