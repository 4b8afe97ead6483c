"""Grading 05_minimal_framework: each known mistake loses exactly its points.

Each mistake is the master's solution cell with one edit, as a student would make it. The
end-to-end tests grade them with `python -m autograder grade` (one seed); the in-process
tests run the same grader cases and judges on several seeds, since a real grading run draws
a fresh seed.
"""

import functools

import numpy as np
import pytest

from autograder.case import case_rng
from autograder.exercises import checks_for
from course_lib.checking import CheckFailed
from course_lib.checks import minimal_framework as vis
from course_lib.exercise import load_values
from tests.helpers import failing_verdicts, master

A = "05_minimal_framework"

MAYBE = "maybe: "
"""Prefix of an expectation for a cell that fails on some seeds only (inputs of either sign)."""

# mistake id: (solution cell, [(text of the master's cell, what the student wrote instead)],
#   {graded cell that fails: a HINTS id (that sentence, in both layers) or words both layers'
#   messages contain; MAYBE + words: fails on some seeds, then with those words})
# The mistake's own cell names it with its hint; other cells fail as its consequences.
FIRST_PASS = {"test_backward_reset": "first_pass_wrong"}
RECURSIVE = """    order, visited = [], set()

    def visit(node):
        if node in visited:
            return
        visited.add(node)
        for parent in node.inputs:
            visit(parent)
        order.append(node)

    visit(output)
    return order
"""
EDITS = {
    "no_visited_set": ("topological_order", [(
        "        elif node not in visited:\n            visited.add(node)\n", "        else:\n")],
        {"test_topological_order": "no_visited_set", "test_backward": "no_visited_set",
         **FIRST_PASS}),
    "recursive_order": ("topological_order", [
        ("    order, visited = [], set()\n", RECURSIVE),
        ("    stack = [(output, False)]\n", "    stack = []\n")],
                        {"test_topological_order": "recursive_order",
                         "test_backward": "recursive_order"}),
    "assigned_not_accumulated": ("backward", [("parent.grad += grad", "parent.grad = grad")],
                                 {"test_backward": "assigned_not_accumulated", **FIRST_PASS,
                                  "test_backward_lecture": "w after 1 step"}),
    "traversal_not_reversed": ("backward", [("for node in reversed(order):",
                                             "for node in order:")],
                               {"test_backward": "traversal_not_reversed", **FIRST_PASS,
                                "test_backward_lecture": "w after 1 step"}),
    "output_not_seeded": ("backward", [("    cost.grad = np.ones(cost.shape)\n", "")],
                          {"test_backward": "output_not_seeded", **FIRST_PASS,
                           "test_backward_lecture": "w after 1 step"}),
    "gradients_never_reset": ("backward", [(
        "    for node in order:\n        node.grad = np.zeros(node.shape)\n", "")],
        {"test_backward_reset": "gradients_never_reset",
         "test_backward_lecture": "gradients_never_reset"}),
    "aliased_gradient": ("backward", [
        ("node.grad = np.zeros(node.shape)", "node.grad = None"),
        ("            parent.grad += grad\n", "            if parent.grad is None:\n"
         "                parent.grad = grad\n            else:\n"
         "                parent.grad += grad\n")],
        {"test_backward": "aliased_gradient", **FIRST_PASS}),
    "shared_zero_array": ("backward", [(
        "    for node in order:\n        node.grad = np.zeros(node.shape)\n",
        "    zero = np.zeros(cost.shape)\n    for node in order:\n        node.grad = zero\n")],
        {"test_backward": "shared_zero_array", "test_backward_reset": None,
         "test_backward_lecture": None}),
    "value_passed_as_gradient": ("backward", [("local_gradients(node, node.grad, values)",
                                               "local_gradients(node, values[node], values)")],
                                 {"test_backward": "value_passed_as_gradient", **FIRST_PASS,
                                  "test_backward_lecture": "w after 1 step"}),
    # sets no gradient at all: the reset cell compares both passes with the reference's
    # gradients, so it cannot be earned by leaving .grad untouched
    "backward_does_nothing": ("backward", [("""    order = topological_order(cost)
    for node in order:
        node.grad = np.zeros(node.shape)
    cost.grad = np.ones(cost.shape)
    for node in reversed(order):
        for parent, grad in zip(node.inputs, local_gradients(node, node.grad, values)):
            parent.grad += grad
""", "    pass\n")], {"test_backward": "output_not_seeded", **FIRST_PASS,
                  "test_backward_lecture": "w after 1 step"}),
    "mul_rule_swapped": ("local_gradients", [(
        "return [upstream * values[b], upstream * values[a]]",
        "return [upstream * values[a], upstream * values[b]]")],
        {"test_local_gradients_mul": "mul_rule_swapped", "test_backward": "'mul'",
         **FIRST_PASS, "test_backward_lecture": "w after 1 step"}),
    "missing_upstream": ("local_gradients", [(
        "return [upstream * values[b], upstream * values[a]]", "return [values[b], values[a]]")],
        {"test_local_gradients_mul": "missing_upstream", "test_backward": "'mul'",
         **FIRST_PASS, "test_backward_lecture": "w after 1 step"}),
    "sub_rule_gives_plus_one_to_b": ("local_gradients", [("return [upstream, -upstream]",
                                                          "return [upstream, upstream]")],
                                     {"test_local_gradients_add_sub":
                                      "sub_rule_gives_plus_one_to_b",
                                      "test_backward": "'sub'", **FIRST_PASS,
                                      "test_backward_lecture": "w after 1 step"}),
    "pow_rule_exponent_not_lowered": ("local_gradients", [("base ** (node.exponent - 1)",
                                                           "base ** node.exponent")],
                                      {"test_local_gradients_pow":
                                       "pow_rule_exponent_not_lowered", "test_backward": None,
                                       **FIRST_PASS, "test_backward_lecture": None}),
    "pow_rule_factor_missing": ("local_gradients", [(
        "upstream * node.exponent * base", "upstream * base")],
        {"test_local_gradients_pow": "pow_rule_factor_missing", "test_backward": "pow",
         **FIRST_PASS, "test_backward_lecture": "wrong after 1000"}),
    "pow_rule_assumes_square": ("local_gradients", [(
        "return [upstream * node.exponent * base ** (node.exponent - 1)]",
        "return [upstream * 2 * base]")],
        {"test_local_gradients_pow": "pow_rule_assumes_square", "test_backward": "pow",
         **FIRST_PASS}),
    "pow_nan_at_zero": ("local_gradients", [("base ** (node.exponent - 1)",
                                             "base ** node.exponent / base")],
                        {"test_local_gradients_pow": "pow_nan_at_zero",
                         "test_backward_lecture": "w after 1 step"}),
    "pow_nan_for_negative_base": ("local_gradients", [(
        "base ** (node.exponent - 1)", "np.exp((node.exponent - 1) * np.log(base))")],
        {"test_local_gradients_pow": "pow_nan_for_negative_base", "test_backward": "nan",
         "test_backward_reset": MAYBE, "test_backward_lecture": MAYBE}),
    "matmul_inputs_swapped": ("local_gradients", [(
        "return [upstream @ values[b].T, values[a].T @ upstream]",
        "return [upstream @ values[a].T, values[b].T @ upstream]")],
        {"test_local_gradients_model_ops": "matmul_inputs_swapped"}),
    "mean_not_divided": ("local_gradients", [(
        "        if node.op == \"reduce_mean\":\n"
        "            spread /= values[node.inputs[0]].size // values[node].size\n", "")],
        {"test_local_gradients_model_ops": "mean_not_divided"}),
    "sigmoid_from_input": ("local_gradients", [("s = values[node]\n",
                                                "s = values[node.inputs[0]]\n")],
                           {"test_local_gradients_model_ops": "sigmoid_from_input"}),
    "missing_upstream_model_ops": ("local_gradients", [(
        "return [upstream * values[node]]", "return [values[node]]")],
        {"test_local_gradients_model_ops": "missing_upstream"}),
}


