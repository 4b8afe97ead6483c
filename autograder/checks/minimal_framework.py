"""Grader cases for 05_minimal_framework.

The graphs are plain descriptions built in the student's kernel by the drivers of
`course_lib.graph.drivers`; the judges compare the returned data with the
reference (`autograder.reference.minimal_framework`) outside the kernel and name
the mistake with the shared diagnoses of `course_lib.checks.minimal_framework`
(its `HINTS` and tolerances), given the reference's right results and those of its
mistaken variants.
"""

import numpy as np

from autograder.case import Case, global_ref
from autograder.reference import minimal_framework as ref
from course_lib.checking import describe_mismatch
from course_lib.checks import minimal_framework as vis
from course_lib.graph.drivers import build, initialised_session

DRIVERS = "course_lib.graph.drivers"

MAX_PATHS = 5000
"""Bound on the paths from the output to all nodes, so a traversal without a visited set
stays fast (it visits each node once per path)."""


# -- graphs ---------------------------------------------------------------------

def _signed(rng, low, high):
    return float(rng.uniform(low, high) * rng.choice([-1.0, 1.0]))


def path_count(description):
    """How many nodes a depth-first traversal without a visited set visits."""
    listed, inputs, output = vis.structure(description)
    paths = dict.fromkeys(listed, 0)
    paths[output] = 1
    for name in reversed(listed):
        for parent in inputs[name]:
            paths[parent] += paths[name]
    return sum(paths.values())


def _differs(a, b):
    return b is None or any(
        describe_mismatch(a[n], b[n], name=n, rtol=1e-6) is not None for n in a)


def _usable(description):
    """Bounded values and gradients, and every traversal mistake gives other gradients."""
    if path_count(description) > MAX_PATHS:
        return False
    nodes, output, feed = build(description)
    values = initialised_session(nodes).forward(output, feed)
    if any(not np.all(np.abs(v) < 20) for v in values.values()):
        return False
    exact = ref.gradients(description)
    if any(not np.all(np.abs(g) < 1e4) for g in exact.values()):
        return False
    return all(_differs(exact, ref.gradients(description, **ref.MISTAKES[m]))
               for m in ref.TRAVERSAL_MISTAKES)


def random_graph(rng, size):
    """A random scalar graph of `size` operations on variables a, b and a placeholder x (2, 1).

    Each operation takes the newest node with probability 0.7 (so the graph is deep) and
    an earlier node or a number as its other input (so nodes are shared).
    """
    for _ in range(500):
        nodes = [["variable", "a", _signed(rng, 0.4, 1.1)],
                 ["variable", "b", _signed(rng, 0.4, 1.1)],
                 ["placeholder", "x", [2, 1]],
                 ["getitem", "x0", "x", 0], ["getitem", "x00", "x0", 0],
                 ["getitem", "x1", "x", 1], ["getitem", "x10", "x1", 0]]
        pool = ["a", "b", "x00", "x10"]
        for i in range(size):
            op = str(rng.choice(["add", "sub", "mul", "mul", "pow"]))
            first = pool[-1] if rng.random() < 0.7 else str(rng.choice(pool))
            if op == "pow":
                nodes.append(["pow", f"n{i}", first, int(rng.choice([2, 3]))])
            else:
                second = (round(_signed(rng, 0.5, 2.0), 2) if rng.random() < 0.15
                          else str(rng.choice(pool)))
                pair = [first, second] if rng.random() < 0.5 else [second, first]
                nodes.append([op, f"n{i}", *pair])
            pool.append(f"n{i}")
        description = {"nodes": nodes, "output": pool[-1],
                       "feed": {"x": rng.uniform(-1.0, 1.0, size=(2, 1))}}
        if _usable(description):
            return description
    raise RuntimeError("no usable random graph found")


def _deep_chain(rng):
    return vis.deep_chain(float(rng.uniform(-0.2, 1.2)), int(rng.integers(5, 8)))


def _long_chain(rng):
    """A chain 3000 to 3400 operations deep: beyond Python's recursion limit."""
    return vis.long_chain(float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.995, 0.999)),
                          float(rng.uniform(0.0005, 0.002)), int(rng.integers(1500, 1700)))


# -- test_topological_order -------------------------------------------------------

def _order_case(name, description):
    def judge(names):
        return vis.order_problem(names, description)
    return Case(name, f"{DRIVERS}:topological_names",
                (global_ref("topological_order"), description), judge)


