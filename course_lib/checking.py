"""Compare a student's result with an expected one and name the mistake in words.

`describe_mismatch` returns None when the result is right and otherwise one
sentence a student can act on ("your result is m times too large: average
over the m examples"). Visible checks raise `CheckFailed` with that sentence;
the grader writes it into grades.csv and the feedback.

Example
-------
>>> import numpy as np
>>> describe_mismatch(np.ones((2, 3)) * 3, np.ones((2, 3)), name="dZ", m=3)
'dZ is m = 3 times too large: divide by the number of examples m'
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.failures import render

RTOL = 1e-7
"""Default relative tolerance: float64 results of the same formula agree far closer."""


class CheckFailed(AssertionError):
    """A visible check found a mistake; the message says what to fix.

    `call` names the visible call that failed, when there was one; the message is then
    "<call>: <problem>". In a notebook it shows as a short box (`course_lib.failures`), not
    as a traceback through the checking code.
    """

    def __init__(self, problem: str, *, call: str | None = None,
                 title: str = "Check failed") -> None:
        super().__init__(f"{call}: {problem}" if call else problem)
        self.call, self.problem, self.title = call, problem, title

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback."""
        title = f"{self.title} on {self.call}" if self.call else self.title
        return render(title, self.problem)


def relative_error(actual: Any, expected: Any) -> float:
    """max |a - e| / max(|a| + |e|, tiny), elementwise, as one float."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = np.maximum(np.abs(actual) + np.abs(expected), 1e-300)
    return float(np.max(np.abs(actual - expected) / scale)) if actual.size else 0.0


def _close(actual, expected, rtol, atol):
    return actual.shape == expected.shape and bool(
        np.allclose(actual, expected, rtol=rtol, atol=atol))


def describe_mismatch(actual: Any, expected: Any, *, name: str, m: int | None = None,
                      rtol: float = RTOL, atol: float = 1e-12) -> str | None:
    """None if `actual` matches `expected`, otherwise a sentence naming the likely mistake.

    Parameters
    ----------
    actual : array-like or float
        The student's result.
    expected : array-like or float
        The reference result.
    name : str
        What the result is called in the notebook, e.g. "A" or "dZ".
    m : int, optional
        The number of examples, to recognise a missing or extra 1/m.
    """
    expected = np.asarray(expected, dtype=np.float64)
    if actual is None:
        return f"{name} is None: did you forget to `return` it?"
    if isinstance(actual, np.ndarray) and type(actual) is not np.ndarray:
        return f"{name} is a {type(actual).__name__}; return a plain numpy array"
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{name} should be a number or an array of numbers, not {type(actual).__name__}"
    if actual.shape != expected.shape:
        if expected.ndim == 0 and actual.size == 1:
            actual = actual.reshape(())
        elif actual.shape == expected.shape[::-1]:
            return (f"{name} has shape {actual.shape} but should have {expected.shape}: "
                    "examples are columns, so keep the (units, examples) layout")
        else:
            return f"{name} has shape {actual.shape} but should have shape {expected.shape}"
    if not np.all(np.isfinite(actual)):
        return f"{name} contains nan or inf where the expected values are finite"
    if _close(actual, expected, rtol, atol):
        return None
    if _close(-actual, expected, rtol, atol):
        return f"{name} has the wrong sign: check the order of the subtraction or a missing minus"
    if m is not None and m > 1:
        if _close(actual, expected * m, rtol, atol):
            return f"{name} is m = {m} times too large: divide by the number of examples m"
        if _close(actual, expected / m, rtol, atol):
            return f"{name} is m = {m} times too small: divide by m only once"
        if _close(-actual, expected * m, rtol, atol):
            return f"{name} has the wrong sign and is m = {m} times too large"
    return (f"{name} does not match the expected values "
            f"(relative error {relative_error(actual, expected):.1e}, tolerance {rtol:.0e})")


def student_frame(error: BaseException) -> traceback.FrameSummary | None:
    """The innermost frame of `error`'s traceback outside the course's code and numpy: where
    the student's code raised (None when it did not)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if "course_lib" not in f.filename and "numpy" not in f.filename]
    return frames[-1] if frames else None


