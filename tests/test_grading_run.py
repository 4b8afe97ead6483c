"""A class run nothing can stop and nothing can fool.

Bad notebooks of every kind, symlinks, ids with glob or formula characters, a submission
the grader itself fails on: each gets rows of its own and the honest students are graded
fully. Input that cannot be graded at all, a misplaced or locked output folder, and a
broken grading environment (the canary) stop the run before it touches anything.
"""

import copy
import csv
import itertools
import json
import os
import subprocess
import sys
import time

import nbformat
import psutil
import pytest

from autograder.course import graded_cells
from autograder.export import FORMULA_STARTS
from autograder.records import RunLock, record_path
from autograder.submissions import Loaded, Refused, internal_id, parse_notebook
from tests.helpers import (
    REPO,
    master,
    run_grader,
    scores_by_student,
    student_version,
    write_submission,
)

A = "04_softmax_vs_hardmax"
POINTS = dict(graded_cells(A))  # the master's points per graded cell


# ---------------------------------------------------------------- reading notebooks


def _small_notebook():
    """A valid notebook with one cell of each kind, outputs of each kind, nbgrader metadata."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3",
                                                           "display_name": "Python 3",
                                                           "language": "python"}})
    code = nbformat.v4.new_code_cell("x = 1\nprint(x)", execution_count=1, metadata={
        "nbgrader": {"grade": False, "grade_id": "softmax", "locked": False,
                     "schema_version": 3, "solution": True, "task": False, "points": 0},
        "tags": ["demo"]})
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "1"},
                                           execution_count=1),
                    nbformat.v4.new_output("display_data", data={"text/html": "<b>1</b>"}),
                    nbformat.v4.new_output("error", ename="E", evalue="v", traceback=["t"])]
    nb.cells = [code, nbformat.v4.new_markdown_cell("# title"), nbformat.v4.new_raw_cell("raw")]
    return json.loads(nbformat.writes(nb))


def _paths(value, prefix=()):
    """Every path (tuple of keys and indices) into parsed JSON, the root included."""
    yield prefix
    items = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        yield from _paths(item, prefix + (key,))


def _replaced(data, path, new):
    data = copy.deepcopy(data)
    if not path:
        return new
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return data


WRONG_VALUES = [None, True, 7, 1.5, "text", [], {}, ["a", 1], {"k": [None]}]


def _malformed():
    """(kind, bytes): generated bad input of every kind, and valid input with wrong types."""
    good = _small_notebook()
    text = json.dumps(good)
    yield "empty", b""
    yield "blank", b" \n\t "
    for depth in (1_000, 100_000):
        yield "deep list", b"[" * depth + b"]" * depth
        yield "deep object", b'{"a":' * depth + b"1" + b"}" * depth
        inner = '{"x":' * depth + "1" + "}" * depth
        yield "deep metadata", json.dumps(good).replace('"tags"', f'"deep": {inner}, "tags"',
                                                        1).encode()
    yield "nested past the limit", json.dumps(_replaced(good, ("metadata", "x"), json.loads(
        '{"x":' * 80 + "1" + "}" * 80))).encode()
    for digits in (4301, 5000, 100_000):
        big = "9" * digits
        yield "huge integer", text.replace('"nbformat": 4', f'"nbformat": {big}').encode()
        yield "huge integer in a cell", text.replace('"execution_count": 1',
                                                     f'"execution_count": {big}', 1).encode()
    for position in range(0, len(text), max(1, len(text) // 25)):
        yield "truncated", text[:position].encode()
        yield "not UTF-8", text[:position].encode() + b"\xff\xfe" + text[position:].encode()
    yield "NaN", text.replace('"points": 0', '"points": NaN').encode()
    yield "Infinity", text.replace('"points": 0', '"points": Infinity').encode()
    for version in (3, 5, "4", None):
        yield "nbformat version", json.dumps({**good, "nbformat": version}).encode()
    yield "nbformat 3", b'{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}'
    for path, new in itertools.product(list(_paths(good)), WRONG_VALUES):
        yield f"wrong type at {'/'.join(map(str, path))}", json.dumps(
            _replaced(good, path, new)).encode()


def test_every_kind_of_bad_notebook_is_unreadable_and_nothing_accepted_breaks_nbformat():
    kinds = set()
    for kind, raw in _malformed():
        result = parse_notebook(raw)  # must never raise
        assert isinstance(result, (Loaded, Refused)), kind
        if isinstance(result, Refused):
            kinds.add(kind.split(" at ")[0])
            assert result.status == "unreadable_notebook", (kind, result)
            assert len(result.message) > 20, (kind, result)
            continue
        nb = nbformat.reads(result.text, as_version=4)  # what nbgrader reads later
        nbformat.validate(nb)
        copy.deepcopy(nb)
        for cell in nb.cells:
            assert isinstance(cell.source, str) and isinstance(cell.metadata, dict), kind
            assert isinstance(cell.metadata.get("nbgrader", {}), dict), kind
    assert {"empty", "blank", "deep list", "deep object", "deep metadata", "huge integer",
            "huge integer in a cell", "truncated", "not UTF-8", "NaN", "nbformat version",
            "nbformat 3", "wrong type", "nested past the limit"} <= kinds


def test_a_valid_notebook_is_accepted_as_it_is():
    raw = nbformat.writes(master(A)).encode()
    loaded = parse_notebook(raw)
    assert isinstance(loaded, Loaded)
    assert nbformat.reads(loaded.text, as_version=4) == nbformat.reads(raw, as_version=4)


def test_internal_ids_hold_no_pattern_or_path_character():
    for student in ["[abc]", "[A-Z]*", "*", "a?b", "=1+1", "..", "a b", "é", "x" * 200]:
        sid = internal_id(student)
        assert sid.isalnum() and sid.isascii() and sid == internal_id(student)
    assert len({internal_id(s) for s in ["a", "b", "[ab]", "A"]}) == 4


# ---------------------------------------------------------------- runs that cannot start


def _snapshot(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() \
        else None


def _refused(submissions, out, *extra):
    before = _snapshot(out)
    proc, _ = run_grader(submissions, out, *extra)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) > 40, lines
    assert "Traceback" not in proc.stderr
    assert _snapshot(out) == before  # nothing touched
    return lines[0]


def test_empty_or_unknown_input_exits_2_with_a_sentence(tmp_path):
    out = tmp_path / "out"
    subs = tmp_path / "subs"
    assert "is not a folder" in _refused(subs, out)
    subs.mkdir()
    assert "is empty" in _refused(subs, out)
    (subs / "notes.txt").write_text("no students here")
    (subs / ".hidden").mkdir()
    assert "no student folder" in _refused(subs, out)
    write_submission(subs, "alice", "99_unknown", master(A))
    message = _refused(subs, out)
    assert "known assignment" in message and A in message
    assert "unknown assignment" in _refused(subs, out, "--assignment", "nope")


def test_misplaced_folders_are_refused(tmp_path):
    subs = tmp_path / "subs"
    write_submission(subs, "alice", A, master(A))
    assert "inside SUBMISSIONS" in _refused(subs, subs / "graded")
    assert "inside SUBMISSIONS" in _refused(subs, subs / "alice" / "graded")
    assert "inside SUBMISSIONS" in _refused(subs, subs)
    assert "course repository" in _refused(subs, REPO / "no-such-grading-folder")
    inside = REPO / "no-such-submissions-folder"
    assert "course repository" in _refused(inside, tmp_path / "out")
    link = tmp_path / "link-to-repo"
    link.symlink_to(REPO)
    assert "course repository" in _refused(subs, link / "graded")  # resolved paths


def test_a_second_run_on_a_locked_output_folder_exits_2_and_touches_nothing(tmp_path):
    subs = tmp_path / "subs"
    write_submission(subs, "alice", A, master(A))
    out = tmp_path / "out"
    with RunLock(out):
        message = _refused(subs, out)
    assert f"another grading run is using {out} (pid {os.getpid()}, started at " in message
    assert message.endswith("wait for it to finish")


# ---------------------------------------------------------------- the canary


def test_a_broken_environment_stops_before_the_class_with_exit_3(tmp_path):
    """A kernel that cannot even import numpy (60 MiB of memory) fails the masters' canary."""
    subs = tmp_path / "subs"
    write_submission(subs, "alice", A, master(A))
    out = tmp_path / "out"
    proc, rows = run_grader(subs, out, "--memory-mb", "60")
    assert proc.returncode == 3, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]  # the kernel's own complaints come first
    assert last.startswith("error: the masters' solutions did not get full marks"), last
    assert f"{A} test_softmax" in last
    assert rows == [] and not (out / "feedback").exists() and not (out / ".results").exists()
    assert not (out / "gradebook.db").exists() and not (out / ".gradebook.db.tmp").exists()


