"""Visible checks of 03_batchnorm_test_time, and the hints and judge the grader shares.

Each `check_*` takes the student's function, runs it on the small inputs in `VISIBLE` and
raises `CheckFailed` with a sentence naming the mistake; otherwise it prints what it
verified. The grader runs more cases of each kind (other series, momentum and eps values,
shapes) and judges them with the same `judge`, the same `HINTS` and the same `RTOL`.

The right results on the visible inputs, and the result of every named mistake on them,
are frozen below (`_FROZEN`): they are computed from the course's reference by a command,
never typed, and a test checks that recomputing them gives the same values.
"""

import numpy as np

from course_lib.checking import (
    CheckFailed,
    contract_problem,
    describe_mismatch,
    guards_arguments,
    snapshot,
)

RTOL = 1e-9
"""Relative tolerance (to the largest expected entry) of every cell, visible and graded.

These results follow from a few multiplications: any right implementation agrees far
closer, and where eps sits (1e-5 relative on ordinary variances) is well above it."""

NAMES = {
    "exponentially_weighted_average": "v",
    "update_running_stats": ("running_mu", "running_var"),
    "track_running_stats": ("running_mu", "running_var"),
    "batchnorm_inference": "Z_tilde",
}
"""What each graded function's result is called in the notebook (a pair: its two names)."""

HINTS = {
    "exponentially_weighted_average": {
        "flipped": "the weights are swapped: v_t = beta * v_(t-1) + (1 - beta) * theta_t, so "
                   "the first value is (1 - beta) * theta_1",
        "start_at_first": "the average starts from v_0 = theta_1; it starts from v_0 = 0 (that "
                          "start is what bias correction corrects)",
        "correction_always": "bias correction is applied although bias_correction is False "
                             "(the default)",
        "correction_never": "bias correction is missing: with bias_correction=True divide v_t "
                            "by 1 - beta**t (t = 1 for the first value)",
        "correction_power_plus_one": "the correction uses beta**(t+1): divide v_t by "
                                     "1 - beta**t, with t = 1 for the first value",
        "correction_power_from_zero": "the correction's power starts at 0, where 1 - beta**0 = "
                                      "0: divide v_t by 1 - beta**t, with t = 1 for the first "
                                      "value",
        "divided_by_power": "v_t is divided by beta**t; bias correction divides by "
                            "1 - beta**t",
        "shifted": "the averages are shifted by one step: the first value is v_1 = beta * v_0 "
                   "+ (1 - beta) * theta_1, the average after theta_1, not v_0 = 0",
        "with_v0": "the result starts with v_0 = 0: return v_1, ..., v_T, one value per input "
                   "value",
    },
    "update_running_stats": {
        "flipped": "the momentum convention is flipped: new = momentum * old + (1 - momentum) * "
                   "batch, so momentum = 0.9 keeps 90% of the old value (PyTorch's momentum = "
                   "0.1 is the weight of the new value)",
        "sigma": "the running variance averages sqrt(var), a standard deviation: average the "
                 "variance itself",
        "var_from_mu": "the running variance is updated with the batch mean: fold var into "
                       "running_var (and mu into running_mu)",
        "fixed_momentum": "momentum is fixed at 0.9 whatever the argument says: use momentum",
        "not_updated": "the running statistics did not change: return momentum * old + "
                       "(1 - momentum) * batch",
    },
    "track_running_stats": {
        "unbiased": "the running variance uses the unbiased batch variance (ddof=1, as PyTorch "
                    "stores it); keep the biased variance (1/m) that the forward pass "
                    "normalises with",
        "sigma": "the running variance averages the batch standard deviations: average the "
                 "variances",
        "not_updated": "the running statistics are still 0: assign what update_running_stats "
                       "returns",
        "wrong_axis": "the batch statistics are taken over the units (axis 0) instead of over "
                      "each unit's examples (axis 1)",
        "keepdims_missing": "the batch statistics have shape (n,) (keepdims=True is missing), "
                            "so adding them to the (n, 1) running statistics broadcasts to an "
                            "(n, n) array",
        "transposed": "the running statistics are rows of shape (1, n): keep them as columns "
                      "(n, 1), one entry per unit",
        "start_at_first": "the running statistics start from the first mini-batch's "
                          "statistics; they start at 0, and every mini-batch, the first too, "
                          "is folded in with update_running_stats",
        "plain_average": "this is the plain average of the batch statistics; the running "
                         "statistics are an exponentially weighted average from 0",
        "pooled": "these are the statistics of all the mini-batches pooled together; the "
                  "running statistics are an exponentially weighted average of each "
                  "mini-batch's statistics, from 0",
        "fixed_momentum": "the momentum argument is not used: pass it on to "
                          "update_running_stats",
        "update_flipped": "the momentum convention of the update is flipped (see "
                          "test_update_running_stats): new = momentum * old + (1 - momentum) "
                          "* batch",
    },
    "batchnorm_inference": {
        "batch_stats": "Z is normalised with its own batch statistics; at test time use "
                       "running_mu and running_var (one example alone then gives exactly "
                       "beta, whatever it is)",
        "eps_outside": "eps is added to the square root of running_var; it belongs inside: "
                       "sqrt(running_var + eps)",
        "var_as_std": "Z - running_mu is divided by the variance; divide by the standard "
                      "deviation sqrt(running_var + eps)",
        "swapped": "gamma and beta are swapped: gamma scales, beta shifts",
        "fixed_eps": "eps is fixed at 1e-5 whatever the argument says: use eps",
        "no_eps": "eps is missing: divide by sqrt(running_var + eps), which stays finite when "
                  "a variance is 0",
        "transposed": "the statistics are used as rows: here examples are columns, and gamma, "
                      "beta, running_mu and running_var are columns (n, 1), one entry per unit",
        "returns_tuple": "batchnorm_inference returns a tuple: return the array Z_tilde alone "
                         "(at test time there is no cache to keep for a backward pass)",
    },
}
"""{graded function: {mistake id: the one sentence that names it}}, for both layers."""


