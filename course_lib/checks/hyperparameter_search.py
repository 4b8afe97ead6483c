"""Declarations of 01_hyperparameter_search's graded cells (see `course_lib.exercise`).

A sampler or random_search may draw in any order, so its result is never compared as a
whole: a named mistake is recognised by its first `HEAD` draws from the same generator, the
rest by the `diagnose` of its properties. They run through `course_lib.search_drivers` (a
call's first argument names the driver); zoom is called directly and compared exactly.

>>> x = 10 ** np.random.default_rng(0).uniform(-4, 0, 4000)
>>> sample_problem(x, LogUniform(1e-4, 1.0), 4000, {}) is None
True
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from course_lib import search_drivers
from course_lib.checking import contract_problem, matches, unchanged_arguments
from course_lib.exercise import Call, Exercise, call_student, declare, visible_checks
from course_lib.search_space import Dimension, LogUniform, OneMinusLogUniform, dimension
from course_lib.synthetic_loss import SyntheticLoss

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

SHARE_SIGMAS = 6.0
"""Tolerance of a bin's share, in binomial standard deviations sqrt(p (1 - p) / n).

A correct sampler exceeds it in a given bin with probability about 2e-9; the mistakes the
checks target miss their shares by 20 or more standard deviations at the sample sizes used
(2000 and more)."""

HALF_BAND = 0.2
"""random_search with n >= 100 trials: the share of a hyperparameter's values in the lower
half of its range (on its scale) must be within 0.5 +- HALF_BAND (at n = 100 that is
4 standard deviations; sampling a 'log' range of 3 or more decades uniformly puts
less than 3 % of the values there)."""

RTOL = 1e-9
"""Relative tolerance of every comparison (values computed by the same formula)."""

HEAD = 5
"""How many first draws (samples, trials, generators) identify a result as a mistake's."""

SINGLE_SEEDS = 200
"""Generators, seeded differently, that each draw one sample (size=1) in a randomness check."""


def head(value: Any) -> Any:
    """`value` with every array and list of draws cut to its first `HEAD` entries.

    >>> head({"first": np.arange(9.0), "outcomes": ["ValueError"] * 7})["first"]
    array([0., 1., 2., 3., 4.])
    """
    if isinstance(value, np.ndarray):
        return value[:HEAD] if value.ndim else value
    if isinstance(value, (list, tuple)) and not all(isinstance(v, str) for v in value):
        return type(value)(head(v) for v in value[:HEAD])
    if isinstance(value, dict):
        return {k: head(v) for k, v in value.items()}
    return value


def alike(a: Any, b: Any, rtol: float = RTOL) -> bool:
    """Whether plain data `a` is `b`: same containers, types and strings, numbers at `rtol`."""
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(
            alike(a[k], b[k], rtol) for k in b)
    if isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(
            alike(x, y, rtol) for x, y in zip(a, b, strict=True))
    if b is None or isinstance(b, (str, bool, np.ndarray)):
        return type(a) is type(b) and (
            a.dtype == b.dtype and matches(a, b, rtol) if isinstance(b, np.ndarray) else a == b)
    return isinstance(a, (int, float)) and not isinstance(a, bool) and matches(a, b, rtol)


# ------------------------------------------------------------- the samplers' diagnoses


def share_table(exponents: np.ndarray, a: float,
                b: float) -> list[tuple[float, float, float, float, float]]:
    """[(lo, hi, share, expected, tolerance)] of the exponents over the bins of [a, b]: whole
    decades (an end narrower than a quarter decade joins its neighbour), halved while < 4."""
    inner = [k for k in range(math.floor(a) + 1, math.ceil(b)) if k - a >= 0.25 and b - k >= 0.25]
    edges = np.array([a, *inner, b], dtype=np.float64)
    while edges.size - 1 < 4:
        edges = np.sort(np.concatenate([edges, (edges[:-1] + edges[1:]) / 2]))
    counts = np.histogram(np.clip(exponents, a, b), bins=edges)[0]
    p = (edges[1:] - edges[:-1]) / (b - a)
    return list(zip(edges[:-1], edges[1:], counts / exponents.size, p,
                    SHARE_SIGMAS * np.sqrt(p * (1 - p) / exponents.size), strict=True))


def _spread_right(exponents, a, b):
    return bool(np.all((exponents >= a - 1e-9) & (exponents <= b + 1e-9))) and all(
        abs(share - p) <= tol for _, _, share, p, tol in share_table(exponents, a, b))


