"""Reference solutions of 05_minimal_framework, on course_lib.graph nodes. Instructor material.

`backward` takes keyword arguments that reproduce the known mistakes, so that
the judges can recognise a student's result and name the mistake.
"""

import numpy as np

from course_lib.graph.drivers import build, initialised_session, train


def topological_order(output, *, visited=True):
    """Every node `output` depends on, each once (unless visited=False), inputs first."""
    order, seen = [], set()

    def visit(node):
        if visited:
            if node in seen:
                return
            seen.add(node)
        for parent in node.inputs:
            visit(parent)
        order.append(node)

    visit(output)
    return order


def local_gradients(node, upstream, values):
    """dJ/d(input) for each input of `node`, given dJ/d(node) = upstream."""
    if not node.inputs:
        return []
    if node.op == "getitem":
        grad = np.zeros(node.inputs[0].shape)
        grad[node.index] = upstream
        return [grad]
    if node.op == "add":
        return [upstream, upstream]
    if node.op == "sub":
        return [upstream, -upstream]
    if node.op == "mul":
        a, b = node.inputs
        return [upstream * values[b], upstream * values[a]]
    if node.op == "pow":
        p = node.exponent
        return [upstream * p * values[node.inputs[0]] ** (p - 1)]
    raise ValueError(f"no backward rule for {node.op!r}")


def backward(cost, values, *, reverse=True, accumulate=True, visited=True, seed=1.0):
    """Set node.grad = dJ/d(node) on cost's graph. The keywords reproduce mistakes:
    reverse=False walks inputs first, accumulate=False assigns instead of adding,
    visited=False lists shared nodes repeatedly, seed=0 forgets dJ/dJ = 1."""
    order = topological_order(cost, visited=visited)
    for node in order:
        node.grad = np.zeros(node.shape)
    cost.grad = np.full(cost.shape, float(seed))
    for node in reversed(order) if reverse else order:
        for parent, grad in zip(node.inputs, local_gradients(node, node.grad, values),
                                strict=True):
            parent.grad = parent.grad + grad if accumulate else grad


def gradients(description, **mistake):
    """{name: dJ/d(node)} for every node of the described graph (see `backward` for mistakes)."""
    nodes, output, feed = build(description)
    backward(output, initialised_session(nodes).forward(output, feed), **mistake)
    return {name: np.array(node.grad, dtype=np.float64) for name, node in nodes.items()}


MISTAKES = {
    "traversal_not_reversed": dict(reverse=False),
    "assigned_not_accumulated": dict(accumulate=False),
    "no_visited_set": dict(visited=False),
    "output_not_seeded": dict(seed=0.0),
}
"""The mistaken variants of `backward` that a judge recognises, by name."""


def training(description, learning_rate, checkpoints):
    """The variables and the cost after k steps of gradient descent, for k in checkpoints."""
    return train(backward, description, learning_rate, checkpoints)


def lecture_w(steps, learning_rate=0.01):
    """w after `steps` steps on (w - 5)**2 from w = 0, as the plain loop w -= lr * (2w - 10)."""
    w = 0.0
    for _ in range(steps):
        w -= learning_rate * (2 * w - 10)
    return w
