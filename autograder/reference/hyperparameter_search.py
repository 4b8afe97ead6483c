"""Reference solutions of 01_hyperparameter_search (one keyword flag per named mistake),
then the hidden calls of each graded cell: samplers on random ranges, random_search on
synthetic losses whose valley is placed at random, zoom on random trials. Instructor material.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from autograder.exercises import hidden
from course_lib.checks.hyperparameter_search import (
    EXERCISES,
    SINGLE_SEEDS,
    alike,
    errors_call,
    samples_call,
    search_call,
    single_draws_call,
)
from course_lib.exercise import Call
from course_lib.search_space import Linear, LogUniform, OneMinusLogUniform, dimension
from course_lib.synthetic_loss import LECTURE_SPACE, SyntheticLoss

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any


def sample_log_uniform(low: float, high: float, size: int, rng: np.random.Generator, *,
                       uniform: bool = False, natural_exp: bool = False, swapped: bool = False,
                       global_rng: bool = False) -> np.ndarray:
    """`size` values 10**r with r ~ U(log10 low, log10 high); ValueError unless 0 < low < high."""
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
    rng = np.random if global_rng else rng
    if uniform:
        return rng.uniform(low, high, size=size)
    a, b = np.log10(low), np.log10(high)
    r = b + (a - b) * rng.random(size) if swapped else rng.uniform(a, b, size=size)
    return np.exp(r) if natural_exp else 10.0 ** r


def sample_beta(low: float, high: float, size: int, rng: np.random.Generator, *,
                uniform: bool = False, natural_exp: bool = False, swapped: bool = False,
                forgot_one_minus: bool = False, r_from_minus_3_to_0: bool = False,
                global_rng: bool = False) -> np.ndarray:
    """`size` values 1 - 10**r with r ~ U(log10(1 - high), log10(1 - low))."""
    if not 0 <= low < high < 1:
        raise ValueError(f"need 0 <= low < high < 1, got low={low}, high={high}")
    rng = np.random if global_rng else rng
    if uniform:
        return rng.uniform(low, high, size=size)
    if r_from_minus_3_to_0:
        return 1.0 - 10.0 ** (-3.0 * rng.random(size))
    x = sample_log_uniform(1.0 - high, 1.0 - low, size, rng, natural_exp=natural_exp,
                           swapped=swapped)
    return x if forgot_one_minus else 1.0 - x


SAMPLERS = {"sample_log_uniform": sample_log_uniform, "sample_beta": sample_beta}
"""The samplers a search dimension's `sample` calls, by the notebook's names."""


def random_search(objective: Callable[[dict[str, float]], float],
                  space: Mapping[str, tuple[float, float, str]], num_trials: int,
                  rng: np.random.Generator, *, keeps_worst: bool = False,
                  values_are_arrays: bool = False, global_rng: bool = False
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(best, trials): `num_trials` random points of `space`, each evaluated once."""
    rng = np.random if global_rng else rng
    columns = {name: dimension(*spec).sample(num_trials, rng, SAMPLERS)
               for name, spec in space.items()}
    trials = []
    for i in range(num_trials):
        params = {name: float(values[i]) for name, values in columns.items()}
        loss = float(objective(dict(params)))
        if values_are_arrays:
            params = {name: values[i:i + 1] for name, values in columns.items()}
        trials.append({**params, "loss": loss})
    best = (max if keeps_worst else min)(trials, key=lambda trial: trial["loss"])
    return best, trials


def zoom(trials: Iterable[Mapping[str, float]], space: Mapping[str, tuple[float, float, str]],
         top: int = 5, margin: float = 0.1, *, linear_units: bool = False,
         no_margin: bool = False, top_plus_one: bool = False, log_beta: bool = False,
         margin_of_old_range: bool = False, zero_width_when_tied: bool = False
         ) -> dict[str, tuple[float, float, str]]:
    """The smaller space around the `top` best trials, widened by `margin` on each scale."""
    best = sorted(trials, key=lambda trial: trial["loss"])[:top + top_plus_one]
    new_space = {}
    for name, (low, high, scale) in space.items():
        dim = dimension(low, high, scale)
        if linear_units or (log_beta and isinstance(dim, OneMinusLogUniform)):
            dim = (Linear if linear_units else LogUniform)(low, high)
        u = dim.to_unit(np.array([trial[name] for trial in best]))
        span = u.max() - u.min()
        if margin_of_old_range or (span == 0 and not zero_width_when_tied):
            span = 1.0  # the old range is 1 wide in unit coordinates
        widen = 0.0 if no_margin else margin * span
        ends = [dim.from_unit(max(u.min() - widen, 0.0)), dim.from_unit(min(u.max() + widen, 1.0))]
        new_space[name] = (float(min(ends)), float(max(ends)), scale)
    return new_space


# ------------------------------------------------------------------ the hidden calls

SIZE = 2000
"""Samples per distribution call: a wrong scale misses its share by 20+ standard deviations."""


def _seed(rng):
    return int(rng.integers(2**31))


