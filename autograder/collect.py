"""An LMS's download of one assignment's submissions, laid out where `grade` reads them.

`python -m autograder collect DOWNLOAD --assignment A --into SUBMISSIONS` takes Canvas's
"Download Submissions" zip or Moodle's "Download all submissions" zip (or the folder either
unzips to) and writes each student's notebook to SUBMISSIONS/<student_id>/A/A.ipynb.

Names, as the LMSs write them:

- Canvas (canvas-lms, lib/content_zipper.rb, `get_filename` and `add_upload_submission`):
  `<name>[_LATE]_<user id>_<attachment id>_<file name>`, where <name> is the student's
  sortable name in lower case with everything but letters, digits and `_` removed, e.g.
  `doejane_LATE_12345_678901_hw1.ipynb`. The student id is the Canvas user id (12345): the
  `ID` column Canvas's gradebook import matches first (see `autograder.lms`). Anonymous
  grading writes `anon_<anonymous id>` instead of name and user id; such files are not
  collected (status `anonymous`), since no gradebook import could match them.
- Moodle (mod/assign/locallib.php, `download_submissions`):
  `<full name>_<participant id>_assignsubmission_file_/<file name>` (one folder per student,
  the default since Moodle 3.1) or the same prefix glued to the file name (older). The
  participant id differs per assignment, so the student id is the full name, which is the
  same in every assignment's download; two students of one name in one download are not
  collected (`ambiguous_name`); blind marking names everyone "Participant" (`anonymous`).
  Moodle's grade import cannot match a full name: export a Moodle class with a roster (see
  `autograder.lms`).

The download is untrusted. Nothing is extracted but notebooks, read through size limits
(each member and in total); names that climb out (`..`, absolute), symbolic links, names
that are not UTF-8 and files that are not notebooks are reported and not written. Every
member gets exactly one status. Nothing in SUBMISSIONS is replaced silently: an existing,
different notebook is kept (`kept_existing`) unless `replace=True`.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.exercises import ASSIGNMENTS
from autograder.submissions import GradingError, Loaded, notebook_path, parse_notebook

MAX_MEMBER_BYTES = 20 * 2**20
"""Largest notebook collected (uncompressed); a course notebook with outputs is far smaller."""

MAX_TOTAL_BYTES = 2 * 2**30
"""Most bytes read out of one download (zip bombs)."""

MAX_MEMBERS = 50_000
"""Most entries a download may hold."""

CANVAS_NAME = re.compile(r"(?P<name>\w*?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<attachment>\d+)_"
                         r"(?P<file>.+)")
CANVAS_ANONYMOUS = re.compile(r"(?:LATE_)?anon_(?P<anonymous>[A-Za-z0-9]+)_(?P<attachment>\d+)_"
                              r"(?P<file>.+)")
MOODLE_FOLDER = re.compile(r"(?P<name>[^_/]*)_(?P<participant>\d+)_assignsubmission_"
                           r"(?P<plugin>[a-z0-9]+)_(?P<file>.*)")

MOODLE_BLIND = "Participant"
"""The name Moodle (in English) gives every student of a blind-marked assignment."""

STATUSES = {
    "collected": "written to SUBMISSIONS",
    "unchanged": "the same notebook is already in SUBMISSIONS",
    "replaced": "a different notebook in SUBMISSIONS was replaced (replace=True)",
    "kept_existing": "a different notebook is already in SUBMISSIONS and was kept",
    "folder": "a folder entry (nothing to collect)",
    "not_a_notebook": "not a .ipynb file",
    "unreadable_notebook": "a .ipynb file that is not a notebook the grader can read",
    "several_notebooks": "the student has more than one notebook in the download",
    "unrecognised_name": "the name is not one the LMS writes",
    "ambiguous_name": "two students of the same name in one Moodle download",
    "anonymous": "anonymous grading (Canvas) or blind marking (Moodle): no student id",
    "invalid_student_id": "the student id is not one SUBMISSIONS can hold",
    "unsafe_path": "a name that climbs out of the download, or a link in SUBMISSIONS",
    "symlink": "a symbolic link",
    "name_not_utf8": "a name that is not UTF-8",
    "too_large": "larger than the limit for one notebook",
    "total_too_large": "past the limit of bytes read from one download",
    "unreadable_member": "the zip entry cannot be read (corrupt or encrypted)",
}
"""Every status a member can get, and what it means."""


@dataclass(frozen=True)
class Collected:
    """What happened to one member of the download."""

    member: str
    """Its name in the download (undecodable bytes shown as escapes)."""
    student: str | None
    """The student id it belongs to, when its name says."""
    status: str
    """One of STATUSES."""
    message: str
    path: Path | None = None
    """The notebook in SUBMISSIONS it was compared with or written to."""


@dataclass
class _Member:
    name: str
    kind: str  # "file", "folder", "symlink"
    size: int
    handle: zipfile.ZipInfo | Path | None
    status: str | None = None
    message: str = ""
    student: str | None = None
    file: str = ""
    moodle_participant: str | None = None


def check_student_id(student: str) -> str | None:
    """Why `student` cannot name a folder of SUBMISSIONS, or None when it can.

    Parameters: `student`, a candidate id. The rules are those `discover` and the file
    system impose: not empty, no leading '.', no '/', '\\' or control character, at most 200
    bytes. Returns a sentence, or None.
    """
    if not student:
        return "the student id is empty"
    if student.startswith("."):
        return f"the student id {student!r} starts with '.', which SUBMISSIONS hides"
    if any(c in student for c in "/\\") or any(ord(c) < 32 or ord(c) == 127 for c in student):
        return f"the student id {student!r} holds a path separator or control character"
    if len(student.encode("utf-8", "surrogateescape")) > 200:
        return "the student id is longer than 200 bytes"
    return None


def collect(download: str | os.PathLike[str], submissions: str | os.PathLike[str], *,
            assignment: str, replace: bool = False, max_member_bytes: int = MAX_MEMBER_BYTES,
            max_total_bytes: int = MAX_TOTAL_BYTES) -> list[Collected]:
    """Lay an LMS download's notebooks out as SUBMISSIONS/<student>/<assignment>/.

    Parameters: `download`, a Canvas or Moodle zip of one assignment's submissions, or the
    folder it unzips to; `submissions`, the folder to add them to (created if absent);
    `assignment`, one of `autograder.exercises.ASSIGNMENTS`; `replace`, whether a different
    notebook already in SUBMISSIONS is replaced (default: kept and reported);
    `max_member_bytes` and `max_total_bytes`, the size limits. Returns one `Collected` per
    member, in the download's order. Raises GradingError when the assignment is unknown, the
    download is neither a zip nor a folder, or SUBMISSIONS is not a folder.
    """
    if assignment not in ASSIGNMENTS:
        raise GradingError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    target = Path(submissions)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise GradingError(f"{submissions} is not a folder; give --into the SUBMISSIONS folder "
                           "(it is created if absent)")
    source = Path(download)
    if source.is_dir():
        members = list(_folder_members(source))
        opened = None
    elif source.is_file():
        try:
            opened = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as error:
            raise GradingError(f"{download} is not a zip file ({error}); give the LMS's "
                               "download as it came, or the folder it unzips to") from None
        except UnicodeDecodeError:
            raise GradingError(f"{download} is a damaged zip: an entry says its name is UTF-8 "
                               "and it is not; download it again from the LMS") from None
        members = list(_zip_members(opened))
    else:
        raise GradingError(f"{download} does not exist; give the LMS's zip of the "
                           "assignment's submissions, or the folder it unzips to")
    try:
        if len(members) > MAX_MEMBERS:
            raise GradingError(f"{download} holds {len(members)} entries, more than "
                               f"{MAX_MEMBERS}; it is not an LMS download of one assignment")
        _classify(members)
        _settle(members, target, assignment, opened, replace=replace,
                max_member_bytes=max_member_bytes, max_total_bytes=max_total_bytes)
    finally:
        if opened is not None:
            opened.close()
    return [Collected(m.name, m.student, m.status or "unrecognised_name", m.message,
                      notebook_path(target, m.student, assignment)
                      if m.status in {"collected", "unchanged", "replaced", "kept_existing"}
                      and m.student else None)
            for m in members]


def _zip_members(archive: zipfile.ZipFile) -> Iterator[_Member]:
    for info in archive.infolist():
        name = info.filename
        if not info.flag_bits & 0x800:  # not flagged UTF-8: zipfile decoded it as cp437
            raw = name.encode("cp437")
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield _Member(raw.decode("utf-8", "backslashreplace"), "file", info.file_size,
                              info, "name_not_utf8", "the name is not UTF-8; rename the file "
                              "and add it by hand")
                continue
        mode = info.external_attr >> 16
        kind = ("symlink" if stat.S_ISLNK(mode) else
                "folder" if info.is_dir() else "file")
        yield _Member(name, kind, info.file_size, info)


def _folder_members(folder: Path) -> Iterator[_Member]:
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for entry in sorted(dirs) + sorted(files):
            path = Path(top) / entry
            relative = path.relative_to(folder).as_posix()
            try:
                relative.encode("utf-8")
            except UnicodeEncodeError:
                yield _Member(os.fsencode(relative).decode("utf-8", "backslashreplace"), "file",
                              0, path, "name_not_utf8", "the name is not UTF-8; rename the "
                              "file and add it by hand")
                continue
            info = os.lstat(path)
            kind = ("symlink" if stat.S_ISLNK(info.st_mode) else
                    "folder" if stat.S_ISDIR(info.st_mode) else "file")
            yield _Member(relative, kind, info.st_size, path)


def _safe_parts(name: str) -> list[str] | None:
    """The path's parts, or None if it is absolute or climbs out (`..`, drive, backslash)."""
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or "\x00" in name:
        return None
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return parts


