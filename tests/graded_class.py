"""The class every instructor-side test reads: every assignment's class graded in one run.

Per assignment: the master ("correct"), the released notebook ("untouched"), a sample of its
right variants and named mistakes (`end_to_end`), and students whose notebooks are not about
their answers: "unreadable" (not a notebook, for every assignment), "crashed" (a kernel that
dies, first assignment only, so the other assignments are missing).

The class is graded once per test session, by whichever test worker asks first (the others
wait on a lock and read the same folder); tests that change it work on a copy (`copy_of`).
"""

from __future__ import annotations

import csv
import fcntl
import importlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder.exercises import ASSIGNMENTS, module_name
from tests.helpers import run_grader, student_version, with_solutions, write_submission

MODULES = {a: importlib.import_module(f"tests.test_grading_{module_name(a)}") for a in ASSIGNMENTS}
CLASSES = {a: m for a, m in MODULES.items() if hasattr(m, "FEEDBACK")}

END_TO_END_RIGHT, END_TO_END_MISTAKES = 2, 8
"""How many right variants and mistakes of each class the real grader sees: every student
is judged in process on four seeds (tests/test_grading_in_process.py); end to end, a sample
shows that kernels, the sandbox, nbgrader and the feedback pages give the same verdicts."""

CRASH = "import os\nos._exit(1)\n"
"""A solution cell that kills its kernel."""


def end_to_end(assignment):
    """The students of `assignment` sent through the real grader (its FEEDBACK one too)."""
    module = CLASSES[assignment]
    chosen = getattr(module, "END_TO_END", [*module.RIGHT, *module.MISTAKES])
    right = [s for s in chosen if s in module.RIGHT][:END_TO_END_RIGHT]
    wrong = [s for s in chosen if s in module.MISTAKES][:END_TO_END_MISTAKES]
    feedback = module.FEEDBACK[0]
    return [*right, *wrong, *([feedback] if feedback not in wrong else [])]


def write_class(root):
    """Write the class's submissions under `root` (SUBMISSIONS/<student>/<assignment>/)."""
    first = next(iter(CLASSES))
    for assignment, module in CLASSES.items():
        write_submission(root, "correct", assignment, with_solutions(assignment))
        write_submission(root, "untouched", assignment, student_version(assignment))
        write_submission(root, "unreadable", assignment, b"{ this is not a notebook")
        for student in end_to_end(assignment):
            sources = module.RIGHT.get(student) or module.MISTAKES[student][0]
            write_submission(root, student, assignment, with_solutions(assignment, sources))
    crashed = with_solutions(first)
    first_solution = next(c for c in crashed.cells
                           if c.metadata.get("nbgrader", {}).get("solution"))
    first_solution.source = CRASH
    write_submission(root, "crashed", first, crashed)


@dataclass(frozen=True)
class GradedClass:
    submissions: Path
    out: Path
    profile: Path
    """What `grade --profile` wrote for this run."""
    returncode: int
    stdout: str
    stderr: str

    def rows(self):
        """grades.csv as a list of dicts."""
        with open(self.out / "grades.csv", newline="") as handle:
            return list(csv.DictReader(handle))

    def copy_of(self, target):
        """A copy of SUBMISSIONS and OUT under `target`, to change: (submissions, out)."""
        target = Path(target)
        shutil.copytree(self.submissions, target / "submissions", symlinks=True)
        shutil.copytree(self.out, target / "out", symlinks=True,
                        ignore=shutil.ignore_patterns(".lock"))
        return target / "submissions", target / "out"


def shared_class(tmp_path_factory):
    """The session's GradedClass, graded by the first test worker that asks."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / "graded-class"
    done = folder / "done.json"
    with open(root / "graded-class.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            write_class(folder / "submissions")
            proc, _ = run_grader(folder / "submissions", folder / "out", "--jobs", "2",
                                 "--profile", folder / "profile.json")
            done.write_text(json.dumps({"returncode": proc.returncode, "stdout": proc.stdout,
                                        "stderr": proc.stderr}))
    result = json.loads(done.read_text())
    return GradedClass(folder / "submissions", folder / "out", folder / "profile.json",
                       **result)
