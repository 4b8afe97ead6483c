"""Grade a folder of submissions with nbgrader and write grades.csv and feedback.

Layout read: SUBMISSIONS/<student_id>/<assignment>/<assignment>.ipynb (see
`autograder.submissions`). Written: OUT/grades.csv, OUT/feedback/<student_id>/<assignment>.html,
OUT/gradebook.db with OUT/autograded/ and OUT/nbgrader_config.py (the class as nbgrader's
Formgrader reviews it, manual grades kept across runs: see `autograder.review`), and
OUT/.results/<student_id>/<assignment>.json, the durable record of each
graded submission (see `autograder.records`): a run that is stopped and started again grades
only what has no final, up-to-date record, so nothing is lost or graded twice.

A run holds OUT/.lock from start to end. It first grades each chosen assignment's master
(the solutions) as a pseudo-student, with the same executor, sandbox and settings: if any
graded cell of a master is not full marks the environment is broken, and the run stops
before touching the class (`CanaryFailed`, exit 3). Then every submission is graded in a
worker; whatever goes wrong with one submission becomes rows for that submission only.
Scratch folders (nbgrader course directories, verdicts) live in OUT/.nbgrader/run-<pid>
and are removed by their run; a later run removes those of runs that were killed.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import nbformat

from autograder import sandbox
from autograder.course import (
    SOURCE_DIR,
    assignments,
    graded_cells,
    grading_version,
    nbgrader_api,
)
from autograder.executors import Executor, JobFailed, LocalExecutor, kill_kernels
from autograder.export import CSV_COLUMNS, write_csv  # noqa: F401 - part of this module's API
from autograder.feedback import render_feedback
from autograder.profile import WORKER, Profile, Stopwatch
from autograder.records import (
    RETRIED,
    Row,
    RunLock,
    atomic_write,
    load_final_record,
    load_record,
    made_by_another_course,
    run_seed,
    save_record,
)
from autograder.review import (
    GradebookBuilder,
    carried_line,
    notebook_text,
    with_verdicts,
    write_autograded,
    write_course,
)
from autograder.sandbox.provisioner import stop_zygote
from autograder.submissions import (
    GradingError,
    Loaded,
    Refused,
    check_placement,
    discover,
    internal_id,
    notebook_path,
    parse_notebook,
    read_bytes_nofollow,
    read_submission,
)
from autograder.submissions import find_symlink as _find_symlink

if TYPE_CHECKING:
    from tqdm import tqdm

CANARY_STUDENT = "(the master's solutions)"


class CanaryFailed(GradingError):
    """The masters' solutions did not get full marks: the grading environment is broken."""

    exit_code = 3


class Interrupted(BaseException):
    """SIGTERM or SIGINT reached the grader; `signum` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _zero_rows(student: str, assignment: str, status: str, message: str) -> list[Row]:
    return [Row(student, assignment, grade_id, 0.0, points, status, message)
            for grade_id, points in graded_cells(assignment)]


def _plain_feedback(student: str, assignment: str, rows: list[Row]) -> str:
    """Feedback page for a submission that could not be run: its rows only."""
    return render_feedback(None, student=student, assignment=assignment, rows=rows)


@dataclass(frozen=True)
class Graded:
    """What grading one submission gives back to the run: everything it records, as data."""

    rows: list[Row]
    feedback: str
    """The feedback page (HTML)."""
    autograded: str | None = None
    """The autograded notebook with the verdicts (JSON text), None if nothing was run."""
    seconds: dict[str, float] = field(default_factory=dict)
    """Where the worker's time went (`autograder.profile`), by phase."""


def refused(student: str, assignment: str, notebook: Refused) -> Graded:
    """What a submission with no notebook to run gives: every cell at 0 with the reason."""
    rows = _zero_rows(student, assignment, notebook.status, notebook.message)
    return Graded(rows, _plain_feedback(student, assignment, rows))


