"""Reference solutions of 03_batchnorm_test_time (shapes: units x examples). Instructor material.

Each `*_MISTAKES` dict maps a known mistake to the sentence that names it, and
the matching `*_variant` function computes that mistake's result, so that a
judge can recognise it.
"""

import numpy as np


def exponentially_weighted_average(values, beta, bias_correction=False):
    """v_t = beta v_{t-1} + (1 - beta) theta_t from v_0 = 0; divided by 1 - beta**t if asked."""
    return ewa_variant(None, values, beta, bias_correction)


EWA_MISTAKES = {
    "flipped": "the weights are swapped: v_t = beta * v_(t-1) + (1 - beta) * theta_t, so the "
               "first value is (1 - beta) * theta_1",
    "start_at_first_value": "the average starts from v_0 = theta_1; it starts from v_0 = 0 "
                            "(that start is what bias correction corrects)",
    "correction_always": "bias correction is applied although bias_correction is False",
    "correction_never": "bias correction is missing: with bias_correction=True divide v_t by "
                        "1 - beta**t (t = 1 for the first value)",
    "correction_off_by_one": "the correction uses the wrong power: v_t / (1 - beta**t) with "
                             "t = 1 for the first value",
}


def ewa_variant(kind, values, beta, bias_correction):
    """The EWA with the mistake `kind` (None: the right one)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    v = values[0] if kind == "start_at_first_value" and values.size else 0.0
    correct = {"correction_always": True, "correction_never": False}.get(kind, bias_correction)
    for t, theta in enumerate(values, start=1):
        v = (1 - beta) * v + beta * theta if kind == "flipped" else beta * v + (1 - beta) * theta
        power = t + 1 if kind == "correction_off_by_one" else t
        out[t - 1] = v / (1 - beta ** power) if correct else v
    return out


def update_running_stats(running_mu, running_var, mu, var, momentum=0.9):
    """new = momentum * old + (1 - momentum) * batch, for the mean and the variance."""
    return (momentum * running_mu + (1 - momentum) * mu,
            momentum * running_var + (1 - momentum) * var)


UPDATE_MISTAKES = {
    "flipped": "the momentum convention is flipped: new = momentum * old + (1 - momentum) * "
               "batch, so momentum = 0.9 keeps 90% of the old value (PyTorch's momentum = 0.1 "
               "is the weight of the new value)",
    "sigma": "the running variance averages sqrt(var), a standard deviation: average the "
             "variance itself",
    "not_updated": "the running statistics did not change: return momentum * old + "
                   "(1 - momentum) * batch",
}


def update_variant(kind, running_mu, running_var, mu, var, momentum=0.9):
    """update_running_stats with the mistake `kind`."""
    if kind == "flipped":
        return update_running_stats(running_mu, running_var, mu, var, 1 - momentum)
    if kind == "sigma":
        return update_running_stats(running_mu, running_var, mu, np.sqrt(var), momentum)
    if kind == "not_updated":
        return running_mu, running_var
    return update_running_stats(running_mu, running_var, mu, var, momentum)


def track_running_stats(batches, momentum=0.9):
    """Running statistics after the mini-batches, in order, starting from zeros."""
    return track_variant(None, batches, momentum)


TRACK_MISTAKES = {
    "unbiased": "the running variance uses the unbiased batch variance (ddof=1, as PyTorch "
                "stores it); keep the biased variance (1/m) that the forward pass normalises "
                "with",
    "sigma": "the running variance averages the batch standard deviations: average the "
             "variances",
    "not_updated": "the running statistics are still 0: assign what update_running_stats "
                   "returns",
    "units_axis": "the batch statistics are taken over the units (axis 0) instead of over each "
                  "unit's examples (axis 1)",
    "plain_average": "this is the plain average of the batch statistics; the running "
                     "statistics are an exponentially weighted average from 0",
    "momentum_ignored": "the momentum argument is not used: pass it on to "
                        "update_running_stats",
    "update_flipped": "the momentum convention of the update is flipped (see "
                      "test_update_running_stats): new = momentum * old + (1 - momentum) * batch",
}


def track_variant(kind, batches, momentum=0.9):
    """track_running_stats with the mistake `kind` (None: the right one)."""
    n = batches[0].shape[0]
    running_mu, running_var = np.zeros((n, 1)), np.zeros((n, 1))
    stats = []
    for Z in batches:
        if kind == "units_axis":
            if Z.shape[0] != Z.shape[1]:
                return None
            mu, var = Z.mean(axis=0, keepdims=True).T, Z.var(axis=0, keepdims=True).T
        else:
            mu = Z.mean(axis=1, keepdims=True)
            var = Z.var(axis=1, keepdims=True, ddof=1 if kind == "unbiased" else 0)
        if kind == "sigma":
            var = np.sqrt(var)
        stats.append((mu, var))
        if kind != "not_updated":
            weight = {"momentum_ignored": 0.9, "update_flipped": 1 - momentum}.get(kind, momentum)
            running_mu, running_var = update_running_stats(running_mu, running_var, mu, var,
                                                           weight)
    if kind == "plain_average":
        return (np.mean([s[0] for s in stats], axis=0), np.mean([s[1] for s in stats], axis=0))
    return running_mu, running_var


def batchnorm_inference(Z, gamma, beta, running_mu, running_var, eps=1e-5):
    """gamma * (Z - running_mu) / sqrt(running_var + eps) + beta, example by example."""
    return gamma * (Z - running_mu) / np.sqrt(running_var + eps) + beta


INFERENCE_MISTAKES = {
    "batch_stats": "Z is normalised with its own batch statistics; at test time use "
                   "running_mu and running_var (with one example, the batch's variance is 0 "
                   "and every output is beta)",
    "eps_outside": "eps is added outside the square root: sqrt(running_var + eps)",
    "var_as_std": "running_var is a variance: divide by its square root, "
                  "sqrt(running_var + eps)",
    "swapped": "gamma and beta are swapped: gamma scales, beta shifts",
}


def inference_variant(kind, Z, gamma, beta, running_mu, running_var, eps=1e-5):
    """batchnorm_inference with the mistake `kind`."""
    if kind == "batch_stats":
        mu, var = Z.mean(axis=1, keepdims=True), Z.var(axis=1, keepdims=True)
        return gamma * (Z - mu) / np.sqrt(var + eps) + beta
    if kind == "eps_outside":
        return gamma * (Z - running_mu) / (np.sqrt(running_var) + eps) + beta
    if kind == "var_as_std":
        return gamma * (Z - running_mu) / (running_var + eps) + beta
    if kind == "swapped":
        return batchnorm_inference(Z, beta, gamma, running_mu, running_var, eps)
    return batchnorm_inference(Z, gamma, beta, running_mu, running_var, eps)
