"""A noisy series to average: a year of daily temperatures, as in the lecture's EWA example.

Example
-------
>>> import numpy as np
>>> theta = daily_temperatures(365, np.random.default_rng(0))
>>> theta.shape, bool(5 < theta.mean() < 15)
((365,), True)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def daily_temperatures(days: int, rng: np.random.Generator, *,
                       noise: float = 3.0) -> np.ndarray:
    """Temperatures theta_1, ..., theta_days in degrees Celsius: a seasonal curve plus noise.

    Parameters
    ----------
    days : int
        Length of the series.
    rng : numpy.random.Generator
        Source of the noise.
    noise : float
        Standard deviation of the day-to-day noise around the seasonal curve.

    Returns
    -------
    theta : ndarray (days,)
        Day t of the year (starting on 1 January) has mean
        `seasonal_temperature(t)`, plus Gaussian noise.
    """
    return seasonal_temperature(np.arange(1, days + 1)) + noise * rng.normal(size=days)


def seasonal_temperature(t: npt.ArrayLike) -> np.ndarray | float:
    """The noise-free curve: 10 degrees on average, coldest in mid-January, warmest in July."""
    return 10.0 - 8.0 * np.cos(2 * np.pi * (np.asarray(t, dtype=np.float64) - 15) / 365)
