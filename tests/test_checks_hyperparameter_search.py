"""course_lib.checks.hyperparameter_search: the judges, over many seeds.

The distribution checks compare the share of samples per decade (or slice of the
exponent) with the exact share, within SHARE_SIGMAS binomial standard deviations. Here
we justify that tolerance: correct samplers pass for every one of thousands of seeds, on
the ranges the visible checks and the grader use, and each targeted mistake fails for
every seed, with its hint.
"""

import doctest

import numpy as np
import pytest

from autograder.checks.hyperparameter_search import SIZE, _beta_range, _log_range
from autograder.reference import hyperparameter_search as ref
from course_lib.checking import CheckFailed
from course_lib.checks import hyperparameter_search as checks
from course_lib.checks.hyperparameter_search import (
    SINGLE_SEEDS,
    bin_edges,
    draw_order_problem,
    random_problem,
    rng_problem,
    sample_problem,
    search_problem,
    share_table,
    single_draws_problem,
    value_error_problem,
    zoom_mismatch,
    zoom_problem,
)
from course_lib.search_drivers import draw_across_seeds, draw_samples, run_random_search
from course_lib.synthetic_loss import LECTURE_SPACE, SyntheticLoss

SEEDS = range(2000)


def test_doctests():
    assert doctest.testmod(checks).failed == 0


def test_bin_edges_are_decades_cut_finer_when_few():
    assert np.allclose(bin_edges(-4, 0), [-4, -3, -2, -1, 0])
    assert np.allclose(bin_edges(-3, -1), [-3, -2.5, -2, -1.5, -1])
    assert np.allclose(bin_edges(-6.1, -1.2), [-6.1, -5, -4, -3, -2, -1.2])  # slivers joined
    edges = bin_edges(-2.3, -2.0)
    assert len(edges) == 5 and np.allclose(np.diff(edges), 0.075)


def test_share_table_expected_shares_sum_to_one():
    rows = share_table(np.linspace(-5.5, -1.2, 1000), -5.5, -1.2)
    assert sum(p for _, _, _, p, _ in rows) == pytest.approx(1.0)
    assert sum(s for _, _, s, _, _ in rows) == pytest.approx(1.0)


def _ranges(kind, count):
    rng = np.random.default_rng(123)
    fixed = [(1e-4, 1.0)] if kind == "log" else [(0.9, 0.999)]
    draw = _log_range if kind == "log" else _beta_range
    return fixed + [draw(rng) for _ in range(count)]


SAMPLERS = {"log": ref.sample_log_uniform, "beta": ref.sample_beta}


@pytest.mark.parametrize("scale", ["log", "beta"])
def test_correct_samplers_pass_for_every_seed(scale):
    """2000 seeds x 6 ranges at the grader's size, and the visible check's 4000 samples."""
    ranges = _ranges(scale, 5)
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        for low, high in ranges:
            x = SAMPLERS[scale](low, high, SIZE, rng)
            assert sample_problem(x, low, high, SIZE, scale) is None, (seed, low, high)
        low, high = ranges[0]
        x = SAMPLERS[scale](low, high, 4000, rng)
        assert sample_problem(x, low, high, 4000, scale) is None, seed


def _log_mistakes():
    def uniform(low, high, size, rng):
        return rng.uniform(low, high, size)

    def exp(low, high, size, rng):
        return np.exp(rng.uniform(np.log10(low), np.log10(high), size))

    def natural_bounds(low, high, size, rng):
        return 10 ** rng.uniform(np.log(low), np.log(high), size)

    def column(low, high, size, rng):
        return 10 ** rng.uniform(np.log10(low), np.log10(high), (size, 1))

    return {uniform: "spread evenly between low and high", exp: "np.exp(r)",
            natural_bounds: "ln(low) and ln(high)", column: "should have shape"}