class Grader:
    """Grades submissions, one at a time, in its own nbgrader course directory `root`.

    nbgrader only ever sees `internal_id(student)`; rows and feedback carry the real id.
    """

    def __init__(self, root: str | os.PathLike[str], *, seed: int,
                 verdict_dir: str | os.PathLike[str], timeout: int = 60,
                 notebook_timeout: int = 600,
                 overrides: Mapping[str, Any] | None = None,
                 owns: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root)
        self.owns = None if owns is None else Path(owns)
        """A folder of this grader's alone, removed by `close` (a cluster worker's)."""
        self.verdict_dir = Path(verdict_dir)
        self.seed = int(seed)
        self.api = nbgrader_api(self.root, **{
            "ProbeExecute.seed": self.seed, "JudgeProbes.seed": self.seed,
            "JudgeProbes.verdict_dir": str(self.verdict_dir), "Execute.timeout": timeout,
            "ProbeExecute.notebook_timeout": notebook_timeout, **(overrides or {})})
        self._released: set[str] = set()

    def close(self) -> None:
        """The grader is done: stop this process's kernel zygote and remove the folder it
        owns, if any. A Dask worker serves run after run; without this, each run would
        leave its course directory and every notebook it graded on the worker's disk."""
        stop_zygote()
        if self.owns is not None:
            shutil.rmtree(self.owns, ignore_errors=True)

    def prepare(self, assignment: str) -> None:
        """Copy the master into the course directory and register it in the gradebook."""
        if assignment in self._released:
            return
        target = self.root / "source" / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(SOURCE_DIR / assignment, target)
        result = self.api.generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise GradingError(f"nbgrader could not register {assignment}:\n"
                               f"{result.get('log', '')}{result.get('error', '')}")
        self._released.add(assignment)

    def mark_prepared(self, assignments: Iterable[str]) -> None:
        """Record that the course directory already has these assignments registered."""
        self._released.update(assignments)

    def grade_one(self, student: str, assignment: str, notebook: Loaded | Refused) -> Graded:
        """Grade one submission (`Loaded` or `Refused`): its rows of grades.csv, its feedback
        page, and the autograded notebook with the verdicts in its test cells (for
        Formgrader; see `autograder.review`)."""
        if isinstance(notebook, Refused):
            return refused(student, assignment, notebook)
        self.prepare(assignment)
        sid = internal_id(student)
        submitted = self.root / "submitted" / sid / assignment
        if submitted.exists():
            shutil.rmtree(submitted)
        submitted.mkdir(parents=True)
        (submitted / f"{assignment}.ipynb").write_text(notebook.text, encoding="utf-8")
        verdict_file = self.verdict_dir / sid / f"{assignment}.json"
        verdict_file.unlink(missing_ok=True)
        with WORKER.phase("nbgrader"):
            result = self.api.autograde(assignment, sid, force=True, create=True)
        if not result["success"] or not verdict_file.exists():
            log = (result.get("error") or result.get("log") or "").strip().splitlines()
            rows = _zero_rows(student, assignment, RETRIED,
                              "the notebook could not be run to the end: "
                              + (log[-1][:200] if log else "no log")
                              + "; it will be graded again on the next run")
            return Graded(rows, _plain_feedback(student, assignment, rows))
        verdicts = json.loads(verdict_file.read_text())
        with WORKER.phase("gradebook"):
            rows = self._rows_from_gradebook(student, sid, assignment, verdicts)
        graded = self._autograded(sid, assignment)
        with WORKER.phase("feedback"):
            page = render_feedback(graded, student=student, assignment=assignment, rows=rows)
        with WORKER.phase("review"):
            text = None if graded is None else notebook_text(with_verdicts(graded, rows))
        return Graded(rows, page, text)

    def _rows_from_gradebook(self, student: str, sid: str, assignment: str,
                             verdicts: Mapping[str, Mapping[str, str]]) -> list[Row]:
        from nbgrader.api import Gradebook

        rows = []
        with Gradebook(self.api.coursedir.db_url) as gradebook:
            for grade_id, points in graded_cells(assignment):
                grade = gradebook.find_grade(grade_id, assignment, assignment, sid)
                score = float(grade.score or 0.0)
                verdict = verdicts.get(grade_id)
                mistake = ""
                if verdict is None:
                    status, message = "cell_missing", "this graded cell was not found"
                else:
                    status, message = verdict["status"], verdict["message"]
                    mistake = str(verdict.get("mistake", ""))
                if status == "ok" and score < points:
                    status, message = "not_scored", "nbgrader did not award the points"
                rows.append(Row(student, assignment, grade_id, score, points, status, message,
                                mistake))
        return rows

    def _autograded(self, sid: str, assignment: str) -> nbformat.NotebookNode | None:
        """nbgrader's autograded notebook of this submission, None if it cannot be read (the
        rows alone still make a feedback page)."""
        graded = self.root / "autograded" / sid / assignment / f"{assignment}.ipynb"
        try:
            return nbformat.read(graded, as_version=4)
        except Exception:
            return None


