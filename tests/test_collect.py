"""collect: Canvas's and Moodle's submission downloads laid out where `grade` reads them.

The downloads are built here, shaped as each LMS names its files (see autograder/collect.py),
from the released notebooks and the masters, with every kind of malformed member. The export
side of the round trip uses the graded class's grades (the grader itself is not run).
"""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.collect import MAX_MEMBER_BYTES, STATUSES, collect, describe_collected
from autograder.course import NOTEBOOKS_DIR, REPO_DIR
from autograder.exercises import ASSIGNMENTS
from autograder.export import write_csv
from autograder.lms import export_grades
from autograder.records import Row
from autograder.submissions import GradingError, Loaded, discover, load_submission
from tests.helpers import with_solutions

ASSIGNMENT = ASSIGNMENTS[0]
RELEASED = (NOTEBOOKS_DIR / f"{ASSIGNMENT}.ipynb").read_bytes()
SOLVED = nbformat.writes(with_solutions(ASSIGNMENT)).encode()


def _zip(path: Path, members: list[tuple[str, bytes]], *, links: dict[str, str] | None = None,
         folders: list[str] | None = None) -> Path:
    """A zip of `members` (name, bytes), symbolic links (name -> target) and folder entries."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in folders or []:
            archive.writestr(zipfile.ZipInfo(name), b"")
        for name, data in members:
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def _with_latin1_name(path: Path, placeholder: bytes, latin1: bytes) -> None:
    """Rewrite a member's name to bytes that are not UTF-8 (as old zip tools write them)."""
    assert len(placeholder) == len(latin1)
    data = path.read_bytes()
    assert data.count(placeholder) == 2  # local header and central directory
    path.write_bytes(data.replace(placeholder, latin1))


CANVAS_GOOD = {  # member -> (student id, notebook)
    "doejane_12345_678901_01_hyperparameter_search.ipynb": ("12345", SOLVED),
    "roejohn_LATE_23456_678902_01_hyperparameter_search-1.ipynb": ("23456", RELEASED),
    "o_brienmary_34567_678903_my_work_v2.ipynb": ("34567", SOLVED),
}
CANVAS_BAD = {  # member -> status
    "../escape_45678_678904_x.ipynb": "unsafe_path",
    "/abs_56789_678905_x.ipynb": "unsafe_path",
    "linked_67890_678906_x.ipynb": "symlink",
    "huge_78901_678907_x.ipynb": "too_large",
    "doejane_12345_678908_notes.txt": "not_a_notebook",
    "twice_89012_678909_a.ipynb": "several_notebooks",
    "twice_89012_678910_b.ipynb": "several_notebooks",
    "readme.ipynb": "unrecognised_name",
    "broken_90123_678911_x.ipynb": "unreadable_notebook",
    "anon_ab12c_678912_x.ipynb": "anonymous",
    "latin_91234_678913_cafX.ipynb": "name_not_utf8",
}


@pytest.fixture
def canvas_zip(tmp_path):
    members = [(name, data) for name, (_, data) in CANVAS_GOOD.items()]
    members += [("../escape_45678_678904_x.ipynb", SOLVED), ("/abs_56789_678905_x.ipynb", SOLVED),
                ("huge_78901_678907_x.ipynb", b" " * (MAX_MEMBER_BYTES + 1)),
                ("doejane_12345_678908_notes.txt", b"notes"),
                ("twice_89012_678909_a.ipynb", SOLVED), ("twice_89012_678910_b.ipynb", RELEASED),
                ("readme.ipynb", SOLVED), ("broken_90123_678911_x.ipynb", b"{ not a notebook"),
                ("anon_ab12c_678912_x.ipynb", SOLVED), ("latin_91234_678913_cafX.ipynb", SOLVED)]
    path = _zip(tmp_path / "canvas.zip", members,
                links={"linked_67890_678906_x.ipynb": "/etc/passwd"})
    _with_latin1_name(path, b"cafX.ipynb", b"caf\xe9.ipynb")
    return path


def _statuses(collected):
    return {c.member: c.status for c in collected}


def test_canvas_download_every_member_gets_one_status(canvas_zip, tmp_path):
    subs = tmp_path / "submissions"
    collected = collect(canvas_zip, subs, assignment=ASSIGNMENT)
    with zipfile.ZipFile(canvas_zip) as archive:
        assert len(collected) == len(archive.infolist())
    assert all(c.status in STATUSES for c in collected)
    statuses = _statuses(collected)
    latin = next(m for m in statuses if m.startswith("latin_"))
    assert statuses.pop(latin) == "name_not_utf8"
    expected = {m: s for m, s in CANVAS_BAD.items() if not m.startswith("latin_")}
    expected |= {m: "collected" for m in CANVAS_GOOD}
    assert statuses == expected
    for member, (student, data) in CANVAS_GOOD.items():
        found = next(c for c in collected if c.member == member)
        assert found.student == student
        assert found.path == subs / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert found.path.read_bytes() == data
    students, assignments = discover(subs)
    assert sorted(students) == sorted(s for s, _ in CANVAS_GOOD.values())
    assert assignments == [ASSIGNMENT]
    for student in students:
        assert isinstance(load_submission(subs, student, ASSIGNMENT), Loaded)
    written = {p.relative_to(subs).as_posix() for p in subs.rglob("*") if p.is_file()}
    assert written == {f"{s}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb" for s, _ in CANVAS_GOOD.values()}
    assert not (tmp_path / "escape_45678_678904_x.ipynb").exists()
    table = describe_collected(collected)
    assert len(table.splitlines()) == len(collected) + 2
    assert all(c.status in line for c, line in zip(collected, table.splitlines()[1:-1],
                                                   strict=True))


