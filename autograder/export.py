"""CSV files the grader writes, safe to open in a spreadsheet.

A text field that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is one a
spreadsheet may evaluate as a formula; it is written with a leading single quote (as
OWASP recommends for CSV injection). Scores are numbers and are written as numbers.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable

from autograder.records import Row, atomic_write

CSV_COLUMNS = ["student_id", "assignment", "grade_id", "score", "max_score", "status",
               "mistake", "message"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(field: str) -> str:
    """`field`, prefixed with a single quote if a spreadsheet would evaluate it."""
    return "'" + field if field.startswith(FORMULA_STARTS) else field


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
