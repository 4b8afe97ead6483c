"""course_lib.graph: the framework's plumbing, its plot and its drivers.

The backward pass used here is the instructor's reference (course_lib has none).
"""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

import course_lib.graph as fw  # noqa: E402
from autograder.reference import minimal_framework as ref  # noqa: E402
from course_lib import codec  # noqa: E402
from course_lib.checks.minimal_framework import (  # noqa: E402
    array_graph,
    deep_chain,
    lecture_cost,
    lecture_placeholder_cost,
    shared_graph,
)
from course_lib.graph import drivers  # noqa: E402
from tests.helpers import REPO, master  # noqa: E402

COEFFICIENTS = np.array([[1.0], [-10.0], [25.0]])


def _session(*variables):
    session = fw.Session()
    session.run(fw.variables_initializer(variables))
    return session


# -- building and running ------------------------------------------------------------

def test_building_computes_nothing_and_records_the_operations():
    w = fw.Variable(0.0, name="w")
    cost = w**2 - 10 * w + 25
    assert isinstance(cost, fw.Node) and cost.op == "add"
    diff, c25 = cost.inputs
    assert diff.op == "sub" and c25.op == "constant" and float(c25.value) == 25
    square, ten_w = diff.inputs
    assert square.op == "pow" and square.exponent == 2 and square.inputs == (w,)
    assert ten_w.op == "mul" and ten_w.inputs[1] is w and float(ten_w.inputs[0].value) == 10
    assert all(n.grad == 0.0 for n in (cost, diff, square, w))


@pytest.mark.parametrize("build, expected", [
    (lambda a, b: a + b, lambda a, b: a + b),
    (lambda a, b: a - b, lambda a, b: a - b),
    (lambda a, b: a * b, lambda a, b: a * b),
    (lambda a, b: a ** 3, lambda a, b: a ** 3),
    (lambda a, b: 2.5 - a * 4 + 1.5 * b - 3, lambda a, b: 2.5 - a * 4 + 1.5 * b - 3),
    (lambda a, b: -a + np.float64(2) * b, lambda a, b: -a + 2 * b),
    (lambda a, b: 10 * a[1][2] + b[0, 1], lambda a, b: 10 * a[1][2] + b[0, 1]),
    (lambda a, b: (a * b)[1] ** 2, lambda a, b: (a * b)[1] ** 2),
])
def test_forward_values_match_numpy(build, expected):
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    a, b = fw.Variable(A), fw.Variable(B)
    node = build(a, b)
    got = _session(a, b).run(node)
    assert node.shape == np.shape(expected(A, B))
    np.testing.assert_allclose(got, expected(A, B), rtol=1e-15)


def test_operators_refuse_what_the_framework_cannot_differentiate():
    a, b = fw.Variable(np.zeros((3, 1))), fw.Variable(0.0)
    with pytest.raises(ValueError, match="does not broadcast"):
        a + b
    with pytest.raises(ValueError, match="does not broadcast"):
        a * np.ones((1, 3))
    with pytest.raises(TypeError, match="exponent must be a plain number"):
        b ** b
    with pytest.raises(TypeError, match="integers or slices"):
        a[[0, 1]]
    with pytest.raises(IndexError, match="shape"):
        b[0]
    with pytest.raises(TypeError, match="not iterable"):
        list(a)


def test_run_keeps_the_structure_of_nested_fetches():
    w = fw.Variable(3.0, name="w")
    v = fw.Variable([[1.0], [2.0]], name="v")
    cost = w**2 - 10 * w + 25
    init = fw.global_variables_initializer()
    session = fw.Session()
    assert session.run(init) is None
    result = session.run({"w": w, "pair": (cost, [v, w]), "ops": [init]})
    assert set(result) == {"w", "pair", "ops"} and result["ops"] == [None]
    J, (v_value, w_value) = result["pair"]
    assert isinstance(result["pair"], tuple) and isinstance(result["pair"][1], list)
    assert type(result["w"]) is float and (result["w"], J, w_value) == (3.0, 4.0, 3.0)
    np.testing.assert_array_equal(v_value, [[1.0], [2.0]])
    with pytest.raises(TypeError, match="cannot fetch"):
        session.run([w, "w"])