def _classify(members: Sequence[_Member]) -> None:
    """Give each member its student (from its name) or a status that ends it."""
    for member in members:
        if member.status:
            continue
        parts = _safe_parts(member.name)
        if parts is None:
            member.status, member.message = "unsafe_path", ("the name climbs out of the "
                                                            "download (absolute or '..')")
            continue
        if member.kind == "symlink":
            member.status, member.message = "symlink", "symbolic links are not followed"
            continue
        if member.kind == "folder":
            member.status, member.message = "folder", "a folder entry"
            continue
        _name_student(member, parts)
    by_name: dict[str, set[str]] = defaultdict(set)
    for member in members:
        if member.moodle_participant is not None and member.student is not None:
            by_name[member.student].add(member.moodle_participant)
    for member in members:
        if (member.moodle_participant is not None and member.status is None
                and len(by_name.get(member.student or "", ())) > 1):
            member.status, member.message = "ambiguous_name", (
                f"{len(by_name[member.student or ''])} Moodle participants are named "
                f"{member.student!r}; add their notebooks by hand")


def _name_student(member: _Member, parts: list[str]) -> None:
    """Find the student in a file's name (Moodle folder, Moodle flat, Canvas)."""
    for index, part in enumerate(parts):
        found = MOODLE_FOLDER.fullmatch(part)
        if found:
            rest = [found["file"], *parts[index + 1:]] if found["file"] else parts[index + 1:]
            member.student = found["name"].strip()
            member.moodle_participant = found["participant"]
            member.file = "/".join(p for p in rest if p)
            if member.student == MOODLE_BLIND:
                member.status, member.message = "anonymous", (
                    "Moodle's blind marking hides the student; download again once the "
                    "identities are revealed")
                return
            break
    else:
        last = parts[-1] if parts else ""
        if CANVAS_ANONYMOUS.fullmatch(last):
            member.status, member.message = "anonymous", (
                "Canvas anonymised this submission; download again once the assignment's "
                "anonymity is lifted, so that the file names carry the student's id")
            return
        found = CANVAS_NAME.fullmatch(last)
        if not found:
            member.status, member.message = "unrecognised_name", (
                "not a name Canvas or Moodle gives a submission; add it by hand as "
                "SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb")
            return
        member.student, member.file = found["user"], found["file"]
    problem = check_student_id(member.student)
    if problem:
        member.status, member.message = "invalid_student_id", problem
        return
    if not member.file.lower().endswith(".ipynb"):
        member.status, member.message = "not_a_notebook", (
            f"{member.file or 'the entry'} is not a .ipynb notebook; only notebooks are graded")


