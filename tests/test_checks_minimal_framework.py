"""The checks of 05_minimal_framework: visible checks, shared diagnoses and grader cases."""

import numpy as np
import pytest

from autograder.checks import minimal_framework as grader
from autograder.case import case_rng
from autograder.reference import minimal_framework as ref
from course_lib.checking import MODIFIED_ARGUMENT
from course_lib.checks import minimal_framework as vis
from course_lib.graph.drivers import build
from tests.helpers import REPO, in_process_failures
from tests.test_grading_minimal_framework import (
    VISIBLE_CHECKS,
    A,
    failing_cells,
    solution_namespace,
    solution_sources,
    visible_failures,
)


def test_the_visible_values_are_the_reference_values():
    """VISIBLE_VALUES is what `python -m autograder.reference.minimal_framework` prints."""
    assert vis.VISIBLE_VALUES == ref.visible_values()
    source = (REPO / "course_lib" / "checks" / "minimal_framework.py").read_text()
    assert ref.visible_values_source() + "\n" in source
    assert list(vis.LECTURE_W) == [ref.lecture_w(k) for k in vis.LECTURE_STEPS]
    assert abs(vis.LECTURE_W[-1] - 5 * (1 - 0.98**1000)) < 1e-14
    w, rate = np.float32(0.0), np.float32(0.01)
    for _ in range(1000):
        w = w - rate * (np.float32(2) * w - np.float32(10))
    assert str(w) == str(vis.LECTURE_W_FLOAT32) == "4.9999886"


def test_each_mistake_differs_from_the_right_gradients_on_some_visible_graph():
    for mistake in ref.MISTAKES:
        graphs = vis.VISIBLE_VALUES["graphs"].values()
        assert any(g[mistake] is not None and g[mistake] != g["exact"] for g in graphs), mistake


def test_the_visible_checks_pass_the_solutions(capsys):
    namespace = solution_namespace()
    assert visible_failures(namespace) == {}
    printed = capsys.readouterr().out
    assert printed.count("\n") == len(VISIBLE_CHECKS) and "4.999999991585162" in printed


def test_the_visible_checks_let_not_implemented_through():
    def stub(*args):
        raise NotImplementedError()
    namespace = {"topological_order": stub, "local_gradients": stub, "backward": stub}
    for check in VISIBLE_CHECKS.values():
        with pytest.raises(NotImplementedError):
            check(namespace)


def test_a_recursive_search_fails_on_the_deep_chain_and_the_iterative_one_does_not():
    description = vis.long_chain()
    assert vis.depth(description) == 3000
    _, output, _ = build(description)
    with pytest.raises(RecursionError):
        ref.topological_order(output, recursive=True)
    assert len(ref.topological_order(output)) == len(build(description)[0])


# -- the result contract and arguments, in both layers ------------------------------------