def array_problem(x: Any, size: int | None, dim: Dimension) -> str | None:
    """None, or what is wrong with the type, shape or finiteness of samples (size None: any)."""
    if isinstance(x, dict) and "value_error" in x:
        message = x["value_error"]
        hint = (": rng.uniform(a, b) needs a <= b, so the bounds of r are swapped; draw r from "
                f"{dim.bounds_of_r} (the smaller bound first)" if "high - low" in message
                else dim.error_note)
        return f"{dim.sampler} raised ValueError for valid bounds ({message}){hint}"
    if isinstance(x, str) and x.startswith("<"):  # an object, not data
        return f"the result of {dim.sampler} should be a numpy array, not a {x[1:-1]}"
    if problem := contract_problem(x, np.zeros(1), name=f"the result of {dim.sampler}"):
        return problem
    if size is not None and x.shape != (size,):
        how = ("draw a 1-D array with size=size" if x.size == size else
               "draw `size` samples in one call (pass size to the generator)")
        return f"the samples have shape {x.shape} but should have shape ({size},): {how}"
    if not np.all(np.isfinite(x)):
        return "the samples contain nan or inf"
    return None


def sample_problem(x: Any, dim: Dimension, size: int | None,
                   hints: Mapping[str, str]) -> str | None:
    """None, or a sentence naming what is wrong with samples x of the range of `dim`."""
    if problem := array_problem(x, size, dim):
        return problem
    low, high = dim.low, dim.high
    a, b = sorted(float(c) for c in dim.coordinate(np.array([low, high])))
    with np.errstate(divide="ignore", invalid="ignore"):
        exponents, natural = dim.coordinate(x), dim.coordinate(x, log=np.log)
    inside = bool(np.all((x >= low * (1 - RTOL) - 1e-300) & (x <= high * (1 + RTOL))))
    if inside and _spread_right(exponents, a, b):
        return None
    if "natural_exp" in hints and _spread_right(natural, a, b):
        return hints["natural_exp"]
    if not inside:
        lo, hi = sorted(dim.coordinate(np.array([low, high]), log=np.log))
        if np.all((exponents >= lo - 1e-9) & (exponents <= hi + 1e-9)):
            return ("the exponents run between the natural logarithms of the bounds: take "
                    f"np.log10 of them, since the samples are {dim.formula}")
        return (f"every sample must lie in [low, high] = [{low:.3g}, {high:.3g}], but they "
                f"range from {np.min(x):.3g} to {np.max(x):.3g}")
    if "uniform" in hints and _spread_right((x - low) / (high - low), 0.0, 1.0):
        return hints["uniform"]
    lo, hi, share, p, tol = max(share_table(exponents, a, b),
                                key=lambda row: abs(row[2] - row[3]) / row[4])
    return (f"the samples are not spread evenly over the decades: {share:.1%} of them have "
            f"{dim.formula} with r in [{lo:.2f}, {hi:.2f}], but that slice should get {p:.1%} "
            f"(tolerance {tol:.1%})")


def random_problem(first: np.ndarray, other: Any, name: str) -> str | None:
    """None, or why samples for two different seeds are not random draws.

    A fixed set of values (a grid on the log scale) shuffled with `rng` follows the
    distribution and depends on the seed only through its order: two seeds give the same
    values. Random samples of a continuous distribution never share a value.
    """
    if (isinstance(other, np.ndarray) and first.size > 1 and first.shape == other.shape
            and not np.array_equal(first, other)
            and np.array_equal(np.sort(first, axis=None), np.sort(other, axis=None))):
        return (f"{name} gave the same values, in another order, for generators with different "
                "seeds: the samples come from a fixed set (a grid such as np.logspace, "
                "shuffled?), not at random; draw every exponent r with rng.uniform")
    return None


# ------------------------------------------------------------------ the exercise kinds


@dataclass
class Judged(Exercise):
    """A named mistake when the result's `head` is that mistake's, else `self.diagnose`."""

    dim: type[Dimension] = LogUniform

    def same(self, result: Any, expected: Any) -> bool:
        return alike(head(result), expected, self.rtol)

    def assess(self, result: Any, expected: Any, known: dict[str, Any],
               call: Call | None = None) -> tuple[str | None, str | None]:
        named = [m for m, value in known.items() if self.same(result, value)]
        return ((named[0], self.mistakes[named[0]]) if named
                else (None, self.diagnose(call, result, expected)))


