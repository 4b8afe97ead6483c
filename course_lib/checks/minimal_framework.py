"""Declarations of 05_minimal_framework's graded cells (see `course_lib.exercise`).

Graphs of nodes cannot cross to a kernel, so a call is a plain description of a graph and
a driver of `course_lib.graph.drivers` builds it, runs the student's function on it and
returns plain data (`GraphExercise`). A result equal to a mistake's result gets its hint;
otherwise the cell's diagnosis says what is wrong, or None when it is right (a
topological order is right when it is valid, whichever valid order it is).

RTOL: the graphs are small and their operations few, so any right backward pass agrees
with the reference far closer than 1e-9 of a result's largest entry.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from course_lib.checking import contract_problem, describe_mismatch, scale_of, unchanged_arguments
from course_lib.exercise import Call, Exercise, call_student, declare, visible_checks
from course_lib.graph import drivers
from course_lib.graph.drivers import RECURSION_LIMIT, build

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    import numpy.typing as npt

RTOL = 1e-9
"""Relative tolerance (to a result's largest entry) of every cell, visible and graded."""

HINTS = {
    "no_visited_set": (
        "a node reached along several paths is listed (and passes its gradient on) several "
        "times: topological_order must list each node once (keep a set of visited nodes)"),
    "recursive_order": (
        "Python's recursion limit was reached on a graph thousands of nodes deep: a recursive "
        "search nests one call per node of the longest path; keep your own stack instead"),
    "missing_upstream": (
        "the local derivative misses the factor upstream: by the chain rule, multiply the "
        "local derivative by upstream = dJ/d(node)"),
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
    "matmul_inputs_swapped": (
        "matmul: for C = A @ B, A gets upstream @ B.T and B gets A.T @ upstream (the value of "
        "the *other* input, transposed); you used each input's own value"),
    "mean_not_divided": (
        "reduce_mean: each entry averaged gets upstream divided by the number of entries "
        "averaged (the mean is the sum over that count); you passed upstream undivided"),
    "sigmoid_from_input": (
        "sigmoid: the derivative is s * (1 - s) with s = sigmoid(a), the node's own value "
        "(values[node]), not the input a"),
    "traversal_not_reversed": (
        "the gradients are those of a walk from the leaves to the output: walk reversed("
        "topological_order(cost)), so that a node's gradient is complete before it is passed on"),
    "assigned_not_accumulated": (
        "a node used several times keeps only one contribution: accumulate with `+=` "
        "instead of assigning with `=`"),
    "output_not_seeded": (
        "every gradient is 0: seed the output with cost.grad = 1 (dJ/dJ = 1) after resetting "
        "the others to 0, and leave each gradient in node.grad"),
    "aliased_gradient": (
        "a node's gradient is the very array of another node: its first contribution was stored "
        "as it came (`parent.grad = grad`), so `+=` changed the other node's gradient too; "
        "start every node from its own `np.zeros(node.shape)` and always add"),
    "shared_zero_array": (
        "every node's gradient is one and the same array: the reset gave all nodes one zeros "
        "array, so `+=` adds everything into it; give each its own `np.zeros(node.shape)`"),
    "value_passed_as_gradient": (
        "the gradients are those of a backward pass that sends each node's value instead of "
        "its gradient: call local_gradients(node, node.grad, values)"),
    "gradients_never_reset": (
        "the second backward pass adds to the gradients the first one left: they are never "
        "reset; set every node's grad to 0 at the start of backward"),
}
"""Mistake id -> the one sentence both layers show when a result matches that mistake."""

# ----------------------------------------------------------------------------- graphs

LECTURE_COEFFICIENTS = [[1.0], [-10.0], [25.0]]
"""The lecture's coefficients of J(w) = w**2 - 10*w + 25, fed to the placeholder x."""

LECTURE_STEPS = (0, 1, 1000)
LECTURE_W = (0.0, 0.1, 4.999999991585162)
"""w after 0, 1 and 1000 steps at learning rate 0.01 from w = 0 (5 * (1 - 0.98**k))."""

LECTURE_W_FLOAT32 = 4.9999886
"""The same 1000 updates in float32: they stall when a step falls below half the spacing."""


def lecture_cost(w: float = 0.0) -> dict[str, Any]:
    """cost = w**2 - 10*w + 25, with constants."""
    return {"nodes": [["variable", "w", float(w)], ["pow", "w2", "w", 2],
                      ["mul", "tenw", 10.0, "w"], ["sub", "diff", "w2", "tenw"],
                      ["add", "cost", "diff", 25.0]],
            "output": "cost"}


def lecture_placeholder_cost(w: float = 0.0, coefficients: npt.ArrayLike = LECTURE_COEFFICIENTS
                             ) -> dict[str, Any]:
    """cost = x[0][0]*w**2 + x[1][0]*w + x[2][0], with x fed the coefficients."""
    nodes = [["variable", "w", float(w)], ["placeholder", "x", [3, 1]]]
    for i in range(3):
        nodes += [["getitem", f"x{i}", "x", i], ["getitem", f"x{i}0", f"x{i}", 0]]
    nodes += [["pow", "w2", "w", 2], ["mul", "a_w2", "x00", "w2"], ["mul", "b_w", "x10", "w"],
              ["add", "quad", "a_w2", "b_w"], ["add", "cost", "quad", "x20"]]
    return {"nodes": nodes, "output": "cost",
            "feed": {"x": np.array(coefficients, dtype=np.float64)}}


def square(x: float) -> dict[str, Any]:
    """y = x * x: one node used twice by the same operation."""
    return {"nodes": [["variable", "x", x], ["mul", "y", "x", "x"]], "output": "y"}


def sum_with_product(a: float = 1.5, b: float = -2.0) -> dict[str, Any]:
    """J = a + a * b: the output's gradient reaches a twice, once through the add."""
    return {"nodes": [["variable", "a", a], ["variable", "b", b], ["mul", "m", "a", "b"],
                      ["add", "J", "a", "m"]], "output": "J"}


def shared_graph(a: float = 1.5, b: float = -0.5) -> dict[str, Any]:
    """s = a*b is used three times, a twice: J = ((s - a) * s)**3 + s) * (s - a)."""
    return {"nodes": [["variable", "a", a], ["variable", "b", b], ["mul", "s", "a", "b"],
                      ["sub", "t", "s", "a"], ["mul", "u", "t", "s"], ["pow", "v", "u", 3],
                      ["add", "q", "v", "s"], ["mul", "J", "q", "t"]], "output": "J"}


def long_chain(y0: float = 1.0, w: float = 0.998, v: float = 0.001, levels: int = 1500
               ) -> dict[str, Any]:
    """y(k+1) = y(k) * w - v: 2 * levels operations deep (3000 by default, beyond Python's
    recursion limit); only the leaves' and the output's gradients are reported."""
    nodes = [["variable", "y0", y0], ["variable", "w", w], ["variable", "v", v]]
    for k in range(levels):
        nodes += [["mul", f"m{k}", f"y{k}", "w"], ["sub", f"y{k + 1}", f"m{k}", "v"]]
    return {"nodes": nodes, "output": f"y{levels}", "report": ["y0", "w", "v", f"y{levels}"]}


def deep_chain(w: float = 0.3, depth: int = 6) -> dict[str, Any]:
    """y0 = w, y(k+1) = y(k) * y(k) - y(k): each y(k) used three times, depth 2 * depth."""
    nodes = [["variable", "y0", w]]
    for k in range(depth):
        nodes += [["mul", f"sq{k}", f"y{k}", f"y{k}"], ["sub", f"y{k + 1}", f"sq{k}", f"y{k}"]]
    return {"nodes": nodes, "output": f"y{depth}"}


def array_graph(A: npt.ArrayLike, B: npt.ArrayLike) -> dict[str, Any]:
    """Elementwise on (2, 3) arrays, then entries picked: J = S[0][1] * S[1][2] + R[0, 0]."""
    return {"nodes": [["variable", "A", A], ["variable", "B", B], ["mul", "P", "A", "B"],
                      ["pow", "Q", "A", 2], ["sub", "R", "P", "Q"], ["add", "S", "R", "A"],
                      ["getitem", "S0", "S", 0], ["getitem", "S01", "S0", 1],
                      ["getitem", "S1", "S", 1], ["getitem", "S12", "S1", 2],
                      ["getitem", "R00", "R", (0, 0)], ["mul", "T", "S01", "S12"],
                      ["add", "J", "T", "R00"]], "output": "J"}


def operation(op: str, a: npt.ArrayLike, b: npt.ArrayLike | None = None) -> dict[str, Any]:
    """One operation on constants a (and b; for pow, b is the exponent; None: `a op a`)."""
    last = ["pow", "out", "a", b] if op == "pow" else [op, "out", "a", "a" if b is None else "b"]
    constants = [["constant", "a", a]] + ([] if op == "pow" or b is None
                                          else [["constant", "b", b]])
    return {"nodes": [*constants, last], "output": "out"}


def model_operation(op: str, a: npt.ArrayLike, b: npt.ArrayLike | None = None, *,
                    axis: int | None = None) -> dict[str, Any]:
    """One operation of a real model on constants: exp, log, sigmoid, relu of a, matmul of a
    and b, reduce_sum / reduce_mean of a over `axis`."""
    constants = [["constant", "a", a]] + ([] if b is None else [["constant", "b", b]])
    if op == "matmul":
        last = ["matmul", "out", "a", "b"]
    elif op in ("reduce_sum", "reduce_mean"):
        last = [op, "out", "a", axis]
    else:
        last = [op, "out", "a"]
    return {"nodes": [*constants, last], "output": "out"}


def structure(description: dict[str, Any]) -> tuple[list[str], dict[str, list[str]], str]:
    """(names in build order, which is topological; {name: input names}; output name)."""
    nodes, output, _ = build(description)
    return list(nodes), {n: [p.name for p in nodes[n].inputs] for n in nodes}, output.name


def depth(description: dict[str, Any]) -> int:
    """The number of operations on the longest path to the output."""
    listed, inputs, _ = structure(description)
    level = {}
    for name in listed:
        level[name] = 1 + max((level[p] for p in inputs[name]), default=-1)
    return max(level.values())


# ------------------------------------------------------------------ the exercise model


def same_data(actual: Any, expected: Any, rtol: float) -> bool:
    """Whether `actual` is `expected` (nested dicts, lists, names, numbers, arrays), every
    number within `rtol` of the largest entry of `expected` (nan matches nan).

    >>> same_data({"w": [1.0, "x"]}, {"w": [1.0 + 1e-12, "x"]}, 1e-9)
    True
    """
    def scale(value):
        if isinstance(value, (dict, list)):
            return max(map(scale, value.values() if isinstance(value, dict) else value),
                       default=0.0)
        return 0.0 if value is None or isinstance(value, str) else scale_of(value)

    def same(a, b, atol):
        if isinstance(b, dict):
            return isinstance(a, dict) and all(k in a and same(a[k], b[k], atol) for k in b)
        if isinstance(b, list):
            return isinstance(a, list) and len(a) == len(b) and all(
                same(x, y, atol) for x, y in zip(a, b, strict=True))
        if b is None or isinstance(b, str) or a is None or isinstance(a, (str, list, dict)):
            return isinstance(a, type(b)) and a == b
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol,
                                                       equal_nan=True))

    return same(actual, expected, max(rtol * scale(expected), 1e-300))


