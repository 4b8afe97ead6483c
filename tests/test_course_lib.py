"""Unit tests of the shared library, each against an independent reference."""

import json

import numpy as np
import pytest

from course_lib import codec, probe
from course_lib.checking import describe_mismatch, relative_error
from course_lib.gradcheck import numerical_gradient
from course_lib.toy_data import make_blobs, one_hot


def test_codec_round_trip_keeps_types_and_non_finite_values():
    value = {"A": np.array([[1.0, np.nan], [np.inf, -np.inf]]), "t": (1, 2.5, "x"),
             "l": [np.int64(3), None, True], "f": np.float64(-0.0)}
    back = codec.loads(codec.dumps(value))
    assert np.array_equal(back["A"], value["A"], equal_nan=True)
    assert back["t"] == (1, 2.5, "x") and back["l"] == [3, None, True]
    assert json.loads(codec.dumps(value))  # strict JSON: no NaN literals


def test_codec_builds_seeded_generators_and_refuses_objects():
    a = codec.decode(codec.rng_spec(5)).normal(size=3)
    assert np.array_equal(a, np.random.default_rng(5).normal(size=3))
    with pytest.raises(TypeError, match="cannot be sent"):
        codec.encode(object())


def test_codec_records_ndarray_subclasses():
    encoded = codec.encode(np.ma.masked_array([1.0, 2.0]))
    assert encoded["type"] == "MaskedArray"


def test_numerical_gradient_matches_closed_form():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 4))
    W = rng.normal(size=(3, 4))
    grad = numerical_gradient(lambda X: float(np.sum(np.sin(X) * W)), X)
    assert relative_error(grad, np.cos(X) * W) < 1e-8


def test_describe_mismatch_names_common_mistakes():
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    assert describe_mismatch(expected.copy(), expected, name="dZ") is None
    assert "wrong sign" in describe_mismatch(-expected, expected, name="dZ")
    assert "m = 3 times too large" in describe_mismatch(3 * expected, expected, name="dZ", m=3)
    assert "times too small" in describe_mismatch(expected / 3, expected, name="dZ", m=3)
    assert "(units, examples)" in describe_mismatch(expected.T, expected, name="dZ")
    assert "nan or inf" in describe_mismatch(expected * np.nan, expected, name="dZ")
    assert "return" in describe_mismatch(None, expected, name="dZ")
    assert "relative error" in describe_mismatch(expected + 1, expected, name="dZ")


def test_one_hot_and_blobs():
    assert one_hot([2, 0], 3).tolist() == [[0, 1], [0, 0], [1, 0]]
    X, Y = make_blobs(500, np.random.default_rng(1))
    assert X.shape == (2, 500) and Y.shape == (3, 500)
    assert np.all(Y.sum(axis=0) == 1)
    means = np.array([X[:, Y[k] == 1].mean(axis=1) for k in range(3)])
    assert np.allclose(means, [(-2, -1), (2, -1), (0, 2)], atol=0.25)


def test_probe_reports_results_and_student_errors():
    def double(x):
        return 2 * x

    def broken(x):
        raise ValueError("bad input")

    calls = [{"case": "a", "function": "double", "args": [codec.encode(np.ones(2))]},
             {"case": "b", "function": "broken", "args": [codec.encode(1.0)]},
             {"case": "c", "function": "missing", "args": []}]
    report = probe.collect({"double": double, "broken": broken},
                           probe.make_payload("test_x", calls))
    assert report["grade_id"] == "test_x"
    results = {r["case"]: r for r in report["results"]}
    assert codec.decode(results["a"]["value"]).tolist() == [2.0, 2.0]
    assert (results["b"]["error"], results["b"]["message"]) == ("ValueError", "bad input")
    assert results["c"]["error"] == "NameError"


def test_probe_drivers_must_come_from_course_lib():
    record = probe.call_one({"case": "x", "function": "os:getcwd", "args": []}, {})
    assert record["ok"] is False and record["error"] == "ImportError"
