"""Reference solutions of 05_minimal_framework, on course_lib.graph nodes. Instructor material.

One keyword flag per named mistake (`course_lib.checks.minimal_framework.EXERCISES`)
reproduces it exactly as the master's solution with that edit computes it (same operations,
same order, in-place `+=`). Below them, the hidden calls of each graded cell.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from autograder.exercises import hidden
from course_lib import graph as fw
from course_lib.checks import minimal_framework as vis
from course_lib.checks.minimal_framework import EXERCISES
from course_lib.exercise import Call
from course_lib.graph import drivers

if TYPE_CHECKING:
    from typing import Any

    from course_lib.graph.core import Node


def topological_order(output: Node, *, no_visited_set: bool = False,
                      recursive_order: bool = False) -> list[Node]:
    """Every node `output` depends on, each once, inputs first (iterative depth-first search).

    recursive_order=True is the recursive search, which fails near 1000 nested nodes.
    """
    order, seen = [], set()
    if recursive_order:
        def visit(node):
            if no_visited_set or node not in seen:
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
        elif no_visited_set or node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((parent, False) for parent in reversed(node.inputs))
    return order


def local_gradients(node: Node, upstream: np.ndarray, values: dict[Node, np.ndarray], *,
                    missing_upstream: bool = False, sub_rule_gives_plus_one_to_b: bool = False,
                    mul_rule_swapped: bool = False, pow_rule_exponent_not_lowered: bool = False,
                    pow_rule_factor_missing: bool = False, pow_rule_assumes_square: bool = False,
                    pow_nan_at_zero: bool = False, pow_nan_for_negative_base: bool = False,
                    matmul_inputs_swapped: bool = False, mean_not_divided: bool = False,
                    sigmoid_from_input: bool = False) -> list[np.ndarray]:
    """dJ/d(input) for each input of `node`, given dJ/d(node) = upstream."""
    if not node.inputs:
        return []
    if node.op == "getitem":
        picked = np.zeros(node.inputs[0].shape)
        picked[node.index] = upstream
        return [picked]
    g = np.ones_like(upstream) if missing_upstream else upstream
    if node.op in fw.MODEL_OPS:
        return _model_rule(node, g, values, matmul_inputs_swapped=matmul_inputs_swapped,
                           mean_not_divided=mean_not_divided,
                           sigmoid_from_input=sigmoid_from_input)
    if node.op == "add":
        return [g, g]
    if node.op == "sub":
        return [g, g if sub_rule_gives_plus_one_to_b else -g]
    if node.op == "mul":
        a, b = node.inputs
        a, b = (b, a) if mul_rule_swapped else (a, b)
        return [g * values[b], g * values[a]]
    if node.op == "pow":
        p, base = node.exponent, values[node.inputs[0]]
        with np.errstate(divide="ignore", invalid="ignore"):
            if pow_nan_at_zero:
                return [g * p * base ** p / base]
            if pow_nan_for_negative_base:
                return [g * p * np.exp((p - 1) * np.log(base))]
        if pow_rule_assumes_square:
            return [g * 2 * base]
        power = p if pow_rule_exponent_not_lowered else p - 1
        return [g * base ** power if pow_rule_factor_missing else g * p * base ** power]
    raise ValueError(f"no backward rule for {node.op!r}")


def _model_rule(node, g, values, *, matmul_inputs_swapped, mean_not_divided,
                sigmoid_from_input):
    """The rules of exp, log, sigmoid, relu, matmul, reduce_sum and reduce_mean."""
    a = values[node.inputs[0]]
    if node.op == "exp":
        return [g * values[node]]
    if node.op == "log":
        return [g / a]
    if node.op == "sigmoid":
        s = a if sigmoid_from_input else values[node]
        return [g * s * (1 - s)]
    if node.op == "relu":
        return [g * (a > 0)]
    if node.op == "matmul":
        left, right = node.inputs[::-1] if matmul_inputs_swapped else node.inputs
        return [g @ values[right].T, values[left].T @ g]
    spread = np.broadcast_to(g, a.shape).copy()
    if node.op == "reduce_mean" and not mean_not_divided:
        spread /= a.size // values[node].size
    return [spread]


def backward(cost: Node, values: dict[Node, np.ndarray], *,
             traversal_not_reversed: bool = False, assigned_not_accumulated: bool = False,
             no_visited_set: bool = False, recursive_order: bool = False,
             output_not_seeded: bool = False, aliased_gradient: bool = False,
             shared_zero_array: bool = False, value_passed_as_gradient: bool = False,
             gradients_never_reset: bool = False) -> None:
    """Set node.grad = dJ/d(node) on cost's graph (aliased_gradient: assign the first
    contribution, the array itself, add the next ones in place)."""
    order = topological_order(cost, no_visited_set=no_visited_set, recursive_order=recursive_order)
    zero = np.zeros(cost.shape)
    for node in [] if gradients_never_reset else order:
        node.grad = zero if shared_zero_array else np.zeros(node.shape)
    cost.grad = np.zeros(cost.shape) if output_not_seeded else np.ones(cost.shape)
    reached = set()
    for node in order if traversal_not_reversed else reversed(order):
        upstream = values[node] if value_passed_as_gradient else node.grad
        for parent, grad in zip(node.inputs, local_gradients(node, upstream, values),
                                strict=True):
            if assigned_not_accumulated or (aliased_gradient and parent not in reached):
                parent.grad = grad
            else:
                parent.grad += grad
            reached.add(parent)


def gradients(description: dict[str, Any], **flags: bool) -> dict[str, Any] | str:
    """{name: dJ/d(node)} of every node after `backward` with `flags`."""
    return drivers.node_gradients(functools.partial(backward, **flags), description)


# ------------------------------------------------------------------ the hidden calls

MAX_PATHS = 5000  # on the nodes a traversal without a visited set lists (once per path)
TRAVERSAL_MISTAKES = ("traversal_not_reversed", "assigned_not_accumulated", "no_visited_set",
                      "output_not_seeded")  # every random graph tells them apart


def _signed(rng, low=0.5, high=2.0, shape=()):
    values = rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return float(values) if shape == () else values


def path_count(description: dict[str, Any]) -> int:
    """How many nodes a depth-first traversal without a visited set visits."""
    listed, inputs, output = vis.structure(description)
    paths = dict.fromkeys(listed, 0)
    paths[output] = 1
    for name in reversed(listed):
        for parent in inputs[name]:
            paths[parent] += paths[name]
    return sum(paths.values())


def _usable(description):
    """Bounded values and gradients, and every traversal mistake gives other gradients."""
    if path_count(description) > MAX_PATHS:
        return False
    nodes, output, feed = drivers.build(description)
    values = drivers.initialised_session(nodes).forward(output, feed)
    exact = gradients(description)
    return (max(np.max(np.abs(v)) for v in values.values()) < 20
            and max(np.max(np.abs(g)) for g in exact.values()) < 1e4
            and not any(vis.same_data(gradients(description, **{m: True}), exact, 1e-6)
                        for m in TRAVERSAL_MISTAKES))


def random_graph(rng: np.random.Generator, size: int) -> dict[str, Any]:
    """A random scalar graph of `size` operations on variables a, b and a placeholder x (2, 1):
    deep (an operation takes the newest node with probability 0.7), with shared nodes."""
    for _ in range(500):
        nodes = [["variable", "a", _signed(rng, 0.4, 1.1)],
                 ["variable", "b", _signed(rng, 0.4, 1.1)], ["placeholder", "x", [2, 1]],
                 ["getitem", "x0", "x", 0], ["getitem", "x00", "x0", 0],
                 ["getitem", "x1", "x", 1], ["getitem", "x10", "x1", 0]]
        pool = ["a", "b", "x00", "x10"]
        for i in range(size):
            op = str(rng.choice(["add", "sub", "mul", "mul", "pow"]))
            first = pool[-1] if rng.random() < 0.7 else str(rng.choice(pool))
            if op == "pow":
                nodes.append(["pow", f"n{i}", first, int(rng.choice([2, 3]))])
            else:
                second = (round(_signed(rng), 2) if rng.random() < 0.15
                          else str(rng.choice(pool)))
                nodes.append([op, f"n{i}", *([first, second] if rng.random() < 0.5
                                             else [second, first])])
            pool.append(f"n{i}")
        description = {"nodes": nodes, "output": pool[-1],
                       "feed": {"x": rng.uniform(-1.0, 1.0, size=(2, 1))}}
        if _usable(description):
            return description
    raise RuntimeError("no usable random graph found")


def _deep_chain(rng):  # each node used three times
    return vis.deep_chain(float(rng.uniform(-0.2, 1.2)), int(rng.integers(5, 8)))


def _deep_graphs(rng):
    """A deep chain of shared nodes, a chain 3000 to 3400 operations deep, random graphs."""
    return [Call.of("a deep chain", _deep_chain(rng)),
            Call.of("a chain thousands of operations deep", vis.long_chain(
                float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.995, 0.999)),
                float(rng.uniform(0.0005, 0.002)), int(rng.integers(1500, 1700)))),
            *(Call.of(f"a random graph of {size} operations", random_graph(rng, size))
              for size in (12, 18))]


@hidden(EXERCISES["test_topological_order"])
def topological_order_calls(rng: np.random.Generator) -> list[Call]:
    return [*EXERCISES["test_topological_order"].visible[:5], *_deep_graphs(rng)]


def _rules(rng, op, inputs):
    """One call per (what, a, b, shape of upstream) of `op`."""
    return [Call.of(f"{op} of {what}", vis.operation(op, a, b), _signed(rng, shape=shape))
            for what, a, b, shape in inputs]


@hidden(EXERCISES["test_local_gradients_add_sub"])
def add_sub_calls(rng: np.random.Generator) -> list[Call]:
    """a + b and a - b on numbers and arrays, with upstream gradients other than 1."""
    return [call for op in ("add", "sub") for call in _rules(rng, op, [
        ("two numbers", float(rng.normal()), float(rng.normal()), ()),
        ("(2, 3) arrays", rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), (2, 3))])]


@hidden(EXERCISES["test_local_gradients_mul"])
def mul_calls(rng: np.random.Generator) -> list[Call]:
    return _rules(rng, "mul", [("two numbers", _signed(rng), _signed(rng), ()), ("(2, 3) arrays",
                  rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), (2, 3)),
                  ("a and a", _signed(rng, 0.5, 3), None, ())])


@hidden(EXERCISES["test_local_gradients_pow"])
def pow_calls(rng: np.random.Generator) -> list[Call]:
    """a ** p for p = 3, 2, 0.5 and -1, on numbers and arrays, and at a = 0 (a number first)."""
    with_zero = rng.normal(size=(2, 3))
    with_zero[rng.integers(2), rng.integers(3)] = 0.0
    return _rules(rng, "pow", [("a number, p = 3", _signed(rng), 3, ()),
                               ("a (2, 3) array holding a 0, p = 2", with_zero, 2, (2, 3)),
                               ("a = 0, p = 3", 0.0, 3, ()),
                               ("a (2, 3) array, p = 2", rng.normal(size=(2, 3)), 2, (2, 3)),
                               ("a positive (3, 1) array, p = 0.5",
                                rng.uniform(0.5, 4.0, size=(3, 1)), 0.5, (3, 1)),
                               ("a number, p = -1", _signed(rng), -1, ())])


@hidden(EXERCISES["test_local_gradients_model_ops"])
def model_ops_calls(rng: np.random.Generator) -> list[Call]:
    """Each operation of a real model on other values, shapes and upstream gradients."""
    m = int(rng.integers(2, 5))
    square = int(rng.integers(2, 4))
    return [
        Call.of("exp of a (2, m) array", vis.model_operation("exp", rng.normal(size=(2, m))),
                rng.normal(size=(2, m))),
        Call.of("log of a positive number", vis.model_operation("log", rng.uniform(0.2, 3)),
                _signed(rng)),
        Call.of("sigmoid of a (3, m) array", vis.model_operation(
            "sigmoid", rng.normal(size=(3, m)) * 2), rng.normal(size=(3, m))),
        Call.of("relu of a (2, m) array", vis.model_operation(
            "relu", _signed(rng, 0.1, 2, (2, m))), rng.normal(size=(2, m))),
        Call.of("matmul of square matrices", vis.model_operation(
            "matmul", rng.normal(size=(square, square)), rng.normal(size=(square, square))),
            rng.normal(size=(square, square))),
        Call.of("matmul (3, 2) by (2, m)", vis.model_operation(
            "matmul", rng.normal(size=(3, 2)), rng.normal(size=(2, m))),
            rng.normal(size=(3, m))),
        *(Call.of(f"{op} over axis {axis}", vis.model_operation(
            op, rng.normal(size=(3, m)), axis=axis), rng.normal(size=shape))
          for op in ("reduce_sum", "reduce_mean")
          for axis, shape in ((0, (1, m)), (1, (3, 1)), (None, ())))]


@hidden(EXERCISES["test_backward"])
def backward_calls(rng: np.random.Generator) -> list[Call]:
    """Every node's gradient, on shared nodes, a placeholder, arrays, deep and random graphs."""
    return [
        Call.of("the lecture's cost", vis.lecture_cost(_signed(rng, 1, 8))),
        Call.of("the lecture's cost with a placeholder", vis.lecture_placeholder_cost(
            _signed(rng, 1, 8), rng.normal(size=(3, 1)) * 3)),
        Call.of("x * x", vis.square(_signed(rng, 0.5, 3))),
        Call.of("a + a * b", vis.sum_with_product(_signed(rng), _signed(rng))),
        Call.of("shared subexpressions", vis.shared_graph(_signed(rng, 0.5, 1.5),
                                                          _signed(rng, 0.3, 1))),
        Call.of("(2, 3) arrays", vis.array_graph(rng.normal(size=(2, 3)),
                                                 rng.normal(size=(2, 3)))),
        *_deep_graphs(rng)]


