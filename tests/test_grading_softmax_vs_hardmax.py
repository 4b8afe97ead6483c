"""Grading 04_softmax_vs_hardmax end to end: each known mistake loses exactly its points.

Every declared mistake is tried on both layers in-process by tests/test_exercises.py; here a
few go through the real grader, and both layers name what the generic test cannot see: a
cost returned as [J], a (1, 1) array, a bool or a tuple, and wrong results that match no
mistake get no hint.

softmax_cost_grad must be derived: right forms of the gradient keep their points on 200 seeds,
and the numerical gradient of a right cost (course_lib.gradcheck) loses them on every seed.
"""

import html

import numpy as np
import pytest

from autograder.case import case_rng, judge_results
from autograder.exercises import checks_for
from autograder.reference import softmax_vs_hardmax as ref
from course_lib import probe
from course_lib.checking import CheckFailed
from course_lib.checks.softmax_vs_hardmax import (
    EXERCISES,
    LOG_OF_SOFTMAX,
    NOT_FINITE,
    UNSHIFTED_LSE,
)
from tests.helpers import (
    in_process_failures,
    solution_sources,
)

A = "04_softmax_vs_hardmax"
HINTS = {grade_id: exercise.mistakes for grade_id, exercise in EXERCISES.items()}
ALL_HINTS = {hint for hints in HINTS.values() for hint in hints.values()}

LOOKS_NUMERICAL = "as a numerical (finite-difference) gradient would: derive it analytically"

NUMERICAL_GRAD = {
    "softmax_cost_grad": "from course_lib.gradcheck import numerical_gradient\n\n\n"
                         "def softmax_cost_grad(Z, Y):\n"
                         "    return numerical_gradient(lambda V: cross_entropy_cost(softmax(V), "
                         "Y), Z)\n"}

RIGHT_GRADS = {
    "over_m_by_multiplying": {"softmax_cost_grad": (
        "def softmax_cost_grad(Z, Y):\n    return (softmax(Z) - Y) * (1 / Y.shape[1])\n")},
    "unshifted_exp": {"softmax_cost_grad": "def softmax_cost_grad(Z, Y):\n"
                                           "    E = np.exp(Z)\n"
                                           "    return (E / E.sum(axis=0) - Y) / Y.shape[1]\n"},
    "softmax_jacobian_times_dA": {"softmax_cost_grad": (
        "def softmax_cost_grad(Z, Y):\n"
        "    A = softmax(Z)\n"
        "    dA = -Y / A / Y.shape[1]\n"
        "    return A * (dA - np.sum(A * dA, axis=0, keepdims=True))\n")},
}
"""Right forms of the gradient, written otherwise than the master."""