def _settle(members: Sequence[_Member], target: Path, assignment: str,
            archive: zipfile.ZipFile | None, *, replace: bool, max_member_bytes: int,
            max_total_bytes: int) -> None:
    """Read, check and write each student's one notebook; give every other member a status."""
    candidates = [m for m in members if m.status is None]
    count = Counter(m.student for m in candidates)
    total = 0
    for member in candidates:
        student = member.student or ""
        if count[student] > 1:
            member.status, member.message = "several_notebooks", (
                f"{count[student]} notebooks for {student}; none collected: put the one to "
                f"grade at {student}/{assignment}/{assignment}.ipynb by hand")
            continue
        if member.size > max_member_bytes:
            member.status, member.message = "too_large", (
                f"{member.size} bytes, more than {max_member_bytes}")
            continue
        try:
            raw = _read(member, archive, max_member_bytes + 1)
        except (OSError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError) as error:
            member.status, member.message = "unreadable_member", (
                f"cannot read it from the download ({type(error).__name__}: {error})")
            continue
        if len(raw) > max_member_bytes:
            member.status, member.message = "too_large", (
                f"more than {max_member_bytes} bytes once uncompressed")
            continue
        total += len(raw)
        if total > max_total_bytes:
            member.status, member.message = "total_too_large", (
                f"the download holds more than {max_total_bytes} bytes of notebooks")
            continue
        loaded = parse_notebook(raw)
        if not isinstance(loaded, Loaded):
            member.status, member.message = "unreadable_notebook", loaded.message
            continue
        member.status, member.message = _write(target, student, assignment, raw, replace)