@functools.cache
def solution_sources():
    """{grade_id: source} of the master's solution cells, in notebook order."""
    return {cell.metadata.nbgrader["grade_id"]: cell.source for cell in master(A).cells
            if cell.metadata.get("nbgrader", {}).get("solution")}


def mistaken_sources(student):
    """{solution grade_id: source} of the submission with the mistake `student`."""
    cell_id, edits, _ = EDITS[student]
    source = solution_sources()[cell_id]
    for old, new in edits:
        assert source.count(old) == 1, (student, old)
        source = source.replace(old, new)
    return {cell_id: source}


def solution_namespace(replacements=None):
    """The master's solution cells executed in one namespace, some replaced."""
    namespace = {"np": np}
    for grade_id, source in solution_sources().items():
        exec((replacements or {}).get(grade_id, source), namespace)
    return namespace


def failing_cells(namespace, seed):
    """{grade_id: message} of the graded cells whose grader cases fail on `namespace`."""
    return {g: v.message for g, v in failing_verdicts(A, namespace, seed).items()}


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_solutions_pass_on_any_seed(seed):
    assert failing_cells(solution_namespace(), seed) == {}


VISIBLE_CHECKS = {
    "test_topological_order": lambda ns: vis.check_topological_order(ns["topological_order"]),
    "test_local_gradients_add_sub": lambda ns: vis.check_local_gradients_add_sub(
        ns["local_gradients"]),
    "test_local_gradients_mul": lambda ns: vis.check_local_gradients_mul(ns["local_gradients"]),
    "test_local_gradients_pow": lambda ns: vis.check_local_gradients_pow(ns["local_gradients"]),
    "test_local_gradients_model_ops": lambda ns: vis.check_local_gradients_model_ops(
        ns["local_gradients"]),
    "test_backward": lambda ns: vis.check_backward(ns["backward"]),
    "test_backward_reset": lambda ns: vis.check_backward_reset(ns["backward"]),
    "test_backward_lecture": lambda ns: vis.check_backward_lecture(ns["backward"]),
}
"""The visible check of each graded cell, as the master's test cell calls it."""


