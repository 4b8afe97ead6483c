"""Visible checks of 05_minimal_framework, and the diagnoses the grader shares.

Graphs are given as plain descriptions (see `course_lib.graph.drivers`), built
with the framework in the student's kernel. Each `check_*` runs the student's
function on a few of them, compares with the numerical gradient of the same
graph and with exact values, and raises `CheckFailed` with a sentence naming
the mistake; otherwise it prints what it verified. The `*_problem` functions
name a mistake from results alone; the grader's judges call them too, with the
same `HINTS` and tolerances.

The exact values, and the gradients each known mistake gives on the visible
graphs, are computed from the instructor's reference and frozen in
`VISIBLE_VALUES` (a test checks they still agree).
"""

import copy
from collections import Counter

import numpy as np

from course_lib.checking import (
    CheckFailed,
    contract_problem,
    describe_mismatch,
    guards_arguments,
)
from course_lib.gradcheck import numerical_gradient
from course_lib.graph.core import Session
from course_lib.graph.drivers import (
    RECURSION_LIMIT,
    build,
    gradients,
    local_rule,
    repeated_gradients,
    topological_names,
    train,
)

# -- the named mistakes: one sentence each, shown by the visible checks and the grader --

HINTS = {
    # topological_order
    "no_visited_set": (
        "a node reached along several paths is listed (and passes its gradient on) several "
        "times: topological_order must list each node once (keep a set of visited nodes)"),
    "recursive_order": (
        "Python's recursion limit was reached on a graph thousands of nodes deep: a "
        "recursive depth-first search nests one call per node of the longest path, and "
        "Python stops near 1000; keep your own stack of nodes to visit instead (Exercise 1)"),
    # local_gradients
    "missing_upstream": (
        "misses the factor upstream: by the chain rule, multiply the local derivative by "
        "upstream = dJ/d(node)"),
    "sub_rule_gives_plus_one_to_b": (
        "sub: for a - b, b gets -upstream (J decreases when b grows), but you gave it "
        "+upstream"),
    "mul_rule_swapped": (
        "mul: the gradients of a and b are swapped: d(a*b)/da is b, so a gets upstream times "
        "the value of the *other* input"),
    "pow_rule_exponent_not_lowered": (
        "pow: the exponent drops by one: d(a**p)/da = p * a**(p - 1), not p * a**p"),
    "pow_rule_factor_missing": "pow: the factor p is missing: d(a**p)/da = p * a**(p - 1)",
    "pow_rule_assumes_square": (
        "pow: this node's exponent is not 2: use node.exponent instead of assuming a square"),
    "pow_nan_at_zero": (
        "pow: the gradient is nan where a = 0, although p * a**(p - 1) is finite there: "
        "compute a**(p - 1) itself instead of dividing a**p by a"),
    "pow_nan_for_negative_base": (
        "pow: the gradient is nan where a < 0, although p * a**(p - 1) is finite there: a "
        "logarithm of a is undefined for a < 0; compute a**(p - 1) itself"),
    # backward
    "traversal_not_reversed": (
        "the gradients are those of a walk from the leaves to the output: walk "
        "reversed(topological_order(cost)), so that each node's gradient is complete before "
        "it is passed on"),
    "assigned_not_accumulated": (
        "a node used several times keeps only one contribution: accumulate with `+=` "
        "instead of assigning with `=`"),
    "output_not_seeded": (
        "every gradient is 0: seed the output with cost.grad = 1 (dJ/dJ = 1) after resetting "
        "the others to 0, and leave each gradient in node.grad"),
    "aliased_gradient": (
        "a node's gradient is the very array of another node: its first contribution was "
        "stored as it came (`parent.grad = grad`, the upstream array itself), so adding to "
        "it in place with `+=` changed the other node's gradient too; start every node from "
        "its own `np.zeros(node.shape)` and always add"),
    "shared_zero_array": (
        "every node's gradient is one and the same array: the reset gave all nodes the same "
        "zeros array, so `+=` adds every contribution into it; give each node its own "
        "`np.zeros(node.shape)`"),
    "value_passed_as_gradient": (
        "the gradients are those of a backward pass that sends each node's value instead of "
        "its gradient: call local_gradients(node, node.grad, values)"),
    "gradients_never_reset": (
        "the second backward pass adds to the gradients the first one left: they are never "
        "reset; set every node's grad to 0 at the start of backward"),
    "first_pass_wrong": "the first backward pass on the graph is already wrong",
}
"""Mistake id -> the one sentence both layers show when a result matches that mistake."""

RTOL = 1e-9
"""Tolerance of local gradients and gradients against exact values, in both layers: add, sub
and mul are linear, so no looser tolerance could tell a large-step finite difference from a
derivation there."""

NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-7
"""Tolerance against centred differences (step 1e-5) of the same graph."""

