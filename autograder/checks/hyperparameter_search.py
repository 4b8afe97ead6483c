"""Grader cases for 01_hyperparameter_search.

Samplers are judged by their distribution on ranges drawn from the grader's
generator (see `course_lib.checks.hyperparameter_search`) and by their randomness:
two seeds must give different values, not the same values reordered, and one
sample (size=1) from each of SINGLE_SEEDS generators seeded by the grader must
be spread like the distribution; random_search on a
synthetic loss whose valley is placed at random, zoom against the reference
on trials drawn at random.
"""

import numpy as np

from autograder.case import Case, global_ref
from autograder.reference import hyperparameter_search as ref
from course_lib.checks.hyperparameter_search import (
    INVALID_BETA,
    INVALID_LOG,
    SINGLE_SEEDS,
    VALID_BETA,
    VALID_LOG,
    draw_order_problem,
    random_problem,
    rng_problem,
    sample_problem,
    search_problem,
    single_draws_problem,
    value_error_problem,
    zoom_mismatch,
    zoom_problem,
)
from course_lib.search_space import DIMENSIONS
from course_lib.synthetic_loss import LECTURE_SPACE, SyntheticLoss

DRAW = "course_lib.search_drivers:draw_samples"
DRAW_SINGLE = "course_lib.search_drivers:draw_across_seeds"
VALUE_ERRORS = "course_lib.search_drivers:value_errors"
SEARCH = "course_lib.search_drivers:run_random_search"
SIZE = 2000
"""Samples per distribution case: a wrong scale misses its share by 20+ standard deviations."""

SAMPLERS = {scale: (dim.sampler, ref.SAMPLERS[dim.sampler])
            for scale, dim in DIMENSIONS.items() if dim.sampler}
"""scale -> (the notebook's sampler, the reference's)."""


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


def _distribution_case(scale, low, high, size, rng):
    name, reference = SAMPLERS[scale]
    seed = _seed(rng)
    expected = reference(low, high, size, np.random.default_rng(seed))

    def judge(draws):
        x = draws["first"]
        return (sample_problem(x, low, high, size, scale)
                or draw_order_problem(x, expected, low, high, scale)
                or random_problem(x, draws["other"], name))
    return Case(f"{name}({low:.6g}, {high:.6g}, size={size}, rng)", DRAW,
                (global_ref(name), low, high, size, seed, seed + 1), judge)


def _single_case(scale, low, high, rng):
    """size=1 from SINGLE_SEEDS generators seeded by the grader: random and spread right."""
    name, _ = SAMPLERS[scale]
    seeds = [_seed(rng) for _ in range(SINGLE_SEEDS)]

    def judge(draws):
        if not isinstance(draws, list) or len(draws) != len(seeds):
            return "the single samples could not be read"
        return single_draws_problem(draws, low, high, scale)
    return Case(f"{name}({low:.6g}, {high:.6g}, size=1, rng) for {SINGLE_SEEDS} seeds",
                DRAW_SINGLE, (global_ref(name), low, high, seeds), judge)


def _rng_case(scale, low, high, rng):
    name, _ = SAMPLERS[scale]
    seed = _seed(rng)

    def judge(draws):
        return rng_problem(draws, name)
    return Case(f"{name}({low:.6g}, {high:.6g}) twice with the same seed", DRAW,
                (global_ref(name), low, high, 50, seed, seed + 1), judge)


def _errors_case(scale, valid, invalid, rule):
    name, _ = SAMPLERS[scale]
    bounds = [tuple(b) for b in valid + invalid]
    flags = [True] * len(valid) + [False] * len(invalid)

    def judge(outcomes):
        return value_error_problem(outcomes, bounds, flags, name, rule)
    return Case(f"{name} on valid and invalid bounds", VALUE_ERRORS,
                (global_ref(name), [tuple(float(v) for v in b) for b in bounds], 0), judge)


def sample_log_uniform_cases(rng):
    """Bounds, decade shares, draw order and randomness (size=1 included) on several ranges."""
    return [_distribution_case("log", 1e-4, 1.0, SIZE, rng),
            _distribution_case("log", *_log_range(rng), SIZE, rng),
            _distribution_case("log", *_log_range(rng), SIZE, rng),
            _single_case("log", *_log_range(rng), rng)]


def sample_log_uniform_rng_cases(rng):
    """Same seed, same samples whatever the global np.random; other seed, other samples."""
    return [_rng_case("log", *_log_range(rng), rng)]


def sample_log_uniform_errors_cases(rng):
    """ValueError exactly when 0 < low < high fails."""
    valid = VALID_LOG + [_log_range(rng)]
    low, high = _log_range(rng)
    return [_errors_case("log", valid, INVALID_LOG + [(high, low)], "0 < low < high")]


def sample_beta_cases(rng):
    """Bounds, shares of 1 - beta per decade and draw order on [0.9, 0.999] and random ranges."""
    return [_distribution_case("beta", 0.9, 0.999, SIZE, rng),
            _distribution_case("beta", *_beta_range(rng), SIZE, rng),
            _distribution_case("beta", *_beta_range(rng), SIZE, rng),
            _single_case("beta", *_beta_range(rng), rng)]


