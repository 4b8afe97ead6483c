"""One declaration per graded test cell: what students may see, and the check derived from it.

An `Exercise` is the published half of a graded cell: the student's function it checks,
what its result is called, the visible calls, the tolerance, and the hint sentence of each
named mistake. From it come

- the visible check (`Exercise.check`), which a notebook's test cell calls;
- the judge (`Exercise.judge`), which the visible check and the grader both use, so that
  a mistake is named by the same sentence at the same tolerance in both layers.

The private half lives in `autograder/reference/<assignment>.py`: the reference solution,
which takes one keyword flag per named mistake (`flag=True` reproduces it), and a generator
of hidden calls registered with `autograder.exercises.hidden`. The right results of the
visible calls, and each mistake's results there, are computed from the reference by

    python -m autograder.exercises

and committed as `course_lib/checks/values/<assignment>.json`; they are never typed.

Every graded function gets two properties for free, in both layers: it does not modify its
arguments, and its result has the declared container, shape and dtype (each way of getting
that wrong has its own sentence, see `checking.contract_problem`).

Example
-------
>>> import numpy as np
>>> double = Exercise("test_double", "double", result="y", passed="double doubles.",
...                   visible=[Call("x = [1, 2]", (np.array([1.0, 2.0]),))],
...                   mistakes={"halved": "y is halved: multiply by 2, do not divide"})
>>> double.judge(np.array([0.5, 1.0]), np.array([2.0, 4.0]), {"halved": np.array([0.5, 1.0])})
'y is wrong: y is halved: multiply by 2, do not divide'
>>> double.judge([2.0, 4.0], np.array([2.0, 4.0]), {})
'y is a list: return a numpy array (np.array(...) or a numpy expression)'
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from course_lib import codec
from course_lib.checking import (
    MODIFIED_ARGUMENT,
    CheckFailed,
    contract_problem,
    describe_mismatch,
    matches,
    modified_arguments,
    scale_of,
    snapshot,
    student_frame,
)
from course_lib.failures import not_implemented, success

VALUES_DIR = Path(__file__).resolve().parent / "checks" / "values"
"""Where the generated visible values of each assignment are committed."""


@dataclass(frozen=True)
class Call:
    """One call of the student's function: what it is (shown to students), its arguments.

    >>> Call("Z of shape (2, 3)", (np.zeros((2, 3)),), {"eps": 0.1}).kwargs
    {'eps': 0.1}
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    @classmethod
    def of(cls, label: str, *args: Any, **kwargs: Any) -> Call:
        """Call.of("m = 1", Z, eps=0.1) is Call("m = 1", (Z,), {"eps": 0.1})."""
        return cls(label, args, kwargs)


Problem = Callable[[Call, Any, Any], "str | None"]
"""A domain diagnosis: (call, result, expected) -> a sentence, or None when it sees nothing."""


