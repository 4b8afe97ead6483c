"""Where grading time goes: a stopwatch of named phases, kept per submission.

A grading worker times each submission's phases (`WORKER`, reset for each submission and
sent back with its result); the run's main process adds its own (recording) and, with
`grade --profile FILE`, writes the totals (see `Profile`). Phases nest: a phase's time
excludes the phases timed inside it, so the phases of one submission add up to its wall
time in the worker.

>>> watch = Stopwatch()
>>> with watch.phase("outer"):
...     with watch.phase("inner"):
...         pass
>>> sorted(watch.take())
['inner', 'outer']
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from autograder.records import atomic_write

PHASES = {
    "kernel_start": "start the sandboxed kernel",
    "execute": "run the notebook's cells",
    "kernel_stop": "stop the kernel",
    "judge": "judge the results (outside the kernel)",
    "nbgrader": "nbgrader's pipeline (copying, checks, gradebook writes)",
    "gradebook": "read the scores back",
    "feedback": "render the feedback page",
    "review": "the notebook for Formgrader",
    "record": "write pages, record, gradebook (main process)",
}
"""Each phase's name and what it covers, in the order a submission goes through them."""


class Stopwatch:
    """Seconds spent per named phase, each phase without the phases nested in it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._inner: list[float] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        self._inner.append(0.0)
        try:
            yield
        finally:
            inner = self._inner.pop()
            spent = time.perf_counter() - start
            self.seconds[name] = self.seconds.get(name, 0.0) + spent - inner
            if self._inner:
                self._inner[-1] += spent

    def take(self) -> dict[str, float]:
        """The seconds so far, and start again from zero."""
        taken, self.seconds = self.seconds, {}
        return taken


WORKER = Stopwatch()
"""The stopwatch of this process's grading (one submission at a time per worker)."""


@dataclass
class Profile:
    """Totals over the submissions a run graded in a kernel (a missing or unreadable notebook,
    which costs next to nothing, is not counted)."""

    submissions: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, seconds: Mapping[str, float]) -> None:
        self.submissions += 1
        for name, value in seconds.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + value

    def line(self) -> str:
        """One line for the terminal: the mean seconds of each phase per submission."""
        if not self.submissions:
            return "profile: no submission was graded in this run"
        n = self.submissions
        parts = [f"{PHASES.get(k, k)} {self.seconds[k] / n:.3f}"
                 for k in [*PHASES, *sorted(set(self.seconds) - set(PHASES))]
                 if k in self.seconds]
        total = sum(self.seconds.values()) / n
        return (f"profile, seconds per submission (mean of {n}): " + ", ".join(parts)
                + f"; total {total:.3f}")

    def write(self, path: str | os.PathLike[str]) -> None:
        atomic_write(path, json.dumps({"submissions": self.submissions,
                                       "seconds": self.seconds}, indent=1))
