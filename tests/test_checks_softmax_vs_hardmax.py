"""04_softmax_vs_hardmax, both layers in-process: every declared mistake is named by the visible
check and by the grader with the same sentence; the reference passes both; a function that
modifies its argument and each wrong return container get their own sentence."""

import functools

import numpy as np
import pytest

from autograder.case import RECORD_KEYS
from autograder.reference import softmax_vs_hardmax as ref
from course_lib.checking import MODIFIED_ARGUMENT, CheckFailed
from course_lib.checks import softmax_vs_hardmax as vis
from tests.helpers import in_process_failures

A = "04_softmax_vs_hardmax"
SEEDS = (0, 1, 2, 3)

VISIBLE = {
    "test_softmax": vis.check_softmax,
    "test_softmax_stable": vis.check_softmax_stable,
    "test_hardmax": vis.check_hardmax,
    "test_hardmax_ties": vis.check_hardmax_ties,
    "test_cross_entropy_cost": vis.check_cross_entropy_cost,
    "test_softmax_cost_grad": vis.check_softmax_cost_grad,
}
CELLS = {
    "softmax": {"test_softmax", "test_softmax_stable", "test_softmax_cost_grad"},
    "hardmax": {"test_hardmax", "test_hardmax_ties"},
    "cross_entropy_cost": {"test_cross_entropy_cost"},
    "softmax_cost_grad": {"test_softmax_cost_grad"},
}
"""The cells that may fail when a function is wrong (the master's gradient calls softmax)."""

GENERIC = {
    "cost_summed": "times too large: divide by the number of examples m",
    "cost_no_minus": "J has the wrong sign",
    "grad_not_divided_by_m": "times too large: divide by the number of examples m",
    "grad_y_minus_a": "dZ has the wrong sign",
}
"""Mistakes named by course_lib.checking's generic sentences (they carry m, so a fragment)."""


def student(function, **flags):
    """The reference's `function` with mistake `flags`, as a student's plain function."""
    variant = functools.partial(getattr(ref, function), **flags)

    def answer(*args):
        return variant(*args)

    answer.__name__ = function
    return answer


def visible_verdict(cell, answer):
    """The visible check's message for `answer` in `cell`, or None when it passes."""
    try:
        VISIBLE[cell](answer)
    except CheckFailed as failure:
        return str(failure)
    return None


def grader_verdicts(function, answer, seed):
    """{grade_id: verdict} of the grader's failing cells with `answer` as `function`."""
    return in_process_failures(A, {function: f"{function} = _answer"}, seed,
                               {"_answer": answer})


def test_visible_expected_values_are_the_references():
    computed = ref.visible_expected()
    assert computed.keys() == vis.EXPECTED.keys()
    for cell, values in computed.items():
        assert values.keys() == vis.EXPECTED[cell].keys(), cell
        for name, value in values.items():
            np.testing.assert_allclose(vis.EXPECTED[cell][name], value, rtol=1e-15, atol=0,
                                       err_msg=f"{cell}: {name}")


def test_every_mistake_has_one_hint_or_a_generic_sentence():
    assert set(ref.MISTAKES) == set(vis.HINTS) | set(GENERIC)
    assert not set(vis.HINTS) & set(GENERIC)


@pytest.mark.parametrize("mistake", sorted(ref.MISTAKES))
def test_mistake_is_named_alike_by_both_layers(mistake):
    function, flags, cell = ref.MISTAKES[mistake]
    hint = vis.HINTS.get(mistake) or GENERIC[mistake]
    answer = student(function, **flags)
    message = visible_verdict(cell, answer)
    assert message is not None and hint in message, message
    for seed in SEEDS:
        failed = grader_verdicts(function, answer, seed)
        assert cell in failed, (seed, failed)
        assert failed[cell].status == "wrong_answer", failed[cell]
        assert hint in failed[cell].message, (seed, failed[cell].message)
        assert set(failed) <= CELLS[function], (seed, {g: v.message for g, v in failed.items()})


def test_the_reference_passes_both_layers(capsys):
    for cell, check in VISIBLE.items():
        function = cell.removeprefix("test_").removesuffix("_stable").removesuffix("_ties")
        check(getattr(ref, function))
    assert capsys.readouterr().out.count("\n") == len(VISIBLE)
    for seed in SEEDS:
        assert in_process_failures(A, {}, seed) == {}