def test_a_wrong_master_solution_stops_the_run_naming_cell_status_and_message(tmp_path):
    subs = tmp_path / "subs"
    write_submission(subs, "alice", A, master(A))
    wrong = master(A)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "hardmax":
            cell.source = "def hardmax(Z):\n    return np.zeros(Z.shape)\n"
    write_submission(tmp_path / "canary", "", A, wrong)  # canary/<a>/<a>.ipynb
    out = tmp_path / "out"
    proc, rows = run_grader(subs, out, "--canary-source", str(tmp_path / "canary"))
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "test_hardmax" in proc.stderr and "wrong_answer" in proc.stderr
    assert "test_softmax:" not in proc.stderr and "test_softmax," not in proc.stderr
    assert rows == [] and not (out / ".results").exists()


# ---------------------------------------------------------------- a zygote that dies


def _zygotes_and_kernels(grader):
    """The zygotes (root, the zygote's program) and kernels (its program, another user)
    among the grader's descendants."""
    zygotes, kernels = [], []
    for process in grader.children(recursive=True):
        try:
            if "zygote.py" not in " ".join(process.cmdline()):
                continue
            (kernels if process.uids().real != 0 else zygotes).append(process)
        except psutil.Error:
            continue
    return zygotes, kernels


def test_a_zygote_killed_mid_submission_costs_that_submission_only(tmp_path):
    """The worker's zygote is killed while a student's kernel runs (a cell that sleeps):
    that submission's cells get kernel_died, the run goes on, and the next student, graded
    by the same worker with a new zygote, gets full marks."""
    subs = tmp_path / "subs"
    slow = master(A)
    first = next(c for c in slow.cells if c.metadata.get("nbgrader", {}).get("solution"))
    first.source += "\n\nimport time\ntime.sleep(30)\n"
    for student, nb in {"a_before": master(A), "b_killed": slow, "c_after": master(A)}.items():
        write_submission(subs, student, A, nb)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
               "--seed", "12345", "--no-progress", "--jobs", "1"]
    grader = psutil.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    killed = []
    a_done = record_path(out, "a_before", A)
    deadline = time.monotonic() + 300
    while grader.poll() is None and time.monotonic() < deadline:
        zygotes, kernels = _zygotes_and_kernels(grader)
        # after a_before is recorded (its kernel gone), a kernel 3 s old is b_killed's in its
        # slow cell (the masters' canary and a_before may take as long on a busy machine)
        if not killed and a_done.exists() and any(
                time.time() - k.create_time() > 3 for k in kernels):
            for zygote in zygotes:
                zygote.kill()
                killed.append(zygote.pid)
        time.sleep(0.05)
    _, stderr = grader.communicate(timeout=60)
    assert killed, "no kernel ran for 3 s: the slow cell never ran"
    assert grader.returncode == 0, stderr[-3000:]
    with open(out / "grades.csv", newline="") as handle:
        table = scores_by_student(list(csv.DictReader(handle)))
    for student in ("a_before", "c_after"):
        assert {g: s for g, (s, _, _) in table[student].items()} == POINTS, table[student]
        assert {st for _, st, _ in table[student].values()} == {"ok"}, table[student]
    assert {st for _, st, _ in table["b_killed"].values()} == {"kernel_died"}, table["b_killed"]


