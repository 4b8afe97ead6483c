"""Reference solutions of 05_minimal_framework, on course_lib.graph nodes. Instructor material.

Each function takes keyword flags that reproduce a known mistake, exactly as the master's
solution with that one edit computes it (same operations, same order, in-place `+=`), so
that a judge can recognise a student's result and name the mistake. `MISTAKES` lists the
flags of `backward` by mistake id; the hint sentences are published in
`course_lib.checks.minimal_framework.HINTS`.

Running this module prints the visible checks' frozen values (`VISIBLE_VALUES`):

    python -m autograder.reference.minimal_framework
"""

import numpy as np

from course_lib.graph.drivers import build, initialised_session, train


def topological_order(output, *, visited=True, recursive=False):
    """Every node `output` depends on, each once, inputs first (iterative depth-first search).

    visited=False lists a node once per path that reaches it; recursive=True is the
    recursive depth-first search, which fails near 1000 nested nodes (Python's limit).
    """
    order, seen = [], set()
    if recursive:
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
    stack = [(output, False)]
    while stack:
        node, inputs_placed = stack.pop()
        if inputs_placed:
            order.append(node)
        elif not visited or node not in seen:
            seen.add(node)
            stack.append((node, True))
            for parent in reversed(node.inputs):
                stack.append((parent, False))
    return order


def local_gradients(node, upstream, values, *, pow_rule="power"):
    """dJ/d(input) for each input of `node`, given dJ/d(node) = upstream.

    pow_rule="divide" computes p * a**p / a (nan at a = 0), "log" computes
    p * exp((p - 1) * log(a)) (nan for a < 0).
    """
    if not node.inputs:
        return []
    if node.op == "getitem":
        picked = np.zeros(node.inputs[0].shape)
        picked[node.index] = upstream
        return [picked]
    if node.op == "add":
        return [upstream, upstream]
    if node.op == "sub":
        return [upstream, -upstream]
    if node.op == "mul":
        a, b = node.inputs
        return [upstream * values[b], upstream * values[a]]
    if node.op == "pow":
        p, base = node.exponent, values[node.inputs[0]]
        with np.errstate(divide="ignore", invalid="ignore"):
            if pow_rule == "divide":
                return [upstream * p * base ** p / base]
            if pow_rule == "log":
                return [upstream * p * np.exp((p - 1) * np.log(base))]
        return [upstream * p * base ** (p - 1)]
    raise ValueError(f"no backward rule for {node.op!r}")


def backward(cost, values, *, reverse=True, accumulate=True, visited=True, seed=1.0,
             recursive=False, alias=False, shared_zero=False, pass_value=False,
             pow_rule="power"):
    """Set node.grad = dJ/d(node) on cost's graph. The keywords reproduce mistakes:
    reverse=False walks inputs first, accumulate=False assigns instead of adding,
    visited/recursive as in `topological_order`, seed=0 forgets dJ/dJ = 1,
    alias=True assigns a node's first contribution (the upstream array itself) and adds
    the next ones in place, shared_zero=True resets every node to one shared zero array,
    pass_value=True passes a node's value instead of its gradient, pow_rule as in
    `local_gradients`."""
    order = topological_order(cost, visited=visited, recursive=recursive)
    zero = np.zeros(cost.shape)
    for node in order:
        node.grad = zero if shared_zero else np.zeros(node.shape)
    cost.grad = np.full(cost.shape, float(seed))
    reached = set()
    for node in reversed(order) if reverse else order:
        upstream = values[node] if pass_value else node.grad
        grads = local_gradients(node, upstream, values, pow_rule=pow_rule)
        for parent, grad in zip(node.inputs, grads, strict=True):
            if not accumulate or (alias and parent not in reached):
                parent.grad = grad
            else:
                parent.grad += grad
            reached.add(parent)


def gradients(description, **mistake):
    """{name: dJ/d(node)} for every node of the described graph (see `backward` for mistakes).

    None when the mistaken variant cannot run on this graph (it raises, as a student's
    code with that mistake would).
    """
    nodes, output, feed = build(description)
    try:
        with np.errstate(all="ignore"):
            backward(output, initialised_session(nodes).forward(output, feed), **mistake)
    except (RecursionError, ValueError):
        if not mistake:
            raise
        return None
    return {name: np.array(node.grad, dtype=np.float64) for name, node in nodes.items()}


