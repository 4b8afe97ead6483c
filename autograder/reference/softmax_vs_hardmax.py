"""Reference solutions of 04_softmax_vs_hardmax (shapes: classes x examples)."""

import numpy as np


def softmax(Z):
    """Column-wise softmax of Z (C, m), stable for any finite Z."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def hardmax(Z):
    """One-hot (C, m) of each column's first maximum."""
    A = np.zeros_like(Z, dtype=np.float64)
    A[np.argmax(Z, axis=0), np.arange(Z.shape[1])] = 1.0
    return A


def cross_entropy_cost(A, Y):
    """J = -(1/m) sum_i sum_k Y log A, as a float."""
    return float(-np.sum(Y * np.log(A)) / Y.shape[1])


def softmax_cost_grad(Z, Y):
    """dJ/dZ = (softmax(Z) - Y) / m, shape (C, m)."""
    return (softmax(Z) - Y) / Y.shape[1]
