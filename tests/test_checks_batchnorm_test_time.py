"""03_batchnorm_test_time: the visible checks and the grader agree on every named mistake.

Each mistake is the reference with its keyword flags (autograder/reference MISTAKES); its
hint is published once (course_lib.checks HINTS). For every mistake the visible checks and
the grader (in process, several seeds) fail the same cells with the same hint, and the
right reference passes both. The visible checks' frozen values are the reference's.
"""

from pathlib import Path

import numpy as np
import pytest

import course_lib.checks.batchnorm_test_time as visible
from autograder.reference import batchnorm_test_time as ref
from course_lib.checking import MODIFIED_ARGUMENT, CheckFailed
from tests.helpers import in_process_failures, solution_sources

A = "03_batchnorm_test_time"
SEEDS = [0, 1, 2]
CHECKS = {grade_id: getattr(visible, "check_" + grade_id.removeprefix("test_"))
          for grade_id in visible.VISIBLE}
FUNCTIONS = sorted({function for function, _ in visible.VISIBLE.values()})
ALL_MISTAKES = [(function, mistake) for function in FUNCTIONS
                for mistake in ref.MISTAKES[function]]


def notebook(sources=None):
    """The namespace of the master with the solution cells in `sources` replaced."""
    namespace = {"np": np}
    for source in {**solution_sources(A), **(sources or {})}.values():
        exec(source, namespace)
    return namespace


def visible_failures(sources=None):
    """{grade_id: message} of the visible checks that fail on the notebook with `sources`."""
    namespace, failures = notebook(sources), {}
    for grade_id, check in CHECKS.items():
        function, _ = visible.VISIBLE[grade_id]
        try:
            with np.errstate(all="ignore"):
                check(namespace[function])
        except CheckFailed as error:
            failures[grade_id] = str(error)
        except Exception as error:  # e.g. track_running_stats unpacking a wrong update
            failures[grade_id] = f"raised {type(error).__name__}: {error}"
    return failures


def own(failures, function):
    """The failures of the cells that check `function` itself."""
    return {g: m for g, m in failures.items() if visible.VISIBLE[g][0] == function}


def submission(function, body):
    """A solution cell: `function` defined by `body` (which may use `_ref`, the reference)."""
    return {function: "from autograder.reference import batchnorm_test_time as _ref\n"
                      f"def {function}(*args, **kwargs):\n    {body}\n"}


def hints_in(message):
    """The hint sentences that `message` contains."""
    return {h for hints in visible.HINTS.values() for h in hints.values() if h in message}


# ------------------------------------------------------------- frozen values and hints


def flat(value):
    """The arrays in `value` (an array or nested tuples of arrays), in order."""
    return [a for v in value for a in flat(v)] if isinstance(value, tuple) else [value]


def test_frozen_values_are_the_references():
    """`python -m autograder.reference.batchnorm_test_time` would write the same values."""
    fresh = ref.visible_values()
    assert fresh.keys() == visible.VALUES.keys()
    for grade_id, cases in fresh.items():
        for case, frozen in zip(cases, visible.VALUES[grade_id], strict=True):
            assert case["mistakes"].keys() == frozen["mistakes"].keys(), grade_id
            for mine, theirs in [(case["expected"], frozen["expected"]),
                                 *[(case["mistakes"][k], frozen["mistakes"][k])
                                   for k in case["mistakes"]]]:
                for a, b in zip(flat(mine), flat(theirs), strict=True):
                    assert a.shape == b.shape
                    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-300)


def test_render_round_trips(tmp_path):
    """The generated block, written and read back, holds the values it was made from."""
    values = ref.visible_values()
    namespace = {"np": np}
    exec(ref.render(values), namespace)
    assert namespace["_FROZEN"].keys() == visible._FROZEN.keys()


def test_every_mistake_has_one_hint_and_every_hint_a_mistake():
    assert {f: set(m) for f, m in ref.MISTAKES.items()} == {
        f: set(h) for f, h in visible.HINTS.items()}


def test_each_hint_sentence_is_written_once_in_the_source_tree():
    from autograder.checks import batchnorm_test_time as grader

    texts = {Path(m.__file__): Path(m.__file__).read_text() for m in (visible, grader, ref)}
    for function, hints in visible.HINTS.items():
        for mistake, sentence in hints.items():
            head = sentence[:35]
            homes = [p for p, text in texts.items() if head in text]
            assert homes == [Path(visible.__file__)], (function, mistake, homes)


# ------------------------------------------------------------------ the mistake matrix


@pytest.fixture(scope="module")
def right_in_process():
    return {seed: in_process_failures(A, {}, seed) for seed in SEEDS}


def test_the_reference_passes_both_layers(right_in_process):
    assert visible_failures() == {}
    assert right_in_process == {seed: {} for seed in SEEDS}


