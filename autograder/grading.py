"""Grade a folder of submissions with nbgrader and write grades.csv and feedback.

Layout read: SUBMISSIONS/<student_id>/<assignment>/<assignment>.ipynb.
Written: OUT/grades.csv, OUT/feedback/<student_id>/<assignment>.html, and
OUT/.results/<student_id>/<assignment>.json, the durable record of each graded
submission (its rows and the hash of the notebook graded). A run that is
killed and started again grades only what has no up-to-date record, so
nothing is lost or graded twice. Each worker process has a scratch nbgrader
course directory of its own in OUT/.nbgrader/ (gradebook, autograded copies).
"""

import csv
import hashlib
import html
import json
import os
import random
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import sandbox
from autograder.course import SOURCE_DIR, assignments, graded_cells, nbgrader_api
from autograder.executors import LocalExecutor

CSV_COLUMNS = ["student_id", "assignment", "grade_id", "score", "max_score", "status", "message"]


class GradingError(RuntimeError):
    """Grading could not run at all (bad arguments, missing folders)."""


@dataclass
class Row:
    student_id: str
    assignment: str
    grade_id: str
    score: float
    max_score: float
    status: str
    message: str

    def as_list(self):
        return [self.student_id, self.assignment, self.grade_id, f"{self.score:g}",
                f"{self.max_score:g}", self.status, self.message]


def read_submission(path):
    """Check that `path` is a readable notebook; return None or (status, message)."""
    if not path.is_file():
        return "missing_submission", f"no notebook at {path.parent.name}/{path.name}"
    raw = path.read_bytes()
    if not raw.strip():
        return "unreadable_notebook", "the notebook file is empty"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return "unreadable_notebook", f"the file is not UTF-8 text (byte {error.start})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return "unreadable_notebook", (f"the file is not a notebook: invalid JSON at line "
                                       f"{error.lineno}, column {error.colno}")
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        return "unreadable_notebook", ("the file is not a version-4 Jupyter notebook; "
                                       "save it from JupyterLab")
    try:
        nbformat.validate(nbformat.reads(text, as_version=4))
    except Exception as error:  # nbformat raises several validation error types
        return "unreadable_notebook", f"the notebook does not validate: {str(error)[:200]}"
    return None


def _zero_rows(student, assignment, status, message):
    return [Row(student, assignment, grade_id, 0.0, points, status, message)
            for grade_id, points in graded_cells(assignment)]


def _write_plain_feedback(path, student, assignment, rows):
    """Feedback page for a submission nbgrader could not grade."""
    items = "".join(f"<li><code>{html.escape(r.grade_id)}</code>: 0 / {r.max_score:g} "
                    f"({html.escape(r.status)}) {html.escape(r.message)}</li>" for r in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{assignment}</title></head>"
        f"<body><h1>{html.escape(assignment)}: feedback for {html.escape(student)}</h1>"
        f"<p>Your submission could not be graded: {html.escape(rows[0].message)}.</p>"
        f"<ul>{items}</ul></body></html>\n", encoding="utf-8")


