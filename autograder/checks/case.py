"""One graded call and its judge, and the verdict of a graded test cell."""

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course_lib import codec, probe


@dataclass
class Case:
    """Call `function(*args, **kwargs)` in the student's kernel; `judge(result)` says what is wrong.

    `judge` returns None when the result is right, otherwise a sentence for the
    student. It never sees the student's objects, only decoded data.
    """

    name: str
    function: str
    args: tuple
    judge: Callable[[Any], "str | None"]
    kwargs: dict = field(default_factory=dict)

    def student_function(self):
        """The name of the student's function this case exercises."""
        if ":" not in self.function:
            return self.function
        names = [a["__global__"] for a in self.args if isinstance(a, dict) and "__global__" in a]
        return names[0] if names else self.function

    def request(self):
        """The JSON description of this call sent to the kernel."""
        return {"case": self.name, "function": self.function,
                "args": [_encode_arg(a) for a in self.args],
                "kwargs": {k: _encode_arg(v) for k, v in self.kwargs.items()}}


def _encode_arg(value):
    if isinstance(value, dict) and set(value) <= {"__global__", "__rng__"}:
        return value
    return codec.encode(value)


def global_ref(name):
    """An argument that stands for the notebook's own object `name` (a function or class)."""
    return {"__global__": name}


@dataclass
class Verdict:
    """What the grader concluded about one graded test cell."""

    status: str
    message: str = ""
    cases_passed: int = 0
    cases_total: int = 0

    @property
    def ok(self):
        return self.status == "ok"


def case_rng(seed, grade_id):
    """The generator for one grade_id's inputs under the run's seed."""
    return np.random.default_rng([int(seed), zlib.crc32(grade_id.encode())])


def judge_results(cases, records):
    """Verdict from the kernel's result records of `cases` (in the same order)."""
    by_case = {}
    for record in records if isinstance(records, list) else []:
        if isinstance(record, dict) and isinstance(record.get("case"), str):
            by_case.setdefault(record["case"], record)
    for passed, case in enumerate(cases):
        record = by_case.get(case.name)
        failure = _judge_one(case, record)
        if failure:
            status, message = failure
            return Verdict(status, f"{case.name}: {message}", passed, len(cases))
    return Verdict("ok", f"all {len(cases)} cases passed", len(cases), len(cases))


def _judge_one(case, record):
    if record is None:
        return "no_result", f"{case.function} produced no result"
    if not record.get("ok"):
        error, message = str(record.get("error")), str(record.get("message", ""))[:300]
        if error == "NameError" and record.get("stage") == "lookup":
            return "not_defined", (f"{message}: keep the function's name and run its cell "
                                   "before the checks")
        if error == "NotImplementedError":
            return "not_implemented", f"{case.student_function()} is not implemented yet"
        if error == "UnsendableResult":
            return "invalid_result", (f"{case.function} returned a {message.split(':')[0]}; "
                                      "return numbers or plain numpy arrays")
        where = f" at {record['where']}" if record.get("where") else ""
        return "exception", f"{case.function} raised {error}{where}: {message}"
    try:
        value = codec.decode(record.get("value"))
    except (TypeError, ValueError, KeyError) as error:
        return "invalid_result", f"{case.function} returned something unreadable ({error})"
    encoded = record.get("value")
    if isinstance(encoded, dict) and encoded.get("type") not in (None, "ndarray"):
        return "invalid_result", (f"{case.function} returned a {encoded['type']}; "
                                  "return a plain numpy array")
    try:
        hint = case.judge(value)
    except Exception as error:  # a malformed result the judge could not handle
        hint = f"the result could not be checked ({type(error).__name__}: {error})"
    return ("wrong_answer", hint) if hint else None


def run_in_process(assignment, grade_id, namespace, seed=0):
    """Run the grader's cases of `grade_id` on the functions in `namespace`; raise if any fails.

    Used by the hidden part of the masters' test cells, so that executing a
    master proves its solutions pass the grader's own cases.
    """
    from autograder.checks import checks_for

    cases = checks_for(assignment)[grade_id](case_rng(seed, grade_id))
    records = [probe.call_one(case.request(), namespace) for case in cases]
    verdict = judge_results(cases, records)
    if not verdict.ok:
        raise AssertionError(f"[{verdict.status}] {verdict.message}")
    return verdict
