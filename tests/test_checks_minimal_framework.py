"""The checks of 05_minimal_framework: visible checks, shared diagnoses and grader cases."""

import numpy as np
import pytest

from autograder.checks import minimal_framework as grader
from autograder.checks.case import case_rng
from autograder.reference import minimal_framework as ref
from course_lib.checking import CheckFailed
from course_lib.checks import minimal_framework as vis
from course_lib.graph.core import Session
from course_lib.graph.drivers import build
from tests.test_grading_minimal_framework import mistaken_sources, solution_namespace

VISIBLE_CHECKS = {
    "topological_order": lambda ns: vis.check_topological_order(ns["topological_order"]),
    "add_sub": lambda ns: vis.check_local_gradients_add_sub(ns["local_gradients"]),
    "mul": lambda ns: vis.check_local_gradients_mul(ns["local_gradients"]),
    "pow": lambda ns: vis.check_local_gradients_pow(ns["local_gradients"]),
    "backward": lambda ns: vis.check_backward(ns["backward"], ns["topological_order"]),
    "reset": lambda ns: vis.check_backward_reset(ns["backward"]),
    "lecture": lambda ns: vis.check_backward_lecture(ns["backward"]),
}

RESET_FAILS = {"reset": "make test_backward pass first"}

# mistake: {visible check that must fail: words of its message}; the others must pass
VISIBLE_FAILURES = {
    "assigned_not_accumulated": {"backward": "`+=`", **RESET_FAILS, "lecture": "after 1 step"},
    "traversal_not_reversed": {"backward": "reversed topological order", **RESET_FAILS,
                               "lecture": "after 1 step"},
    "no_visited_set": {"topological_order": "visited", "backward": "topological_order",
                       **RESET_FAILS},
    "output_not_seeded": {"backward": "seed the output", **RESET_FAILS, "lecture": "after 1 step"},
    "gradients_never_reset": {"reset": "never reset", "lecture": "oscillates"},
    "mul_rule_swapped": {"mul": "swapped", "backward": "'mul'", **RESET_FAILS,
                         "lecture": "after 1 step"},
    "pow_rule_exponent_not_lowered": {"pow": "drops by one", "backward": "pow", **RESET_FAILS,
                                      "lecture": "after 1000"},
    "pow_rule_assumes_square": {"pow": "node.exponent", "backward": "'pow'", **RESET_FAILS},
    "sub_rule_gives_plus_one_to_b": {"add_sub": "-upstream", "backward": "'sub'", **RESET_FAILS,
                                     "lecture": "after 1 step"},
    "backward_does_nothing": {"backward": "seed the output",
                              "reset": "the first backward pass on the graph is already wrong",
                              "lecture": "after 1 step"},
}


def test_the_visible_constants_are_the_reference_values():
    graphs = vis._visible_graphs()
    assert set(graphs) == set(vis.EXACT_GRADIENTS)
    for label, description in graphs.items():
        exact = ref.gradients(description)
        assert set(exact) == set(vis.EXACT_GRADIENTS[label])
        for name, value in vis.EXACT_GRADIENTS[label].items():
            assert float(exact[name]) == value, (label, name)
    assert list(vis.LECTURE_W) == [ref.lecture_w(k) for k in vis.LECTURE_STEPS]
    assert abs(vis.LECTURE_W[-1] - 5 * (1 - 0.98**1000)) < 1e-14
    w, rate = np.float32(0.0), np.float32(0.01)
    for _ in range(1000):
        w = w - rate * (np.float32(2) * w - np.float32(10))
    assert str(w) == str(vis.LECTURE_W_FLOAT32) == "4.9999886"


def test_the_visible_rule_cases_hold_the_exact_rules():
    for op, cases in vis.RULE_CASES.items():
        for a, b, upstream, exact in cases:
            description = (vis.operation(op, a, exponent=b) if op == "pow"
                           else vis.operation(op, a, b))
            _, output, _ = build(description)
            got = ref.local_gradients(output, np.asarray(upstream, dtype=np.float64),
                                      Session().forward(output))
            for g, e in zip(got, exact, strict=True):
                np.testing.assert_allclose(g, e, rtol=1e-15)


def test_the_visible_checks_pass_the_solutions(capsys):
    namespace = solution_namespace()
    for check in VISIBLE_CHECKS.values():
        check(namespace)
    printed = capsys.readouterr().out
    assert printed.count("\n") == len(VISIBLE_CHECKS) and "4.999999991585162" in printed


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("student", sorted(VISIBLE_FAILURES))
def test_each_mistake_is_named_by_the_visible_checks(student):
    namespace = solution_namespace(mistaken_sources(student))
    for name, check in VISIBLE_CHECKS.items():
        words = VISIBLE_FAILURES[student].get(name)
        if words is None:
            check(namespace)
            continue
        with pytest.raises(CheckFailed) as failure:
            check(namespace)
        assert words in str(failure.value), (name, str(failure.value))


def test_the_visible_checks_let_not_implemented_through():
    def stub(*args):
        raise NotImplementedError()
    namespace = {"topological_order": stub, "local_gradients": stub, "backward": stub}
    for check in VISIBLE_CHECKS.values():
        with pytest.raises(NotImplementedError):
            check(namespace)


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
        for mistake in ref.MISTAKES.values():
            assert grader._differs(exact, ref.gradients(description, **mistake))


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