def _beta_mistakes():
    def uniform(low, high, size, rng):
        return rng.uniform(low, high, size)

    def minus_3_rand(low, high, size, rng):
        return 1 - 10 ** (-3 * rng.random(size))

    def forgot_one_minus(low, high, size, rng):
        return 10 ** rng.uniform(np.log10(1 - high), np.log10(1 - low), size)

    def exp(low, high, size, rng):
        return 1 - np.exp(rng.uniform(np.log10(1 - high), np.log10(1 - low), size))

    def row(low, high, size, rng):
        return 1 - 10 ** rng.uniform(np.log10(1 - high), np.log10(1 - low), (1, size))

    return {uniform: "spread evenly between low and high", minus_3_rand: "[-3, 0]",
            forgot_one_minus: "they are 1 - beta", exp: "np.exp(r)", row: "should have shape"}


@pytest.mark.parametrize("scale, mistakes", [("log", _log_mistakes()), ("beta", _beta_mistakes())])
def test_each_sampler_mistake_fails_for_every_seed_with_its_hint(scale, mistakes):
    ranges = _ranges(scale, 5)
    for mistake, hint in mistakes.items():
        for seed in range(200):
            for low, high in ranges:
                with np.errstate(all="ignore"):
                    x = mistake(low, high, SIZE, np.random.default_rng(seed))
                problem = sample_problem(x, low, high, SIZE, scale)
                assert problem and hint in problem, (mistake.__name__, seed, low, high, problem)


@pytest.mark.parametrize("scale", ["log", "beta"])
def test_draw_order_fails_only_the_mirror_image(scale):
    low, high = _ranges(scale, 0)[0]
    a, b = ((np.log10(low), np.log10(high)) if scale == "log"
            else (np.log10(1 - high), np.log10(1 - low)))
    to_value = (lambda r: 10 ** r) if scale == "log" else (lambda r: 1 - 10 ** r)
    for seed in range(50):
        expected = SAMPLERS[scale](low, high, 500, np.random.default_rng(seed))
        u = np.random.default_rng(seed).random(500)
        assert draw_order_problem(expected, expected, low, high, scale) is None
        mirror = to_value(b + (a - b) * u)
        assert "mirror image" in draw_order_problem(mirror, expected, low, high, scale)
        other = SAMPLERS[scale](low, high, 500, np.random.default_rng(seed + 1000))
        assert draw_order_problem(other, expected, low, high, scale) is None


def test_rng_problem_names_global_state_and_ignored_rng():
    def global_state(low, high, size, rng):
        return 10 ** np.random.uniform(np.log10(low), np.log10(high), size)

    def own_generator(low, high, size, rng):
        return ref.sample_log_uniform(low, high, size, np.random.default_rng(0))

    def fresh_generator(low, high, size, rng):
        return ref.sample_log_uniform(low, high, size, np.random.default_rng())

    assert rng_problem(draw_samples(ref.sample_log_uniform, 1e-3, 1.0, 20, 1, 2), "s") is None
    for sampler, words in [(global_state, "seeded alike gave different"),
                           (own_generator, "different seeds"),
                           (fresh_generator, "seeded alike gave different")]:
        assert words in rng_problem(draw_samples(sampler, 1e-3, 1.0, 20, 1, 2), "s")


def _other_forms():
    """Right samplers written otherwise than the reference, for both scales."""
    def log_by_ratio(low, high, size, rng):
        return low * (high / low) ** rng.random(size)

    def beta_by_log_uniform(low, high, size, rng):
        return 1 - ref.sample_log_uniform(1 - high, 1 - low, size, rng)

    return {"log": [ref.sample_log_uniform, log_by_ratio],
            "beta": [ref.sample_beta, beta_by_log_uniform]}


