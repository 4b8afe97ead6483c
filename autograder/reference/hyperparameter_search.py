"""Reference solutions of 01_hyperparameter_search. Instructor material.

`random_search` and `zoom` take keyword arguments that reproduce the known mistakes
(05's model); `MISTAKES` names them, and the hints live once, in the published
`course_lib.checks.hyperparameter_search.HINTS`. `visible_values()` computes the
values the visible checks freeze (`python -m autograder.reference.hyperparameter_search`
prints them); a test proves the committed ones equal it.
"""

import numpy as np

from course_lib.search_space import dimension


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


SAMPLERS = {"sample_log_uniform": sample_log_uniform, "sample_beta": sample_beta}
"""The samplers a search dimension's `sample` calls, by the notebook's names."""


def sample(low, high, scale, size, rng):
    """`size` values of one hyperparameter of a search space."""
    return dimension(low, high, scale).sample(size, rng, SAMPLERS)


def random_search(objective, space, num_trials, rng, *, worst=False, arrays=False):
    """(best, trials): `num_trials` random points of `space`, each evaluated once.

    Mistakes: worst=True keeps the trial of highest loss; arrays=True stores each value as a
    size-1 array (a sampler's result for size=1) instead of a float.
    """
    columns = {name: sample(low, high, scale, num_trials, rng)
               for name, (low, high, scale) in space.items()}
    trials = []
    for i in range(num_trials):
        params = {name: float(values[i]) for name, values in columns.items()}
        loss = float(objective(dict(params)))
        if arrays:
            params = {name: values[i:i + 1] for name, values in columns.items()}
        trials.append({**params, "loss": loss})
    best = (max if worst else min)(trials, key=lambda trial: trial["loss"])
    return best, trials


def zoom(trials, space, top=5, margin=0.1, *, linear_units=False, widen=True, extra=0,
         beta_as_log=False, old_range=False, tie="old_range"):
    """The smaller space around the `top` best trials, widened by `margin` on each scale.

    Mistakes: linear_units widens (and spans) in the values' own units; widen=False
    forgets the margin; extra=1 keeps `top + 1` trials; beta_as_log works in log10(beta)
    for 'beta'; old_range widens by margin x the old range always; tie="zero" keeps the
    zero-width range of top trials that share a value.
    """
    best = sorted(trials, key=lambda trial: trial["loss"])[:top + extra]
    new_space = {}
    for name, (low, high, scale) in space.items():
        scale_used = "linear" if linear_units else ("log" if beta_as_log and scale == "beta"
                                                    else scale)
        dim = dimension(low, high, scale_used)
        u = dim.to_unit(np.array([trial[name] for trial in best]))
        span = u.max() - u.min()
        if old_range or (span == 0 and tie == "old_range"):
            span = 1.0  # the old range is 1 wide in unit coordinates
        ends = [dim.from_unit(max(u.min() - widen * margin * span, 0.0)),
                dim.from_unit(min(u.max() + widen * margin * span, 1.0))]
        new_space[name] = (float(min(ends)), float(max(ends)), scale)
    return new_space


MISTAKES = {
    "search_keeps_worst": ("random_search", {"worst": True}),
    "search_values_are_arrays": ("random_search", {"arrays": True}),
    "zoom_linear_units": ("zoom", {"linear_units": True}),
    "zoom_no_margin": ("zoom", {"widen": False}),
    "zoom_top_plus_one": ("zoom", {"extra": 1}),
    "zoom_beta_in_log_beta": ("zoom", {"beta_as_log": True}),
    "zoom_margin_of_old_range": ("zoom", {"old_range": True}),
    "zoom_zero_width_when_tied": ("zoom", {"tie": "zero"}),
}
"""Mistaken variants of the reference, by the id the grader reports: (function, keywords)."""


def zoom_variants(trials, space, top, margin):
    """{mistake id: the space that mistake returns} for the zoom mistakes of `MISTAKES`."""
    return {mistake: zoom(trials, space, top, margin, **flags)
            for mistake, (function, flags) in MISTAKES.items() if function == "zoom"}


def visible_values():
    """The values the visible checks freeze, computed from this reference."""
    from course_lib.checks import hyperparameter_search as checks

    zooms = []
    for trials, space, top, margin in checks.ZOOM_INPUTS:
        zooms.append((zoom(trials, space, top, margin),
                      zoom_variants(trials, space, top, margin)))
    return {"FIRST_LOG_SAMPLES": sample_log_uniform(1e-4, 1.0, 5, np.random.default_rng(0)),
            "FIRST_BETA_SAMPLES": sample_beta(0.9, 0.999, 5, np.random.default_rng(0)),
            "ZOOM_EXPECTED": zooms}


if __name__ == "__main__":  # pragma: no cover
    import pprint

    np.set_printoptions(floatmode="unique")  # every digit, as the frozen values hold them
    pprint.pprint(visible_values(), width=100)