def topological_order_cases(rng):
    """Each node once, after its inputs, output last; shared nodes and deep graphs."""
    return [
        _order_case("a single variable", {"nodes": [["variable", "w", 1.0]], "output": "w"}),
        _order_case("x * x", vis.square(float(rng.normal()))),
        _order_case("the lecture's cost", vis.lecture_cost()),
        _order_case("the lecture's cost with a placeholder", vis.lecture_placeholder_cost()),
        _order_case("shared subexpressions", vis.shared_graph()),
        _order_case("a deep chain", _deep_chain(rng)),
        _order_case("a chain thousands of operations deep", _long_chain(rng)),
        _order_case("a random graph of 12 operations", random_graph(rng, 12)),
        _order_case("a random graph of 18 operations", random_graph(rng, 18)),
    ]


# -- test_local_gradients_* -------------------------------------------------------

def _rule_case(name, op, a, b, upstream):
    description = vis.rule_graph(op, a, b) if b is not None else {
        "nodes": [["constant", "a", a], [op, "out", "a", "a"]], "output": "out"}  # a op a
    inputs = [a] if op == "pow" else [a, a if b is None else b]
    nodes, output, _ = build(description)
    expected = ref.local_gradients(output, np.array(upstream, dtype=np.float64),
                                   initialised_session(nodes).forward(output))
    expected = [np.asarray(g, dtype=np.float64) for g in expected]

    def judge(result):
        return vis.local_rule_problem(op, result, expected, upstream=upstream, inputs=inputs,
                                      exponent=b)
    return Case(name, f"{DRIVERS}:local_rule",
                (global_ref("local_gradients"), description, upstream), judge)


def _upstream(rng, shape=()):
    values = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return float(values) if shape == () else values


def local_gradients_add_sub_cases(rng):
    """a + b and a - b on numbers and arrays, with upstream gradients other than 1."""
    return [
        _rule_case("add of two numbers", "add", float(rng.normal()), float(rng.normal()),
                   _upstream(rng)),
        _rule_case("add of (2, 3) arrays", "add", rng.normal(size=(2, 3)),
                   rng.normal(size=(2, 3)), _upstream(rng, (2, 3))),
        _rule_case("sub of two numbers", "sub", float(rng.normal()), float(rng.normal()),
                   _upstream(rng)),
        _rule_case("sub of (3, 2) arrays", "sub", rng.normal(size=(3, 2)),
                   rng.normal(size=(3, 2)), _upstream(rng, (3, 2))),
    ]


def local_gradients_mul_cases(rng):
    """a * b on numbers and arrays, and a * a."""
    return [
        _rule_case("mul of two numbers", "mul", _signed(rng, 0.5, 3), _signed(rng, 0.5, 3),
                   _upstream(rng)),
        _rule_case("mul of (2, 3) arrays", "mul", rng.normal(size=(2, 3)),
                   rng.normal(size=(2, 3)), _upstream(rng, (2, 3))),
        _rule_case("a * a", "mul", _signed(rng, 0.5, 3), None, _upstream(rng)),
    ]


def local_gradients_pow_cases(rng):
    """a ** p for p = 2, 3, 0.5 and -1, on numbers and arrays, and at a = 0."""
    with_zero = rng.normal(size=(2, 3))
    with_zero[rng.integers(2), rng.integers(3)] = 0.0
    return [
        _rule_case("a**2 of a (2, 3) array holding a 0", "pow", with_zero, 2,
                   _upstream(rng, (2, 3))),
        _rule_case("a**3 at a = 0", "pow", 0.0, 3, _upstream(rng)),
        _rule_case("a**2 of a (2, 3) array", "pow", rng.normal(size=(2, 3)), 2,
                   _upstream(rng, (2, 3))),
        _rule_case("a**3 of a number", "pow", _signed(rng, 0.5, 2), 3, _upstream(rng)),
        _rule_case("a**0.5 of a positive (3, 1) array", "pow",
                   rng.uniform(0.5, 4.0, size=(3, 1)), 0.5, _upstream(rng, (3, 1))),
        _rule_case("a**-1 of a number", "pow", _signed(rng, 0.5, 2), -1, _upstream(rng)),
    ]


# -- test_backward ------------------------------------------------------------------

def _backward_case(name, description):
    exact = ref.gradients(description)
    variants = {m: ref.gradients(description, **kw) for m, kw in ref.MISTAKES.items()
                if m != "no_visited_set" or path_count(description) <= MAX_PATHS}

    def judge(result):
        return vis.backward_problem(result, exact, variants, description)
    return Case(name, f"{DRIVERS}:gradients", (global_ref("backward"), description), judge)