# -------------------------------------------------------------------------- the judge


def _scale(expected):
    finite = np.abs(expected[np.isfinite(expected)])
    return float(finite.max()) if finite.size else 0.0


def matches(actual, expected):
    """Whether `actual` is `expected` within RTOL of its largest entry (nan matches nan)."""
    if isinstance(expected, tuple):
        return (isinstance(actual, tuple) and len(actual) == len(expected)
                and all(matches(a, e) for a, e in zip(actual, expected, strict=True)))
    if expected is None or isinstance(actual, (tuple, list)):
        return False
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=np.float64)
    return actual.shape == expected.shape and bool(np.allclose(
        actual, expected, rtol=RTOL, atol=max(RTOL * _scale(expected), 1e-300), equal_nan=True))


def judge(result, expected, known, *, function):
    """None when `result` is `expected`, otherwise one sentence naming what is wrong.

    `known` maps each mistake id of `function` to that mistake's result on the same inputs
    (None where it has none). A hint is given only when the result matches its mistake;
    otherwise the sentence describes the difference. Used by the visible checks and by the
    grader's judges alike.

    >>> judge(np.array([1.0]), np.array([1.0]), {}, function="exponentially_weighted_average")
    >>> judge([1.0], np.array([1.0]), {}, function="exponentially_weighted_average")
    'v is a list: return a numpy array (np.array(...) or a numpy expression)'
    """
    hints, names = HINTS[function], NAMES[function]
    if isinstance(result, tuple) and not isinstance(expected, tuple) and (
            "returns_tuple" in hints):
        return hints["returns_tuple"]
    parts = (result, expected, names) if not isinstance(expected, tuple) else None
    if parts is None:
        problem = contract_problem(result, expected, name=f"the result of {function}")
        if problem:
            return problem
        parts = list(zip(result, expected, names, strict=True))
    else:
        parts = [parts]
    for actual, wanted, name in parts:
        problem = contract_problem(actual, wanted, name=name)
        if problem:
            return problem
    wrong = [(actual, wanted, name) for actual, wanted, name in parts
             if not matches(actual, wanted)]
    if not wrong:
        return None
    actual, wanted, name = wrong[0]
    for mistake, value in known.items():
        if matches(result, value):
            return f"{name} is wrong: {hints[mistake]}"
    return describe_mismatch(actual, wanted, name=name, rtol=RTOL,
                             atol=max(RTOL * _scale(np.asarray(wanted)), 1e-300))


# ------------------------------------------------------------------- the visible inputs

THETA = np.array([10.0, 12.0, 9.0, 11.0, 14.0, 13.0])
"""Six daily temperatures."""

OLD_MU = np.array([[1.0], [-2.0], [0.5]])
OLD_VAR = np.array([[4.0], [1.0], [0.25]])
BATCH_MU = np.array([[3.0], [0.0], [-0.5]])
BATCH_VAR = np.array([[2.25], [9.0], [0.16]])
ZEROS = np.zeros((3, 1))

BATCHES = [np.array([[3.0, -1.0, 1.0, 2.5, -0.5], [-1.5, -2.0, -3.0, -1.0, -2.5],
                     [4.0, -2.0, 0.5, 1.0, -1.0]]),
           np.array([[4.5, 1.5, 3.0, 3.0], [0.5, -0.5, 0.0, 0.0], [3.5, -0.5, 1.5, 1.5]]),
           np.array([[3.0, 1.0, 2.0, 2.0, 2.0], [1.0, -3.0, 1.0, -1.0, -3.0],
                     [2.0, -3.0, -0.5, -3.0, 2.0]])]
"""Three mini-batches of 3 units with m = 5, 4 and 5 examples."""

SQUARE_BATCHES = [np.array([[1.0, 2.0, 6.0], [-1.0, 0.5, 3.5], [4.0, 0.0, -2.0]]),
                  np.array([[0.0, 3.0, 3.0], [2.0, -2.0, 1.0], [1.5, 2.5, -1.0]]),
                  np.array([[2.0, -1.0, 0.5], [0.0, 1.0, 5.0], [-3.0, 1.0, 2.0]])]
"""Three mini-batches of 3 units and 3 examples (where the two axes can be confused)."""

INFERENCE_Z = np.array([[1.0, -2.0, 0.5, 3.0], [4.0, 2.5, 3.0, 5.0], [-1.0, 0.0, 2.0, -3.0]])
LAYER = (np.array([[1.5], [-0.5], [2.0]]), np.array([[0.5], [1.0], [-1.0]]),
         np.array([[0.5], [3.0], [0.2]]), np.array([[2.25], [1.0], [4.0]]))
"""gamma, beta, running_mu, running_var of a layer of 3 units."""
TINY_VAR = np.array([[1e-7], [4e-6], [0.0]])