@dataclass
class GraphExercise(Exercise):
    """A cell whose calls go through the driver `driver` of `course_lib.graph.drivers`: a
    call's arguments are the driver's after the student's function (a graph's description),
    the result is the driver's data (for backward, what it leaves in node.grad)."""

    driver: str = ""

    def run(self, call: Call, functions: tuple[Callable, ...]) -> Any:
        through = Call(call.label, (unchanged_arguments(functions[0]), *call.args), call.kwargs)
        return call_student(getattr(drivers, self.driver), self.function, through)

    def request(self, call: Call) -> tuple[str, tuple, dict]:
        # the notebook's function, as autograder.case.global_ref does
        return (f"{drivers.__name__}:{self.driver}", ({"__global__": self.function},
                                                      *call.args), call.kwargs)

    def reference_call(self, solve: Callable, call: Call, flags: dict[str, bool]) -> Any:
        return getattr(drivers, self.driver)(functools.partial(solve, **flags), *call.args,
                                             **call.kwargs)

    def same(self, result: Any, expected: Any) -> bool:
        return same_data(result, expected, self.rtol)

    def assess(self, result: Any, expected: Any, known: dict[str, Any],
               call: Call | None = None) -> tuple[str | None, str | None]:
        for mistake, value in known.items():
            if self.same(result, value):
                return mistake, self.mistakes[mistake]
        return None, self.problem(call, result, expected)


