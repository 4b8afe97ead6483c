"""Visible checks of 01_hyperparameter_search, and the property tests the grader shares.

Samplers are checked by their **distribution**: with a seeded generator, every
sample lies in [low, high] and each decade (or equal slice of the exponent
range) receives its share of the samples, within `SHARE_SIGMAS` binomial
standard deviations of the exact share. The `*_problem` functions return None
or one sentence naming the mistake; the `check_*` functions run the student's
function on known inputs and raise `CheckFailed` with that sentence.

Example
-------
>>> import numpy as np
>>> x = 10 ** np.random.default_rng(0).uniform(-4, 0, 4000)
>>> sample_problem(x, 1e-4, 1.0, 4000, "log") is None
True
>>> print(sample_problem(np.random.default_rng(0).uniform(1e-4, 1, 4000), 1e-4, 1.0, 4000, "log"))
... # doctest: +ELLIPSIS
the samples are spread evenly between low and high...
"""

import math

import numpy as np

from course_lib.checking import (
    MODIFIED_ARGUMENT,
    CheckFailed,
    contract_problem,
    guards_arguments,
)
from course_lib.search_drivers import (
    draw_across_seeds,
    draw_samples,
    run_random_search,
    value_errors,
)
from course_lib.search_space import DIMENSIONS, coordinate, from_unit, to_unit
from course_lib.synthetic_loss import SyntheticLoss

SHARE_SIGMAS = 6.0
"""Tolerance of a bin's share, in binomial standard deviations sqrt(p (1 - p) / n).

A correct sampler exceeds it in a given bin with probability about 2e-9; the
mistakes the checks target miss their shares by 20 or more standard deviations
at the sample sizes used (2000 and more).
"""

MIN_BINS = 4
"""Fewest bins of a distribution check: ranges shorter than 4 decades are cut finer."""

HALF_BAND = 0.2
"""random_search with n >= 100 trials: the share of a hyperparameter's values in the lower
half of its range (on its scale) must be within 0.5 +- HALF_BAND (at n = 100 that is
4 standard deviations; sampling a 'log' range of 3 or more decades uniformly puts
less than 3 % of the values there)."""

RTOL = 1e-9
"""Relative tolerance of exact comparisons (values computed by the same formula)."""

WHAT = {scale: dim.sampler for scale, dim in DIMENSIONS.items() if dim.sampler}
SMALLER_FIRST = {"sample_log_uniform": "[log10(low), log10(high)]",
                 "sample_beta": "[log10(1 - high), log10(1 - low)]"}
"""The range of the exponent r of each sampler, smaller bound first."""

VALID_LOG = [(1e-4, 1.0), (1e-8, 1e-6)]
INVALID_LOG = [(0.0, 1.0), (-1e-3, 1.0), (0.1, 0.1), (1.0, 1e-4), (-1.0, -0.1)]
"""(low, high) for which sample_log_uniform must work / raise ValueError (0 < low < high)."""

VALID_BETA = [(0.9, 0.999), (0.0, 0.5)]
INVALID_BETA = [(0.9, 1.0), (0.9, 1.5), (-0.1, 0.9), (0.99, 0.99), (0.999, 0.9)]
"""(low, high) for which sample_beta must work / raise ValueError (0 <= low < high < 1)."""


def _fmt(x):
    return f"{x:.3g}"


def _coordinates(low, high, scale):
    """The exponent range [a, b] of a 'log' or 'beta' range (a < b)."""
    a, b = sorted(float(coordinate(v, scale)) for v in (low, high))
    return a, b


def _exponent(x, scale):
    with np.errstate(divide="ignore", invalid="ignore"):
        return coordinate(x, scale)


def bin_edges(a, b):
    """Edges of the bins of the exponent range [a, b]: whole decades, cut finer when few.

    A partial decade at either end narrower than a quarter decade joins its
    neighbour; while there are fewer than `MIN_BINS` bins, every bin is halved.
    """
    inner = [k for k in range(math.floor(a) + 1, math.ceil(b)) if k - a >= 0.25 and b - k >= 0.25]
    edges = np.array([a, *inner, b], dtype=np.float64)
    while edges.size - 1 < MIN_BINS:
        edges = np.sort(np.concatenate([edges, (edges[:-1] + edges[1:]) / 2]))
    return edges