@dataclass
class Exercise:
    """The published declaration of one graded test cell.

    Parameters
    ----------
    grade_id : str
        The test cell's grade_id in the master, e.g. "test_batchnorm_inference".
    function : str
        The notebook's function the cell grades (the reference has the same name).
    result : str or tuple of str
        What the result is called in the notebook; a tuple for a function returning a tuple.
    passed : str
        The sentence the visible check prints when every visible call is right.
    visible : list of Call
        The visible calls, in the order they are checked.
    mistakes : dict of str to str
        {mistake id: the one sentence naming it}. The id is the reference's keyword flag.
    rtol : float
        Tolerance relative to the largest expected entry, the same in both layers.
    problem : callable, optional
        A domain diagnosis tried after the named mistakes, before the generic comparison.
    uses : tuple of str
        The notebook's functions the visible check is given, when not just `function`.
    assignment : str
        Set by `declare`: the assignment the exercise belongs to.
    """

    grade_id: str
    function: str
    result: str | tuple[str, ...]
    passed: str
    visible: list[Call]
    mistakes: dict[str, str] = field(default_factory=dict)
    rtol: float = 1e-9
    problem: Problem | None = None
    uses: tuple[str, ...] = ()
    assignment: str = ""

    @property
    def notebook_functions(self) -> tuple[str, ...]:
        """The names of the notebook's functions that `check` takes, in order."""
        return self.uses or (self.function,)

    # ------------------------------------------------------------------ the judge

    def judge(self, result: Any, expected: Any, known: dict[str, Any],
              call: Call | None = None) -> str | None:
        """None when `result` is `expected`, otherwise one sentence naming what is wrong
        (the sentence of `assess`)."""
        return self.assess(result, expected, known, call)[1]

    def assess(self, result: Any, expected: Any, known: dict[str, Any],
                 call: Call | None = None) -> tuple[str | None, str | None]:
        """(the id of the named mistake the result matches or None, the sentence or None).

        `known` maps a mistake id to that mistake's result on the same call (a mistake with
        no result, or the right one, is left out). In order: a mistake's hint when the result
        matches that mistake's result and has its container; the contract sentence (wrong
        container, shape or dtype); None when right; the `problem` hook's diagnosis; a
        generic sentence with the relative error.
        """
        contract = self.contract_problem(result, expected)
        for mistake, value in known.items():
            # a mistake is named only for a result shaped like it (03's `returns_tuple` is a
            # tuple like its mistake's), never for a wrong container that happens to match
            if self.same(result, value) and (
                    contract is None or self.contract_problem(result, value) is None):
                return mistake, (f"{self._wrong_part(result, expected)} is wrong: "
                                 f"{self.mistakes[mistake]}")
        if contract:
            return None, contract
        if self.same(result, expected):
            return None, None
        if self.problem is not None:
            problem = self.problem(call, result, expected)
            if problem:
                return None, problem
        return None, self._mismatch(result, expected)

    def contract_problem(self, result: Any, expected: Any) -> str | None:
        """The sentence for a result of the wrong container, shape or dtype (None if right)."""
        names = self.result
        if isinstance(expected, tuple):
            problem = contract_problem(result, expected, name=f"the result of {self.function}")
            if problem:
                return problem
            if not isinstance(names, tuple):  # a mistake's tuple where one value is expected
                names = tuple(f"value {i + 1} of the result" for i in range(len(expected)))
            parts = zip(result, expected, names, strict=True)
        else:
            parts = [(result, expected, names)]
        for actual, wanted, name in parts:
            problem = contract_problem(actual, wanted, name=name)
            if problem:
                return problem
        return None

    def _parts(self, result, expected):
        if isinstance(expected, tuple) and isinstance(result, tuple) and len(result) == len(
                expected):
            return list(zip(result, expected, self.result, strict=True))
        return [(result, expected, self.result if isinstance(self.result, str) else
                 f"the result of {self.function}")]

    def _wrong_part(self, result, expected):
        wrong = [name for actual, wanted, name in self._parts(result, expected)
                 if not matches(actual, wanted, self.rtol)]
        return wrong[0] if wrong else self._parts(result, expected)[0][2]

    def _mismatch(self, result, expected):
        for actual, wanted, name in self._parts(result, expected):
            if not matches(actual, wanted, self.rtol):
                wanted = np.asarray(wanted, dtype=np.float64)
                return describe_mismatch(actual, wanted, name=name, rtol=self.rtol,
                                         atol=max(self.rtol * scale_of(wanted), 1e-300))
        return None

    # ----------------------------------------------------------- the visible check

    def values(self) -> list[dict[str, Any]]:
        """[{"expected": ..., "mistakes": {id: ...}}] per visible call, as generated."""
        return load_values(self.assignment)[self.grade_id]

    def check(self, *functions: Callable) -> None:
        """Run the visible calls on the student's `functions`; raise CheckFailed at the first
        wrong one, naming the call and the mistake; print `passed` when all are right."""
        for call, frozen in zip(self.visible, self.values(), strict=True):
            result = self.run(call, functions)
            problem = self.judge(result, frozen["expected"], frozen["mistakes"], call)
            if problem:
                raise CheckFailed(problem, call=call.label)
        print(success(self.passed, [call.label for call in self.visible]))

    # -------------------------------------- how a call is made (overridden by drivers)

    def run(self, call: Call, functions: tuple[Callable, ...]) -> Any:
        """The student's result on `call` in the visible check."""
        return call_student(functions[0], self.function, call)

    def request(self, call: Call) -> tuple[str, tuple, dict]:
        """(function, args, kwargs) the grader sends to the kernel for `call`."""
        return self.function, call.args, call.kwargs

    def reference_call(self, solve: Callable, call: Call, flags: dict[str, bool]) -> Any:
        """The reference's result on `call`; `solve` is the reference `self.function`."""
        return solve(*call.args, **call.kwargs, **flags)

    def same(self, result: Any, expected: Any) -> bool:
        """Whether `result` is `expected` at this exercise's tolerance."""
        return matches(result, expected, self.rtol)