def visible_failures(namespace):
    """{grade_id: message} of the visible checks that fail on `namespace` (CheckFailed, or
    an error the student's code raised)."""
    failures = {}
    for grade_id, check in VISIBLE_CHECKS.items():
        try:
            check(namespace)
        except CheckFailed as error:
            failures[grade_id] = str(error)
        except Exception as error:  # the student's own code raised, as in the notebook
            failures[grade_id] = f"{type(error).__name__}: {error}"
    return failures


def _expected_words(expectation):
    """(words both layers' messages contain, whether the cell may also pass)."""
    maybe = isinstance(expectation, str) and expectation.startswith(MAYBE)
    words = expectation[len(MAYBE):] if maybe else expectation
    hints = {**vis.HINTS, "first_pass_wrong": "first backward pass is already wrong"}
    return hints.get(words, words) or "", maybe


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("student", sorted(EDITS))
def test_each_mistake_is_named_alike_by_the_visible_check_and_the_grader(student, capsys):
    """The visible checks and the grader (three seeds) fail the same cells; the mistake's own
    cell shows its one hint sentence in both layers."""
    expected = EDITS[student][2]
    namespace = solution_namespace(mistaken_sources(student))
    layers = {"visible": visible_failures(namespace)}
    layers.update({f"grader, seed {seed}": failing_cells(namespace, seed) for seed in (0, 1, 2)})
    for layer, failures in layers.items():
        must = {g for g, e in expected.items() if not _expected_words(e)[1]}
        assert must <= set(failures) <= set(expected), (layer, failures)
        for grade_id, message in failures.items():
            words, _ = _expected_words(expected[grade_id])
            assert words in message, (layer, grade_id, message)
    assert student in vis.HINTS or student in ("backward_does_nothing",
                                               "missing_upstream_model_ops")


