"""What is graded: the submissions under SUBMISSIONS, read without trusting anything in them.

Layout read: SUBMISSIONS/<student_id>/<assignment>/<assignment>.ipynb. Nothing under
SUBMISSIONS is followed through a symlink; a notebook is opened with O_NOFOLLOW and
accepted only if nbformat can read and validate it and nbgrader can work on it, so a
notebook that `load_notebook` accepts cannot make the grading machinery raise later.
Student ids are taken literally: nbgrader, which builds paths with glob patterns, only
ever sees `internal_id(student)`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from autograder.course import REPO_DIR, assignments

MAX_DEPTH = 64  # a notebook's JSON is about 8 levels deep; outputs add a few more
LAYOUT = "SUBMISSIONS/<student_id>/<assignment>/<assignment>.ipynb"


class GradingError(RuntimeError):
    """Grading could not run at all (bad arguments, missing or misplaced folders)."""

    exit_code = 2


@dataclass(frozen=True)
class Loaded:
    """A submission's notebook as graded: its text (re-serialised by nbformat) and hash."""

    text: str
    sha256: str


REFUSED_STATUSES = frozenset({"missing_submission", "unreadable_notebook", "symlink_refused"})
"""The statuses of a `Refused` submission: no notebook could be run, so every row of it has
the same status, it has no autograded notebook, and it is not a judgement of an answer."""


@dataclass(frozen=True)
class Refused:
    """Why a submission cannot be graded: a status of grades.csv and a sentence."""

    status: str
    message: str


