"""Time `python -m autograder report` on a large class, against reading its grades.csv.

    .venv/bin/python bench/report_speed.py [--students 5000] [--repeat 3]

Writes a synthetic grades.csv (with the grader's own writer, autograder/export.py) of
--students students over every assignment, a row per real graded cell: right answers,
named mistakes with their declared ids and hints, untouched cells, exceptions, and the
statuses that are not about the answer (missing and unreadable notebooks, dead kernels,
timeouts) at rates like a real class's. Then, in this run, on this machine:

1. the anchor: reading that grades.csv with csv.DictReader (list of dicts);
2. `write_report` (read, statistics, 3 figures per assignment, the page), and its
   statistics alone (`read_grades` + `class_statistics`).

Each figure is the best of --repeat runs; the ratio is report / anchor.
"""

import argparse
import csv
import os
import random
import tempfile
import time
from pathlib import Path

from autograder.course import graded_cells
from autograder.exercises import ASSIGNMENTS, exercises
from autograder.export import read_grades, write_csv
from autograder.records import Row
from autograder.report import class_statistics, write_report

SUBMISSION_RATES = {"missing_submission": 0.06, "unreadable_notebook": 0.01,
                    "kernel_died": 0.01, "timeout": 0.01}
"""Per submission: how often it is missing, unreadable, or stops in a cell; the rest are
graded cell by cell."""
CELL_RATES = {"ok": 0.70, "wrong_answer": 0.18, "not_implemented": 0.08, "exception": 0.04}
"""Per graded cell of a graded submission: its status."""


def synthetic_rows(students, seed=1):
    """Rows of grades.csv for `students` students over every assignment."""
    rng = random.Random(seed)
    rows = []
    declared = {a: exercises(a) for a in ASSIGNMENTS}
    cells = {a: graded_cells(a) for a in ASSIGNMENTS}
    statuses, weights = list(CELL_RATES), list(CELL_RATES.values())
    for i in range(students):
        student = f"student{i:05d}"
        for assignment in ASSIGNMENTS:
            draw, whole = rng.random(), None
            for status, rate in SUBMISSION_RATES.items():
                if draw < rate:
                    whole = status
                    break
                draw -= rate
            stop = rng.randrange(len(cells[assignment])) if whole in ("kernel_died",
                                                                      "timeout") else None
            for k, (grade_id, points) in enumerate(cells[assignment]):
                if whole in ("missing_submission", "unreadable_notebook"):
                    rows.append(Row(student, assignment, grade_id, 0, points, whole,
                                    f"{whole}: no notebook the grader can read"))
                    continue
                if stop is not None and k >= stop:
                    rows.append(Row(student, assignment, grade_id, 0, points, whole,
                                    "the kernel stopped or the cell ran out of time"))
                    continue
                status = rng.choices(statuses, weights)[0]
                mistakes = declared[assignment][grade_id].mistakes
                if status == "ok":
                    rows.append(Row(student, assignment, grade_id, points, points, "ok",
                                    "all 5 cases passed"))
                elif status == "wrong_answer" and mistakes and rng.random() < 0.7:
                    ids = list(mistakes)
                    mistake = ids[min(int(rng.expovariate(0.5)), len(ids) - 1)]
                    rows.append(Row(student, assignment, grade_id, 0, points, status,
                                    f"case 2: {mistakes[mistake]}", mistake))
                else:
                    rows.append(Row(student, assignment, grade_id, 0, points, status,
                                    f"{status}: see the feedback page"))
    return rows


def best(repeat, run):
    """The shortest wall time of `repeat` calls of `run`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as root:
        out = Path(root) / "out"
        out.mkdir()
        rows = synthetic_rows(args.students)
        write_csv(out / "grades.csv", rows)
        size = (out / "grades.csv").stat().st_size
        print(f"grades.csv: {len(rows)} rows ({args.students} students x {len(ASSIGNMENTS)} "
              f"assignments), {size / 2**20:.1f} MiB; {os.cpu_count()} cores")

        def anchor():
            with open(out / "grades.csv", newline="") as handle:
                return list(csv.DictReader(handle))

        write_report(out, Path(root) / "warm-up")  # imports matplotlib and the declarations
        reading = best(args.repeat, anchor)
        stats = best(args.repeat, lambda: class_statistics(read_grades(out / "grades.csv")))
        report = best(args.repeat, lambda: write_report(out, Path(root) / "report"))
        page = (Path(root) / "report" / "index.html").stat().st_size
        print(f"anchor, csv.DictReader of grades.csv:       {reading:6.2f} s")
        print(f"read_grades + class_statistics:             {stats:6.2f} s "
              f"({stats / reading:.1f}x the anchor)")
        print(f"write_report (statistics, figures, page):   {report:6.2f} s "
              f"({report / reading:.1f}x the anchor; page {page / 2**20:.1f} MiB, "
              f"{3 * len(ASSIGNMENTS)} figures)")


if __name__ == "__main__":
    main()