@dataclass
class Driven(Judged):
    """Calls `course_lib.search_drivers.<call.args[0]>(function, *call.args[1:])`."""

    def request(self, call: Call) -> tuple[str, tuple, dict]:
        driver, *args = call.args
        return (f"course_lib.search_drivers:{driver}", ({"__global__": self.function}, *args),
                call.kwargs)

    def run(self, call: Call, functions: tuple[Callable, ...]) -> Any:
        driver, *args = call.args
        student = unchanged_arguments(functions[0])
        return call_student(lambda *a: getattr(search_drivers, driver)(student, *a),
                            self.function, Call(call.label, tuple(args)))

    def reference_call(self, solve: Callable, call: Call, flags: dict[str, bool]) -> Any:
        driver, *args = call.args
        reference = functools.wraps(solve)(lambda *a, **k: solve(*a, **k, **flags))
        return head(getattr(search_drivers, driver)(reference, *args))


class Distribution(Driven):
    def diagnose(self, call: Call, result: Any, expected: Any) -> str | None:
        dim = self.dim(*call.args[1:3])
        if call.args[0] == "draw_samples":
            return (sample_problem(result["first"], dim, call.args[3], self.mistakes)
                    or random_problem(result["first"], result["other"], self.function))
        # one sample per generator (size=1, many seeds): random and spread right too
        where = f"{self.function}(low={dim.low:.3g}, high={dim.high:.3g}, size=1, rng)"
        for x in result:
            if problem := array_problem(x, 1, dim):
                return f"{where}: {problem}"
        x, n = np.concatenate(result).astype(np.float64), len(result)
        distinct = np.unique(x).size
        if distinct == 1:
            which = next((end for end, v in (("low", dim.low), ("high", dim.high))
                          if np.isclose(x[0], v, rtol=RTOL, atol=0)), f"{x[0]:.6g}")
            return (f"{where} returns {which} for every generator ({n} seeds tried): one "
                    "sample must be random too (a grid such as np.logspace with one point is "
                    "just low); draw r with rng.uniform")
        if distinct < n:
            return (f"{where} gave only {distinct} distinct values for {n} generators with "
                    "different seeds: draw r with rng.uniform, not from a fixed set of values")
        problem = sample_problem(x, dim, n, self.mistakes)
        return problem and f"{where}, one sample from each of {n} generators: {problem}"


class Rng(Driven):
    def diagnose(self, call: Call, draws: dict[str, Any], expected: Any) -> str | None:
        """None, or why the samples do not come from (and only from) the `rng` argument."""
        first, second, other = draws["first"], draws["second"], draws["other"]
        for value in (first, second, other):
            if problem := array_problem(value, None, self.dim(*call.args[1:3])):
                return problem
        if not np.array_equal(first, second):
            return self.mistakes["global_rng"]
        if np.array_equal(first, other):
            return (f"{self.function} gave the same samples for generators with different "
                    "seeds: draw from the `rng` argument instead of a generator of your own")
        return random_problem(first, other, self.function)


class Errors(Driven):
    def diagnose(self, call: Call, outcomes: list[Any], expected: list[Any]) -> str | None:
        """None, or which (low, high) was handled otherwise than the reference handles it."""
        for (low, high), outcome, wanted in zip(call.args[1], outcomes, expected, strict=True):
            where = f"{self.function}(low={low:g}, high={high:g}, ...)"
            said = outcome if isinstance(outcome, str) and not outcome.startswith("<") else None
            if wanted == "returned" and said != "returned":
                return (f"{where} should return samples but raised {said}" if said
                        else f"{where}: {array_problem(outcome, None, self.dim(1.0, 2.0))}")
            if wanted == "ValueError" and said != "ValueError":
                did = "raised " + said if said not in (None, "returned") else "returned samples"
                return f"{where} should raise ValueError ({self.dim.rule} fails) but {did}"
        return None