EWA = "exponentially_weighted_average"
VISIBLE = {
    "test_exponentially_weighted_average": (EWA, [
        ("six temperatures, beta = 0.9", (THETA, 0.9), {}),
        ("after one value 20 with beta = 0.98, bias_correction=False", (np.array([20.0]), 0.98),
         {"bias_correction": False}),
    ]),
    "test_exponentially_weighted_average_bias_correction": (EWA, [
        ("a constant series 7, 7, ... with bias correction should give 7 at every step",
         (np.full(12, 7.0), 0.9), {"bias_correction": True}),
        ("six temperatures with bias correction", (THETA, 0.9), {"bias_correction": True}),
        ("one value 20 with beta = 0.98 and bias correction (v_1 = theta_1)",
         (np.array([20.0]), 0.98), {"bias_correction": True}),
    ]),
    "test_update_running_stats": ("update_running_stats", [
        ("one update from 0 (momentum 0.9)", (ZEROS, ZEROS, BATCH_MU, BATCH_VAR), {}),
        ("one update from earlier values (momentum 0.9)", (OLD_MU, OLD_VAR, BATCH_MU,
                                                           BATCH_VAR), {}),
        ("one update with momentum=0.8", (OLD_MU, OLD_VAR, BATCH_MU, BATCH_VAR),
         {"momentum": 0.8}),
    ]),
    "test_track_running_stats": ("track_running_stats", [
        ("three mini-batches of 3 units and 3 examples", (SQUARE_BATCHES,), {}),
        ("three mini-batches of 3 units (m = 5, 4, 5)", (BATCHES,), {}),
        ("the same mini-batches with momentum=0.5", (BATCHES,), {"momentum": 0.5}),
        ("one mini-batch (m = 5)", (BATCHES[:1],), {}),
    ]),
    "test_batchnorm_inference": ("batchnorm_inference", [
        ("the second example alone (m = 1), which should give column 2 of the batch's result",
         (INFERENCE_Z[:, [1]], *LAYER), {}),
        ("Z of shape (3, 4)", (INFERENCE_Z, *LAYER), {}),
        ("Z of shape (3, 3)", (INFERENCE_Z[:, :3], *LAYER), {}),
        ("running variances 1e-7, 4e-6 and 0 (eps goes inside the square root)",
         (1e-3 * INFERENCE_Z + LAYER[2], *LAYER[:3], TINY_VAR), {}),
        ("eps = 0.1 passed as an argument", (INFERENCE_Z, *LAYER), {"eps": 0.1}),
    ]),
}
"""{grade_id: (graded function, [(what the case is, args, kwargs)])}: the visible cases."""


def _arrays(value):
    """A frozen value with its nested lists turned into float64 arrays."""
    if isinstance(value, list):
        return np.array(value, dtype=np.float64)
    if isinstance(value, tuple):
        return tuple(_arrays(v) for v in value)
    return value


def _unfreeze(frozen):
    """{grade_id: [{"expected": ..., "mistakes": {...}} per case]} from the flat `_FROZEN`."""
    values = {grade_id: [{"mistakes": {}} for _ in cases] for grade_id, (_, cases)
              in VISIBLE.items()}
    for (grade_id, index, which), value in frozen.items():
        case = values[grade_id][index]
        if which == "expected":
            case["expected"] = _arrays(value)
        else:
            case["mistakes"][which] = _arrays(value)
    return values


def _run(grade_id, function):
    """Run the visible cases of `grade_id` on the student's `function`; raise at the first wrong."""
    name, cases = VISIBLE[grade_id]
    for (context, args, kwargs), frozen in zip(cases, VALUES[grade_id], strict=True):
        problem = judge(function(*snapshot(args), **kwargs), frozen["expected"],
                        frozen["mistakes"], function=name)
        if problem:
            raise CheckFailed(f"{context}: {problem}")


@guards_arguments
def check_exponentially_weighted_average(exponentially_weighted_average):
    """Check v_t on six temperatures with beta = 0.9, and the first value alone."""
    _run("test_exponentially_weighted_average", exponentially_weighted_average)
    print("exponentially_weighted_average: v_t = beta v_(t-1) + (1 - beta) theta_t from v_0 = 0.")


@guards_arguments
def check_exponentially_weighted_average_bias_correction(exponentially_weighted_average):
    """Check the corrected average: a constant series stays constant, and known values."""
    _run("test_exponentially_weighted_average_bias_correction", exponentially_weighted_average)
    print("exponentially_weighted_average: bias correction divides v_t by 1 - beta**t.")


@guards_arguments
def check_update_running_stats(update_running_stats):
    """Check ONE update, from zeros and from earlier values, with momentum 0.9 and 0.8."""
    _run("test_update_running_stats", update_running_stats)
    print("update_running_stats: new = momentum * old + (1 - momentum) * batch, after one "
          "update.")


@guards_arguments
def check_track_running_stats(track_running_stats):
    """Check the running statistics after three mini-batches (two momenta), and after one."""
    _run("test_track_running_stats", track_running_stats)
    print("track_running_stats: EWA of each batch's mean and biased variance, from 0.")


@guards_arguments
def check_batchnorm_inference(batchnorm_inference):
    """Check one example alone, Z of two shapes, variances below eps, and another eps."""
    _run("test_batchnorm_inference", batchnorm_inference)
    print("batchnorm_inference: uses the running statistics, so one example alone gives the "
          "same result as inside a batch.")


