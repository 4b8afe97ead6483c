"""Per-student totals in the CSV formats an LMS's gradebook imports (Canvas, Moodle) or plain.

`python -m autograder export DIR --format canvas|moodle|csv [--to FILE]` reads DIR/grades.csv
and, when present, the manual grades and comments an instructor gave in nbgrader's
Formgrader (DIR/gradebook.db), and writes one row per student with one total per assignment
(the sum of its graded cells). It writes DIR/export/<format>.csv by default and never
overwrites what `grade` wrote (grades.csv, gradebook.db, .results/, feedback/).

Which LMS column holds the grader's student id (the SUBMISSIONS folder name):

- Canvas: the `ID` column, Canvas's own user id, which its gradebook import matches first.
  `autograder.collect` names each student of a Canvas "Download Submissions" zip by that
  id, so collect -> grade -> export -> import needs no roster.
- Moodle: the identifier column, which the instructor maps at import time to a username,
  email address, ID number or user id. Moodle's "Download all submissions" zip carries
  none of these (only the full name and a participant number that differs per
  assignment), so a class collected from Moodle needs a roster (`roster=`): without one,
  the student id is taken as the Moodle username and the export refuses ids that cannot
  be usernames.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import graded_cells
from autograder.exercises import ASSIGNMENTS
from autograder.export import neutralise, read_grades
from autograder.records import atomic_write
from autograder.review import AUTOGRADED, NBGRADER_FEEDBACK
from autograder.submissions import GradingError

FORMATS = ("canvas", "moodle", "csv")

CANVAS_HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
"""The student columns of a Canvas gradebook CSV, before one column per assignment.

Documented in Canvas's Instructor Guide "How do I import grades in the Gradebook?" (the
import file has the layout of the Gradebook export: Student, ID, SIS User ID, SIS Login ID,
Section, then one column per assignment, and a "Points Possible" row under the header), as
summarised in
https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades
and implemented in
https://github.com/instructure/canvas-lms/blob/master/app/models/gradebook_importer.rb.
Canvas matches a row to a student by ID (Canvas's user id) first, then SIS User ID, then
SIS Login ID, then the name in Student (gradebook_importer.rb, `process_student`). An
assignment column is matched to a Canvas assignment by its title (or "Title (id)"); a title
Canvas does not know becomes a new assignment.
"""

CANVAS_POINTS_POSSIBLE = "    Points Possible"
"""First cell of the row under the header that gives each assignment's points (as Canvas
exports it; the importer recognises any first cell containing "Points Possible")."""

MOODLE_HEADER = ("Username",)
"""The identifier column of a Moodle grade import CSV, before the grade-item columns.

Documented in "Grade import", https://docs.moodle.org/311/en/Grade_import (CSV import: a header
row; at import, "Map from" picks the identifier column and "Map to" what it holds: userid,
username, useridnumber or useremail; each other column is mapped to a grade item, a new grade
item, or the feedback of a grade item). Without a roster the student id is the username; with
a roster, this column is named after the roster's identifier (one of MOODLE_IDENTIFIERS).
"""

MOODLE_IDENTIFIERS = {"Username": "username", "Email address": "useremail",
                      "ID number": "useridnumber", "User ID": "userid"}
"""Roster column -> the "Map to" choice of Moodle's grade import, in order of preference."""

MOODLE_FEEDBACK = "{assignment} feedback"
"""Header of an assignment's feedback column (mapped at import to "Feedback for <item>")."""

MOODLE_USERNAME = re.compile(r"[a-z0-9_.@-]+")
"""Characters of a Moodle username (lower case; site setting extendedusernamechars off)."""

CSV_HEADER = ("student_id",)
"""The plain format: student_id, one total per assignment, then CSV_TRAILER."""

CSV_TRAILER = ("total", "comments")

PROTECTED = ("grades.csv", "gradebook.db", "nbgrader_config.py")
"""Files of a graded folder that `grade` wrote and the export never replaces."""

PROTECTED_FOLDERS = (".results", "feedback", AUTOGRADED, NBGRADER_FEEDBACK, "source")
"""Folders of a graded folder the export never writes into (records, feedback pages, and
the course directory Formgrader reads, see `autograder.review`)."""


@dataclass
class Totals:
    """What the export writes: per student, each assignment's total and the comments."""

    assignments: list[str]
    students: list[str]
    totals: dict[str, dict[str, float]] = field(default_factory=dict)
    comments: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """student -> assignment -> ["cell: comment", ...] from the instructor."""