def share_table(exponents, a, b):
    """[(lo, hi, share, expected, tolerance)] of the exponents over the bins of [a, b]."""
    edges = bin_edges(a, b)
    n = exponents.size
    counts = np.histogram(np.clip(exponents, a, b), bins=edges)[0]
    rows = []
    for lo, hi, count in zip(edges[:-1], edges[1:], counts, strict=True):
        p = (hi - lo) / (b - a)
        rows.append((lo, hi, count / n, p, SHARE_SIGMAS * math.sqrt(p * (1 - p) / n)))
    return rows


def _shares_ok(exponents, a, b):
    return all(abs(share - p) <= tol for _, _, share, p, tol in share_table(exponents, a, b))


def _uniform_ok(x, low, high):
    """Do x look uniform on [low, high] (equal linear bins, same tolerance)?"""
    u = (x - low) / (high - low)
    return bool(np.all((u >= -1e-9) & (u <= 1 + 1e-9))) and _shares_ok(u, 0.0, 1.0)


def array_problem(x, size, name):
    """None, or what is wrong with the type, shape or finiteness of returned samples.

    `size` is the number of samples asked for (None: do not check the shape).
    """
    if x is None:
        return f"{name} returned None: did you forget to `return` the samples?"
    if isinstance(x, dict) and "value_error" in x:
        message = x["value_error"]
        if "high - low" in message:
            hint = (": rng.uniform(a, b) needs a <= b, so the bounds of r are swapped; draw r "
                    f"from {SMALLER_FIRST[name]} (the smaller bound first)")
        elif name == "sample_beta":
            hint = (": if you call sample_log_uniform, pass it (1 - high, 1 - low), since "
                    "1 - high is the smaller")
        else:
            hint = ""
        return f"{name} raised ValueError for valid bounds ({message}){hint}"
    if isinstance(x, str) and x.startswith("<") and x != "<matrix>":  # an object, not data
        return f"the result of {name} should be a numpy array, not a {x[1:-1]}"
    if isinstance(x, str) and x == "<matrix>":  # what `plain` sends for an np.matrix
        x = np.matrix([[0.0]])
    problem = contract_problem(x, np.zeros(1), name=f"the result of {name}")
    if problem:
        return problem
    if size is not None and x.shape != (size,):
        if x.size == size:
            return (f"the samples have shape {x.shape} but should have shape ({size},): "
                    "draw a 1-D array with size=size")
        return (f"the samples have shape {x.shape} but should have shape ({size},): draw "
                "`size` samples in one call (pass size to the generator)")
    if not np.all(np.isfinite(x)):
        return "the samples contain nan or inf"
    return None


def _exp_hint(scale):
    return ("the samples look like np.exp(r) where 10**r is meant: r is a base-10 exponent, so "
            "the samples are " + DIMENSIONS[scale].formula)


def _natural_exponent(x, scale):
    with np.errstate(divide="ignore", invalid="ignore"):
        return coordinate(x, scale, log=np.log)


def _out_of_range_problem(x, low, high, scale):
    a, b = _coordinates(low, high, scale)
    natural = _natural_exponent(x, scale)
    if np.all((natural >= a - 1e-9) & (natural <= b + 1e-9)):
        return _exp_hint(scale)
    if scale == "beta":
        if np.all((x >= (1 - high) * (1 - RTOL)) & (x <= (1 - low) * (1 + RTOL))):
            return ("the samples lie in [1 - high, 1 - low]: they are 1 - beta, not beta; "
                    "return 1 - 10**r")
        if np.min(x) < low and np.max(1.0 - x) > 0.5:
            return (f"some samples are far below low = {_fmt(low)} (smallest {_fmt(np.min(x))}): "
                    "beta = 1 - 10**r reaches 0 when r reaches 0, so r must not range over "
                    "[-3, 0]; draw r from [log10(1 - high), log10(1 - low)]")
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            tens = np.log10(x)
        lo_e, hi_e = math.log(low), math.log(high)
        if np.all((tens >= lo_e - 1e-9) & (tens <= hi_e + 1e-9)):
            return ("the exponents run between ln(low) and ln(high): take np.log10 of the bounds, "
                    "since the samples are 10**r")
    return (f"every sample must lie in [low, high] = [{_fmt(low)}, {_fmt(high)}], but they range "
            f"from {_fmt(np.min(x))} to {_fmt(np.max(x))}")