@dataclass(frozen=True)
class Job:
    """One notebook to grade, as data: a student's submission, or (canary) an assignment's
    master. A worker needs no access to SUBMISSIONS or OUT: the notebook travels with the
    job, and what it gives back (`Graded`) is recorded by the run's main process."""

    student: str
    assignment: str
    notebook: bytes | Refused
    """The file's bytes (parsed in the worker: a malformed notebook costs only the
    worker's time), or why there is no notebook."""
    sha256: str
    """What the record of this submission must match (see `fingerprint`)."""
    canary: bool = False


def make_job(submissions: str | os.PathLike[str], student: str, assignment: str) -> Job:
    """The job of one submission, read now (never follows a link, never raises)."""
    raw = read_submission(submissions, student, assignment)
    sha = (hashlib.sha256(raw).hexdigest() if isinstance(raw, bytes)
           else fingerprint(submissions, student, assignment))
    return Job(student, assignment, raw, sha)


def fingerprint(submissions: str | os.PathLike[str], student: str, assignment: str) -> str:
    """What a record must match to be up to date: the notebook's sha256, or why there is none.

    Never follows a link and never raises.
    """
    try:
        link = _find_symlink(submissions, student, assignment)
        if link:
            return f"symlink:{link}"
        raw = read_bytes_nofollow(notebook_path(submissions, student, assignment))
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"unreadable:{error.strerror or error}"
    return hashlib.sha256(raw).hexdigest()


def _gradebooks_without_fsync() -> None:
    """SQLite connections of this process skip waiting for the disk at each commit.

    Only for grading processes, where every gradebook written through nbgrader is a
    scratch copy: the worker's, the run's template, the one being built (the class's
    DIR/gradebook.db itself is written by SQLite's backup API from a complete file, and
    only read through nbgrader). nbgrader commits a few dozen times per submission; each
    commit waited about a millisecond for the disk, with the worker's core idle."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not event.contains(Engine, "connect", _no_fsync):
        event.listen(Engine, "connect", _no_fsync)


def _no_fsync(connection: Any, record: Any) -> None:
    if type(connection).__module__.startswith("sqlite3"):
        connection.execute("PRAGMA synchronous=OFF")


TEMPLATE_READY = ".ready"
"""Written in the run's template once every assignment is registered in it."""
TEMPLATE_WAIT = 600.0
"""How long a worker set up ahead of the template waits for it (the main process registers
the assignments meanwhile, a second or two)."""