class Grader:
    """Grades submissions into `out`, one at a time, in its own nbgrader course directory."""

    def __init__(self, out, *, seed, timeout=60, notebook_timeout=600, root=None,
                 overrides=None):
        self.out = Path(out)
        self.root = Path(root) if root else self.out / ".nbgrader" / "main"
        self.verdict_dir = self.out / ".verdicts"
        self.seed = int(seed)
        self.api = nbgrader_api(self.root, **{
            "ProbeExecute.seed": self.seed, "JudgeProbes.seed": self.seed,
            "JudgeProbes.verdict_dir": str(self.verdict_dir), "Execute.timeout": timeout,
            "ProbeExecute.notebook_timeout": notebook_timeout, **(overrides or {})})
        self._released = set()

    def prepare(self, assignment):
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

    def mark_prepared(self, assignments):
        """Record that the course directory already has these assignments registered."""
        self._released.update(assignments)

    def grade_one(self, submissions, student, assignment):
        """Rows of grades.csv for one student's assignment; writes its feedback page."""
        feedback = self.out / "feedback" / student / f"{assignment}.html"
        path = Path(submissions) / student / assignment / f"{assignment}.ipynb"
        problem = read_submission(path)
        if problem:
            rows = _zero_rows(student, assignment, *problem)
            _write_plain_feedback(feedback, student, assignment, rows)
            return rows
        self.prepare(assignment)
        submitted = self.root / "submitted" / student / assignment
        if submitted.exists():
            shutil.rmtree(submitted)
        submitted.mkdir(parents=True)
        shutil.copyfile(path, submitted / f"{assignment}.ipynb")
        verdict_file = self.verdict_dir / student / f"{assignment}.json"
        verdict_file.unlink(missing_ok=True)
        result = self.api.autograde(assignment, student, force=True, create=True)
        if not result["success"] or not verdict_file.exists():
            log = (result.get("error") or result.get("log") or "").strip().splitlines()
            rows = _zero_rows(student, assignment, "grading_failed",
                              "the notebook could not be run to the end: "
                              + (log[-1][:200] if log else "no log"))
            _write_plain_feedback(feedback, student, assignment, rows)
            return rows
        rows = self._rows_from_gradebook(student, assignment, json.loads(verdict_file.read_text()))
        self._write_feedback(student, assignment, feedback, rows)
        return rows

    def _rows_from_gradebook(self, student, assignment, verdicts):
        from nbgrader.api import Gradebook

        rows = []
        with Gradebook(self.api.coursedir.db_url) as gradebook:
            for grade_id, points in graded_cells(assignment):
                grade = gradebook.find_grade(grade_id, assignment, assignment, student)
                score = float(grade.score or 0.0)
                verdict = verdicts.get(grade_id)
                if verdict is None:
                    status, message = "cell_missing", "this graded cell was not found"
                else:
                    status, message = verdict["status"], verdict["message"]
                if status == "ok" and score < points:
                    status, message = "not_scored", "nbgrader did not award the points"
                rows.append(Row(student, assignment, grade_id, score, points, status, message))
        return rows

    def _write_feedback(self, student, assignment, target, rows):
        result = self.api.generate_feedback(assignment, student, force=True)
        source = self.root / "feedback" / student / assignment / f"{assignment}.html"
        if not result["success"] or not source.exists():
            _write_plain_feedback(target, student, assignment, rows)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def discover(submissions, only=None):
    """(students, assignments) to grade: every student folder, and the assignments asked for."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise GradingError(f"{submissions} is not a folder; expected "
                           "SUBMISSIONS/<student_id>/<assignment>/<assignment>.ipynb")
    known = assignments()
    students = sorted(p.name for p in submissions.iterdir()
                      if p.is_dir() and not p.name.startswith("."))
    if only:
        unknown = sorted(set(only) - set(known))
        if unknown:
            raise GradingError(f"unknown assignment(s) {', '.join(unknown)}; "
                               f"known: {', '.join(known)}")
        chosen = [a for a in known if a in only]
    else:
        present = {p.name for s in students for p in (submissions / s).iterdir() if p.is_dir()}
        chosen = [a for a in known if a in present]
    return students, chosen


def _atomic_write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def write_csv(path, rows):
    """Write grades.csv atomically."""
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(row.as_list())
    _atomic_write(path, buffer.getvalue())


def summary(rows):
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


def _fingerprint(submissions, student, assignment):
    """sha256 of the submitted notebook (or a marker when it is missing)."""
    path = Path(submissions) / student / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        return "missing"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record_path(out, student, assignment):
    return Path(out) / ".results" / student / f"{assignment}.json"


def _load_record(out, student, assignment, fingerprint, seed):
    """The rows of an up-to-date record of this submission, or None."""
    try:
        record = json.loads(_record_path(out, student, assignment).read_text())
    except (OSError, ValueError):
        return None
    if record.get("sha256") != fingerprint or record.get("seed") != seed:
        return None
    return [Row(**row) for row in record["rows"]]


def _run_seed(out, seed):
    """The seed of this grading folder: kept from an earlier run unless one is given."""
    state = Path(out) / ".run.json"
    try:
        previous = json.loads(state.read_text()).get("seed")
    except (OSError, ValueError):
        previous = None
    if seed is None:
        seed = previous if previous is not None else random.SystemRandom().randrange(2**31)
    if seed != previous:
        _atomic_write(state, json.dumps({"seed": int(seed)}))
    return int(seed)


def _setup_worker(out, seed, settings, submissions):
    """Once per worker process: its own nbgrader course directory and sandboxed kernel."""
    root = Path(out) / ".nbgrader" / f"worker-{os.getpid()}"
    shutil.copytree(settings["template"], root)  # gradebook with the assignments registered
    overrides = sandbox.install_kernel(
        root, hide=sandbox.paths_to_hide(out, submissions), limits=settings["limits"],
        enabled=settings["isolate"], uid=60000 + os.getpid() % 5000)
    grader = Grader(out, seed=seed, timeout=settings["timeout"],
                    notebook_timeout=settings["notebook_timeout"], root=root,
                    overrides=overrides)
    grader.mark_prepared(settings["assignments"])
    return grader, submissions


def _grade_job(context, job):
    grader, submissions = context
    student, assignment = job
    rows = grader.grade_one(submissions, student, assignment)
    return [row.__dict__ for row in rows]


def isolation(limits=None, *, allow_unisolated=True):
    """(settings part, one line for the terminal) describing how kernels will be isolated."""
    limits = limits or sandbox.Limits()
    enabled, reason = sandbox.namespaces_available()
    if not enabled and not allow_unisolated:
        raise GradingError(f"cannot isolate student kernels: {reason}")
    return {"isolate": enabled, "limits": limits}, sandbox.describe(enabled, reason, limits)


def grade(submissions, out, *, only=None, seed=None, timeout=60, notebook_timeout=600,
          jobs=None, progress=True, executor=None, limits=None, log=print):
    """Grade every submission not graded yet; return all rows, also written to OUT/grades.csv."""
    students, chosen = discover(submissions, only)
    settings, line = isolation(limits)
    settings.update(timeout=timeout, notebook_timeout=notebook_timeout)
    log(line)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seed = _run_seed(out, seed)
    scratch = out / ".nbgrader"
    if scratch.exists():
        shutil.rmtree(scratch)  # scratch only: every result lives in OUT/.results
    pairs = [(s, a) for s in students for a in chosen]
    fingerprints = {pair: _fingerprint(submissions, *pair) for pair in pairs}
    done = {}
    for pair in pairs:
        rows = _load_record(out, *pair, fingerprints[pair], seed)
        if rows is not None:
            done[pair] = rows
    todo = [pair for pair in pairs if pair not in done]
    bar = _progress(len(pairs), progress)
    bar.update(len(done))
    executor = executor or LocalExecutor(jobs)
    # Register the assignments once; every worker starts from a copy of that gradebook.
    template = scratch / "template"
    template_grader = Grader(out, seed=seed, root=template)
    for assignment in chosen:
        template_grader.prepare(assignment)
    settings.update(template=str(template), assignments=chosen)
    setup_args = (str(out.resolve()), seed, settings, str(Path(submissions).resolve()))
    for pair, rows in executor.run(_setup_worker, setup_args, _grade_job, todo):
        record = {"sha256": fingerprints[pair], "seed": seed, "rows": rows}
        _atomic_write(_record_path(out, *pair), json.dumps(record, indent=1))
        done[pair] = [Row(**row) for row in rows]
        bar.update(1)
    bar.close()
    all_rows = [row for pair in pairs for row in done[pair]]
    write_csv(out / "grades.csv", all_rows)
    write_gradebook(out, template_grader.api.coursedir.db_url, all_rows)
    return all_rows


def write_gradebook(out, template_db_url, rows):
    """OUT/gradebook.db: nbgrader's gradebook of the whole class, written by this process alone.

    Workers grade in scratch gradebooks of their own; this one is rebuilt from the
    records at the end of every run, so it never sees concurrent writers and always
    matches grades.csv (it can be opened with nbgrader's formgrader or `nbgrader export`).
    """
    from nbgrader.api import Gradebook

    target = Path(out) / "gradebook.db"
    building = Path(out) / ".gradebook.db.tmp"
    shutil.copyfile(template_db_url.removeprefix("sqlite:///"), building)
    with Gradebook(f"sqlite:///{building}") as gradebook:
        for row in rows:
            gradebook.update_or_create_student(row.student_id)
            try:
                grade = gradebook.find_grade(row.grade_id, row.assignment, row.assignment,
                                             row.student_id)
            except Exception:  # nbgrader's MissingEntry: no submission yet
                gradebook.update_or_create_submission(row.assignment, row.student_id)
                grade = gradebook.find_grade(row.grade_id, row.assignment, row.assignment,
                                             row.student_id)
            grade.auto_score = row.score
            grade.needs_manual_grade = False
        gradebook.db.commit()
    building.replace(target)


def _progress(total, enabled):
    from tqdm import tqdm

    return tqdm(total=total, unit="submission", disable=not enabled, file=sys.stderr)
