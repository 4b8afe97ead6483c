"""A census of the student's kernel in the real sandbox, during real grading.

A submission of 04 carries one more code cell (`tests/sandbox_census_cell.py`) that
walks every path the kernel can see and reports, as data in its own feedback, every
readable file outside the allow-list and every place it could write outside its private
tmpfs, leaving a marker in each place it could write. A second run grades two students in
one worker: the first leaves a secret wherever it can write (and a process behind), the
second looks for it everywhere.
"""

import base64
import json
import os
import re
import secrets
import subprocess
from pathlib import Path

import nbformat
import pytest

from autograder import sandbox
from tests.helpers import master, run_grader, scores_by_student, write_submission

A = "04_softmax_vs_hardmax"
CELL = (Path(__file__).resolve().parent / "sandbox_census_cell.py").read_text()
HOST_PLACES = ("/tmp", "/var/tmp", "/dev/shm", "/run")


def _require_sandbox():
    enabled, reason = sandbox.namespaces_available()
    if not enabled:
        pytest.fail(f"the census needs the bubblewrap sandbox, which cannot run here: {reason}. "
                    "Run the tests as root with bubblewrap installed (make venv).")


def _allowed():
    """(readable, writable) roots the allow-list grants, as the grader's settings say."""
    scratch = list(sandbox.scratch_sizes(sandbox.Limits()))
    runtime = [str(p) for p in sandbox._runtime_paths()]
    readable = [*runtime, "/usr", "/etc/fonts", sandbox.COURSE_LIB_DIR,
                sandbox.CONNECTION_FILE, "/proc/self", *scratch]
    return readable, scratch


def _submission(mode, token, secret):
    readable, writable = _allowed()
    # the secret in hex: the reader's own cell (kept in its IPython history) must not hold it
    settings = (f"MODE = {mode!r}\nTOKEN = {token!r}\n"
                f"SECRET = bytes.fromhex({secret.encode().hex()!r}).decode()\n"
                f"READ_ALLOWED = {readable!r}\nWRITE_ALLOWED = {writable!r}\n")
    nb = master(A)
    nb.cells.append(nbformat.v4.new_code_cell(settings + CELL))
    return nb


def _report(out, student):
    page = (Path(out) / "feedback" / student / f"{A}.html").read_text()
    found = re.findall(r"CENSUS:([A-Za-z0-9+/=]+):END", page)
    assert len(found) == 1, f"no census report in {student}'s feedback"
    return json.loads(base64.b64decode(found[0]))


def _leftovers(roots, token):
    """Paths under `roots` whose name carries `token` (symlinks are not followed)."""
    hits = []
    for root in roots:
        for folder, dirs, files in os.walk(root):
            hits += [os.path.join(folder, n) for n in dirs + files if token in n]
    return hits


def _processes_with(word):
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True)
    return [line for line in ps.stdout.splitlines() if word in line]


def _grade(tmp_path_factory, students):
    _require_sandbox()
    subs = tmp_path_factory.mktemp("census-submissions")
    out = tmp_path_factory.mktemp("census-graded")
    for student, nb in students.items():
        write_submission(subs, student, A, nb)
    proc, rows = run_grader(subs, out, "--assignment", A, "--jobs", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "bubblewrap allow-list sandbox" in proc.stdout, proc.stdout[:2000]
    return subs, out, scores_by_student(rows)


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    token = secrets.token_hex(8)
    subs, out, table = _grade(tmp_path_factory, {"census": _submission("census", token, "")})
    return token, subs, out, table, _report(out, "census")


def test_the_census_ran_in_the_sandbox_and_saw_the_runtime(census):
    _, _, _, table, report = census
    assert {status for _, status, _ in table["census"].values()} == {"ok"}, table
    assert report["hostname"] == "sandbox" and report["uid"] != 0, report
    counts = report["readable_counts"]
    for root in [str(p) for p in sandbox._runtime_paths()] + ["/usr", sandbox.COURSE_LIB_DIR]:
        assert counts[root] > 0, (root, counts)
    assert report["files"] > 1000 and report["directories"] > 100, report
    for place in sandbox.scratch_sizes(sandbox.Limits()):
        assert place in report["written"], report["written"]


def test_nothing_outside_the_allow_list_is_readable(census):
    readable = census[4]["readable_outside"]
    assert readable == [], readable[:50]


def test_nothing_outside_the_private_folders_is_writable(census):
    writable = census[4]["writable_outside"]
    assert writable == [], writable[:50]


def test_nothing_the_kernel_wrote_survives_the_run(census):
    token, subs, out, _, report = census
    assert _leftovers([subs, out, *HOST_PLACES], token) == []
    assert not Path(report["sockets"]).exists()


@pytest.fixture(scope="module")
def two_students(tmp_path_factory):
    token, secret = secrets.token_hex(8), "secret-" + secrets.token_hex(8)
    subs, out, table = _grade(tmp_path_factory, {
        "a_writer": _submission("write", token, secret),
        "b_reader": _submission("read", token, secret)})
    return secret, table, _report(out, "a_writer"), _report(out, "b_reader")


def test_a_second_student_in_the_same_worker_finds_nothing_of_the_first(two_students):
    secret, table, writer, reader = two_students
    for student in ("a_writer", "b_reader"):
        assert {status for _, status, _ in table[student].values()} == {"ok"}, table[student]
    # the same worker: the same kernel user and the same socket folder, one after the other
    assert (writer["uid"], writer["sockets"]) == (reader["uid"], reader["sockets"])
    for place in [*sandbox.scratch_sizes(sandbox.Limits()), writer["sockets"]]:
        assert place in writer["written"], writer["written"]
    assert writer["left_process"] > 0
    assert reader["files"] > 1000 and reader["found"] == [], reader["found"]
    assert _processes_with(secret) == []

