"""Visible checks of 05_minimal_framework, and the diagnoses the grader shares.

Graphs are given as plain descriptions (see `course_lib.graph.drivers`), built
with the framework in the student's kernel. Each `check_*` runs the student's
function on a few of them, compares with the numerical gradient of the same
graph and with exact values, and raises `CheckFailed` with a sentence naming
the mistake; otherwise it prints what it verified. The `*_problem` functions
name a mistake from results alone; the grader's judges call them too.
"""

import copy

import numpy as np

from course_lib.checking import CheckFailed, describe_mismatch
from course_lib.gradcheck import numerical_gradient
from course_lib.graph.core import Session
from course_lib.graph.drivers import (
    build,
    gradients,
    local_rule,
    repeated_gradients,
    topological_names,
    train,
)

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


def shared_graph(a=1.5, b=-0.5):
    """s = a*b is used three times, a twice: J = ((s - a) * s)**3 + s) * (s - a)."""
    return {"nodes": [["variable", "a", a], ["variable", "b", b], ["mul", "s", "a", "b"],
                      ["sub", "t", "s", "a"], ["mul", "u", "t", "s"], ["pow", "v", "u", 3],
                      ["add", "q", "v", "s"], ["mul", "J", "q", "t"]],
            "output": "J"}


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


# -- exact values of the visible cases ----------------------------------------

EXACT_GRADIENTS = {
    "lecture cost at w = 2": {
        "w": -6.0, "w2": 1.0, "tenw/in0": -2.0, "tenw": -1.0, "diff": 1.0, "cost/in1": 1.0,
        "cost": 1.0},
    "x * x at x = -1.5": {"x": -3.0, "y": 1.0},
    "shared subexpressions": {
        "a": -48.2069091796875, "b": 89.2056884765625, "s": 59.470458984375,
        "t": 18.4716796875, "u": -19.2216796875, "v": -2.25, "q": -2.25, "J": 1.0},
}
"""dJ/d(node) of the visible graphs of `check_backward`, for every node."""


def _visible_graphs():
    return {"lecture cost at w = 2": lecture_cost(2.0),
            "x * x at x = -1.5": square(-1.5),
            "shared subexpressions": shared_graph()}


# -- diagnoses (shared with the grader) ---------------------------------------

def order_problem(names, description):
    """What is wrong with `names`, the node names topological_order(output) gave, or None."""
    listed, inputs, output = structure(description)
    if names is None:
        return "topological_order returned None: return the list of nodes"
    if not isinstance(names, list):
        return f"topological_order should return a list of nodes, not {type(names).__name__}"
    for name in names:
        if name not in inputs:
            return (f"the list holds {name}, which is not a node of the graph: return the "
                    "Node objects themselves")
    needed, stack = set(), [output]
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(inputs[name])
    for name in listed:
        count = names.count(name)
        if count > 1:
            return (f"node {name!r} appears {count} times: a node reached along several paths "
                    "must be listed once (keep a set of visited nodes)")
        if count == 0 and name in needed:
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


def local_rule_problem(op, result, expected, *, upstream, inputs, exponent=None, rtol=1e-9):
    """What is wrong with local_gradients' `result` for one `op` node, or None.

    `expected` are the right gradients (one per input), `inputs` the input values.
    """
    if result is None:
        return "local_gradients returned None: return a list with one gradient per input"
    if not isinstance(result, (list, tuple)):
        return f"local_gradients should return a list, not {type(result).__name__}"
    if len(result) != len(expected):
        return (f"a {op} node has {len(expected)} input(s), so local_gradients should return "
                f"{len(expected)} gradient(s), not {len(result)}")
    for k, (got, want) in enumerate(zip(result, expected, strict=True)):
        if isinstance(got, str):
            return f"the gradient for input {k} is {got}, not a number or an array"
        problem = describe_mismatch(got, want, name=f"the gradient for input {k}", rtol=rtol)
        if problem is None:
            continue
        g = np.asarray(upstream, dtype=np.float64)
        if "shape" in problem:
            return f"{op}: {problem}; each gradient has the shape of its input"
        if np.all(g != 0) and _close(got, np.asarray(want) / g, rtol):
            return (f"{op}: the gradient for input {k} misses the factor upstream: by the chain "
                    "rule, multiply the local derivative by upstream = dJ/d(node)")
        if op == "sub" and k == 1 and _close(got, -np.asarray(want), rtol):
            return ("sub: for a - b, b gets -upstream (J decreases when b grows), "
                    "but you gave it +upstream")
        if op == "mul" and len(result) == 2 and _close(result[0], expected[1], rtol) \
                and _close(result[1], expected[0], rtol):
            return ("mul: the gradients of a and b are swapped: d(a*b)/da is b, so a gets "
                    "upstream times the value of the *other* input")
        if op == "pow":
            a = np.asarray(inputs[0], dtype=np.float64)
            if _close(got, np.asarray(want) * a, rtol):
                return "pow: the exponent drops by one: d(a**p)/da = p * a**(p - 1), not p * a**p"
            if _close(got, np.asarray(want) / exponent, rtol):
                return "pow: the factor p is missing: d(a**p)/da = p * a**(p - 1)"
            if exponent != 2 and _close(got, g * 2 * a, rtol):
                return (f"pow: this node computes a**{exponent:g}, not a**2: use node.exponent "
                        "instead of assuming a square")
        return f"{op}: {problem}"
    return None


