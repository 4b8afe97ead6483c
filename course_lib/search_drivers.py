"""Drivers: call a student's search functions with objects, return plain data.

The grader sends only data into the student's kernel (see `course_lib.probe`).
A sampler needs a generator and `random_search` needs an objective, so these
drivers build them from data, call the student's function and hand back what
happened as numbers, lists and dicts. They compare nothing: the verdict is
made outside the kernel (and in the visible checks).

Between calls that share a seed the drivers reseed the global ``np.random``
differently, so a function that reads the global state instead of its `rng`
gives itself away by not repeating its result.

Example
-------
>>> import numpy as np
>>> def sampler(low, high, size, rng):
...     return rng.uniform(low, high, size)
>>> out = draw_samples(sampler, 0.0, 1.0, 3, 7, 8)
>>> bool(np.array_equal(out["first"], out["second"])), out["first"].shape
(True, (3,))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from course_lib.checking import modified_arguments, student_frame
from course_lib.synthetic_loss import SyntheticLoss

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    _Sampler = Callable[[float, float, int, np.random.Generator], Any]
    """The student's sampler(low, high, size, rng)."""
    _RandomSearch = Callable[[Callable[[dict[str, float]], float],
                              dict[str, tuple[float, float, str]], int, np.random.Generator],
                             Any]
    """The student's random_search(objective, space, num_trials, rng)."""

GLOBAL_SEEDS = (2024, 4202)
"""Seeds given to the global np.random before the first and the repeated call."""


def _reseed_global(k):
    np.random.seed(GLOBAL_SEEDS[k])


def _reseed_global_with(seed):
    np.random.seed(int(seed) % 2**32)


def plain(value: Any, depth: int = 0) -> Any:
    """`value` as data the codec can send: containers, floats, ints, strings, float arrays.

    numpy scalars become Python numbers and arrays keep their dtype and type (so that a
    judge can name float32, and the grader an np.matrix); anything else becomes the string
    "<TypeName>" so that the judge can name it.
    """
    if depth > 20:
        return "<too deeply nested>"
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.copy()
    if isinstance(value, tuple):
        return tuple(plain(v, depth + 1) for v in value)
    if isinstance(value, list):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    return f"<{type(value).__name__}>"


def _call_sampler(sampler, low, high, size, seed, global_k, reseed=_reseed_global):
    reseed(global_k)
    try:
        return plain(sampler(low, high, size, np.random.default_rng(seed)))
    except NotImplementedError:
        raise
    except ValueError as error:
        return {"value_error": str(error)[:300]}


def draw_samples(sampler: _Sampler, low: float, high: float, size: int, seed: int,
                 other_seed: int) -> dict[str, Any]:
    """Call `sampler(low, high, size, rng)` three times.

    Returns
    -------
    dict
        "first": the samples with rng = default_rng(seed);
        "second": the same seed again, after reseeding the global np.random;
        "other": a generator seeded with `other_seed`.
        A call that raised ValueError gives {"value_error": message} instead.
    """
    return {"first": _call_sampler(sampler, low, high, size, seed, 0),
            "second": _call_sampler(sampler, low, high, size, seed, 1),
            "other": _call_sampler(sampler, low, high, size, other_seed, 0)}


def draw_across_seeds(sampler: _Sampler, low: float, high: float,
                      seeds: Iterable[int]) -> list[Any]:
    """[sampler(low, high, 1, default_rng(seed)) for seed in seeds], each as plain data.

    One sample per generator: a sampler must be random for size=1 too. Before each
    call the global np.random is seeded with a different seed as well (the rng checks
    judge whether a sampler reads it). A call that raised ValueError gives
    {"value_error": message} in its place.
    """
    return [_call_sampler(sampler, low, high, 1, int(seed), GLOBAL_SEEDS[0] + k,
                          reseed=_reseed_global_with)
            for k, seed in enumerate(seeds)]


def value_errors(sampler: _Sampler, bounds: Iterable[tuple[float, float]],
                 seed: int) -> list[Any]:
    """For each (low, high) in `bounds`: what `sampler(low, high, 3, rng)` did.

    "ValueError"; "returned" for a float64 array; anything else it returned, as plain data
    (a judge names the container); or "<Error> at line N: message" for another exception.
    """
    outcomes = []
    for low, high in bounds:
        try:
            value = sampler(low, high, 3, np.random.default_rng(seed))
        except NotImplementedError:
            raise
        except ValueError:
            outcomes.append("ValueError")
            continue
        except Exception as error:  # the student's error is the answer
            outcomes.append(f"{type(error).__name__}{_line(error)}: {str(error)[:200]}")
            continue
        float64 = type(value) is np.ndarray and value.dtype == np.float64
        outcomes.append("returned" if float64 else plain(value))
    return outcomes


def _line(error: BaseException) -> str:
    """' at line N' where the student's code raised, or nothing."""
    frame = student_frame(error)
    return f" at line {frame.lineno}" if frame else ""


def _recorded_search(random_search, loss, space, num_trials, seed, global_k):
    calls = []

    def objective(params):
        calls.append(plain(params))
        return loss(params)

    _reseed_global(global_k)
    space = {name: tuple(spec) for name, spec in space.items()}
    args = (objective, space, num_trials, np.random.default_rng(seed))
    returned, modified = modified_arguments(random_search, args, {},
                                            lambda: random_search(*args))
    return {"returned": plain(returned), "calls": calls, "modified": modified}


def run_random_search(random_search: _RandomSearch,
                      space: Mapping[str, tuple[float, float, str]], important: str,
                      best_position: Mapping[str, float], num_trials: int,
                      seed: int) -> dict[str, dict[str, Any]]:
    """Run `random_search` on a `SyntheticLoss` twice with the same seed.

    Parameters
    ----------
    random_search : callable
        The student's random_search(objective, space, num_trials, rng).
    space, important, best_position
        Define the `SyntheticLoss` used as objective.
    num_trials, seed : int
        Passed on; the generator is default_rng(seed) both times.

    Returns
    -------
    dict
        "first" and "repeat", each {"returned": what random_search returned,
        "calls": the params of every objective call, in order, "modified": the names of
        the arguments the call changed in place}.
    """
    loss = SyntheticLoss(space, important, best_position)
    return {"first": _recorded_search(random_search, loss, space, num_trials, seed, 0),
            "repeat": _recorded_search(random_search, loss, space, num_trials, seed, 1)}
