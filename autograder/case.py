"""One graded call and its judge, and the verdict of a graded test cell."""

import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course_lib import codec, probe
from course_lib.checking import MODIFIED_ARGUMENT
from course_lib.failures import not_implemented


@dataclass
class Case:
    """Call `function(*args, **kwargs)` in the student's kernel; `judge(result)` says what is wrong.

    `judge` returns None when the result is right, otherwise a sentence for the
    student. It never sees the student's objects, only decoded data.
    """

    name: str
    function: str
    args: tuple
    judge: Callable[[Any], "tuple[str | None, str | None]"]
    kwargs: dict = field(default_factory=dict)

    def student_function(self) -> str:
        """The name of the student's function this case exercises."""
        if ":" not in self.function:
            return self.function
        names = [a["__global__"] for a in self.args if isinstance(a, dict) and "__global__" in a]
        return names[0] if names else self.function

    def request(self) -> dict[str, Any]:
        """The JSON description of this call sent to the kernel."""
        return {"case": self.name, "function": self.function,
                "args": [_encode_arg(a) for a in self.args],
                "kwargs": {k: _encode_arg(v) for k, v in self.kwargs.items()}}


def _encode_arg(value):
    if isinstance(value, dict) and set(value) <= {"__global__", "__rng__"}:
        return value
    return codec.encode(value)


def global_ref(name: str) -> dict[str, str]:
    """An argument that stands for the notebook's own object `name` (a function or class)."""
    return {"__global__": name}