def test_every_hint_belongs_to_a_declared_mistake():
    named = {e for _, _, cells in EDITS.values() for e in cells.values()} | set(EDITS)
    assert set(vis.HINTS) <= named, set(vis.HINTS) - named


GRADED = sorted(student for student, (_, _, cells) in EDITS.items()
                if not any(_expected_words(e)[1] for e in cells.values()))
"""The mistakes graded end to end: those that fail the same cells on every seed."""


RIGHT = {}
"""No right variants beyond the master here: any valid order is accepted by the diagnosis."""
MISTAKES = {student: (mistaken_sources(student), {
    grade_id: _expected_words(e)[0] for grade_id, e in EDITS[student][2].items()})
    for student in GRADED}
"""The class graded by tests/test_grading_classes.py (in process and end to end)."""
FEEDBACK = ("no_visited_set", "visited")
"""A student whose feedback page must name the mistake."""


# -- what the generic test (tests/test_exercises.py) does not cover -----------------------
# moved from the former tests/test_checks_minimal_framework.py

def lecture_w(steps, learning_rate=0.01):
    """w after `steps` steps on (w - 5)**2 from w = 0, as the plain loop w -= lr * (2w - 10)."""
    w = 0.0
    for _ in range(steps):
        w -= learning_rate * (2 * w - 10)
    return w


def test_the_lecture_constants_are_the_references():
    assert list(vis.LECTURE_W) == [lecture_w(k) for k in vis.LECTURE_STEPS]
    assert vis.LECTURE_W == tuple(
        load_values(A)["test_backward_lecture"][0]["expected"]["variables"]["w"])
    assert abs(vis.LECTURE_W[-1] - 5 * (1 - 0.98**1000)) < 1e-14
    w, rate = np.float32(0.0), np.float32(0.01)
    for _ in range(1000):
        w = w - rate * (np.float32(2) * w - np.float32(10))
    assert str(w) == str(vis.LECTURE_W_FLOAT32) == "4.9999886"


def test_a_recursive_search_fails_on_the_deep_chain_and_the_iterative_one_does_not():
    from autograder.reference import minimal_framework as ref
    from course_lib.graph.drivers import build
    description = vis.long_chain()
    assert vis.depth(description) == 3000
    _, output, _ = build(description)
    with pytest.raises(RecursionError):
        ref.topological_order(output, recursive_order=True)
    assert len(ref.topological_order(output)) == len(build(description)[0])


def test_order_problem_names_each_kind_of_wrong_order():
    description = vis.shared_graph()
    right = ["a", "b", "s", "t", "u", "v", "q", "J"]
    assert vis.order_problem(right, description) is None
    assert vis.order_problem(["b", "a", "s", "t", "u", "v", "q", "J"], description) is None
    assert "None" in vis.order_problem(None, description)
    assert "Node objects" in vis.order_problem(["<str>"] + right, description)
    assert "appears 2 times" in vis.order_problem(["a"] + right, description)
    assert "'b'" in vis.order_problem([n for n in right if n != "b"], description)
    assert "before its input" in vis.order_problem(
        ["a", "b", "t", "s", "u", "v", "q", "J"], description)


def test_local_rule_problem_names_nan_at_zero_and_for_negative_bases():
    a = np.array([[0.0, -2.0, 1.5]])
    want = [2 * a]
    assert vis.local_rule_problem("pow", want, want, inputs=[a]) is None
    assert vis.local_rule_problem("pow", [np.array([[np.nan, -4.0, 3.0]])], want,
                                  inputs=[a]) == vis.HINTS["pow_nan_at_zero"]
    assert vis.local_rule_problem("pow", [np.array([[0.0, np.nan, 3.0]])], want,
                                  inputs=[a]) == vis.HINTS["pow_nan_for_negative_base"]
    assert "nan" in vis.local_rule_problem("pow", [np.full((1, 3), np.nan)], want, inputs=[a])
    assert "2 gradient(s), not 1" in vis.local_rule_problem("sub", want, want * 2, inputs=[a, a])