RULE = solution_sources()["local_gradients"]
BACKWARD = solution_sources()["backward"]
RESULT_MISTAKES = {
    "pow returns an array": ("local_gradients", RULE.replace(
        "return [upstream * node.exponent * base ** (node.exponent - 1)]",
        "return upstream * node.exponent * base ** (node.exponent - 1)"),
        "test_local_gradients_pow", "returned an array, not a list"),
    "float32 gradients": ("local_gradients", RULE.replace(
        "return [upstream, upstream]", "return [upstream.astype(np.float32)] * 2"),
        "test_local_gradients_add_sub", "float32, which keeps about 7 digits"),
    "bool gradients": ("local_gradients", RULE.replace(
        "return [upstream, upstream]", "return [upstream != 0, upstream != 0]"),
        "test_local_gradients_add_sub", "has dtype bool"),
    "a list as a gradient": ("local_gradients", RULE.replace(
        "return [upstream, -upstream]", "return [upstream.tolist(), (-upstream).tolist()]"),
        "test_local_gradients_add_sub", "is a list: return a numpy array"),
    "float32 node.grad": ("backward", BACKWARD.replace(
        "node.grad = np.zeros(node.shape)", "node.grad = np.zeros(node.shape, np.float32)"),
        "test_backward", "float32, which keeps about 7 digits"),
    "topological_order returns a tuple": ("topological_order", solution_sources()[
        "topological_order"].replace("    return order\n", "    return tuple(order)\n"),
        "test_topological_order", "should return a list of nodes, not a tuple"),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("mistake", sorted(RESULT_MISTAKES))
def test_each_wrong_container_gets_its_sentence_in_both_layers(mistake):
    cell, source, grade_id, words = RESULT_MISTAKES[mistake]
    namespace = solution_namespace({cell: source})
    visible = visible_failures(namespace)
    assert words in visible[grade_id], visible
    for seed in (0, 1):
        assert words in failing_cells(namespace, seed)[grade_id]


MUTATING = {
    "local_gradients": RULE.replace(
        "        return [upstream * node.exponent * base ** (node.exponent - 1)]\n",
        "        upstream *= node.exponent * base ** (node.exponent - 1)\n"
        "        return [upstream]\n"),
    "backward": BACKWARD.replace("    order = topological_order(cost)\n",
                                 "    order = topological_order(cost)\n"
                                 "    values[cost] = values[cost] * 1.0\n"
                                 "    values.pop(cost)\n"),
}


@pytest.mark.parametrize("cell", sorted(MUTATING))
def test_a_function_that_changes_its_arguments_is_named_by_both_layers(cell):
    argument = {"local_gradients": "upstream", "backward": "values"}[cell]
    sentence = MODIFIED_ARGUMENT.format(function=cell, argument=argument)
    failures = visible_failures(solution_namespace({cell: MUTATING[cell]}))
    assert any(sentence in m for m in failures.values()), failures
    verdicts = in_process_failures(A, {cell: MUTATING[cell]}, seed=0)
    assert verdicts and all(v.status == "wrong_answer" for v in verdicts.values()), verdicts
    assert any(sentence in v.message for v in verdicts.values()), verdicts


# -- diagnoses ---------------------------------------------------------------------------

def test_order_problem_names_each_kind_of_wrong_order():
    description = vis.shared_graph()
    right = ["a", "b", "s", "t", "u", "v", "q", "J"]
    assert vis.order_problem(right, description) is None
    assert "None" in vis.order_problem(None, description)
    assert "not a node" in vis.order_problem(["<str>"] + right, description)
    assert "appears 2 times" in vis.order_problem(["a"] + right, description)
    assert "'b'" in vis.order_problem([n for n in right if n != "b"], description)
    assert "before its input" in vis.order_problem(
        ["a", "b", "t", "s", "u", "v", "q", "J"], description)
    chain = vis.deep_chain(0.3, 1)
    assert vis.order_problem(["y0", "sq0", "y1"], chain) is None


def test_local_rule_problem_names_nan_at_zero_and_for_negative_bases():
    a = np.array([[0.0, -2.0, 1.5]])
    want = 2 * a
    kwargs = dict(upstream=np.ones((1, 3)), inputs=[a], exponent=2)
    assert vis.local_rule_problem("pow", [want], [want], **kwargs) is None
    assert vis.local_rule_problem("pow", [np.array([[np.nan, -4.0, 3.0]])], [want],
                                  **kwargs) == vis.HINTS["pow_nan_at_zero"]
    assert vis.local_rule_problem("pow", [np.array([[0.0, np.nan, 3.0]])], [want],
                                  **kwargs) == vis.HINTS["pow_nan_for_negative_base"]
    assert "nan" in vis.local_rule_problem("pow", [np.full((1, 3), np.nan)], [want], **kwargs)


def test_local_rule_problem_names_shape_length_and_upstream_mistakes():
    expected = [np.array([[2.0, 3.0]]), np.array([[-2.0, -3.0]])]
    kwargs = dict(upstream=np.array([[2.0, 3.0]]), inputs=[1.0, 2.0])
    assert vis.local_rule_problem("sub", expected, expected, **kwargs) is None
    assert "2 gradient(s), not 1" in vis.local_rule_problem("sub", expected[:1], expected,
                                                            **kwargs)
    assert "shape" in vis.local_rule_problem("sub", [e.T for e in expected], expected,
                                             **kwargs)
    assert "misses the factor upstream" in vis.local_rule_problem(
        "sub", [np.ones((1, 2)), -np.ones((1, 2))], expected, **kwargs)
    assert "returned None" in vis.local_rule_problem("sub", None, expected, **kwargs)


def test_gradient_problem_compares_with_the_numerical_gradient_too():
    description = vis.square(2.0)
    exact = {"x": 4.0, "y": 1.0}
    assert vis.gradient_problem({"x": 4.0, "y": 1.0}, exact, description,
                                numeric={"x": np.array(4.0 + 1e-9)}) is None
    assert "numerical gradient" in vis.gradient_problem(
        {"x": 4.0, "y": 1.0}, exact, description, numeric={"x": np.array(5.0)})
    assert "None" in vis.gradient_problem({"x": None, "y": 1.0}, exact, description)
    assert "<str>" in vis.gradient_problem({"x": "<str>", "y": 1.0}, exact, description)
    assert "used 2 times" in vis.gradient_problem({"x": 2.0, "y": 1.0}, exact, description)


# -- grader cases ------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_are_deep_shared_and_catch_every_traversal_mistake(seed):
    rng = np.random.default_rng(seed)
    for size in (12, 18):
        description = grader.random_graph(rng, size)
        assert grader.path_count(description) <= grader.MAX_PATHS
        listed, inputs, output = vis.structure(description)
        uses = {n: sum(p == n for m in listed for p in inputs[m]) for n in listed}
        assert any(uses[n] >= 2 and inputs[n] for n in listed)  # a shared operation
        exact = ref.gradients(description)
        for mistake in ref.TRAVERSAL_MISTAKES:
            assert grader._differs(exact, ref.gradients(description, **ref.MISTAKES[mistake]))


def test_cases_are_the_same_for_the_same_seed():
    for grade_id, make in grader.CHECKS.items():
        first = [c.request() for c in make(case_rng(7, grade_id))]
        second = [c.request() for c in make(case_rng(7, grade_id))]
        assert first == second, grade_id


def test_hidden_cases_do_not_reveal_expected_values():
    cases = grader.backward_lecture_cases(case_rng(3, "test_backward_lecture"))
    hidden = cases[-1]
    wrong = {"variables": {"w": [0.0, 1.0, 2.0, 3.0, 4.0]}, "cost": [0.0] * 5}
    message = hidden.judge(wrong)
    assert message and "expected" not in message
    assert "expected 0.1" in cases[0].judge(
        {"variables": {"w": [0.0, 0.2, 5.0]}, "cost": [0.0] * 3})