def scale_of(expected: Any) -> float:
    """The largest finite |entry| of `expected` (0.0 when it has none)."""
    expected = np.asarray(expected, dtype=np.float64)
    finite = np.abs(expected[np.isfinite(expected)])
    return float(finite.max()) if finite.size else 0.0


def matches(actual: Any, expected: Any, rtol: float) -> bool:
    """Whether `actual` is `expected` within `rtol` of its largest entry (nan matches nan).

    `expected` is a float, an array, or a tuple of those; None (a mistake with no result)
    matches nothing. This is the one comparison both layers make.

    >>> matches(np.array([1.0, 2.0 + 1e-12]), np.array([1.0, 2.0]), 1e-9)
    True
    >>> matches((np.ones(2), 1.0), (np.ones(2), 1.5), 1e-9)
    False
    """
    if isinstance(expected, tuple):
        return (isinstance(actual, tuple) and len(actual) == len(expected)
                and all(matches(a, e, rtol) for a, e in zip(actual, expected, strict=True)))
    if expected is None or actual is None or isinstance(actual, (tuple, list, str)):
        return False
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=np.float64)
    return actual.shape == expected.shape and bool(np.allclose(
        actual, expected, rtol=rtol, atol=max(rtol * scale_of(expected), 1e-300), equal_nan=True))


# ------------------------------------------------- a property every graded function has

MODIFIED_ARGUMENT = ("{function} modified its argument {argument} in place: compute on a "
                     "copy (write `{argument} = {argument} - ...`, not `{argument} -= ...`); "
                     "otherwise the notebook's later cells get changed inputs")
"""The sentence for a graded function that changes its inputs, shown by both layers."""


def snapshot(value: Any) -> Any:
    """A copy of the plain data in `value` (arrays, numbers, lists, tuples, dicts).

    Anything else (a generator, a graph node, a function) is kept by identity: only its
    being replaced is seen, not a change inside it.
    """
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(snapshot(v) for v in value)
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    return value


def same_data(before: Any, after: Any) -> bool:
    """Whether `after` still holds what `snapshot` saw in `before` (bitwise for arrays).

    >>> a = np.ones(3); s = snapshot(a); a[0] = 2.0
    >>> same_data(s, a)
    False
    """
    if isinstance(before, np.ndarray):
        return (isinstance(after, np.ndarray) and before.shape == after.shape
                and before.dtype == after.dtype
                and bool(np.array_equal(before, after, equal_nan=True)))
    if isinstance(before, (list, tuple)):
        return (type(after) is type(before) and len(after) == len(before)
                and all(same_data(b, a) for b, a in zip(before, after, strict=True)))
    if isinstance(before, dict):
        return (isinstance(after, dict) and len(after) == len(before)
                and all(a is b or (isinstance(a, (str, int)) and a == b)
                        for a, b in zip(after, before, strict=True))
                and all(same_data(before[k], after[k]) for k in before))
    if isinstance(before, (int, float, str, bool, type(None))):
        return before == after or (before != before and after != after)
    return before is after


def modified_arguments(function: Callable, args: tuple, kwargs: dict,
                       call: Callable[[], Any], *, signature: Any = None
                       ) -> tuple[Any, list[str]]:
    """Call `call()` and return (its result, the names of `function`'s arguments it changed).

    `args`/`kwargs` are what `call` passes to `function`; names come from its signature
    (`signature`, when the caller has it already: computing it costs more than a small call).
    """
    import inspect

    try:
        signature = signature or inspect.signature(function)
        bound = signature.bind_partial(*args, **kwargs).arguments
    except (TypeError, ValueError):
        bound = {**{f"argument {i + 1}": a for i, a in enumerate(args)}, **kwargs}
    before = {name: snapshot(value) for name, value in bound.items()}
    result = call()
    changed = [name for name, value in bound.items() if not same_data(before[name], value)]
    return result, changed