@pytest.mark.parametrize(("function", "mistake"), ALL_MISTAKES)
def test_each_mistake_is_named_alike_by_both_layers(function, mistake):
    flags = ref.MISTAKES[function][mistake]
    hint = visible.HINTS[function][mistake]
    cell = submission(function, f"return _ref.{function}(*args, **kwargs, **{flags!r})")
    shown = visible_failures(cell)
    assert shown, f"the visible checks pass {mistake}"
    for grade_id, message in shown.items():
        # a cell of another function (track_running_stats calling a wrong update) may
        # name that function's own mistake
        assert hint in message or visible.VISIBLE[grade_id][0] != function, (grade_id, message)
    for seed in SEEDS:
        with np.errstate(all="ignore"):
            graded = in_process_failures(A, cell, seed)
        assert set(graded) == set(shown), (seed, {g: v.message for g, v in graded.items()})
        for grade_id, verdict in graded.items():
            assert verdict.status == "wrong_answer", verdict
            assert hints_in(verdict.message) == hints_in(shown[grade_id]), verdict


# ---------------------------------------------------- properties of every graded function

MUTATIONS = {
    "exponentially_weighted_average": "values = args[0]; values *= 1.0 + 1e-3\n"
                                      "    return _ref.exponentially_weighted_average(*args, "
                                      "**kwargs)",
    "update_running_stats": "running_mu = args[0]; running_mu *= 0.9\n"
                            "    return _ref.update_running_stats(*args, **kwargs)",
    "track_running_stats": "args[0].append(args[0][0])\n"
                           "    return _ref.track_running_stats(*args, **kwargs)",
    "batchnorm_inference": "Z = args[0]; Z -= args[3]\n"
                           "    return _ref.batchnorm_inference(Z + args[3], *args[1:], "
                           "**kwargs)",
}
"""A body per graded function that changes one of its arguments in place."""


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_that_modifies_its_argument_is_named(function):
    body = MUTATIONS[function]
    shown = own(visible_failures(submission(function, body)), function)
    assert shown
    sentence = MODIFIED_ARGUMENT.format(function=function, argument="{}").split("{}")[0]
    for message in shown.values():
        assert sentence in message, message
    if grader_checks_arguments():
        graded = own(in_process_failures(A, submission(function, body), 0), function)
        assert set(graded) == set(shown)
        assert all(v.status == "wrong_answer" and sentence in v.message
                   for v in graded.values()), graded


def grader_checks_arguments():
    """Whether the grader's judge names a modified argument (the generic check of case.py)."""
    import inspect

    from autograder.checks import case

    return " modified its argument " in inspect.getsource(case)


CONTAINERS = {
    "a list": ("list({})", "is a list"),
    "float32": ("np.asarray({}, dtype=np.float32)", "float32, which keeps about 7 digits"),
    "a bool array": ("np.asarray({}) > 0", "has dtype bool"),
    "an np.matrix": ("np.asmatrix({})", "np.matrix"),
}
RESULT = {"exponentially_weighted_average": "_ref.exponentially_weighted_average(*args, **kwargs)",
          "batchnorm_inference": "_ref.batchnorm_inference(*args, **kwargs)"}


@pytest.mark.parametrize("container", sorted(CONTAINERS))
@pytest.mark.parametrize("function", sorted(RESULT))
def test_each_wrong_array_container_gets_its_sentence(function, container):
    wrap, words = CONTAINERS[container]
    cell = submission(function, "return " + wrap.format(RESULT[function]))
    shown = visible_failures(cell)
    assert shown and all(words in message for message in shown.values()), shown
    graded = in_process_failures(A, cell, 0)
    assert set(graded) == set(shown)
    for verdict in graded.values():
        if container == "an np.matrix":  # the probe refuses it before any judge
            assert verdict.status == "invalid_result" and "matrix" in verdict.message
        else:
            assert verdict.status == "wrong_answer" and words in verdict.message, verdict


PAIRS = {
    "a list of two arrays": ("list(_ref.{}(*args, **kwargs))", "should be a tuple of 2 values, "
                             "not a list"),
    "one array": ("_ref.{}(*args, **kwargs)[0]", "should be a tuple of 2 values"),
    "three values": ("(*_ref.{}(*args, **kwargs), None)", "has 3 values but should have 2"),
    "float32 arrays": ("tuple(np.float32(x) for x in _ref.{}(*args, **kwargs))",
                       "float32, which keeps about 7 digits"),
}


@pytest.mark.parametrize("shape", sorted(PAIRS))
@pytest.mark.parametrize("function", ["update_running_stats", "track_running_stats"])
def test_each_wrong_pair_gets_its_sentence(function, shape):
    body, words = PAIRS[shape]
    cell = submission(function, "return " + body.format(function))
    shown = own(visible_failures(cell), function)
    assert shown and all(words in message for message in shown.values()), shown
    graded = own(in_process_failures(A, cell, 0), function)
    assert set(graded) == set(shown)
    assert all(v.status == "wrong_answer" and words in v.message for v in graded.values())