class OrderExercise(GraphExercise):
    """Any valid order is right, so a call's value is what `order_problem` says of the
    reference's order (None: valid), not the names of the 3000-operation chain."""

    def reference_call(self, solve: Callable, call: Call, flags: dict[str, bool]) -> Any:
        return order_problem(super().reference_call(solve, call, flags), call.args[0])


# ------------------------------------------------------------------------ diagnoses


def _recursion_problem(description, who):
    if depth(description) > 500:
        return HINTS["recursive_order"]
    return (f"{who} reached Python's recursion limit on a graph only {depth(description)} "
            "operations deep: a recursion that does not stop (at leaves, at visited nodes)")


def order_problem(names: list[str] | str | None, description: dict[str, Any]) -> str | None:
    """What is wrong with `names`, the node names topological_order(output) gave, or None."""
    if names == RECURSION_LIMIT:
        return _recursion_problem(description, "topological_order")
    if names is None or isinstance(names, str):
        return f"topological_order should return a list of nodes, not {str(names).strip('<>')}"
    listed, inputs, output = structure(description)
    needed = {output}  # the nodes the output depends on (build order is topological)
    for name in reversed(listed):
        needed.update(inputs[name] if name in needed else [])
    counts, position = Counter(names), {name: i for i, name in enumerate(names)}
    for name in names:
        if name not in inputs:
            return (f"the list holds {name}, which is not a node of the graph: return the "
                    "Node objects themselves")
        if counts[name] > 1:
            return f"node {name!r} appears {counts[name]} times: {HINTS['no_visited_set']}"
        for parent in inputs[name]:
            if position.get(parent, -1) > position[name]:
                return (f"node {name!r} comes before its input {parent!r}: append a node only "
                        "after all of its inputs (post-order)")
    missing = [name for name in listed if name in needed and name not in counts]
    if missing:
        return f"node {missing[0]!r}, which the output depends on, is missing from the order"
    return None if names[-1] == output else f"the output {output!r} should come last"