def test_an_unfed_placeholder_names_itself():
    w = fw.Variable(0.0, name="w")
    x = fw.placeholder((3, 1), name="coefficients")
    cost = x[0][0] * w**2 + x[1][0] * w + x[2][0]
    session = _session(w)
    with pytest.raises(fw.UnfedPlaceholderError, match="placeholder 'coefficients'.*(3, 1)"):
        session.run(cost)
    assert session.run(cost, feed_dict={x: COEFFICIENTS}) == 25.0
    with pytest.raises(ValueError, match="'coefficients' has shape \\(3, 1\\).*shape \\(3,\\)"):
        session.run(cost, feed_dict={x: [1.0, -10.0, 25.0]})
    with pytest.raises(TypeError, match="must be placeholders"):
        session.run(cost, feed_dict={w: 1.0, x: COEFFICIENTS})


def test_a_variable_used_before_initialisation_says_so():
    w = fw.Variable(0.0, name="weight")
    with pytest.raises(fw.UninitializedVariableError, match="'weight'.*initialised"):
        fw.Session().run(w * 2)
    init = fw.global_variables_initializer()
    late = fw.Variable(1.0, name="late")
    session = fw.Session()
    session.run(init)
    assert session.run(w) == 0.0
    with pytest.raises(fw.UninitializedVariableError, match="'late'"):
        session.run(late)
    with fw.Session() as other:
        other.run(fw.global_variables_initializer())
        assert other.run(late) == 1.0
    with pytest.raises(fw.UninitializedVariableError):
        other.run(late)  # closed


def test_sessions_hold_their_own_variable_values():
    w = fw.Variable(1.0)
    first, second = _session(w), _session(w)
    w.load(4.0, first)
    assert (first.run(w), second.run(w)) == (4.0, 1.0)
    with pytest.raises(ValueError, match="shape"):
        w.load([1.0, 2.0], first)


def test_forward_gives_every_value_the_output_needs():
    w = fw.Variable(2.0)
    cost = w**2 - 10 * w + 25
    values = _session(w).forward(cost)
    assert values[cost] == 9.0 and values[w] == 2.0
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in values.values())
    assert len(values) == 7  # w, 10, 10*w, w**2, the difference, 25, the cost


# -- training -------------------------------------------------------------------------

def test_the_lecture_is_reproduced_with_constants_and_with_a_placeholder():
    for placeholder in (False, True):
        w = fw.Variable(0.0)
        if placeholder:
            x = fw.placeholder((3, 1))
            cost, feed = x[0][0] * w**2 + x[1][0] * w + x[2][0], {x: COEFFICIENTS}
        else:
            cost, feed = w**2 - 10 * w + 25, None
        train = fw.GradientDescentOptimizer(0.01, backward=ref.backward).minimize(cost)
        session = _session(w)
        seen = [session.run(w)]
        for step in range(1000):
            assert session.run(train, feed_dict=feed) is None
            if step == 0:
                seen.append(session.run(w))
        seen.append(session.run(w))
        assert seen == [0.0, 0.1, 4.999999991585162]
        plain = 0.0
        for _ in range(1000):
            plain -= 0.01 * (2 * plain - 10)
        assert seen[-1] == plain  # the plain loop, to the last bit
        assert abs(seen[-1] - 5 * (1 - 0.98**1000)) < 1e-14


def test_the_optimizer_uses_the_registered_or_the_given_backward(monkeypatch):
    monkeypatch.setattr("course_lib.graph.core._registered_backward", None)
    w = fw.Variable(0.0)
    cost = w**2 - 10 * w + 25
    train = fw.GradientDescentOptimizer(0.01).minimize(cost)
    session = _session(w)
    with pytest.raises(fw.FrameworkError, match="register_backward"):
        session.run(train)
    fw.register_backward(ref.backward)
    session.run(train)
    assert session.run(w) == 0.1
    calls = []

    def counting(cost, values):
        calls.append(cost)
        ref.backward(cost, values)
    session.run(fw.GradientDescentOptimizer(0.01, backward=counting).minimize(cost))
    assert calls == [cost]
    with pytest.raises(TypeError):
        fw.register_backward("backward")