def _setup_worker(scratch: str | os.PathLike[str], seed: int,
                  settings: Mapping[str, Any]) -> Grader:
    """Once per worker process: its sandboxed kernel, then its own nbgrader course directory.

    On the grading machine (the run's scratch folder is there) the course directory is a
    copy of the run's template, the assignments registered once; the worker may be started
    while the main process still registers them (its kernels' zygote gets ready
    meanwhile), and waits for `TEMPLATE_READY`. A worker on another machine (a cluster)
    registers them itself, in its own temporary folder, which the grader's `close` removes.
    """
    import tempfile

    local = Path(scratch).is_dir()
    if settings["isolate"] and not local:
        # another machine: the grader's check of the sandbox says nothing about this one
        enabled, reason = sandbox.namespaces_available()
        if not enabled:
            raise GradingError(f"this worker cannot sandbox kernels ({reason}); run it as "
                               "root with bubblewrap, see docs/cluster.md")
    _gradebooks_without_fsync()
    if not local:
        scratch = tempfile.mkdtemp(prefix="autograder-worker-")
    worker_dir = Path(tempfile.mkdtemp(prefix=f"worker-{os.getpid()}-", dir=scratch))
    overrides = sandbox.install_kernel(worker_dir / "kernel", limits=settings["limits"],
                                       enabled=settings["isolate"],
                                       uid=60000 + os.getpid() % 5000, prestart=True)
    root = worker_dir / "course"
    if local:
        template = Path(settings["template"])
        deadline = time.monotonic() + TEMPLATE_WAIT
        while not (template / TEMPLATE_READY).exists():
            if time.monotonic() > deadline:
                raise GradingError(f"the run's template {template} never got ready")
            time.sleep(0.02)
        shutil.copytree(template, root)  # gradebook with the assignments registered
    else:
        root.mkdir()  # registered here, at the first submission of each assignment
    grader = Grader(root, seed=seed, verdict_dir=Path(scratch) / "verdicts",
                    timeout=settings["timeout"], notebook_timeout=settings["notebook_timeout"],
                    overrides=overrides, owns=None if local else scratch)
    if local:
        grader.mark_prepared(settings["assignments"])
    return grader


def _grade_job(grader: Grader, job: Job) -> Graded:
    """Grade one job in a worker; any exception becomes grading_failed rows. The result
    carries where the worker's time went."""
    WORKER.take()
    try:
        notebook = (job.notebook if isinstance(job.notebook, Refused)
                    else parse_notebook(job.notebook))
        graded = grader.grade_one(job.student, job.assignment, notebook)
    except Exception as error:
        graded = _failed(job, f"{type(error).__name__}: {str(error)[:200]}")
    return replace(graded, seconds=WORKER.take())


def _failed(job: Job, reason: str) -> Graded:
    rows = _zero_rows(job.student, job.assignment, RETRIED,
                      f"the grader itself failed on this submission ({reason}); it will be "
                      "graded again on the next run")
    return Graded(rows, _plain_feedback(job.student, job.assignment, rows))


def isolation(limits: sandbox.Limits | None = None, *,
              allow_unisolated: bool = True) -> tuple[dict[str, Any], str]:
    """(settings part, one line for the terminal) describing how kernels will be isolated."""
    limits = limits or sandbox.Limits()
    enabled, reason = sandbox.namespaces_available()
    if not enabled and not allow_unisolated:
        raise GradingError(f"cannot isolate student kernels: {reason}")
    return {"isolate": enabled, "limits": limits}, sandbox.describe(enabled, reason, limits)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn the first SIGTERM or SIGINT into `Interrupted` in the main thread; ignore later ones."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if not received:
            received.append(signum)
            raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _new_scratch(out: str | os.PathLike[str]) -> Path:
    """OUT/.nbgrader/run-<pid>, after removing what killed runs left (the lock is held)."""
    base = Path(out) / ".nbgrader"
    if base.exists():
        shutil.rmtree(base)
    shutil.rmtree(Path(out) / ".verdicts", ignore_errors=True)  # left by older versions
    scratch = base / f"run-{os.getpid()}"
    scratch.mkdir(parents=True)
    return scratch


def _graded(job: Job, result: Graded | JobFailed) -> Graded:
    """A job's result, a broken worker's included."""
    return _failed(job, result.message) if isinstance(result, JobFailed) else result