def call_student(function: Callable, name: str, call: Call) -> Any:
    """`function(*call.args, **call.kwargs)` on copies; CheckFailed names what went wrong.

    The arguments are copies, so that a function that changes them in place is named (not
    the notebook's later cells silently changed). An exception raised by the student's code
    becomes one sentence with the line that raised it, without the check's own frames.
    """
    args, kwargs = snapshot(call.args), snapshot(call.kwargs)
    try:
        result, changed = modified_arguments(function, args, kwargs,
                                             lambda: function(*args, **kwargs))
    except CheckFailed:
        raise
    except NotImplementedError as error:
        frame = student_frame(error)
        who = frame.name if frame is not None and frame.name.isidentifier() else name
        raise CheckFailed(not_implemented(who), title="Not implemented yet") from None
    except Exception as error:  # the student's code raised: say where, not the check's frames
        raise CheckFailed(f"{name} raised {type(error).__name__}{_where(error)}: {error}",
                          call=call.label) from None
    if changed:
        raise CheckFailed(MODIFIED_ARGUMENT.format(function=name, argument=changed[0]),
                          call=call.label)
    return result


def _where(error: BaseException) -> str:
    """' at line N (its source)' of the innermost frame outside the course's checks."""
    frame = student_frame(error)
    if frame is None:
        return ""
    return f" at line {frame.lineno}" + (f" ({frame.line.strip()})" if frame.line else "")


# ------------------------------------------------------------- declarations and values


def declare(assignment: str, *exercises: Exercise) -> dict[str, Exercise]:
    """{grade_id: exercise} for `assignment`, each exercise told where its values live.

    >>> declare("00_toy", Exercise("test_a", "a", "y", "ok", []))["test_a"].assignment
    '00_toy'
    """
    table = {}
    for exercise in exercises:
        if exercise.grade_id in table:
            raise ValueError(f"{assignment}: grade_id {exercise.grade_id!r} declared twice")
        exercise.assignment = assignment
        table[exercise.grade_id] = exercise
    return table


def visible_checks(exercises: dict[str, Exercise]) -> Callable[[str], Callable]:
    """A module `__getattr__` giving `check_<name>` for each exercise `test_<name>`.

    A published module ends with `__getattr__ = visible_checks(EXERCISES)`, so that the
    notebook's `from course_lib.checks.<a> import check_<name>` finds each visible check.

    >>> getattr_ = visible_checks(declare("00_toy", Exercise("test_a", "a", "y", "ok", [])))
    >>> getattr_("check_a").__self__.grade_id
    'test_a'
    """
    checks = {"check_" + g.removeprefix("test_"): e.check for g, e in exercises.items()}

    def check(name: str) -> Callable:
        if name not in checks:
            raise AttributeError(f"no visible check {name!r}; there are {', '.join(checks)}")
        return checks[name]

    return check


_VALUES: dict[str, dict] = {}


def values_path(assignment: str, folder: Path | None = None) -> Path:
    """The generated values file of `assignment`."""
    return Path(folder or VALUES_DIR) / f"{assignment}.json"


def load_values(assignment: str) -> dict[str, list[dict[str, Any]]]:
    """{grade_id: [{"expected", "mistakes"} per visible call]} from the committed file."""
    if assignment not in _VALUES:
        path = values_path(assignment)
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `python -m autograder.exercises`")
        _VALUES[assignment] = {grade_id: [codec.decode(v) for v in calls]
                               for grade_id, calls in json.loads(path.read_text()).items()}
    return _VALUES[assignment]


def dump_values(values: dict[str, list[dict[str, Any]]]) -> str:
    """The text of a values file: one JSON line per visible call, readable in a diff."""
    lines = []
    for grade_id, calls in values.items():
        body = ",\n".join("    " + json.dumps(codec.encode(v)) for v in calls)
        lines.append(f"  {json.dumps(grade_id)}: [\n{body}\n  ]")
    return "{\n" + ",\n".join(lines) + "\n}\n"
