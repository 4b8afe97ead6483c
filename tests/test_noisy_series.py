"""course_lib.noisy_series: the daily temperatures the EWA is plotted on."""

import numpy as np

from course_lib.noisy_series import daily_temperatures, seasonal_temperature


def test_temperatures_follow_the_seasons_with_the_given_noise():
    theta = daily_temperatures(3650, np.random.default_rng(0), noise=2.0)
    t = np.arange(1, 3651)
    residual = theta - seasonal_temperature(t)
    assert theta.shape == (3650,)
    assert abs(residual.mean()) < 0.15 and abs(residual.std() - 2.0) < 0.1
    assert seasonal_temperature(15) == 2.0 and np.isclose(seasonal_temperature(15 + 365 / 2), 18)
    assert np.array_equal(daily_temperatures(10, np.random.default_rng(3)),
                          daily_temperatures(10, np.random.default_rng(3)))