class Search(Driven):
    def diagnose(self, call: Call, run: dict[str, Any], expected: Any) -> str | None:
        """None, or what is wrong with a `run_random_search` result on its synthetic loss."""
        _, space, important, positions, num_trials, _ = call.args
        hints, loss = self.mistakes, SyntheticLoss(space, important, positions)
        returned, calls = run["first"]["returned"], run["first"]["calls"]
        if problem := contract_problem(returned, (None, None),
                                       name="random_search's result (best, trials)"):
            return problem
        best, trials = returned
        if not isinstance(trials, list):
            return ("trials should be a list of dicts (one per trial), not a "
                    f"{type(trials).__name__}")
        if len(calls) != num_trials:
            return (f"the objective was called {len(calls)} times for num_trials = {num_trials}"
                    ": evaluate each trial exactly once")
        if len(trials) != num_trials:
            return f"trials has {len(trials)} entries for num_trials = {num_trials}"
        for trial in [*trials, best]:
            where = "best: " if trial is best else ""
            if not isinstance(trial, dict):
                return f"{where}each trial should be a dict, not a {type(trial).__name__}"
            if set(trial) != {*space, "loss"}:
                return (f"{where}a trial has keys {sorted(trial)}; it should have one per "
                        f"hyperparameter {sorted(space)} and 'loss'")
            for key, value in trial.items():
                if isinstance(value, np.ndarray) and value.size == 1:
                    return where + hints["values_are_arrays"]
                if problem := contract_problem(value, 0.0, name=f"{where}trial[{key!r}]"):
                    return problem
        if not all(np.isclose(t["loss"], loss({n: t[n] for n in space}), rtol=RTOL, atol=1e-12)
                   for t in trials):
            return ("a trial's 'loss' is not the objective's value at that trial's "
                    "hyperparameters: store objective(params) with the params you passed")
        for name, spec in space.items():
            dim, values = dimension(*spec), np.array([trial[name] for trial in trials])
            if np.any(values < dim.low - RTOL * abs(dim.low)) or np.any(
                    values > dim.high + RTOL * abs(dim.high)):
                return (f"values of {name!r} range from {values.min():.6g} to "
                        f"{values.max():.6g}, outside its range [{dim.low:.6g}, {dim.high:.6g}]")
            distinct = np.unique(values).size
            if distinct < num_trials:
                return (f"{name!r} takes only {distinct} distinct values in {num_trials} trials: "
                        "draw every hyperparameter afresh for each trial (random search, not a "
                        "grid)")
            share = float(np.mean(dim.to_unit(values) < 0.5))
            if num_trials >= 100 and abs(share - 0.5) > HALF_BAND:
                return (f"{share:.0%} of the values of {name!r} lie in the lower half of its "
                        f"range on its {dim.scale!r} scale, where about half belong: sample "
                        f"{dim.scale!r} hyperparameters with "
                        f"{dim.sampler or 'rng.uniform(low, high)'}")
        if not any(alike(best, trial) for trial in trials):
            return "best should be one of the trials (the same dict of values and loss)"
        losses = [trial["loss"] for trial in trials]
        if best["loss"] > min(losses):
            return hints["keeps_worst"] if best["loss"] >= max(losses) else (
                "best is not the trial with the lowest loss")
        return None if alike(run["repeat"]["returned"], returned) else hints["global_rng"]


class Zoom(Judged):
    def diagnose(self, call: Call, new_space: Any,
                 expected: dict[str, tuple[float, float, str]]) -> str | None:
        """None, or why the new ranges do not each keep their scale, lie inside the old ones,
        contain the `top` best trials (the best above all), shrink and follow the rule."""
        (trials, space), top = call.args, call.kwargs["top"]
        if not isinstance(new_space, dict):
            return ("zoom should return a dict name -> (low, high, scale), not a "
                    f"{type(new_space).__name__}")
        if set(new_space) != set(space):
            return f"new_space has keys {sorted(new_space)}, but space has {sorted(space)}"
        ranked = sorted(trials, key=lambda trial: trial["loss"])
        for name, (low, high, scale) in space.items():
            spec, where = new_space[name], f"new_space[{name!r}]"
            if not (isinstance(spec, (tuple, list)) and len(spec) == 3):
                return f"{where} should be a tuple (low, high, scale), not a {type(spec).__name__}"
            if spec[2] != scale:
                return f"{where} should keep the scale {scale!r}, not {spec[2]!r}"
            for end, value in zip(("low", "high"), spec[:2], strict=True):
                if problem := contract_problem(value, 0.0, name=f"the {end} end of {where}"):
                    return problem
            new_low, new_high, _ = spec
            if new_low > new_high:
                why = f": the smallest {name} comes from the largest 1 - {name}"
                return f"{where} has low > high" + (why if scale == "beta" else "")
            if new_low < low - RTOL * abs(low) or new_high > high + RTOL * abs(high):
                return (f"the new range of {name!r} reaches outside the old one: clip it to "
                        "the old [low, high]")
            inside = [new_low - RTOL * abs(new_low) <= trial[name]
                      <= new_high + RTOL * abs(new_high) for trial in ranked[:top]]
            if not inside[0]:
                return (f"the new range of {name!r} does not contain the best trial (the lowest "
                        "loss): sort the trials by loss in increasing order and keep the first "
                        "`top`")
            if not all(inside):
                return f"the new range of {name!r} does not contain all of the `top` best trials"
            if new_low == new_high:
                return self.mistakes["zero_width_when_tied"]
        if alike(new_space, space):
            return ("zoom returned the old ranges: the new ones should span only the `top` best "
                    "trials (plus the margin), so that the next round searches a smaller region")
        return None if self.same(new_space, expected) else (
            "the new ranges do not follow the rule: on each hyperparameter's scale, span the "
            "`top` best trials, widen by margin x that span on each side, clip to the old range")