def sample_beta_rng_cases(rng):
    """Same seed, same samples whatever the global np.random; other seed, other samples."""
    return [_rng_case("beta", *_beta_range(rng), rng)]


def sample_beta_errors_cases(rng):
    """ValueError exactly when 0 <= low < high < 1 fails."""
    valid = VALID_BETA + [_beta_range(rng)]
    low, high = _beta_range(rng)
    return [_errors_case("beta", valid, INVALID_BETA + [(high, low)], "0 <= low < high < 1")]


def _mixed_space(rng):
    """A space with one hyperparameter of each scale, ranges drawn at random."""
    lo = float(rng.uniform(0.0, 0.4))
    return {"learning_rate": (*_log_range(rng), "log"), "beta": (*_beta_range(rng), "beta"),
            "keep_prob": (lo, lo + float(rng.uniform(0.3, 0.6)), "linear")}


def _positions(space, rng):
    return {name: float(rng.uniform(0.05, 0.95)) for name in space}


def _search_case(label, space, important, num_trials, rng):
    positions = _positions(space, rng)
    loss = SyntheticLoss(space, important, positions)

    def judge(run):
        return search_problem(run, space, num_trials, loss)
    return Case(f"random_search {label}, num_trials = {num_trials}", SEARCH,
                (global_ref("random_search"), space, important, positions, num_trials,
                 _seed(rng)), judge)


def random_search_cases(rng):
    """Trials, best (lowest loss), ranges, scales and determinism on synthetic losses."""
    return [_search_case("over the lecture's (alpha, epsilon)", LECTURE_SPACE, "alpha", 200, rng),
            _search_case("over a log, a beta and a linear range", _mixed_space(rng),
                         "learning_rate", 150, rng),
            _search_case("with few trials", _mixed_space(rng), "beta", 4, rng)]


def _zoom_trials(space, num_trials, top, margin, rng):
    """Random trials on a synthetic loss, such that the best trial sets an end of a new range."""
    while True:
        loss = SyntheticLoss.random(space, next(iter(space)), rng)
        columns = {name: ref.sample(low, high, scale, num_trials, rng)
                   for name, (low, high, scale) in space.items()}
        trials = []
        for i in range(num_trials):
            params = {name: float(values[i]) for name, values in columns.items()}
            trials.append({**params, "loss": loss(params)})
        ranked = sorted(trials, key=lambda t: t["loss"])
        without_best = ref.zoom(ranked[1:], space, top=top, margin=margin)
        if any(not lo <= ranked[0][n] <= hi for n, (lo, hi, _) in without_best.items()) and (
                _tells_apart(trials, space, top, margin)):
            return trials


def _tells_apart(trials, space, top, margin):
    """Whether every zoom mistake that can show on `space` gives another space than the rule."""
    expected = ref.zoom(trials, space, top=top, margin=margin)
    scales = {scale for _, _, scale in space.values()}
    return all(zoom_mismatch(variant, expected, {}) is not None
               for mistake, variant in ref.zoom_variants(trials, space, top, margin).items()
               if mistake != "zoom_zero_width_when_tied"
               and (mistake != "zoom_beta_in_log_beta" or "beta" in scales))


def _tied(trials, top, name):
    """The trials with the `top` best sharing the best trial's value of `name`."""
    ranked = sorted(trials, key=lambda t: t["loss"])
    return [{**t, name: ranked[0][name]} if i < top else t for i, t in enumerate(ranked)]


def _zoom_case(label, space, num_trials, top, margin, rng, *, tie=None):
    trials = _zoom_trials(space, num_trials, top, margin, rng)
    if tie:
        trials = _tied(trials, top, tie)
    expected = ref.zoom(trials, space, top=top, margin=margin)
    variants = ref.zoom_variants(trials, space, top, margin)

    def judge(new_space):
        return (zoom_problem(new_space, trials, space, top)
                or zoom_mismatch(new_space, expected, variants))
    return Case(f"zoom {label} (top={top}, margin={margin})", "zoom", (trials, space), judge,
                kwargs={"top": top, "margin": margin})


def zoom_cases(rng):
    """The new ranges contain the best trials, shrink, and follow the rule exactly (ties too)."""
    return [_zoom_case("on 30 trials over the lecture's (alpha, epsilon)", LECTURE_SPACE, 30, 5,
                       0.1, rng),
            _zoom_case("on 40 trials over a log, a beta and a linear range", _mixed_space(rng),
                       40, 4, 0.25, rng),
            _zoom_case("with a wide margin", _mixed_space(rng), 25, 3, 1.0, rng),
            _zoom_case("where the top trials share their keep_prob", _mixed_space(rng), 20, 4,
                       0.2, rng, tie="keep_prob")]


CHECKS = {
    "test_sample_log_uniform": sample_log_uniform_cases,
    "test_sample_log_uniform_rng": sample_log_uniform_rng_cases,
    "test_sample_log_uniform_errors": sample_log_uniform_errors_cases,
    "test_sample_beta": sample_beta_cases,
    "test_sample_beta_rng": sample_beta_rng_cases,
    "test_sample_beta_errors": sample_beta_errors_cases,
    "test_random_search": random_search_cases,
    "test_zoom": zoom_cases,
}
