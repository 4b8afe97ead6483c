"""course_lib.search_plots: axes on each hyperparameter's scale (smoke tests, Agg backend)."""

import doctest

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from course_lib import search_plots  # noqa: E402
from course_lib.search_plots import (  # noqa: E402
    best_marker,
    draw_space,
    plot_loss_map,
    plot_trials,
    shown,
)
from course_lib.synthetic_loss import SyntheticLoss  # noqa: E402

SPACE = {"learning_rate": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta"),
         "keep_prob": (0.5, 1.0, "linear")}


def test_doctests():
    assert doctest.testmod(search_plots).failed == 0


def test_beta_is_shown_as_one_minus_beta():
    assert np.allclose(shown([0.9, 0.99], "beta"), [0.1, 0.01])
    assert np.allclose(shown([0.9, 0.99], "log"), [0.9, 0.99])


def test_plots_draw_on_the_right_scales():
    loss = SyntheticLoss.random(SPACE, "learning_rate", np.random.default_rng(0))
    trials = [{"learning_rate": 0.01, "beta": 0.99, "keep_prob": 0.7, "loss": 0.3}]
    fig, ax = plt.subplots()
    plot_loss_map(ax, loss, SPACE, "learning_rate", "keep_prob", resolution=20)
    points = plot_trials(ax, trials, SPACE, "learning_rate", "keep_prob")
    draw_space(ax, {"learning_rate": (1e-3, 1e-1, "log"), "keep_prob": (0.6, 0.8, "linear")},
               "learning_rate", "keep_prob")
    best_marker(ax, trials[0], SPACE, "learning_rate", "keep_prob")
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "linear")
    assert ax.get_xlim() == (1e-4, 1.0) and ax.get_ylim() == (0.5, 1.0)
    assert np.allclose(points.get_offsets(), [[0.01, 0.7]])
    assert len(ax.patches) == 1
    fig2, ax2 = plt.subplots()
    plot_trials(ax2, trials, SPACE, "keep_prob", "beta")
    assert ax2.get_yscale() == "log" and ax2.get_ylabel() == "1 - beta"
    assert np.allclose(sorted(ax2.get_ylim()), [0.001, 0.1])
    plt.close(fig)
    plt.close(fig2)
