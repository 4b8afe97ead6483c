"""Visible checks of 03_batchnorm_test_time.

Each `check_*` takes the student's function, runs it on small inputs whose
right results are written out below (computed once, to 15 digits), and raises
`CheckFailed` with a sentence naming the mistake; otherwise it prints what it
verified. The comparison is `course_lib.checks.batchnorm_derivation.mismatch`:
relative to the largest expected entry, naming known mistakes by their results.
"""

import numpy as np

from course_lib.checking import CheckFailed
from course_lib.checks.batchnorm_derivation import RTOL as RTOL_ORDINARY
from course_lib.checks.batchnorm_derivation import U4, U5, mismatch, raise_if

RTOL = 1e-9
"""These results follow from a few multiplications: any right implementation agrees closely."""

THETA = np.array([10.0, 12.0, 9.0, 11.0, 14.0, 13.0])
"""Six daily temperatures."""

EWA_09 = np.array([1.0, 2.1, 2.79, 3.611, 4.6499, 5.48491])
"""exponentially_weighted_average(THETA, 0.9): starts from v_0 = 0, so it starts low."""

EWA_09_CORRECTED = np.array([10.0, 11.05263157894737, 10.295202952029522, 10.500145391102063,
                             11.354789870821225, 11.705911101910324])
"""The same, divided by 1 - 0.9**t."""

FLIPPED = "the weights are swapped: v_t = beta * v_(t-1) + (1 - beta) * theta_t"
EWA_KNOWN = [
    (np.array([9.0, 11.7, 9.27, 10.827, 13.6827, 13.06827]), FLIPPED),
    (np.array([10.0, 10.2, 10.08, 10.172, 10.5548, 10.79932]),
     "the average starts from v_0 = theta_1; it starts from v_0 = 0"),
    (EWA_09_CORRECTED, "bias correction is applied although bias_correction is False "
                       "(the default)"),
]


def _vector_problem(v, length):
    shape = np.shape(v)
    if shape != (length,):
        return (f"the result should be a 1-D array with one value per input value, shape "
                f"({length},), not shape {shape}")
    return None


def check_exponentially_weighted_average(exponentially_weighted_average):
    """Check v_t on six temperatures with beta = 0.9, and the first value alone."""
    v = exponentially_weighted_average(THETA.copy(), 0.9)
    raise_if(_vector_problem(v, THETA.size))
    raise_if(mismatch(v, EWA_09, name="v", rtol=RTOL, known=EWA_KNOWN),
             "six temperatures, beta = 0.9")
    first = exponentially_weighted_average(np.array([20.0]), 0.98, bias_correction=False)
    raise_if(mismatch(first, np.array([0.4]), name="v_1", rtol=RTOL, known=[
        (np.array([19.6]), FLIPPED), (np.array([20.0]), "v_1 should be (1 - beta) * theta_1 = "
                                                       "0.4: the average starts from v_0 = 0")]),
        "after one value 20 with beta = 0.98")
    print("exponentially_weighted_average: v_t = beta v_(t-1) + (1 - beta) theta_t from v_0 = 0.")


def check_exponentially_weighted_average_bias_correction(exponentially_weighted_average):
    """Check the corrected average: a constant series stays constant, and known values."""
    v = exponentially_weighted_average(np.full(30, 7.0), 0.9, bias_correction=True)
    raise_if(_vector_problem(v, 30))
    if np.allclose(v, 7.0 * (1 - 0.9 ** np.arange(1, 31))):
        raise CheckFailed("bias correction is missing: with bias_correction=True divide v_t by "
                          "1 - beta**t, so that a constant series gives back the constant")
    raise_if(mismatch(v, np.full(30, 7.0), name="v", rtol=RTOL),
             "a constant series 7, 7, ... with bias correction should give 7 at every step")
    v = exponentially_weighted_average(THETA.copy(), 0.9, bias_correction=True)
    raise_if(mismatch(v, EWA_09_CORRECTED, name="v", rtol=RTOL, known=[
        (np.array([5.263157894736842, 7.749077490774909, 8.112823495202093, 8.817855485824522,
                   9.923830296718235, 10.513470209396878]),
         "the correction uses the wrong power: divide v_t by 1 - beta**t, t = 1 first")]),
        "six temperatures with bias correction")
    print("exponentially_weighted_average: bias correction divides v_t by 1 - beta**t.")


