"""The two-moons data set of course_lib.moons."""

import numpy as np

from course_lib.moons import make_moons


def test_moons_shapes_labels_and_reproducibility():
    X, Y = make_moons(400, np.random.default_rng(0), noise=0.0)
    assert X.shape == (2, 400) and Y.shape == (1, 400) and X.dtype == np.float64
    assert set(np.unique(Y)) == {0.0, 1.0} and 150 < Y.sum() < 250
    upper, lower = X[:, Y[0] == 0], X[:, Y[0] == 1]
    assert np.allclose(np.hypot(*upper), 1.0) and np.all(upper[1] >= 0)
    assert np.allclose(np.hypot(lower[0] - 1.0, lower[1] - 0.5), 1.0) and np.all(lower[1] <= 0.5)
    again, _ = make_moons(400, np.random.default_rng(0), noise=0.0)
    assert np.array_equal(X, again)