def samples_call(dim: type[Dimension], low: float, high: float, size: int, seed: int) -> Call:
    """`size` samples from generators seeded `seed` (twice) and `seed + 1`."""
    return Call(f"{dim.sampler}({low:.6g}, {high:.6g}, size={size}, rng)",
                ("draw_samples", low, high, size, seed, seed + 1))


def single_draws_call(dim: type[Dimension], low: float, high: float,
                      seeds: Sequence[int]) -> Call:
    return Call(f"{dim.sampler}({low:.6g}, {high:.6g}, size=1, rng) for {len(seeds)} seeds",
                ("draw_across_seeds", low, high, [int(s) for s in seeds]))


def errors_call(dim: type[Dimension], bounds: Iterable[tuple[float, float]]) -> Call:
    return Call(f"{dim.sampler} on valid and invalid bounds",
                ("value_errors", [(float(lo), float(hi)) for lo, hi in bounds], 0))


def search_call(label: str, space: Mapping[str, tuple[float, float, str]], important: str,
                positions: Mapping[str, float], num_trials: int, seed: int) -> Call:
    return Call(f"random_search {label}, num_trials = {num_trials}",
                ("run_random_search", space, important, positions, num_trials, seed))


def _sampler_cells(dim, low, high, bounds, mistakes, global_rng):
    name, grade = dim.sampler, f"test_{dim.sampler}"
    return (
        Distribution(grade, name, "samples", f"{name}: shape, bounds and the share of every "
                     "slice of r are right, and one sample per generator is random too.",
                     [samples_call(dim, low, high, 4000, 0),
                      single_draws_call(dim, low, high, range(SINGLE_SEEDS))],
                     mistakes, RTOL, dim=dim),
        Rng(f"{grade}_rng", name, "samples", f"{name}: the same seed gives the same samples "
            "(whatever np.random's state), another seed other samples.",
            [samples_call(dim, low, high, 50, 0)], {"global_rng": global_rng}, RTOL, dim=dim),
        Errors(f"{grade}_errors", name, "outcomes", f"{name}: ValueError exactly when "
               f"{dim.rule} fails.", [errors_call(dim, bounds)], {}, RTOL, dim=dim))


CHECK_SPACE = {"learning_rate": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta"),
               "keep_prob": (0.5, 1.0, "linear")}
CHECK_BEST = {"learning_rate": 0.3, "beta": 0.6, "keep_prob": 0.5}


def _trials(*rows):
    """Trials over CHECK_SPACE from rows (learning_rate, beta, keep_prob, loss)."""
    return [dict(zip([*CHECK_SPACE, "loss"], row, strict=True)) for row in rows]


ZOOM_TRIALS = _trials((0.02, 0.95, 0.9, 0.31), (0.5, 0.99, 0.6, 0.80), (0.005, 0.98, 0.7, 0.35),
                      (0.0002, 0.995, 0.95, 1.20), (0.05, 0.9, 0.8, 0.33),
                      (0.001, 0.999, 0.55, 0.90))
"""Six trials; the best three have learning rates 0.005 ... 0.05 and betas 0.9 ... 0.98."""

TIED_TRIALS = _trials((0.01, 0.99, 0.8, 0.20), (0.3, 0.9, 0.6, 0.90), (0.002, 0.95, 0.8, 0.25),
                      (0.05, 0.998, 0.8, 0.30), (0.0005, 0.92, 0.55, 0.70))
"""Five trials whose best three share keep_prob = 0.8 (the rule's other case)."""

