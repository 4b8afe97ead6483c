"""What a grading folder keeps between runs: records, the seed, and the lock of the run.

OUT/.results/<student_id>/<assignment>.json is the durable record of one graded
submission (the hash of the notebook graded, the seed, the version of the course that
graded it, its rows). A record counts as
final only when none of its rows says `grading_failed`: failures of the grader's own
machinery are graded again on the next run. OUT/.lock is held (flock) by the one run
that uses OUT; the kernel releases it when that process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from autograder.submissions import GradingError

RETRIED = "grading_failed"


@dataclass
class Row:
    """One row of grades.csv."""

    student_id: str
    assignment: str
    grade_id: str
    score: float
    max_score: float
    status: str
    message: str
    mistake: str = ""
    """The id of the named mistake (a keyword flag of the reference), "" for none."""


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def record_path(out: str | os.PathLike[str], student: str, assignment: str) -> Path:
    return Path(out) / ".results" / student / f"{assignment}.json"


def save_record(out: str | os.PathLike[str], student: str, assignment: str, sha256: str,
                seed: int, rows: Iterable[Row], *, course: str) -> None:
    """Record the rows of one graded submission, graded by version `course` of the course
    (`autograder.course.grading_version`)."""
    record = {"sha256": sha256, "seed": seed, "course": course,
              "rows": [asdict(r) for r in rows]}
    atomic_write(record_path(out, student, assignment), json.dumps(record, indent=1))


def load_record(out: str | os.PathLike[str], student: str, assignment: str, *,
                sha256: str | None = None, seed: int | None = None,
                course: str | None = None) -> list[Row] | None:
    """The rows of this submission's record; None when there is none, it cannot be read,
    or it is not of the notebook hash `sha256`, the `seed` and the `course` version given."""
    record = _read(out, student, assignment)
    try:
        if (record is None or sha256 is not None and record.get("sha256") != sha256
                or seed is not None and record.get("seed") != seed
                or course is not None and record.get("course") != course):
            return None
        return [Row(**row) for row in record["rows"]]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def made_by_another_course(out: str | os.PathLike[str], student: str, assignment: str,
                           sha256: str, seed: int, course: str) -> bool:
    """Whether this submission's record is of the notebook hash `sha256` and the `seed` but
    of another version of the course than `course` (or of none): why it is graded again."""
    record = _read(out, student, assignment)
    return (isinstance(record, dict) and record.get("sha256") == sha256
            and record.get("seed") == seed and record.get("course") != course)


def _read(out: str | os.PathLike[str], student: str, assignment: str) -> Any:
    """The parsed record of this submission; None when there is none or it is not JSON."""
    try:
        return json.loads(record_path(out, student, assignment).read_text())
    except (OSError, ValueError):
        return None


def load_final_record(out: str | os.PathLike[str], student: str, assignment: str, sha256: str,
                      seed: int, course: str) -> list[Row] | None:
    """The rows of a final, up-to-date record of this submission, or None.

    Up to date: same notebook hash, seed and version of the course (a record of an earlier
    version, or of none, is graded again). Final: no row is `grading_failed`.
    """
    rows = load_record(out, student, assignment, sha256=sha256, seed=seed, course=course)
    if rows is None or any(row.status == RETRIED for row in rows):
        return None
    return rows


def run_seed(out: str | os.PathLike[str], seed: int | None = None) -> int:
    """The seed of this grading folder: kept from an earlier run unless one is given."""
    state = Path(out) / ".run.json"
    try:
        previous = json.loads(state.read_text()).get("seed")
    except (OSError, ValueError, AttributeError):
        previous = None
    if seed is None:
        seed = previous if previous is not None else random.SystemRandom().randrange(2**31)
    if seed != previous:
        atomic_write(state, json.dumps({"seed": int(seed)}))
    return int(seed)


class RunLock:
    """The exclusive lock of OUT/.lock, held for the whole run (`with RunLock(out): ...`).

    A second run on the same OUT gets GradingError naming the holder's pid and start
    time. The lock is an flock: the kernel drops it when the holding process ends, so
    a killed run leaves no stale lock.
    """

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.out = Path(out)
        self.path = self.out / ".lock"
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.out.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "pid unknown"
            os.close(fd)
            raise GradingError(f"another grading run is using {self.out} ({holder}); "
                               "wait for it to finish") from None
        os.ftruncate(fd, 0)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        os.write(fd, f"pid {os.getpid()}, started at {stamp}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> bool:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None
        return False