def test_a_step_reads_values_before_it_updates():
    w = fw.Variable(0.0)
    cost = w**2 - 10 * w + 25
    train = fw.GradientDescentOptimizer(0.01, backward=ref.backward).minimize(cost)
    session = _session(w)
    assert session.run([w, train, cost]) == [0.0, None, 25.0]
    assert session.run(w) == 0.1


def test_the_optimizer_explains_a_bad_backward_pass():
    w = fw.Variable(np.zeros(2))
    cost = (w * w)[0]

    def leaves_none(cost, values):
        for node in ref.topological_order(cost):
            node.grad = None

    def wrong_shape(cost, values):
        w.grad = np.zeros(3)
    session = _session(w)
    with pytest.raises(fw.FrameworkError, match="grad = None"):
        session.run(fw.GradientDescentOptimizer(0.1, backward=leaves_none).minimize(cost))
    with pytest.raises(fw.FrameworkError, match="shape"):
        session.run(fw.GradientDescentOptimizer(0.1, backward=wrong_shape).minimize(cost))
    with pytest.raises(ValueError, match="one number"):
        fw.GradientDescentOptimizer(0.1).minimize(w * w)


# -- plot ------------------------------------------------------------------------------

def test_layout_places_operations_right_of_their_inputs_and_leaves_next_to_their_use():
    nodes, output, _ = drivers.build(lecture_placeholder_cost())
    positions, edges = fw.graph_layout(output)
    assert set(positions) == set(nodes.values())
    assert positions[output][0] == max(x for x, _ in positions.values())
    for parent, node, _ in edges:
        assert positions[parent][0] < positions[node][0]
    for node in nodes.values():
        if not node.inputs:
            users = [n for p, n, _ in edges if p is node]
            assert positions[node][0] == min(positions[u][0] for u in users) - 1
    assert len(set(positions.values())) == len(positions)  # no two nodes on one spot
    _, square_output, _ = drivers.build({"nodes": [["variable", "x", 1.0],
                                                   ["mul", "y", "x", "x"]], "output": "y"})
    assert sorted(k for *_, k in fw.graph_layout(square_output)[1]) == [0, 1]


def test_plot_graph_draws_every_node_and_edge():
    nodes, output, feed = drivers.build(shared_graph())
    session = _session(*[n for n in nodes.values() if n.op == "variable"])
    values = session.forward(output, feed)
    ref.backward(output, values)
    ax = fw.plot_graph(output, values=values, show_grad=True, title="shared")
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == sum(len(n.inputs) for n in nodes.values())
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == len(nodes)
    assert any(t.startswith("a\n= 1.5\ngrad") for t in texts)
    plt.close("all")


# -- drivers ---------------------------------------------------------------------------

def test_build_names_every_node_including_constants_from_numbers():
    nodes, output, feed = drivers.build(lecture_cost(2.0))
    assert list(nodes) == ["w", "w2", "tenw/in0", "tenw", "diff", "cost/in1", "cost"]
    assert output is nodes["cost"] and feed == {}
    assert _session(nodes["w"]).run(output) == 9.0
    nodes, output, feed = drivers.build(lecture_placeholder_cost(1.0))
    assert set(feed) == {nodes["x"]} and output.name == "cost"


def _plain(value):
    return codec.decode(codec.encode(value))


@pytest.mark.parametrize("description", [
    lecture_cost(2.0), lecture_placeholder_cost(3.0, COEFFICIENTS * 2), shared_graph(),
    deep_chain(0.3, 5), array_graph(np.ones((2, 3)) * 0.5, np.arange(6.0).reshape(2, 3))])
def test_drivers_return_plain_data_that_agrees_with_the_numerical_gradient(description):
    names = _plain(drivers.topological_names(ref.topological_order, description))
    assert names[-1] == description["output"] and len(names) == len(set(names))
    result = _plain(drivers.gradients(ref.backward, description))
    exact = ref.gradients(description)
    assert set(result["grads"]) == set(exact)
    for name, numeric in result["numeric"].items():
        np.testing.assert_allclose(result["grads"][name], numeric, rtol=1e-6, atol=1e-8)
        np.testing.assert_array_equal(result["grads"][name], exact[name])