def sample_problem(x, low, high, size, scale):
    """None, or a sentence naming what is wrong with samples x of a 'log' or 'beta' range."""
    name = WHAT[scale]
    problem = array_problem(x, size, name)
    if problem:
        return problem
    x = np.asarray(x, dtype=np.float64)
    inside = (x >= low * (1 - RTOL) - 1e-300) & (x <= high * (1 + RTOL))
    if scale == "log" and np.any(x <= 0):
        return "some samples are <= 0, but 10**r is always positive"
    if not np.all(inside):
        return _out_of_range_problem(x, low, high, scale)
    a, b = _coordinates(low, high, scale)
    exponents = _exponent(x, scale)
    if _shares_ok(exponents, a, b):
        return None
    natural = _natural_exponent(x, scale)
    if np.all((natural >= a - 1e-9) & (natural <= b + 1e-9)) and _shares_ok(natural, a, b):
        return _exp_hint(scale)
    if _uniform_ok(x, low, high):
        coordinate = "the exponent r" if scale == "log" else "r = log10(1 - beta)"
        return ("the samples are spread evenly between low and high, so most of them fall "
                "in the top decade" + (" of 1 - beta" if scale == "beta" else "")
                + f": draw {coordinate} uniformly instead, so that each decade gets its share")
    worst = max(share_table(exponents, a, b), key=lambda row: abs(row[2] - row[3]) / row[4])
    lo, hi, share, p, tol = worst
    of = "10**r" if scale == "log" else "1 - beta = 10**r"
    return (f"the samples are not spread evenly over the decades: {share:.1%} of them have "
            f"{of} with r in [{lo:.2f}, {hi:.2f}], but that slice should get {p:.1%} "
            f"(tolerance {tol:.1%})")


def draw_order_problem(x, expected, low, high, scale):
    """None unless x is the mirror image of the expected samples (bounds of r swapped).

    `expected` are the samples of the spec's formula from the same generator.
    A sampler that follows the distribution in another way is not failed here.
    """
    x = np.asarray(x, dtype=np.float64)
    mirror = from_unit(1.0 - to_unit(expected, low, high, scale), low, high, scale)
    if x.shape == mirror.shape and np.allclose(x, mirror, rtol=RTOL, atol=0) and not np.allclose(
            x, expected, rtol=RTOL, atol=0):
        return ("the samples are the mirror image of the expected ones: the bounds of r are "
                f"swapped; draw r from {SMALLER_FIRST[WHAT[scale]]} with the smaller bound first, "
                "as rng.uniform(smaller, larger) does")
    return None


SINGLE_SEEDS = 200
"""Generators, seeded differently, that each draw one sample (size=1) in a randomness check."""


def random_problem(first, other, name):
    """None, or why samples for two different seeds are not random draws.

    A fixed set of values (e.g. a grid on the log scale) shuffled with `rng` follows the
    distribution and depends on the seed, but only through its order: two seeds give the
    same values. Random samples of a continuous distribution never share a value.
    """
    if not (isinstance(first, np.ndarray) and isinstance(other, np.ndarray)):
        return None
    if first.shape == other.shape and np.array_equal(first, other):
        return None  # identical samples: whether they come from `rng` is `rng_problem`'s question
    if first.size > 1 and first.shape == other.shape and np.array_equal(
            np.sort(first, axis=None), np.sort(other, axis=None)):
        return (f"{name} gave the same values, in another order, for generators with different "
                "seeds: the samples come from a fixed set (a grid such as np.logspace, "
                "shuffled?), not at random; draw every exponent r with rng.uniform")
    return None


def single_draws_problem(draws, low, high, scale):
    """None, or why one sample per generator (size=1, many seeds) is not random and spread right.

    `draws` is what `draw_across_seeds` returned: one array of shape (1,) per seed.
    """
    name = WHAT[scale]
    call = f"{name}(low={_fmt(low)}, high={_fmt(high)}, size=1, rng)"
    for x in draws:
        problem = array_problem(x, 1, name)
        if problem:
            return f"{call}: {problem}"
    x = np.concatenate(draws).astype(np.float64)
    distinct = np.unique(x).size
    if distinct == 1:
        which = "low" if np.isclose(x[0], low, rtol=RTOL, atol=0) else (
            "high" if np.isclose(x[0], high, rtol=RTOL, atol=0) else f"{x[0]:.6g}")
        return (f"{call} returns {which} for every generator ({len(draws)} seeds tried): one "
                "sample must be random too (a grid such as np.logspace with one point is just "
                "low); draw r with rng.uniform")
    if distinct < len(draws):
        return (f"{call} gave only {distinct} distinct values for {len(draws)} generators with "
                "different seeds: draw r with rng.uniform, not from a fixed set of values")
    problem = sample_problem(x, low, high, len(draws), scale)
    if problem:
        return f"{call}, one sample from each of {len(draws)} generators: {problem}"
    return None