def _as_array(value):
    return None if value is None or isinstance(value, str) else np.asarray(value, np.float64)


def gradient_problem(grads, expected, description, *, numeric=None, rtol=1e-9,
                     numeric_rtol=1e-5):
    """What is wrong with `grads` ({name: node.grad} after backward), or None.

    Walks the graph from the output back and diagnoses the first node whose gradient
    is wrong although every node that uses it has the right one, then compares the
    leaves with `numeric` (optional), their centred-difference gradients.
    """
    listed, inputs, output = structure(description)
    if not isinstance(grads, dict):
        return f"the gradients could not be read ({type(grads).__name__})"
    for name in listed:
        value = grads.get(name)
        if value is None:
            return (f"{name}.grad is None: backward must set the gradient of every node of "
                    "the graph")
        if isinstance(value, str):
            return f"{name}.grad is {value}, not a number or an array"
    if all(np.all(_as_array(grads[n]) == 0) for n in listed) and \
            any(np.any(np.asarray(expected[n]) != 0) for n in listed):
        return ("every gradient is 0, the output's too: seed the output with cost.grad = 1 "
                "(dJ/dJ = 1) after resetting the others to 0, and leave each gradient in "
                "node.grad")
    users = {name: [user for user in listed for p in inputs[user] if p == name]
             for name in listed}
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
                    "accumulate each contribution with `+=` (not `=`), and check the local "
                    f"rules of {ops}")
        return (f"the gradient that {who} passes to {name} is wrong ({problem}): check the "
                f"local rule of the '{_op_of(description, who)}' operation")
    for name, value in (numeric or {}).items():
        problem = describe_mismatch(_as_array(grads[name]), value, name=f"{name}.grad",
                                    rtol=numeric_rtol, atol=1e-7)
        if problem:
            return (f"against the numerical gradient of the graph (centred differences): "
                    f"{problem}")
    return None


def _op_of(description, name):
    nodes, _, _ = build(description)
    return nodes[name].op


def reset_problem(result, first_expected, second_expected, description, rtol=1e-9):
    """What is wrong with two backward passes on one graph, or None.

    `result` is what `repeated_gradients` returned; `first_expected` and
    `second_expected` are the exact gradients ({name: value}, every node) at the
    first and at the new values, computed by whoever judges (not by the student's
    code): a backward pass that sets no gradient at all fails the first comparison.
    """
    first, second = result["first"], result["second"]
    problem = gradient_problem(first, first_expected, description, rtol=rtol)
    if problem:
        return (f"the first backward pass on the graph is already wrong ({problem}): make "
                "test_backward pass first")
    if not isinstance(second, dict):
        return f"the gradients could not be read ({type(second).__name__})"
    for name, want in reversed(second_expected.items()):  # from the output back
        got = second.get(name)
        if describe_mismatch(_as_array(got), want, name=name, rtol=rtol) is None:
            continue
        earlier = _as_array(first.get(name))
        if earlier is not None and _close(_as_array(got), earlier + want, rtol):
            return (f"{name}.grad of the second backward pass is the sum of both passes: the "
                    "gradients left by the previous step are never reset. Set every node's "
                    "grad to 0 at the start of backward")
        return (f"{name}.grad of a second backward pass on the graph (after its variables "
                "changed) is not the gradient at the new values: backward must not depend on "
                "what an earlier call left in .grad (reset every node's grad to 0 first)")
    return None


def training_problem(result, expected, steps, *, show_values, rtol=1e-9):
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


ORDER_GRAPHS = {
    "a single variable": {"nodes": [["variable", "w", 1.0]], "output": "w"},
    "x * x": square(2.0),
    "the lecture's cost": lecture_cost(),
    "the lecture's cost with a placeholder": lecture_placeholder_cost(),
    "shared subexpressions": shared_graph(),
    "a deep chain": deep_chain(depth=5),
}


def check_topological_order(topological_order):
    """Each node once, after its inputs, output last, on graphs with shared nodes."""
    for label, description in ORDER_GRAPHS.items():
        names = topological_names(topological_order, description)
        _raise_if(order_problem(names, description), label)
    print(f"topological_order: right on {len(ORDER_GRAPHS)} graphs, shared nodes listed once.")


