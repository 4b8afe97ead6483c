"""course_lib.search_drivers: plain data out, the global np.random reseeded between calls."""

import doctest

import numpy as np
import pytest

from autograder.reference import hyperparameter_search as ref
from course_lib import codec, search_drivers
from course_lib.search_drivers import draw_samples, plain, run_random_search, value_errors
from course_lib.synthetic_loss import LECTURE_SPACE


def test_doctests():
    assert doctest.testmod(search_drivers).failed == 0


def test_plain_converts_numpy_and_names_objects():
    value = plain({"a": np.float64(1.5), "b": (np.int64(2), [np.arange(3)]), "c": object()})
    assert value["a"] == 1.5 and type(value["a"]) is float
    assert value["b"][0] == 2 and value["b"][1][0].dtype == np.int64  # dtypes are kept
    assert type(plain(np.matrix([[1.0]]))) is np.matrix  # the grader names it
    assert value["c"] == "<object>"
    codec.dumps(value)  # sendable


def test_draw_samples_reports_same_seed_twice_and_another_seed():
    out = draw_samples(ref.sample_log_uniform, 1e-4, 1.0, 5, 3, 4)
    assert np.array_equal(out["first"], out["second"])
    assert np.array_equal(out["first"], ref.sample_log_uniform(1e-4, 1.0, 5,
                                                               np.random.default_rng(3)))
    assert not np.array_equal(out["first"], out["other"])


def test_draw_samples_exposes_a_sampler_that_reads_the_global_state():
    def global_sampler(low, high, size, rng):
        return np.random.uniform(low, high, size)

    out = draw_samples(global_sampler, 0.0, 1.0, 5, 3, 4)
    assert not np.array_equal(out["first"], out["second"])


def test_draw_samples_reports_value_errors_and_lets_not_implemented_through():
    assert draw_samples(ref.sample_log_uniform, 1.0, 0.1, 5, 0, 1)["first"] == {
        "value_error": "need 0 < low < high, got low=1.0, high=0.1"}

    def stub(low, high, size, rng):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        draw_samples(stub, 0.1, 1.0, 5, 0, 1)
    with pytest.raises(NotImplementedError):
        value_errors(stub, [(0.1, 1.0)], 0)


def test_value_errors_outcomes():
    def picky(low, high, size, rng):
        if low < 0:
            raise TypeError("negative")
        return ref.sample_log_uniform(low, high, size, rng)

    def listed(low, high, size, rng):
        return list(ref.sample_log_uniform(low, high, size, rng))

    returned, error, raised = value_errors(picky, [(0.1, 1.0), (0.0, 1.0), (-1.0, 1.0)], 0)
    assert (returned, error) == ("returned", "ValueError")
    assert raised.startswith("TypeError at line ") and raised.endswith(": negative")
    assert isinstance(value_errors(listed, [(0.1, 1.0)], 0)[0], list)


def test_run_random_search_records_calls_and_repeats():
    positions = {"alpha": 0.4, "epsilon": 0.6}
    out = run_random_search(ref.random_search, LECTURE_SPACE, "alpha", positions, 7, 11)
    best, trials = out["first"]["returned"]
    assert len(out["first"]["calls"]) == 7 and len(trials) == 7
    assert [{k: t[k] for k in LECTURE_SPACE} for t in trials] == out["first"]["calls"]
    assert out["repeat"]["returned"] == out["first"]["returned"]
    assert best == min(trials, key=lambda t: t["loss"])
    codec.dumps(out)