# BEGIN GENERATED VALUES: python -m autograder.reference.batchnorm_test_time
_FROZEN = {
    ('test_exponentially_weighted_average', 0, 'expected'): [1.0, 2.1, 2.79, 3.611, 4.6499,
        5.48491],
    ('test_exponentially_weighted_average', 0, 'flipped'): [9.0, 11.7, 9.27, 10.827, 13.6827,
        13.06827],
    ('test_exponentially_weighted_average', 0, 'start_at_first'): [10.0, 10.2, 10.08, 10.172,
        10.5548, 10.79932],
    ('test_exponentially_weighted_average', 0, 'correction_always'): [10.0, 11.0526315789474,
        10.2952029520295, 10.5001453911021, 11.3547898708212, 11.7059111019103],
    ('test_exponentially_weighted_average', 0, 'shifted'): [0.0, 1.0, 2.1, 2.79, 3.611, 4.6499],
    ('test_exponentially_weighted_average', 0, 'with_v0'): [0.0, 1.0, 2.1, 2.79, 3.611, 4.6499,
        5.48491],
    ('test_exponentially_weighted_average', 1, 'expected'): [0.4],
    ('test_exponentially_weighted_average', 1, 'flipped'): [19.6],
    ('test_exponentially_weighted_average', 1, 'start_at_first'): [20.0],
    ('test_exponentially_weighted_average', 1, 'correction_always'): [20.0],
    ('test_exponentially_weighted_average', 1, 'shifted'): [0.0],
    ('test_exponentially_weighted_average', 1, 'with_v0'): [0.0, 0.4],
    ('test_exponentially_weighted_average_bias_correction', 0, 'expected'): [7.0, 7.0, 7.0, 7.0,
        7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0],
    ('test_exponentially_weighted_average_bias_correction', 0, 'flipped'): [63.0, 36.4736842105263,
        25.8044280442804, 20.3527188136086, 17.0934287318991, 14.9394057098466, 13.4175919215355,
        12.2907759709498, 11.4270880225375, 10.7473795284387, 10.201265073525, 9.75513953802483],
    ('test_exponentially_weighted_average_bias_correction', 0, 'start_at_first'): [70.0,
        36.8421052631579, 25.830258302583, 20.3547542890375, 17.0935996678958, 14.9394206492672,
        13.4175932632948, 12.2907760938576, 11.4270880339646, 10.7473795295134, 10.201265073627,
        9.75513953803459],
    ('test_exponentially_weighted_average_bias_correction', 0, 'correction_never'): [0.7, 1.33,
        1.897, 2.4073, 2.86657, 3.279913, 3.6519217, 3.98672953, 4.288056577, 4.5592509193,
        4.80332582737, 5.022993244633],
    ('test_exponentially_weighted_average_bias_correction', 0, 'correction_power_plus_one'):
        [3.68421052631579, 4.90774907749078, 5.51613841232916, 5.87848892578936, 6.11784215008142,
        6.28693408185614, 6.41213598957138, 6.50810132955949, 6.58362449672073, 6.64430388070811,
        6.69387338466282, 6.73491939004309],
    ('test_exponentially_weighted_average_bias_correction', 0, 'correction_power_from_zero'):
        [np.inf, 13.3, 9.98421052631579, 8.8830258302583, 8.33547542890375, 8.00935996678958,
        7.79394206492672, 7.64175932632948, 7.52907760938576, 7.44270880339646, 7.37473795295134,
        7.3201265073627],
    ('test_exponentially_weighted_average_bias_correction', 0, 'divided_by_power'):
        [0.777777777777778, 1.64197530864197, 2.60219478737997, 3.66910531931108, 4.8545614659012,
        6.17173496211244, 7.63526106901382, 9.26140118779314, 11.0682235419924, 13.0758039355471,
        15.3064488172745, 17.784943130305],
    ('test_exponentially_weighted_average_bias_correction', 0, 'shifted'): [0.0, 3.68421052631579,
        4.90774907749078, 5.51613841232916, 5.87848892578936, 6.11784215008142, 6.28693408185614,
        6.41213598957138, 6.50810132955949, 6.58362449672073, 6.64430388070811, 6.69387338466282],
    ('test_exponentially_weighted_average_bias_correction', 0, 'with_v0'): [0.0, 7.0, 7.0, 7.0,
        7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0],
    ('test_exponentially_weighted_average_bias_correction', 1, 'expected'): [10.0,
        11.0526315789474, 10.2952029520295, 10.5001453911021, 11.3547898708212, 11.7059111019103],
    ('test_exponentially_weighted_average_bias_correction', 1, 'flipped'): [90.0, 61.5789473684211,
        34.2066420664207, 31.4829892410584, 33.4123708822739, 27.8903403840285],
    ('test_exponentially_weighted_average_bias_correction', 1, 'start_at_first'): [100.0,
        53.6842105263158, 37.1955719557196, 29.5783658040128, 25.7742179678152, 23.0479406008635],
    ('test_exponentially_weighted_average_bias_correction', 1, 'correction_never'): [1.0, 2.1,
        2.79, 3.611, 4.6499, 5.48491],
    ('test_exponentially_weighted_average_bias_correction', 1, 'correction_power_plus_one'):
        [5.26315789473684, 7.74907749077491, 8.11282349520209, 8.81785548582452, 9.92383029671823,
        10.5134702093969],
    ('test_exponentially_weighted_average_bias_correction', 1, 'correction_power_from_zero'):
        [np.inf, 21.0, 14.6842105263158, 13.3247232472325, 13.5210817097994, 13.3938365363483],
    ('test_exponentially_weighted_average_bias_correction', 1, 'divided_by_power'):
        [1.11111111111111, 2.59259259259259, 3.82716049382716, 5.50373418686176, 7.874646480042,
        10.3208258301486],
    ('test_exponentially_weighted_average_bias_correction', 1, 'shifted'): [0.0, 5.26315789473684,
        7.74907749077491, 8.11282349520209, 8.81785548582452, 9.92383029671823],
    ('test_exponentially_weighted_average_bias_correction', 1, 'with_v0'): [0.0, 10.0,
        11.0526315789474, 10.2952029520295, 10.5001453911021, 11.3547898708212, 11.7059111019103],
    ('test_exponentially_weighted_average_bias_correction', 2, 'expected'): [20.0],
    ('test_exponentially_weighted_average_bias_correction', 2, 'flipped'): [979.999999999999],
    ('test_exponentially_weighted_average_bias_correction', 2, 'start_at_first'):
        [999.999999999999],
    ('test_exponentially_weighted_average_bias_correction', 2, 'correction_never'): [0.4],
    ('test_exponentially_weighted_average_bias_correction', 2, 'correction_power_plus_one'):
        [10.1010101010101],
    ('test_exponentially_weighted_average_bias_correction', 2, 'correction_power_from_zero'):
        [np.inf],
    ('test_exponentially_weighted_average_bias_correction', 2, 'divided_by_power'):
        [0.408163265306123],
    ('test_exponentially_weighted_average_bias_correction', 2, 'shifted'): [0.0],
    ('test_exponentially_weighted_average_bias_correction', 2, 'with_v0'): [0.0, 20.0],
    ('test_update_running_stats', 0, 'expected'): ([[0.3], [0.0], [-0.05]], [[0.225], [0.9],
        [0.016]]),
    ('test_update_running_stats', 0, 'flipped'): ([[2.7], [0.0], [-0.45]], [[2.025], [8.1],
        [0.144]]),
    ('test_update_running_stats', 0, 'sigma'): ([[0.3], [0.0], [-0.05]], [[0.15], [0.3], [0.04]]),
    ('test_update_running_stats', 0, 'var_from_mu'): ([[0.3], [0.0], [-0.05]], [[0.3], [0.0],
        [-0.05]]),
    ('test_update_running_stats', 0, 'not_updated'): ([[0.0], [0.0], [0.0]], [[0.0], [0.0],
        [0.0]]),
    ('test_update_running_stats', 1, 'expected'): ([[1.2], [-1.8], [0.4]], [[3.825], [1.8],
        [0.241]]),
    ('test_update_running_stats', 1, 'flipped'): ([[2.8], [-0.2], [-0.4]], [[2.425], [8.2],
        [0.169]]),
    ('test_update_running_stats', 1, 'sigma'): ([[1.2], [-1.8], [0.4]], [[3.75], [1.2], [0.265]]),
    ('test_update_running_stats', 1, 'var_from_mu'): ([[1.2], [-1.8], [0.4]], [[3.9], [0.9],
        [0.175]]),
    ('test_update_running_stats', 1, 'not_updated'): ([[1.0], [-2.0], [0.5]], [[4.0], [1.0],
        [0.25]]),
    ('test_update_running_stats', 2, 'expected'): ([[1.4], [-1.6], [0.3]], [[3.65], [2.6],
        [0.232]]),
    ('test_update_running_stats', 2, 'flipped'): ([[2.6], [-0.4], [-0.3]], [[2.6], [7.4],
        [0.178]]),
    ('test_update_running_stats', 2, 'sigma'): ([[1.4], [-1.6], [0.3]], [[3.5], [1.4], [0.28]]),
    ('test_update_running_stats', 2, 'var_from_mu'): ([[1.4], [-1.6], [0.3]], [[3.8], [0.8],
        [0.1]]),
    ('test_update_running_stats', 2, 'fixed_momentum'): ([[1.2], [-1.8], [0.4]], [[3.825], [1.8],
        [0.241]]),
    ('test_update_running_stats', 2, 'not_updated'): ([[1.0], [-2.0], [0.5]], [[4.0], [1.0],
        [0.25]]),
    ('test_track_running_stats', 0, 'expected'): ([[0.473], [0.311], [0.144]], [[0.708],
        [1.01016666666667], [1.16566666666667]]),
    ('test_track_running_stats', 0, 'unbiased'): ([[0.473], [0.311], [0.144]], [[1.062], [1.51525],
        [1.7485]]),
    ('test_track_running_stats', 0, 'sigma'): ([[0.473], [0.311], [0.144]], [[0.42473370660975],
        [0.520532399519057], [0.550550601827639]]),
    ('test_track_running_stats', 0, 'not_updated'): ([[0.0], [0.0], [0.0]], [[0.0], [0.0], [0.0]]),
    ('test_track_running_stats', 0, 'wrong_axis'): ([[0.179666666666667, 0.205833333333333,
        0.5425], [0.179666666666667, 0.205833333333333, 0.5425], [0.179666666666667,
        0.205833333333333, 0.5425]], [[0.829222222222222, 0.602388888888889, 1.4945],
        [0.829222222222222, 0.602388888888889, 1.4945], [0.829222222222222, 0.602388888888889,
        1.4945]]),
    ('test_track_running_stats', 0, 'keepdims_missing'): ([[0.473, 0.311, 0.144], [0.473, 0.311,
        0.144], [0.473, 0.311, 0.144]], [[0.708, 1.01016666666667, 1.16566666666667], [0.708,
        1.01016666666667, 1.16566666666667], [0.708, 1.01016666666667, 1.16566666666667]]),
    ('test_track_running_stats', 0, 'transposed'): ([[0.473, 0.311, 0.144]], [[0.708,
        1.01016666666667, 1.16566666666667]]),
    ('test_track_running_stats', 0, 'start_at_first'): ([[2.66], [1.04], [0.63]], [[4.11],
        [3.56166666666667], [5.70166666666667]]),
    ('test_track_running_stats', 0, 'plain_average'): ([[1.83333333333333], [1.11111111111111],
        [0.555555555555555]], [[2.72222222222222], [3.68518518518519], [4.35185185185185]]),
    ('test_track_running_stats', 0, 'pooled'): ([[1.83333333333333], [1.11111111111111],
        [0.555555555555556]], [[3.77777777777778], [4.15432098765432], [4.52469135802469]]),
    ('test_track_running_stats', 0, 'update_flipped'): ([[0.657], [1.839], [0.096]], [[1.572],
        [4.4915], [4.451]]),
    ('test_track_running_stats', 1, 'expected'): ([[0.551], [-0.262], [0.1255]], [[0.34375],
        [0.37175], [1.0202]]),
    ('test_track_running_stats', 1, 'unbiased'): ([[0.551], [-0.262], [0.1255]], [[0.438125],
        [0.465625], [1.29025]]),
    ('test_track_running_stats', 1, 'sigma'): ([[0.551], [-0.262], [0.1255]], [[0.286777213900371],
        [0.267980892629488], [0.516886620772103]]),
    ('test_track_running_stats', 1, 'not_updated'): ([[0.0], [0.0], [0.0]], [[0.0], [0.0], [0.0]]),
    ('test_track_running_stats', 1, 'keepdims_missing'): ([[0.551, -0.262, 0.1255], [0.551, -0.262,
        0.1255], [0.551, -0.262, 0.1255]], [[0.34375, 0.37175, 1.0202], [0.34375, 0.37175, 1.0202],
        [0.34375, 0.37175, 1.0202]]),
    ('test_track_running_stats', 1, 'transposed'): ([[0.551, -0.262, 0.1255]], [[0.34375, 0.37175,
        1.0202]]),
    ('test_track_running_stats', 1, 'start_at_first'): ([[1.28], [-1.72], [0.49]], [[2.16625],
        [0.73625], [4.082]]),
    ('test_track_running_stats', 1, 'plain_average'): ([[2.0], [-1.0], [0.5]], [[1.34166666666667],
        [1.275], [3.73333333333333]]),
    ('test_track_running_stats', 1, 'pooled'): ([[1.92857142857143], [-1.07142857142857],
        [0.428571428571429]], [[1.99489795918367], [1.99489795918367], [4.49489795918367]]),
    ('test_track_running_stats', 1, 'update_flipped'): ([[2.079], [-0.918], [-0.3105]], [[0.48375],
        [2.89575], [4.7178]]),
    ('test_track_running_stats', 2, 'expected'): ([[1.875], [-0.75], [0.1875]], [[0.79375],
        [1.69375], [3.525]]),
    ('test_track_running_stats', 2, 'unbiased'): ([[1.875], [-0.75], [0.1875]], [[1.015625],
        [2.11979166666667], [4.44791666666667]]),
    ('test_track_running_stats', 2, 'sigma'): ([[1.875], [-0.75], [0.1875]], [[0.779035162722317],
        [1.07120388629655], [1.72776114849216]]),
    ('test_track_running_stats', 2, 'not_updated'): ([[0.0], [0.0], [0.0]], [[0.0], [0.0], [0.0]]),
    ('test_track_running_stats', 2, 'keepdims_missing'): ([[1.875, -0.75, 0.1875], [1.875, -0.75,
        0.1875], [1.875, -0.75, 0.1875]], [[0.79375, 1.69375, 3.525], [0.79375, 1.69375, 3.525],
        [0.79375, 1.69375, 3.525]]),
    ('test_track_running_stats', 2, 'transposed'): ([[1.875, -0.75, 0.1875]], [[0.79375, 1.69375,
        3.525]]),
    ('test_track_running_stats', 2, 'start_at_first'): ([[2.0], [-1.0], [0.25]], [[1.10625],
        [1.75625], [4.05]]),
    ('test_track_running_stats', 2, 'plain_average'): ([[2.0], [-1.0], [0.5]], [[1.34166666666667],
        [1.275], [3.73333333333333]]),
    ('test_track_running_stats', 2, 'pooled'): ([[1.92857142857143], [-1.07142857142857],
        [0.428571428571429]], [[1.99489795918367], [1.99489795918367], [4.49489795918367]]),
    ('test_track_running_stats', 2, 'fixed_momentum'): ([[0.551], [-0.262], [0.1255]], [[0.34375],
        [0.37175], [1.0202]]),
    ('test_track_running_stats', 3, 'expected'): ([[0.1], [-0.2], [0.05]], [[0.25], [0.05],
        [0.42]]),
    ('test_track_running_stats', 3, 'unbiased'): ([[0.1], [-0.2], [0.05]], [[0.3125], [0.0625],
        [0.525]]),
    ('test_track_running_stats', 3, 'sigma'): ([[0.1], [-0.2], [0.05]], [[0.158113883008419],
        [0.0707106781186547], [0.204939015319192]]),
    ('test_track_running_stats', 3, 'not_updated'): ([[0.0], [0.0], [0.0]], [[0.0], [0.0], [0.0]]),
    ('test_track_running_stats', 3, 'wrong_axis'): ([[0.183333333333333, -0.166666666666667, -0.05,
        0.0833333333333333, -0.133333333333333], [0.183333333333333, -0.166666666666667, -0.05,
        0.0833333333333333, -0.133333333333333], [0.183333333333333, -0.166666666666667, -0.05,
        0.0833333333333333, -0.133333333333333]], [[0.572222222222222, 0.0222222222222222,
        0.316666666666667, 0.205555555555556, 0.0722222222222222], [0.572222222222222,
        0.0222222222222222, 0.316666666666667, 0.205555555555556, 0.0722222222222222],
        [0.572222222222222, 0.0222222222222222, 0.316666666666667, 0.205555555555556,
        0.0722222222222222]]),
    ('test_track_running_stats', 3, 'keepdims_missing'): ([[0.1, -0.2, 0.05], [0.1, -0.2, 0.05],
        [0.1, -0.2, 0.05]], [[0.25, 0.05, 0.42], [0.25, 0.05, 0.42], [0.25, 0.05, 0.42]]),
    ('test_track_running_stats', 3, 'transposed'): ([[0.1, -0.2, 0.05]], [[0.25, 0.05, 0.42]]),
    ('test_track_running_stats', 3, 'start_at_first'): ([[1.0], [-2.0], [0.5]], [[2.5], [0.5],
        [4.2]]),
    ('test_track_running_stats', 3, 'plain_average'): ([[1.0], [-2.0], [0.5]], [[2.5], [0.5],
        [4.2]]),
    ('test_track_running_stats', 3, 'pooled'): ([[1.0], [-2.0], [0.5]], [[2.5], [0.5], [4.2]]),
    ('test_track_running_stats', 3, 'update_flipped'): ([[0.9], [-1.8], [0.45]], [[2.25], [0.45],
        [3.78]]),
    ('test_batchnorm_inference', 0, 'expected'): [[-1.99999444446296], [1.24999875000937],
        [-1.19999975000047]],
    ('test_batchnorm_inference', 0, 'batch_stats'): [[0.5], [1.0], [-1.0]],
    ('test_batchnorm_inference', 0, 'eps_outside'): [[-1.99998333344444], [1.249997500025],
        [-1.199999000005]],
    ('test_batchnorm_inference', 0, 'var_as_std'): [[-1.16665925929218], [1.249997500025],
        [-1.09999975000063]],
    ('test_batchnorm_inference', 0, 'swapped'): [[0.666668518512346], [-0.99999750001875],
        [2.09999987500023]],
    ('test_batchnorm_inference', 0, 'no_eps'): [[-2.0], [1.25], [-1.2]],
    ('test_batchnorm_inference', 0, 'transposed'): [[-1.99999444446296, 3.49998750009375,
        -3.19999725000516], [2.49999555557037, 1.24999875000937, 1.29999712500539],
        [1.11110740741438e-06, 2.49999250005625, -1.19999975000047]],
    ('test_batchnorm_inference', 0, 'returns_tuple'): ([[-1.99999444446296], [1.24999875000937],
        [-1.19999975000047]], ([[0.5], [3.0], [0.2]], [[2.25], [1.0], [4.0]])),
    ('test_batchnorm_inference', 1, 'expected'): [[0.999998888892593, -1.99999444446296, 0.5,
        2.99999444446296], [0.50000249998125, 1.24999875000937, 1.0, 4.9999625002517e-06],
        [-2.19999850000281, -1.19999975000047, 0.799997750004219, -4.1999960000075]],
    ('test_batchnorm_inference', 1, 'batch_stats'): [[0.815837584982956, -1.71086309488069,
        0.394720805005681, 2.50030470489205], [0.804717692684169, 1.58584692194749,
        1.32547051219305, 0.283964873175286], [-1.55469934284228, -0.445300657157719,
        1.77349671421141, -3.77349671421141]],
    ('test_batchnorm_inference', 1, 'eps_outside'): [[0.999996666688889, -1.99998333344444, 0.5,
        2.99998333344444], [0.50000499995, 1.249997500025, 1.0, 9.99990000105644e-06],
        [-2.19999400003, -1.199999000005, 0.799991000045, -4.19998400008]],
    ('test_batchnorm_inference', 1, 'var_as_std'): [[0.833331851858436, -1.16665925929218, 0.5,
        2.16665925929218], [0.50000499995, 1.249997500025, 1.0, 9.99990000105644e-06],
        [-1.59999850000375, -1.09999975000063, -0.100002249994375, -2.59999600001]],
    ('test_batchnorm_inference', 1, 'swapped'): [[1.66666629629753, 0.666668518512346, 1.5,
        2.33333148148765], [0.4999950000375, -0.99999750001875, -0.5, 1.499990000075],
        [2.59999925000141, 2.09999987500023, 1.10000112499789, 3.59999800000375]],
    ('test_batchnorm_inference', 1, 'no_eps'): [[1.0, -2.0, 0.5, 3.0], [0.5, 1.25, 1.0, 0.0],
        [-2.2, -1.2, 0.8, -4.2]],
    ('test_batchnorm_inference', 1, 'returns_tuple'): ([[0.999998888892593, -1.99999444446296, 0.5,
        2.99999444446296], [0.50000249998125, 1.24999875000937, 1.0, 4.9999625002517e-06],
        [-2.19999850000281, -1.19999975000047, 0.799997750004219, -4.1999960000075]], ([[0.5],
        [3.0], [0.2]], [[2.25], [1.0], [4.0]])),
    ('test_batchnorm_inference', 2, 'expected'): [[0.999998888892593, -1.99999444446296, 0.5],
        [0.50000249998125, 1.24999875000937, 1.0], [-2.19999850000281, -1.19999975000047,
        0.799997750004219]],
    ('test_batchnorm_inference', 2, 'batch_stats'): [[1.83349746206338, -1.59549601181388,
        1.2619985497505], [0.331855485593186, 1.53451561152545, 1.13362890288136],
        [-3.13808306290059, -1.53452076572515, 1.67260382862574]],
    ('test_batchnorm_inference', 2, 'eps_outside'): [[0.999996666688889, -1.99998333344444, 0.5],
        [0.50000499995, 1.249997500025, 1.0], [-2.19999400003, -1.199999000005, 0.799991000045]],
    ('test_batchnorm_inference', 2, 'var_as_std'): [[0.833331851858436, -1.16665925929218, 0.5],
        [0.50000499995, 1.249997500025, 1.0], [-1.59999850000375, -1.09999975000063,
        -0.100002249994375]],
    ('test_batchnorm_inference', 2, 'swapped'): [[1.66666629629753, 0.666668518512346, 1.5],
        [0.4999950000375, -0.99999750001875, -0.5], [2.59999925000141, 2.09999987500023,
        1.10000112499789]],
    ('test_batchnorm_inference', 2, 'no_eps'): [[1.0, -2.0, 0.5], [0.5, 1.25, 1.0], [-2.2, -1.2,
        0.8]],
    ('test_batchnorm_inference', 2, 'transposed'): [[0.999998888892593, 3.49998750009375,
        -0.700000374999297], [3.99999222224815, 1.24999875000937, 1.79999650000656],
        [-0.999996666677778, 2.49999250005625, 0.799997750004219]],
    ('test_batchnorm_inference', 2, 'returns_tuple'): ([[0.999998888892593, -1.99999444446296,
        0.5], [0.50000249998125, 1.24999875000937, 1.0], [-2.19999850000281, -1.19999975000047,
        0.799997750004219]], ([[0.5], [3.0], [0.2]], [[2.25], [1.0], [4.0]])),
    ('test_batchnorm_inference', 3, 'expected'): [[0.971987581645665, -0.44397516329133,
        0.735993790822806, 1.91596274493699], [0.465477516175151, 0.665923447609477,
        0.599108137131348, 0.331846895218953], [-1.63245553203368, -1.0, 0.264911064067353,
        -2.89736659610103]],
    ('test_batchnorm_inference', 3, 'batch_stats'): [[0.654988232821621, -0.584917629751303,
        0.448337255726111, 1.48159214120357], [0.943264789414513, 1.17020563175619,
        1.09455868430894, 0.791970894520082], [-1.27472112789738, -0.725278872102622,
        0.373605639486891, -2.37360563948689]],
    ('test_batchnorm_inference', 3, 'eps_outside'): [[5.09801450475733, -8.69602900951466,
        2.79900725237841, 14.294043514272], [0.00497512437810865, 0.378109452736332,
        0.253731343283554, -0.243781094527337], [-201.0, -1.0, 399.0, -601.0]],
    ('test_batchnorm_inference', 3, 'var_as_std'): [[149.014851485149, -296.529702970297,
        74.7574257425661, 446.044554455446], [-141.857142857143, -88.2857142857124,
        -106.142857142861, -177.571428571425], [-201.0, -1.0, 399.0, -601.0]],
    ('test_batchnorm_inference', 3, 'swapped'): [[1.65732919388189, 1.18534161223622,
        1.57866459694094, 1.97198758164566], [0.569044967649698, 0.168153104781047,
        0.301783725737303, 0.836306209562093], [2.31622776601684, 2.0, 1.36754446796632,
        2.94868329805051]],
    ('test_batchnorm_inference', 3, 'no_eps'): [[5.24341649025257, -8.98683298050515,
        2.87170824512602, 14.7302494707577], [-8.88178419700125e-16, 0.375000000000013,
        0.249999999999972, -0.249999999999973], [-np.inf, np.nan, np.inf, -np.inf]],
    ('test_batchnorm_inference', 3, 'returns_tuple'): ([[0.971987581645665, -0.44397516329133,
        0.735993790822806, 1.91596274493699], [0.465477516175151, 0.665923447609477,
        0.599108137131348, 0.331846895218953], [-1.63245553203368, -1.0, 0.264911064067353,
        -2.89736659610103]], ([[0.5], [3.0], [0.2]], [[1e-07], [4e-06], [0.0]])),
    ('test_batchnorm_inference', 4, 'expected'): [[0.989246054790082, -1.94623027395041, 0.5,
        2.94623027395041], [0.523268705377204, 1.2383656473114, 1.0, 0.0465374107544078],
        [-2.18527551597951, -1.19754591932992, 0.777913273969262, -4.16073470927869]],
    ('test_batchnorm_inference', 4, 'batch_stats'): [[0.810974068147445, -1.67681847703212,
        0.396341977284185, 2.46950243160049], [0.814517737438938, 1.55644678768319,
        1.30913710426844, 0.31989837060944], [-1.54635836470815, -0.453641635291847,
        1.73179182354077, -3.73179182354077]],
    ('test_batchnorm_inference', 4, 'eps_outside'): [[0.96875, -1.84375, 0.5, 2.84375],
        [0.545454545454545, 1.22727272727273, 1.0, 0.0909090909090909], [-2.14285714285714,
        -1.19047619047619, 0.714285714285714, -4.04761904761905]],
    ('test_batchnorm_inference', 4, 'var_as_std'): [[0.819148936170213, -1.09574468085106, 0.5,
        2.09574468085106], [0.545454545454545, 1.22727272727273, 1.0, 0.0909090909090909],
        [-1.58536585365854, -1.09756097560976, -0.121951219512195, -2.5609756097561]],
    ('test_batchnorm_inference', 4, 'swapped'): [[1.66308201826336, 0.684589908683197, 1.5,
        2.3154100913168], [0.453462589245592, -0.976731294622796, -0.5, 1.40692517849118],
        [2.59263775798975, 2.09877295966496, 1.11104336301537, 3.58036735463934]],
    ('test_batchnorm_inference', 4, 'fixed_eps'): [[0.999998888892593, -1.99999444446296, 0.5,
        2.99999444446296], [0.50000249998125, 1.24999875000937, 1.0, 4.9999625002517e-06],
        [-2.19999850000281, -1.19999975000047, 0.799997750004219, -4.1999960000075]],
    ('test_batchnorm_inference', 4, 'no_eps'): [[1.0, -2.0, 0.5, 3.0], [0.5, 1.25, 1.0, 0.0],
        [-2.2, -1.2, 0.8, -4.2]],
    ('test_batchnorm_inference', 4, 'returns_tuple'): ([[0.989246054790082, -1.94623027395041, 0.5,
        2.94623027395041], [0.523268705377204, 1.2383656473114, 1.0, 0.0465374107544078],
        [-2.18527551597951, -1.19754591932992, 0.777913273969262, -4.16073470927869]], ([[0.5],
        [3.0], [0.2]], [[2.25], [1.0], [4.0]])),
}
# END GENERATED VALUES

VALUES = _unfreeze(_FROZEN)
"""{grade_id: [{"expected": result, "mistakes": {mistake id: result or None}}]}, per case."""
