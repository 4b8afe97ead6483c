"""Declarations of 03_batchnorm_test_time's graded cells (see `course_lib.exercise`).

Each exercise runs its visible calls on the student's function and names a mistake with
its hint sentence; the grader runs more calls of each kind (other series, momentum and eps
values, shapes) and judges them with the same exercise. Conventions are checked after ONE
step wherever a long run would hide them: an EWA or a running average converges to the
same value whichever weight goes to the old value, but its first step differs.

RTOL: these results follow from a few multiplications, so any right implementation agrees
far closer than 1e-9 of the largest entry, and where eps sits (1e-5 relative on ordinary
variances) is well above it.
"""

import numpy as np

from course_lib.exercise import Call, Exercise, declare, visible_checks

RTOL = 1e-9
"""Relative tolerance (to the largest expected entry) of every cell, visible and graded."""

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


# --------------------------------------------------------------------- the exercises

EWA_MISTAKES = {
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
}
"""The mistakes of exponentially_weighted_average; each of its two cells names those it can see."""


def _ewa_mistakes(*ids):
    return {mistake: EWA_MISTAKES[mistake] for mistake in ids}



UPDATE_MISTAKES = {
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
}
"""The mistakes of update_running_stats."""

TRACK_MISTAKES = {
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
}
"""The mistakes of track_running_stats."""

INFERENCE_MISTAKES = {
    "batch_stats": "Z is normalised with its own batch statistics; at test time use "
                   "running_mu and running_var (one example alone then gives exactly "
                   "beta, whatever it is)",
    "eps_outside": "eps is added to the square root of running_var; it belongs inside: "
                   "sqrt(running_var + eps)",
    "var_as_std": "Z - running_mu is divided by the variance; divide by the standard "
                  "deviation sqrt(running_var + eps)",
    "swapped": "beta scales and gamma shifts: the other way round, gamma scales, beta "
               "shifts",
    "fixed_eps": "eps is fixed at 1e-5 whatever the argument says: use eps",
    "no_eps": "eps is missing: divide by sqrt(running_var + eps), which stays finite when "
              "a variance is 0",
    "transposed": "the statistics are used as rows: here examples are columns, and gamma, "
                  "beta, running_mu and running_var are columns (n, 1), one entry per unit",
    "returns_tuple": "batchnorm_inference returns a tuple: return the array Z_tilde alone "
                     "(at test time there is no cache to keep for a backward pass)",
}
"""The mistakes of batchnorm_inference."""

EXERCISES = declare(
    "03_batchnorm_test_time",
    Exercise(
        "test_exponentially_weighted_average", "exponentially_weighted_average", "v",
        "exponentially_weighted_average: v_t = beta v_(t-1) + (1 - beta) theta_t from v_0 = 0.",
        [Call("six temperatures, beta = 0.9", (THETA, 0.9)),
         Call("after one value 20 with beta = 0.98, bias_correction=False",
              (np.array([20.0]), 0.98), {"bias_correction": False})],
        _ewa_mistakes("flipped", "start_at_first", "correction_always", "shifted", "with_v0"),
        RTOL),
    Exercise(
        "test_exponentially_weighted_average_bias_correction", "exponentially_weighted_average",
        "v", "exponentially_weighted_average: bias correction divides v_t by 1 - beta**t.",
        [Call("a constant series 7, 7, ... with bias correction should give 7 at every step",
              (np.full(12, 7.0), 0.9), {"bias_correction": True}),
         Call("six temperatures with bias correction", (THETA, 0.9), {"bias_correction": True}),
         Call("one value 20 with beta = 0.98 and bias correction (v_1 = theta_1)",
              (np.array([20.0]), 0.98), {"bias_correction": True})],
        _ewa_mistakes("flipped", "start_at_first", "correction_never",
                      "correction_power_plus_one", "correction_power_from_zero",
                      "divided_by_power", "shifted", "with_v0"), RTOL),
    Exercise(
        "test_update_running_stats", "update_running_stats", ("running_mu", "running_var"),
        "update_running_stats: new = momentum * old + (1 - momentum) * batch, after one update.",
        [Call("one update from 0 (momentum 0.9)", (ZEROS, ZEROS, BATCH_MU, BATCH_VAR)),
         Call("one update from earlier values (momentum 0.9)",
              (OLD_MU, OLD_VAR, BATCH_MU, BATCH_VAR)),
         Call("one update with momentum=0.8", (OLD_MU, OLD_VAR, BATCH_MU, BATCH_VAR),
              {"momentum": 0.8})],
        UPDATE_MISTAKES, RTOL),
    Exercise(
        "test_track_running_stats", "track_running_stats", ("running_mu", "running_var"),
        "track_running_stats: EWA of each batch's mean and biased variance, from 0.",
        [Call("three mini-batches of 3 units and 3 examples", (SQUARE_BATCHES,)),
         Call("three mini-batches of 3 units (m = 5, 4, 5)", (BATCHES,)),
         Call("the same mini-batches with momentum=0.5", (BATCHES,), {"momentum": 0.5}),
         Call("one mini-batch (m = 5)", (BATCHES[:1],))],
        TRACK_MISTAKES, RTOL),
    Exercise(
        "test_batchnorm_inference", "batchnorm_inference", "Z_tilde",
        "batchnorm_inference: uses the running statistics, so one example alone gives the "
        "same result as inside a batch.",
        [Call("the second example alone (m = 1), which should give column 2 of the batch's "
              "result", (INFERENCE_Z[:, [1]], *LAYER)),
         Call("Z of shape (3, 4)", (INFERENCE_Z, *LAYER)),
         Call("Z of shape (3, 3)", (INFERENCE_Z[:, :3], *LAYER)),
         Call("running variances 1e-7, 4e-6 and 0 (eps goes inside the square root)",
              (1e-3 * INFERENCE_Z + LAYER[2], *LAYER[:3], TINY_VAR)),
         Call("eps = 0.1 passed as an argument", (INFERENCE_Z, *LAYER), {"eps": 0.1})],
        INFERENCE_MISTAKES, RTOL),
)
"""{grade_id: Exercise}: every graded cell of the notebook."""

__getattr__ = visible_checks(EXERCISES)