def _record(out: Path, job: Job, graded: Graded, seed: int) -> list[Row]:
    """Write what one graded submission gives (feedback, autograded notebook), then its
    record, the proof that it is done; return its rows.

    A file that cannot be written costs this submission only: its rows become
    grading_failed (graded again on the next run)."""
    feedback = out / "feedback" / job.student / f"{job.assignment}.html"
    try:
        atomic_write(feedback, graded.feedback)
        write_autograded(out, job.student, job.assignment, graded.autograded)
    except OSError as error:
        graded = _failed(job, f"its pages could not be written: {error.strerror or error}")
        try:
            atomic_write(feedback, graded.feedback)
        except OSError:
            pass
    save_record(out, job.student, job.assignment, job.sha256, seed, graded.rows,
                course=grading_version(job.assignment))
    return graded.rows


def _canary_problems(assignment: str, rows: Iterable[Row]) -> list[str]:
    """One phrase per distinct failure of a master's graded cells (cell, status, message)."""
    failed = [r for r in rows if r.status != "ok" or r.score < r.max_score]
    by_verdict = {}
    for row in failed:
        by_verdict.setdefault((row.status, row.message), []).append(row.grade_id)
    return [f"{assignment} {', '.join(cells)}: {status} ({message})"
            for (status, message), cells in by_verdict.items()]


def canary_jobs(chosen: Iterable[str], canary_source: str | os.PathLike[str]) -> list[Job]:
    """The canary: each chosen assignment's master, graded like a student's notebook."""
    return [Job(CANARY_STUDENT, a, read_bytes_nofollow(Path(canary_source) / a / f"{a}.ipynb"),
                "canary", canary=True) for a in chosen]