MISTAKES = {
    "traversal_not_reversed": dict(reverse=False),
    "assigned_not_accumulated": dict(accumulate=False),
    "no_visited_set": dict(visited=False),
    "output_not_seeded": dict(seed=0.0),
    "aliased_gradient": dict(alias=True),
    "shared_zero_array": dict(shared_zero=True),
    "value_passed_as_gradient": dict(pass_value=True),
}
"""The mistaken variants of `backward` that a judge recognises, by mistake id."""

TRAVERSAL_MISTAKES = ("traversal_not_reversed", "assigned_not_accumulated", "no_visited_set",
                      "output_not_seeded")
"""The variants every random graph of the grader must tell apart from the right gradients."""


def training(description, learning_rate, checkpoints):
    """The variables and the cost after k steps of gradient descent, for k in checkpoints."""
    return train(backward, description, learning_rate, checkpoints)


def lecture_w(steps, learning_rate=0.01):
    """w after `steps` steps on (w - 5)**2 from w = 0, as the plain loop w -= lr * (2w - 10)."""
    w = 0.0
    for _ in range(steps):
        w -= learning_rate * (2 * w - 10)
    return w


def visible_values():
    """The visible checks' frozen values, computed here: exact gradients and each mistake's.

    {"rules": {op: [gradients for each case of RULE_INPUTS[op]]},
     "graphs": {label: {"exact": {node: value}, mistake id: {node: value} or None}},
     "reset": {label: {node: value} at RESET_VALUES}}
    """
    from course_lib.checks import minimal_framework as vis

    rules = {}
    for op, cases in vis.RULE_INPUTS.items():
        rules[op] = []
        for a, b, upstream in cases:
            _, output, _ = build(vis.rule_graph(op, a, b))
            values = initialised_session({}).forward(output)
            got = local_gradients(output, np.asarray(upstream, dtype=np.float64), values)
            rules[op].append([np.asarray(g).tolist() for g in got])
    graphs = {}
    for label, description in vis.VISIBLE_GRAPHS.items():
        graphs[label] = {"exact": _plain(gradients(description))}
        for mistake, flags in MISTAKES.items():
            graphs[label][mistake] = _plain(gradients(description, **flags))
    reset = {label: _plain(gradients(vis.with_values(vis.VISIBLE_GRAPHS[label],
                                                     vis.RESET_VALUES)))
             for label in vis.RESET_GRAPHS}
    return {"rules": rules, "graphs": graphs, "reset": reset}


def _plain(grads):
    return None if grads is None else {n: np.asarray(g).tolist() for n, g in grads.items()}


def _source(value, indent=0, start=None, width=99):
    """`value` (nested dicts and lists of numbers) as Python source within `width` columns;
    it starts at column `start` (default `indent`)."""
    start = indent if start is None else start
    if len(repr(value)) + start <= width - 1 or not isinstance(value, (dict, list)):
        return repr(value)
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{k!r}: " + _source(v, indent + 4, indent + 6 + len(repr(k)))
                 for k, v in value.items()]
    else:
        items = [_source(v, indent + 4) for v in value]
    simple = all("\n" not in item and len(item) < 40 for item in items)
    lines, line = [], ""
    for item in items:
        if simple and line and len(pad) + len(line) + len(item) + 2 <= width:
            line += f" {item},"
        else:
            if line:
                lines.append(pad + line)
            line = f"{item},"
    lines.append(pad + line)
    brackets = "{}" if isinstance(value, dict) else "[]"
    return brackets[0] + "\n" + "\n".join(lines) + "\n" + " " * indent + brackets[1]


def visible_values_source():
    """The `VISIBLE_VALUES = ...` statement of course_lib/checks/minimal_framework.py."""
    return f"VISIBLE_VALUES = {_source(visible_values())}"


if __name__ == "__main__":
    print(visible_values_source())
