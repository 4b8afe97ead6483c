"""course_lib.synthetic_loss: one hyperparameter matters, the minimum is known."""

import doctest

import numpy as np
import pytest

from course_lib import synthetic_loss
from course_lib.search_space import from_unit
from course_lib.synthetic_loss import LECTURE_SPACE, SyntheticLoss


def test_doctests():
    assert doctest.testmod(synthetic_loss).failed == 0


def test_minimum_is_at_the_best_position_and_equals_the_floor():
    loss = SyntheticLoss(LECTURE_SPACE, "alpha", {"alpha": 0.5, "epsilon": 0.25})
    best = loss.best_params()
    assert best["alpha"] == pytest.approx(1e-2) and best["epsilon"] == pytest.approx(1e-9)
    assert loss(best) == pytest.approx(0.1)
    u = np.linspace(0, 1, 401)
    alphas = from_unit(u, *LECTURE_SPACE["alpha"])
    assert np.min(loss.along("alpha", alphas)) >= 0.1 - 1e-12


def test_the_important_hyperparameter_matters_and_the_other_barely():
    loss = SyntheticLoss(LECTURE_SPACE, "alpha", {"alpha": 0.5, "epsilon": 0.5})
    u = np.linspace(0, 1, 201)
    along_alpha = loss.along("alpha", from_unit(u, *LECTURE_SPACE["alpha"]))
    along_epsilon = loss.along("epsilon", from_unit(u, *LECTURE_SPACE["epsilon"]))
    assert np.ptp(along_alpha) > 0.95
    assert np.ptp(along_epsilon) <= 0.02 * 0.25 + 1e-12
    # the valley: half a width (0.05 in u, 0.2 decades) away costs 1 - exp(-1/8) of the depth
    off = loss({"alpha": 10 ** (-2 + 0.1), "epsilon": 1e-8})
    assert off == pytest.approx(0.1 + 1 - np.exp(-0.125), rel=1e-9)


def test_evaluate_broadcasts_like_calls():
    loss = SyntheticLoss.random(LECTURE_SPACE, "alpha", np.random.default_rng(3))
    A, E = np.meshgrid(np.logspace(-4, 0, 7), np.logspace(-10, -6, 5))
    values = loss.evaluate(alpha=A, epsilon=E)
    assert values.shape == (5, 7)
    assert values[2, 3] == pytest.approx(loss({"alpha": A[2, 3], "epsilon": E[2, 3]}))


def test_random_positions_are_reproducible_and_inside():
    a = SyntheticLoss.random(LECTURE_SPACE, "alpha", np.random.default_rng(0)).best_position
    b = SyntheticLoss.random(LECTURE_SPACE, "alpha", np.random.default_rng(0)).best_position
    assert a == b and all(0.05 <= c <= 0.95 for c in a.values())


def test_bad_arguments():
    with pytest.raises(ValueError, match="not a hyperparameter"):
        SyntheticLoss(LECTURE_SPACE, "beta", {"alpha": 0.5, "epsilon": 0.5})
    with pytest.raises(ValueError, match="one position"):
        SyntheticLoss(LECTURE_SPACE, "alpha", {"alpha": 0.5})
    with pytest.raises(KeyError, match="epsilon"):
        SyntheticLoss(LECTURE_SPACE, "alpha", {"alpha": 0.5, "epsilon": 0.5})({"alpha": 0.1})