class Canary:
    """The canary's verdict as its results come in; `CanaryFailed` at the last one unless
    every master got full marks."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self.waiting = len(jobs)
        self.problems: list[str] = []
        self.seconds: dict[str, float] = {}
        """Worker seconds each master took: what a submission of its assignment costs."""

    @property
    def passed(self) -> bool:
        return self.waiting == 0

    def add(self, job: Job, graded: Graded) -> None:
        self.problems += _canary_problems(job.assignment, graded.rows)
        self.seconds[job.assignment] = sum(graded.seconds.values())
        self.waiting -= 1
        if self.waiting == 0 and self.problems:
            raise CanaryFailed(
                "the masters' solutions did not get full marks in the grading environment, "
                "so it is broken (e.g. course_lib not importable in the kernel); no "
                "submission was recorded. Fix the environment and run again. "
                + "; ".join(self.problems))


def grade(submissions: str | os.PathLike[str], out: str | os.PathLike[str], *,
          only: Collection[str] | None = None, seed: int | None = None, timeout: int = 60,
          notebook_timeout: int = 600, jobs: int | None = None, progress: bool = True,
          executor: Executor | None = None, limits: sandbox.Limits | None = None,
          log: Callable[[str], object] = print,
          canary_source: str | os.PathLike[str] | None = None,
          profile: str | os.PathLike[str] | None = None) -> list[Row]:
    """Grade every submission not graded yet; return all rows, also written to OUT/grades.csv.

    With `profile` (a file), where the time of the submissions graded in this run went is
    written there (`autograder.profile.Profile`, JSON) and summed up in one logged line.

    Raises GradingError (nothing could run: bad input, misplaced folders, OUT locked),
    CanaryFailed (the masters' solutions are not full marks; nothing was graded) or
    Interrupted (SIGTERM/SIGINT; everything finished is recorded, the workers and their
    kernels are stopped). `canary_source` replaces the masters the canary grades by
    DIR/<assignment>/<assignment>.ipynb (to test the canary).
    """
    check_placement(submissions, out)
    students, chosen = discover(submissions, only, log=log)
    out = Path(out)
    with RunLock(out), stop_on_signals():
        settings, line = isolation(limits)
        log(line)
        seed = run_seed(out, seed)
        scratch = _new_scratch(out)
        own = LocalExecutor(jobs) if executor is None else None
        try:
            return _grade_class(submissions, out, students, chosen, seed, scratch, settings,
                                timeout=timeout, notebook_timeout=notebook_timeout,
                                executor=executor or own, progress=progress,
                                canary_source=canary_source, log=log, profile=profile)
        except BaseException:
            if own is not None:
                own.stop()  # its workers, even those still waiting for the template
            kill_kernels()  # kernels this process started itself (one job at a time)
            raise
        finally:
            if own is not None:
                own.close()  # its workers, set up once for the canary and the class
            stop_zygote()  # the zygote of the kernels graded in this process, if any
            shutil.rmtree(scratch, ignore_errors=True)


def _grade_class(submissions: str | os.PathLike[str], out: Path, students: list[str],
                 chosen: list[str], seed: int, scratch: Path, settings: dict[str, Any], *,
                 timeout: int, notebook_timeout: int, executor: Executor, progress: bool,
                 canary_source: str | os.PathLike[str] | None,
                 log: Callable[[str], object],
                 profile: str | os.PathLike[str] | None = None) -> list[Row]:
    kept = recorded_elsewhere(out, students, chosen)
    if kept:
        names = sorted({a for _, a in kept})
        log(f"kept {len(kept)} graded submission(s) of {', '.join(names)} from earlier runs "
            "(not graded in this run)")
    course = [a for a in assignments() if a in chosen or any(k == a for _, k in kept)]
    pairs = [(s, a) for s in students for a in course if a in chosen or (s, a) in kept]
    done = dict(kept)
    outdated = 0
    for pair in pairs:
        if pair[1] in chosen:
            sha256, version = fingerprint(submissions, *pair), grading_version(pair[1])
            rows = load_final_record(out, *pair, sha256, seed, version)
            if rows is not None:
                done[pair] = rows
            elif made_by_another_course(out, *pair, sha256, seed, version):
                outdated += 1
    if outdated:
        log(f"grading {outdated} submission(s) again: their records were made by another "
            "version of the course (its grader, course_lib, the master, numpy or nbgrader)")
    todo = [pair for pair in pairs if pair not in done]
    # Register the assignments once; every worker starts from a copy of that gradebook.
    # Workers are started first, where the executor can: their set-up (the sandbox, each
    # kernel zygote's imports) goes on while this process registers the assignments.
    _gradebooks_without_fsync()
    template = scratch / "template"
    settings.update(template=str(template), assignments=course, timeout=timeout,
                    notebook_timeout=notebook_timeout, out=str(out.resolve()),
                    canary_source=str(canary_source or SOURCE_DIR))
    setup_args = (str(scratch.resolve()), seed, settings)
    if todo and hasattr(executor, "start"):
        executor.start(_setup_worker, setup_args)
    template_grader = Grader(template, seed=seed, verdict_dir=scratch / "verdicts")
    for assignment in course:  # the kept ones too: their rows go into the gradebook
        template_grader.prepare(assignment)
    (template / TEMPLATE_READY).touch()
    # built as submissions are recorded: the main process does it while workers grade
    gradebook = GradebookBuilder(out, template_grader.api.coursedir.db_url)
    try:
        for rows in done.values():
            gradebook.add(rows)
        all_rows = _grade_pending(submissions, out, pairs, todo, done, seed, setup_args,
                                  executor=executor, gradebook=gradebook,
                                  progress=progress, profile=profile, log=log)
    except BaseException:
        gradebook.discard()
        raise
    write_course(out, course)
    carried = gradebook.finish()
    if carried_line(carried):
        log(carried_line(carried))
    return all_rows


def recorded_elsewhere(out: str | os.PathLike[str], students: Iterable[str],
                       chosen: Collection[str]) -> dict[tuple[str, str], list[Row]]:
    """The recorded rows of the class's submissions of the course's other assignments (those
    not graded in this run), as the last run that graded them left them.

    A run of some assignments (`--assignment`, or a SUBMISSIONS folder that holds only some)
    writes grades.csv and the gradebook with these too, so it loses nothing of the others.
    """
    others = [a for a in assignments() if a not in chosen]
    kept = {}
    for student in students:
        for assignment in others:
            rows = load_record(out, student, assignment)
            if rows is not None:
                kept[(student, assignment)] = rows
    return kept


def _grade_pending(submissions: str | os.PathLike[str], out: Path,
                   pairs: list[tuple[str, str]], todo: list[tuple[str, str]],
                   done: dict[tuple[str, str], list[Row]], seed: int,
                   setup_args: Sequence[Any], *, executor: Executor,
                   gradebook: GradebookBuilder, progress: bool,
                   profile: str | os.PathLike[str] | None,
                   log: Callable[[str], object]) -> list[Row]:
    """Grade `todo` (the canary first), recording each submission as it comes; write
    grades.csv and the profile; return every row of the class.

    The masters go first, then the class; nothing of the class is recorded until the
    canary has passed (its results wait in `held`), so a broken environment touches
    nothing, and no worker waits idle for the canary's slowest master."""
    canary_first = canary_jobs(sorted({a for _, a in todo}), setup_args[2]["canary_source"])
    canary, held = Canary(canary_first), []
    bar = _progress(len(pairs), progress)
    bar.update(len(done))
    no_notebook: list[Job] = []

    def notebooks() -> Iterator[Job]:
        """The jobs with a notebook to run, read as they are handed out; the others (a
        missing or unreadable notebook, a link) wait in `no_notebook` for this process.

        Once the canary has passed, the assignments whose master took longest go first, so
        that the run ends on short submissions, not with one worker finishing a long one
        while the others wait."""
        remaining, ordered = collections.deque(todo), False
        while remaining:
            if canary.passed and not ordered:
                cost = canary.seconds
                remaining = collections.deque(sorted(remaining,
                                                     key=lambda p: -cost.get(p[1], 0.0)))
                ordered = True
            job = make_job(submissions, *remaining.popleft())
            if isinstance(job.notebook, Refused):
                no_notebook.append(job)
            else:
                yield job

    main, spent = Stopwatch(), Profile()

    def record_refused() -> None:
        while canary.passed and no_notebook:
            job = no_notebook.pop()
            record(job, refused(job.student, job.assignment, job.notebook))

    def record(job: Job, graded: Graded) -> None:
        with main.phase("record"):
            done[(job.student, job.assignment)] = _record(out, job, graded, seed)
            gradebook.add(done[(job.student, job.assignment)])
        recorded = main.take()
        if "execute" in graded.seconds:  # a kernel ran (a worker failure did not)
            spent.add({**graded.seconds, **recorded})
        bar.update(1)

    jobs = itertools.chain(canary_first, notebooks())
    with closing(executor.run(_setup_worker, setup_args, _grade_job, jobs)) as results:
        for job, result in results:
            graded = _graded(job, result)
            if job.canary:
                canary.add(job, graded)  # raises CanaryFailed at the last master
            elif not canary.passed:
                held.append((job, graded))
            else:
                record(job, graded)
            while canary.passed and held:
                record(*held.pop(0))
            record_refused()
    record_refused()
    bar.close()
    all_rows = [row for pair in pairs for row in done[pair]]
    write_csv(out / "grades.csv", all_rows)
    if profile is not None:
        spent.write(profile)
        log(spent.line())
    return all_rows


def summary(rows: Sequence[Row]) -> str:
    """A few lines for the terminal: points per assignment and what went wrong."""
    lines = []
    for assignment in sorted({r.assignment for r in rows}):
        mine = [r for r in rows if r.assignment == assignment]
        students = sorted({r.student_id for r in mine})
        total = sum(r.max_score for r in mine) / max(len(students), 1)
        scores = [sum(r.score for r in mine if r.student_id == s) for s in students]
        statuses = Counter(r.status for r in mine if r.status != "ok")
        issues = ", ".join(f"{k} x{v}" for k, v in statuses.most_common()) or "none"
        lines.append(f"{assignment}: {len(students)} students, mean {sum(scores)/len(scores):.2f}"
                     f" / {total:g}; problems: {issues}")
    return "\n".join(lines)


def _progress(total: int, enabled: bool) -> tqdm:
    from tqdm import tqdm

    return tqdm(total=total, unit="submission", disable=not enabled, file=sys.stderr)
