"""Benchmark: grading a class with `python -m autograder grade` against plain serial nbgrader.

Builds N submissions (correct, untouched and mistaken answers, mixed over the
assignments that have masters), then, on this machine and in this run:

1. the anchor: plain nbgrader, `nbgrader generate_assignment` + `nbgrader autograde`
   for each assignment over all students, serial, its stock preprocessors, no isolation;
2. ours, serial (`--jobs 1`) and parallel (`--jobs J`), with the sandbox on and
   feedback pages included.

Prints both wall times and their ratio. Usage:

    .venv/bin/python bench/grading_speed.py [--students 60] [--jobs 2]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "autograder" / "source"


def _variants(assignment):
    """(name, notebook) pairs: the master, the student stub, and one wrong answer."""
    master = nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)
    stub = nbformat.read(REPO / "notebooks" / f"{assignment}.ipynb", as_version=4)
    wrong = nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source += "\n\nraise ValueError('half-finished answer')\n"
            break
    return [("correct", master), ("stub", stub), ("wrong", wrong)]


def build_class(root, students):
    """SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb for `students` submissions."""
    assignments = sorted(p.name for p in SOURCE.iterdir() if (p / f"{p.name}.ipynb").exists())
    variants = {a: _variants(a) for a in assignments}
    for i in range(students):
        assignment = assignments[i % len(assignments)]
        _, nb = variants[assignment][(i // len(assignments)) % 3]
        folder = Path(root) / f"student{i:03d}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    return assignments


def plain_nbgrader(submissions, assignments):
    """Wall time of stock nbgrader: generate_assignment, then autograde, serially."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with tempfile.TemporaryDirectory(prefix="bench-nbgrader-") as course:
        course = Path(course)
        (course / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.course_id = 'bench'\n")
        shutil.copytree(SOURCE, course / "source")
        shutil.copytree(submissions, course / "submitted")
        nbgrader = [sys.executable, "-m", "nbgrader"]
        start = time.perf_counter()
        for assignment in assignments:
            subprocess.run([*nbgrader, "generate_assignment", assignment, "--force"],
                           cwd=course, env=env, check=True, capture_output=True)
            subprocess.run([*nbgrader, "autograde", assignment, "--force",
                            "--create"], cwd=course, env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def ours(submissions, jobs):
    """Wall time of `python -m autograder grade` with the sandbox and feedback."""
    with tempfile.TemporaryDirectory(prefix="bench-ours-") as out:
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", out,
             "--jobs", str(jobs), "--seed", "1", "--no-progress"],
            cwd=REPO, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        isolation = next(line for line in proc.stdout.splitlines()
                         if line.startswith("isolation:"))
        return seconds, isolation


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-class-") as root:
        submissions = Path(root) / "submitted"
        assignments = build_class(submissions, args.students)
        print(f"{args.students} submissions over {', '.join(assignments)}; "
              f"{os.cpu_count()} cores")
        anchor = plain_nbgrader(submissions, assignments)
        print(f"plain nbgrader autograde, serial:      {anchor:7.1f} s "
              f"({anchor / args.students:.2f} s per submission)")
        serial, _ = ours(submissions, 1)
        print(f"python -m autograder grade --jobs 1:   {serial:7.1f} s "
              f"({serial / args.students:.2f} s per submission, feedback included)")
        mine, isolation = ours(submissions, args.jobs)
        print(f"python -m autograder grade --jobs {args.jobs}:   {mine:7.1f} s "
              f"({mine / args.students:.2f} s per submission, feedback included)")
        print(f"  {isolation}")
        print(f"speed-up against plain nbgrader: {anchor / mine:.2f}x "
              f"(serial, demo cells skipped: {anchor / serial:.2f}x; "
              f"from {args.jobs} workers: {serial / mine:.2f}x)")


if __name__ == "__main__":
    main()