# -- graphs -------------------------------------------------------------------

LECTURE_COEFFICIENTS = [[1.0], [-10.0], [25.0]]
"""The lecture's coefficients of J(w) = w**2 - 10*w + 25, fed to the placeholder x."""

LECTURE_STEPS = (0, 1, 1000)
LECTURE_W = (0.0, 0.1, 4.999999991585162)
"""w after 0, 1 and 1000 steps at learning rate 0.01 from w = 0, in float64
(the closed form 5 * (1 - 0.98**1000) = 4.99999999158516...)."""

LECTURE_W_FLOAT32 = 4.9999886
"""The same 1000 updates in float32: they stall when a step falls below half the spacing."""


def lecture_cost(w=0.0):
    """cost = w**2 - 10*w + 25, with constants."""
    return {"nodes": [["variable", "w", float(w)], ["pow", "w2", "w", 2],
                      ["mul", "tenw", 10.0, "w"], ["sub", "diff", "w2", "tenw"],
                      ["add", "cost", "diff", 25.0]],
            "output": "cost"}


def lecture_placeholder_cost(w=0.0, coefficients=LECTURE_COEFFICIENTS):
    """cost = x[0][0]*w**2 + x[1][0]*w + x[2][0], with x fed the coefficients."""
    nodes = [["variable", "w", float(w)], ["placeholder", "x", [3, 1]]]
    for i in range(3):
        nodes += [["getitem", f"x{i}", "x", i], ["getitem", f"x{i}0", f"x{i}", 0]]
    nodes += [["pow", "w2", "w", 2], ["mul", "a_w2", "x00", "w2"], ["mul", "b_w", "x10", "w"],
              ["add", "quad", "a_w2", "b_w"], ["add", "cost", "quad", "x20"]]
    return {"nodes": nodes, "output": "cost",
            "feed": {"x": np.array(coefficients, dtype=np.float64)}}


def square(x):
    """y = x * x: one node used twice by the same operation."""
    return {"nodes": [["variable", "x", x], ["mul", "y", "x", "x"]], "output": "y"}


def sum_with_product(a=1.5, b=-2.0):
    """J = a + a * b: the output's gradient reaches a twice, once through the add."""
    return {"nodes": [["variable", "a", a], ["variable", "b", b], ["mul", "m", "a", "b"],
                      ["add", "J", "a", "m"]],
            "output": "J"}


def shared_graph(a=1.5, b=-0.5):
    """s = a*b is used three times, a twice: J = ((s - a) * s)**3 + s) * (s - a)."""
    return {"nodes": [["variable", "a", a], ["variable", "b", b], ["mul", "s", "a", "b"],
                      ["sub", "t", "s", "a"], ["mul", "u", "t", "s"], ["pow", "v", "u", 3],
                      ["add", "q", "v", "s"], ["mul", "J", "q", "t"]],
            "output": "J"}


def long_chain(y0=1.0, w=0.998, v=0.001, levels=1500):
    """y(k+1) = y(k) * w - v, `levels` times: 2 * levels operations in one chain.

    Each y(k) is used once and the leaves w and v by every level, so the graph is as deep
    as it is long (3000 by default, beyond Python's recursion limit) while the number of
    paths through it stays small.
    """
    nodes = [["variable", "y0", y0], ["variable", "w", w], ["variable", "v", v]]
    for k in range(levels):
        nodes += [["mul", f"m{k}", f"y{k}", "w"], ["sub", f"y{k + 1}", f"m{k}", "v"]]
    return {"nodes": nodes, "output": f"y{levels}"}


def depth(description):
    """The number of operations on the longest path to the output."""
    listed, inputs, _ = structure(description)
    level = {}
    for name in listed:
        level[name] = 1 + max((level[p] for p in inputs[name]), default=-1)
    return max(level.values())


def deep_chain(w=0.3, depth=6):
    """y0 = w, y(k+1) = y(k) * y(k) - y(k): each y(k) used three times, depth 2 * depth."""
    nodes = [["variable", "y0", w]]
    for k in range(depth):
        nodes += [["mul", f"sq{k}", f"y{k}", f"y{k}"], ["sub", f"y{k + 1}", f"sq{k}", f"y{k}"]]
    return {"nodes": nodes, "output": f"y{depth}"}


def array_graph(A, B):
    """Elementwise on (2, 3) arrays, then entries picked: J = S[0][1] * S[1][2] + R[0, 0]."""
    return {"nodes": [["variable", "A", A], ["variable", "B", B], ["mul", "P", "A", "B"],
                      ["pow", "Q", "A", 2], ["sub", "R", "P", "Q"], ["add", "S", "R", "A"],
                      ["getitem", "S0", "S", 0], ["getitem", "S01", "S0", 1],
                      ["getitem", "S1", "S", 1], ["getitem", "S12", "S1", 2],
                      ["getitem", "R00", "R", (0, 0)], ["mul", "T", "S01", "S12"],
                      ["add", "J", "T", "R00"]],
            "output": "J"}


