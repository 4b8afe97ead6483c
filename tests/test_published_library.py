"""The published course_lib holds no working solution of any graded function (SPEC).

Every function and class of every course_lib module (found by walking the package, private
names included, since a student can import those too) is tried as the answer of every graded
cell: it replaces the function the cell grades in a namespace that holds the masters' other
solutions, and the grader's own cases are run and judged in process. None may pass. The
obvious compositions with the library's numerical tools (a backward pass from
`numerical_layer` or `numerical_gradient` around a right forward pass, 04's gradient by
`numerical_gradient` of a right cost) must fail every cell of the gradient they stand for.
"""

import functools
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import course_lib
from autograder.case import case_rng, judge_results
from autograder.exercises import ASSIGNMENTS, checks_for
from course_lib import probe
from course_lib.gradcheck import numerical_gradient
from course_lib.numerical_layer import numerical_layer
from tests.helpers import solution_sources, solved_namespace

SEEDS = (0, 1, 2)


@pytest.fixture(autouse=True)
def close_figures():
    """Plotting functions tried as answers open figures: close them after each test."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def library_modules():
    """course_lib and every module under it, imported."""
    names = [info.name for info in pkgutil.walk_packages(course_lib.__path__, "course_lib.")]
    return [course_lib, *(importlib.import_module(name) for name in names)]


def library_callables():
    """{qualified name: object} of every function and class defined in course_lib."""
    found = {}
    for module in library_modules():
        for name, obj in vars(module).items():
            if name.startswith("__") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", "").startswith("course_lib"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def graded_cells():
    """[(assignment, grade_id, name of the function it grades)] for every graded cell."""
    cells = []
    for assignment in ASSIGNMENTS:
        functions = sorted(solution_sources(assignment), key=len, reverse=True)
        for grade_id in checks_for(assignment):
            graded = next(f for f in functions if grade_id.startswith(f"test_{f}"))
            cells.append((assignment, grade_id, graded))
    return cells


def passes(assignment, grade_id, namespace, seed):
    """Do the grader's cases of `grade_id` all pass on the functions in `namespace`?

    Judged case by case as at grading time; the first failing case decides, so a candidate
    that fails at once is not run on the rest (05's graphs are thousands of nodes deep).
    """
    with np.errstate(all="ignore"):
        for case, request in _cases(assignment, grade_id, seed):
            if not judge_results([case], [probe.call_one(request, namespace)]).ok:
                return False
    return True


@functools.cache
def _cases(assignment, grade_id, seed):
    """The grader's cases of a cell with their requests, built once (deep graphs are costly)."""
    cases = checks_for(assignment)[grade_id](case_rng(seed, grade_id))
    return tuple((case, case.request()) for case in cases)


def test_the_walk_finds_the_library():
    """The walk reaches the modules that once held answers, and every graded cell is listed."""
    names = library_callables()
    assert {"course_lib.numerical_layer.numerical_layer",
            "course_lib.gradcheck.numerical_gradient",
            "course_lib.tiny_network.TinyNetworkTask",
            "course_lib.graph.drivers.gradients"} <= set(names)
    assert len(graded_cells()) == sum(len(checks_for(a)) for a in ASSIGNMENTS)


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_the_masters_pass_so_a_failure_below_is_the_candidates(assignment):
    namespace = solved_namespace(assignment)
    for cell_assignment, grade_id, _ in graded_cells():
        if cell_assignment == assignment:
            assert passes(assignment, grade_id, dict(namespace), 0), grade_id


@pytest.mark.parametrize("cell", graded_cells(), ids=lambda cell: cell[1])
def test_no_library_callable_passes_a_graded_cell(cell):
    assignment, grade_id, graded = cell
    namespace = solved_namespace(assignment)
    passing = [name for name, candidate in library_callables().items()
               if passes(assignment, grade_id, {**namespace, graded: candidate}, 0)]
    assert passing == [], f"{grade_id} is passed by course_lib's {passing}"


def _bn_output(Z, gamma, beta, eps):
    mu = Z.mean(axis=1, keepdims=True)
    var = ((Z - mu) ** 2).mean(axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(var + eps) + beta


def numerical_layer_pair():
    """batchnorm_forward and batchnorm_backward from a right forward pass and numerical_layer."""
    def batchnorm_forward(Z, gamma, beta, eps=1e-5):
        forward, _ = numerical_layer(lambda Z, g, b: _bn_output(Z, g, b, eps))
        out, cache = forward(Z, gamma, beta)
        return out, (cache, eps)

    def batchnorm_backward(dZ_tilde, cache):
        inner, eps = cache
        _, backward = numerical_layer(lambda Z, g, b: _bn_output(Z, g, b, eps))
        return backward(dZ_tilde, inner)

    return {"batchnorm_forward": batchnorm_forward, "batchnorm_backward": batchnorm_backward}


def numerical_gradient_pair():
    """batchnorm_forward and batchnorm_backward by numerical_gradient of sum(dZ_tilde * out)."""
    def batchnorm_forward(Z, gamma, beta, eps=1e-5):
        return _bn_output(Z, gamma, beta, eps), (Z.copy(), gamma.copy(), beta.copy(), eps)

    def batchnorm_backward(dZ_tilde, cache):
        Z, gamma, beta, eps = cache
        return (numerical_gradient(lambda V: np.sum(dZ_tilde * _bn_output(V, gamma, beta, eps)),
                                   Z),
                numerical_gradient(lambda V: np.sum(dZ_tilde * _bn_output(Z, V, beta, eps)),
                                   gamma),
                numerical_gradient(lambda V: np.sum(dZ_tilde * _bn_output(Z, gamma, V, eps)),
                                   beta))

    return {"batchnorm_forward": batchnorm_forward, "batchnorm_backward": batchnorm_backward}


def numerical_softmax_cost_grad(namespace):
    """04's gradient as numerical_gradient of the (right) cost of the (right) softmax."""
    softmax, cost = namespace["softmax"], namespace["cross_entropy_cost"]

    def softmax_cost_grad(Z, Y):
        return numerical_gradient(lambda V: cost(softmax(V), Y), Z)

    return {"softmax_cost_grad": softmax_cost_grad}


BACKWARD_CELLS = ("test_batchnorm_backward", "test_batchnorm_backward_params",
                  "test_batchnorm_backward_tiny_variance")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("make", [numerical_layer_pair, numerical_gradient_pair])
def test_numerical_batchnorm_backward_passes_no_gradient_cell(make, seed):
    A = "02_batchnorm_derivation"
    namespace = {**solved_namespace(A), **make()}
    assert passes(A, "test_batchnorm_forward", dict(namespace), seed)  # the forward is right
    assert [g for g in BACKWARD_CELLS if passes(A, g, dict(namespace), seed)] == []


@pytest.mark.parametrize("seed", SEEDS)
def test_numerical_softmax_cost_grad_fails(seed):
    A = "04_softmax_vs_hardmax"
    namespace = solved_namespace(A)
    namespace.update(numerical_softmax_cost_grad(namespace))
    assert not passes(A, "test_softmax_cost_grad", namespace, seed)
