"""Run graded calls inside the student's kernel and report their results as data.

At grading time each graded test cell is replaced by the code of this module
(and of `course_lib.codec`), carried in the cell's own source together with a
request: the grader's calls, a nonce the grader drew for this cell, and the
source of every course_lib driver the calls use. The probe runs each call once
and displays one report under the MIME type `MIME`:

    {"grade_id": ..., "nonce": <the request's nonce>,
     "results": [{"call": 0, "case": ..., "function": ..., "ok": ..., ...}, ...]}

one record per call, in order, each echoing the call it answers. The grader
accepts a graded cell only when its outputs hold exactly this one report;
whether the results are right it decides outside the kernel. Nothing here
compares anything.

Because the probe and the drivers arrive with the cell, a student cannot swap
them by replacing `course_lib.probe`, `course_lib.codec` or a driver module in
`sys.modules`: the probe never imports them at grading time.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
import traceback
import types
from collections.abc import Iterable, Mapping
from typing import Any

if "codec" not in globals():  # imported normally; when the grader ships the probe, it
    from course_lib import checking, codec  # ships its own copies alongside (`cell_source`)

MIME = "application/vnd.course.probe+json"
RESULT_BUDGET = 4_000_000
"""Default size in bytes of one report (the grader's `ProbeExecute.max_result_bytes`)."""

_PROBE_FUNCTION = "__course_probe__"


def load_drivers(sources: Mapping[str, str]) -> dict[str, types.ModuleType]:
    """Fresh, private modules from {module name: source}, never registered in sys.modules."""
    modules = {}
    for name, source in sources.items():
        module = types.ModuleType(name)
        module.__file__ = f"<grader's copy of {name}>"
        exec(compile(source, module.__file__, "exec"), module.__dict__)
        modules[name] = module
    return modules


def _resolve(name: str, namespace: Mapping[str, Any],
             drivers: Mapping[str, types.ModuleType] | None) -> Any:
    """The object called `name`: a global of the notebook, or `module:attr` of course_lib.

    With `drivers` (a dict of modules, as at grading time) a driver is looked up only
    there; without (in-process use), it is imported.
    """
    if ":" in name:
        module, attr = name.split(":", 1)
        if not module.startswith("course_lib."):
            raise ImportError(f"drivers must come from course_lib, not {module}")
        if drivers is None:
            return getattr(importlib.import_module(module), attr)
        if module not in drivers:
            raise ImportError(f"the grader did not send the driver module {module}")
        return getattr(drivers[module], attr)
    if name not in namespace:
        raise NameError(f"name '{name}' is not defined")
    return namespace[name]


def _bind(value: Any, namespace: Mapping[str, Any],
          drivers: Mapping[str, types.ModuleType] | None) -> Any:
    """Replace {'__global__': name} placeholders by the notebook's objects.

    A notebook function handed to a driver is guarded: if it changes its arguments, the
    call raises CheckFailed with `checking.MODIFIED_ARGUMENT`, which the grader names.
    """
    if isinstance(value, dict) and set(value) == {"__global__"}:
        found = _resolve(value["__global__"], namespace, drivers)
        return found if ":" in value["__global__"] else checking.unchanged_arguments(found)
    if isinstance(value, list):
        return [_bind(v, namespace, drivers) for v in value]
    if isinstance(value, tuple):
        return tuple(_bind(v, namespace, drivers) for v in value)
    return value


def _split_globals(data: Any) -> Any:
    """Decode `data`, leaving {'__global__': name} markers in place for `_bind`."""
    if isinstance(data, dict) and set(data) == {"__global__"}:
        return data
    if isinstance(data, list):
        return [_split_globals(v) for v in data]
    if isinstance(data, dict) and "__tuple__" in data:
        return tuple(_split_globals(v) for v in data["__tuple__"])
    return codec.decode(data)


def _items(value: Any, depth: int = 0) -> int:
    """About how many numbers `value` holds (to refuse a huge result before encoding it)."""
    if depth > 50:
        return 1
    size = getattr(value, "size", None)
    if isinstance(size, int) and hasattr(value, "dtype"):
        return size
    if isinstance(value, (list, tuple)):
        return len(value) + sum(_items(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) + sum(_items(v, depth + 1) for v in value.values())
    if isinstance(value, str):
        return len(value) // 8
    return 1


def call_one(call: Mapping[str, Any], namespace: Mapping[str, Any],
             drivers: Mapping[str, types.ModuleType] | None = None, *, index: int = 0,
             budget: int = RESULT_BUDGET) -> dict[str, Any]:
    """Run one call description; return its result record (never raises).

    The record echoes the call (`index`, its case name and function). A value
    whose encoding would pass `budget` bytes is not sent: the record says
    ResultTooLarge instead.
    """
    record = {"call": index, "case": call.get("case"), "function": call.get("function")}
    start = time.perf_counter()
    try:
        function = _resolve(call["function"], namespace, drivers)
    except (NameError, ImportError, AttributeError) as error:
        record.update(ok=False, error=type(error).__name__, message=str(error)[:500],
                      stage="lookup", seconds=0.0)
        return record
    try:
        args = _bind(_split_globals(call.get("args", [])), namespace, drivers)
        kwargs = {k: _bind(_split_globals(v), namespace, drivers)
                  for k, v in call.get("kwargs", {}).items()}
        value = function(*args, **kwargs)
    except (Exception, SystemExit) as error:  # the student's error is the result
        record.update(ok=False, error=type(error).__name__, message=str(error)[:500],
                      where=_where(error), raised_in=_raised_in(error))
    else:
        record.update(_encoded(value, budget))
        record.update(_arguments_after(function, call, args, kwargs))
    record["seconds"] = time.perf_counter() - start
    return record


def _placeholder(data: Any) -> bool:
    """Whether an encoded argument holds an object of the kernel (a function, an rng)."""
    if isinstance(data, dict):
        return bool(set(data) & {"__global__", "__rng__"}) or any(
            _placeholder(v) for v in data.values())
    if isinstance(data, list):
        return any(_placeholder(v) for v in data)
    return False


def _arguments_after(function: Any, call: Mapping[str, Any], args: list[Any] | tuple[Any, ...],
                     kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The plain-data arguments as they are after the call, encoded, with their names.

    The grader compares them with what it sent: a function that changed its inputs in
    place is named. Placeholders (functions, generators) are left out (None).
    """
    import inspect

    try:
        names = list(inspect.signature(function).bind_partial(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        names = []
    sent = call.get("args", [])
    after = []
    for i, value in enumerate(args):
        if i >= len(sent) or _placeholder(sent[i]):
            after.append(None)
            continue
        try:
            after.append(codec.encode(value))
        except Exception:  # replaced by something that is not data: changed all the same
            after.append("changed")
    kwargs_after = {}
    for key, value in kwargs.items():
        if _placeholder(call.get("kwargs", {}).get(key)):
            continue
        try:
            kwargs_after[key] = codec.encode(value)
        except Exception:
            kwargs_after[key] = "changed"
    return {"args_after": after, "kwargs_after": kwargs_after, "arg_names": names[:len(args)]}


def _encoded(value: Any, budget: int) -> dict[str, Any]:
    """{"ok": True, "value": ...} or the reason the value cannot be sent."""
    try:
        if 20 * _items(value) > budget:
            raise OverflowError
        return {"ok": True, "value": codec.encode(value)}
    except OverflowError:
        return {"ok": False, "error": "ResultTooLarge",
                "message": f"{type(value).__name__}: larger than {budget} bytes"}
    except Exception as error:  # a value that is not plain data
        return {"ok": False, "error": "UnsendableResult",
                "message": f"{type(value).__name__}: {str(error)[:200]}"}


def _where(error: BaseException) -> str | None:
    """'line N of the notebook cell' where the student's code raised, if it did."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if frame.name == _PROBE_FUNCTION:
            continue
        if frame.filename.startswith("<ipython-input") or "ipykernel_" in frame.filename:
            return f"line {frame.lineno} of its cell"
    return None


def _raised_in(error: BaseException) -> str | None:
    """The name of the notebook function whose code raised, if the student's code raised."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.startswith("<ipython-input") or "ipykernel_" in frame.filename:
            return frame.name if frame.name.isidentifier() else None
    return None


def _json_size(value: Any) -> int:
    import json

    return len(json.dumps(value, allow_nan=False, default=str))


def _fit(records: list[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """Replace the largest values by ResultTooLarge until the report fits in `budget`."""
    sizes = sorted(((_json_size(r.get("value")), i) for i, r in enumerate(records)),
                   reverse=True)
    total = sum(size for size, _ in sizes) + 200 * len(records)
    for size, i in sizes:
        if total <= budget:
            break
        record = records[i]
        if record.get("ok"):
            record.update(ok=False, error="ResultTooLarge",
                          message=f"the results together are larger than {budget} bytes")
            record.pop("value", None)
            total -= size
    return records


def collect(namespace: Mapping[str, Any], request: Mapping[str, Any] | str) -> dict[str, Any]:
    """Run every call of `request` (a dict, or the text of `make_payload`); return the report."""
    if isinstance(request, str):
        import base64
        import json

        request = json.loads(base64.b64decode(request))
    drivers = load_drivers(request["drivers"]) if "drivers" in request else None
    budget = int(request.get("budget", RESULT_BUDGET))
    records = [call_one(call, namespace, drivers, index=i, budget=budget)
               for i, call in enumerate(request["calls"])]
    return {"grade_id": request["grade_id"], "nonce": request.get("nonce"),
            "results": _fit(records, budget)}


def run(namespace: Mapping[str, Any], request: Mapping[str, Any] | str) -> None:
    """Run every call of `request` and display the one report for the grader to read."""
    from IPython.display import display

    display({MIME: collect(namespace, request)}, raw=True)


def make_request(grade_id: str, calls: Iterable[Mapping[str, Any]], *, nonce: str,
                 drivers: Mapping[str, str] | None = None,
                 budget: int = RESULT_BUDGET) -> dict[str, Any]:
    """What `run` expects: the calls, this cell's nonce, the drivers' sources, the budget.

    `drivers` maps a course_lib module name to its source; with None (in-process use)
    the probe imports drivers itself.
    """
    request = {"grade_id": grade_id, "nonce": nonce, "calls": list(calls), "budget": budget}
    if drivers is not None:
        request["drivers"] = dict(drivers)
    return request


def make_payload(grade_id: str, calls: list[Mapping[str, Any]]) -> str:
    """A request as base64 text (for in-process use and tests); `collect` accepts it."""
    import base64
    import json

    request = {"grade_id": grade_id, "calls": calls}
    return base64.b64encode(json.dumps(request, allow_nan=False).encode()).decode()


def driver_modules(calls: Iterable[Mapping[str, Any]]) -> list[str]:
    """The course_lib modules named by `module:attr` in `calls` (functions and globals)."""
    names = set()

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            if set(value) == {"__global__"} and ":" in str(value["__global__"]):
                names.add(value["__global__"].split(":", 1)[0])
            for v in value.values():
                visit(v)
        elif isinstance(value, list):
            for v in value:
                visit(v)

    for call in calls:
        if ":" in call["function"]:
            names.add(call["function"].split(":", 1)[0])
        visit(call.get("args", []))
        visit(call.get("kwargs", {}))
    return sorted(names)


def module_source(name: str) -> str:
    """The source of the course_lib module `name`, as this process has it."""
    if not name.startswith("course_lib."):
        raise ImportError(f"drivers must come from course_lib, not {name}")
    path = importlib.util.find_spec(name).origin
    with open(path, encoding="utf-8") as handle:
        return handle.read()


_TEMPLATE = '''def {function}(namespace, request, sources):
    import types
    shipped = {{}}
    for name, source in sources:
        module = types.ModuleType(name)
        module.__dict__.update(shipped)
        exec(compile(source, "<grader's copy of course_lib/" + name + ".py>", "exec"),
             module.__dict__)
        shipped[name] = module
    shipped["probe"].run(namespace, request)
{function}(globals(), {request!r}, {sources!r})
del {function}
'''


def cell_source(request: dict[str, Any]) -> str:
    """The source of a graded test cell at grading time: the probe's code and `request`.

    The cell defines one function, runs it and deletes it again; the probe and codec
    it runs are this process's own copies, carried in the cell.
    """
    sources = (("codec", module_source("course_lib.codec")),
               ("checking", module_source("course_lib.checking")),
               ("probe", module_source("course_lib.probe")))
    return _TEMPLATE.format(function=_PROBE_FUNCTION, request=request, sources=sources)
