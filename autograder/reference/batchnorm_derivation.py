"""Reference solutions of 02_batchnorm_derivation (shapes: units x examples). Instructor material.

Besides the two graded functions, `forward_variant` and `backward_variant`
compute the known mistakes, so that a judge can name the one a student made.
"""

import numpy as np


def batchnorm_forward(Z, gamma, beta, eps=1e-5):
    """Z_tilde = gamma * (Z - mu) / sqrt(var + eps) + beta, statistics over the examples."""
    mu = Z.mean(axis=1, keepdims=True)
    var = ((Z - mu) ** 2).mean(axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    Z_norm = (Z - mu) / std
    return gamma * Z_norm + beta, (Z_norm, gamma, std)


def batchnorm_backward(dZ_tilde, cache):
    """(dZ, dgamma, dbeta), the compact form."""
    Z_norm, gamma, std = cache
    m = dZ_tilde.shape[1]
    dbeta = dZ_tilde.sum(axis=1, keepdims=True)
    dgamma = (dZ_tilde * Z_norm).sum(axis=1, keepdims=True)
    dZ = gamma / (m * std) * (m * dZ_tilde - dbeta - Z_norm * dgamma)
    return dZ, dgamma, dbeta


FORWARD_MISTAKES = {
    "units_axis": "the statistics are taken over the units (axis 0) instead of over the "
                  "m examples of each unit (axis 1, one mean and variance per row)",
    "no_keepdims": "mu or var lost its (n, 1) shape, so it was broadcast along the wrong axis: "
                   "use keepdims=True so that row i is normalised with unit i's statistics",
    "unbiased": "the variance is divided by m - 1; batch norm uses the biased variance "
                "(1/m) sum (Z - mu)**2 (np.var's default ddof=0)",
    "eps_outside": "eps is added outside the square root; it belongs inside: "
                   "sqrt(var + eps)",
    "no_eps": "eps is missing: divide by sqrt(var + eps), not by sqrt(var)",
    "swapped": "gamma and beta are swapped: gamma scales, beta shifts "
               "(Z_tilde = gamma * Z_norm + beta)",
}


def forward_variant(kind, Z, gamma, beta, eps=1e-5):
    """Z_tilde as computed with the mistake `kind` (a key of FORWARD_MISTAKES)."""
    axis = 0 if kind == "units_axis" else 1
    keep = kind != "no_keepdims"
    if not keep and Z.shape[0] != Z.shape[1]:
        return None  # (n, m) - (n,) does not broadcast: the student's code raises
    mu = Z.mean(axis=axis, keepdims=keep)
    var = ((Z - mu) ** 2).mean(axis=axis, keepdims=keep)
    if kind == "unbiased":
        var = var * Z.shape[axis] / (Z.shape[axis] - 1)
    if kind == "eps_outside":
        Z_norm = (Z - mu) / (np.sqrt(var) + eps)
    elif kind == "no_eps":
        with np.errstate(divide="ignore", invalid="ignore"):
            Z_norm = (Z - mu) / np.sqrt(var)
    else:
        Z_norm = (Z - mu) / np.sqrt(var + eps)
    if kind == "swapped":
        return beta * Z_norm + gamma
    return gamma * Z_norm + beta


BACKWARD_MISTAKES = {
    "no_dmu": "dZ misses the path through mu: Z reaches the output through Z - mu, through "
              "mu and through var, and each path adds a term (dmu / m is missing)",
    "no_dvar": "dZ misses the path through var: add dvar * 2 (Z - mu) / m",
    "dmu_over_m2": "the mu path is divided by m twice: dmu already sums over the examples, "
                   "and dmu/dZ_i = 1/m once",
    "var_no_eps": "the backward pass uses var where the forward pass used var + eps: "
                  "differentiate 1 / sqrt(var + eps)",
    "dvar_m_minus_1": "the var path uses 1/(m - 1); the forward pass's variance is the biased "
                      "one, so dvar/dZ_i = 2 (Z_i - mu) / m",
}


def backward_variant(kind, Z, gamma, beta, dZ_tilde, eps=1e-5):
    """(dZ, dgamma, dbeta) staged along the computation graph, with the mistake `kind`.

    kind=None gives the right result (the staged form of `batchnorm_backward`).
    """
    m = Z.shape[1]
    mu = Z.mean(axis=1, keepdims=True)
    Zc = Z - mu
    var = (Zc ** 2).mean(axis=1, keepdims=True)
    v = var if kind == "var_no_eps" else var + eps
    Z_norm = Zc / np.sqrt(var + eps)
    dbeta = dZ_tilde.sum(axis=1, keepdims=True)
    dgamma = (dZ_tilde * Z_norm).sum(axis=1, keepdims=True)
    dZ_norm = dZ_tilde * gamma
    dvar = np.sum(dZ_norm * Zc, axis=1, keepdims=True) * -0.5 * v ** -1.5
    dmu = -np.sum(dZ_norm, axis=1, keepdims=True) / np.sqrt(v)
    dZ = dZ_norm / np.sqrt(v)
    if kind != "no_dvar":
        dZ = dZ + dvar * 2 * Zc / (m - 1 if kind == "dvar_m_minus_1" else m)
    if kind != "no_dmu":
        dZ = dZ + dmu / (m * m if kind == "dmu_over_m2" else m)
    return dZ, dgamma, dbeta