# ---------------------------------------------------------------- one class, every edge


HONEST = {"alice": True, "[abc]": False, "*": True, "a?b": False, "[A-Z]*": True}
FORMULA_IDS = ["=1+1", "@SUM(A1)", "+cmd", "-2+3"]
BAD_FILES = {
    "=1+1": b"[" * 100_000 + b"]" * 100_000,
    "@SUM(A1)": b'{"nbformat": ' + b"7" * 5000 + b', "cells": []}',
    "+cmd": json.dumps({**_small_notebook(), "cells": {"not": "a list"}}).encode(),
    "-2+3": b'{"cells": "\xff\xfe"}',
}


def _sym_cases(subs):
    """Students whose submission holds a symlink somewhere; the notebooks would score 9/9."""
    real = write_submission(subs, "zz_real", A, master(A)).parent
    (subs / "link_student").symlink_to(subs / "alice")
    (subs / "link_assignment").mkdir()
    (subs / "link_assignment" / A).symlink_to(real)
    (subs / "link_notebook" / A).mkdir(parents=True)
    (subs / "link_notebook" / A / f"{A}.ipynb").symlink_to(
        REPO / "autograder" / "source" / A / f"{A}.ipynb")
    write_submission(subs, "link_beside", A, master(A))
    (subs / "link_beside" / A / "data.csv").symlink_to("/etc/passwd")
    return ["link_student", "link_assignment", "link_notebook", "link_beside"]


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    subs = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("graded")
    for student, honest in HONEST.items():
        write_submission(subs, student, A, master(A) if honest else student_version(A))
    for student, raw in BAD_FILES.items():
        write_submission(subs, student, A, raw)
    linked = _sym_cases(subs)
    (subs / ".hidden" / A).mkdir(parents=True)
    (subs / "fails_in_grader" / A).mkdir(parents=True)
    write_submission(subs, "fails_in_grader", A, master(A))
    (out / "feedback").mkdir()
    (out / "feedback" / "fails_in_grader").write_text("a file where a folder must go")
    proc, rows = run_grader(subs, out, "--jobs", "2")
    return subs, out, proc, rows, linked