def rule_graph(op, a, b):
    """One operation on constant inputs (for pow, `b` is the exponent)."""
    return operation("pow", a, exponent=b) if op == "pow" else operation(op, a, b)


def with_values(description, new_values):
    """The description with the variables in `new_values` starting from those values."""
    nodes = [[kind, name, new_values[name], *rest[1:]]
             if kind == "variable" and name in new_values else [kind, name, *rest]
             for kind, name, *rest in description["nodes"]]
    return {**description, "nodes": nodes}


def operation(op, a, b=None, *, exponent=None):
    """One operation on constant inputs named a (and b): the output node is "out"."""
    nodes = [["constant", "a", a]]
    if op == "pow":
        nodes.append(["pow", "out", "a", exponent])
    else:
        nodes += [["constant", "b", b], [op, "out", "a", "b"]]
    return {"nodes": nodes, "output": "out"}


def structure(description):
    """(names in build order, which is topological; {name: input names}; output name)."""
    nodes, output, _ = build(description)
    return list(nodes), {n: [p.name for p in node.inputs] for n, node in nodes.items()}, \
        output.name


# -- the visible inputs --------------------------------------------------------------

ORDER_GRAPHS = {
    "a single variable": {"nodes": [["variable", "w", 1.0]], "output": "w"},
    "x * x": square(2.0),
    "the lecture's cost": lecture_cost(),
    "the lecture's cost with a placeholder": lecture_placeholder_cost(),
    "shared subexpressions": shared_graph(),
    "a deep chain": deep_chain(depth=5),
    "a chain 3000 operations deep": long_chain(),
}

RULE_INPUTS = {
    "add": [(2.0, -3.0, 0.5), ([[1.0, 2.0]], [[0.5, -1.0]], [[1.0, -2.0]])],
    "sub": [(2.0, -3.0, 0.5), ([[1.0, 2.0]], [[0.5, -1.0]], [[1.0, -2.0]])],
    "mul": [(2.0, -3.0, 0.5), ([[1.0, 2.0]], [[0.5, -1.0]], [[1.0, -2.0]])],
    "pow": [(1.5, 3, 0.5), ([[0.5, -2.0]], 2, [[1.0, -1.0]]), (4.0, 0.5, 2.0), (2.0, -1, 1.0),
            ([[0.0, -1.5]], 2, [[1.0, 2.0]]), (0.0, 3, 0.5)],
}
"""(a, b or the exponent, upstream) of each visible local-rule case."""

VISIBLE_GRAPHS = {
    "lecture cost at w = 2": lecture_cost(2.0),
    "x * x at x = -1.5": square(-1.5),
    "shared subexpressions": shared_graph(),
    "a + a * b": sum_with_product(),
}
"""The graphs of `check_backward` judged against exact values and every known mistake."""

NUMERIC_GRAPHS = {
    "the lecture's cost with a placeholder at w = 3": lecture_placeholder_cost(3.0),
    "a deep chain (depth 12)": deep_chain(0.3, 6),
    "arrays of shape (2, 3)": array_graph([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]],
                                          [[1.0, 2.0, -0.5], [0.2, -1.2, 0.8]]),
    "a chain 3000 operations deep": long_chain(),
}
"""The graphs of `check_backward` judged against their numerical gradient."""

RESET_GRAPHS = ("a + a * b", "shared subexpressions")
RESET_VALUES = {"a": 0.7, "b": 1.2}
"""The graphs of `check_backward_reset` and their variables' values for the second pass."""