def gradient_contract(actual: Any, expected: npt.ArrayLike, *, name: str) -> str | None:
    """None if a gradient is an array of the node's shape (or a float for shape ())."""
    if actual is None or isinstance(actual, str):
        return f"{name} is {actual}, not a number or an array"
    expected = np.asarray(expected, dtype=np.float64)
    if isinstance(actual, np.ndarray):
        return contract_problem(actual, expected if expected.ndim else np.zeros(1), name=name)
    return contract_problem(actual, 0.0 if expected.ndim == 0 else expected, name=name)


def local_rule_problem(op: str, result: Any, expected: Sequence[Any], *,
                       inputs: Sequence[npt.ArrayLike | None], rtol: float = RTOL) -> str | None:
    """What is wrong with local_gradients' `result` for one `op` node of `inputs`, or None."""
    if isinstance(result, np.ndarray):
        return ("local_gradients returned an array, not a list: return one gradient per input "
                "in a list, e.g. `[grad]` for pow")
    if not isinstance(result, (list, tuple)):
        return f"local_gradients should return a list, not {str(result).strip('<>')}"
    if len(result) != len(expected):
        return (f"a {op} node has {len(expected)} input(s), so local_gradients should return "
                f"{len(expected)} gradient(s), not {len(result)}")
    for k, (got, want) in enumerate(zip(result, expected, strict=True)):
        name = f"the gradient for input {k}"
        problem = gradient_contract(got, want, name=name) or describe_mismatch(
            got, want, name=name, rtol=rtol)
        if problem is None:
            continue
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        a = np.broadcast_to(np.asarray(inputs[0], dtype=np.float64), want.shape)
        for where, mistake in [(a == 0, "pow_nan_at_zero"), (a < 0, "pow_nan_for_negative_base")]:
            if op == "pow" and got.shape == want.shape and np.any(where) and np.array_equal(
                    np.isnan(got), where) and same_data(got[~where], want[~where], rtol):
                return HINTS[mistake]  # nan exactly there, right elsewhere
        return f"{op}: {problem}" + ("; each gradient has the shape of its input"
                                     if "shape" in problem else "")
    return None


