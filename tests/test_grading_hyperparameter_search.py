"""Grading 01_hyperparameter_search: each known mistake loses its points, right variants keep them.

Every submission is the master with one solution cell replaced. A sampler mistake usually
also costs the points of `random_search`, which samples with the student's samplers; those
cells are listed with the hint None (they must fail, whatever the message). The cases are
checked in process on several seeds (fast, no kernel); the issue's mistakes (MISTAKES) are
also graded end to end through `python -m autograder grade`, MORE_MISTAKES only in process.
"""

import numpy as np
import pytest

from course_lib.checking import MODIFIED_ARGUMENT, CheckFailed
from course_lib.checks import hyperparameter_search as checks
from course_lib.checks.hyperparameter_search import EXERCISES
from course_lib.search_space import from_unit, to_unit
from tests.helpers import (
    in_process_failures,
    solution_sources,
)

A = "01_hyperparameter_search"

LOG_CHECK = "    if not 0 < low < high:\n        raise ValueError('bounds')\n"
BETA_CHECK = "    if not 0 <= low < high < 1:\n        raise ValueError('bounds')\n"

LOG = EXERCISES["test_sample_log_uniform"].mistakes
BETA = EXERCISES["test_sample_beta"].mistakes
SEARCH = EXERCISES["test_random_search"].mistakes
ZOOM = EXERCISES["test_zoom"].mistakes
LOG_RNG = EXERCISES["test_sample_log_uniform_rng"].mistakes["global_rng"]
BETA_RNG = EXERCISES["test_sample_beta_rng"].mistakes["global_rng"]
"""The hints, from their one home (the declarations)."""


def _log(body, check=LOG_CHECK):
    return {"sample_log_uniform": "def sample_log_uniform(low, high, size, rng):\n" + check
                                  + body}


def _beta(body, check=BETA_CHECK):
    return {"sample_beta": "def sample_beta(low, high, size, rng):\n" + check + body}


_SAMPLE_ONE = '''\
def random_search(objective, space, num_trials, rng):
    trials = []
    for _ in range(num_trials):
        params = {}
        for name, (low, high, scale) in space.items():
            if scale == "log":
                params[name] = float(sample_log_uniform(low, high, 1, rng)[0])
            elif scale == "beta":
                params[name] = float(sample_beta(low, high, 1, rng)[0])
            else:
                params[name] = float(rng.uniform(low, high))
        trials.append({**params, "loss": objective(params)})
'''

_ZOOM_HEAD = "def zoom(trials, space, top=5, margin=0.1):\n"
_ZOOM_BODY = '''\
    new_space = {}
    for name, (low, high, scale) in space.items():
        u = to_unit(np.array([t[name] for t in kept]), low, high, scale)
        width = u.max() - u.min()
        lo, hi = max(u.min() - margin * width, 0.0), min(u.max() + margin * width, 1.0)
        new_space[name] = (float(from_unit(lo, low, high, scale)),
                           float(from_unit(hi, low, high, scale)), scale)
    return new_space
'''

try:
    float(np.ones(1))
    _ONE_ELEMENT_ARRAYS_ARE_FLOATS = True
except TypeError:  # NumPy >= 2.4: float() needs a 0-d array
    _ONE_ELEMENT_ARRAYS_ARE_FLOATS = False

# right answers written differently from the master: they must keep every point
RIGHT = {
    "log_uniform_by_power_of_ratio": _log("    return low * (high / low) ** rng.random(size)\n"),
    "log_uniform_by_natural_log": _log(
        "    return np.exp(rng.uniform(np.log(low), np.log(high), size=size))\n"),
    "log_uniform_one_at_a_time": _log(
        "    a, b = np.log10(low), np.log10(high)\n"
        "    return np.array([10 ** rng.uniform(a, b) for _ in range(size)])\n"),
    "beta_through_log_uniform": _beta(
        "    return 1 - sample_log_uniform(1 - high, 1 - low, size, rng)\n"),
    "search_one_trial_at_a_time": {"random_search": _SAMPLE_ONE
                                   + "    return min(trials, key=lambda t: t['loss']), trials\n"},
    "zoom_in_exponents": {"zoom": _ZOOM_HEAD + '''\
    kept = sorted(trials, key=lambda t: t["loss"])[:top]
    to_c = {"linear": lambda v: v, "log": np.log10, "beta": lambda v: np.log10(1 - v)}
    back = {"linear": lambda c: c, "log": lambda c: 10 ** c, "beta": lambda c: 1 - 10 ** c}
    new_space = {}
    for name, (low, high, scale) in space.items():
        c = np.array([to_c[scale](t[name]) for t in kept])
        w = c.max() - c.min() or abs(to_c[scale](high) - to_c[scale](low))
        ends = sorted([back[scale](c.min() - margin * w), back[scale](c.max() + margin * w)])
        new_space[name] = (max(ends[0], low), min(ends[1], high), scale)
    return new_space
'''},
}

