"""docs/instructor.md works as written: every `sh` block of the page runs, in order.

Each block runs in bash from the repository with the page's first block (the course's
environment, `$CLASS`) before it, and with HOME a fresh folder, so `~/teaching/...` is the
test's own. Between blocks the test does what the instructor does outside the commands:
it puts an LMS download (a Canvas zip, a Moodle zip and Moodle's gradebook export) in
`$CLASS/downloads`. `make review` is started as a server (with LAB_ARGS for a free port)
and stopped once Formgrader answers. After each command, what it should have written is
checked.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from tests.browser import free_port, get
from tests.helpers import REPO, student_version, with_solutions

PAGE = REPO / "docs" / "instructor.md"
ASSIGNMENT = "04_softmax_vs_hardmax"
CANVAS = {"12345": "doejane_12345_678901_softmax.ipynb",
          "23456": "roejohn_LATE_23456_678902_04_softmax_vs_hardmax.ipynb",
          "34567": "poeann_34567_678903_my_work.ipynb"}
MOODLE = {"Jane Doe": "Jane Doe_1234567_assignsubmission_file_/softmax.ipynb",
          "John Roe": "John Roe_2345678_assignsubmission_file_/work.ipynb"}


def blocks(page: Path = PAGE) -> list[str]:
    """The page's `sh` blocks, in order."""
    return re.findall(r"```sh\n(.*?)```", page.read_text(), flags=re.S)


def _downloads(folder: Path) -> None:
    """What the instructor downloads from Canvas and Moodle."""
    solved = nbformat.writes(with_solutions(ASSIGNMENT)).encode()
    released = nbformat.writes(student_version(ASSIGNMENT)).encode()
    notebooks = [solved, released, solved]
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "submissions.zip", "w") as archive:
        for name, data in zip(CANVAS.values(), notebooks, strict=True):
            archive.writestr(name, data)
        archive.writestr("doejane_12345_678904_notes.pdf", b"%PDF-1.4")
    with zipfile.ZipFile(folder / "moodle-04.zip", "w") as archive:
        for name, data in zip(MOODLE.values(), notebooks, strict=False):
            archive.writestr(name, data)
    roster = io.StringIO()
    writer = csv.writer(roster)
    writer.writerow(["First name", "Last name", "ID number", "Institution", "Department",
                     "Email address"])
    for student in MOODLE:
        first, last = student.split()
        writer.writerow([first, last, "", "", "", f"{first.lower()}@example.edu"])
    (folder / "moodle-grades.csv").write_text(roster.getvalue())


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """(environment, the first block, $CLASS): a fresh HOME for the page's commands."""
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "HOME": str(home)}
    env.pop("VIRTUAL_ENV", None)
    first = blocks()[0]
    shown = subprocess.run(["bash", "-ec", f"{first}\necho \"$CLASS\""], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    klass = Path(shown.stdout.strip().splitlines()[-1])
    assert home in klass.parents
    return env, first, klass


def _run(week, block: str, **kwargs) -> subprocess.CompletedProcess:
    env, first, _ = week
    done = subprocess.run(["bash", "-ec", f"{first}\n{block}"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900, **kwargs)
    assert done.returncode == 0, f"{block}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def _review(week, block: str) -> None:
    """`make review DIR=...` as written, served on a free port until Formgrader answers."""
    env, first, _ = week
    port = free_port()
    env = {**env, "LAB_ARGS": f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
                              "--ServerApp.port_retries=0 --IdentityProvider.token="}
    proc = subprocess.Popen(["bash", "-ec", f"{first}\n{block}"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        url = f"http://127.0.0.1:{port}/formgrader/gradebook/{ASSIGNMENT}/{ASSIGNMENT}"
        while get(url)[0] != 200:
            assert proc.poll() is None, "make review stopped"
            assert time.monotonic() < deadline, "Formgrader did not answer in 120 s"
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _grades(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_command_of_the_page_works_as_written(week):
    _, _, klass = week
    commands = blocks()[1:]
    assert len(commands) >= 8
    ran = []
    for block in commands:
        if block.startswith("make review"):
            _review(week, block)
        else:
            if "collect" in block:
                _downloads(klass / "downloads")
            _run(week, block)
        ran.append(block)
        _check_after(block, klass)
    assert ran == commands


def _check_after(block: str, klass: Path) -> None:
    """What the command in `block` should have written."""
    if "publish" in block:
        assert (klass / "public" / "notebooks" / f"{ASSIGNMENT}.ipynb").exists()
    elif "collect" in block and "moodle" in block:
        assert sorted(p.name for p in (klass / "moodle-submissions").iterdir()) == sorted(MOODLE)
    elif "collect" in block:
        assert sorted(p.name for p in (klass / "submissions").iterdir()) == sorted(CANVAS)
    elif block.startswith("python -m autograder grade $CLASS/submissions"):
        rows = _grades(klass / "graded" / "grades.csv")
        assert {r["student_id"] for r in rows} == set(CANVAS)
        assert (klass / "graded" / "feedback" / "12345" / f"{ASSIGNMENT}.html").exists()
    elif "report" in block:
        page = (klass / "graded" / "report" / "index.html").read_text()
        assert ASSIGNMENT in page and "<script" not in page
    elif "--format canvas" in block:
        rows = list(csv.reader((klass / "graded" / "export" / "canvas.csv").open()))
        ids = {row[1] for row in rows[2:]}
        assert ids == set(CANVAS), rows
    elif "--format moodle" in block:
        text = (klass / "moodle-graded" / "export" / "moodle.csv").read_text()
        assert "jane@example.edu" in text and "john@example.edu" in text
    elif "--format csv" in block:
        rows = _grades(klass / "graded" / "export" / "csv.csv")
        assert {r["student_id"] for r in rows} == set(CANVAS)
