"""The grader's half of the declarations: hidden calls, reference results, cases, values.

Each assignment has a published module `course_lib.checks.<name>` whose `EXERCISES`
({grade_id: Exercise}) registers its graded cells, and a private module
`autograder.reference.<name>` holding the reference solution (one keyword flag per named
mistake) and, for each exercise, a generator of hidden calls registered with `hidden`.
Everything the grader runs is derived here:

- `cases(assignment, grade_id, rng)`: the hidden calls as `Case`s, each judged by the
  exercise's own `judge` against the reference's result and every mistake's result
  (`seeded_cases`: those of a run's seed, built once per process);
- `visible_values(assignment)`: the visible calls' right results and each mistake's
  results, which `python -m autograder.exercises` writes to the values files.

An exercise whose calls go through a driver (the student's function passed to a published
function) says so with `Exercise.request` and `Exercise.reference_call`; nothing here knows
about any one assignment.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autograder.case import Case, case_rng
from autograder.course import assignments
from course_lib.exercise import Call, Exercise, dump_values, values_path

ASSIGNMENTS = tuple(assignments())
"""The course's assignments (a master each); the name after the number names its modules."""

Hidden = Callable[[np.random.Generator], list[Call]]
_HIDDEN: dict[tuple[str, str], Hidden] = {}


def module_name(assignment: str) -> str:
    """'batchnorm_test_time' for '03_batchnorm_test_time'."""
    return assignment.split("_", 1)[1]


def published(assignment: str) -> ModuleType:
    """The published module of `assignment` (declarations, hints, visible checks)."""
    return importlib.import_module(f"course_lib.checks.{module_name(assignment)}")


def private(assignment: str) -> ModuleType:
    """The private module of `assignment` (reference solution and hidden calls)."""
    return importlib.import_module(f"autograder.reference.{module_name(assignment)}")


def exercises(assignment: str) -> dict[str, Exercise]:
    """{grade_id: Exercise} of `assignment` (KeyError naming the known assignments)."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"no exercises for assignment {assignment!r}; "
                       f"known: {', '.join(ASSIGNMENTS)}")
    return published(assignment).EXERCISES


def hidden(exercise: Exercise) -> Callable[[Hidden], Hidden]:
    """Register the decorated `rng -> [Call]` as `exercise`'s generator of hidden calls."""
    def register(generate: Hidden) -> Hidden:
        _HIDDEN[exercise.assignment, exercise.grade_id] = generate
        return generate
    return register


def hidden_calls(exercise: Exercise, rng: np.random.Generator) -> list[Call]:
    """The hidden calls of `exercise` drawn from `rng`."""
    private(exercise.assignment)  # importing it registers the generators
    key = (exercise.assignment, exercise.grade_id)
    if key not in _HIDDEN:
        raise LookupError(f"{exercise.assignment}: no hidden calls registered for "
                          f"{exercise.grade_id} (decorate a generator with @hidden(...))")
    return _HIDDEN[key](rng)


def reference_result(exercise: Exercise, call: Call, mistake: str | None = None) -> Any:
    """The reference's result on `call`, with `mistake`'s flag set (None where it raises)."""
    solve = getattr(private(exercise.assignment), exercise.function)
    flags = {mistake: True} if mistake else {}
    try:
        with np.errstate(all="ignore"):
            return exercise.reference_call(solve, call, flags)
    except (ValueError, TypeError, IndexError, ZeroDivisionError):
        if mistake is None:
            raise
        return None  # this mistake raises on these inputs: nothing to recognise it by


def known_results(exercise: Exercise, call: Call, expected: Any) -> dict[str, Any]:
    """{mistake id: its result on `call`} for the mistakes that give a wrong result there."""
    known = {}
    for mistake in exercise.mistakes:
        value = reference_result(exercise, call, mistake)
        if value is not None and not exercise.same(value, expected):
            known[mistake] = value
    return known


def case(exercise: Exercise, call: Call) -> Case:
    """The grader's `Case` for one call: sent to the kernel, judged here."""
    expected = reference_result(exercise, call)
    known = known_results(exercise, call, expected)
    function, args, kwargs = exercise.request(call)
    return Case(call.label, function, args,
                lambda value: assessment(exercise, value, expected, known, call), kwargs)


def assessment(exercise: Exercise, value: Any, expected: Any, known: dict[str, Any],
               call: Call) -> tuple[str | None, str | None]:
    """(mistake id, sentence) of `value`: the id grades.csv shows is the mistake whose result
    it matched, or else the mistake whose hint a domain diagnosis said (by its properties)."""
    mistake, sentence = exercise.assess(value, expected, known, call)
    if sentence and mistake is None:
        mistake = next((m for m, hint in exercise.mistakes.items() if hint in sentence), None)
    return mistake, sentence


def cases(assignment: str, grade_id: str, rng: np.random.Generator) -> list[Case]:
    """The grader's cases of one graded cell, drawn from `rng`."""
    exercise = exercises(assignment)[grade_id]
    return [case(exercise, call) for call in hidden_calls(exercise, rng)]


@functools.lru_cache(maxsize=256)
def seeded_cases(assignment: str, grade_id: str, seed: int) -> tuple[Case, ...]:
    """The cases of one graded cell under a run's `seed`, built once per process.

    Every student of a run is judged on these: they depend on the seed, never on the
    student, and judging a result changes nothing in them (a request encodes the
    arguments afresh; a judge compares with results computed here)."""
    return tuple(cases(assignment, grade_id, case_rng(seed, grade_id)))


def checks_for(assignment: str) -> dict[str, Callable[[np.random.Generator], list[Case]]]:
    """{grade_id: rng -> [Case]} of `assignment`, in the master's order of declaration."""
    return {grade_id: functools.partial(cases, assignment, grade_id)
            for grade_id in exercises(assignment)}


# ------------------------------------------------------------- the generated values


def visible_values(assignment: str) -> dict[str, list[dict[str, Any]]]:
    """{grade_id: [{"expected", "mistakes"} per visible call]} computed from the reference."""
    values = {}
    for grade_id, exercise in exercises(assignment).items():
        values[grade_id] = []
        for call in exercise.visible:
            expected = reference_result(exercise, call)
            values[grade_id].append({"expected": expected,
                                     "mistakes": known_results(exercise, call, expected)})
    return values


def write_values(assignment: str, folder: Path | None = None) -> Path:
    """Write the values file of `assignment` (in `folder`, by default the published one)."""
    path = values_path(assignment, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_values(visible_values(assignment)))
    return path


def main(argv: list[str] | None = None) -> int:
    """python -m autograder.exercises [ASSIGNMENT ...]: regenerate the values files."""
    names = argv or ASSIGNMENTS
    for assignment in names:
        print(f"wrote {write_values(assignment)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
