"""Every declared exercise, every named mistake: the two layers agree.

For each exercise (`course_lib.checks.<a>.EXERCISES`) and each of its mistakes (the
reference with that keyword flag set): the visible check names it with its hint, the
grader (its own cases, in process, on several seeds) names it with the same hint, and the
right reference passes both. Every graded function gets the properties of the framework
in both layers: changing an argument in place and returning the wrong container are each
named. The committed visible values are the reference's, and every hint sentence is
written once in the source tree.
"""

import functools
import inspect

import nbformat
import numpy as np
import pytest

from autograder import exercises as registry
from autograder.case import case_rng, judge_results
from course_lib import probe
from course_lib.checking import MODIFIED_ARGUMENT, CheckFailed
from course_lib.exercise import load_values
from course_lib.failures import WIDTH, strip_ansi
from tests.helpers import REPO, solved_namespace

SEEDS = (0, 1, 2)
DECLARED = list(registry.ASSIGNMENTS)
EXERCISES = [(a, g) for a in DECLARED for g in registry.exercises(a)]
MISTAKES = [(a, g, m) for a, g in EXERCISES for m in registry.exercises(a)[g].mistakes]


def exercise_of(assignment, grade_id):
    return registry.exercises(assignment)[grade_id]


@functools.cache
def master_namespace(assignment):
    """The master's imports and solution cells, executed once (copies are handed out)."""
    return solved_namespace(assignment)


def notebook_with(exercise, function):
    """The master's namespace with the exercise's function replaced by `function`."""
    namespace = dict(master_namespace(exercise.assignment))
    namespace[exercise.function] = function
    return namespace


def mistaken(exercise, mistake):
    """The reference with `mistake`'s flag set, as a plain function of the same name."""
    solve = getattr(registry.private(exercise.assignment), exercise.function)
    source = (f"def {exercise.function}(*args, **kwargs):\n"
              f"    return _solve(*args, **kwargs, {mistake}=True)\n")
    scope = {"_solve": solve}
    exec(source, scope)
    return scope[exercise.function]


def visible_message(exercise, namespace):
    """The visible check's CheckFailed message on `namespace` (None when it passes)."""
    try:
        with np.errstate(all="ignore"):
            exercise.check(*(namespace[f] for f in exercise.notebook_functions))
    except CheckFailed as error:
        assert_short_box(error)
        return str(error)
    return None


def assert_short_box(error):
    """What the notebook shows for `error`: a title and its sentence, every line short
    enough for Validate's dialog, with no traceback."""
    lines = [strip_ansi(line) for line in error._render_traceback_()]
    assert lines[0].startswith("✗ ") and len(lines) <= 12, lines
    assert all(len(line) <= WIDTH for line in lines), lines
    assert " ".join(" ".join(lines).split()).endswith(" ".join(error.problem.split())), lines
    assert not any("Traceback" in line or "File " in line for line in lines), lines


def grader_verdict(exercise, namespace, seed, cases=None):
    """The grader's verdict of the exercise's cell on `namespace`, judged in process on
    `cases` (by default the run's, as a grading worker holds them for every student)."""
    if cases is None:
        cases = registry.seeded_cases(exercise.assignment, exercise.grade_id, seed)
    with np.errstate(all="ignore"):
        records = [probe.call_one(c.request(), namespace) for c in cases]
    return judge_results(cases, records)


# ----------------------------------------------------------------- the declarations


@pytest.mark.parametrize("assignment", DECLARED)
def test_committed_values_are_the_references(assignment):
    """`python -m autograder.exercises` would write the same values file."""
    fresh, committed = registry.visible_values(assignment), load_values(assignment)
    assert fresh.keys() == committed.keys()
    for grade_id, calls in fresh.items():
        for mine, theirs in zip(calls, committed[grade_id], strict=True):
            assert mine["mistakes"].keys() == theirs["mistakes"].keys(), grade_id
            exercise = exercise_of(assignment, grade_id)
            for key in ["expected", *mine["mistakes"]]:
                a = mine[key] if key == "expected" else mine["mistakes"][key]
                b = theirs[key] if key == "expected" else theirs["mistakes"][key]
                assert exercise.same(a, b), (grade_id, key)


