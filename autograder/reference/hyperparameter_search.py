"""Reference solutions of 01_hyperparameter_search. Instructor material."""

import numpy as np


def sample_log_uniform(low, high, size, rng):
    """`size` values 10**r with r ~ U(log10 low, log10 high); ValueError unless 0 < low < high."""
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high, got low={low}, high={high}")
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size=size)


def sample_beta(low, high, size, rng):
    """`size` values 1 - 10**r with r ~ U(log10(1 - high), log10(1 - low))."""
    if not 0 <= low < high < 1:
        raise ValueError(f"need 0 <= low < high < 1, got low={low}, high={high}")
    return 1.0 - 10.0 ** rng.uniform(np.log10(1.0 - high), np.log10(1.0 - low), size=size)


def sample(low, high, scale, size, rng):
    """`size` values of one hyperparameter of a search space."""
    if scale == "linear":
        return rng.uniform(low, high, size=size)
    if scale == "log":
        return sample_log_uniform(low, high, size, rng)
    if scale == "beta":
        return sample_beta(low, high, size, rng)
    raise ValueError(f"unknown scale {scale!r}")


def random_search(objective, space, num_trials, rng):
    """(best, trials): `num_trials` random points of `space`, each evaluated once."""
    columns = {name: sample(low, high, scale, num_trials, rng)
               for name, (low, high, scale) in space.items()}
    trials = []
    for i in range(num_trials):
        params = {name: float(values[i]) for name, values in columns.items()}
        trials.append({**params, "loss": float(objective(dict(params)))})
    best = min(trials, key=lambda trial: trial["loss"])
    return best, trials


def _coordinate(value, scale):
    if scale == "linear":
        return value
    if scale == "log":
        return np.log10(value)
    return np.log10(1.0 - value)


def _value(coordinate, scale):
    if scale == "linear":
        return coordinate
    if scale == "log":
        return 10.0 ** coordinate
    return 1.0 - 10.0 ** coordinate


def zoom(trials, space, top=5, margin=0.1):
    """The smaller space around the `top` best trials, widened by `margin` on each scale."""
    best = sorted(trials, key=lambda trial: trial["loss"])[:top]
    new_space = {}
    for name, (low, high, scale) in space.items():
        coords = [_coordinate(trial[name], scale) for trial in best]
        # when the top trials share a value, widen by margin times the old range instead
        width = (max(coords) - min(coords)
                 or abs(_coordinate(high, scale) - _coordinate(low, scale)))
        ends = [_value(min(coords) - margin * width, scale),
                _value(max(coords) + margin * width, scale)]
        new_space[name] = (float(max(min(ends), low)), float(min(max(ends), high)), scale)
    return new_space