MISTAKES = {
    "softmax_wrong_axis": (
        {"softmax": "def softmax(Z):\n    T = np.exp(Z - Z.max(axis=0, keepdims=True))\n"
                    "    return T / T.sum(axis=1, keepdims=True)\n"},
        {"test_softmax": HINTS["test_softmax"]["rows_sum_to_one"], "test_softmax_stable": None,
         "test_softmax_cost_grad": None}),
    "softmax_no_max_subtraction": (
        {"softmax": "def softmax(Z):\n    T = np.exp(Z)\n    return T / T.sum(axis=0)\n"},
        {"test_softmax_stable": NOT_FINITE}),
    "cost_summed": (
        {"cross_entropy_cost": "def cross_entropy_cost(A, Y):\n"
                               "    return float(-np.sum(Y * np.log(A)))\n"},
        {"test_cross_entropy_cost": HINTS["test_cross_entropy_cost"]["summed"]}),
    "grad_not_divided_by_m": (
        {"softmax_cost_grad": "def softmax_cost_grad(Z, Y):\n    return softmax(Z) - Y\n"},
        {"test_softmax_cost_grad": HINTS["test_softmax_cost_grad"]["not_divided_by_m"]}),
    "grad_y_minus_a": (
        {"softmax_cost_grad": "def softmax_cost_grad(Z, Y):\n"
                              "    return (Y - softmax(Z)) / Y.shape[1]\n"},
        {"test_softmax_cost_grad": HINTS["test_softmax_cost_grad"]["y_minus_a"]}),
    "hardmax_several_ones_on_tie": (
        {"hardmax": "def hardmax(Z):\n    return (Z == Z.max(axis=0)).astype(float)\n"},
        {"test_hardmax_ties": HINTS["test_hardmax_ties"]["several_ones_on_tie"]}),
    "hardmax_last_index_on_tie": (
        {"hardmax": "def hardmax(Z):\n    A = np.zeros(Z.shape)\n"
                    "    idx = Z.shape[0] - 1 - np.argmax(Z[::-1], axis=0)\n"
                    "    A[idx, np.arange(Z.shape[1])] = 1.0\n    return A\n"},
        {"test_hardmax_ties": HINTS["test_hardmax_ties"]["last_index_on_tie"]}),
    "grad_by_numerical_gradient": (NUMERICAL_GRAD, {"test_softmax_cost_grad": LOOKS_NUMERICAL}),
    "cost_log_epsilon": (
        {"cross_entropy_cost": "def cross_entropy_cost(A, Y):\n"
                               "    return float(-np.sum(Y * np.log(A + 1e-8)) / Y.shape[1])\n"},
        {"test_cross_entropy_cost": HINTS["test_cross_entropy_cost"]["log_epsilon"]}),
    "hardmax_argmax_over_rows": (
        {"hardmax": "def hardmax(Z):\n    A = np.zeros(Z.shape)\n"
                    "    A[np.arange(Z.shape[0]), np.argmax(Z, axis=1)] = 1.0\n    return A\n"},
        {"test_hardmax": HINTS["test_hardmax"]["rows"],
         "test_hardmax_ties": HINTS["test_hardmax_ties"]["rows"]}),
    "xent_no_max_shift": (
        {"softmax_cross_entropy": "def softmax_cross_entropy(Z, Y):\n"
                                  "    lse = np.log(np.sum(np.exp(Z), axis=0))\n"
                                  "    return float(-np.sum(Y * (Z - lse)) / Y.shape[1])\n"},
        {"test_softmax_cross_entropy_stable": UNSHIFTED_LSE}),
    "xent_log_of_softmax": (
        {"softmax_cross_entropy": "def softmax_cross_entropy(Z, Y):\n"
                                  "    return cross_entropy_cost(softmax(Z), Y)\n"},
        {"test_softmax_cross_entropy_stable": LOG_OF_SOFTMAX}),
    "xent_mean_over_entries": (
        {"softmax_cross_entropy": "def softmax_cross_entropy(Z, Y):\n"
                                  "    c = Z.max(axis=0, keepdims=True)\n"
                                  "    lse = c + np.log(np.exp(Z - c).sum(axis=0, keepdims=True))\n"
                                  "    return float(-np.mean(Y * (Z - lse)))\n"},
        {"test_softmax_cross_entropy":
            HINTS["test_softmax_cross_entropy"]["mean_over_entries"],
         "test_softmax_cross_entropy_stable": None}),
    "xent_max_not_added_back": (
        {"softmax_cross_entropy": "def softmax_cross_entropy(Z, Y):\n"
                                  "    S = Z - Z.max(axis=0)\n"
                                  "    lse = np.log(np.exp(S).sum(axis=0))\n"
                                  "    return float(-np.sum(Y * (Z - lse)) / Y.shape[1])\n"},
        {"test_softmax_cross_entropy":
            HINTS["test_softmax_cross_entropy"]["max_not_added_back"],
         "test_softmax_cross_entropy_stable": None}),
    "softmax_global_max": (
        {"softmax": "def softmax(Z):\n    T = np.exp(Z - Z.max())\n"
                    "    return T / T.sum(axis=0, keepdims=True)\n"},
        {"test_softmax_stable": HINTS["test_softmax_stable"]["global_max"]}),
}


def _solved(sources):
    namespace = {"np": np}
    for source in {**solution_sources(A), **sources}.values():
        exec(source, namespace)
    return namespace


