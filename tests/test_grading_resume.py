"""Nothing lost, nothing doubled: a grader killed mid-batch resumes to the same grades.csv."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import tomllib

from autograder.course import PACKAGE_DATA, assignments, course_files, graded_cells, master_path
from autograder.records import record_path
from tests.helpers import (
    REPO,
    master,
    run_grader,
    student_version,
    with_solutions,
    write_submission,
)

A = "04_softmax_vs_hardmax"


SLOW = ("import time\n"
        "time.sleep(15)  # a slow but honest student: keeps a run busy while it is stopped\n")


def _class(root, *, slow=True):
    """Six students, and with `slow` a seventh graded first, who keeps a worker busy 15 s."""
    if slow:
        write_submission(root, "s00_slow", A, with_solutions(
            A, {"hardmax": SLOW + _source(master(A), "hardmax")}))
    write_submission(root, "s0_correct", A, master(A))
    write_submission(root, "s1_stub", A, student_version(A))
    for i, body in enumerate(["    return T / T.sum(axis=1, keepdims=True)\n",
                              "    return T / T.sum()\n", "    return T\n"]):
        source = ("def softmax(Z):\n    T = np.exp(Z - Z.max(axis=0, keepdims=True))\n" + body)
        write_submission(root, f"s{i + 2}_wrong", A, with_solutions(A, {"softmax": source}))
    write_submission(root, "s5_correct_too", A, master(A))


def _source(nb, grade_id):
    return next(c.source for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class, and grades.csv of one uninterrupted run (the reference)."""
    submissions = tmp_path_factory.mktemp("class") / "submissions"
    _class(submissions)
    reference_out = tmp_path_factory.mktemp("reference")
    proc, rows = run_grader(submissions, reference_out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(rows) == 7 * len(graded_cells(A))  # 7 students
    return submissions, (reference_out / "grades.csv").read_text(), rows


def _start(submissions, out):
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
         "--seed", "12345", "--no-progress", "--jobs", "2"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)


def _wait_for_records(run, out, count):
    records = out / ".results"
    deadline = time.monotonic() + 300
    while not (records.exists() and len(list(records.rglob("*.json"))) >= count):
        assert run.poll() is None, "the grader finished before it could be stopped"
        assert time.monotonic() < deadline
        time.sleep(0.2)


