"""A graded class as nbgrader's Formgrader reviews it: DIR is a course directory.

After every run of `python -m autograder grade SUBMISSIONS --out DIR`, DIR holds what
Formgrader reads, in its default layout:

- ``DIR/nbgrader_config.py``: makes DIR the course directory when JupyterLab is started in
  it (``make review DIR=...``, then Nbgrader → Formgrader);
- ``DIR/source/<assignment>/<assignment>.ipynb``: a copy of each graded assignment's master,
  which is how Formgrader learns which assignments exist;
- ``DIR/gradebook.db``: every student's scores, written by the grading run's main process
  alone, rebuilt from the records at the end of each run (so it always matches grades.csv);
- ``DIR/autograded/<student_id>/<assignment>/<assignment>.ipynb``: each graded notebook,
  with the grader's verdict as the output of each graded test cell (score, status, the
  named mistake and its hint).

What an instructor adds in Formgrader (a manual score, extra credit, a comment) is kept:
each run carries the manual fields of the previous gradebook into the new one, cell by
cell, for every cell that still exists. A manual score replaces the automatic one in
nbgrader's `Grade.score`, which is what `python -m autograder export` totals.

nbgrader's own feedback folder is moved to ``DIR/nbgrader-feedback`` so that Formgrader's
"Generate Feedback" never writes over the grader's pages in ``DIR/feedback``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from autograder.records import Row, atomic_write

AUTOGRADED = "autograded"
NBGRADER_FEEDBACK = "nbgrader-feedback"

CONFIG = f'''"""Formgrader on this graded class: run `jupyter lab` here. Written by the grader."""
import os

c = get_config()  # noqa: F821
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.autograded_directory = "{AUTOGRADED}"
c.CourseDirectory.feedback_directory = "{NBGRADER_FEEDBACK}"
'''

MANUAL_GRADE_FIELDS = ("manual_score", "extra_credit")
MANUAL_COMMENT_FIELDS = ("manual_comment",)


def autograded_path(out: str | os.PathLike[str], student: str, assignment: str) -> Path:
    """DIR/autograded/<student>/<assignment>/<assignment>.ipynb, where Formgrader looks."""
    return Path(out) / AUTOGRADED / student / assignment / f"{assignment}.ipynb"


def verdict_text(row: Row) -> str:
    """What a graded test cell shows in Formgrader: score, status, named mistake, message.

    >>> print(verdict_text(Row("ana", "04", "test_softmax", 0.0, 2.0, "wrong_answer",
    ...                        "subtract the max first", "no_max_shift")))
    ✗ 0 / 2 points: wrong_answer (mistake: no_max_shift)
    subtract the max first
    """
    mark = "✓" if row.status == "ok" and row.score >= row.max_score else "✗"
    head = f"{mark} {row.score:g} / {row.max_score:g} points: {row.status}"
    if row.mistake:
        head += f" (mistake: {row.mistake})"
    return head + (f"\n{row.message}" if row.message else "")


def with_verdicts(nb: nbformat.NotebookNode, rows: Sequence[Row]) -> nbformat.NotebookNode:
    """`nb` with each graded test cell's outputs replaced by its verdict (`verdict_text`).

    Parameters
    ----------
    nb : NotebookNode
        The autograded notebook (nbgrader's copy, hidden tests restored).
    rows : sequence of Row
        The submission's rows; a cell is matched by its grade_id.

    Returns
    -------
    NotebookNode
        The same notebook, changed in place: a verdict is a stdout stream when the cell
        kept its points, stderr otherwise (Formgrader shows it on red).
    """
    by_id = {row.grade_id: row for row in rows}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        row = by_id.get(meta.get("grade_id")) if meta.get("grade") else None
        if cell.cell_type != "code" or row is None:
            continue
        kept = row.status == "ok" and row.score >= row.max_score
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout" if kept else "stderr",
                                               text=verdict_text(row) + "\n")]
    return nb


def write_autograded(out: str | os.PathLike[str], student: str, assignment: str,
                     text: str | None) -> None:
    """Put a submission's autograded notebook (JSON text) where Formgrader finds it.

    `text` None (nothing could be run) removes an older one, so Formgrader never shows a
    notebook the rows no longer describe.
    """
    path = autograded_path(out, student, assignment)
    if text is None:
        path.unlink(missing_ok=True)
        return
    atomic_write(path, text)


def write_course(out: str | os.PathLike[str], assignments: Iterable[str]) -> None:
    """DIR/nbgrader_config.py and the masters of `assignments` in DIR/source (see the module
    docstring)."""
    from autograder.course import SOURCE_DIR

    atomic_write(Path(out) / "nbgrader_config.py", CONFIG)
    for assignment in assignments:
        name = f"{assignment}.ipynb"
        atomic_write(Path(out) / "source" / assignment / name,
                     (SOURCE_DIR / assignment / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Carried:
    """Manual fields carried from the previous gradebook: how many, and which were dropped."""

    grades: int
    comments: int
    dropped: list[str]
    """'student assignment cell' of manual fields whose cell no longer exists."""
    backup: Path | None = None
    """The previous gradebook, kept whole when something was dropped."""


def _manual_fields(db_path: Path) -> tuple[dict, dict]:
    """{(student, assignment, cell): {field: value}} of the set manual fields, for grades and
    comments, read from an nbgrader gradebook."""
    from nbgrader.api import Comment, Grade, Gradebook
    from sqlalchemy import or_

    grades, comments = {}, {}
    with Gradebook(f"sqlite:///{db_path}") as gradebook:
        for kind, fields, found in ((Grade, MANUAL_GRADE_FIELDS, grades),
                                    (Comment, MANUAL_COMMENT_FIELDS, comments)):
            # only the rows where an instructor set something (a class has thousands)
            query = gradebook.db.query(kind).filter(
                or_(*(getattr(kind, f).isnot(None) for f in fields)))
            for item in query.all():
                values = {f: getattr(item, f) for f in fields if getattr(item, f) is not None}
                if values:
                    key = (item.student.id, item.assignment.name, item.cell.name)
                    found[key] = values
    return grades, comments


def _apply(gradebook: Any, previous: tuple[dict, dict]) -> list[int]:
    """Set the manual fields of `previous` on the cells `gradebook` still has; return how
    many grades and comments were set, and remove them from `previous` (what is left was
    dropped)."""
    counts = [0, 0]
    for index, (finder, fields) in enumerate(((gradebook.find_grade, previous[0]),
                                              (gradebook.find_comment, previous[1]))):
        for (student, assignment, cell), values in list(fields.items()):
            try:
                item = finder(cell, assignment, assignment, student)
            except Exception:  # nbgrader's MissingEntry: the cell or the student is gone
                continue
            for name, value in values.items():
                setattr(item, name, value)
            counts[index] += 1
            del fields[(student, assignment, cell)]
    gradebook.db.commit()
    return counts


class GradebookBuilder:
    """DIR/gradebook.db, built while the class is graded: each submission's rows go in as
    they are recorded (`add`), then `finish` carries over the previous manual fields and
    puts the new gradebook in place.

    Parameters
    ----------
    out : path
        The grading folder.
    template_db_url : str
        sqlite URL of a gradebook with the assignments registered (no students).

    The new gradebook is built beside the old one (DIR/.gradebook.db.tmp), by the run's
    main process alone, then copied into the old file with SQLite's backup API under
    SQLite's own lock: a Formgrader that has the gradebook open keeps using the same file
    (its edits land in the new content; a file renamed into place would leave it writing
    into the deleted one), and readers see the old content or the new. The manual fields
    are read after building, just before the copy, so an edit made while the run was
    building is kept too. A run that stops before `finish` leaves the old gradebook as it
    was.
    """

    def __init__(self, out: str | os.PathLike[str], template_db_url: str) -> None:
        from nbgrader.api import Gradebook

        self.target = Path(out) / "gradebook.db"
        self.building = Path(out) / ".gradebook.db.tmp"
        shutil.copyfile(template_db_url.removeprefix("sqlite:///"), self.building)
        self.gradebook = Gradebook(f"sqlite:///{self.building}")
        self._students: set[str] = set()

    def add(self, rows: Sequence[Row]) -> None:
        """The rows of one submission (one student, one assignment)."""
        if not rows:
            return
        student, assignment = rows[0].student_id, rows[0].assignment
        if student not in self._students:
            self.gradebook.update_or_create_student(student)
            self._students.add(student)
        submission = self.gradebook.update_or_create_submission(assignment, student)
        grades = {grade.name: grade for notebook in submission.notebooks
                  for grade in notebook.grades}
        for row in rows:
            grade = grades[row.grade_id]
            grade.auto_score = row.score
            grade.needs_manual_grade = False

    def finish(self) -> Carried:
        """Carry the previous manual fields over and put the gradebook in place."""
        gradebook, target, building = self.gradebook, self.target, self.building
        gradebook.db.commit()
        # read last, just before the copy: edits made in Formgrader while building count
        previous = _manual_fields(target) if target.exists() else ({}, {})
        carried = _apply(gradebook, previous)
        self.close()
        dropped = sorted(" ".join(key) for fields in previous for key in fields)
        backup = None
        if dropped:  # nothing an instructor wrote is lost: the old gradebook stays, whole
            backup = target.with_name(f"gradebook.before-{time.strftime('%Y%m%d-%H%M%S')}.db")
            shutil.copyfile(target, backup)
        if target.exists():
            with closing(sqlite3.connect(building)) as source, \
                    closing(sqlite3.connect(target, timeout=60)) as destination:
                source.backup(destination)
            building.unlink()
        else:
            building.replace(target)
        return Carried(grades=carried[0], comments=carried[1], dropped=dropped, backup=backup)

    def close(self) -> None:
        self.gradebook.close()

    def discard(self) -> None:
        """Stop building: the old gradebook stays as it was."""
        self.close()
        self.building.unlink(missing_ok=True)


def write_gradebook(out: str | os.PathLike[str], template_db_url: str,
                    rows: Iterable[Row]) -> Carried:
    """DIR/gradebook.db from all the class's `rows` at once (see `GradebookBuilder`)."""
    by_submission: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        by_submission.setdefault((row.student_id, row.assignment), []).append(row)
    builder = GradebookBuilder(out, template_db_url)
    try:
        for submitted in by_submission.values():
            builder.add(submitted)
    except BaseException:
        builder.discard()
        raise
    return builder.finish()


def carried_line(carried: Carried) -> str:
    """One line for the terminal about the instructor's manual grades and comments ("" if none)."""
    if not (carried.grades or carried.comments or carried.dropped):
        return ""
    line = (f"kept the manual grades of {carried.grades} cells and {carried.comments} comments "
            "from Formgrader")
    if carried.dropped:
        line += (f"; {len(carried.dropped)} belonged to cells or students that are no longer "
                 f"graded ({', '.join(carried.dropped[:10])}): the previous gradebook with "
                 f"them is kept as {carried.backup}")
    return line


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """A notebook as the JSON text nbformat writes."""
    return nbformat.writes(nb)


__all__ = ["AUTOGRADED", "Carried", "GradebookBuilder", "autograded_path", "carried_line",
           "verdict_text", "with_verdicts", "write_autograded", "write_course",
           "write_gradebook"]