def backward_cases(rng):
    """Every node's gradient, against the numerical gradient of the graph and exact values."""
    return [
        _backward_case("the lecture's cost", vis.lecture_cost(_signed(rng, 1, 8))),
        _backward_case("the lecture's cost with a placeholder", vis.lecture_placeholder_cost(
            _signed(rng, 1, 8), rng.normal(size=(3, 1)) * 3)),
        _backward_case("x * x", vis.square(_signed(rng, 0.5, 3))),
        _backward_case("a + a * b", vis.sum_with_product(_signed(rng, 0.5, 2),
                                                         _signed(rng, 0.5, 2))),
        _backward_case("shared subexpressions", vis.shared_graph(
            _signed(rng, 0.5, 1.5), _signed(rng, 0.3, 1))),
        _backward_case("a deep chain", _deep_chain(rng)),
        _backward_case("a chain thousands of operations deep", _long_chain(rng)),
        _backward_case("(2, 3) arrays", vis.array_graph(rng.normal(size=(2, 3)),
                                                        rng.normal(size=(2, 3)))),
        _backward_case("a random graph of 12 operations", random_graph(rng, 12)),
        _backward_case("a random graph of 18 operations", random_graph(rng, 18)),
    ]


def _reset_case(name, description, new_values):
    """Backward twice on one graph; both passes judged against the reference's gradients."""
    first = ref.gradients(description)
    second = ref.gradients(vis.with_values(description, new_values))

    def judge(result):
        return vis.reset_problem(result, first, second, description)
    return Case(name, f"{DRIVERS}:repeated_gradients",
                (global_ref("backward"), description, new_values), judge)


def backward_reset_cases(rng):
    """Both passes of backward on one graph equal the reference's gradients at their values."""
    return [
        _reset_case("a + a * b", vis.sum_with_product(_signed(rng, 0.5, 2), _signed(rng, 0.5, 2)),
                    {"a": _signed(rng, 0.5, 2), "b": _signed(rng, 0.5, 2)}),
        _reset_case("shared subexpressions", vis.shared_graph(),
                    {"a": _signed(rng, 0.5, 1.5), "b": _signed(rng, 0.3, 1)}),
        _reset_case("a deep chain", _deep_chain(rng), {"y0": float(rng.uniform(-0.2, 1.2))}),
        _reset_case("a random graph", random_graph(rng, 12),
                    {"a": _signed(rng, 0.4, 1.1), "b": _signed(rng, 0.4, 1.1)}),
    ]


# -- test_backward_lecture ------------------------------------------------------------

def _training_case(name, description, learning_rate, steps, expected, show_values):
    def judge(result):
        return vis.training_problem(result, expected, steps, show_values=show_values)
    return Case(name, f"{DRIVERS}:train",
                (global_ref("backward"), description, learning_rate, list(steps)), judge)


def backward_lecture_cases(rng):
    """The lecture's w after 0, 1 and 1000 steps; and gradient descent on another quadratic."""
    lecture = {"variables": {"w": [ref.lecture_w(k) for k in vis.LECTURE_STEPS]}}
    coefficients = np.array([[rng.uniform(0.5, 2.0)], [rng.normal() * 5], [rng.normal()]])
    other = vis.lecture_placeholder_cost(_signed(rng, 1, 6), coefficients)
    learning_rate = float(rng.uniform(0.02, 0.1))
    steps = [0, 1, 2, 5, 40]
    return [
        _training_case("the lecture's example with constants", vis.lecture_cost(), 0.01,
                       vis.LECTURE_STEPS, lecture, True),
        _training_case("the lecture's example with a placeholder",
                       vis.lecture_placeholder_cost(), 0.01, vis.LECTURE_STEPS, lecture, True),
        _training_case("another quadratic fed through the placeholder", other, learning_rate,
                       steps, ref.training(other, learning_rate, steps), False),
    ]


CHECKS = {
    "test_topological_order": topological_order_cases,
    "test_local_gradients_add_sub": local_gradients_add_sub_cases,
    "test_local_gradients_mul": local_gradients_mul_cases,
    "test_local_gradients_pow": local_gradients_pow_cases,
    "test_backward": backward_cases,
    "test_backward_reset": backward_reset_cases,
    "test_backward_lecture": backward_lecture_cases,
}