@hidden(EXERCISES["test_backward_reset"])
def reset_calls(rng: np.random.Generator) -> list[Call]:
    """Backward twice on one graph, its variables changed in between."""
    def new():
        return {"a": _signed(rng, 0.4, 1.1), "b": _signed(rng, 0.4, 1.1)}
    return [Call.of("a + a * b", vis.sum_with_product(_signed(rng), _signed(rng)), new()),
            Call.of("shared subexpressions", vis.shared_graph(), new()),
            Call.of("a deep chain", _deep_chain(rng), {"y0": float(rng.uniform(-0.2, 1.2))}),
            Call.of("a random graph", random_graph(rng, 12), new())]


@hidden(EXERCISES["test_backward_lecture"])
def lecture_calls(rng: np.random.Generator) -> list[Call]:
    """The lecture's w after 0, 1 and 1000 steps; and gradient descent on another quadratic."""
    coefficients = np.array([[rng.uniform(0.5, 2.0)], [rng.normal() * 5], [rng.normal()]])
    return [*EXERCISES["test_backward_lecture"].visible,
            Call.of("another quadratic fed through the placeholder",
                    vis.lecture_placeholder_cost(_signed(rng, 1, 6), coefficients),
                    float(rng.uniform(0.02, 0.1)), [0, 1, 2, 5, 40])]