# The mistakes, graded in process and end to end:
# name -> (replaced solution cells, {grade_id that must lose its points: hint or None})
MISTAKES = {
    "log_uniform_alpha": (
        _log("    return rng.uniform(low, high, size=size)\n"),
        {"test_sample_log_uniform": LOG["uniform"],
         "test_random_search": None}),
    "log_exp_instead_of_pow10": (
        _log("    return np.exp(rng.uniform(np.log10(low), np.log10(high), size=size))\n"),
        {"test_sample_log_uniform": LOG["natural_exp"],
         "test_random_search": None}),
    "log_global_np_random": (
        _log("    return 10 ** np.random.uniform(np.log10(low), np.log10(high), size=size)\n"),
        {"test_sample_log_uniform_rng": LOG_RNG, "test_random_search": None}),
    "log_bounds_swapped": (
        _log("    return 10 ** rng.uniform(np.log10(high), np.log10(low), size=size)\n"),
        {"test_sample_log_uniform": "bounds of r are swapped",
         "test_sample_log_uniform_rng": "bounds of r are swapped",
         "test_sample_log_uniform_errors": "should return samples",
         "test_random_search": None}),
    "log_bounds_swapped_in_formula": (
        _log("    a, b = np.log10(high), np.log10(low)\n"
             "    return 10 ** (a + (b - a) * rng.random(size))\n"),
        {"test_sample_log_uniform": LOG["swapped"]}),
    "log_column_shape": (
        _log("    return 10 ** rng.uniform(np.log10(low), np.log10(high), size=(size, 1))\n"),
        {"test_sample_log_uniform": "should have shape",
         **({} if _ONE_ELEMENT_ARRAYS_ARE_FLOATS else {"test_random_search": None})}),
    "beta_uniform": (
        _beta("    return rng.uniform(low, high, size=size)\n"),
        {"test_sample_beta": BETA["uniform"], "test_random_search": None}),
    "beta_minus_3_rand": (
        _beta("    r = -3 * rng.random(size)\n    return 1 - 10 ** r\n"),
        {"test_sample_beta": BETA["r_from_minus_3_to_0"], "test_random_search": None}),
    "beta_forgot_one_minus": (
        _beta("    return 10 ** rng.uniform(np.log10(1 - high), np.log10(1 - low), size=size)\n"),
        {"test_sample_beta": BETA["forgot_one_minus"], "test_random_search": None}),
    "beta_bounds_swapped": (
        _beta("    r = rng.uniform(np.log10(1 - low), np.log10(1 - high), size=size)\n"
              "    return 1 - 10 ** r\n"),
        {"test_sample_beta": "bounds of r are swapped", "test_sample_beta_rng": None,
         "test_sample_beta_errors": "should return samples", "test_random_search": None}),
    "beta_log_uniform_with_swapped_bounds": (
        _beta("    return 1 - sample_log_uniform(1 - low, 1 - high, size, rng)\n"),
        {"test_sample_beta": "pass it (1 - high, 1 - low)", "test_sample_beta_rng": None,
         "test_sample_beta_errors": "should return samples", "test_random_search": None}),
    "beta_row_shape": (
        _beta("    r = rng.uniform(np.log10(1 - high), np.log10(1 - low), size=(1, size))\n"
              "    return 1 - 10 ** r\n"),
        {"test_sample_beta": "should have shape", "test_random_search": None}),
    "search_returns_worst": (
        {"random_search": _SAMPLE_ONE
         + "    return max(trials, key=lambda t: t['loss']), trials\n"},
        {"test_random_search": SEARCH["keeps_worst"]}),
    "zoom_drops_best": (
        {"zoom": _ZOOM_HEAD + "    kept = sorted(trials, key=lambda t: t['loss'])[1:top + 1]\n"
         + _ZOOM_BODY},
        {"test_zoom": "does not contain the best trial"}),
    "zoom_does_not_shrink": (
        {"zoom": _ZOOM_HEAD + "    return dict(space)\n"},
        {"test_zoom": "returned the old ranges"}),
    # no randomness: a grid on the log scale, shuffled with rng (size=1 gives low)
    "samplers_shuffle_a_logspace_grid": (
        {**_log("    return rng.permutation(np.logspace(np.log10(low), np.log10(high), size))\n"),
         **_beta("    r = np.linspace(np.log10(1 - high), np.log10(1 - low), size)\n"
                 "    return 1 - 10 ** rng.permutation(r)\n")},
        {"test_sample_log_uniform": "same values, in another order",
         "test_sample_log_uniform_rng": "same values, in another order",
         "test_sample_beta": "same values, in another order",
         "test_sample_beta_rng": "same values, in another order"}),
    "log_size_one_returns_low": (
        _log("    if size == 1:\n        return np.array([low])\n"
             "    return 10 ** rng.uniform(np.log10(low), np.log10(high), size=size)\n"),
        {"test_sample_log_uniform": "size=1, rng) returns low for every generator"}),
}