@dataclass
class Verdict:
    """What the grader concluded about one graded test cell."""

    status: str
    message: str = ""
    cases_passed: int = 0
    cases_total: int = 0
    mistake: str = ""
    """The id of the named mistake the first failing case matched ("" for none)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def case_rng(seed: int, grade_id: str) -> np.random.Generator:
    """The generator for one grade_id's inputs under the run's seed."""
    return np.random.default_rng([int(seed), zlib.crc32(grade_id.encode())])


TAMPERING_SECOND = ("the cell's output carried a second result for the grader: code that "
                    "displays results on the grader's channel is not allowed")
TAMPERING_FORGED = ("the cell's output carried a result for the grader that the grader's "
                    "probe did not send ({}): code that displays results on the grader's "
                    "channel is not allowed")
REPORT_KEYS = {"grade_id", "nonce", "results"}


class RefusedReport(str):
    """A report the grader refused before reading it; the text says why.

    Only the grader makes these: nothing decoded from the kernel is of this type.
    """

RECORD_KEYS = {"call", "case", "function", "ok", "value", "error", "message", "stage", "where",
               "raised_in", "seconds", "args_after", "kwargs_after", "arg_names"}


def report_problem(report: Any, cases: Sequence[Case], *, grade_id: str,
                   nonce: str | None) -> str | None:
    """None when `report` is exactly the probe's answer to `cases`, else what is wrong with it.

    The answer must be a dict with the cell's grade_id and nonce and one record per call,
    in order, each echoing its call (index, case name, function) and nothing else.
    """
    if isinstance(report, RefusedReport):
        return str(report)
    if not isinstance(report, dict) or set(report) != REPORT_KEYS:
        return "not a report of the probe"
    if report["grade_id"] != grade_id:
        return f"for {str(report['grade_id'])[:80]!r}, not this cell"
    if not isinstance(nonce, str) or report["nonce"] != nonce:
        return "without this cell's nonce"
    records = report["results"]
    if not isinstance(records, list) or len(records) != len(cases):
        count = len(records) if isinstance(records, list) else "no"
        return f"{count} results for {len(cases)} calls"
    for index, (case, record) in enumerate(zip(cases, records, strict=True)):
        if not isinstance(record, dict) or not set(record) <= RECORD_KEYS:
            return f"result {index} is not a record of the probe"
        echo = (record.get("call"), record.get("case"), record.get("function"))
        if type(echo[0]) is not int or echo != (index, case.name, case.function):
            return f"result {index} answers a call the grader did not make"
        if record.get("ok") is True and "value" not in record or (
                record.get("ok") is False and not isinstance(record.get("error"), str)) or (
                not isinstance(record.get("ok"), bool)):
            return f"result {index} does not say what the call returned"
    return None


def judge_cell(reports: list[Any], cases: Sequence[Case], *, grade_id: str, nonce: str | None,
               demo_only: frozenset[str] = frozenset()) -> Verdict | None:
    """Verdict of a graded cell from every probe report among its outputs (None if none).

    Exactly one report, exactly for these calls and with this cell's nonce, is judged;
    anything else is `tampering` and scores 0.
    """
    if not reports:
        return None
    if len(reports) > 1:
        return Verdict("tampering", TAMPERING_SECOND, 0, len(cases))
    problem = report_problem(reports[0], cases, grade_id=grade_id, nonce=nonce)
    if problem:
        return Verdict("tampering", TAMPERING_FORGED.format(problem), 0, len(cases))
    return judge_results(cases, reports[0]["results"], demo_only=demo_only)


def judge_results(cases: Sequence[Case], records: Any, *,
                  demo_only: frozenset[str] = frozenset()) -> Verdict:
    """Verdict from the kernel's result records of `cases` (in the same order).

    `demo_only` holds the names the submission defines only in cells tagged demo,
    which the grader does not run; a NameError for one of them is `uses_demo_cell`.
    """
    by_case = {}
    for record in records if isinstance(records, list) else []:
        if isinstance(record, dict) and isinstance(record.get("case"), str):
            by_case.setdefault(record["case"], record)
    for passed, case in enumerate(cases):
        record = by_case.get(case.name)
        failure = _demo_name(record, demo_only) or _judge_one(case, record)
        if failure:
            status, message, *mistake = failure
            if status != "uses_demo_cell":
                message = f"{case.name}: {message}"
            return Verdict(status, message, passed, len(cases), "".join(mistake))
    return Verdict("ok", f"all {len(cases)} cases passed", len(cases), len(cases))


def _demo_name(record, demo_only):
    """(uses_demo_cell, sentence) when the call failed for a name only a demo cell defines."""
    if not demo_only or not isinstance(record, dict) or record.get("error") != "NameError":
        return None
    match = re.search(r"name '(\w+)' is not defined", str(record.get("message", "")))
    if match and match.group(1) in demo_only:
        return "uses_demo_cell", (f"`{match.group(1)}` is defined only in a cell marked as a "
                                  "demo, which the grader does not run: move it into the "
                                  "answer cell")
    return None


def _judge_one(case, record):
    if record is None:
        return "no_result", f"{case.function} produced no result"
    if not record.get("ok"):
        error, message = str(record.get("error")), str(record.get("message", ""))[:300]
        if error == "NameError" and record.get("stage") == "lookup":
            return "not_defined", (f"{message}: keep the function's name and run its cell "
                                   "before the checks")
        if error == "CheckFailed" and " modified its argument " in message:
            return "wrong_answer", message  # a driver's call changed the inputs it was given
        raised_in = record.get("raised_in")
        who = raised_in if isinstance(raised_in, str) and raised_in.isidentifier() else None
        if error == "NotImplementedError":
            return "not_implemented", not_implemented(who or case.student_function(),
                                                       advice=False)
        if error == "ResultTooLarge":
            return "invalid_result", (f"{case.function} returned more data than the grader "
                                      f"accepts ({message})")
        if error == "UnsendableResult":
            return "invalid_result", (f"{case.function} returned a {message.split(':')[0]}; "
                                      "return numbers or plain numpy arrays")
        where = f" at {record['where']}" if record.get("where") else ""
        return "exception", f"{who or case.function} raised {error}{where}: {message}"
    changed = _changed_argument(case, record)
    if changed:
        return "wrong_answer", MODIFIED_ARGUMENT.format(function=case.student_function(),
                                                        argument=changed)
    try:
        value = codec.decode(record.get("value"))
    except (TypeError, ValueError, KeyError) as error:
        return "invalid_result", f"{case.function} returned something unreadable ({error})"
    subclass = _array_subclass(record.get("value"))
    if subclass:
        return "invalid_result", (f"{case.function} returned a {subclass}; "
                                  "return a plain numpy array")
    try:
        mistake, hint = case.judge(value)
    except Exception as error:  # a malformed result the judge could not handle
        mistake, hint = None, f"the result could not be checked ({type(error).__name__}: {error})"
    return ("wrong_answer", hint, mistake or "") if hint else None


def _array_subclass(encoded):
    """The name of the first array subclass (np.matrix, ...) in an encoded result, or None."""
    if isinstance(encoded, list):
        return next(filter(None, map(_array_subclass, encoded)), None)
    if not isinstance(encoded, dict):
        return None
    if "__ndarray__" in encoded:
        return encoded.get("type") if encoded.get("type") != "ndarray" else None
    return _array_subclass(encoded.get("__tuple__") or list(encoded.get("__dict__", {}).values()))


def _changed_argument(case, record):
    """The name of the first argument the call changed in place (judged from what was sent)."""
    if ":" in case.function:
        return None  # a driver builds the student's inputs itself
    sent = case.request()
    after = record.get("args_after")
    names = record.get("arg_names")
    names = names if isinstance(names, list) else []
    if isinstance(after, list):
        for i, (before, now) in enumerate(zip(sent["args"], after, strict=False)):
            if now is not None and now != before:
                return str(names[i]) if i < len(names) else f"number {i + 1}"
    kwargs_after = record.get("kwargs_after")
    if isinstance(kwargs_after, dict):
        for key, before in sent["kwargs"].items():
            if key in kwargs_after and kwargs_after[key] != before:
                return key
    return None


def run_in_process(assignment: str, grade_id: str, namespace: dict[str, Any],
                   seed: int = 0) -> Verdict:
    """Run the grader's cases of `grade_id` on the functions in `namespace`; raise if any fails.

    Used by the hidden part of the masters' test cells, so that executing a
    master proves its solutions pass the grader's own cases.
    """
    from autograder.exercises import seeded_cases

    cases = seeded_cases(assignment, grade_id, seed)
    records = [probe.call_one(case.request(), namespace) for case in cases]
    verdict = judge_results(cases, records)
    if not verdict.ok:
        raise AssertionError(f"[{verdict.status}] {verdict.message}")
    return verdict
