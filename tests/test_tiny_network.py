"""course_lib.tiny_network: correct gradients, the lecture's momentum rule, a deterministic
objective whose value depends first on the learning rate and also on beta, and no graded
function of 04 inside (its outputs are sigmoids, not a softmax)."""

import doctest

import numpy as np
import pytest

from course_lib import tiny_network
from course_lib.gradcheck import numerical_gradient
from course_lib.search_space import check_space
from course_lib.tiny_network import SEARCH_SPACE, TinyNetworkTask


@pytest.fixture(scope="module")
def task() -> TinyNetworkTask:
    return TinyNetworkTask()


def test_doctests() -> None:
    assert doctest.testmod(tiny_network).failed == 0


def test_search_space_is_the_lectures() -> None:
    check_space(SEARCH_SPACE)
    assert SEARCH_SPACE == {"learning_rate": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta")}


def test_gradients_match_numerical_ones(task: TinyNetworkTask) -> None:
    rng = np.random.default_rng(0)
    params = [p + 0.3 * rng.normal(size=p.shape) for p in task._initial]
    _, grads = task.cost_and_gradients(params)
    for k in range(4):
        def cost(P: np.ndarray, k: int = k) -> float:
            trial = list(params)
            trial[k] = P
            return task.cost_and_gradients(trial)[0]
        numeric = numerical_gradient(cost, params[k])
        assert np.max(np.abs(numeric - grads[k])) < 1e-7 * max(1.0, np.max(np.abs(numeric)))


def test_one_step_follows_the_lectures_momentum_rule() -> None:
    one = TinyNetworkTask(steps=1)
    _, grads = one.cost_and_gradients(one._initial)
    after = one.train(0.5, 0.9)
    for p0, g, p1 in zip(one._initial, grads, after, strict=True):
        assert np.allclose(p1, p0 - 0.5 * (1 - 0.9) * g, rtol=1e-12, atol=1e-15)


def test_objective_is_deterministic(task: TinyNetworkTask) -> None:
    """Same parameters, same loss: on this task, on a copy of the dict, on a new task.

    Its speed is measured by bench/tiny_network_objective.py, not here.
    """
    params = {"learning_rate": 0.05, "beta": 0.95}
    assert task(params) == task(dict(params)) == TinyNetworkTask()(params)


def test_learning_rate_matters_most_and_beta_moves_the_best_learning_rate(
        task: TinyNetworkTask) -> None:
    alphas = np.logspace(-4, 0, 9)
    betas = 1 - np.logspace(-1, -3, 5)
    table = np.array([[task({"learning_rate": a, "beta": b}) for a in alphas] for b in betas])
    assert np.all(np.isfinite(table))
    assert np.ptp(table[0]) > 0.7                       # along alpha at beta = 0.9
    best_alpha = alphas[np.argmin(table[0])]
    assert np.ptp(table[:, np.argmin(table[0])]) < np.ptp(table[0]) / 2   # along beta
    assert 1e-2 <= best_alpha <= 0.5                    # an interior optimum
    best_index = np.argmin(table, axis=1)
    assert best_index[-1] > best_index[0]               # beta near 1 wants a larger alpha
    untrained = task({"learning_rate": 0.0, "beta": 0.9})
    assert table.min() < 0.4 * untrained                # training takes most of the loss away


def test_huge_learning_rates_do_not_raise(task: TinyNetworkTask) -> None:
    for lr in (1e3, 1e300):
        result = task.evaluate(lr, 0.0)
        assert result["loss"] > 1 and 0 <= result["error"] <= 1


def test_outputs_are_one_sigmoid_per_class_not_a_softmax(task: TinyNetworkTask) -> None:
    """The cost is the sum of logistic losses, so 04's softmax and cross-entropy are not in it."""
    params = task._initial
    Z = task.scores(params, task.X_train)
    A = 0.5 * (1.0 + np.tanh(0.5 * Z))
    Y = task.Y_train
    logistic = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / Y.shape[1]
    assert task.cost_and_gradients(params)[0] == pytest.approx(logistic, rel=1e-12)
    assert not hasattr(tiny_network, "_softmax")


def test_budget_and_test_set_leave_the_default_objective_unchanged(task: TinyNetworkTask) -> None:
    """steps= gives the same run as a task built with that many steps; the default is the task's;
    the test set is new data of the same kind, and drawing it changed none of the other sets."""
    params = {"learning_rate": 0.05, "beta": 0.95}
    assert task(params, steps=30) == TinyNetworkTask(steps=30)(params)
    assert task(params, steps=100) == task(params)
    assert task(params, steps=30) > task(params)
    assert task.X_test.shape == task.X_val.shape and task.Y_test.shape == task.Y_val.shape
    assert not np.allclose(task.X_test, task.X_val)
    val, test = task.evaluate(0.05, 0.95), task.evaluate(0.05, 0.95, split="test")
    assert val["loss"] == task(params) and abs(test["loss"] - val["loss"]) < 0.5