# More mistakes, graded in process only (to keep the end-to-end run short)
MORE_MISTAKES = {
    "beta_size_one_returns_a_constant": (
        _beta("    if size == 1:\n        return np.array([(low + high) / 2])\n"
              "    r = rng.uniform(np.log10(1 - high), np.log10(1 - low), size=size)\n"
              "    return 1 - 10 ** r\n"),
        {"test_sample_beta": "for every generator"}),
    "log_size_one_from_a_few_values": (
        _log("    if size == 1:\n        return rng.choice([low, np.sqrt(low * high), high], 1)\n"
             "    return 10 ** rng.uniform(np.log10(low), np.log10(high), size=size)\n"),
        {"test_sample_log_uniform": "only 3 distinct values"}),
    "log_ignores_size": (
        _log("    return 10 ** rng.uniform(np.log10(low), np.log10(high))\n"),
        {"test_sample_log_uniform": "numpy array", "test_sample_log_uniform_rng": "numpy array",
         "test_sample_log_uniform_errors": "numpy array", "test_random_search": None}),
    "log_no_value_error": (
        _log("    return 10 ** rng.uniform(np.log10(low), np.log10(high), size=size)\n",
             check=""),
        {"test_sample_log_uniform_errors": "should raise ValueError"}),
    "beta_exp_instead_of_pow10": (
        _beta("    return 1 - np.exp(rng.uniform(np.log10(1 - high), np.log10(1 - low), "
              "size=size))\n"),
        {"test_sample_beta": BETA["natural_exp"], "test_random_search": None}),
    "beta_global_np_random": (
        _beta("    r = np.random.uniform(np.log10(1 - high), np.log10(1 - low), size=size)\n"
              "    return 1 - 10 ** r\n"),
        {"test_sample_beta_rng": BETA_RNG, "test_random_search": None}),
    "beta_accepts_high_one": (
        _beta("    with np.errstate(divide='ignore'):\n"
              "        r = rng.uniform(np.log10(1 - high), np.log10(1 - low), size=size)\n"
              "    return 1 - 10 ** r\n",
              check="    if not 0 <= low < high <= 1:\n        raise ValueError('bounds')\n"),
        {"test_sample_beta_errors": "should raise ValueError"}),
    "search_uniform_on_log_scale": (
        {"random_search": '''\
def random_search(objective, space, num_trials, rng):
    trials = []
    for _ in range(num_trials):
        params = {n: float(rng.uniform(lo, hi)) for n, (lo, hi, scale) in space.items()}
        trials.append({**params, "loss": objective(params)})
    return min(trials, key=lambda t: t["loss"]), trials
'''},
        {"test_random_search": "sample 'log' hyperparameters with sample_log_uniform"}),
    "search_global_np_random": (
        {"random_search": _SAMPLE_ONE.replace("sample_log_uniform(low, high, 1, rng)",
                                              "sample_log_uniform(low, high, 1, np.random)")
         .replace("sample_beta(low, high, 1, rng)", "sample_beta(low, high, 1, np.random)")
         .replace("rng.uniform(low, high)", "np.random.uniform(low, high)")
         + "    return min(trials, key=lambda t: t['loss']), trials\n"},
        {"test_random_search": SEARCH["global_rng"]}),
    "search_grid": (
        {"random_search": '''\
def random_search(objective, space, num_trials, rng):
    import itertools
    k = int(np.ceil(num_trials ** (1 / len(space))))
    axes = [np.linspace(0, 1, k) for _ in space]
    trials = []
    for point in list(itertools.product(*axes))[:num_trials]:
        params = {n: float(from_unit(u, *space[n])) for n, u in zip(space, point)}
        trials.append({**params, "loss": objective(params)})
    return min(trials, key=lambda t: t["loss"]), trials
'''},
        {"test_random_search": "not a grid"}),
    "zoom_keeps_worst": (
        {"zoom": _ZOOM_HEAD
         + "    kept = sorted(trials, key=lambda t: t['loss'], reverse=True)[:top]\n"
         + _ZOOM_BODY},
        {"test_zoom": "does not contain the best trial"}),
    "zoom_widens_in_linear_units": (
        {"zoom": _ZOOM_HEAD + '''\
    kept = sorted(trials, key=lambda t: t["loss"])[:top]
    new_space = {}
    for name, (low, high, scale) in space.items():
        v = np.array([t[name] for t in kept])
        width = v.max() - v.min()
        new_space[name] = (max(v.min() - margin * width, low),
                           min(v.max() + margin * width, high), scale)
    return new_space
'''},
        {"test_zoom": ZOOM["linear_units"]}),
    "zoom_no_clipping": (
        {"zoom": _ZOOM_HEAD + '''\
    kept = sorted(trials, key=lambda t: t["loss"])[:top]
    new_space = {}
    for name, (low, high, scale) in space.items():
        u = to_unit(np.array([t[name] for t in kept]), low, high, scale)
        width = u.max() - u.min()
        ends = sorted(float(from_unit(x, low, high, scale))
                      for x in (u.min() - margin * width, u.max() + margin * width))
        new_space[name] = (ends[0], ends[1], scale)
    return new_space
'''},
        {"test_zoom": "clip it to the old [low, high]"}),
}


