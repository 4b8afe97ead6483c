"""Shared test helpers: build submissions from the masters and run the grader."""

import csv
import subprocess
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "autograder" / "source"


def master(assignment):
    """The master notebook of `assignment` (solutions and hidden tests)."""
    return nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)


def student_version(assignment):
    """The released student notebook of `assignment`."""
    return nbformat.read(REPO / "notebooks" / f"{assignment}.ipynb", as_version=4)


def with_solutions(assignment, replacements=None, *, base=None):
    """A submission: the master's answers, with some solution cells' source replaced.

    `replacements` maps a solution cell's grade_id to the source a student wrote.
    """
    nb = base if base is not None else master(assignment)
    replacements = dict(replacements or {})
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replacements:
            cell.source = replacements.pop(grade_id)
    assert not replacements, f"no solution cells named {sorted(replacements)}"
    return nb


def write_submission(root, student, assignment, nb):
    """Write `nb` as SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb."""
    folder = Path(root) / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    if isinstance(nb, (bytes, str)):
        path.write_bytes(nb if isinstance(nb, bytes) else nb.encode())
    else:
        nbformat.write(nb, path)
    return path


def run_grader(submissions, out, *extra):
    """Run `python -m autograder grade`; return (completed process, rows of grades.csv)."""
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
         "--seed", "12345", "--no-progress", *extra],
        capture_output=True, text=True, cwd=REPO, timeout=1200)
    rows = []
    csv_path = Path(out) / "grades.csv"
    if csv_path.exists():
        with open(csv_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    return proc, rows


def scores_by_student(rows):
    """{student: {grade_id: (score, status, message)}}."""
    table = {}
    for row in rows:
        table.setdefault(row["student_id"], {})[row["grade_id"]] = (
            float(row["score"]), row["status"], row["message"])
    return table