def _rule_problem(call, result, expected):
    constants = {name: value for kind, name, value, *_ in call.args[0]["nodes"]
                 if kind == "constant"}
    op, _, *operands = call.args[0]["nodes"][-1]
    return local_rule_problem(op, result, expected,
                              inputs=[constants.get(n) for n in operands])


def gradient_problem(grads: Mapping[str, Any] | str, expected: Mapping[str, npt.ArrayLike],
                     description: dict[str, Any], *, rtol: float = RTOL) -> str | None:
    """What is wrong with `grads` ({name: node.grad} after backward), or None: the first
    wrong node from the output back (of those in `expected`), whose users are right."""
    if grads == RECURSION_LIMIT:
        return _recursion_problem(description, "backward")
    nodes, output, _ = build(description)
    listed = [name for name in nodes if name in expected]
    for name in listed:
        problem = gradient_contract(grads.get(name), expected[name], name=f"{name}.grad")
        if problem:
            return problem
    atol = max(rtol * max(np.max(np.abs(expected[n])) for n in listed), 1e-300)
    for name in reversed(listed):
        problem = describe_mismatch(grads[name], expected[name], name=f"{name}.grad",
                                    rtol=rtol, atol=atol)
        if problem is None:
            continue
        if nodes[name] is output or "shape" in problem:
            return problem + (" (dJ/dJ = 1: seed the output with 1)" if name == output.name
                              else "")
        users = [u for u in nodes for parent in nodes[u].inputs if parent is nodes[name]]
        who = ", ".join(list(dict.fromkeys(users))[:3]) + (", ..." if len(users) > 3 else "")
        ops = " and ".join(sorted({nodes[u].op for u in users}))
        if np.all(np.asarray(grads[name]) == 0):
            return (f"{name}.grad is 0 although the node(s) using it ({who}) have the right "
                    "gradient: they passed their gradient on before it was complete. Walk "
                    "the nodes in reversed topological order, output first")
        if len(users) >= 2:
            return (f"{name} is used {len(users)} times ({who}), so its gradient is the sum of "
                    f"{len(users)} contributions, and it is wrong ({problem}): check the local "
                    f"rules of {ops}")
        return (f"the gradient that {who} passes to {name} is wrong ({problem}): check the "
                f"local rule of the '{ops}' operation")
    return None


