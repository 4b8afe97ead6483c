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

import numpy as np

RTOL = 1e-7
"""Default relative tolerance: float64 results of the same formula agree far closer."""


class CheckFailed(AssertionError):
    """A visible check found a mistake; the message says what to fix."""


def relative_error(actual, expected):
    """max |a - e| / max(|a| + |e|, tiny), elementwise, as one float."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = np.maximum(np.abs(actual) + np.abs(expected), 1e-300)
    return float(np.max(np.abs(actual - expected) / scale)) if actual.size else 0.0


def _close(actual, expected, rtol, atol):
    return actual.shape == expected.shape and bool(
        np.allclose(actual, expected, rtol=rtol, atol=atol))


def describe_mismatch(actual, expected, *, name, m=None, rtol=RTOL, atol=1e-12):
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


def expect_match(actual, expected, *, name, m=None, rtol=RTOL, context=""):
    """Raise CheckFailed with the named mistake unless `actual` matches `expected`."""
    problem = describe_mismatch(actual, expected, name=name, m=m, rtol=rtol)
    if problem:
        raise CheckFailed(f"{context}{problem}")