def test_local_rule_and_repeated_gradients_drivers():
    description = {"nodes": [["constant", "a", [[1.0, 2.0]]], ["constant", "b", [[3.0, -1.0]]],
                             ["mul", "out", "a", "b"]], "output": "out"}
    result = _plain(drivers.local_rule(ref.local_gradients, description, [[2.0, 0.5]]))
    np.testing.assert_array_equal(result[0], [[6.0, -0.5]])
    np.testing.assert_array_equal(result[1], [[2.0, 1.0]])
    repeated = _plain(drivers.repeated_gradients(ref.backward, shared_graph(),
                                                 {"a": 0.7, "b": 1.2}))
    for name, fresh in repeated["fresh"].items():
        np.testing.assert_array_equal(repeated["second"][name], fresh)
    assert not np.array_equal(repeated["first"]["a"], repeated["fresh"]["a"])


def test_train_driver_records_the_checkpoints():
    result = _plain(drivers.train(ref.backward, lecture_placeholder_cost(), 0.01, [0, 1, 1000]))
    assert result["variables"] == {"w": [0.0, 0.1, 4.999999991585162]}
    assert result["cost"][:2] == [25.0, pytest.approx((0.1 - 5) ** 2, rel=1e-14)]


def test_drivers_report_what_a_student_returned():
    description = lecture_cost(1.0)
    assert drivers.topological_names(lambda output: None, description) is None
    assert drivers.topological_names(lambda output: [output, "w"], description) == [
        "cost", "<str>"]

    def sets_strings(cost, values):
        cost.grad = "one"
    grads = drivers.gradients(sets_strings, description)["grads"]
    assert grads["cost"] == "<str>" and grads["w"] == 0.0  # as the student left it

    def sets_float32(cost, values):
        cost.grad = np.float32(1.0)
    assert drivers.gradients(sets_float32, description)["grads"]["cost"].dtype == np.float32

    def recursive(output):
        return recursive(output)
    assert drivers.topological_names(recursive, description) == drivers.RECURSION_LIMIT
    assert drivers.topological_names(lambda output: (output,), description) == "<tuple>"


# -- course_lib holds no solution ------------------------------------------------------

def test_course_lib_does_not_contain_the_solutions():
    """No statement of the master's solutions (traversal, rules, accumulation) is in course_lib."""
    library = "\n".join(p.read_text() for p in (REPO / "course_lib").rglob("*.py"))
    library_lines = {line.strip() for line in library.splitlines()}
    for cell in master("05_minimal_framework").cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            body = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            statements = [line.strip() for line in body.splitlines() if re.search(
                r"upstream|visited|\.grad|order|values\[|exponent - 1", line)]
            for line in statements:
                assert line not in library_lines, line



# -- the operations of a real model (backward rules: the reference's) ------------------------------

_GIVEN = {
    "exp": (fw.exp, [(3, 4)], np.exp),
    "log": (fw.log, [(3, 4)], np.log),
    "sigmoid": (fw.sigmoid, [(3, 4)], lambda a: 1 / (1 + np.exp(-a))),
    "relu": (fw.relu, [(3, 4)], lambda a: np.maximum(a, 0)),
    "matmul": (fw.matmul, [(3, 2), (2, 4)], lambda a, b: a @ b),
    "sum0": (lambda a: fw.reduce_sum(a, axis=0), [(3, 4)], lambda a: a.sum(0, keepdims=True)),
    "sum1": (lambda a: fw.reduce_sum(a, axis=1), [(3, 4)], lambda a: a.sum(1, keepdims=True)),
    "sum": (fw.reduce_sum, [(3, 4)], np.sum),
    "mean0": (lambda a: fw.reduce_mean(a, axis=0), [(3, 4)],
              lambda a: a.mean(0, keepdims=True)),
    "mean1": (lambda a: fw.reduce_mean(a, axis=1), [(3, 4)],
              lambda a: a.mean(1, keepdims=True)),
    "mean": (fw.reduce_mean, [(3, 4)], np.mean),
}


