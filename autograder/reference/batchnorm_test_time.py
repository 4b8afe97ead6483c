"""Reference solutions of 03_batchnorm_test_time (shapes: units x examples). Instructor material.

Each function takes keyword flags that reproduce a known mistake; with every flag off it is
the right solution. `MISTAKES` names each mistake by its flags; the sentence that names it
to a student is published, once, in `course_lib.checks.batchnorm_test_time.HINTS`.

The visible checks cannot compute their expected values (they would publish the solution),
so they hold values frozen from this module: regenerate them after changing a visible input
or a mistake with

    python -m autograder.reference.batchnorm_test_time

(tests/test_checks_batchnorm_test_time.py fails while the committed values differ).
"""

import re
from pathlib import Path

import numpy as np


def exponentially_weighted_average(values, beta, bias_correction=False, *, flipped=False,
                                   start_at_first=False, correction=None, power_offset=0,
                                   divide_by_power=False, shifted=False, with_v0=False):
    """v_t = beta v_(t-1) + (1 - beta) theta_t from v_0 = 0; divided by 1 - beta**t if asked.

    Mistakes: `flipped` weights, `start_at_first` (v_0 = theta_1), `correction` forced on or
    off, the correction's power off by `power_offset`, `divide_by_power` (v_t / beta**t),
    `shifted` (v_0, ..., v_(T-1) stored), `with_v0` (v_0 returned in front).
    """
    values = np.asarray(values, dtype=np.float64)
    v = values[0] if start_at_first and values.size else 0.0
    averages = []
    for theta in values:
        v = (1 - beta) * v + beta * theta if flipped else beta * v + (1 - beta) * theta
        averages.append(v)
    averages = np.array(averages, dtype=np.float64)
    if shifted:
        averages = np.concatenate([[0.0], averages[:-1]])
    if bias_correction if correction is None else correction:
        power = np.arange(1, values.size + 1) + power_offset
        with np.errstate(divide="ignore", invalid="ignore"):
            averages = averages / (beta ** power if divide_by_power else 1 - beta ** power)
    return np.concatenate([[0.0], averages]) if with_v0 else averages


def update_running_stats(running_mu, running_var, mu, var, momentum=0.9, *, flipped=False,
                         sigma=False, var_from_mu=False, fixed_momentum=False,
                         not_updated=False):
    """new = momentum * old + (1 - momentum) * batch, for the mean and the variance."""
    if not_updated:
        return running_mu, running_var
    weight = 0.9 if fixed_momentum else momentum
    weight = 1 - weight if flipped else weight
    batch_var = mu if var_from_mu else np.sqrt(var) if sigma else var
    return (weight * running_mu + (1 - weight) * mu,
            weight * running_var + (1 - weight) * batch_var)


def track_running_stats(batches, momentum=0.9, *, ddof=0, sigma=False, not_updated=False,
                        axis=1, keepdims=True, transposed=False, start_at_first=False,
                        plain_average=False, pooled=False, fixed_momentum=False,
                        update_flipped=False):
    """Running statistics after the mini-batches, in order, starting from zeros.

    None where the mistake raises (statistics over the wrong axis of mini-batches of
    different sizes cannot be added up).
    """
    stats = []
    for Z in batches:
        mu = Z.mean(axis=axis, keepdims=keepdims)
        var = Z.var(axis=axis, keepdims=keepdims, ddof=ddof)
        stats.append((mu.T, var.T) if transposed else (mu, np.sqrt(var) if sigma else var))
    if plain_average:
        return tuple(np.mean([s[k] for s in stats], axis=0) for k in (0, 1))
    if pooled:
        Z = np.concatenate(batches, axis=1)
        return Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
    n = batches[0].shape[0]
    running = (np.zeros((1, n) if transposed else (n, 1)),) * 2
    if start_at_first:
        running, stats = stats[0], stats[1:]
    for mu, var in stats:
        if not not_updated:
            try:
                running = update_running_stats(*running, mu, var, momentum,
                                               fixed_momentum=fixed_momentum,
                                               flipped=update_flipped)
            except ValueError:
                return None
    return running


def batchnorm_inference(Z, gamma, beta, running_mu, running_var, eps=1e-5, *,
                        batch_stats=False, eps_outside=False, var_as_std=False, swapped=False,
                        fixed_eps=False, no_eps=False, transposed=False, returns_tuple=False):
    """gamma * (Z - running_mu) / sqrt(running_var + eps) + beta, example by example.

    None where the mistake raises (statistics used as rows of a non-square Z).
    """
    mu, var = running_mu, running_var
    if batch_stats:
        mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
    if swapped:
        gamma, beta = beta, gamma
    if transposed:
        gamma, beta, mu, var = gamma.T, beta.T, mu.T, var.T
    eps = 0.0 if no_eps else 1e-5 if fixed_eps else eps
    scale = (np.sqrt(var) + eps if eps_outside else var + eps if var_as_std
             else np.sqrt(var + eps))
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            Z_tilde = gamma * (Z - mu) / scale + beta
    except ValueError:
        return None
    return (Z_tilde, (running_mu, running_var)) if returns_tuple else Z_tilde