def test_values_file_round_trips(tmp_path):
    for assignment in DECLARED:
        path = registry.write_values(assignment, tmp_path)
        assert path.read_text() == (REPO / "course_lib" / "checks" / "values"
                                    / path.name).read_text(), assignment


@pytest.mark.parametrize("assignment, grade_id", EXERCISES)
def test_every_mistake_is_a_flag_of_the_reference(assignment, grade_id):
    exercise = exercise_of(assignment, grade_id)
    solve = getattr(registry.private(assignment), exercise.function)
    flags = {name for name, p in inspect.signature(solve).parameters.items()
             if p.kind is p.KEYWORD_ONLY and p.default is False}
    assert set(exercise.mistakes) <= flags, set(exercise.mistakes) - flags


def test_grade_ids_are_the_masters():
    """The declarations register exactly the master's graded test cells."""
    for assignment in DECLARED:
        nb = nbformat.read(REPO / "autograder" / "source" / assignment / f"{assignment}.ipynb",
                           as_version=4)
        graded = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                  if c.metadata.get("nbgrader", {}).get("grade")
                  and not c.metadata["nbgrader"].get("solution")]
        assert graded == list(registry.exercises(assignment)), assignment


def _hint_sentences():
    sentences = {}
    for assignment in DECLARED:
        for exercise in registry.exercises(assignment).values():
            for mistake, hint in exercise.mistakes.items():
                sentences.setdefault(hint, f"{exercise.grade_id}/{mistake}")
    return sentences


def test_every_hint_sentence_is_written_once_in_the_source_tree():
    """No hint is typed twice: each one's opening words occur in exactly one place."""
    files = [p for folder in ("course_lib", "autograder", "tests", "docs")
             for p in (REPO / folder).rglob("*") if p.suffix in (".py", ".ipynb", ".md")]
    texts = {p: p.read_text() for p in files}
    for hint, where in _hint_sentences().items():
        head = hint[:40]
        homes = [(p.relative_to(REPO), text.count(head)) for p, text in texts.items()
                 if head in text]
        assert len(homes) == 1 and homes[0][1] == 1, (where, homes)


# ------------------------------------------------------------------ the mistakes


@pytest.mark.parametrize("assignment, grade_id", EXERCISES)
def test_the_reference_passes_both_layers(assignment, grade_id):
    exercise = exercise_of(assignment, grade_id)
    namespace = master_namespace(assignment)
    assert visible_message(exercise, namespace) is None
    for seed in SEEDS:
        verdict = grader_verdict(exercise, namespace, seed)
        assert verdict.ok, verdict


@pytest.mark.parametrize("assignment, grade_id, mistake", MISTAKES)
def test_both_layers_name_each_mistake_with_its_hint(assignment, grade_id, mistake):
    exercise = exercise_of(assignment, grade_id)
    hint = exercise.mistakes[mistake]
    namespace = notebook_with(exercise, mistaken(exercise, mistake))
    message = visible_message(exercise, namespace)
    assert message is not None and hint in message, message
    for seed in SEEDS:
        verdict = grader_verdict(exercise, namespace, seed)
        assert verdict.status == "wrong_answer" and hint in verdict.message, (seed, verdict)
        # grades.csv's `mistake`: an id of this hint (mistakes may share a sentence)
        assert exercise.mistakes.get(verdict.mistake) == hint, (seed, verdict)