# -- generated by `python -m autograder.reference.minimal_framework`: do not edit --------
VISIBLE_VALUES = {
    'rules': {
        'add': [[0.5, 0.5], [[[1.0, -2.0]], [[1.0, -2.0]]]],
        'sub': [[0.5, -0.5], [[[1.0, -2.0]], [[-1.0, 2.0]]]],
        'mul': [[-1.5, 1.0], [[[0.5, 2.0]], [[1.0, -4.0]]]],
        'pow': [[3.375], [[[1.0, 4.0]]], [0.5], [-0.25], [[[0.0, -6.0]]], [0.0]],
    },
    'graphs': {
        'lecture cost at w = 2': {
            'exact': {
                'w': -6.0, 'w2': 1.0, 'tenw/in0': -2.0, 'tenw': -1.0, 'diff': 1.0, 'cost/in1': 1.0,
                'cost': 1.0,
            },
            'traversal_not_reversed': {
                'w': 0.0, 'w2': 0.0, 'tenw/in0': 0.0, 'tenw': 0.0, 'diff': 1.0, 'cost/in1': 1.0,
                'cost': 1.0,
            },
            'assigned_not_accumulated': {
                'w': 4.0, 'w2': 1.0, 'tenw/in0': -2.0, 'tenw': -1.0, 'diff': 1.0, 'cost/in1': 1.0,
                'cost': 1.0,
            },
            'no_visited_set': {
                'w': -6.0, 'w2': 1.0, 'tenw/in0': -2.0, 'tenw': -1.0, 'diff': 1.0, 'cost/in1': 1.0,
                'cost': 1.0,
            },
            'output_not_seeded': {
                'w': 0.0, 'w2': 0.0, 'tenw/in0': 0.0, 'tenw': 0.0, 'diff': 0.0, 'cost/in1': 0.0,
                'cost': 0.0,
            },
            'aliased_gradient': {
                'w': -6.0, 'w2': 1.0, 'tenw/in0': -2.0, 'tenw': -1.0, 'diff': 1.0, 'cost/in1': 1.0,
                'cost': 1.0,
            },
            'shared_zero_array': {
                'w': 130.0, 'w2': 130.0, 'tenw/in0': 130.0, 'tenw': 130.0, 'diff': 130.0,
                'cost/in1': 130.0, 'cost': 1.0,
            },
            'value_passed_as_gradient': {
                'w': 216.0, 'w2': -16.0, 'tenw/in0': 40.0, 'tenw': 16.0, 'diff': 9.0,
                'cost/in1': 9.0, 'cost': 1.0,
            },
        },
        'x * x at x = -1.5': {
            'exact': {'x': -3.0, 'y': 1.0},
            'traversal_not_reversed': {'x': -3.0, 'y': 1.0},
            'assigned_not_accumulated': {'x': -1.5, 'y': 1.0},
            'no_visited_set': {'x': -3.0, 'y': 1.0},
            'output_not_seeded': {'x': 0.0, 'y': 0.0},
            'aliased_gradient': {'x': -3.0, 'y': 1.0},
            'shared_zero_array': {'x': -3.0, 'y': 1.0},
            'value_passed_as_gradient': {'x': -6.75, 'y': 1.0},
        },
        'shared subexpressions': {
            'exact': {
                'a': -48.2069091796875, 'b': 89.2056884765625, 's': 59.470458984375,
                't': 18.4716796875, 'u': -19.2216796875, 'v': -2.25, 'q': -2.25, 'J': 1.0,
            },
            'traversal_not_reversed': {
                'a': 0.0, 'b': 0.0, 's': 0.0, 't': 4.055419921875, 'u': 0.0, 'v': 0.0, 'q': -2.25,
                'J': 1.0,
            },
            'assigned_not_accumulated': {
                'a': -7.2081298828125, 'b': 21.6243896484375, 's': 14.416259765625,
                't': 14.416259765625, 'u': -19.2216796875, 'v': -2.25, 'q': -2.25, 'J': 1.0,
            },
            'no_visited_set': {
                'a': -79.74755859375, 'b': 171.661376953125, 's': 63.52587890625,
                't': 18.4716796875, 'u': -19.2216796875, 'v': -2.25, 'q': -2.25, 'J': 1.0,
            },
            'output_not_seeded': {
                'a': 0.0, 'b': 0.0, 's': 0.0, 't': 0.0, 'u': 0.0, 'v': 0.0, 'q': 0.0, 'J': 0.0,
            },
            'aliased_gradient': {
                'a': -48.2069091796875, 'b': 89.2056884765625, 's': 59.470458984375,
                't': 18.4716796875, 'u': -19.2216796875, 'v': -2.25, 'q': -2.25, 'J': 1.0,
            },
            'shared_zero_array': {
                'a': -275.66505432128906, 'b': -275.66505432128906, 's': -275.66505432128906,
                't': -275.66505432128906, 'u': -275.66505432128906, 'v': -275.66505432128906,
                'q': -275.66505432128906, 'J': 1.0,
            },
            'value_passed_as_gradient': {
                'a': 2.625, 'b': -1.125, 's': -1.991455078125, 't': -38.27009417116642,
                'u': 41.052552223205566, 'v': 4.055419921875, 'q': 20.530563354492188, 'J': 1.0,
            },
        },
        'a + a * b': {
            'exact': {'a': -1.0, 'b': 1.5, 'm': 1.0, 'J': 1.0},
            'traversal_not_reversed': {'a': 1.0, 'b': 0.0, 'm': 1.0, 'J': 1.0},
            'assigned_not_accumulated': {'a': -2.0, 'b': 1.5, 'm': 1.0, 'J': 1.0},
            'no_visited_set': {'a': -1.0, 'b': 1.5, 'm': 1.0, 'J': 1.0},
            'output_not_seeded': {'a': 0.0, 'b': 0.0, 'm': 0.0, 'J': 0.0},
            'aliased_gradient': {'a': -1.0, 'b': 1.5, 'm': -1.0, 'J': -1.0},
            'shared_zero_array': {'a': 1.0, 'b': 1.0, 'm': 1.0, 'J': 1.0},
            'value_passed_as_gradient': {'a': 4.5, 'b': -4.5, 'm': -1.5, 'J': 1.0},
        },
    },
    'reset': {
        'a + a * b': {'a': 2.2, 'b': 0.7, 'm': 1.0, 'J': 1.0},
        'shared subexpressions': {
            'a': 0.33827693168639994, 'b': 0.6911230962943999, 's': 0.9873187089919999,
            't': 0.846505519104, 'u': 0.005808499200000001, 'v': 0.14, 'q': 0.14, 'J': 1.0,
        },
    },
}
# -- end of generated values -----------------------------------------------------------------