@pytest.mark.parametrize("scale", ["log", "beta"])
def test_right_samplers_are_random_for_every_size_on_every_seed(scale):
    """500 grader-like draws of SINGLE_SEEDS seeds per sampler: size=1 spread right, and two
    seeds never give the same values reordered."""
    draw = _log_range if scale == "log" else _beta_range
    rng = np.random.default_rng(99)
    for sampler in _other_forms()[scale]:
        for _ in range(500):
            low, high = draw(rng)
            seeds = rng.integers(2**31, size=SINGLE_SEEDS)
            draws = draw_across_seeds(sampler, low, high, seeds)
            assert single_draws_problem(draws, low, high, scale) is None, (sampler, low, high)
            first, other = (sampler(low, high, 50, np.random.default_rng(s)) for s in seeds[:2])
            assert random_problem(first, other, "s") is None


def _not_random(scale):
    """Samplers that follow the distribution but are not random, with the words that name each."""
    def grid(low, high, size):
        if scale == "log":
            return np.logspace(np.log10(low), np.log10(high), size)
        return 1 - np.logspace(np.log10(1 - high), np.log10(1 - low), size)

    def shuffled_grid(low, high, size, rng):
        return rng.permutation(grid(low, high, size))

    def size_one_gives_low(low, high, size, rng):
        return np.array([low]) if size == 1 else SAMPLERS[scale](low, high, size, rng)

    def size_one_constant(low, high, size, rng):
        return grid(low, high, 3)[1:2] if size == 1 else SAMPLERS[scale](low, high, size, rng)

    def size_one_from_few(low, high, size, rng):
        return rng.choice(grid(low, high, 4), 1) if size == 1 else SAMPLERS[scale](
            low, high, size, rng)

    return {shuffled_grid: "same values, in another order", size_one_gives_low: "returns low",
            size_one_constant: "for every generator", size_one_from_few: "only 4 distinct"}


@pytest.mark.parametrize("scale", ["log", "beta"])
def test_samplers_that_are_not_random_fail_on_every_seed_with_their_name(scale):
    draw = _log_range if scale == "log" else _beta_range
    rng = np.random.default_rng(7)
    for sampler, words in _not_random(scale).items():
        for _ in range(50):
            low, high = draw(rng)
            seeds = rng.integers(2**31, size=SINGLE_SEEDS)
            draws = draw_samples(sampler, low, high, SIZE, int(seeds[0]), int(seeds[1]))
            problem = (random_problem(draws["first"], draws["other"], "s")
                       or single_draws_problem(draw_across_seeds(sampler, low, high, seeds),
                                               low, high, scale))
            assert problem and words in problem, (sampler.__name__, problem)
        with pytest.raises(CheckFailed, match=words):
            (checks.check_sample_log_uniform if scale == "log" else checks.check_sample_beta)(
                sampler)


def test_value_error_problem():
    bounds = [(0.1, 1.0), (0.0, 1.0)]
    assert value_error_problem(["returned", "ValueError"], bounds, [True, False], "f", "r") is None
    assert "should raise ValueError" in value_error_problem(
        ["returned", "returned"], bounds, [True, False], "f", "0 < low")
    assert "not TypeError" in value_error_problem(
        ["returned", "TypeError: x"], bounds, [True, False], "f", "0 < low")
    assert "should return samples" in value_error_problem(
        ["ValueError", "ValueError"], bounds, [True, False], "f", "0 < low")


SPACE = {"learning_rate": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta"),
         "keep_prob": (0.5, 1.0, "linear")}
POSITIONS = {"learning_rate": 0.3, "beta": 0.6, "keep_prob": 0.5}


def test_correct_random_search_passes_for_every_seed():
    """HALF_BAND at the grader's smallest n = 150 (4.9 standard deviations): 150 seeds pass."""
    loss = SyntheticLoss(SPACE, "learning_rate", POSITIONS)
    for seed in range(150):
        run = run_random_search(ref.random_search, SPACE, "learning_rate", POSITIONS, 150, seed)
        assert search_problem(run, SPACE, 150, loss) is None, seed