def _log_range(rng):
    """A range of 2.5 to 5 decades somewhere in [1e-7, 1e2]."""
    low = 10.0 ** rng.uniform(-7.0, -3.0)
    return float(low), float(low * 10.0 ** rng.uniform(2.5, 5.0))


def _beta_range(rng):
    """A range whose 1 - beta spans 2 to 4 decades (high up to 1 - 1e-5)."""
    top = rng.uniform(-1.5, -0.5)
    bottom = top - rng.uniform(2.0, 4.0)
    return float(1.0 - 10.0 ** top), float(1.0 - 10.0 ** bottom)


def _distribution_calls(dim, fixed, draw, rng):
    """Bounds, shares and first draws on a fixed and two random ranges; size=1 on a third."""
    ranges = [fixed, draw(rng), draw(rng)]
    calls = [samples_call(dim, *bounds, SIZE, _seed(rng)) for bounds in ranges]
    low, high = draw(rng)
    return [*calls, single_draws_call(dim, low, high, [_seed(rng) for _ in range(SINGLE_SEEDS)])]


def _rng_calls(dim, draw, rng):
    return [samples_call(dim, *draw(rng), 50, _seed(rng))]


def _errors_calls(dim, draw, rng):
    """The visible bounds, a random valid range and the same reversed."""
    low, high = draw(rng)
    visible = EXERCISES[f"test_{dim.sampler}_errors"].visible[0].args[1]
    return [errors_call(dim, [*visible, (low, high), (high, low)])]


for _dim, _fixed, _draw in [(LogUniform, (1e-4, 1.0), _log_range),
                            (OneMinusLogUniform, (0.9, 0.999), _beta_range)]:
    _grade = f"test_{_dim.sampler}"
    hidden(EXERCISES[_grade])(functools.partial(_distribution_calls, _dim, _fixed, _draw))
    hidden(EXERCISES[f"{_grade}_rng"])(functools.partial(_rng_calls, _dim, _draw))
    hidden(EXERCISES[f"{_grade}_errors"])(functools.partial(_errors_calls, _dim, _draw))


def _mixed_space(rng):
    """A space with one hyperparameter of each scale, ranges drawn at random."""
    lo = float(rng.uniform(0.0, 0.4))
    return {"learning_rate": (*_log_range(rng), "log"), "beta": (*_beta_range(rng), "beta"),
            "keep_prob": (lo, lo + float(rng.uniform(0.3, 0.6)), "linear")}


def _search_call(label, space, important, num_trials, rng):
    positions = {name: float(rng.uniform(0.05, 0.95)) for name in space}
    return search_call(label, space, important, positions, num_trials, _seed(rng))


@hidden(EXERCISES["test_random_search"])
def search_calls(rng: np.random.Generator) -> list[Call]:
    """Trials, best (lowest loss), ranges, scales and determinism on synthetic losses."""
    return [_search_call("over the lecture's (alpha, epsilon)", LECTURE_SPACE, "alpha", 200, rng),
            _search_call("over a log, a beta and a linear range", _mixed_space(rng),
                         "learning_rate", 150, rng),
            _search_call("with few trials", _mixed_space(rng), "beta", 4, rng)]


def _zoom_call(label, space, num_trials, top, margin, rng, *, tie=None):
    """Random trials on a synthetic loss such that the best trial sets an end of a new range
    and every zoom mistake that can show on `space` gives another space than the rule; with
    `tie`, the `top` best then share the best trial's value of `tie`."""
    mistakes = [m for m in EXERCISES["test_zoom"].mistakes if m != "zero_width_when_tied"
                and (m != "log_beta" or any(spec[2] == "beta" for spec in space.values()))]
    while True:
        loss = SyntheticLoss.random(space, next(iter(space)), rng)
        trials = random_search(loss, space, num_trials, rng)[1]
        ranked = sorted(trials, key=lambda t: t["loss"])
        without_best = zoom(ranked[1:], space, top=top, margin=margin)
        expected = zoom(trials, space, top, margin)
        if any(not lo <= ranked[0][n] <= hi for n, (lo, hi, _) in without_best.items()) and all(
                not alike(zoom(trials, space, top, margin, **{m: True}), expected)
                for m in mistakes):
            break
    if tie:
        trials = [{**t, tie: ranked[0][tie]} if i < top else t for i, t in enumerate(ranked)]
    return Call.of(f"zoom {label} (top={top}, margin={margin})", trials, space, top=top,
                   margin=margin)


@hidden(EXERCISES["test_zoom"])
def zoom_calls(rng: np.random.Generator) -> list[Call]:
    """The new ranges contain the best trials, shrink, and follow the rule exactly (ties too)."""
    return [_zoom_call("on 30 trials over the lecture's (alpha, epsilon)", LECTURE_SPACE, 30, 5,
                       0.1, rng),
            _zoom_call("on 40 trials over a log, a beta and a linear range", _mixed_space(rng),
                       40, 4, 0.25, rng),
            _zoom_call("with a wide margin", _mixed_space(rng), 25, 3, 1.0, rng),
            _zoom_call("where the top trials share their keep_prob", _mixed_space(rng), 20, 4,
                       0.2, rng, tie="keep_prob")]