def rng_problem(draws, name):
    """None, or why the samples do not come from (and only from) the `rng` argument."""
    first, second, other = draws["first"], draws["second"], draws["other"]
    for value in (first, second, other):
        problem = array_problem(value, None, name)
        if problem:
            return problem
    if first.shape != second.shape or not np.array_equal(first, second):
        return (f"two calls of {name} with generators seeded alike gave different samples: draw "
                "from the `rng` argument (rng.uniform), not from np.random.* or a new generator")
    if first.shape == other.shape and np.array_equal(first, other):
        return (f"{name} gave the same samples for generators with different seeds: draw from "
                "the `rng` argument instead of a generator of your own")
    return random_problem(first, other, name)


def value_error_problem(outcomes, bounds, valid, name, rule):
    """None, or which (low, high) was handled wrongly. `valid[i]`: must bounds[i] work?"""
    for (low, high), outcome, ok in zip(bounds, outcomes, valid, strict=True):
        call = f"{name}(low={low:g}, high={high:g}, ...)"
        if ok and outcome != "returned":
            return f"{call} should return samples but raised {outcome}"
        if not ok and outcome == "returned":
            return f"{call} should raise ValueError ({rule} fails) but returned samples"
        if not ok and outcome != "ValueError":
            return f"{call} should raise ValueError ({rule} fails), not {outcome}"
    return None


def _describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


HINTS = {
    "search_keeps_worst": "best is the trial with the highest loss: a loss is to be minimised, "
                          "so keep the trial with the lowest one (min, not max)",
    "search_values_are_arrays": contract_problem(np.zeros(1), 0.0, name="{name}"),
    "zoom_linear_units": "widen each range on its own scale: for a 'log' hyperparameter add "
                         "margin x span in log10 units, for 'beta' in log10(1 - beta) units (in "
                         "linear units the lower end of a learning rate could fall to 0 or below)",
    "zoom_no_margin": "widen the span of the `top` best trials by margin x span on each side",
    "zoom_top_plus_one": "the new ranges span the top + 1 best trials: keep exactly `top` of them "
                         "(sorted by loss, then [:top])",
    "zoom_beta_in_log_beta": "for a 'beta' hyperparameter work in log10(1 - beta), not in "
                             "log10(beta): near 1 what matters is the window 1/(1 - beta)",
    "zoom_margin_of_old_range": "widen by margin x the span of the `top` best trials, not margin "
                                "x the old range (that is only for top trials sharing a value)",
    "zoom_zero_width_when_tied": "new_space[{name}] has zero width: its top trials share a value; "
                                 "widen by margin x the old range instead (on its scale), so "
                                 "that the new range is never empty",
}
"""The hint of each mistake of `autograder.reference.hyperparameter_search.MISTAKES`, by id.

Both layers show exactly these (`{name}` is the hyperparameter or the trial's entry).
The sampler mistakes are named by the diagnoses above (`sample_problem`, ...).
"""

ZOOM_RULE = ("the new ranges do not follow the rule: on each hyperparameter's scale, span the "
             "`top` best trials, widen by margin x that span on each side, clip to the old range")


def _trial_problem(trial, names):
    if not isinstance(trial, dict):
        return f"each trial should be a dict, not {_describe(trial)}"
    if set(trial) != set(names) | {"loss"}:
        return (f"a trial has keys {sorted(trial)}; it should have one per hyperparameter "
                f"{sorted(names)} and 'loss'")
    for key, value in trial.items():
        problem = contract_problem(value, 0.0, name=f"trial[{key!r}]")
        if problem:
            return problem
    return None


def _same_trial(a, b):
    return set(a) == set(b) and all(np.isclose(a[k], b[k], rtol=RTOL, atol=0) for k in a)