def _search(best="min", sampler="scale", rng_source="rng"):
    def random_search(objective, space, num_trials, rng):
        source = np.random if rng_source == "global" else rng
        columns = {}
        for name, (low, high, scale) in space.items():
            if sampler == "uniform" or scale == "linear":
                columns[name] = source.uniform(low, high, num_trials)
            else:
                columns[name] = ref.sample(low, high, scale, num_trials, source)
        trials = []
        for i in range(num_trials):
            params = {n: float(v[i]) for n, v in columns.items()}
            trials.append({**params, "loss": objective(params)})
        pick = max if best == "max" else min
        return pick(trials, key=lambda t: t["loss"]), trials
    return random_search


@pytest.mark.parametrize("search, words", [
    (_search(best="max"), "highest loss"),
    (_search(sampler="uniform"), "lower half"),
    (_search(rng_source="global"), "seeded alike gave different trials"),
])
def test_random_search_mistakes_fail_for_every_seed(search, words):
    loss = SyntheticLoss(SPACE, "learning_rate", POSITIONS)
    for seed in range(50):
        run = run_random_search(search, SPACE, "learning_rate", POSITIONS, 100, seed)
        problem = search_problem(run, SPACE, 100, loss)
        assert problem and words in problem, (seed, problem)


def test_search_problem_reads_malformed_results():
    loss = SyntheticLoss(LECTURE_SPACE, "alpha", {"alpha": 0.5, "epsilon": 0.5})
    base = run_random_search(ref.random_search, LECTURE_SPACE, "alpha",
                             {"alpha": 0.5, "epsilon": 0.5}, 5, 0)
    best, trials = base["first"]["returned"]

    def with_returned(returned, calls=None):
        first = {"returned": returned, "calls": base["first"]["calls"] if calls is None else calls}
        return {"first": first, "repeat": base["repeat"]}

    cases = [
        (with_returned(best), "should be a tuple of 2 values, not a dict"),
        (with_returned([best, trials]), "should be a tuple of 2 values, not a list"),
        (with_returned((best, tuple(trials))), "should be a list"),
        (with_returned((best, trials[:4])), "4 entries"),
        (with_returned((best, trials), calls=base["first"]["calls"] * 2), "called 10 times"),
        (with_returned((best, [{**t, "loss": 0.0} for t in trials])), "objective's value"),
        (with_returned((best, [{k: v for k, v in t.items() if k != "loss"} for t in trials])),
         "keys"),
        (with_returned((best, [{**t, "alpha": "<ndarray>"} for t in trials])),
         "trial['alpha'] should be a float, not a str"),
        (with_returned((best, [{**t, "alpha": np.array([t["alpha"]])} for t in trials])),
         "trial['alpha'] is an array of shape (1,): return a float"),
        (with_returned((best, [{**t, "alpha": True} for t in trials])), "is a bool"),
        (with_returned(({**best, "alpha": best["alpha"] * 1.5}, trials)), "one of the trials"),
    ]
    for run, words in cases:
        problem = search_problem(run, LECTURE_SPACE, 5, loss)
        assert problem and words in problem, (words, problem)


def _zoom_inputs(seed):
    rng = np.random.default_rng(seed)
    loss = SyntheticLoss.random(SPACE, "learning_rate", rng)
    _, trials = ref.random_search(loss, SPACE, 30, rng)
    return trials


