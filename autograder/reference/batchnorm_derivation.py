"""Reference solutions of 02_batchnorm_derivation (shapes: units x examples). Instructor material.

The keyword arguments of both functions reproduce the mistakes students make; with
their defaults the functions are right. `FORWARD_MISTAKES` and `BACKWARD_MISTAKES`
name each mistake (its hint sentence is `course_lib.checks.batchnorm_derivation.HINTS`)
by the keywords that make it. `python -m autograder.reference.batchnorm_derivation`
writes the gradients of the visible backward cases, right and mistaken, into
`course_lib/checks/batchnorm_derivation_values.py`.
"""

import textwrap
from pathlib import Path

import numpy as np


def batchnorm_forward(Z, gamma, beta, eps=1e-5, *, axis=1, keepdims=True, ddof=0, centre=True,
                      root=True, eps_at="inside", ignore_eps=False, scale=True, shift=True,
                      swap=False):
    """Z_tilde = gamma * (Z - mu) / sqrt(var + eps) + beta, statistics over the examples.

    Mistakes: statistics over `axis` 0, without `keepdims`, with `ddof` 1; Z not
    centred; dividing by var + eps (`root=False`); eps `eps_at` "outside" the square
    root or nowhere (None); the constant 1e-5 instead of the argument (`ignore_eps`);
    no gamma (`scale=False`), no beta (`shift=False`), gamma and beta swapped.
    """
    eps = 1e-5 if ignore_eps else eps
    mu = Z.mean(axis=axis, keepdims=keepdims)
    var = ((Z - mu) ** 2).mean(axis=axis, keepdims=keepdims) * (
        Z.shape[axis] / (Z.shape[axis] - ddof))
    if eps_at == "inside":
        std = np.sqrt(var + eps) if root else var + eps
    else:
        std = np.sqrt(var) + (eps if eps_at == "outside" else 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        Z_norm = ((Z - mu) if centre else Z) / std
    scaled = Z_norm * (beta if swap else gamma) if scale else Z_norm
    Z_tilde = scaled + (gamma if swap else beta) if shift else scaled
    return Z_tilde, (Z, Z_norm, gamma, eps)


def batchnorm_backward(dZ_tilde, cache, *, mu_path=True, var_path=True, mu_over_m2=False,
                       var_eps=True, var_ddof=0, var_power=-1.5, backward_eps=None,
                       gamma_in_dZ=True, dgamma_of_Z=False, summed=True, swap=False):
    """(dZ, dgamma, dbeta) staged along the computation graph Z -> mu -> var -> Z_norm.

    Mistakes: the path through mu or var dropped, the mu path divided by m twice,
    var instead of var + eps, 1/(m - 1) in the var path, the power -1/2 instead of
    -3/2 in dvar, eps fixed at 1e-5 (`backward_eps`), gamma missing from dZ, dgamma
    from Z instead of Z_norm, dgamma and dbeta not summed or swapped.
    """
    Z, Z_norm, gamma, eps = cache
    m = Z.shape[1]
    Zc = Z - Z.mean(axis=1, keepdims=True)
    var = (Zc ** 2).mean(axis=1, keepdims=True)
    v = var + (eps if backward_eps is None else backward_eps) if var_eps else var

    def total(X):
        return X.sum(axis=1, keepdims=True) if summed else X

    dbeta = total(dZ_tilde)
    dgamma = total(dZ_tilde * (Z if dgamma_of_Z else Z_norm))
    dZ_norm = dZ_tilde * gamma if gamma_in_dZ else dZ_tilde
    dvar = np.sum(dZ_norm * Zc, axis=1, keepdims=True) * -0.5 * v ** var_power
    dmu = -np.sum(dZ_norm, axis=1, keepdims=True) / np.sqrt(v)
    dZ = dZ_norm / np.sqrt(v)
    if var_path:
        dZ = dZ + dvar * 2 * Zc / (m - var_ddof)
    if mu_path:
        dZ = dZ + dmu / (m * m if mu_over_m2 else m)
    return (dZ, dbeta, dgamma) if swap else (dZ, dgamma, dbeta)


FORWARD_MISTAKES = {
    "units_axis": {"axis": 0},
    "no_keepdims": {"keepdims": False},
    "unbiased": {"ddof": 1},
    "not_centred": {"centre": False},
    "var_not_std": {"root": False},
    "eps_outside": {"eps_at": "outside"},
    "no_eps": {"eps_at": None},
    "eps_ignored": {"ignore_eps": True},
    "no_gamma": {"scale": False},
    "no_beta": {"shift": False},
    "swapped": {"swap": True},
}
"""Each mistake of batchnorm_forward: the keywords that make the reference commit it."""

BACKWARD_MISTAKES = {
    "no_dmu": {"mu_path": False},
    "no_dvar": {"var_path": False},
    "dmu_over_m2": {"mu_over_m2": True},
    "var_no_eps": {"var_eps": False},
    "dvar_m_minus_1": {"var_ddof": 1},
    "dvar_power": {"var_power": -0.5},
    "eps_fixed_in_backward": {"backward_eps": 1e-5},
    "no_gamma_in_dZ": {"gamma_in_dZ": False},
    "dgamma_of_Z": {"dgamma_of_Z": True},
    "params_not_summed": {"summed": False},
    "swapped_params": {"swap": True},
}
"""Each mistake of batchnorm_backward: the keywords that make the reference commit it."""


def forward_variant(kind, Z, gamma, beta, eps=1e-5):
    """Z_tilde with the mistake `kind` (a key of FORWARD_MISTAKES), or None where it raises."""
    try:
        return batchnorm_forward(Z, gamma, beta, eps, **FORWARD_MISTAKES[kind])[0]
    except ValueError:  # (n, m) - (n,) does not broadcast: the student's code raises
        return None


def gradients(Z, gamma, beta, dZ_tilde, eps, **mistakes):
    """(dZ, dgamma, dbeta) of sum(dZ_tilde * Z_tilde), with the backward `mistakes`."""
    return batchnorm_backward(dZ_tilde, batchnorm_forward(Z, gamma, beta, eps)[1], **mistakes)


def backward_variants(Z, gamma, beta, dZ_tilde, eps):
    """{mistake: (dZ, dgamma, dbeta)} for every key of BACKWARD_MISTAKES."""
    return {kind: gradients(Z, gamma, beta, dZ_tilde, eps, **flags)
            for kind, flags in BACKWARD_MISTAKES.items()}


# --- the frozen values of the visible backward checks ---

VALUES_FILE = (Path(__file__).resolve().parents[2] / "course_lib" / "checks"
               / "batchnorm_derivation_values.py")
PARTS = ("dZ", "dgamma", "dbeta")


GROUPS = (("ordinary", "square"), ("tiny", "tiny_eps"))
"""Visible cases run one after the other by a check: a mistake is kept only at the first
case of its group where it shows (a check stops there)."""


def visible_values():
    """{case: {"exact": {part: values}, mistake: {part: values where it first differs}}}."""
    from course_lib.checks.batchnorm_derivation import BACKWARD_INPUTS
    from course_lib.checks.gradients import IDENTIFY_RTOL, scaled_error

    values = {}
    for group in GROUPS:
        shown = set()
        for case in group:
            Z, gamma, beta, dZ_tilde, eps = BACKWARD_INPUTS[case]
            exact = gradients(Z, gamma, beta, dZ_tilde, eps)
            values[case] = {"exact": dict(zip(PARTS, exact, strict=True))}
            for kind, wrong in backward_variants(Z, gamma, beta, dZ_tilde, eps).items():
                parts = {p: w for p, w, e in zip(PARTS, wrong, exact, strict=True)
                         if w.shape == e.shape and scaled_error(w, e) > IDENTIFY_RTOL
                         and (kind, p) not in shown}
                shown.update((kind, p) for p in parts)
                if parts:
                    values[case][kind] = parts
    return values


def _literal(array, indent):
    """A nested list literal of `array`, wrapped at 100 characters."""
    text = repr(array.tolist())
    return textwrap.fill(text, width=100, initial_indent=" " * indent,
                         subsequent_indent=" " * (indent + 1),
                         break_long_words=False).lstrip()


def values_source():
    """The text of course_lib/checks/batchnorm_derivation_values.py."""
    lines = ['"""The gradients of 02\'s visible backward cases: exact, and with each named '
             'mistake.', "",
             "Generated from the reference by `python -m autograder.reference."
             "batchnorm_derivation`;",
             "do not edit (a test checks that they equal the reference's).", '"""', "",
             "VALUES = {"]
    for case, kinds in visible_values().items():
        lines.append(f'    "{case}": {{')
        for kind, parts in kinds.items():
            lines.append(f'        "{kind}": {{')
            for part, array in parts.items():
                prefix = f'            "{part}": '
                lines.append(prefix + _literal(array, len(prefix)) + ",")
            lines.append("        },")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    VALUES_FILE.write_text(values_source())
    print(f"wrote {VALUES_FILE}")
