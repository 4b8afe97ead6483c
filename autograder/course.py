"""Where the course's files are, which version of them grades an assignment, and an nbgrader
API bound to a course directory."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

if TYPE_CHECKING:
    from nbgrader.apps import NbGraderAPI

AUTOGRADER_DIR = Path(__file__).resolve().parent
REPO_DIR = AUTOGRADER_DIR.parent
SOURCE_DIR = AUTOGRADER_DIR / "source"
NOTEBOOKS_DIR = REPO_DIR / "notebooks"


def assignments() -> list[str]:
    """Names of the assignments that have a master notebook, in course order."""
    return sorted(p.name for p in SOURCE_DIR.iterdir()
                  if (p / f"{p.name}.ipynb").is_file())


def master_path(assignment: str) -> Path:
    """Path of the master notebook of `assignment`."""
    return SOURCE_DIR / assignment / f"{assignment}.ipynb"


def graded_cells(assignment: str) -> tuple[tuple[str, float], ...]:
    """((grade_id, points), ...) of the master's graded test cells, in notebook order."""
    path = master_path(assignment)
    return _graded_cells(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _graded_cells(path: Path, mtime_ns: int) -> tuple[tuple[str, float], ...]:
    """Read once per version of the master: grading asks for every submission."""
    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cells.append((meta["grade_id"], float(meta.get("points", 0))))
    return tuple(cells)


PACKAGE_DATA = {"autograder": ("nbgrader_config.py", "sandbox/*.sh", "source/*/*.ipynb"),
                "course_lib": ("checks/values/*.json",)}
"""The installed course's files besides its modules (pyproject.toml's package-data)."""
VERSIONED_PACKAGES = ("numpy", "nbgrader")
"""Installed packages whose version is part of an assignment's grading version: numpy
computes every reference result, nbgrader runs and scores every notebook."""


def course_files(assignment: str) -> list[Path]:
    """The files of the installed course that decide how `assignment` is graded: every
    module of `autograder` and `course_lib` and their package data, with this assignment's
    master and not the other assignments' (editing one master regrades that assignment)."""
    files: set[Path] = set()
    for name, root in _package_roots().items():
        files.update(_modules(root))
        for pattern in PACKAGE_DATA[name]:
            files.update(root.glob(pattern))
    others = {master_path(a) for a in assignments() if a != assignment}
    return sorted(path for path in files if path not in others)


def _package_roots() -> dict[str, Path]:
    """{package: its folder} of the course's two packages, wherever they are installed."""
    import course_lib

    return {"autograder": AUTOGRADER_DIR,
            "course_lib": Path(course_lib.__file__).resolve().parent}


def _modules(package: Path) -> list[Path]:
    """The modules of `package` and of its subpackages (folders with an __init__.py)."""
    found = sorted(package.glob("*.py"))
    for folder in sorted(package.iterdir()):
        if folder.is_dir() and (folder / "__init__.py").is_file():
            found += _modules(folder)
    return found


@functools.cache
def grading_version(assignment: str) -> str:
    """A hash of everything that decides how `assignment` is graded (`course_files`, the
    versions of `VERSIONED_PACKAGES`), computed once per process. A record made by another
    version is not up to date: after a fix to a master, a hidden case, a judge or a
    tolerance, the next run grades that assignment's submissions again.

    >>> grading_version("04_softmax_vs_hardmax") == grading_version("04_softmax_vs_hardmax")
    True
    >>> len({grading_version(a) for a in assignments()}) == len(assignments())
    True
    """
    from importlib.metadata import version

    digest = hashlib.sha256()
    for package in VERSIONED_PACKAGES:
        digest.update(f"{package}=={version(package)}\n".encode())
    roots = _package_roots().values()
    for path in course_files(assignment):
        data = path.read_bytes()
        # named from its package ("autograder/case.py"): the same wherever it is installed
        name = next(path.relative_to(r.parent) for r in roots if path.is_relative_to(r))
        digest.update(f"{name.as_posix()} {len(data)}\n".encode())
        digest.update(data)
    return digest.hexdigest()


def _put_venv_on_path() -> None:
    """nbgrader calls `alembic` through PATH: make it this interpreter's."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


@functools.cache
def alembic_head() -> str:
    """The revision nbgrader stamps on a new gradebook, read from its migration scripts.

    nbgrader's own `get_alembic_version` starts the `alembic` command to ask (about two
    seconds, once per new gradebook: every grading run makes one). The scripts name their
    `revision` and `down_revision`; the head is the one no other script follows. With
    anything but exactly one head this asks nbgrader's way. tests/test_grading_run.py
    checks that both answers agree.
    """
    import re

    from nbgrader.dbutil import ALEMBIC_DIR

    revisions, followed = set(), set()
    for script in (Path(ALEMBIC_DIR) / "versions").glob("*.py"):
        text = script.read_text()
        revisions.update(re.findall(r"^revision = ['\"](\w+)['\"]", text, re.M))
        followed.update(re.findall(r"^down_revision = ['\"](\w+)['\"]", text, re.M))
    heads = revisions - followed
    return heads.pop() if len(heads) == 1 else _ask_nbgrader()


_ask_nbgrader: Callable[[], str]
"""nbgrader's own `get_alembic_version`, kept when `nbgrader_api` puts `alembic_head` in
its place."""


def _read_alembic_head_here() -> None:
    global _ask_nbgrader
    import nbgrader.api

    if nbgrader.api.get_alembic_version is not alembic_head:
        _ask_nbgrader = nbgrader.api.get_alembic_version
        nbgrader.api.get_alembic_version = alembic_head


def nbgrader_api(root: str | os.PathLike[str], **overrides: Any) -> NbGraderAPI:
    """An NbGraderAPI on course directory `root`, with the course's config and `overrides`.

    `overrides` maps "Class.trait" to a value, e.g. {"ProbeExecute.seed": 3}.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    _put_venv_on_path()
    _read_alembic_head_here()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(AUTOGRADER_DIR)).load_config()
    config.merge(Config({"CourseDirectory": {"root": str(root)}}))
    for key, value in overrides.items():
        section, trait = key.split(".")
        config.merge(Config({section: {trait: value}}))
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)