@pytest.mark.parametrize("assignment, grade_id", EXERCISES)
def test_judging_changes_nothing_in_the_cases_a_run_reuses(assignment, grade_id):
    """A worker judges every student of a run on the same cases (`seeded_cases`). Judged
    on unused cases, then judged again after every student's turn, the right answer and
    each declared mistake get the same verdicts; the cases still send the requests of
    cases built afresh."""
    exercise = exercise_of(assignment, grade_id)
    seed = 7  # a seed no other test here uses: these cases start unused
    students = [master_namespace(assignment),
                *(notebook_with(exercise, mistaken(exercise, m)) for m in exercise.mistakes)]
    reused = registry.seeded_cases(assignment, grade_id, seed)
    assert registry.seeded_cases(assignment, grade_id, seed) is reused
    first = [grader_verdict(exercise, student, seed, reused) for student in students]
    assert first[0].ok, first[0]
    assert [grader_verdict(exercise, student, seed, reused) for student in students] == first
    fresh = registry.cases(assignment, grade_id, case_rng(seed, grade_id))
    assert [c.request() for c in reused] == [c.request() for c in fresh]


# ----------------------------------------------- the properties every function gets


def _data_in(args):
    """The first argument that can be changed in place (an array, a list, a dict), or None."""
    return next((a for a in args if isinstance(a, (list, dict)) or (
        isinstance(a, np.ndarray) and a.size)), None)


def _change(value):
    """Change `value` (an array, a list or a dict) in place."""
    if isinstance(value, np.ndarray):
        value[...] = value + 1.0
    elif isinstance(value, list):
        value.append(value[0] if value else 0.0)
    else:
        value["changed by the function"] = 1.0


def in_place(exercise, seen):
    """The reference, but it changes its first data argument in place after computing;
    `seen` collects whether it had one."""
    solve = getattr(registry.private(exercise.assignment), exercise.function)

    def function(*args, **kwargs):
        result = solve(*args, **kwargs)
        data = _data_in(args)
        seen.add(data is not None)
        if data is not None:
            _change(data)
        return result

    function.__name__ = exercise.function
    function.__signature__ = inspect.signature(solve)
    return function


CONTAINERS = {
    "a list": {"array": (lambda a: np.asarray(a).tolist(), "return a numpy array"),
               "float": (lambda j: [j], "should be a float, not a list")},
    "float32": {"array": (lambda a: np.asarray(a, dtype=np.float32), "float32, which keeps"),
                "float": (np.float32, "float32, which keeps")},
    "a bool": {"array": (lambda a: np.asarray(a) > 0, "has dtype bool"),
               "float": (lambda j: bool(j > 0), "is a bool: return a float")},
    "a matrix": {"array": (np.asmatrix, "matrix; return a plain numpy array"),
                 "float": (lambda j: np.array([[j]]), "array of shape (1, 1): return a float")},
}
"""Ways of returning the right numbers in the wrong container, for an array result and for a
float result, and the words naming each (the kernel refuses to send an np.matrix at all,
so the grader names it before judging, as invalid_result)."""

TUPLES = {
    "a list of the values": (list, "not a list"),
    "the first value alone": (lambda t: t[0], "should be a tuple of"),
    "one value too many": (lambda t: (*t, None), "values but should have"),
}
"""Ways of returning a tuple wrongly, and the words naming each."""


def returning(exercise, wrap):
    """The reference, but its result passed through `wrap` first."""
    solve = getattr(registry.private(exercise.assignment), exercise.function)

    def function(*args, **kwargs):
        return wrap(solve(*args, **kwargs))

    function.__name__ = exercise.function
    return function


@pytest.mark.parametrize("assignment, grade_id", EXERCISES)
def test_changing_an_argument_in_place_is_named_by_both_layers(assignment, grade_id):
    exercise = exercise_of(assignment, grade_id)
    seen = set()
    namespace = notebook_with(exercise, in_place(exercise, seen))
    message = visible_message(exercise, namespace) or ""
    if seen == {False}:  # it is given only numbers and generators: nothing to change
        assert message == "", message
        return
    head = MODIFIED_ARGUMENT.split("{argument}")[0].format(function=exercise.function)
    assert head in message, message
    verdict = grader_verdict(exercise, namespace, SEEDS[0])
    assert verdict.status == "wrong_answer" and head in verdict.message, verdict