# -- diagnoses (shared with the grader) ---------------------------------------

def _recursion_problem(description, who):
    if depth(description) > 500:
        return HINTS["recursive_order"]
    return (f"{who} reached Python's recursion limit on a graph only {depth(description)} "
            "operations deep: a recursion that does not stop (at leaves, at visited nodes)")


def _needed(inputs, output):
    """The names of the nodes `output` depends on, itself included."""
    needed, stack = set(), [output]
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(inputs[name])
    return needed


def order_problem(names, description):
    """What is wrong with `names`, the node names topological_order(output) gave, or None."""
    if names == RECURSION_LIMIT:
        return _recursion_problem(description, "topological_order")
    listed, inputs, output = structure(description)
    if names is None:
        return "topological_order returned None: return the list of nodes"
    if isinstance(names, str):
        return f"topological_order should return a list of nodes, not a {names.strip('<>')}"
    for name in names:
        if name not in inputs:
            return (f"the list holds {name}, which is not a node of the graph: return the "
                    "Node objects themselves")
    needed = _needed(inputs, output)
    counts = Counter(names)
    for name in listed:
        if counts[name] > 1:
            return f"node {name!r} appears {counts[name]} times: {HINTS['no_visited_set']}"
        if counts[name] == 0 and name in needed:
            return f"node {name!r}, which the output depends on, is missing from the order"
    extra = [n for n in names if n not in needed]
    if extra:
        return f"node {extra[0]!r} is listed, but the output does not depend on it"
    position = {name: i for i, name in enumerate(names)}
    for name in names:
        for parent in inputs[name]:
            if position[parent] > position[name]:
                return (f"node {name!r} comes before its input {parent!r}: append a node only "
                        "after all of its inputs (post-order)")
    if names[-1] != output:
        return f"the output {output!r} should come last"
    return None


def _close(actual, expected, rtol):
    return describe_mismatch(actual, expected, name="x", rtol=rtol) is None


def gradient_contract(actual, expected, *, name):
    """None if a gradient has the container of `expected` (an array of the node's shape;
    for a node of shape () a float too), else the sentence of `contract_problem`."""
    expected = np.asarray(expected, dtype=np.float64)
    if isinstance(actual, np.ndarray):
        return contract_problem(actual, expected if expected.ndim else np.zeros(1), name=name)
    return contract_problem(actual, 0.0 if expected.ndim == 0 else expected, name=name)