OLD_MU = np.array([[1.0], [-2.0], [0.5]])
OLD_VAR = np.array([[4.0], [1.0], [0.25]])
BATCH_MU = np.array([[3.0], [0.0], [-0.5]])
BATCH_VAR = np.array([[2.25], [9.0], [0.16]])


def _pair_problem(result, name):
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return f"{name} should return a pair (running_mu, running_var)"
    return None


def check_update_running_stats(update_running_stats):
    """Check ONE update, from zeros and from earlier values, with momentum 0.9 and 0.8."""
    zeros = np.zeros((3, 1))
    cases = [
        ("one update from 0 (momentum 0.9)", (zeros, zeros.copy()),
         {}, (np.array([[0.3], [0.0], [-0.05]]), np.array([[0.225], [0.9], [0.016]])),
         [(np.array([[2.7], [0.0], [-0.45]]), np.array([[2.025], [8.1], [0.144]]))],
         np.array([[0.15], [0.3], [0.04]])),
        ("one update from earlier values (momentum 0.9)", (OLD_MU, OLD_VAR), {},
         (np.array([[1.2], [-1.8], [0.4]]), np.array([[3.825], [1.8], [0.241]])),
         [(np.array([[2.8], [-0.2], [-0.4]]), np.array([[2.425], [8.2], [0.169]]))],
         np.array([[3.75], [1.2], [0.265]])),
        ("one update with momentum=0.8", (OLD_MU, OLD_VAR), {"momentum": 0.8},
         (np.array([[1.4], [-1.6], [0.3]]), np.array([[3.65], [2.6], [0.232]])),
         [(np.array([[2.6], [-0.4], [-0.3]]), np.array([[2.6], [7.4], [0.178]]))],
         np.array([[3.5], [1.4], [0.28]])),
    ]
    flipped = ("the momentum convention is flipped: new = momentum * old + (1 - momentum) * "
               "batch (momentum = 0.9 keeps 90% of the old value)")
    for context, (old_mu, old_var), kwargs, expected, flips, sigma_var in cases:
        result = update_running_stats(old_mu.copy(), old_var.copy(), BATCH_MU.copy(),
                                      BATCH_VAR.copy(), **kwargs)
        raise_if(_pair_problem(result, "update_running_stats"), context)
        running_mu, running_var = result
        unchanged = "the running statistics did not change: return the updated values"
        raise_if(mismatch(running_mu, expected[0], name="running_mu", rtol=RTOL, known=[
            (flips[0][0], flipped), (old_mu, unchanged)]), context)
        raise_if(mismatch(running_var, expected[1], name="running_var", rtol=RTOL, known=[
            (flips[0][1], flipped), (old_var, unchanged),
            (sigma_var, "the running variance averages sqrt(var): average the variance")]),
            context)
    print("update_running_stats: new = momentum * old + (1 - momentum) * batch, after one "
          "update.")


BATCHES = [np.array([[1.0], [-2.0], [0.5]]) + np.array([[2.0], [1.0], [3.0]]) * U5,
           np.array([[3.0], [0.0], [1.5]]) + np.array([[1.5], [0.5], [2.0]]) * U4[:3],
           np.array([[2.0], [-1.0], [-0.5]]) + np.array([[1.0], [2.0], [2.5]]) * U5]
"""Three mini-batches of 3 units (m = 5, 4, 5) with means [1, -2, .5], [3, 0, 1.5], [2, -1, -.5]
and variances [4, 1, 9], [2.25, .25, 4], [1, 4, 6.25]."""

TRACK_MU = np.array([[0.551], [-0.262], [0.1255]])
TRACK_VAR = np.array([[0.6265], [0.5035], [1.714]])
"""Running statistics after BATCHES with momentum 0.9, from 0."""