def search_problem(run, space, num_trials, loss):
    """None, or what is wrong with a `run_random_search` result on the objective `loss`."""
    returned, calls = run["first"]["returned"], run["first"]["calls"]
    if run["first"].get("modified"):
        return MODIFIED_ARGUMENT.format(function="random_search",
                                        argument=run["first"]["modified"][0])
    problem = contract_problem(returned, (None, None), name="random_search's result (best, trials)")
    if problem:
        return problem
    best, trials = returned
    if not isinstance(trials, list):
        return f"trials should be a list of dicts (one per trial), not {_describe(trials)}"
    if len(calls) != num_trials:
        return (f"the objective was called {len(calls)} times for num_trials = {num_trials}: "
                "evaluate each trial exactly once")
    if len(trials) != num_trials:
        return f"trials has {len(trials)} entries for num_trials = {num_trials}"
    names = list(space)
    for trial in [*trials, best]:
        problem = _trial_problem(trial, names)
        if problem:
            return problem if trial is not best else f"best: {problem}"
    for trial in trials:
        params = {name: trial[name] for name in names}
        if not np.isclose(trial["loss"], loss(params), rtol=RTOL, atol=1e-12):
            return ("a trial's 'loss' is not the objective's value at that trial's "
                    "hyperparameters: store objective(params) with the params you passed")
    for name, (low, high, scale) in space.items():
        values = np.array([trial[name] for trial in trials])
        if np.any(values < low - RTOL * abs(low)) or np.any(values > high + RTOL * abs(high)):
            return (f"values of {name!r} range from {values.min():.6g} to "
                    f"{values.max():.6g}, outside its range [{low:.6g}, {high:.6g}]")
        distinct = np.unique(values).size
        if distinct < num_trials:
            return (f"{name!r} takes only {distinct} distinct values in {num_trials} trials: draw "
                    "every hyperparameter afresh for each trial (random search, not a grid)")
        if num_trials >= 100:
            share = float(np.mean(to_unit(values, low, high, scale) < 0.5))
            if abs(share - 0.5) > HALF_BAND:
                sampler = DIMENSIONS[scale].sampler or "rng.uniform(low, high)"
                return (f"{share:.0%} of the values of {name!r} lie in the lower half of its "
                        f"range on its {scale!r} scale, where about half belong: sample "
                        f"{scale!r} hyperparameters with {sampler}")
    losses = np.array([trial["loss"] for trial in trials])
    if not any(_same_trial(best, trial) for trial in trials):
        return "best should be one of the trials (the same dict of values and loss)"
    if best["loss"] > losses.min():
        if best["loss"] >= losses.max():
            return HINTS["search_keeps_worst"]
        return "best is not the trial with the lowest loss"
    repeat = run["repeat"]["returned"]
    if not (isinstance(repeat, (tuple, list)) and len(repeat) == 2
            and isinstance(repeat[1], list) and len(repeat[1]) == len(trials)
            and all(isinstance(t, dict) and _same_trial(t, s)
                    for t, s in zip(repeat[1], trials, strict=True))):
        return ("two runs with generators seeded alike gave different trials: draw every random "
                "number from the `rng` argument (pass it on to the samplers)")
    return None


def _spec_problem(name, spec, scale):
    if not (isinstance(spec, (tuple, list)) and len(spec) == 3):
        return f"new_space[{name!r}] should be a tuple (low, high, scale), not {_describe(spec)}"
    low, high, new_scale = spec
    if new_scale != scale:
        return f"new_space[{name!r}] should keep the scale {scale!r}, not {new_scale!r}"
    for end, value in (("low", low), ("high", high)):
        problem = contract_problem(value, 0.0, name=f"the {end} end of new_space[{name!r}]")
        if problem:
            return problem
    return None


def zoom_problem(new_space, trials, space, top):
    """None, or what is wrong with `zoom`'s answer, judged by its properties alone.

    The new range of every hyperparameter must keep its scale, lie inside the
    old range, be wider than a point, contain the `top` best trials (the best one above
    all), and the space as a whole must shrink.
    """
    if not isinstance(new_space, dict):
        return f"zoom should return a dict name -> (low, high, scale), not {_describe(new_space)}"
    if set(new_space) != set(space):
        return f"new_space has keys {sorted(new_space)}, but space has {sorted(space)}"
    ranked = sorted(trials, key=lambda trial: trial["loss"])
    unchanged = True
    for name, (low, high, scale) in space.items():
        problem = _spec_problem(name, new_space[name], scale)
        if problem:
            return problem
        new_low, new_high, _ = new_space[name]
        if new_low > new_high:
            hint = (": for a 'beta' range, the smallest beta comes from the largest "
                    "log10(1 - beta)" if scale == "beta" else "")
            return f"new_space[{name!r}] has low > high{hint}"
        if new_low < low - RTOL * abs(low) or new_high > high + RTOL * abs(high):
            return (f"the new range of {name!r} reaches outside the old one: clip it to "
                    "the old [low, high]")

        def inside(value, lo=new_low, hi=new_high):
            return lo - RTOL * abs(lo) <= value <= hi + RTOL * abs(hi)

        if not inside(ranked[0][name]):
            return (f"the new range of {name!r} does not contain the best trial (the lowest "
                    "loss): sort the trials by loss in increasing order and keep the first `top`")
        if not all(inside(trial[name]) for trial in ranked[:top]):
            return f"the new range of {name!r} does not contain all of the `top` best trials"
        if new_low == new_high:
            return HINTS["zoom_zero_width_when_tied"].format(name=repr(name))
        unchanged = unchanged and np.isclose(new_low, low, rtol=RTOL) and np.isclose(
            new_high, high, rtol=RTOL)
    if unchanged:
        return ("zoom returned the old ranges: the new ones should span only the `top` best "
                "trials (plus the margin), so that the next round searches a smaller region")
    return None