MISTAKES = {
    "exponentially_weighted_average": {
        "flipped": dict(flipped=True),
        "start_at_first": dict(start_at_first=True),
        "correction_always": dict(correction=True),
        "correction_never": dict(correction=False),
        "correction_power_plus_one": dict(power_offset=1),
        "correction_power_from_zero": dict(power_offset=-1),
        "divided_by_power": dict(divide_by_power=True),
        "shifted": dict(shifted=True),
        "with_v0": dict(with_v0=True),
    },
    "update_running_stats": {
        "flipped": dict(flipped=True),
        "sigma": dict(sigma=True),
        "var_from_mu": dict(var_from_mu=True),
        "fixed_momentum": dict(fixed_momentum=True),
        "not_updated": dict(not_updated=True),
    },
    "track_running_stats": {
        "unbiased": dict(ddof=1),
        "sigma": dict(sigma=True),
        "not_updated": dict(not_updated=True),
        "wrong_axis": dict(axis=0),
        "keepdims_missing": dict(keepdims=False),
        "transposed": dict(transposed=True),
        "start_at_first": dict(start_at_first=True),
        "plain_average": dict(plain_average=True),
        "pooled": dict(pooled=True),
        "fixed_momentum": dict(fixed_momentum=True),
        "update_flipped": dict(update_flipped=True),
    },
    "batchnorm_inference": {
        "batch_stats": dict(batch_stats=True),
        "eps_outside": dict(eps_outside=True),
        "var_as_std": dict(var_as_std=True),
        "swapped": dict(swapped=True),
        "fixed_eps": dict(fixed_eps=True),
        "no_eps": dict(no_eps=True),
        "transposed": dict(transposed=True),
        "returns_tuple": dict(returns_tuple=True),
    },
}
"""{graded function: {mistake id: the keyword flags of the reference that reproduce it}}."""


def result(function, args, kwargs=None, **flags):
    """The reference `function`'s result on `args`/`kwargs`, with a mistake's `flags`."""
    return globals()[function](*args, **(kwargs or {}), **flags)


def mistake_results(function, args, kwargs=None):
    """{mistake id: that mistake's result on `args`/`kwargs`} for every mistake of `function`."""
    return {mistake: result(function, args, kwargs, **flags)
            for mistake, flags in MISTAKES[function].items()}


# ------------------------------------------- the visible check's frozen values, regenerated


def visible_values():
    """{grade_id: [{"expected", "mistakes"} per visible case]} computed from the reference.

    A mistake is left out of a case where it has no result or gives the right one.
    """
    from course_lib.checks.batchnorm_test_time import VISIBLE, matches

    values = {}
    for grade_id, (function, cases) in VISIBLE.items():
        values[grade_id] = []
        for _, args, kwargs in cases:
            expected = result(function, args, kwargs)
            values[grade_id].append({"expected": expected, "mistakes": {
                mistake: value for mistake, value in mistake_results(function, args, kwargs).items()
                if value is not None and not matches(value, expected)}})
    return values


def _literal(value):
    """`value` (arrays, tuples, None) as Python source, floats to 15 significant digits."""
    if isinstance(value, np.ndarray):
        return _literal(value.tolist())
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ")"
    if value is None:
        return "None"
    if not np.isfinite(value):
        return "np.nan" if np.isnan(value) else "np.inf" if value > 0 else "-np.inf"
    return repr(float(f"{value:.15g}"))


BEGIN = "# BEGIN GENERATED VALUES: python -m autograder.reference.batchnorm_test_time\n"
END = "# END GENERATED VALUES\n"


def render(values):
    """The generated block of the published check module: one entry per case and result."""
    import textwrap

    lines = [BEGIN, "_FROZEN = {\n"]
    for grade_id, cases in values.items():
        for index, case in enumerate(cases):
            for which, value in {"expected": case["expected"], **case["mistakes"]}.items():
                entry = f"({grade_id!r}, {index}, {which!r}): {_literal(value)},"
                lines += [line + "\n" for line in textwrap.wrap(
                    entry, 99, initial_indent="    ", subsequent_indent="        ",
                    break_long_words=False, break_on_hyphens=False)]
    return "".join([*lines, "}\n", END])


def write_visible_values(path=None):
    """Rewrite the generated block of course_lib/checks/batchnorm_test_time.py in place."""
    import course_lib.checks.batchnorm_test_time as published

    path = Path(path or published.__file__)
    text = path.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    assert pattern.search(text), f"no generated block in {path}"
    path.write_text(pattern.sub(lambda _: render(visible_values()), text))
    return path


if __name__ == "__main__":
    print(f"wrote {write_visible_values()}")