def check_track_running_stats(track_running_stats):
    """Check the running statistics after three mini-batches, and after one."""
    result = track_running_stats([b.copy() for b in BATCHES])
    raise_if(_pair_problem(result, "track_running_stats"))
    running_mu, running_var = result
    zero = "the running statistics are still 0: assign what update_running_stats returns"
    raise_if(mismatch(running_mu, TRACK_MU, name="running_mu", rtol=RTOL, known=[
        (np.zeros((3, 1)), zero),
        (np.array([[2.0], [-1.0], [0.5]]), "this is the plain average of the batch means; "
                                           "the running mean is an EWA from 0")]),
        "three mini-batches (m = 5, 4, 5)")
    raise_if(mismatch(running_var, TRACK_VAR, name="running_var", rtol=RTOL, known=[
        (np.zeros((3, 1)), zero),
        (np.array([[0.8], [0.63125], [2.1725]]),
         "the batch variance is divided by m - 1 (ddof=1, PyTorch's choice for its running "
         "variance); keep the biased variance (1/m) that the forward pass normalises with"),
        (np.array([[0.397], [0.326], [0.673]]),
         "the running variance averages standard deviations: average the variances")]),
        "three mini-batches (m = 5, 4, 5)")
    print("track_running_stats: EWA of each batch's mean and biased variance, from 0.")


INFERENCE_Z = np.array([[1.0, -2.0, 0.5, 3.0], [4.0, 2.5, 3.0, 5.0], [-1.0, 0.0, 2.0, -3.0]])
INFERENCE_GAMMA = np.array([[1.5], [-0.5], [2.0]])
INFERENCE_BETA = np.array([[0.5], [1.0], [-1.0]])
RUNNING_MU = np.array([[0.5], [3.0], [0.2]])
RUNNING_VAR = np.array([[2.25], [1.0], [4.0]])
INFERENCE_OUT = np.array([
    [9.999988888925926e-01, -1.999994444462963e+00, 5.0e-01, 2.999994444462963e+00],
    [5.000024999812501e-01, 1.249998750009375e+00, 1.0e+00, 4.999962500251698e-06],
    [-2.199998500002812e+00, -1.199999750000469e+00, 7.999977500042188e-01,
     -4.199996000007500e+00]])
"""batchnorm_inference of the arrays above with eps = 1e-5."""

TINY_VAR = np.array([[1e-7], [4e-6], [0.0]])
TINY_OUT = np.array([
    [0.971987581645665, -0.44397516329133, 0.735993790822806, 1.915962744936995],
    [0.465477516175151, 0.665923447609477, 0.599108137131348, 0.331846895218953],
    [-1.632455532033676, -1.0, 0.264911064067353, -2.897366596101029]])
"""batchnorm_inference(1e-3 * INFERENCE_Z + RUNNING_MU, ..., RUNNING_MU, TINY_VAR)."""


def check_batchnorm_inference(batchnorm_inference):
    """Check values with given statistics, one example alone, and variances below eps."""
    args = (INFERENCE_GAMMA, INFERENCE_BETA, RUNNING_MU, RUNNING_VAR)
    one = batchnorm_inference(INFERENCE_Z[:, [1]].copy(), *[a.copy() for a in args])
    if np.shape(one) == (3, 1) and np.allclose(one, INFERENCE_BETA):
        raise CheckFailed("one example (m = 1) gives beta, whatever it is: you normalised with "
                          "the batch's own statistics (mean = the example, variance 0); use "
                          "running_mu and running_var")
    out = batchnorm_inference(INFERENCE_Z.copy(), *[a.copy() for a in args])
    # running variances of 1 to 4: eps's place is left to the last case (RTOL_ORDINARY)
    raise_if(mismatch(out, INFERENCE_OUT, name="Z_tilde", rtol=RTOL_ORDINARY),
             "Z of shape (3, 4)")
    raise_if(mismatch(one, INFERENCE_OUT[:, [1]], name="Z_tilde", rtol=RTOL_ORDINARY),
             "the second example alone (m = 1), which should give column 2 of the batch's "
             "result")
    tiny = batchnorm_inference(1e-3 * INFERENCE_Z + RUNNING_MU, INFERENCE_GAMMA, INFERENCE_BETA,
                               RUNNING_MU, TINY_VAR)
    raise_if(mismatch(tiny, TINY_OUT, name="Z_tilde", rtol=RTOL),
             "running variances 1e-7, 4e-6 and 0 (eps goes inside the square root)")
    print("batchnorm_inference: uses the running statistics, so one example alone gives the "
          "same result as inside a batch.")