MOODLE_GOOD = {
    "Jane Doe_1234567_assignsubmission_file_/01_hyperparameter_search.ipynb": ("Jane Doe", SOLVED),
    "John Roe_2345678_assignsubmission_file_hw.ipynb": ("John Roe", RELEASED),
    "Zoë Ångström_3456789_assignsubmission_file_/sub/work.ipynb": ("Zoë Ångström", SOLVED),
}
MOODLE_BAD = {
    "Jane Doe_1234567_assignsubmission_onlinetext_/onlinetext.html": "not_a_notebook",
    "Sam Lee_4567890_assignsubmission_file_/a.ipynb": "ambiguous_name",
    "Sam Lee_5678901_assignsubmission_file_/b.ipynb": "ambiguous_name",
    "Ann Poe_6789012_assignsubmission_file_/a.ipynb": "several_notebooks",
    "Ann Poe_6789012_assignsubmission_file_/b.ipynb": "several_notebooks",
    ".hidden_7890123_assignsubmission_file_/a.ipynb": "invalid_student_id",
    "Jane Doe_1234567_assignsubmission_file_/../../up.ipynb": "unsafe_path",
    "Jane Doe_1234567_assignsubmission_file_/": "folder",
    "Participant_8901234_assignsubmission_file_/a.ipynb": "anonymous",
}


@pytest.fixture
def moodle_zip(tmp_path):
    members = [(name, data) for name, (_, data) in MOODLE_GOOD.items()]
    members += [(name, SOLVED if name.endswith(".ipynb") else b"<p>text</p>")
                for name in MOODLE_BAD if not name.endswith("/")]
    return _zip(tmp_path / "moodle.zip", members,
                folders=[m for m in MOODLE_BAD if m.endswith("/")])


def test_moodle_download_every_member_gets_one_status(moodle_zip, tmp_path):
    subs = tmp_path / "submissions"
    collected = collect(moodle_zip, subs, assignment=ASSIGNMENT)
    assert _statuses(collected) == {**MOODLE_BAD, **{m: "collected" for m in MOODLE_GOOD}}
    for member, (student, data) in MOODLE_GOOD.items():
        found = next(c for c in collected if c.member == member)
        assert found.student == student
        assert found.path.read_bytes() == data
    students, _ = discover(subs)
    assert sorted(students) == sorted(s for s, _ in MOODLE_GOOD.values())
    assert all(isinstance(load_submission(subs, s, ASSIGNMENT), Loaded) for s in students)


def test_folder_download_is_read_like_the_zip(canvas_zip, tmp_path):
    folder = tmp_path / "unzipped"
    folder.mkdir()
    for member, (_, data) in CANVAS_GOOD.items():
        (folder / member).write_bytes(data)
    (folder / "linked_67890_678906_x.ipynb").symlink_to("/etc/passwd")
    os.mkdir(os.fsencode(folder) + b"/caf\xe9_91234_678913_x.ipynb")
    (folder / "notes_12345_678908_n.txt").write_text("notes")
    collected = collect(folder, tmp_path / "submissions", assignment=ASSIGNMENT)
    statuses = _statuses(collected)
    assert [s for m, s in statuses.items() if m.startswith("caf")] == ["name_not_utf8"]
    assert statuses["linked_67890_678906_x.ipynb"] == "symlink"
    assert statuses["notes_12345_678908_n.txt"] == "not_a_notebook"
    assert all(statuses[m] == "collected" for m in CANVAS_GOOD)
    assert len(collected) == len(CANVAS_GOOD) + 3


def test_existing_notebooks_are_kept_unless_replace(tmp_path):
    subs = tmp_path / "submissions"
    member = next(iter(CANVAS_GOOD))
    student = CANVAS_GOOD[member][0]
    first = _zip(tmp_path / "first.zip", [(member, SOLVED)])
    second = _zip(tmp_path / "second.zip", [(member, RELEASED)])
    target = subs / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert [c.status for c in collect(first, subs, assignment=ASSIGNMENT)] == ["collected"]
    assert [c.status for c in collect(first, subs, assignment=ASSIGNMENT)] == ["unchanged"]
    assert [c.status for c in collect(second, subs, assignment=ASSIGNMENT)] == ["kept_existing"]
    assert target.read_bytes() == SOLVED
    assert [c.status for c in collect(second, subs, assignment=ASSIGNMENT, replace=True)] == [
        "replaced"]
    assert target.read_bytes() == RELEASED


