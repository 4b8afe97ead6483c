"""Run graded calls inside the student's kernel and report their results as data.

At grading time each graded test cell is replaced by one call to `run`. It
calls the student's functions on inputs chosen by the grader and displays the
results under the MIME type `MIME`; the grader reads them back and decides,
outside the kernel, whether they are right. Nothing here compares anything.
"""

import base64
import importlib
import json
import time
import traceback

from course_lib import codec

MIME = "application/vnd.course.probe+json"


def _resolve(name, namespace):
    """The object called `name`: a global of the notebook, or `module:attr` of course_lib."""
    if ":" in name:
        module, attr = name.split(":", 1)
        if not module.startswith("course_lib."):
            raise ImportError(f"drivers must come from course_lib, not {module}")
        return getattr(importlib.import_module(module), attr)
    if name not in namespace:
        raise NameError(f"name '{name}' is not defined")
    return namespace[name]


def _bind(value, namespace):
    """Replace {'__global__': name} placeholders by the notebook's objects."""
    if isinstance(value, dict) and set(value) == {"__global__"}:
        return _resolve(value["__global__"], namespace)
    if isinstance(value, list):
        return [_bind(v, namespace) for v in value]
    if isinstance(value, tuple):
        return tuple(_bind(v, namespace) for v in value)
    return value


def _split_globals(data):
    """Decode `data`, leaving {'__global__': name} markers in place for `_bind`."""
    if isinstance(data, dict) and set(data) == {"__global__"}:
        return data
    if isinstance(data, list):
        return [_split_globals(v) for v in data]
    if isinstance(data, dict) and "__tuple__" in data:
        return tuple(_split_globals(v) for v in data["__tuple__"])
    return codec.decode(data)


def call_one(call, namespace):
    """Run one call description; return its result record (never raises)."""
    record = {"case": call["case"]}
    start = time.perf_counter()
    try:
        function = _resolve(call["function"], namespace)
    except (NameError, ImportError, AttributeError) as error:
        record.update(ok=False, error=type(error).__name__, message=str(error)[:500],
                      stage="lookup", seconds=0.0)
        return record
    try:
        args = _bind(_split_globals(call.get("args", [])), namespace)
        kwargs = {k: _bind(_split_globals(v), namespace)
                  for k, v in call.get("kwargs", {}).items()}
        value = function(*args, **kwargs)
    except (Exception, SystemExit) as error:  # the student's error is the result
        record.update(ok=False, error=type(error).__name__, message=str(error)[:500],
                      where=_where(error))
    else:
        try:
            record.update(ok=True, value=codec.encode(value))
        except Exception as error:  # a value that is not plain data
            record.update(ok=False, error="UnsendableResult",
                          message=f"{type(value).__name__}: {str(error)[:200]}")
    record["seconds"] = time.perf_counter() - start
    return record


def _where(error):
    """'line N of the notebook cell' where the student's code raised, if it did."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if frame.filename.startswith("<ipython-input") or "ipykernel_" in frame.filename:
            return f"line {frame.lineno} of its cell"
    return None


def collect(namespace, payload):
    """Run every call of `payload` (base64 JSON); return {'grade_id', 'results'}."""
    request = json.loads(base64.b64decode(payload))
    return {"grade_id": request["grade_id"],
            "results": [call_one(call, namespace) for call in request["calls"]]}


def run(namespace, payload):
    """Run every call of `payload` and display the results for the grader to read."""
    from IPython.display import display

    display({MIME: collect(namespace, payload)}, raw=True)


def make_payload(grade_id, calls):
    """The base64 text that `run` expects (used by the grader)."""
    request = {"grade_id": grade_id, "calls": calls}
    return base64.b64encode(json.dumps(request, allow_nan=False).encode()).decode()