def test_gradient_problem_names_the_first_wrong_node_from_the_output():
    description = vis.square(2.0)
    exact = {"x": np.array(4.0), "y": np.array(1.0)}
    assert vis.gradient_problem({"x": 4.0, "y": 1.0}, exact, description) is None
    assert "None" in vis.gradient_problem({"x": None, "y": 1.0}, exact, description)
    assert "<str>" in vis.gradient_problem({"x": "<str>", "y": 1.0}, exact, description)
    assert "used 2 times" in vis.gradient_problem({"x": 2.0, "y": 1.0}, exact, description)
    assert "0 although" in vis.gradient_problem({"x": 0.0, "y": 1.0}, exact, description)


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_are_deep_shared_and_catch_every_traversal_mistake(seed):
    from autograder.reference import minimal_framework as ref
    rng = np.random.default_rng(seed)
    for size in (12, 18):
        description = ref.random_graph(rng, size)
        assert ref.path_count(description) <= ref.MAX_PATHS
        listed, inputs, _ = vis.structure(description)
        uses = {n: sum(p == n for m in listed for p in inputs[m]) for n in listed}
        assert any(uses[n] >= 2 and inputs[n] for n in listed)  # a shared operation
        exact = ref.gradients(description)
        for mistake in ref.TRAVERSAL_MISTAKES:
            assert not vis.same_data(ref.gradients(description, **{mistake: True}), exact, 1e-6)


def test_cases_are_the_same_for_the_same_seed():
    for grade_id, make in checks_for(A).items():
        first = [c.request() for c in make(case_rng(7, grade_id))]
        assert first == [c.request() for c in make(case_rng(7, grade_id))], grade_id


def test_hidden_training_values_are_not_revealed_but_the_lectures_are():
    cases = checks_for(A)["test_backward_lecture"](case_rng(3, "test_backward_lecture"))
    _, message = cases[-1].judge({"variables": {"w": [0.0, 1.0, 2.0, 3.0, 4.0]},
                                  "cost": [0.0] * 5})
    assert message and "expected" not in message
    assert "expected 0.1" in cases[0].judge({"variables": {"w": [0.0, 0.2, 5.0]},
                                             "cost": [0.0] * 3})[1]


RULE, BACKWARD = solution_sources()["local_gradients"], solution_sources()["backward"]
RESULT_MISTAKES = {
    "pow returns an array": ("local_gradients", RULE.replace(
        "return [upstream * node.exponent * base ** (node.exponent - 1)]",
        "return upstream * node.exponent * base ** (node.exponent - 1)"),
        "test_local_gradients_pow", "returned an array, not a list"),
    "float32 node.grad": ("backward", BACKWARD.replace(
        "node.grad = np.zeros(node.shape)", "node.grad = np.zeros(node.shape, np.float32)"),
        "test_backward", "float32, which keeps about 7 digits"),
    "topological_order returns a tuple": ("topological_order", solution_sources()[
        "topological_order"].replace("    return order\n", "    return tuple(order)\n"),
        "test_topological_order", "should return a list of nodes, not tuple"),
    "backward changes values": ("backward", BACKWARD.replace(
        "    order = topological_order(cost)\n", "    order = topological_order(cost)\n"
        "    values[cost] = values[cost] * 1.0\n    values.pop(cost)\n"),
        "test_backward", "backward modified its argument values in place"),
}
"""Results and arguments of backward and topological_order, which the generic test leaves
to this file (their data is made by drivers, not returned)."""


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mistake", sorted(RESULT_MISTAKES))
def test_each_wrong_result_or_changed_argument_is_named_by_both_layers(mistake):
    cell, source, grade_id, words = RESULT_MISTAKES[mistake]
    namespace = solution_namespace({cell: source})
    assert words in visible_failures(namespace)[grade_id]
    for seed in (0, 1):
        assert words in failing_cells(namespace, seed)[grade_id]
