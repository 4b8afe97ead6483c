"""Drivers: build graphs from plain descriptions, run the student's functions on them, return data.

The grader cannot send a graph to the student's kernel, only data. A
*description* is a dict:

    {"nodes": [["variable", "w", 0.0],
               ["placeholder", "x", [3, 1]],
               ["constant", "c", 2.0],
               ["getitem", "x0", "x", 0],            # x[0]; the index may be a tuple
               ["pow", "w2", "w", 2],                 # w ** 2 (the exponent is a number)
               ["mul", "t", 10.0, "w"],               # a number operand becomes a constant
               ["sub", "d", "w2", "t"],               #   named "t/in0" (node "t", input 0)
               ["add", "J", "d", 25.0],
               ["neg", "n", "w"],                     # -w, i.e. (-1) * w: a mul node
               ["exp", "e", "w"],                     # also log, sigmoid, relu
               ["matmul", "P", "A", "B"],             # fw.matmul(A, B)
               ["reduce_sum", "s", "P", 0]],          # also reduce_mean; axis 0, 1 or None
     "output": "J",
     "feed": {"x": [[1.0], [-10.0], [25.0]]}}

Nodes are built with the framework's operators, in the order listed, and named
as listed. Each driver takes the student's function(s) (the grader passes them
with `global_ref`), calls them on such a graph and returns plain data: lists of
names, gradients as float64 arrays, variables after k training steps. Nothing
here compares anything; the judges do, outside the kernel.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

import numpy as np

from course_lib.gradcheck import numerical_gradient
from course_lib.graph import core
from course_lib.graph.core import (
    GradientDescentOptimizer,
    Node,
    Session,
    Variable,
    constant,
    placeholder,
    variables_initializer,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    import numpy.typing as npt

    _Backward = Callable[[Node, dict[Node, np.ndarray]], object]
    """The student's backward(cost, values), which leaves dJ/d(node) in node.grad."""

_BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}


def _operand(ref, nodes):
    return nodes[ref] if isinstance(ref, str) else ref


def build(description: dict[str, Any]
          ) -> tuple[dict[str, Node], Node, dict[Node, np.ndarray]]:
    """(nodes by name, output node, feed_dict) for a description (see the module docstring)."""
    nodes, known = {}, set()
    for kind, name, *rest in description["nodes"]:
        if kind == "variable":
            node = Variable(rest[0], name=name)
        elif kind == "placeholder":
            node = placeholder(rest[0], name=name)
        elif kind == "constant":
            node = constant(rest[0], name=name)
        elif kind in _BINARY:
            node = _BINARY[kind](*(_operand(r, nodes) for r in rest))
        elif kind == "neg":
            node = -nodes[rest[0]]
        elif kind == "pow":
            node = nodes[rest[0]] ** rest[1]
        elif kind == "getitem":
            node = nodes[rest[0]][rest[1]]
        elif kind in ("exp", "log", "sigmoid", "relu"):
            node = getattr(core, kind)(nodes[rest[0]])
        elif kind == "matmul":
            node = core.matmul(*(_operand(r, nodes) for r in rest))
        elif kind in ("reduce_sum", "reduce_mean"):
            node = getattr(core, kind)(nodes[rest[0]], axis=rest[1])
        else:
            raise ValueError(f"unknown node kind {kind!r}")
        node.name = name
        for i, parent in enumerate(node.inputs):
            if id(parent) not in known:
                parent.name = f"{name}/in{i}"
                nodes[parent.name] = parent
                known.add(id(parent))
        nodes[name] = node
        known.add(id(node))
    feed = {nodes[k]: np.array(v, dtype=np.float64)
            for k, v in description.get("feed", {}).items()}
    return nodes, nodes[description["output"]], feed


def _variables(nodes):
    return [n for n in nodes.values() if n.op == "variable"]


def initialised_session(nodes: Mapping[str, Node]) -> Session:
    """A Session in which the variables among `nodes` (a dict, as `build` returns) have their
    initial values."""
    session = Session()
    session.run(variables_initializer(_variables(nodes)))
    return session


RECURSION_LIMIT = "<RecursionError>"
"""What a driver returns when the student's code reached Python's recursion limit."""


def _as_data(value):
    """A student's gradient as plain data that keeps its container: a number, a numeric
    ndarray with its own dtype and class (numpy scalars become 0-d arrays; an np.matrix
    stays one, so that the grader names it), a list or tuple of those, None, or a string
    naming what it was ("<str>")."""
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return value.copy()
        return f"<{type(value).__name__}>"
    if isinstance(value, (list, tuple)):
        return type(value)(_as_data(v) for v in value)
    return f"<{type(value).__name__}>"


def _within_recursion_limit(run):
    """run(), or RECURSION_LIMIT if the student's code nested too deep on the way."""
    try:
        return run()
    except RecursionError:
        return RECURSION_LIMIT


