"""The given backward rules of the operations a real model needs (`GIVEN_OPS`).

The lecture's operations (add, sub, mul, pow) are the notebook's exercise; these
are given, so that the student's `local_gradients` can hand them on:

    if node.op in fw.GIVEN_OPS:
        return fw.given_local_gradients(node, upstream, values)

Each rule is checked against numerical gradients in tests/test_graph.py and in
the notebook.

Example
-------
>>> import numpy as np
>>> import course_lib.graph as fw
>>> a = fw.placeholder((2, 1), name="a")
>>> total = fw.reduce_sum(fw.exp(a))
>>> values = fw.Session().forward(total, {a: np.zeros((2, 1))})
>>> fw.given_local_gradients(total, np.array(1.0), values)[0].ravel().tolist()
[1.0, 1.0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from course_lib.graph.core import GIVEN_OPS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from course_lib.graph.core import Node


def given_local_gradients(node: Node, g: np.ndarray,
                          values: Mapping[Node, np.ndarray]) -> list[np.ndarray]:
    """dJ/d(input) for each input of a node whose op is in GIVEN_OPS.

    Parameters
    ----------
    node : Node
        node.op in GIVEN_OPS.
    g : ndarray, shape node.shape
        dJ/d(node), arriving from the output side.
    values : dict Node -> ndarray
        The forward values (Session.forward).

    Returns
    -------
    grads : list of ndarray
        One per input, each shaped like that input.
    """
    if node.op not in GIVEN_OPS:
        raise ValueError(f"no given backward rule for {node.op!r}; given: {GIVEN_OPS}")
    g = np.asarray(g, dtype=np.float64)
    a = values[node.inputs[0]]
    out = values[node]
    if node.op == "exp":  # d e^a = e^a
        return [g * out]
    if node.op == "log":  # d log a = 1 / a
        return [g / a]
    if node.op == "sigmoid":  # d s(a) = s (1 - s)
        return [g * out * (1 - out)]
    if node.op == "relu":  # 1 where a > 0, else 0
        return [g * (a > 0)]
    if node.op == "matmul":  # C = A B: dA = G B^T, dB = A^T G
        b = values[node.inputs[1]]
        return [g @ b.T, a.T @ g]
    # reduce_sum / reduce_mean: every entry summed gets the gradient of its sum
    spread = np.broadcast_to(g, a.shape).copy()
    if node.op == "reduce_mean":
        spread /= a.size // out.size
    return [spread]