def _proc_table():
    """{pid: (parent pid, start time)} of every process, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":  # a zombie has ended already
                table[int(entry)] = (int(fields[1]), fields[19])
    return table


def _descendants(root):
    """{pid: start time} of `root` and every process below it (kernels included)."""
    table = _proc_table()
    found, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        if pid in table:
            found[pid] = table[pid][1]
            frontier += [child for child, (parent, _) in table.items() if parent == pid]
    return found


def _refers_to(pid, needle):
    try:
        text = open(f"/proc/{pid}/cmdline", "rb").read() + open(f"/proc/{pid}/environ",
                                                                 "rb").read()
        cwd = os.readlink(f"/proc/{pid}/cwd").encode()
    except OSError:
        return False
    return needle in text or cwd.startswith(needle)


def _left_of_run(tree, out):
    """Processes of the run still alive: from its process tree, referring to OUT (its scratch
    folders, the kernel launchers' environment), or below one of those."""
    table = _proc_table()
    left = {pid for pid in table if pid != os.getpid() and (
        tree.get(pid) == table[pid][1] or _refers_to(pid, str(out).encode()))}
    grown = True
    while grown:
        below = {pid for pid, (parent, _) in table.items() if parent in left} - left
        grown = bool(below)
        left |= below
    return sorted(left)


def _describe(pid):
    try:
        stat = open(f"/proc/{pid}/stat").read()[:60]
        return stat, open(f"/proc/{pid}/cmdline", "rb").read()[:160]
    except OSError:
        return pid, "ended"


def _assert_nothing_left(tree, out):
    """No process of the run is left, allowing a few seconds for them to exit."""
    deadline = time.monotonic() + 15
    while _left_of_run(tree, out) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _left_of_run(tree, out)
    assert not left, [_describe(pid) for pid in left]


def _running_kernels(run):
    """The run's process tree once a worker has a kernel (more than grader + workers)."""
    deadline = time.monotonic() + 120
    while True:
        tree = _descendants(run.pid)
        if len(tree) > 3 or time.monotonic() > deadline:
            return tree
        time.sleep(0.2)


def test_killed_run_leaves_no_process_and_resumes_to_the_uninterrupted_result(
        tmp_path, graded_class):
    submissions, reference, rows = graded_class
    out = tmp_path / "killed"
    killed = _start(submissions, out)
    _wait_for_records(killed, out, 2)
    tree = _running_kernels(killed)
    assert len(tree) > 3, tree  # the grader, its workers and at least one kernel
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    _assert_nothing_left(tree, out)
    records = out / ".results"
    done_before = len(list(records.rglob("*.json")))
    assert 2 <= done_before < 7
    assert not (out / "grades.csv").exists()

    proc, _ = run_grader(submissions, out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "grades.csv").read_text() == reference
    for student in ("s0_correct", "s1_stub", "s2_wrong", "s5_correct_too"):
        assert (out / "feedback" / student / f"{A}.html").stat().st_size > 1000
    _assert_gradebook_matches(out, rows)


def test_sigterm_stops_the_run_cleanly_a_second_run_is_refused_and_resuming_gives_the_same_grades(
        tmp_path, graded_class):
    submissions, reference, _ = graded_class
    out = tmp_path / "stopped"
    run = _start(submissions, out)
    _wait_for_records(run, out, 1)
    second, _ = run_grader(submissions, out, "--jobs", "2")
    assert second.returncode == 2, second.stderr[-2000:]
    message = second.stderr.strip()
    assert message.startswith(f"error: another grading run is using {out} (pid {run.pid}, "
                              "started at "), message
    assert message.endswith("; wait for it to finish") and "\n" not in message
    tree = _running_kernels(run)
    os.kill(run.pid, signal.SIGTERM)  # the grader alone: it stops its workers and kernels
    _, stderr = run.communicate(timeout=120)
    assert run.returncode not in (0, 2, 3), stderr[-2000:]
    assert "grading stopped by SIGTERM" in stderr and "Traceback" not in stderr, stderr[-2000:]
    _assert_nothing_left(tree, out)
    assert not (out / ".nbgrader" / f"run-{run.pid}").exists()
    assert not (out / "grades.csv").exists()
    recorded = {p.parent.name for p in (out / ".results").rglob("*.json")}
    assert recorded

    proc, _ = run_grader(submissions, out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "grades.csv").read_text() == reference


def _assert_gradebook_matches(out, rows):
    """OUT/gradebook.db (nbgrader's) holds exactly the scores of grades.csv."""
    from nbgrader.api import Gradebook

    expected = {}
    for row in rows:
        expected[row["student_id"]] = expected.get(row["student_id"], 0) + float(row["score"])
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        got = {s.id: gradebook.find_submission(A, s.id).score for s in gradebook.students}
    assert got == expected


def test_regrading_is_idempotent_and_regrades_only_what_changed(tmp_path):
    submissions = tmp_path / "submissions"
    _class(submissions, slow=False)
    out = tmp_path / "out"
    run_grader(submissions, out)
    first = (out / "grades.csv").read_text()
    stamps = {p: p.stat().st_mtime_ns for p in (out / ".results").rglob("*.json")}

    proc, _ = run_grader(submissions, out)
    assert proc.returncode == 0 and (out / "grades.csv").read_text() == first
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing graded twice

    write_submission(submissions, "s1_stub", A, master(A))  # the student resubmits
    proc, rows = run_grader(submissions, out)
    changed = [p for p in stamps if p.stat().st_mtime_ns != stamps[p]]
    assert [p.parent.name for p in changed] == ["s1_stub"]
    assert {r["status"] for r in rows if r["student_id"] == "s1_stub"} == {"ok"}
    assert "another version of the course" not in proc.stdout

    # s2's record as an earlier version of the course left it (a master, a hidden case or a
    # judge has changed since): graded again, by this version; no one else is
    second = (out / "grades.csv").read_text()
    stamps = {p: p.stat().st_mtime_ns for p in (out / ".results").rglob("*.json")}
    record = record_path(out, "s2_wrong", A)
    earlier = json.loads(record.read_text())
    record.write_text(json.dumps({**earlier, "course": "0" * 64}))
    stamps[record] = record.stat().st_mtime_ns
    proc, _ = run_grader(submissions, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "grading 1 submission(s) again: their records were made by another version of " \
           "the course" in proc.stdout, proc.stdout
    changed = [p for p in stamps if p.stat().st_mtime_ns != stamps[p]]
    assert [p.parent.name for p in changed] == ["s2_wrong"]
    assert json.loads(record.read_text()) == earlier  # this version's record again
    assert (out / "grades.csv").read_text() == second


def test_every_file_the_course_installs_is_in_the_grading_version():
    """An assignment's grading version hashes every module and package data file of the
    installed course (pyproject.toml's package-data, git's list of the course's files),
    its own master and no other assignment's."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert declared["tool"]["setuptools"]["package-data"] == {
        package: list(patterns) for package, patterns in PACKAGE_DATA.items()}
    tracked = subprocess.run(["git", "ls-files", "autograder", "course_lib"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    installed = {REPO / name for name in tracked
                 if name.endswith((".py", ".sh", ".json", ".ipynb")) and "/source/" not in name
                 or name.endswith(".ipynb") and "/source/" in name}
    for assignment in assignments():
        files = set(course_files(assignment))
        others = {master_path(a) for a in assignments() if a != assignment}
        assert files == installed - others, (assignment, files ^ (installed - others))
        assert master_path(assignment) in files


def test_a_run_of_some_assignments_keeps_every_other_assignments_grades(tmp_path):
    """`--assignment B` regrades B; A's rows stay in grades.csv, its submissions and an
    instructor's manual score stay in the gradebook, and nothing is set aside as dropped."""
    from nbgrader.api import Gradebook

    b = "03_batchnorm_test_time"
    submissions = tmp_path / "submissions"
    for student in ("s0", "s1"):
        write_submission(submissions, student, A, master(A))
        write_submission(submissions, student, b, master(b))
    out = tmp_path / "out"
    proc, first = run_grader(submissions, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    url = f"sqlite:///{out / 'gradebook.db'}"
    manual_cell = graded_cells(A)[0][0]
    with Gradebook(url) as gradebook:
        gradebook.find_grade(manual_cell, A, A, "s0").manual_score = 0.5
        gradebook.db.commit()

    write_submission(submissions, "s1", b, student_version(b))  # s1 resubmits B, unfinished
    proc, rows = run_grader(submissions, out, "--assignment", b)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"kept 2 graded submission(s) of {A} from earlier runs" in proc.stdout
    assert [r for r in rows if r["assignment"] == A] == [r for r in first if r["assignment"] == A]
    assert {r["status"] for r in rows if r["assignment"] == b and r["student_id"] == "s1"} \
        == {"not_implemented"}
    assert [r for r in rows if r["student_id"] == "s0"] == [
        r for r in first if r["student_id"] == "s0"]
    with Gradebook(url) as gradebook:
        assert {(s.student.id, s.assignment.name) for a in gradebook.assignments
                for s in a.submissions} == {(s, a) for s in ("s0", "s1") for a in (A, b)}
        assert gradebook.find_grade(manual_cell, A, A, "s0").manual_score == 0.5
    assert not list(out.glob("gradebook.before-*.db"))