def points_possible(assignment: str) -> float:
    """The points of `assignment`: the sum of its graded cells' points."""
    return sum(points for _, points in graded_cells(assignment))


def read_totals(out: str | os.PathLike[str]) -> Totals:
    """Totals per student and assignment from OUT/grades.csv and OUT/gradebook.db.

    Parameters: `out`, the folder `grade --out` wrote. A cell scores its manual score when
    the instructor set one in Formgrader, else grades.csv's score; nbgrader's extra credit is
    added to either. Returns a `Totals`. Raises GradingError for a missing or malformed
    grades.csv or an unreadable gradebook.
    """
    folder = Path(out)
    if not folder.is_dir():
        raise GradingError(f"{out} is not a folder; give the folder `grade --out` wrote")
    path = folder / "grades.csv"
    scores: dict[tuple[str, str, str], float] = {}
    for row in read_grades(path):  # keyed by the ids as grades.csv shows them
        scores[(neutralise(row.student_id), row.assignment, row.grade_id)] = row.score
    if not scores:
        raise GradingError(f"{path} holds no grades; run `grade` first")
    present = {a for _, a, _ in scores}
    unknown = sorted(present - set(ASSIGNMENTS))
    if unknown:
        raise GradingError(f"{path} grades unknown assignment(s) {', '.join(unknown)}; "
                           f"known: {', '.join(ASSIGNMENTS)}")
    manual, comments = _manual_grades(folder / "gradebook.db")
    by_csv_id = {neutralise(real): real for real in {s for s, _, _ in manual}
                 | set(comments)}
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (student, assignment, grade_id), score in scores.items():
        real = by_csv_id.get(student, student)
        manual_score, extra = manual.get((real, assignment, grade_id), (None, None))
        cell = manual_score if manual_score is not None else score
        totals[student][assignment] += cell + (extra or 0.0)
    notes: dict[str, dict[str, list[str]]] = {}
    for real, per_assignment in comments.items():
        notes[neutralise(real)] = per_assignment
    students = sorted(totals)
    return Totals([a for a in ASSIGNMENTS if a in present], students,
                  {s: dict(totals[s]) for s in students}, notes)


def _manual_grades(db: Path) -> tuple[dict[tuple[str, str, str], tuple[float | None,
                                                                        float | None]],
                                      dict[str, dict[str, list[str]]]]:
    """(manual scores and extra credit per (student, assignment, cell), comments) of `db`.

    The gradebook is opened read-only; an absent gradebook gives no manual grades.
    """
    if not db.is_file():
        return {}, {}
    from nbgrader.api import Comment, Grade, Gradebook
    from sqlalchemy import or_

    manual: dict[tuple[str, str, str], tuple[float | None, float | None]] = {}
    comments: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    try:
        with Gradebook(f"sqlite:///file:{db.resolve()}?mode=ro&uri=true") as gradebook:
            graded = gradebook.db.query(Grade).filter(
                or_(Grade.manual_score.isnot(None), Grade.extra_credit.isnot(None)))
            for grade in graded:
                manual[(grade.student.id, grade.assignment.name, grade.name)] = (
                    grade.manual_score, grade.extra_credit)
            commented = gradebook.db.query(Comment).filter(Comment.manual_comment.isnot(None))
            for comment in commented:
                text = " ".join(comment.manual_comment.split())
                if text:
                    comments[comment.student.id][comment.assignment.name].append(
                        f"{comment.name}: {text}")
    except GradingError:
        raise
    except Exception as error:  # sqlite or nbgrader: the file is not a gradebook it reads
        raise GradingError(f"cannot read the gradebook {db} ({type(error).__name__}: "
                           f"{str(error)[:200]}); grade again, or move it away to export "
                           "grades.csv alone") from None
    return manual, {s: dict(c) for s, c in comments.items()}