def unchanged_arguments(function: Callable) -> Callable:
    """Wrap a student's `function`: a call that changes its arguments raises CheckFailed.

    >>> def bad(Z):
    ...     Z *= 2
    ...     return Z
    >>> unchanged_arguments(bad)(np.ones(2))
    Traceback (most recent call last):
    ...
    course_lib.checking.CheckFailed: bad modified its argument Z in place: ...
    """
    import functools
    import inspect

    if getattr(function, "__wrapped_by_course__", False) or not (
            inspect.isfunction(function) or inspect.ismethod(function)):
        return function  # classes, nodes and other objects pass as they are

    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        signature = None

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        result, changed = modified_arguments(function, args, kwargs,
                                             lambda: function(*args, **kwargs),
                                             signature=signature)
        if changed:
            raise CheckFailed(MODIFIED_ARGUMENT.format(
                function=getattr(function, "__name__", "the function"), argument=changed[0]))
        return result

    guarded.__wrapped_by_course__ = True
    return guarded


# ------------------------------------------ the result contract every graded function has


def contract_problem(actual: Any, expected: Any, *, name: str) -> str | None:
    """None if `actual` has the type, shape and dtype of `expected`, else one sentence.

    `expected` is the reference's result: a float, a float64 array or a tuple of those.
    Each way of getting the container wrong has its own sentence, so that a float32
    result is named as precision, not as a wrong value:

    >>> contract_problem([0.5, 0.5], np.array([0.5, 0.5]), name="A")
    'A is a list: return a numpy array (np.array(...) or a numpy expression)'
    >>> contract_problem(np.array([[2.0]]), 2.0, name="J")
    'J is an array of shape (1, 1): return a float, e.g. `float(J)` or `J.item()`'
    >>> contract_problem(np.ones(2, dtype=np.float32), np.ones(2), name="A")
    "A is float32, which keeps about 7 digits: compute in float64 (numpy's default)"
    """
    if isinstance(expected, tuple):
        if not isinstance(actual, tuple):
            return (f"{name} should be a tuple of {len(expected)} values, "
                    f"not {_kind(actual)}: return them as `a, b`")
        if len(actual) != len(expected):
            return f"{name} has {len(actual)} values but should have {len(expected)}"
        return None
    if actual is None:
        return f"{name} is None: did you forget to `return` it?"
    if isinstance(expected, (float, np.floating)) or (
            isinstance(expected, np.ndarray) and expected.ndim == 0):
        if isinstance(actual, (bool, np.bool_)):
            return f"{name} is a bool: return a float"
        if isinstance(actual, (np.float32, np.float16)):
            return (f"{name} is {np.dtype(type(actual))}, which keeps about "
                    f"{7 if isinstance(actual, np.float32) else 3} digits: "
                    "compute in float64 (numpy's default)")
        if isinstance(actual, (int, float, np.integer, np.floating)):
            return None
        if isinstance(actual, np.ndarray) and actual.size == 1:
            return (f"{name} is an array of shape {actual.shape}: return a float, "
                    f"e.g. `float({name})` or `{name}.item()`")
        return f"{name} should be a float, not {_kind(actual)}"
    if isinstance(expected, np.ndarray):
        if isinstance(actual, (list, tuple)):
            return (f"{name} is a {type(actual).__name__}: return a numpy array "
                    "(np.array(...) or a numpy expression)")
        if isinstance(actual, np.matrix):
            return f"{name} is an np.matrix; return a plain numpy array (np.asarray({name}))"
        if not isinstance(actual, np.ndarray):
            return f"{name} should be a numpy array, not {_kind(actual)}"
        if type(actual) is not np.ndarray:
            return f"{name} is a {type(actual).__name__}; return a plain numpy array"
        if actual.dtype == np.float32 or actual.dtype == np.float16:
            return (f"{name} is {actual.dtype}, which keeps about "
                    f"{7 if actual.dtype == np.float32 else 3} digits: "
                    "compute in float64 (numpy's default)")
        if actual.dtype.kind == "b":
            return f"{name} has dtype bool: return float64 values (e.g. `{name}.astype(float)`)"
        if actual.dtype.kind in "iu" and expected.dtype.kind == "f":
            return (f"{name} has integer dtype {actual.dtype}: return float64 values "
                    f"(e.g. `np.zeros(shape)` rather than `np.zeros(shape, dtype=int)`)")
        if actual.dtype.kind == "c":
            return f"{name} has complex values: return real float64 values"
    return None


def _kind(value):
    """'a list', 'an ndarray of shape (2, 3)', ... for sentences."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    article = "an" if type(value).__name__[:1] in "aeiou" else "a"
    return f"{article} {type(value).__name__}"