def _grads(nodes):
    return {name: _as_data(node.grad) for name, node in nodes.items()}


def topological_names(topological_order: Callable[[Node], Any], description: dict[str, Any]
                      ) -> list[str] | str | None:
    """Names of the nodes in the order `topological_order(output)` returns them.

    A result that is not a list comes back as a string naming its type ("<tuple>").
    """
    _, output, _ = build(description)
    listed = _within_recursion_limit(lambda: topological_order(output))
    if listed is None or listed is RECURSION_LIMIT:
        return listed
    if not isinstance(listed, list):
        return f"<{type(listed).__name__}>"
    return [n.name if isinstance(n, Node) else f"<{type(n).__name__}>" for n in listed]


def local_rule(local_gradients: Callable[[Node, np.ndarray, dict[Node, np.ndarray]], Any],
               description: dict[str, Any], upstream: npt.ArrayLike) -> Any:
    """What `local_gradients(output, upstream, values)` returns, as data (see `_as_data`)."""
    nodes, output, feed = build(description)
    values = initialised_session(nodes).forward(output, feed)
    return _as_data(local_gradients(output, np.array(upstream, dtype=np.float64), values))


def node_gradients(backward: _Backward, description: dict[str, Any]) -> dict[str, Any] | str:
    """{name: node.grad} after one backward(output, values), of the nodes the description
    lists under "report" (all by default), or RECURSION_LIMIT."""
    nodes, output, feed = build(description)
    values = initialised_session(nodes).forward(output, feed)
    if _within_recursion_limit(lambda: backward(output, values)) is RECURSION_LIMIT:
        return RECURSION_LIMIT
    return {name: _as_data(nodes[name].grad) for name in description.get("report", nodes)}


def _numerical(nodes, output, feed, session, h):
    numeric = {}
    for name, node in nodes.items():
        if node.op == "variable":
            start = session.run(node)

            def cost(X, node=node):
                node.load(X, session)
                return session.run(output, feed_dict=feed)

            numeric[name] = numerical_gradient(cost, np.array(start), h)
            node.load(start, session)
        elif node.op == "placeholder":
            def cost(X, node=node):
                return session.run(output, feed_dict={**feed, node: X})

            numeric[name] = numerical_gradient(cost, feed[node], h)
    return numeric


def gradients(backward: _Backward, description: dict[str, Any]
              ) -> dict[str, dict[str, Any]] | str:
    """{"grads": `node_gradients`, "numeric": centred-difference gradients of the same graph
    for its variables and placeholders}, or RECURSION_LIMIT."""
    grads = node_gradients(backward, description)
    if grads is RECURSION_LIMIT:
        return RECURSION_LIMIT
    nodes, output, feed = build(description)
    session = initialised_session(nodes)
    return {"grads": grads, "numeric": _numerical(nodes, output, feed, session, 1e-5)}


def repeated_gradients(backward: _Backward, description: dict[str, Any],
                       new_values: Mapping[str, npt.ArrayLike]) -> dict[str, dict[str, Any]]:
    """Gradients of two backward passes on one graph, the variables set to `new_values` before
    the second, and of one pass on a fresh graph at `new_values`: {"first", "second", "fresh"}."""
    nodes, output, feed = build(description)
    session = initialised_session(nodes)
    backward(output, session.forward(output, feed))
    first = _grads(nodes)
    for name, value in new_values.items():
        nodes[name].load(value, session)
    backward(output, session.forward(output, feed))
    second = _grads(nodes)
    fresh_nodes, fresh_output, fresh_feed = build(description)
    fresh_session = initialised_session(fresh_nodes)
    for name, value in new_values.items():
        fresh_nodes[name].load(value, fresh_session)
    backward(fresh_output, fresh_session.forward(fresh_output, fresh_feed))
    return {"first": first, "second": second, "fresh": _grads(fresh_nodes)}


def train(backward: _Backward, description: dict[str, Any], learning_rate: float,
          checkpoints: Iterable[int]) -> dict[str, Any]:
    """Gradient descent on the described graph with the student's backward pass.

    Returns {"variables": {name: [value after k steps for k in checkpoints]},
             "cost": [J after k steps for k in checkpoints]}.
    """
    nodes, output, feed = build(description)
    step_op = GradientDescentOptimizer(learning_rate, backward=backward).minimize(output)
    session = initialised_session(nodes)
    variables = {v.name: v for v in _variables(nodes)}
    record = {"variables": {name: [] for name in variables}, "cost": []}
    done = 0
    for target in sorted(int(k) for k in checkpoints):
        for _ in range(target - done):
            session.run(step_op, feed_dict=feed)
        done = target
        now = session.run({"variables": variables, "cost": output}, feed_dict=feed)
        for name, value in now["variables"].items():
            record["variables"][name].append(value)
        record["cost"].append(now["cost"])
    return record
