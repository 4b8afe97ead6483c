"""Nothing lost, nothing doubled: a grader killed mid-batch resumes to the same grades.csv."""

import os
import signal
import subprocess
import sys
import time

from tests.helpers import (
    REPO,
    master,
    run_grader,
    student_version,
    with_solutions,
    write_submission,
)

A = "04_softmax_vs_hardmax"


def _class(root):
    write_submission(root, "s0_correct", A, master(A))
    write_submission(root, "s1_stub", A, student_version(A))
    for i, body in enumerate(["    return T / T.sum(axis=1, keepdims=True)\n",
                              "    return T / T.sum()\n", "    return T\n"]):
        source = ("def softmax(Z):\n    T = np.exp(Z - Z.max(axis=0, keepdims=True))\n" + body)
        write_submission(root, f"s{i + 2}_wrong", A, with_solutions(A, {"softmax": source}))
    write_submission(root, "s5_correct_too", A, master(A))


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    submissions = tmp_path / "submissions"
    _class(submissions)
    reference_out = tmp_path / "reference"
    proc, rows = run_grader(submissions, reference_out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    reference = (reference_out / "grades.csv").read_text()
    assert len(rows) == 6 * 6

    out = tmp_path / "killed"
    killed = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
         "--seed", "12345", "--no-progress", "--jobs", "2"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    records = out / ".results"
    deadline = time.monotonic() + 300
    while not (records.exists() and len(list(records.rglob("*.json"))) >= 2):
        assert killed.poll() is None, "the grader finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    done_before = len(list(records.rglob("*.json")))
    assert 2 <= done_before < 6
    assert not (out / "grades.csv").exists()

    proc, _ = run_grader(submissions, out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "grades.csv").read_text() == reference
    for student in ("s0_correct", "s1_stub", "s2_wrong", "s5_correct_too"):
        assert (out / "feedback" / student / f"{A}.html").stat().st_size > 1000
    _assert_gradebook_matches(out, rows)


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
    _class(submissions)
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