def test_derived_gradients_pass_and_numerical_ones_fail_on_every_seed():
    namespaces = {name: _solved(sources) for name, sources in
                  {"master": {}, **RIGHT_GRADS, "numerical": NUMERICAL_GRAD}.items()}
    for seed in range(200):
        cases = checks_for(A)["test_softmax_cost_grad"](case_rng(seed, "test_softmax_cost_grad"))
        for name, namespace in namespaces.items():
            verdict = judge_results(cases, [probe.call_one(c.request(), namespace)
                                            for c in cases])
            if name == "numerical":
                assert verdict.status == "wrong_answer", seed
                assert LOOKS_NUMERICAL in verdict.message, (seed, verdict.message)
            else:
                assert verdict.ok, (seed, name, verdict.message)


RIGHT = {
    "xent_shifted_log_softmax": {"softmax_cross_entropy": (
        "def softmax_cross_entropy(Z, Y):\n"
        "    S = Z - Z.max(axis=0)\n"
        "    return float(-np.sum(Y * (S - np.log(np.exp(S).sum(axis=0)))) / Y.shape[1])\n")},
    "xent_true_class_scores": {"softmax_cross_entropy": (
        "def softmax_cross_entropy(Z, Y):\n"
        "    c = Z.max(axis=0)\n"
        "    lse = c + np.log(np.exp(Z - c).sum(axis=0))\n"
        "    return float(np.mean(lse - np.sum(Y * Z, axis=0)))\n")},
    "xent_logaddexp_reduce": {"softmax_cross_entropy": (
        "def softmax_cross_entropy(Z, Y):\n"
        "    return float(-np.sum(Y * (Z - np.logaddexp.reduce(Z, axis=0))) / Z.shape[1])\n")},
}
"""Right variants of the functions other than the gradient (its own are tried on 200 seeds)."""
FEEDBACK = ("cost_summed", html.escape(HINTS["test_cross_entropy_cost"]["summed"]))
"""A student whose feedback page must name the mistake (tests/test_grading_classes.py)."""


def _verdicts(grade_id, answer):
    """(the visible check's message or None, the grader's verdict or None) for `answer`."""
    exercise = EXERCISES[grade_id]
    try:
        exercise.check(answer)
        message = None
    except CheckFailed as failure:
        message = str(failure)
    failed = in_process_failures(A, {exercise.function: f"{exercise.function} = _answer"}, 0,
                                 {"_answer": answer})
    return message, failed.get(grade_id)


def _wrapped(function, wrap):
    def answer(*args):
        return wrap(getattr(ref, function)(*args))

    answer.__name__ = function
    return answer


COST_CONTAINERS = {
    "[J]": (lambda J: [J], "J should be a float, not a list"),
    "a (1, 1) array": (lambda J: np.array([[J]]), "J is an array of shape (1, 1): return a float"),
    "a bool": (lambda J: J > 0, "J is a bool"),
    "a tuple": (lambda J: (J,), "J should be a float, not a tuple"),
}
"""A right J in the wrong container (the generic test's containers are arrays')."""


@pytest.mark.parametrize("container", sorted(COST_CONTAINERS))
def test_a_cost_in_a_wrong_container_gets_its_sentence_in_both_layers(container):
    wrap, sentence = COST_CONTAINERS[container]
    message, verdict = _verdicts("test_cross_entropy_cost",
                                 _wrapped("cross_entropy_cost", wrap))
    assert message is not None and sentence in message, message
    assert verdict.status == "wrong_answer" and sentence in verdict.message, verdict


NO_MISTAKE = {
    "test_softmax": ("softmax", lambda A: A * (1 + 1e-3 * np.cos(np.arange(A.size)).reshape(
        A.shape))),
    "test_hardmax": ("hardmax", lambda A: np.roll(A, 1, axis=0)),
    "test_cross_entropy_cost": ("cross_entropy_cost", lambda J: J * 1.01),
    "test_softmax_cost_grad": ("softmax_cost_grad", lambda dZ: dZ + 0.01),
    "test_softmax_cross_entropy": ("softmax_cross_entropy", lambda J: J * 1.01),
}
"""Wrong results that match no declared mistake."""


@pytest.mark.parametrize("grade_id", sorted(NO_MISTAKE))
def test_hints_are_not_shown_for_other_results(grade_id):
    function, wrap = NO_MISTAKE[grade_id]
    message, verdict = _verdicts(grade_id, _wrapped(function, wrap))
    assert message is not None and verdict.status == "wrong_answer"
    for text in (message, verdict.message):
        assert not [hint for hint in ALL_HINTS if hint in text], text
