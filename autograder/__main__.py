"""Command line: `python -m autograder COMMAND`, one command per step of an instructor's week.

    release                                   regenerate notebooks/ from the masters
    publish DEST | --badges                   the student-facing course (or its Binder badges)
    collect DOWNLOAD --assignment A --into SUBMISSIONS
                                              an LMS download (zip or folder) into SUBMISSIONS
    grade SUBMISSIONS --out DIR               grades.csv, feedback/, the gradebook
    report DIR                                the class report (DIR/report/index.html)
    export DIR --format canvas|moodle|csv     per-student totals for an LMS gradebook
    (and `make review DIR=...`: Formgrader on the graded class, see autograder/review.py)

See docs/instructor.md for the week, step by step.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Sequence

from autograder.grading import GradingError, Interrupted, grade, summary
from autograder.publish import PUBLIC_REPOSITORY, binder_badges, check_repository, publish
from autograder.release import ReleaseError, release
from autograder.sandbox import Limits


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Release and grade the course's assignments.")
    commands = parser.add_subparsers(dest="command", required=True)
    rel = commands.add_parser("release", help="regenerate notebooks/ from the masters")
    rel.add_argument("--out", default=None, help="folder to write to (default: notebooks/)")
    rel.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    pub = commands.add_parser("publish", help="copy the student-facing course to a new folder")
    pub.add_argument("dest", nargs="?",
                     help="new or empty folder (e.g. a clone of the public repository)")
    pub.add_argument("--repository", default=PUBLIC_REPOSITORY, metavar="OWNER/NAME",
                     help="the public GitHub repository the Binder badges launch "
                          f"(default: {PUBLIC_REPOSITORY}, set in autograder/publish.py)")
    pub.add_argument("--badges", action="store_true",
                     help="print the Binder badges (markdown, one line per notebook) for the "
                          "course README instead of publishing")
    col = commands.add_parser("collect", help="unpack an LMS download into SUBMISSIONS")
    col.add_argument("download", help="the LMS's zip of one assignment's submissions, or "
                                      "the folder it unzips to")
    col.add_argument("--assignment", required=True, help="the assignment they answer")
    col.add_argument("--into", required=True, metavar="SUBMISSIONS",
                     help="the submissions folder to add them to")
    col.add_argument("--replace", action="store_true",
                     help="replace a student's notebook already in SUBMISSIONS that differs "
                          "(default: keep it and say so)")
    rep = commands.add_parser("report", help="write the class report of a graded folder")
    rep.add_argument("out", metavar="DIR", help="the folder `grade --out` wrote")
    rep.add_argument("--to", default=None, metavar="FOLDER",
                     help="where to write index.html and its figures (default: DIR/report)")
    exp = commands.add_parser("export", help="per-student totals in an LMS's import format")
    exp.add_argument("out", metavar="DIR", help="the folder `grade --out` wrote")
    exp.add_argument("--format", required=True, choices=["canvas", "moodle", "csv"],
                     dest="fmt")
    exp.add_argument("--to", default=None, metavar="FILE",
                     help="file to write (default: DIR/export/<format>.csv; never grades.csv)")
    exp.add_argument("--roster", default=None, metavar="FILE",
                     help="the LMS's own gradebook export (or a CSV with a student_id column) "
                          "mapping each student to the id the LMS imports by; needed for "
                          "Moodle when the students were collected from a Moodle download")
    gr = commands.add_parser("grade", help="grade SUBMISSIONS/<student>/<assignment>/*.ipynb")
    gr.add_argument("submissions", help="folder with one sub-folder per student")
    gr.add_argument("--out", required=True, help="folder for grades.csv and feedback/")
    gr.add_argument("--assignment", action="append", dest="only",
                    help="grade only this assignment (repeatable)")
    gr.add_argument("--seed", type=int, default=None,
                    help="seed of the grader's hidden inputs (default: a fresh one per run)")
    gr.add_argument("--timeout", type=int, default=60, help="seconds allowed per cell")
    gr.add_argument("--notebook-timeout", type=int, default=600,
                    help="seconds allowed per notebook")
    gr.add_argument("--memory-mb", type=int, default=4096, help="memory limit per kernel")
    gr.add_argument("--cpu-seconds", type=int, default=600, help="CPU-time limit per kernel")
    gr.add_argument("--jobs", type=int, default=None,
                    help="submissions graded at once (default: the machine's cores)")
    gr.add_argument("--executor", choices=["local", "dask"], default="local",
                    help="local: worker processes on this machine (default); dask: a Dask "
                         "cluster (see docs/cluster.md)")
    gr.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="with --executor dask: the cluster's scheduler (tcp://HOST:PORT), "
                         "whose workers are the cluster's own (--jobs does not apply); "
                         "without it, a LocalCluster of --jobs workers on this machine")
    gr.add_argument("--no-progress", action="store_true", help="no progress bar")
    gr.add_argument("--profile", default=None, metavar="FILE",
                    help="write where each phase's time went (JSON) to FILE and print the "
                         "mean per submission")
    gr.add_argument("--canary-source", default=None, metavar="DIR",
                    help="for testing the canary: grade DIR/<assignment>/<assignment>.ipynb "
                         "instead of the masters before the class")
    args = parser.parse_args(argv)
    # nbgrader's gradebook triggers SQLAlchemy warnings that say nothing to an instructor.
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")

    try:
        if args.command == "release":
            kwargs = {"out_dir": args.out} if args.out else {}
            for path in release(names=args.assignments or None, **kwargs):
                print(f"released {path}")
            return 0
        if args.command == "publish":
            try:
                check_repository(args.repository)
            except ValueError as error:
                pub.error(str(error))
            if args.badges:
                print(binder_badges(args.repository))
                return 0
            if args.dest is None:
                pub.error("give the folder to publish into (or --badges)")
            dest = publish(args.dest, repository=args.repository)
            print(f"published the student course to {dest} (Binder: {args.repository})")
            return 0
        if args.command == "collect":
            from autograder.collect import collect, describe_collected

            collected = collect(args.download, args.into, assignment=args.assignment,
                                replace=args.replace)
            print(describe_collected(collected))
            return 0
        if args.command == "report":
            from autograder.report import write_report

            print(f"wrote {write_report(args.out, args.to)}")
            return 0
        if args.command == "export":
            from autograder.lms import export_grades

            print(f"wrote {export_grades(args.out, args.fmt, args.to, roster=args.roster)}")
            return 0
        if args.scheduler and args.executor != "dask":
            gr.error("--scheduler goes with --executor dask")
        executor = contextlib.nullcontext()
        if args.executor == "dask":
            from autograder.cluster import DaskExecutor

            # one cluster for the canary and the class
            executor = DaskExecutor(args.scheduler, args.jobs)
        with executor:
            rows = grade(args.submissions, args.out, only=args.only, seed=args.seed,
                         timeout=args.timeout, jobs=args.jobs,
                         notebook_timeout=args.notebook_timeout,
                         limits=Limits(memory_bytes=args.memory_mb * 2**20,
                                       cpu_seconds=args.cpu_seconds),
                         progress=not args.no_progress, canary_source=args.canary_source,
                         executor=executor if args.executor == "dask" else None,
                         profile=args.profile)
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except (ReleaseError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Interrupted as stop:
        print(f"error: grading stopped by {stop}; every submission graded so far is recorded "
              f"in {args.out}/.results: run the same command again to grade the rest",
              file=sys.stderr)
        return 128 + stop.signum
    print(summary(rows))
    print(f"wrote {args.out}/grades.csv and {args.out}/feedback/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