def test_the_run_finishes_and_grades_honest_students_fully(class_run):
    _, out, proc, rows, _ = class_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ignored 1 hidden entry" in proc.stdout
    table = scores_by_student(rows)
    for student, honest in HONEST.items():
        cells = table[student]
        if honest:
            assert {g: s for g, (s, _, _) in cells.items()} == POINTS, (student, cells)
            assert {st for _, st, _ in cells.values()} == {"ok"}, student
        else:
            assert {st for _, st, _ in cells.values()} == {"not_implemented"}, student
        assert (out / "feedback" / student / f"{A}.html").stat().st_size > 1000
        assert (out / ".results" / student / f"{A}.json").is_file()
    assert table["zz_real"] == table["alice"]


def test_bad_files_symlinks_and_grader_failures_get_rows_of_their_own(class_run):
    _, _, _, rows, linked = class_run
    table = scores_by_student(rows)
    for student in FORMULA_IDS:
        cells = table["'" + student]
        assert set(cells) == set(POINTS)
        assert {(s, st) for s, st, _ in cells.values()} == {(0, "unreadable_notebook")}, cells
    for student in linked:
        cells = table[student]
        assert {(s, st) for s, st, _ in cells.values()} == {(0, "symlink_refused")}, student
        assert all("symbolic link" in m for _, _, m in cells.values())
    failed = table["fails_in_grader"]
    assert {(s, st) for s, st, _ in failed.values()} == {(0, "grading_failed")}, failed
    assert set(table) == (set(HONEST) | {"'" + s for s in FORMULA_IDS} | set(linked)
                          | {"zz_real", "fails_in_grader"})


def test_no_csv_field_would_be_evaluated_by_a_spreadsheet(class_run):
    _, out, _, _, _ = class_run
    with open(out / "grades.csv", newline="") as handle:
        records = list(csv.reader(handle))
    header, body = records[0], records[1:]
    numbers = {header.index("score"), header.index("max_score")}
    for record in body:
        for index, field in enumerate(record):
            if index in numbers:
                float(field)
            else:
                assert not field.startswith(FORMULA_STARTS), record
    assert {r[0] for r in body} >= {"'" + s for s in FORMULA_IDS}


def test_grader_failures_are_graded_again_and_nothing_else_is(class_run):
    subs, out, _, first, _ = class_run
    (out / "feedback" / "fails_in_grader").unlink()
    stamps = {p: p.stat().st_mtime_ns for p in (out / ".results").rglob("*.json")}
    proc, rows = run_grader(subs, out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = scores_by_student(rows)
    assert {(s, st) for s, st, _ in table["fails_in_grader"].values()} == {
        (float(p), "ok") for p in POINTS.values()}
    changed = {p.parent.name for p in stamps if p.stat().st_mtime_ns != stamps[p]}
    assert changed == {"fails_in_grader"}
    assert [r for r in rows if r["student_id"] != "fails_in_grader"] == [
        r for r in first if r["student_id"] != "fails_in_grader"]


def test_the_gradebook_revision_read_here_is_the_one_alembic_gives(tmp_path):
    """`alembic_head` reads nbgrader's migration scripts instead of starting `alembic`:
    the revision it stamps on every new gradebook is the one nbgrader's own way gives."""
    import nbgrader.api

    from autograder import course

    course.nbgrader_api(tmp_path)  # puts alembic_head in place of nbgrader's function
    assert nbgrader.api.get_alembic_version is course.alembic_head
    asked = course._ask_nbgrader()  # nbgrader's own: the `alembic heads` command
    assert len(asked) == 12 and course.alembic_head() == asked