def _nan_only_where(got, want, where, rtol):
    """Whether `got` is nan exactly where `where` holds (and `want` is finite) and right
    elsewhere."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    where = np.broadcast_to(where, want.shape)
    return (got.shape == want.shape and bool(np.any(where)) and bool(np.all(np.isfinite(want)))
            and np.array_equal(np.isnan(got), where)
            and _close(got[~where], want[~where], rtol))


def local_rule_problem(op, result, expected, *, upstream, inputs, exponent=None, rtol=RTOL,
                       atol=1e-12):
    """What is wrong with local_gradients' `result` for one `op` node, or None.

    `expected` are the right gradients (one per input), `inputs` the input values.
    """
    if result is None:
        return "local_gradients returned None: return a list with one gradient per input"
    if isinstance(result, np.ndarray):
        return ("local_gradients returned an array, not a list: return one gradient per "
                "input in a list, e.g. `[grad]` for pow")
    if not isinstance(result, (list, tuple)):
        return f"local_gradients should return a list, not {type(result).__name__}"
    if len(result) != len(expected):
        return (f"a {op} node has {len(expected)} input(s), so local_gradients should return "
                f"{len(expected)} gradient(s), not {len(result)}")
    for k, (got, want) in enumerate(zip(result, expected, strict=True)):
        name = f"the gradient for input {k}"
        if isinstance(got, str):
            return f"{name} is {got}, not a number or an array"
        problem = gradient_contract(got, want, name=name)
        if problem:
            return f"{op}: {problem}"
        problem = describe_mismatch(got, want, name=name, rtol=rtol, atol=atol)
        if problem is None:
            continue
        g, want = np.asarray(upstream, dtype=np.float64), np.asarray(want, dtype=np.float64)
        if "shape" in problem:
            return f"{op}: {problem}; each gradient has the shape of its input"
        if op == "pow":
            a = np.asarray(inputs[0], dtype=np.float64)
            if _nan_only_where(got, want, a == 0, rtol):
                return HINTS["pow_nan_at_zero"]
            if _nan_only_where(got, want, a < 0, rtol):
                return HINTS["pow_nan_for_negative_base"]
        if np.all(g != 0) and _close(got, want / g, rtol):
            return f"{op}: {name} {HINTS['missing_upstream']}"
        if op == "sub" and k == 1 and _close(got, -want, rtol):
            return HINTS["sub_rule_gives_plus_one_to_b"]
        if op == "mul" and len(result) == 2 and _close(result[0], expected[1], rtol) \
                and _close(result[1], expected[0], rtol):
            return HINTS["mul_rule_swapped"]
        if op == "pow":
            if _close(got, want * a, rtol):
                return HINTS["pow_rule_exponent_not_lowered"]
            if _close(got, want / exponent, rtol):
                return HINTS["pow_rule_factor_missing"]
            if exponent != 2 and _close(got, g * 2 * a, rtol):
                return HINTS["pow_rule_assumes_square"]
        return f"{op}: {problem}"
    return None


def _as_array(value):
    return None if value is None or isinstance(value, str) else np.asarray(value, np.float64)


def _unreadable(grads, expected, names):
    """What keeps `grads` from being compared with `expected` on `names`: not a dict, a
    gradient that is None or not numbers, or of the wrong container (float32, ...)."""
    if not isinstance(grads, dict):
        return f"the gradients could not be read ({type(grads).__name__})"
    for name in names:
        value = grads.get(name)
        if value is None:
            return (f"{name}.grad is None: backward must set the gradient of every node of "
                    "the graph")
        if isinstance(value, str):
            return f"{name}.grad is {value}, not a number or an array"
        problem = gradient_contract(value, expected[name], name=f"{name}.grad")
        if problem:
            return problem
    return None


def gradient_problem(grads, expected, description, *, numeric=None, rtol=RTOL):
    """What is wrong with `grads` ({name: node.grad} after backward), or None.

    Walks the graph from the output back and diagnoses the first node whose gradient
    is wrong although every node that uses it has the right one, then compares the
    leaves with `numeric` (optional), their centred-difference gradients.
    """
    listed, inputs, output = structure(description)
    needed = _needed(inputs, output)
    listed = [name for name in listed if name in needed]  # what backward must set
    problem = _unreadable(grads, expected, listed)
    if problem:
        return problem
    if all(np.all(_as_array(grads[n]) == 0) for n in listed) and \
            any(np.any(np.asarray(expected[n]) != 0) for n in listed):
        return HINTS["output_not_seeded"]
    users = {name: [] for name in listed}
    for user in listed:
        for parent in inputs[user]:
            users[parent].append(user)
    for name in reversed(listed):
        got, want = _as_array(grads[name]), np.asarray(expected[name], dtype=np.float64)
        problem = describe_mismatch(got, want, name=f"{name}.grad", rtol=rtol)
        if problem is None:
            continue
        if name == output or "shape" in problem:
            extra = " (dJ/dJ = 1: seed the output with 1)" if name == output else ""
            return f"{problem}{extra}"
        who = ", ".join(dict.fromkeys(users[name]))
        if np.all(got == 0):
            return (f"{name}.grad is 0 although the node(s) using it ({who}) have the right "
                    f"gradient: they passed their gradient on before it was complete. Walk "
                    "the nodes in reversed topological order, output first")
        if len(users[name]) >= 2:
            ops = " and ".join(sorted({_op_of(description, u) for u in users[name]}))
            return (f"{name} is used {len(users[name])} times ({who}), so its gradient is the "
                    f"sum of {len(users[name])} contributions, and it is wrong ({problem}): "
                    f"check the local rules of {ops}")
        return (f"the gradient that {who} passes to {name} is wrong ({problem}): check the "
                f"local rule of the '{_op_of(description, who)}' operation")
    for name, value in (numeric or {}).items():
        if name not in needed:
            continue
        problem = describe_mismatch(_as_array(grads[name]), value, name=f"{name}.grad",
                                    rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL)
        if problem:
            return (f"against the numerical gradient of the graph (centred differences): "
                    f"{problem}")
    return None


def _op_of(description, name):
    nodes, _, _ = build(description)
    return nodes[name].op


def _same_gradients(grads, variant, rtol=RTOL):
    """Whether `grads` equal a mistaken variant's gradients on every node (nan where it is)."""
    for name, want in variant.items():
        got, want = _as_array(grads.get(name)), _as_array(want)
        if got is None or want is None or got.shape != want.shape or not np.allclose(
                got, want, rtol=rtol, atol=1e-12, equal_nan=True):
            return False
    return True