def test_hints_are_not_shown_for_other_results():
    """A wrong result without a mistake's pattern gets no hint of this notebook."""
    noise = np.random.default_rng(0)
    wrong_softmax = student("softmax")
    messages = [
        visible_verdict("test_softmax", lambda Z: wrong_softmax(Z) * (1 + 1e-3 * noise.normal(
            size=Z.shape))),
        visible_verdict("test_hardmax", lambda Z: np.roll(student("hardmax")(Z), 1, axis=0)),
        visible_verdict("test_cross_entropy_cost",
                        lambda A, Y: student("cross_entropy_cost")(A, Y) * 1.01),
        visible_verdict("test_softmax_cost_grad",
                        lambda Z, Y: student("softmax_cost_grad")(Z, Y) + 0.01),
    ]
    for message in messages:
        assert message is not None
        assert not [h for h in vis.HINTS.values() if h in message], message


MUTATING = {
    "softmax": "def softmax(Z):\n    Z -= Z.max(axis=0, keepdims=True)\n"
               "    np.exp(Z, out=Z)\n    Z /= Z.sum(axis=0, keepdims=True)\n    return Z\n",
    "hardmax": "def hardmax(Z):\n    winners = np.argmax(Z, axis=0)\n    Z[...] = 0.0\n"
               "    Z[winners, np.arange(Z.shape[1])] = 1.0\n    return Z\n",
    "cross_entropy_cost": "def cross_entropy_cost(A, Y):\n    np.log(A, out=A)\n"
                          "    return float(-np.sum(Y * A) / Y.shape[1])\n",
    "softmax_cost_grad": "def softmax_cost_grad(Z, Y):\n    Z -= Z.max(axis=0, keepdims=True)\n"
                         "    E = np.exp(Z)\n    return (E / E.sum(axis=0) - Y) / Y.shape[1]\n",
}
"""Right results, computed in the caller's arrays."""

MUTATED = {"softmax": "Z", "hardmax": "Z", "cross_entropy_cost": "A", "softmax_cost_grad": "Z"}


@pytest.mark.parametrize("function", sorted(MUTATING))
def test_a_function_that_modifies_its_argument_is_named(function):
    namespace = {"np": np}
    exec(MUTATING[function], namespace)
    sentence = MODIFIED_ARGUMENT.format(function=function, argument=MUTATED[function])
    for cell in sorted(CELLS[function] - {"test_softmax_cost_grad"} if function == "softmax"
                       else CELLS[function]):
        assert visible_verdict(cell, namespace[function]) == sentence, cell
    if "args_after" not in RECORD_KEYS:
        pytest.skip("the grader does not yet report arguments after the call")
    failed = grader_verdicts(function, namespace[function], 0)
    for cell in sorted(CELLS[function]):
        assert failed[cell].status == "wrong_answer", failed[cell]
        assert "modified its argument" in failed[cell].message, failed[cell].message
    own = sorted(CELLS[function])[0] if function != "softmax" else "test_softmax"
    assert sentence in failed[own].message, failed[own].message


CONTAINERS = {
    "softmax as a list": ("softmax", lambda A: A.tolist(), "A is a list"),
    "softmax as float32": ("softmax", lambda A: A.astype(np.float32), "A is float32"),
    "softmax in a tuple": ("softmax", lambda A: (A,), "A is a tuple"),
    "hardmax as bool": ("hardmax", lambda A: A.astype(bool), "A has dtype bool"),
    "hardmax as integers": ("hardmax", lambda A: A.astype(int), "A has integer dtype"),
    "cost as [J]": ("cross_entropy_cost", lambda J: [J], "J should be a float, not a list"),
    "cost as a (1, 1) array": ("cross_entropy_cost", lambda J: np.array([[J]]),
                               "J is an array of shape (1, 1): return a float"),
    "cost as a bool": ("cross_entropy_cost", lambda J: J > 0, "J is a bool"),
    "cost in a tuple": ("cross_entropy_cost", lambda J: (J,), "J should be a float, not a tuple"),
    "gradient as float32": ("softmax_cost_grad", lambda d: d.astype(np.float32),
                            "dZ is float32"),
    "gradient as a list": ("softmax_cost_grad", lambda d: d.tolist(), "dZ is a list"),
}


@pytest.mark.parametrize("container", sorted(CONTAINERS))
def test_a_wrong_return_container_gets_its_sentence_in_both_layers(container):
    function, wrap, sentence = CONTAINERS[container]
    right = getattr(ref, function)

    def answer(*args):
        return wrap(right(*args))

    own_cells = CELLS[function] - ({"test_softmax_cost_grad"} if function == "softmax" else set())
    for cell in sorted(own_cells):
        message = visible_verdict(cell, answer)
        assert message is not None and sentence in message, (cell, message)
    failed = grader_verdicts(function, answer, 0)
    for cell in sorted(own_cells):
        assert failed[cell].status == "wrong_answer" and sentence in failed[cell].message, (
            cell, failed[cell])