def zoom_mismatch(new_space, expected, variants):
    """None if new_space matches `expected`; else the hint of the mistake it matches.

    `variants` maps a mistake id of `HINTS` to the space that mistake produces; when
    none matches, the sentence is the rule itself.
    """
    def same(a, b):
        return all(np.allclose(a[n][:2], b[n][:2], rtol=RTOL, atol=0) for n in b)

    if same(new_space, expected):
        return None
    for mistake, variant in variants.items():
        if same(new_space, variant):
            return HINTS[mistake]
    return ZOOM_RULE


# ---------------------------------------------------------------------------------------------
# Visible checks
# ---------------------------------------------------------------------------------------------

FIRST_LOG_SAMPLES = np.array([0.03530585630408593, 0.0011999049779393503,
                              0.0001458458566595887, 0.00011644223751767875,
                              0.17909396718478326])
"""sample_log_uniform(1e-4, 1.0, 5, np.random.default_rng(0)) by the notebook's formula."""

FIRST_BETA_SAMPLES = np.array([0.9812101473385005, 0.9965360355401082, 0.9987923334207672,
                               0.9989209159554618, 0.9576805048252247])
"""sample_beta(0.9, 0.999, 5, np.random.default_rng(0)) by the notebook's formula."""


def _raise_if(problem, context=""):
    if problem:
        raise CheckFailed(f"{context}{problem}")


def _print_shares(x, low, high, scale):
    a, b = _coordinates(low, high, scale)
    of = "10**r" if scale == "log" else "1 - beta = 10**r"
    print(f"share of samples with {of}, by slice of r:")
    for lo, hi, share, p, tol in share_table(_exponent(x, scale), a, b):
        print(f"  r in [{lo:5.2f}, {hi:5.2f}]: {share:6.1%}  (expected {p:.1%} +- {tol:.1%})")


SAMPLER_CHECKS = {"log": (1e-4, 1.0, FIRST_LOG_SAMPLES, VALID_LOG, INVALID_LOG, "0 < low < high"),
                  "beta": (0.9, 0.999, FIRST_BETA_SAMPLES, VALID_BETA, INVALID_BETA,
                           "0 <= low < high < 1")}
"""scale -> (low, high, first samples, valid bounds, invalid bounds, rule) of the visible checks."""


def _check_distribution(sampler, scale):
    name = WHAT[scale]
    low, high, first_samples = SAMPLER_CHECKS[scale][:3]
    size = 4000
    draws = draw_samples(sampler, low, high, size, 0, 1)
    x = draws["first"]
    _raise_if(sample_problem(x, low, high, size, scale),
              f"{name}({low:g}, {high:g}, {size}, rng): ")
    _raise_if(random_problem(x, draws["other"], name), f"{name}({low:g}, {high:g}, {size}, rng): ")
    _raise_if(single_draws_problem(draw_across_seeds(sampler, low, high, range(SINGLE_SEEDS)),
                                   low, high, scale))
    five = draw_samples(sampler, low, high, 5, 0, 1)["first"]
    _raise_if(draw_order_problem(five, first_samples, low, high, scale),
              f"{name}({low:g}, {high:g}, 5, np.random.default_rng(0)): ")
    _print_shares(x, low, high, scale)
    print(f"{name}: shape, bounds and the share of every slice of r are right.")


def _check_rng(sampler, scale):
    name = WHAT[scale]
    low, high = SAMPLER_CHECKS[scale][:2]
    _raise_if(rng_problem(draw_samples(sampler, low, high, 50, 0, 1), name))
    print(f"{name}: the same seed gives the same samples (whatever np.random's state), "
          "another seed other samples.")


def _check_errors(sampler, scale):
    name = WHAT[scale]
    valid, invalid, rule = SAMPLER_CHECKS[scale][3:]
    bounds = valid + invalid
    outcomes = value_errors(sampler, bounds, 0)
    _raise_if(value_error_problem(outcomes, bounds, [True] * len(valid) + [False] * len(invalid),
                                  name, rule))
    print(f"{name}: ValueError exactly when {rule} fails.")