def internal_id(student: str) -> str:
    """The id nbgrader sees for `student`: letters and digits only, the same in every run."""
    return "s" + hashlib.sha256(student.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def notebook_path(submissions: str | os.PathLike[str], student: str, assignment: str) -> Path:
    """SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb (not checked)."""
    return Path(submissions) / student / assignment / f"{assignment}.ipynb"


def _is_inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_placement(submissions: str | os.PathLike[str], out: str | os.PathLike[str]) -> None:
    """Refuse an OUT inside SUBMISSIONS, and either of them inside the course repository.

    Raises GradingError with a sentence. Paths are compared resolved.
    """
    subs, dest, repo = Path(submissions).resolve(), Path(out).resolve(), REPO_DIR.resolve()
    if _is_inside(dest, subs):
        raise GradingError(f"the output folder {out} lies inside SUBMISSIONS ({submissions}), "
                           "where it would be read as a student; choose an --out outside it")
    if _is_inside(subs, dest):
        raise GradingError(f"SUBMISSIONS ({submissions}) lies inside the output folder {out}; "
                           "keep them apart")
    for name, path in (("SUBMISSIONS", subs), ("the output folder", dest)):
        if _is_inside(path, repo):
            raise GradingError(f"{name} ({path}) lies inside the course repository ({repo}), "
                               "which holds the solutions; keep students' work and grades "
                               "outside it")


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as found:
            return sorted(found, key=lambda e: e.name)
    except OSError:
        return []


def discover(submissions: str | os.PathLike[str], only: Collection[str] | None = None, *,
             log: Callable[[str], object] | None = None) -> tuple[list[str], list[str]]:
    """(students, assignments) to grade: every student folder, and the assignments asked for.

    A student is any entry of SUBMISSIONS that is a folder or a symlink (refused later
    with `symlink_refused`); names starting with '.' are not students and are reported
    through `log`. Raises GradingError when SUBMISSIONS is not a folder, is empty, holds
    no student folder, or holds none of the known assignments.
    """
    folder = Path(submissions)
    if not folder.is_dir():
        raise GradingError(f"{submissions} is not a folder; expected {LAYOUT}")
    entries = _entries(folder)
    if not entries:
        raise GradingError(f"{submissions} is empty; expected {LAYOUT}")
    hidden = [e.name for e in entries if e.name.startswith(".")]
    students = [e.name for e in entries if not e.name.startswith(".")
                and (e.is_symlink() or e.is_dir(follow_symlinks=False))]
    if hidden and log:
        log(f"ignored {len(hidden)} hidden entr{'y' if len(hidden) == 1 else 'ies'} of "
            f"SUBMISSIONS (names starting with '.'): {', '.join(hidden[:5])}")
    if not students:
        raise GradingError(f"{submissions} holds no student folder; expected {LAYOUT}")
    known = assignments()
    if only:
        unknown = sorted(set(only) - set(known))
        if unknown:
            raise GradingError(f"unknown assignment(s) {', '.join(unknown)}; "
                               f"known: {', '.join(known)}")
        return students, [a for a in known if a in only]
    present = {e.name for s in students if not (folder / s).is_symlink()
               for e in _entries(folder / s)}
    chosen = [a for a in known if a in present]
    if not chosen:
        raise GradingError(f"no student folder in {submissions} holds a known assignment "
                           f"({', '.join(known)}); expected {LAYOUT}")
    return students, chosen


def find_symlink(submissions: str | os.PathLike[str], student: str,
                 assignment: str) -> str | None:
    """The first symlink among the student's folder, the assignment folder and all it holds.

    Returns the offending path relative to SUBMISSIONS, or None. Nothing is followed.
    """
    root = Path(submissions)
    for part in (Path(student), Path(student) / assignment):
        try:
            if stat.S_ISLNK(os.lstat(root / part).st_mode):
                return str(part)
        except FileNotFoundError:
            return None
    for top, dirs, files in os.walk(root / student / assignment, followlinks=False):
        for name in sorted(dirs + files):
            path = Path(top) / name
            if path.is_symlink():
                return str(path.relative_to(root))
    return None


def read_bytes_nofollow(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file, opened without following a symlink (OSError otherwise)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise IsADirectoryError(f"{path} is not a regular file")
        return handle.read()


def read_submission(submissions: str | os.PathLike[str], student: str,
                    assignment: str) -> bytes | Refused:
    """The bytes of a submission's notebook file, or why there are none (`Refused`).

    Checks, in order: no symlink (`symlink_refused`), a notebook file
    (`missing_submission`). Never raises for anything a student can put in SUBMISSIONS.
    """
    link = find_symlink(submissions, student, assignment)
    if link:
        return Refused("symlink_refused", f"{link} is a symbolic link; the grader follows no "
                       "link: submit the notebook file itself")
    path = notebook_path(submissions, student, assignment)
    try:
        return read_bytes_nofollow(path)
    except FileNotFoundError:
        return Refused("missing_submission", f"no notebook at {assignment}/{assignment}.ipynb")
    except OSError as error:
        if os.path.islink(path):
            return Refused("symlink_refused", f"{student}/{assignment}/{path.name} is a "
                           "symbolic link; submit the notebook file itself")
        return Refused("missing_submission", f"{assignment}/{assignment}.ipynb is not a "
                       f"readable file ({error.strerror or error})")


def load_submission(submissions: str | os.PathLike[str], student: str,
                    assignment: str) -> Loaded | Refused:
    """The notebook to grade (`Loaded`) or why there is none (`Refused`):
    `read_submission`, then `parse_notebook`. Never raises for anything a student can put
    in SUBMISSIONS.
    """
    raw = read_submission(submissions, student, assignment)
    return raw if isinstance(raw, Refused) else parse_notebook(raw)


def parse_notebook(raw: bytes) -> Loaded | Refused:
    """`Loaded` if `raw` is a notebook nbgrader can grade, else `Refused(unreadable_notebook)`.

    One function for the whole family of bad input: not UTF-8, empty, invalid JSON,
    nesting too deep or numbers too long for Python's parser, not version 4, wrong
    types anywhere the schema or nbgrader would choke on. The text returned is the
    notebook re-serialised by nbformat, which is what is graded.
    """
    try:
        return _parse(raw)
    except _Unreadable as problem:
        return Refused("unreadable_notebook", str(problem))
    except Exception as error:  # the whole family: RecursionError, ValueError, schema errors
        return Refused("unreadable_notebook", "the file is not a notebook the grader can read "
                       f"({type(error).__name__}: {str(error)[:150]}); save it again from "
                       "JupyterLab")


class _Unreadable(Exception):
    """A sentence saying why a file is not a gradable notebook."""


def _parse(raw: bytes) -> Loaded:
    if not raw.strip():
        raise _Unreadable("the notebook file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Unreadable(f"the file is not UTF-8 text (byte {error.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _Unreadable(f"the file is not a notebook: invalid JSON at line {error.lineno}, "
                          f"column {error.colno}") from None
    except RecursionError:
        raise _Unreadable("the file is not a notebook: its JSON is nested too deep") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise _Unreadable(f"the file is not a notebook: {str(error)[:120]}") from None
    if _depth(data) > MAX_DEPTH:
        raise _Unreadable(f"the file is not a notebook: its JSON is nested more than "
                          f"{MAX_DEPTH} levels deep")
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        raise _Unreadable("the file is not a version-4 Jupyter notebook; save it from "
                          "JupyterLab")
    _check_types(data)
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    nbformat.validate(nbformat.reads(text, as_version=4))  # what the grader will read
    return Loaded(text, hashlib.sha256(raw).hexdigest())


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


_NBGRADER_TYPES = {"grade_id": str, "grade": bool, "solution": bool, "locked": bool,
                   "task": bool, "points": (int, float), "schema_version": int}


def _check_types(data: dict[str, Any]) -> None:
    """What nbformat's schema leaves open and nbgrader assumes: cells and their metadata."""
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise _Unreadable("the notebook has no list of cells")
    if not isinstance(data.get("metadata", {}), dict):
        raise _Unreadable("the notebook's metadata is not a JSON object")
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise _Unreadable(f"cell {number} is not a JSON object")
        source = cell.get("source", "")
        if not (isinstance(source, str)
                or isinstance(source, list) and all(isinstance(s, str) for s in source)):
            raise _Unreadable(f"the source of cell {number} is not text")
        metadata = cell.get("metadata", {})
        if not isinstance(metadata, dict):
            raise _Unreadable(f"the metadata of cell {number} is not a JSON object")
        if "nbgrader" not in metadata:
            continue
        meta = metadata["nbgrader"]
        if not isinstance(meta, dict):
            raise _Unreadable(f"the nbgrader metadata of cell {number} was edited (it is not "
                              "a JSON object); start again from the released notebook")
        for key, kind in _NBGRADER_TYPES.items():
            if key in meta and (not isinstance(meta[key], kind)
                                or kind is not bool and isinstance(meta[key], bool)):
                raise _Unreadable(f"the nbgrader metadata of cell {number} was edited ({key} "
                                  "has the wrong type); start again from the released notebook")
        if isinstance(meta.get("points"), float) and not math.isfinite(meta["points"]):
            raise _Unreadable(f"the nbgrader metadata of cell {number} was edited (points is "
                              "not a finite number)")