EXERCISES = declare(
    "01_hyperparameter_search",
    *_sampler_cells(LogUniform, 1e-4, 1.0, [(1e-4, 1.0), (1e-8, 1e-6), (0.0, 1.0), (-1e-3, 1.0),
                                            (0.1, 0.1), (1.0, 1e-4), (-1.0, -0.1)], {
        "uniform": "sample_log_uniform spreads its samples evenly between low and high, so "
                   "most of them fall in the top decade: draw the exponent r uniformly instead, "
                   "so that each decade gets its share",
        "natural_exp": "sample_log_uniform returns np.exp(r) where 10**r is meant: r is a "
                       "base-10 exponent, so the samples are 10**r",
        "swapped": "sample_log_uniform draws the mirror image of the expected samples: the "
                   "bounds of r are swapped; draw r from [log10(low), log10(high)] with the "
                   "smaller bound first, as rng.uniform(smaller, larger) does",
    }, "sample_log_uniform gave different samples for generators seeded alike: draw from the "
       "`rng` argument (rng.uniform), not from np.random.* or a new generator"),
    *_sampler_cells(OneMinusLogUniform, 0.9, 0.999, [(0.9, 0.999), (0.0, 0.5), (0.9, 1.0),
                                                     (0.9, 1.5), (-0.1, 0.9), (0.99, 0.99),
                                                     (0.999, 0.9)], {
        "uniform": "sample_beta spreads its samples evenly between low and high, so most of "
                   "them fall in the top decade of 1 - beta: draw r = log10(1 - beta) uniformly "
                   "instead, so that each decade gets its share",
        "natural_exp": "sample_beta returns 1 - np.exp(r) where 1 - 10**r is meant: r is a "
                       "base-10 exponent",
        "swapped": "sample_beta draws the mirror image of the expected samples: the bounds of "
                   "r are swapped; draw r from [log10(1 - high), log10(1 - low)] with the "
                   "smaller bound first, as rng.uniform(smaller, larger) does",
        "forgot_one_minus": "sample_beta returns 10**r, which is 1 - beta, not beta: return "
                            "1 - 10**r",
        "r_from_minus_3_to_0": "sample_beta draws r from [-3, 0], so beta = 1 - 10**r reaches 0: "
                               "draw r from [log10(1 - high), log10(1 - low)]",
    }, "sample_beta gave different samples for generators seeded alike: draw from the `rng` "
       "argument (rng.uniform), not from np.random.* or a new generator"),
    Search("test_random_search", "random_search", ("best", "trials"),
           "random_search: trials, scales, best and use of rng are right.",
           [search_call("over a log, a beta and a linear range", CHECK_SPACE, "learning_rate",
                        CHECK_BEST, 200, 0),
            search_call("with few trials", CHECK_SPACE, "learning_rate", CHECK_BEST, 3, 0)], {
        "keeps_worst": "best is the trial with the highest loss: a loss is to be minimised, so "
                       "keep the trial with the lowest one (min, not max)",
        "values_are_arrays": "the trials hold arrays of shape (1,) (a sampler's result for "
                             "size=1): store one float per hyperparameter, e.g. float(x[0])",
        "global_rng": "two runs with generators seeded alike gave different trials: draw every "
                      "random number from the `rng` argument (pass it on to the samplers)",
    }, RTOL),
    Zoom("test_zoom", "zoom", "new_space",
         "zoom: the new ranges contain the best trials, lie inside the old ones and follow the "
         "rule.",
         [Call.of("zoom(trials, space, top=3, margin=0.1)", ZOOM_TRIALS, CHECK_SPACE, top=3,
                  margin=0.1),
          Call.of("zoom(trials, space, top=3, margin=0.25), the top trials sharing keep_prob",
                  TIED_TRIALS, CHECK_SPACE, top=3, margin=0.25)], {
        "linear_units": "widen each range on its own scale: for a 'log' hyperparameter add "
                        "margin x span in log10 units, for 'beta' in log10(1 - beta) units (in "
                        "linear units the lower end of a learning rate could fall to 0 or below)",
        "no_margin": "widen the span of the `top` best trials by margin x span on each side",
        "top_plus_one": "the new ranges span the top + 1 best trials: keep exactly `top` of them "
                        "(sorted by loss, then [:top])",
        "log_beta": "for a 'beta' hyperparameter work in log10(1 - beta), not in log10(beta): "
                    "near 1 what matters is the window 1/(1 - beta)",
        "margin_of_old_range": "widen by margin x the span of the `top` best trials, not margin "
                               "x the old range (that is only for top trials sharing a value)",
        "zero_width_when_tied": "a new range has zero width because the top trials share a "
                                "value: widen by margin x the old range instead (on its scale), "
                                "so that the new range is never empty",
    }, RTOL),
)
"""{grade_id: Exercise}: every graded cell of the notebook."""

__getattr__ = visible_checks(EXERCISES)