CONTAINERS = {
    "log_returns_a_list": (
        _log("    a, b = np.log10(low), np.log10(high)\n"
             "    return [10 ** rng.uniform(a, b) for _ in range(size)]\n"),
        {"test_sample_log_uniform": "sample_log_uniform is a list: return a numpy array",
         "test_sample_log_uniform_rng": "sample_log_uniform is a list: return a numpy array",
         "test_sample_log_uniform_errors": "sample_log_uniform is a list: return a numpy array"}),
    "beta_float32": (
        _beta("    r = rng.uniform(np.log10(1 - high), np.log10(1 - low), size=size)\n"
              "    return (1 - 10 ** r).astype(np.float32)\n"),
        {"test_sample_beta": "sample_beta is float32, which keeps about 7 digits",
         "test_sample_beta_rng": "sample_beta is float32, which keeps about 7 digits",
         "test_sample_beta_errors": "sample_beta is float32, which keeps about 7 digits"}),
    "search_returns_a_list": (
        {"random_search": _SAMPLE_ONE + "    return [min(trials, key=lambda t: t['loss']), "
                                        "trials]\n"},
        {"test_random_search": "should be a tuple of 2 values, not a list"}),
    "zoom_ends_are_arrays": (
        {"zoom": _ZOOM_HEAD + "    kept = sorted(trials, key=lambda t: t['loss'])[:top]\n"
         + _ZOOM_BODY.replace("(float(from_unit(lo", "(np.array(from_unit(lo")},
        {"test_zoom": "is an array of shape (): return a float"}),
}
"""A result of the wrong container, one per graded function: each gets its own sentence."""