@guards_arguments
def check_sample_log_uniform(sample_log_uniform):
    """Check sample_log_uniform on [1e-4, 1]: shape, bounds, share of each decade."""
    _check_distribution(sample_log_uniform, "log")


@guards_arguments
def check_sample_log_uniform_rng(sample_log_uniform):
    """Check that sample_log_uniform draws from its rng argument only."""
    _check_rng(sample_log_uniform, "log")


@guards_arguments
def check_sample_log_uniform_errors(sample_log_uniform):
    """Check that sample_log_uniform raises ValueError unless 0 < low < high."""
    _check_errors(sample_log_uniform, "log")


@guards_arguments
def check_sample_beta(sample_beta):
    """Check sample_beta on [0.9, 0.999]: shape, bounds, share of each slice of log10(1 - beta)."""
    _check_distribution(sample_beta, "beta")


@guards_arguments
def check_sample_beta_rng(sample_beta):
    """Check that sample_beta draws from its rng argument only."""
    _check_rng(sample_beta, "beta")


@guards_arguments
def check_sample_beta_errors(sample_beta):
    """Check that sample_beta raises ValueError unless 0 <= low < high < 1."""
    _check_errors(sample_beta, "beta")


CHECK_SPACE = {"learning_rate": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta"),
               "keep_prob": (0.5, 1.0, "linear")}
CHECK_BEST = {"learning_rate": 0.3, "beta": 0.6, "keep_prob": 0.5}


@guards_arguments
def check_random_search(random_search):
    """Check random_search on a synthetic loss: trials, best, scales, use of rng."""
    for num_trials in (200, 3):
        run = run_random_search(random_search, CHECK_SPACE, "learning_rate", CHECK_BEST,
                                num_trials, 0)
        loss = SyntheticLoss(CHECK_SPACE, "learning_rate", CHECK_BEST)
        _raise_if(search_problem(run, CHECK_SPACE, num_trials, loss),
                  f"num_trials = {num_trials}: ")
    best = run_random_search(random_search, CHECK_SPACE, "learning_rate", CHECK_BEST, 200,
                             0)["first"]["returned"][0]
    print(f"random_search: 200 trials, best loss {best['loss']:.4f} at learning_rate "
          f"{best['learning_rate']:.3g}; trials, scales, best and use of rng are right.")


ZOOM_SPACE = {"learning_rate": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta"),
              "keep_prob": (0.5, 1.0, "linear")}
ZOOM_TRIALS = [
    {"learning_rate": 0.02, "beta": 0.95, "keep_prob": 0.9, "loss": 0.31},
    {"learning_rate": 0.5, "beta": 0.99, "keep_prob": 0.6, "loss": 0.80},
    {"learning_rate": 0.005, "beta": 0.98, "keep_prob": 0.7, "loss": 0.35},
    {"learning_rate": 0.0002, "beta": 0.995, "keep_prob": 0.95, "loss": 1.20},
    {"learning_rate": 0.05, "beta": 0.9, "keep_prob": 0.8, "loss": 0.33},
    {"learning_rate": 0.001, "beta": 0.999, "keep_prob": 0.55, "loss": 0.90},
]
"""Six trials; the best three have learning rates 0.005 ... 0.05 and betas 0.9 ... 0.98."""

TIED_TRIALS = [
    {"learning_rate": 0.01, "beta": 0.99, "keep_prob": 0.8, "loss": 0.20},
    {"learning_rate": 0.3, "beta": 0.9, "keep_prob": 0.6, "loss": 0.90},
    {"learning_rate": 0.002, "beta": 0.95, "keep_prob": 0.8, "loss": 0.25},
    {"learning_rate": 0.05, "beta": 0.998, "keep_prob": 0.8, "loss": 0.30},
    {"learning_rate": 0.0005, "beta": 0.92, "keep_prob": 0.55, "loss": 0.70},
]
"""Five trials whose best three share keep_prob = 0.8 (the rule's other case)."""

ZOOM_INPUTS = [(ZOOM_TRIALS, ZOOM_SPACE, 3, 0.1), (TIED_TRIALS, ZOOM_SPACE, 3, 0.25)]
"""(trials, space, top, margin) of the visible zoom cases."""