def _named_by_both_layers(exercise, function, words, *, grader_status="wrong_answer"):
    namespace = notebook_with(exercise, function)
    message = visible_message(exercise, namespace) or ""
    assert words in message, message
    verdict = grader_verdict(exercise, namespace, SEEDS[0])
    assert verdict.status == grader_status and words in verdict.message, verdict


def wrapping(exercise, container, seen):
    """The reference, but the array or float it returns (the first of a tuple) is put in
    `container`'s wrong container; `seen` collects the kinds of result met."""
    solve = getattr(registry.private(exercise.assignment), exercise.function)

    def wrap(value):
        kind = ("float" if isinstance(value, float) else
                "array" if isinstance(value, np.ndarray) else None)
        seen.add(kind)
        return CONTAINERS[container][kind][0](value) if kind else value

    def function(*args, **kwargs):
        result = solve(*args, **kwargs)
        return (wrap(result[0]), *result[1:]) if isinstance(result, tuple) else wrap(result)

    function.__name__ = exercise.function
    return function


@pytest.mark.parametrize("container", sorted(CONTAINERS))
@pytest.mark.parametrize("assignment, grade_id", EXERCISES)
def test_each_wrong_container_is_named_by_both_layers(assignment, grade_id, container):
    exercise = exercise_of(assignment, grade_id)
    seen = set()
    namespace = notebook_with(exercise, wrapping(exercise, container, seen))
    message = visible_message(exercise, namespace) or ""
    if seen == {None}:  # it returns no array or number to wrap (a search's trials)
        assert message == "", message
        return
    (kind,) = seen - {None}
    words = CONTAINERS[container][kind][1]
    assert words in message, message
    verdict = grader_verdict(exercise, namespace, SEEDS[0])
    refused = container == "a matrix" and kind == "array"
    assert verdict.status == ("invalid_result" if refused else "wrong_answer"), verdict
    assert words in verdict.message, verdict


@pytest.mark.parametrize("shape", sorted(TUPLES))
@pytest.mark.parametrize("assignment, grade_id", EXERCISES)
def test_each_wrong_tuple_is_named_by_both_layers(assignment, grade_id, shape):
    exercise = exercise_of(assignment, grade_id)
    wrap, words = TUPLES[shape]
    if isinstance(exercise.result, str):  # its result is not a tuple
        assert not isinstance(load_values(assignment)[grade_id][0]["expected"], tuple)
        return
    _named_by_both_layers(exercise, returning(exercise, wrap), words)


def test_the_check_never_shows_its_own_frames():
    """A student's function that raises gets one sentence naming its line, no traceback."""
    for assignment in DECLARED:
        for exercise in registry.exercises(assignment).values():
            source = f"def {exercise.function}(*args, **kwargs):\n    return 1 / 0\n"
            scope = {}
            exec(compile(source, "<student cell>", "exec"), scope)
            namespace = notebook_with(exercise, scope[exercise.function])
            message = visible_message(exercise, namespace)
            assert "raised ZeroDivisionError at line 2" in message, message
            assert "course_lib" not in message and "Traceback" not in message


@pytest.mark.parametrize("assignment, grade_id", EXERCISES)
def test_an_unimplemented_function_is_named_by_both_layers(assignment, grade_id):
    """Each function the cell uses, left as its stub, is the one named (not the first)."""
    exercise = exercise_of(assignment, grade_id)
    for name in exercise.notebook_functions:
        scope = {}
        # compiled as a notebook cell is, so the probe sees the student's frame
        exec(compile(f"def {name}(*args, **kwargs):\n    raise NotImplementedError\n",
                     "/tmp/ipykernel_0/stub.py", "exec"), scope)
        namespace = {**master_namespace(assignment), name: scope[name]}
        message = visible_message(exercise, namespace)
        assert message.startswith(f"{name} is not implemented yet"), message
        verdict = grader_verdict(exercise, namespace, SEEDS[0])
        assert verdict.status == "not_implemented", verdict
        assert verdict.message.endswith(f"{name} is not implemented yet"), verdict