RULE_CASES = {
    "add": [(2.0, -3.0, 0.5, [0.5, 0.5]),
            ([[1.0, 2.0]], [[0.5, -1.0]], [[1.0, -2.0]], [[[1.0, -2.0]], [[1.0, -2.0]]])],
    "sub": [(2.0, -3.0, 0.5, [0.5, -0.5]),
            ([[1.0, 2.0]], [[0.5, -1.0]], [[1.0, -2.0]], [[[1.0, -2.0]], [[-1.0, 2.0]]])],
    "mul": [(2.0, -3.0, 0.5, [-1.5, 1.0]),
            ([[1.0, 2.0]], [[0.5, -1.0]], [[1.0, -2.0]], [[[0.5, 2.0]], [[1.0, -4.0]]])],
    "pow": [(1.5, 3, 0.5, [3.375]), ([[0.5, 2.0]], 2, [[1.0, -1.0]], [[[1.0, -4.0]]]),
            (4.0, 0.5, 2.0, [0.5]), (2.0, -1, 1.0, [-0.25])],
}
"""(a, b or the exponent, upstream, the exact gradients) for each operation."""


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
        for a, b, upstream, exact in RULE_CASES[op]:
            if op == "pow":
                description, label = operation(op, a, exponent=b), f"a**{b} at a = {a}"
            else:
                description, label = operation(op, a, b), f"{op} of a = {a}, b = {b}"
            label += f", upstream {upstream}"
            result = local_rule(local_gradients, description, upstream)
            inputs = [a] if op == "pow" else [a, b]
            numeric = _rule_numeric(description, upstream)
            _raise_if(local_rule_problem(op, result, numeric, upstream=upstream, inputs=inputs,
                                         exponent=b, rtol=1e-6),
                      f"{label}, against the numerical derivative")
            _raise_if(local_rule_problem(op, result, [np.asarray(e) for e in exact],
                                         upstream=upstream, inputs=inputs, exponent=b),
                      f"{label}, against the exact values")


def check_local_gradients_add_sub(local_gradients):
    """The rules of a + b and a - b on numbers and arrays."""
    _check_rules(local_gradients, ["add", "sub"])
    print("local_gradients: add and sub match the numerical derivatives and the exact values.")


def check_local_gradients_mul(local_gradients):
    """The rule of a * b on numbers and arrays."""
    _check_rules(local_gradients, ["mul"])
    print("local_gradients: mul matches the numerical derivatives and the exact values.")


def check_local_gradients_pow(local_gradients):
    """The rule of a ** p for p = 3, 2, 0.5 and -1."""
    _check_rules(local_gradients, ["pow"])
    print("local_gradients: pow matches the numerical derivatives and the exact values.")


def check_backward(backward, topological_order):
    """Every node's gradient on graphs with shared nodes, against numerical and exact values.

    backward relies on topological_order, so that is checked first.
    """
    for label, description in ORDER_GRAPHS.items():
        names = topological_names(topological_order, description)
        _raise_if(order_problem(names, description),
                  f"backward walks the order of topological_order, which is wrong on {label}")
    for label, description in _visible_graphs().items():
        result = gradients(backward, description)
        _raise_if(gradient_problem(result["grads"], EXACT_GRADIENTS[label], description,
                                   numeric=result["numeric"]), label)
    for label, description in {"the lecture's cost with a placeholder at w = 3":
                               lecture_placeholder_cost(3.0),
                               "a deep chain (depth 12)": deep_chain(0.3, 6),
                               "arrays of shape (2, 3)": array_graph(
                                   [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]],
                                   [[1.0, 2.0, -0.5], [0.2, -1.2, 0.8]])}.items():
        result = gradients(backward, description)
        for name, numeric in result["numeric"].items():
            problem = describe_mismatch(_as_array(result["grads"][name]), numeric,
                                        name=f"{name}.grad", rtol=1e-5, atol=1e-7)
            _raise_if(problem, f"{label}, against the numerical gradient")
    print("backward: every node's gradient is right on 6 graphs (shared nodes, depth 12, "
          "arrays, a placeholder).")


RESET_VALUES = {"a": 0.7, "b": 1.2}
RESET_GRADIENTS = {
    "a": 0.33827693168639994, "b": 0.6911230962943999, "s": 0.9873187089919999,
    "t": 0.846505519104, "u": 0.005808499200000001, "v": 0.14, "q": 0.14, "J": 1.0}
"""dJ/d(node) of shared_graph(0.7, 1.2), for every node."""


def check_backward_reset(backward):
    """A second backward pass on the same graph gives the gradients at the new values."""
    result = repeated_gradients(backward, shared_graph(), RESET_VALUES)
    _raise_if(reset_problem(result, EXACT_GRADIENTS["shared subexpressions"], RESET_GRADIENTS,
                            shared_graph()), "two backward passes on one graph")
    print("backward: a second pass on the same graph starts from zero.")


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