ZOOM_EXPECTED = [
    ({
         'learning_rate': (0.003971641173621406, 0.06294627058970836, 'log'),
         'beta': (0.9, 0.9829732015495843, 'beta'),
         'keep_prob': (0.6799999999999999, 0.92, 'linear'),
     },
     {
         'zoom_linear_units': {
             'learning_rate': (0.0004999999999999998, 0.0545, 'log'),
             'beta': (0.9, 0.988, 'beta'),
             'keep_prob': (0.6799999999999999, 0.92, 'linear'),
         },
         'zoom_no_margin': {
             'learning_rate': (0.004999999999999999, 0.049999999999999996, 'log'),
             'beta': (0.9, 0.98, 'beta'),
             'keep_prob': (0.7, 0.9, 'linear'),
         },
         'zoom_top_plus_one': {
             'learning_rate': (0.0031547867224009647, 0.7924465962305569, 'log'),
             'beta': (0.9, 0.9920567176527572, 'beta'),
             'keep_prob': (0.57, 0.93, 'linear'),
         },
         'zoom_beta_in_log_beta': {
             'learning_rate': (0.003971641173621406, 0.06294627058970836, 'log'),
             'beta': (0.9, 0.9883811003756329, 'beta'),
             'keep_prob': (0.6799999999999999, 0.92, 'linear'),
         },
         'zoom_margin_of_old_range': {
             'learning_rate': (0.0019905358527674863, 0.12559432157547895, 'log'),
             'beta': (0.9, 0.9873808531103961, 'beta'),
             'keep_prob': (0.6499999999999999, 0.95, 'linear'),
         },
         'zoom_zero_width_when_tied': {
             'learning_rate': (0.003971641173621406, 0.06294627058970836, 'log'),
             'beta': (0.9, 0.9829732015495843, 'beta'),
             'keep_prob': (0.6799999999999999, 0.92, 'linear'),
         },
     }),
    ({
         'learning_rate': (0.000894427190999916, 0.11180339887498947, 'log'),
         'beta': (0.9, 0.999, 'beta'),
         'keep_prob': (0.675, 0.925, 'linear'),
     },
     {
         'zoom_linear_units': {
             'learning_rate': (0.0001, 0.062, 'log'),
             'beta': (0.938, 0.999, 'beta'),
             'keep_prob': (0.675, 0.925, 'linear'),
         },
         'zoom_no_margin': {
             'learning_rate': (0.0020000000000000005, 0.049999999999999996, 'log'),
             'beta': (0.95, 0.998, 'beta'),
             'keep_prob': (0.8, 0.8, 'linear'),
         },
         'zoom_top_plus_one': {
             'learning_rate': (0.00015811388300841894, 0.15811388300841894, 'log'),
             'beta': (0.9, 0.999, 'beta'),
             'keep_prob': (0.5, 0.8625, 'linear'),
         },
         'zoom_beta_in_log_beta': {
             'learning_rate': (0.000894427190999916, 0.11180339887498947, 'log'),
             'beta': (0.9383651525306597, 0.999, 'beta'),
             'keep_prob': (0.675, 0.925, 'linear'),
         },
         'zoom_margin_of_old_range': {
             'learning_rate': (0.00020000000000000004, 0.49999999999999994, 'log'),
             'beta': (0.9, 0.999, 'beta'),
             'keep_prob': (0.675, 0.925, 'linear'),
         },
         'zoom_zero_width_when_tied': {
             'learning_rate': (0.000894427190999916, 0.11180339887498947, 'log'),
             'beta': (0.9, 0.999, 'beta'),
             'keep_prob': (0.8, 0.8, 'linear'),
         },
     }),
]
"""(expected, {mistake id: what that mistake returns}) of each of ZOOM_INPUTS, from the
reference by `python -m autograder.reference.hyperparameter_search`; a test checks them."""


@guards_arguments
def check_zoom(zoom):
    """Check zoom on two sets of trials (one whose top trials share a value): exact ranges."""
    for (trials, space, top, margin), (expected, variants) in zip(ZOOM_INPUTS, ZOOM_EXPECTED,
                                                                   strict=True):
        new_space = zoom([dict(t) for t in trials], dict(space), top=top, margin=margin)
        context = f"zoom(trials, space, top={top}, margin={margin}): "
        _raise_if(zoom_problem(new_space, trials, space, top), context)
        _raise_if(zoom_mismatch(new_space, expected, variants), context)
        for name, (low, high, _) in new_space.items():
            print(f"  {name}: [{low:.4g}, {high:.4g}]  (was [{space[name][0]:g}, "
                  f"{space[name][1]:g}])")
    print("zoom: the new ranges contain the best trials, lie inside the old ones and match.")