MUTATIONS = {
    "zoom_sorts_trials_in_place": (
        {"zoom": _ZOOM_HEAD + "    trials.sort(key=lambda t: t['loss'])\n    kept = trials[:top]\n"
         + _ZOOM_BODY},
        {"test_zoom": MODIFIED_ARGUMENT.format(function="zoom", argument="trials")}),
    "zoom_writes_into_space": (
        {"zoom": _ZOOM_HEAD + "    kept = sorted(trials, key=lambda t: t['loss'])[:top]\n"
         + _ZOOM_BODY.replace("    new_space = {}\n", "    new_space = space\n")},
        {"test_zoom": MODIFIED_ARGUMENT.format(function="zoom", argument="space")}),
    "search_turns_specs_into_lists": (
        {"random_search": _SAMPLE_ONE.replace(
            "    trials = []\n", "    trials = []\n    for name in space:\n"
                                 "        space[name] = list(space[name])\n", 1)
         + "    return min(trials, key=lambda t: t['loss']), trials\n"},
        {"test_random_search": MODIFIED_ARGUMENT.format(function="random_search",
                                                        argument="space")}),
}
"""Graded functions that change their arguments in place (the samplers' are numbers)."""

NOTEBOOK_IMPORTS = {"to_unit": to_unit, "from_unit": from_unit}
"""What the notebook's import cell gives the solution cells."""


CATALOGUE = {**MISTAKES, **MORE_MISTAKES, **CONTAINERS, **MUTATIONS}
"""Mistakes written as a student would (the declared ones: tests/test_exercises.py):
(replaced solution cells, {grade_id it fails: hint or None})."""


def _functions(sources):
    """The notebook's functions, the master's with `sources` replacing solution cells."""
    namespace = {"np": np, **NOTEBOOK_IMPORTS}
    for source in {**solution_sources(A), **sources}.values():
        exec(source, namespace)
    return namespace


def _check(grade_id):
    """The visible check of a graded cell and the name of the function it is given."""
    name = grade_id.removeprefix("test_")
    return getattr(checks, f"check_{name}"), name.removesuffix("_rng").removesuffix("_errors")


def _names(message, hint):
    """Whether `message` holds `hint` (a template's fixed parts, around {name})."""
    return all(part in message for part in hint.split("{name}") if part.strip())


@pytest.mark.parametrize("student", sorted({**CATALOGUE, **RIGHT, "master": ({}, {})}))
def test_both_layers_name_each_mistake_alike(student, capsys):
    """The visible check fails exactly the cells the grader fails (over several seeds), with
    the same hint; every other visible check passes. Right variants pass both layers."""
    sources, expected = CATALOGUE.get(student) or (RIGHT.get(student, {}), {})
    namespace = _functions(sources)
    for grade_id in EXERCISES:
        check, name = _check(grade_id)
        with np.errstate(all="ignore"):
            if grade_id not in expected:
                check(namespace[name])
                continue
            with pytest.raises(Exception) as caught:
                check(namespace[name])
        hint = expected[grade_id]
        if hint:
            assert caught.type is CheckFailed, (grade_id, caught.value)
            assert _names(str(caught.value), hint), (grade_id, str(caught.value))
    for seed in (0, 1, 2):
        with np.errstate(all="ignore"):
            failed = in_process_failures(A, sources, seed, NOTEBOOK_IMPORTS)
        assert set(failed) == set(expected), (seed, {g: v.message for g, v in failed.items()})
        for grade_id, hint in expected.items():
            verdict = failed[grade_id]
            assert not hint or (verdict.status == "wrong_answer"
                                and _names(verdict.message, hint)), (seed, verdict)
    capsys.readouterr()


END_TO_END = ["beta_through_log_uniform", "zoom_in_exponents", *MISTAKES]
"""Graded end to end by tests/test_grading_classes.py (other right variants only in process)."""
STATUSES = None
"""A cell a mistake breaks without naming it may fail with any status."""
HINTED_STATUSES = ("wrong_answer",)
FEEDBACK = ("search_returns_worst", SEARCH["keeps_worst"][:40])
"""A student whose feedback page must name the mistake."""
