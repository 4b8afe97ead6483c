"""Where the course's files are, and an nbgrader API bound to a course directory."""

from __future__ import annotations

import functools
import os
import sys
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


def _put_venv_on_path() -> None:
    """nbgrader calls `alembic` through PATH: make it this interpreter's."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_api(root: str | os.PathLike[str], **overrides: Any) -> NbGraderAPI:
    """An NbGraderAPI on course directory `root`, with the course's config and `overrides`.

    `overrides` maps "Class.trait" to a value, e.g. {"ProbeExecute.seed": 3}.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    _put_venv_on_path()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(AUTOGRADER_DIR)).load_config()
    config.merge(Config({"CourseDirectory": {"root": str(root)}}))
    for key, value in overrides.items():
        section, trait = key.split(".")
        config.merge(Config({section: {trait: value}}))
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)
