"""Turn call arguments and results into JSON and back.

The grader sends the inputs of each graded call to the student's kernel and
reads the results back as data, so that the verdict is computed outside the
kernel. Only plain data crosses: numbers, strings, lists, tuples, dicts,
float64 arrays and seeded random generators.

Example
-------
>>> import numpy as np
>>> decode(encode({"Z": np.eye(2), "t": (1, 2.5)}))["t"]
(1, 2.5)
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _float(x: float) -> float | str:
    """One float as JSON: finite floats as numbers, others as strings."""
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def encode(value: Any) -> Any:
    """Return a JSON-compatible form of `value` (raises TypeError for anything else)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return {"__int__": int(value)}
    if isinstance(value, (float, np.floating)):
        if isinstance(value, np.floating) and value.dtype != np.float64:
            # a float32 number is sent as such, so that the grader can name its precision
            return {"__float__": _float(value), "dtype": str(value.dtype)}
        return {"__float__": _float(value)}
    if isinstance(value, np.ndarray):
        kind = value.dtype.kind
        if kind not in "biuf":
            raise TypeError(f"arrays of dtype {value.dtype} cannot be sent")
        flat = [_float(x) for x in np.asarray(value, dtype=np.float64).ravel()]
        return {"__ndarray__": flat, "shape": list(value.shape), "dtype": str(value.dtype),
                "type": type(value).__name__}
    if isinstance(value, np.random.Generator):
        raise TypeError("send a generator as rng_spec(seed), not as an object")
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only dicts with string keys can be sent")
        return {"__dict__": {k: encode(v) for k, v in value.items()}}
    raise TypeError(f"values of type {type(value).__name__} cannot be sent")


def rng_spec(seed: int) -> dict[str, int]:
    """A placeholder for `numpy.random.default_rng(seed)`, created on the receiving side."""
    return {"__rng__": int(seed)}


def decode(data: Any) -> Any:
    """Inverse of `encode` (also builds the generators described by `rng_spec`)."""
    if data is None or isinstance(data, (bool, str, int, float)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        raise TypeError(f"cannot decode {type(data).__name__}")
    if "__int__" in data:
        return int(data["__int__"])
    if "__float__" in data:
        v = data["__float__"]
        v = _NONFINITE[v] if isinstance(v, str) else float(v)
        return np.dtype(data["dtype"]).type(v) if data.get("dtype") in ("float32", "float16") else v
    if "__ndarray__" in data:
        flat = [_NONFINITE[v] if isinstance(v, str) else v for v in data["__ndarray__"]]
        array = np.array(flat, dtype=np.float64).reshape(data["shape"])
        return array.astype(data["dtype"]) if data["dtype"] != "float64" else array
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {k: decode(v) for k, v in data["__dict__"].items()}
    if "__rng__" in data:
        return np.random.default_rng(data["__rng__"])
    raise TypeError(f"cannot decode a dict with keys {sorted(data)}")


def dumps(value: Any) -> str:
    """Encode `value` and serialise it to a JSON string."""
    return json.dumps(encode(value), allow_nan=False)


def loads(text: str) -> Any:
    """Parse a JSON string made by `dumps` and decode it."""
    return decode(json.loads(text))
