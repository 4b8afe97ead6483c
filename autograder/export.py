"""grades.csv: written safe to open in a spreadsheet, and read back as the grader meant it.

A text field that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is one a
spreadsheet may evaluate as a formula; it is written with a leading single quote (as
OWASP recommends for CSV injection). Scores are numbers and are written as numbers.
`read_grades` undoes the quote, so every reader of grades.csv (the report, the LMS
export) sees the rows `write_csv` was given.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable
from pathlib import Path

from autograder.records import Row, atomic_write
from autograder.submissions import GradingError

CSV_COLUMNS = ["student_id", "assignment", "grade_id", "score", "max_score", "status",
               "mistake", "message"]
TEXT_COLUMNS = tuple(c for c in CSV_COLUMNS if c not in ("score", "max_score"))
"""The columns a spreadsheet could read as a formula (the others are numbers)."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(field: str) -> str:
    """`field`, prefixed with a single quote if a spreadsheet would evaluate it."""
    return "'" + field if field.startswith(FORMULA_STARTS) else field


def unneutralise(field: str) -> str:
    """`field` as the grader meant it: without the quote `neutralise` put before a text a
    spreadsheet would evaluate.

    >>> unneutralise(neutralise("=1+1")), unneutralise("'plain")
    ('=1+1', "'plain")
    """
    return field[1:] if field[:1] == "'" and field[1:2] in FORMULA_STARTS else field


def write_csv(path: str | os.PathLike[str], rows: Iterable[Row]) -> None:
    """Write grades.csv (rows of `records.Row`) atomically, text fields neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([neutralise(row.student_id), neutralise(row.assignment),
                         neutralise(row.grade_id), f"{row.score:g}", f"{row.max_score:g}",
                         neutralise(row.status), neutralise(row.mistake),
                         neutralise(row.message)])
    atomic_write(path, buffer.getvalue())


def read_grades(path: str | os.PathLike[str]) -> list[Row]:
    """The rows of a grades.csv, text fields un-neutralised and scores as numbers.

    Parameters: path, the grades.csv file. Returns the rows in file order. Raises
    GradingError when the file is missing, lacks a column, has a short line, or a score is
    not a finite number.
    """
    path = Path(path)
    if not path.is_file():
        raise GradingError(f"{path.parent} has no grades.csv: run `python -m autograder grade "
                           f"SUBMISSIONS --out {path.parent}` first")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise GradingError(f"{path} lacks the column(s) {', '.join(missing)} (it has "
                               f"{', '.join(header) or 'no header'}): write it again with "
                               "`python -m autograder grade SUBMISSIONS --out DIR`")
        at = {name: header.index(name) for name in CSV_COLUMNS}
        rows = []
        for record in reader:
            if not record:
                continue
            if len(record) < len(header):
                raise GradingError(f"{path} line {reader.line_num} has {len(record)} fields, "
                                   f"the header {len(header)}: grade again to rewrite "
                                   "grades.csv")
            score, max_score = record[at["score"]], record[at["max_score"]]
            try:
                numbers = float(score), float(max_score)
                wrong = "" if all(math.isfinite(n) for n in numbers) else "a finite number"
            except ValueError:
                wrong = "a number"
            if wrong:
                raise GradingError(
                    f"{path} line {reader.line_num}: score {score!r} / max_score "
                    f"{max_score!r} is not {wrong}: grades.csv was edited by hand or is "
                    "damaged; fix that line or grade again")
            text = {c: unneutralise(record[at[c]]) for c in TEXT_COLUMNS}
            rows.append(Row(score=numbers[0], max_score=numbers[1], **text))
    return rows