def test_zoom_problem_accepts_the_reference_and_names_mistakes():
    for seed in range(100):
        trials = _zoom_inputs(seed)
        expected = ref.zoom(trials, SPACE, top=5, margin=0.2)
        assert zoom_problem(expected, trials, SPACE, 5) is None
        assert zoom_mismatch(expected, expected, {}) is None
        assert "old ranges" in zoom_problem(dict(SPACE), trials, SPACE, 5)
        worst = ref.zoom([{**t, "loss": -t["loss"]} for t in trials], SPACE, top=5, margin=0.2)
        # the worst trials may happen to surround the best one; the rule still fails them
        assert (zoom_problem(worst, trials, SPACE, 5) or zoom_mismatch(worst, expected, {}))
    for seed in range(100, 110):  # trials where the best one sets an end (as the grader's)
        trials = _zoom_inputs(seed)
        ranked = sorted(trials, key=lambda t: t["loss"])
        trials = [{**ranked[0], "learning_rate": 1e-4}, *ranked[1:]]
        worst = ref.zoom([{**t, "loss": -t["loss"]} for t in trials], SPACE, top=5, margin=0.2)
        assert "best trial" in zoom_problem(worst, trials, SPACE, 5)
    trials = _zoom_inputs(0)
    expected = ref.zoom(trials, SPACE, top=5, margin=0.2)
    flipped = {**expected, "beta": (expected["beta"][1], expected["beta"][0], "beta")}
    assert "largest log10(1 - beta)" in zoom_problem(flipped, trials, SPACE, 5)
    wider = {**expected, "keep_prob": (0.4, 1.0, "linear")}
    assert "clip it" in zoom_problem(wider, trials, SPACE, 5)
    assert "keep the scale" in zoom_problem(
        {**expected, "beta": (*expected["beta"][:2], "log")}, trials, SPACE, 5)
    assert "a dict" in zoom_problem([expected], trials, SPACE, 5)
    assert "rule" in zoom_mismatch({**expected, "keep_prob": (0.6, 0.9, "linear")}, expected, {})


def test_visible_checks_pass_on_the_reference(capsys):
    for check, function in [
            (checks.check_sample_log_uniform, ref.sample_log_uniform),
            (checks.check_sample_log_uniform_rng, ref.sample_log_uniform),
            (checks.check_sample_log_uniform_errors, ref.sample_log_uniform),
            (checks.check_sample_beta, ref.sample_beta),
            (checks.check_sample_beta_rng, ref.sample_beta),
            (checks.check_sample_beta_errors, ref.sample_beta),
            (checks.check_random_search, ref.random_search),
            (checks.check_zoom, ref.zoom)]:
        check(function)
    out = capsys.readouterr().out
    assert "r in [-4.00, -3.00]:  25.4%" in out and "zoom: the new ranges" in out


def _same(a, b):
    """Frozen values equal the reference's: arrays, spaces, lists and dicts of them."""
    if isinstance(a, dict):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and not isinstance(a[-1], str):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, tuple):  # (low, high, scale)
        return a[2] == b[2] and np.allclose(a[:2], b[:2], rtol=1e-14, atol=0)
    return np.allclose(a, b, rtol=1e-14, atol=0)


def test_visible_constants_are_the_references():
    """Every frozen value of the visible checks (mistakes' results too) is the reference's."""
    for name, value in ref.visible_values().items():
        assert _same(getattr(checks, name), value), name


def test_every_zoom_mistake_has_a_hint_and_a_visible_value():
    zoom_mistakes = {m for m, (f, _) in ref.MISTAKES.items() if f == "zoom"}
    assert set(ref.MISTAKES) <= set(checks.HINTS)
    for _expected, variants in checks.ZOOM_EXPECTED:
        assert set(variants) == zoom_mistakes


def test_visible_checks_name_the_mistakes():
    mistakes = _log_mistakes()
    for mistake, hint in mistakes.items():
        with pytest.raises(CheckFailed, match=hint.replace("(", r"\(").replace(")", r"\)")):
            with np.errstate(all="ignore"):
                checks.check_sample_log_uniform(mistake)
    with pytest.raises(CheckFailed, match="highest loss"):
        checks.check_random_search(_search(best="max"))

    def zoom_linear(trials, space, top=5, margin=0.1):
        kept = sorted(trials, key=lambda t: t["loss"])[:top]
        out = {}
        for name, (low, high, scale) in space.items():
            v = np.array([t[name] for t in kept])
            w = v.max() - v.min()
            out[name] = (max(v.min() - margin * w, low), min(v.max() + margin * w, high), scale)
        return out

    with pytest.raises(CheckFailed, match="on its own scale"):
        checks.check_zoom(zoom_linear)