@pytest.mark.parametrize("name", sorted(_GIVEN))
def test_model_operations_compute_numpys_values_and_their_rules_match_numerical_gradients(name):
    from course_lib.gradcheck import numerical_gradient

    make, shapes, numpy_op = _GIVEN[name]
    rng = np.random.default_rng(sorted(_GIVEN).index(name))
    inputs = [fw.placeholder(shape) for shape in shapes]
    data = [rng.uniform(0.5, 2.0, s) if name == "log" else rng.normal(size=s) for s in shapes]
    out = make(*inputs)
    session = fw.Session()
    feed = dict(zip(inputs, data, strict=True))
    np.testing.assert_allclose(session.run(out, feed), numpy_op(*data), rtol=1e-14)
    weights = rng.normal(size=out.shape)
    J = fw.reduce_sum(out * weights) if out.shape else out * float(weights)
    ref.backward(J, session.forward(J, feed))
    for k, node in enumerate(inputs):
        def J_of(value, k=k):
            return session.run(J, {**feed, inputs[k]: value})
        np.testing.assert_allclose(node.grad, numerical_gradient(J_of, data[k]),
                                   rtol=1e-7, atol=1e-9)


def test_model_operations_refuse_shapes_they_cannot_take():
    with pytest.raises(ValueError, match="matmul needs"):
        fw.matmul(fw.placeholder((3, 2)), fw.placeholder((3, 2)))
    with pytest.raises(ValueError, match="axis"):
        fw.reduce_sum(fw.placeholder((3, 2)), axis=2)


def test_softmax_regression_on_the_framework_matches_numpy():
    """Notebook 05's section 5: notebook 04's training, on the framework and in numpy."""
    from course_lib.toy_data import make_blobs

    rng = np.random.default_rng(7)
    X_data, Y_data = make_blobs(60, rng)
    W0, m = 0.01 * rng.normal(size=(3, 2)), 60
    W, b = fw.Variable(W0), fw.Variable(np.zeros((3, 1)))
    X, Y = fw.placeholder((2, m)), fw.placeholder((3, m))
    Z = fw.matmul(W, X) + fw.matmul(b, np.ones((1, m)))
    J = -1 * fw.reduce_mean(fw.reduce_sum(
        Y * (Z - fw.matmul(np.ones((3, 1)), fw.log(fw.reduce_sum(fw.exp(Z), axis=0)))), axis=0))
    train = fw.GradientDescentOptimizer(0.5, backward=ref.backward).minimize(J)
    session = _session(W, b)
    W_np, b_np = W0.copy(), np.zeros((3, 1))
    for _ in range(50):
        Z_np = W_np @ X_data + b_np
        A = np.exp(Z_np) / np.exp(Z_np).sum(axis=0)
        assert session.run(J, {X: X_data, Y: Y_data}) == pytest.approx(
            -np.sum(Y_data * np.log(A)) / m, abs=1e-12)
        session.run(train, {X: X_data, Y: Y_data})
        dZ = (A - Y_data) / m
        W_np, b_np = W_np - 0.5 * dZ @ X_data.T, b_np - 0.5 * dZ.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(session.run(W), W_np, atol=1e-12)


def test_plot_graph_edges_pass_no_box_and_small_arrays_show_their_values():
    from course_lib.graph.plot import _BOX

    nodes, output, feed = drivers.build(lecture_placeholder_cost())
    session = _session(*[n for n in nodes.values() if n.op == "variable"])
    values = session.forward(output, feed)
    ref.backward(output, values)
    ax = fw.plot_graph(output, values=values, show_grad=True)
    positions, edges = fw.graph_layout(output)
    boxes = [(x, y) for x, y in positions.values()]
    for arrow in (p for p in ax.patches if isinstance(p, FancyArrowPatch)):
        points = arrow.get_path().vertices  # in data units: path= arrows are not transformed
        start, end = points[0], points[-1]
        for x, y in boxes:
            inside = (np.abs(points[:, 0] - x) < _BOX[0] / 2) & (np.abs(points[:, 1] - y)
                                                                 < _BOX[1] / 2)
            near_end = min(np.hypot(x - start[0], y - start[1]),
                           np.hypot(x - end[0], y - end[1])) < 0.6
            assert near_end or not inside.any(), (x, y)
        assert arrow.get_in_layout() is False
    texts = [t.get_text() for t in ax.texts]
    assert any("grad [" in t for t in texts)  # x (3, 1): its entries, not "array (3, 1)"
    assert not any("array (3, 1)" in t for t in texts)
    plt.close("all")
