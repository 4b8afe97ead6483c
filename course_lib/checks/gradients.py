"""Compare an analytic gradient with the exact one, at a precision finite differences cannot reach.

A gradient derived by hand and computed in float64 agrees with the exact one to
within a few units of rounding (measured: at most 3e-15 of the largest entry for
02's and 04's gradients, whichever correct form is used). Centred differences
cannot get that close: their truncation error grows with the step and their
rounding error with its inverse, so at the best step they stay near 1e-11
(measured: at least 1.4e-11 for 04's and 02's dZ with `course_lib.gradcheck`,
1.3e-12 for dgamma and dbeta with `course_lib.numerical_layer`, over 200
seeds). `ANALYTIC_RTOL` sits between the two.

Example
-------
>>> import numpy as np
>>> exact = np.array([[0.25, -0.5], [1.0, 0.125]])
>>> gradient_mismatch(exact * (1 + 1e-15), exact, name="dZ") is None
True
>>> print(gradient_mismatch(exact + 1e-8, exact, name="dZ"))  # doctest: +ELLIPSIS
dZ agrees with the exact gradient only to about 1e-08, as a numerical (finite-difference) ...
>>> gradient_mismatch(2 * exact, exact, name="dZ", m=2)
'dZ is m = 2 times too large: divide by the number of examples m'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from course_lib.checking import describe_mismatch, scale_of

if TYPE_CHECKING:
    from typing import Any

    import numpy.typing as npt

ANALYTIC_RTOL = 1e-13
"""Tolerance of a derived gradient, relative to the largest entry of the exact one."""


def gradient_mismatch(actual: Any, expected: npt.ArrayLike, *, name: str,
                      rtol: float = ANALYTIC_RTOL, m: int | None = None) -> str | None:
    """None if the gradient `actual` matches `expected` to `rtol` of its largest entry.

    Otherwise one sentence: that it is only as close as a numerical gradient would be, or
    what `describe_mismatch` says. (Named mistakes are named before, by `Exercise.judge`.)
    """
    expected = np.asarray(expected, dtype=np.float64)
    scale = scale_of(expected)
    problem = describe_mismatch(actual, expected, name=name, m=m, rtol=rtol,
                                atol=max(rtol * scale, 1e-300))
    if problem is None or type(actual) is not np.ndarray or actual.shape != expected.shape:
        return problem
    error = np.max(np.abs(actual - expected)) / max(scale, 1e-300)
    if error <= 1e-6:  # as far off as a finite-difference gradient, or closer
        return (f"{name} agrees with the exact gradient only to about {error:.0e}, as a "
                f"numerical (finite-difference) gradient would: derive it analytically (a "
                f"derived gradient agrees to {rtol:.0e} of its largest entry)")
    return problem