def reset_problem(call: Call, result: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """What is wrong with two backward passes on one graph (`repeated_gradients`), or None."""
    problem = gradient_problem(result["first"], expected["first"], call.args[0])
    if problem:
        return f"the first backward pass is already wrong ({problem}): make test_backward pass"
    if same_data(result["second"], expected["second"], RTOL):
        return None
    return ("a second backward pass (after the variables changed) does not give the gradients "
            "at the new values: reset every node's grad to 0 first")


def training_problem(call: Call, result: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """What is wrong with train()'s `result`, or None. Only the lecture's values are shown."""
    steps = list(call.args[2])
    for name, wanted in expected["variables"].items():
        for k, got, want in zip(steps, result["variables"][name], wanted, strict=True):
            if same_data(got, want, RTOL):
                continue
            said = (f" (expected {want!r}, got {got!r})" if tuple(steps) == LECTURE_STEPS
                    else "")
            if k > 1 and same_data(result["variables"][name][1], wanted[1], RTOL):
                return (f"{name} is right after one step but wrong after {k}{said}: either each "
                        "step adds to the previous gradients (reset every grad in backward), or "
                        "the gradient is wrong away from the starting point (see test_backward)")
            return (f"{name} after {k} step(s) is wrong{said}: the gradient of the cost is "
                    "wrong; make test_backward pass first")
    return None


# ---------------------------------------------------------------------- the exercises


def _hints(*ids):
    return {mistake: HINTS[mistake] for mistake in ids}


def _rule_exercise(grade_id, ops, passed, mistakes, cases):
    """local_gradients on one `op` node of constants: (a, b or the exponent, upstream) each."""
    return GraphExercise(grade_id, "local_gradients", "the gradients", passed, [
        Call.of(f"{op} of a = {a}, b = {b}, upstream {upstream}", operation(op, a, b), upstream)
        for op in ops for a, b, upstream in cases], _hints("missing_upstream", *mistakes), RTOL,
        _rule_problem, driver="local_rule")


LINEAR = [(2.0, -3.0, 0.5), ([[1.0, 2.0]], [[0.5, -1.0]], [[1.0, -2.0]])]


EXERCISES = declare(
    "05_minimal_framework",
    OrderExercise(
        "test_topological_order", "topological_order", "the order",
        "topological_order: each node once, after its inputs, output last, 3000 operations "
        "deep.",
        [Call.of("a single variable", {"nodes": [["variable", "w", 1.0]], "output": "w"}),
         Call.of("x * x", square(2.0)), Call.of("the lecture's cost", lecture_cost()),
         Call.of("the lecture's cost with a placeholder", lecture_placeholder_cost()),
         Call.of("shared subexpressions", shared_graph()), Call.of("a deep chain",
         deep_chain(depth=5)), Call.of("a chain 3000 operations deep", long_chain())],
        _hints("no_visited_set", "recursive_order"), RTOL,
        lambda call, names, expected: order_problem(names, call.args[0]),
        driver="topological_names"),
    _rule_exercise("test_local_gradients_add_sub", ("add", "sub"),
                   "local_gradients: add and sub match the reference on numbers and arrays.",
                   ["sub_rule_gives_plus_one_to_b"], LINEAR),
    _rule_exercise("test_local_gradients_mul", ("mul",),
                   "local_gradients: mul matches the reference on numbers and arrays.",
                   ["mul_rule_swapped"], LINEAR),
    _rule_exercise("test_local_gradients_pow", ("pow",),
                   "local_gradients: pow matches the reference for p = 3, 2, 0.5, -1, at 0 too.",
                   ["pow_rule_exponent_not_lowered", "pow_rule_factor_missing",
                    "pow_rule_assumes_square", "pow_nan_at_zero", "pow_nan_for_negative_base"],
                   [(1.5, 3, 0.5), ([[0.5, -2.0]], 2, [[1.0, -1.0]]), (4.0, 0.5, 2.0),
                    (2.0, -1, 1.0), ([[0.0, -1.5]], 2, [[1.0, 2.0]]), (0.0, 3, 0.5)]),
    GraphExercise(
        "test_backward", "backward", "the gradients",
        "backward: every node's gradient is right on 8 graphs (shared nodes, a placeholder, "
        "arrays, 3000 operations deep).",
        [Call.of("lecture cost at w = 2", lecture_cost(2.0)),
         Call.of("x * x at x = -1.5", square(-1.5)),
         Call.of("shared subexpressions", shared_graph()),
         Call.of("a + a * b", sum_with_product()),
         Call.of("the lecture's cost with a placeholder at w = 3", lecture_placeholder_cost(3.0)),
         Call.of("a deep chain (depth 12)", deep_chain(0.3, 6)),
         Call.of("arrays of shape (2, 3)", array_graph([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]],
                                                       [[1.0, 2.0, -0.5], [0.2, -1.2, 0.8]])),
         Call.of("a chain 3000 operations deep", long_chain())],
        _hints("traversal_not_reversed", "assigned_not_accumulated", "no_visited_set",
               "output_not_seeded", "aliased_gradient", "shared_zero_array",
               "value_passed_as_gradient", "recursive_order"), RTOL,
        lambda call, grads, expected: gradient_problem(grads, expected, call.args[0]),
        driver="node_gradients"),
    GraphExercise(
        "test_backward_reset", "backward", "the gradients",
        "backward: a second pass on the same graph starts from zero.",
        [Call.of("two backward passes on one graph (a + a * b)", sum_with_product(),
                 {"a": 0.7, "b": 1.2}),
         Call.of("two backward passes on one graph (shared subexpressions)", shared_graph(),
                 {"a": 0.7, "b": 1.2})],
        _hints("gradients_never_reset"), RTOL, reset_problem, driver="repeated_gradients"),
    GraphExercise(
        "test_backward_lecture", "backward", "the training run",
        "backward: w = 0.0, 0.1, 4.999999991585162 after 0, 1, 1000 steps in float64 (the "
        "lecture ran float32 and printed 4.99999).",
        [Call.of("the lecture's example (constants)", lecture_cost(), 0.01, list(LECTURE_STEPS)),
         Call.of("the lecture's example (placeholder)", lecture_placeholder_cost(), 0.01,
                 list(LECTURE_STEPS))],
        _hints("gradients_never_reset"), RTOL, training_problem, driver="train"),
    GraphExercise(
        "test_local_gradients_model_ops", "local_gradients", "the gradients",
        "local_gradients: exp, log, sigmoid, relu, matmul, reduce_sum and reduce_mean match "
        "the reference (numbers, arrays, every axis).",
        [Call.of("exp of a (2, 2) array", model_operation("exp", [[0.5, -1.0], [2.0, 0.0]]),
                 [[1.0, -2.0], [0.5, 3.0]]),
         Call.of("log of 2", model_operation("log", 2.0), -1.5),
         Call.of("sigmoid of a (1, 3) array", model_operation("sigmoid", [[0.5, -2.0, 1.0]]),
                 [[1.0, 2.0, -1.0]]),
         Call.of("relu of a (1, 3) array", model_operation("relu", [[0.5, -2.0, 1.0]]),
                 [[1.0, 2.0, -1.0]]),
         Call.of("matmul of (2, 2) matrices", model_operation(
             "matmul", [[1.0, 2.0], [-1.0, 0.5]], [[0.5, -1.0], [2.0, 1.0]]),
             [[1.0, -1.0], [2.0, 0.5]]),
         Call.of("matmul (3, 2) by (2, 1)", model_operation(
             "matmul", [[1.0, 2.0], [-1.0, 0.5], [0.0, 3.0]], [[0.5], [2.0]]),
             [[1.0], [-1.0], [2.0]]),
         *(Call.of(f"{op} over axis {axis}", model_operation(
             op, [[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], axis=axis), upstream)
           for op in ("reduce_sum", "reduce_mean")
           for axis, upstream in ((0, [[1.0, -2.0, 0.5]]), (1, [[2.0], [-1.0]]),
                                  (None, 1.5)))],
        _hints("missing_upstream", "matmul_inputs_swapped", "mean_not_divided",
               "sigmoid_from_input"), RTOL, _rule_problem, driver="local_rule"),
)
"""{grade_id: Exercise}: every graded cell of the notebook."""

__getattr__ = visible_checks(EXERCISES)
