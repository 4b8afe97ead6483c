"""course_lib.search_space: ranges on their scales, against direct formulas."""

import doctest

import numpy as np
import pytest

from course_lib import search_space
from course_lib.search_space import (
    Linear,
    LogUniform,
    OneMinusLogUniform,
    check_space,
    dimension,
    dimensions,
    from_unit,
    grid_values,
    to_unit,
)


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


def test_dimensions_sample_with_the_sampler_they_are_given():
    """A 'log' or 'beta' dimension draws with the notebook's sampler it is given, by name;
    a 'linear' one with rng.uniform. The published module holds no sampler of its own."""
    calls = []

    def sampler(low, high, size, rng):
        calls.append((low, high, size))
        return np.full(size, low)

    for scale, cls in [("log", LogUniform), ("beta", OneMinusLogUniform)]:
        dim = dimension(0.5, 0.9, scale)
        assert type(dim) is cls and dim.scale == scale
        assert np.array_equal(dim.sample(3, None, {dim.sampler: sampler}), [0.5] * 3)
    assert calls == [(0.5, 0.9, 3)] * 2
    values = dimension(2.0, 3.0, "linear").sample(100, np.random.default_rng(0))
    assert type(dimension(2.0, 3.0, "linear")) is Linear and values.shape == (100,)
    assert np.all((values >= 2.0) & (values <= 3.0))


def test_space_converts_once_to_dimensions():
    space = {"lr": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta"), "p": (0.0, 1.0, "linear")}
    dims = dimensions(space)
    assert [d.scale for d in dims.values()] == ["log", "beta", "linear"]
    assert dims["beta"].label("beta") == "1 - beta" and dims["lr"].axis == "log"
    assert np.allclose(dims["beta"].shown([0.9]), [0.1])
    with pytest.raises(ValueError, match="scale must be"):
        dimension(0.0, 1.0, "cubic")