def read_roster(path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """student id -> the roster's row (column -> value), from a roster CSV.

    Parameters: `path`, a CSV with a header. Its rows are keyed by its `student_id` column,
    or, without one, by "First name Last name" (the columns of Moodle's gradebook export,
    whose full names are the student ids `collect` takes from a Moodle download). Other
    columns named like the LMS's own (CANVAS_HEADER, MOODLE_IDENTIFIERS) fill those columns
    of the export. Raises GradingError for a missing file, no key column, or a student id
    given twice.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = [f.strip() for f in reader.fieldnames or []]
            rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    except FileNotFoundError:
        raise GradingError(f"the roster {path} does not exist; give a CSV with a student_id "
                           "column (or Moodle's gradebook export)") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise GradingError(f"the roster {path} is not a UTF-8 CSV file ({error}); save it "
                           "as CSV UTF-8") from None
    if "student_id" in fields:
        def key(row: Mapping[str, str]) -> str:
            return row["student_id"]
    elif "First name" in fields and "Last name" in fields:
        def key(row: Mapping[str, str]) -> str:
            return f"{row['First name']} {row['Last name']}".strip()
    else:
        raise GradingError(f"the roster {path} has no student_id column (nor First name and "
                           "Last name); add a student_id column holding the SUBMISSIONS "
                           "folder names")
    roster: dict[str, dict[str, str]] = {}
    for row in rows:
        student = key(row)
        if not student:
            continue
        if student in roster:
            raise GradingError(f"the roster {path} names student {student!r} twice; make "
                               "each student id appear once (add a student_id column)")
        roster[student] = row
    return roster


def _number(value: float) -> str:
    """A score as a spreadsheet reads it: no float noise, no trailing zeros."""
    return f"{round(value, 6):.10g}"


def _roster_rows(totals: Totals, roster: Mapping[str, Mapping[str, str]] | None,
                 roster_path: str | os.PathLike[str] | None) -> dict[str, Mapping[str, str]]:
    """Each student's roster row ({} without a roster); GradingError names missing ones."""
    if roster is None:
        return {s: {} for s in totals.students}
    roster = {neutralise(k): v for k, v in roster.items()}  # as grades.csv writes the ids
    missing = [s for s in totals.students if s not in roster]
    if missing:
        raise GradingError(f"the roster {roster_path} has no row for {len(missing)} "
                           f"student(s): {', '.join(missing[:10])}; add them (student_id "
                           "is the SUBMISSIONS folder name)")
    return {s: roster[s] for s in totals.students}


def canvas_rows(totals: Totals, roster: Mapping[str, Mapping[str, str]] | None = None,
                roster_path: str | os.PathLike[str] | None = None) -> list[list[str]]:
    """Canvas's gradebook CSV: header, "Points Possible" row, one row per student.

    Parameters: `totals` (from `read_totals`), `roster` (from `read_roster`, optional: its
    Student, ID, SIS User ID, SIS Login ID and Section columns fill those columns), and
    `roster_path` for messages. Without a roster, ID and Student hold the student id.
    Returns the rows (lists of text).
    """
    rows = [[*CANVAS_HEADER, *totals.assignments],
            [CANVAS_POINTS_POSSIBLE, "", "", "", "",
             *(_number(points_possible(a)) for a in totals.assignments)]]
    for student, extra in _roster_rows(totals, roster, roster_path).items():
        given = {c: extra.get(c, "") for c in CANVAS_HEADER}
        if not any(given[c] for c in ("ID", "SIS User ID", "SIS Login ID")):
            given["ID"] = student
        given["Student"] = given["Student"] or student
        rows.append([*(neutralise(given[c]) for c in CANVAS_HEADER),
                     *(_number(totals.totals[student].get(a, 0.0))
                       for a in totals.assignments)])
    return rows


def moodle_rows(totals: Totals, roster: Mapping[str, Mapping[str, str]] | None = None,
                roster_path: str | os.PathLike[str] | None = None) -> list[list[str]]:
    """Moodle's grade import CSV: identifier, then each assignment's total and feedback.

    Parameters: `totals`, `roster` (optional; its first column among MOODLE_IDENTIFIERS
    becomes the identifier) and `roster_path` for messages. Without a roster the student id
    is the username: GradingError if one cannot be a Moodle username (e.g. a full name from
    a Moodle download, which needs a roster). Returns the rows (lists of text).
    """
    identifier = MOODLE_HEADER[0]
    if roster is not None:
        columns = {c for row in roster.values() for c in row}
        found = [c for c in MOODLE_IDENTIFIERS if c in columns]
        if not found:
            raise GradingError(f"the roster {roster_path} has none of the columns Moodle's "
                               f"import matches on ({', '.join(MOODLE_IDENTIFIERS)}); add "
                               "one (Moodle's gradebook export has Email address)")
        identifier = found[0]
    else:
        bad = [s for s in totals.students if not MOODLE_USERNAME.fullmatch(s)]
        if bad:
            raise GradingError(
                f"{len(bad)} student id(s) cannot be Moodle usernames (e.g. {bad[0]!r}): "
                "Moodle's grade import matches a username, email address, ID number or user "
                "id, and a Moodle download gives only full names; pass a roster (--roster "
                "FILE: Moodle's gradebook export, or a CSV with student_id and Email "
                "address columns)")
    header = [identifier]
    for assignment in totals.assignments:
        header += [assignment, MOODLE_FEEDBACK.format(assignment=assignment)]
    rows = [header]
    for student, extra in _roster_rows(totals, roster, roster_path).items():
        value = extra.get(identifier, "") if roster is not None else student
        if not value:
            raise GradingError(f"the roster {roster_path} gives no {identifier} for "
                               f"{student!r}; fill it in")
        row = [neutralise(value)]
        for assignment in totals.assignments:
            notes = totals.comments.get(student, {}).get(assignment, [])
            row += [_number(totals.totals[student].get(assignment, 0.0)),
                    neutralise("; ".join(notes))]
        rows.append(row)
    return rows


def plain_rows(totals: Totals) -> list[list[str]]:
    """The plain CSV: student_id, one total per assignment, total, comments.

    Parameters: `totals`. `comments` joins the instructor's comments as
    "assignment/cell: comment; ...". Returns the rows (lists of text).
    """
    rows = [[*CSV_HEADER, *totals.assignments, *CSV_TRAILER]]
    for student in totals.students:
        per = totals.totals[student]
        notes = [f"{a}/{note}" for a in totals.assignments
                 for note in totals.comments.get(student, {}).get(a, [])]
        rows.append([neutralise(student), *(_number(per.get(a, 0.0)) for a in totals.assignments),
                     _number(sum(per.get(a, 0.0) for a in totals.assignments)),
                     neutralise("; ".join(notes))])
    return rows


def check_destination(out: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """`dest`, refused (GradingError) when writing it would replace what `grade` wrote.

    Parameters: `out`, the graded folder; `dest`, the file to write. Refused: OUT/grades.csv,
    OUT/gradebook.db, anything under OUT/.results or OUT/feedback (compared resolved, so a
    symlink to them is refused too), the course directory Formgrader reads (PROTECTED,
    PROTECTED_FOLDERS), and an existing folder. Returns `dest` as a Path.
    """
    path, folder = Path(dest), Path(out).resolve()
    target = path.resolve()
    protected = [folder / name for name in PROTECTED]
    if target in protected or any(target == folder / f or folder / f in target.parents
                                  for f in PROTECTED_FOLDERS):
        raise GradingError(f"refusing to write {dest}: it is part of what `grade` wrote in "
                           f"{out} ({', '.join(PROTECTED + PROTECTED_FOLDERS)}); choose "
                           "another --to, e.g. the default export/ folder")
    if target.is_dir():
        raise GradingError(f"{dest} is a folder; give --to a file name, e.g. {dest}/grades"
                           "-canvas.csv")
    return path


def export_grades(out_dir: str | os.PathLike[str], fmt: str,
                  dest: str | os.PathLike[str] | None = None, *,
                  roster: str | os.PathLike[str] | None = None) -> Path:
    """Write per-student totals of OUT_DIR in an LMS's import format; return the file.

    Parameters: `out_dir`, the folder `grade --out` wrote; `fmt`, one of FORMATS; `dest`,
    the file to write (default OUT_DIR/export/<fmt>.csv; never grades.csv, gradebook.db,
    .results/ or feedback/); `roster`, an optional CSV mapping student ids to the LMS's
    identifiers (see `read_roster`; needed for a class collected from Moodle). Raises
    GradingError for bad input. Returns the path written.
    """
    if fmt not in FORMATS:
        raise GradingError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    path = check_destination(out_dir, dest if dest is not None
                             else Path(out_dir) / "export" / f"{fmt}.csv")
    totals = read_totals(out_dir)
    mapping = read_roster(roster) if roster is not None else None
    if fmt == "canvas":
        rows = canvas_rows(totals, mapping, roster)
    elif fmt == "moodle":
        rows = moodle_rows(totals, mapping, roster)
    else:
        rows = plain_rows(totals)
    atomic_write(path, _csv_text(rows))
    return path


def _csv_text(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
