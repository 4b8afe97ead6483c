"""Generate the student notebooks from the masters with nbgrader's generate_assignment.

Every cell a master tags `demo` (plots, experiments, widgets) is skipped when grading; the
student's copy says so on its first line (`DEMO_MARKER`), so nobody defines a helper there
that an answer then needs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import nbformat

from autograder.course import NOTEBOOKS_DIR, SOURCE_DIR, assignments, nbgrader_api
from autograder.preprocessors import is_demo
from autograder.records import atomic_write

DEMO_MARKER = ("# Demo: the grader does not run this cell. "
               "Define nothing here that your answers need.")


class ReleaseError(RuntimeError):
    """generate_assignment failed for a master; the message holds nbgrader's log."""


def release(out_dir: str | os.PathLike[str] = NOTEBOOKS_DIR,
            names: Iterable[str] | None = None) -> list[Path]:
    """Write `<out_dir>/<assignment>.ipynb` for each assignment; return the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="course-release-") as work:
        shutil.copytree(SOURCE_DIR, Path(work) / "source")
        api = nbgrader_api(work)
        for name in names or assignments():
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                raise ReleaseError(f"could not release {name}:\n{result.get('log', '')}"
                                   f"{result.get('error', '')}")
            target = out_dir / f"{name}.ipynb"
            nb = nbformat.read(Path(work) / "release" / name / f"{name}.ipynb", as_version=4)
            # atomic: a reader (JupyterLab, a test) never sees half a notebook
            atomic_write(target, nbformat.writes(mark_demo_cells(nb)) + "\n")
            written.append(target)
    return written


def mark_demo_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Put `DEMO_MARKER` on the first line of every code cell tagged `demo` (once)."""
    for cell in nb.cells:
        if (cell.cell_type == "code" and is_demo(cell)
                and not cell.source.startswith(DEMO_MARKER)):
            cell.source = f"{DEMO_MARKER}\n{cell.source}"
    return nb