def _read(member: _Member, archive: zipfile.ZipFile | None, limit: int) -> bytes:
    """At most `limit` bytes of the member, without following a link."""
    if archive is not None and isinstance(member.handle, zipfile.ZipInfo):
        with archive.open(member.handle) as handle:
            return handle.read(limit)
    assert isinstance(member.handle, Path)
    fd = os.open(member.handle, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError("not a regular file")
        return handle.read(limit)


def _write(target: Path, student: str, assignment: str, raw: bytes,
           replace: bool) -> tuple[str, str]:
    """(status, message) of putting `raw` at SUBMISSIONS/<student>/<assignment>/."""
    path = notebook_path(target, student, assignment)
    where = f"{student}/{assignment}/{path.name}"
    for folder in (target, target / student, path.parent, path):
        if folder.is_symlink():
            return "unsafe_path", f"{folder} is a symbolic link; the grader follows none"
    if path.exists():
        if not path.is_file():
            return "unsafe_path", f"{where} exists and is not a file"
        if path.read_bytes() == raw:
            return "unchanged", f"{where} already holds this notebook"
        if not replace:
            return "kept_existing", (f"{where} holds a different notebook, kept; collect again "
                                     "with --replace to take the download's")
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
    tmp.replace(path)
    if existed:
        return "replaced", f"replaced the different notebook at {where}"
    return "collected", f"written to {where}"


def describe_collected(collected: Sequence[Collected]) -> str:
    """A short table for the terminal: one line per member (student, status, what happened).

    Parameters: `collected`, as `collect` returns it. Returns the table and a last line
    counting each status.
    """
    if not collected:
        return "the download holds no files"
    width = min(max(len(c.member) for c in collected), 60)
    student_width = min(max(len(c.student or "-") for c in collected), 30)
    lines = [f"{'file':<{width}}  {'student':<{student_width}}  {'status':<19}  what happened"]
    for c in collected:
        member = c.member if len(c.member) <= width else "..." + c.member[-(width - 3):]
        lines.append(f"{member:<{width}}  {c.student or '-':<{student_width}}  "
                     f"{c.status:<19}  {c.message}")
    counts = Counter(c.status for c in collected)
    lines.append(", ".join(f"{status} {n}" for status, n in sorted(counts.items())))
    return "\n".join(lines)