def test_total_limit_stops_reading(tmp_path):
    members = [(f"s{i}_{100 + i}_{200 + i}_x.ipynb", SOLVED) for i in range(3)]
    collected = collect(_zip(tmp_path / "d.zip", members), tmp_path / "subs",
                        assignment=ASSIGNMENT, max_total_bytes=2 * len(SOLVED))
    assert [c.status for c in collected] == ["collected", "collected", "total_too_large"]


def test_refusals(canvas_zip, tmp_path):
    with pytest.raises(GradingError, match="unknown assignment 'hw9'; known: 01_"):
        collect(canvas_zip, tmp_path / "subs", assignment="hw9")
    with pytest.raises(GradingError, match="does not exist"):
        collect(tmp_path / "nowhere.zip", tmp_path / "subs", assignment=ASSIGNMENT)
    (tmp_path / "plain.txt").write_text("not a zip")
    with pytest.raises(GradingError, match="is not a zip file"):
        collect(tmp_path / "plain.txt", tmp_path / "subs", assignment=ASSIGNMENT)
    with pytest.raises(GradingError, match="is not a folder"):
        collect(canvas_zip, tmp_path / "plain.txt", assignment=ASSIGNMENT)
    damaged = _zip(tmp_path / "damaged.zip", [("doeé_1_2_x.ipynb", SOLVED)])  # flagged UTF-8
    damaged.write_bytes(damaged.read_bytes().replace("doeé".encode(), b"doe\xe9X"))
    with pytest.raises(GradingError, match="damaged zip: an entry says its name is UTF-8"):
        collect(damaged, tmp_path / "subs", assignment=ASSIGNMENT)
    proc = subprocess.run([sys.executable, "-m", "autograder", "collect", str(canvas_zip),
                           "--assignment", "hw9", "--into", str(tmp_path / "subs")],
                          capture_output=True, text=True, cwd=REPO_DIR)
    assert proc.returncode == 2
    assert "error: unknown assignment 'hw9'" in proc.stderr
    assert not (tmp_path / "subs").exists()


def test_command_line_prints_the_table(canvas_zip, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "autograder", "collect", str(canvas_zip),
                           "--assignment", ASSIGNMENT, "--into", str(tmp_path / "subs")],
                          capture_output=True, text=True, cwd=REPO_DIR)
    assert proc.returncode == 0, proc.stderr
    for student, _ in CANVAS_GOOD.values():
        assert any(student in line and "collected" in line for line in proc.stdout.splitlines())
    assert "unsafe_path 2" in proc.stdout.splitlines()[-1]


def test_round_trip_canvas_zip_to_canvas_import(graded_class, tmp_path):
    """Canvas zip -> collect -> (the graded class's rows) -> export canvas: each total lands
    in the row of the Canvas user id the download named."""
    canvas_ids = {}
    members = []
    students = sorted(p.name for p in graded_class.submissions.iterdir())
    for number, student in enumerate(students):
        path = graded_class.submissions / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        if not path.is_file():
            continue
        canvas_ids[student] = str(5000 + number)
        name = "".join(c for c in student if c.isalnum())
        members.append((f"{name}_{canvas_ids[student]}_{9000 + number}_{ASSIGNMENT}.ipynb",
                        path.read_bytes()))
    subs = tmp_path / "submissions"
    collected = collect(_zip(tmp_path / "canvas.zip", members), subs, assignment=ASSIGNMENT)
    by_student = {c.student: c for c in collected}
    rows = [r for r in graded_class.rows() if r["assignment"] == ASSIGNMENT]
    graded = {r["student_id"] for r in rows}
    for student, canvas_id in canvas_ids.items():
        found = by_student[canvas_id]
        if found.status == "collected":  # what `grade` would read: the same notebook
            assert found.path.read_bytes() == (
                graded_class.submissions / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            ).read_bytes()
        else:  # a file the grader found unreadable too
            assert found.status == "unreadable_notebook"
            assert {r["status"] for r in rows if r["student_id"] == student} == {
                "unreadable_notebook"}
    collected_ids = {c.student for c in collected if c.status == "collected"}
    out = tmp_path / "out"
    write_csv(out / "grades.csv", [
        Row(canvas_ids[r["student_id"]], r["assignment"], r["grade_id"], float(r["score"]),
            float(r["max_score"]), r["status"], r["message"], r["mistake"])
        for r in rows if r["student_id"] in canvas_ids
        and canvas_ids[r["student_id"]] in collected_ids])
    exported = list(csv.reader(io.StringIO(export_grades(out, "canvas").read_text())))
    header, by_id = exported[0], {row[1]: row for row in exported[2:]}
    column = header.index(ASSIGNMENT)
    assert set(by_id) == collected_ids
    assert set(canvas_ids) <= graded  # every notebook in the zip was graded
    for student, canvas_id in canvas_ids.items():
        if canvas_id in collected_ids:
            expected = sum(float(r["score"]) for r in rows if r["student_id"] == student)
            assert float(by_id[canvas_id][column]) == pytest.approx(expected)