def backward_problem(result, expected, variants, description, *, rtol=RTOL):
    """What is wrong with what the `gradients` driver returned, or None.

    `variants` maps a mistake id to the gradients that mistake gives on this graph (None
    where it cannot run): a wrong result equal to one of them gets that mistake's hint.
    """
    if result == RECURSION_LIMIT:
        return _recursion_problem(description, "backward")
    grads = result["grads"]
    problem = gradient_problem(grads, expected, description, numeric=result["numeric"],
                               rtol=rtol)
    if problem is None or _unreadable(grads, expected, list(expected)):
        return problem
    for mistake, variant in variants.items():
        if variant is not None and _same_gradients(grads, variant, rtol):
            return HINTS[mistake]
    return problem


def reset_problem(result, first_expected, second_expected, description, rtol=RTOL):
    """What is wrong with two backward passes on one graph, or None.

    `result` is what `repeated_gradients` returned; `first_expected` and
    `second_expected` are the exact gradients ({name: value}, every node) at the
    first and at the new values, computed by whoever judges (not by the student's
    code): a backward pass that sets no gradient at all fails the first comparison.
    """
    first, second = result["first"], result["second"]
    problem = gradient_problem(first, first_expected, description, rtol=rtol)
    if problem:
        return (f"{HINTS['first_pass_wrong']} ({problem}): make test_backward pass first")
    if not isinstance(second, dict):
        return f"the gradients could not be read ({type(second).__name__})"
    for name, want in reversed(second_expected.items()):  # from the output back
        got = second.get(name)
        if describe_mismatch(_as_array(got), want, name=name, rtol=rtol) is None:
            continue
        earlier = _as_array(first.get(name))
        if earlier is not None and _close(_as_array(got), earlier + want, rtol):
            return f"{name}.grad: {HINTS['gradients_never_reset']}"
        fresh = result.get("fresh")
        if isinstance(fresh, dict) and _same_gradients({name: got}, {name: fresh.get(name)}):
            return (f"{name}.grad is wrong at the new values of the variables, on a fresh graph "
                    "as well as on a second pass: make test_backward pass first")
        return (f"{name}.grad of a second backward pass on the graph (after its variables "
                "changed) is not the gradient at the new values: backward must not depend on "
                "what an earlier call left in .grad (reset every node's grad to 0 first)")
    return None


def training_problem(result, expected, steps, *, show_values, rtol=RTOL):
    """What is wrong with train()'s `result` against `expected` (same layout), or None."""
    for name, want_values in expected["variables"].items():
        got_values = result["variables"].get(name)
        if not isinstance(got_values, list) or len(got_values) != len(want_values):
            return f"the values of {name} could not be read from the training run"
        for k, got, want in zip(steps, got_values, want_values, strict=True):
            if describe_mismatch(got, want, name=name, rtol=rtol, atol=1e-12) is None:
                continue
            said = f" (expected {want!r}, got {got!r})" if show_values else ""
            if k == 0:
                return f"{name} before any step should be its initial value{said}"
            first_ok = 1 in steps and describe_mismatch(
                got_values[steps.index(1)], want_values[steps.index(1)], name=name,
                rtol=rtol) is None
            if k > 1 and first_ok:
                return (f"{name} is right after one step but wrong after {k}{said}: either "
                        "each step adds to the gradients of the previous ones (gradient "
                        "descent then overshoots and oscillates: reset every node's grad at "
                        "the start of backward), or the gradient is wrong away from the "
                        "starting point (see test_backward)")
            return (f"{name} after {k} step(s) is wrong{said}: the gradient of the cost is "
                    "wrong; make test_backward pass first")
    return None


# -- the visible checks ---------------------------------------------------------

def _raise_if(problem, context):
    if problem:
        raise CheckFailed(f"{context}: {problem}")


@guards_arguments
def check_topological_order(topological_order):
    """Each node once, after its inputs, output last, on graphs with shared nodes and on a
    chain 3000 operations deep."""
    for label, description in ORDER_GRAPHS.items():
        names = topological_names(topological_order, description)
        _raise_if(order_problem(names, description), label)
    print(f"topological_order: right on {len(ORDER_GRAPHS)} graphs, shared nodes listed once, "
          "3000 operations deep.")


