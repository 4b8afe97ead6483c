"""docs/authoring.md works as written: its blocks make a course that releases and grades.

The walk-through's cells and files are taken from the document itself, put into a scratch
copy of the course (course_lib and autograder, no other assignment), and then the
document's commands are run there: generate the values, release, grade a correct and a
mistaken submission. The mistaken one must lose the cell with the declared hint, in
grades.csv, on its feedback page and in the visible check.
"""

import csv
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from tests.helpers import REPO

DOC = REPO / "docs" / "authoring.md"
BLOCK = re.compile(r"<!-- (?P<kind>cell|file|shell):? ?(?P<what>[^>]*?) -->\n```\w*\n"
                   r"(?P<body>.*?)```", re.DOTALL)


def blocks(kind):
    """[(what, body)] of the document's blocks of `kind`, in order."""
    return [(m["what"].strip(), m["body"]) for m in BLOCK.finditer(DOC.read_text())
            if m["kind"] == kind]


def run(course, *args):
    """Run `python <args>` in the scratch course; fail with its output when it fails."""
    proc = subprocess.run([sys.executable, *args], cwd=course, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def master():
    """The master notebook the document describes, cell by cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for what, body in blocks("cell"):
        cell = nbformat.v4.new_code_cell(body.rstrip("\n"))
        kind, *rest = what.split()
        if kind == "solution":
            cell.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False,
                                         "grade_id": rest[0], "schema_version": 3}
        elif kind == "test":
            cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                         "grade_id": rest[0], "points": int(rest[1]),
                                         "schema_version": 3}
        nb.cells.append(cell)
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch course: this one's code, the document's files, and no other assignment."""
    root = tmp_path_factory.mktemp("course")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "course_lib", root / "course_lib", ignore=ignore)
    shutil.copytree(REPO / "autograder", root / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "source", "release",
                                                  "submitted", "autograded", "feedback"))
    for path, body in blocks("file"):
        (root / path).write_text(body)
    folder = root / "autograder" / "source" / "00_centering"
    folder.mkdir(parents=True)
    nbformat.write(master(), folder / "00_centering.ipynb")
    commands = blocks("shell")[0][1].splitlines()
    for command in commands[:2]:  # generate the values, release
        run(root, *command.split("#")[0].split()[1:])
    return root


def test_the_document_has_the_whole_walk_through():
    assert [w for w, _ in blocks("file")] == ["course_lib/checks/centering.py",
                                              "autograder/reference/centering.py"]
    assert [w.split()[0] for w, _ in blocks("cell")] == ["code", "solution", "test"]


def test_values_and_student_notebook_are_generated(course):
    assert (course / "course_lib" / "checks" / "values" / "00_centering.json").is_file()
    student = (course / "notebooks" / "00_centering.ipynb").read_text()
    assert "NotImplementedError" in student and "keepdims" not in student
    assert "run_in_process" not in student


WRONG_AXIS = """def center(Z):
    return Z - Z.mean(axis=0, keepdims=True)
"""


def test_a_correct_and_a_mistaken_submission_are_graded(course, tmp_path):
    right = master()
    wrong = master()
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = WRONG_AXIS
    for student, nb in {"right": right, "wrong": wrong}.items():
        (tmp_path / "in" / student / "00_centering").mkdir(parents=True)
        nbformat.write(nb, tmp_path / "in" / student / "00_centering" / "00_centering.ipynb")
    run(course, "-m", "autograder", "grade", str(tmp_path / "in"), "--out",
        str(tmp_path / "out"), "--seed", "7", "--no-progress")
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)}
    hint = "the mean is taken over the units (axis 0)"
    assert (rows["right"]["status"], float(rows["right"]["score"])) == ("ok", 1.0)
    assert (rows["wrong"]["status"], float(rows["wrong"]["score"])) == ("wrong_answer", 0.0)
    assert hint in rows["wrong"]["message"]
    assert hint in (tmp_path / "out" / "feedback" / "wrong" / "00_centering.html").read_text()


def test_the_visible_check_names_the_same_mistake(course):
    script = ("import numpy as np\n" + WRONG_AXIS + "from course_lib.checks.centering import "
              "check_center\ntry:\n    check_center(center)\nexcept AssertionError as e:\n"
              "    print(e)\n")
    out = run(course, "-c", script).stdout
    assert "Z of shape (2, 3): Z_centered is wrong: the mean is taken over the units" in out