def _rule_numeric(description, upstream):
    """Centred-difference gradient of sum(upstream * out) for each constant input."""
    _, output, _ = build(description)
    numeric = []
    for node in output.inputs:
        def f(X, name=node.name):
            changed = copy.deepcopy(description)
            for spec in changed["nodes"]:
                if spec[1] == name:
                    spec[2] = X
            _, out2, _ = build(changed)
            return float(np.sum(np.asarray(upstream) * Session().forward(out2)[out2]))
        numeric.append(numerical_gradient(f, np.array(node.value)))
    return numeric


def _check_rules(local_gradients, ops):
    for op in ops:
        for (a, b, upstream), exact in zip(RULE_INPUTS[op], VISIBLE_VALUES["rules"][op],
                                           strict=True):
            description = rule_graph(op, a, b)
            label = (f"a**{b} at a = {a}" if op == "pow" else f"{op} of a = {a}, b = {b}")
            label += f", upstream {upstream}"
            result = local_rule(local_gradients, description, upstream)
            inputs = [a] if op == "pow" else [a, b]
            exact = [np.asarray(e, dtype=np.float64) for e in exact]
            _raise_if(local_rule_problem(op, result, exact, upstream=upstream, inputs=inputs,
                                         exponent=b), label)
            _raise_if(local_rule_problem(op, result, _rule_numeric(description, upstream),
                                         upstream=upstream, inputs=inputs, exponent=b,
                                         rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL),
                      f"{label}, against the numerical derivative")


@guards_arguments
def check_local_gradients_add_sub(local_gradients):
    """The rules of a + b and a - b on numbers and arrays."""
    _check_rules(local_gradients, ["add", "sub"])
    print("local_gradients: add and sub match the numerical derivatives and the exact values.")


@guards_arguments
def check_local_gradients_mul(local_gradients):
    """The rule of a * b on numbers and arrays."""
    _check_rules(local_gradients, ["mul"])
    print("local_gradients: mul matches the numerical derivatives and the exact values.")


@guards_arguments
def check_local_gradients_pow(local_gradients):
    """The rule of a ** p for p = 3, 2, 0.5 and -1, at a = 0 too."""
    _check_rules(local_gradients, ["pow"])
    print("local_gradients: pow matches the numerical derivatives and the exact values.")


def _variants(label):
    return {m: v for m, v in VISIBLE_VALUES["graphs"][label].items() if m != "exact"}


@guards_arguments
def check_backward(backward, topological_order=None):
    """Every node's gradient on graphs with shared nodes, against exact values (naming each
    known mistake) and against the numerical gradient (a placeholder, arrays, 3000 deep).

    `topological_order` is accepted for notebooks that pass it; backward uses its own.
    """
    for label, description in VISIBLE_GRAPHS.items():
        _raise_if(backward_problem(gradients(backward, description),
                                   VISIBLE_VALUES["graphs"][label]["exact"], _variants(label),
                                   description), label)
    for label, description in NUMERIC_GRAPHS.items():
        result = gradients(backward, description)
        if result == RECURSION_LIMIT:
            _raise_if(_recursion_problem(description, "backward"), label)
        for name, numeric in result["numeric"].items():
            grad = result["grads"][name]
            problem = (f"{name}.grad is {grad}, not a number or an array"
                       if grad is None or isinstance(grad, str)
                       else gradient_contract(grad, numeric, name=f"{name}.grad")
                       or describe_mismatch(_as_array(grad), numeric, name=f"{name}.grad",
                                            rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL))
            _raise_if(problem, f"{label}, against the numerical gradient")
    print(f"backward: every node's gradient is right on {len(VISIBLE_GRAPHS) + len(NUMERIC_GRAPHS)}"
          " graphs (shared nodes, a placeholder, arrays, 3000 operations deep).")


@guards_arguments
def check_backward_reset(backward):
    """A second backward pass on the same graph gives the gradients at the new values."""
    for label in RESET_GRAPHS:
        description = VISIBLE_GRAPHS[label]
        result = repeated_gradients(backward, description, RESET_VALUES)
        _raise_if(reset_problem(result, VISIBLE_VALUES["graphs"][label]["exact"],
                                VISIBLE_VALUES["reset"][label], description),
                  f"two backward passes on one graph ({label})")
    print("backward: a second pass on the same graph starts from zero.")


@guards_arguments
def check_backward_lecture(backward):
    """The lecture's w after 0, 1 and 1000 steps, with constants and with a placeholder."""
    expected = {"variables": {"w": list(LECTURE_W)}}
    for label, description in {"constants": lecture_cost(),
                               "placeholder": lecture_placeholder_cost()}.items():
        result = train(backward, description, 0.01, LECTURE_STEPS)
        _raise_if(training_problem(result, expected, LECTURE_STEPS, show_values=True),
                  f"the lecture's example ({label})")
    print("backward: w = 0.0, 0.1, 4.999999991585162 after 0, 1, 1000 steps, as in the "
          "lecture.")
