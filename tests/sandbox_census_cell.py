# The source of a code cell added to a submission by tests/test_sandbox_census.py; it runs in
# the student's kernel during real grading. The test prepends its settings:
#   MODE          "census": walk every path, report what the allow-list should not allow;
#                 "write": also leave SECRET in every writable place and a process behind;
#                 "read": look everywhere for what a "write" kernel left.
#   TOKEN         a word unique to this run, in every file name this cell writes
#   READ_ALLOWED  paths (and what lies below them) the kernel may read
#   WRITE_ALLOWED paths (and what lies below them) the kernel may write (its private tmpfs)
# It prints one line "CENSUS:<base64 of a JSON report>:END", read back from the feedback.
# ruff: noqa: F821  (the settings above are defined by the test, before this source)
import base64 as _base64
import json as _json
import os as _os
import stat as _stat
import subprocess as _subprocess
import sys as _sys


def _census():
    connection = _json.load(open("/kernel/connection.json"))
    sockets = _os.path.dirname(connection["ip"])  # the kernel's own socket folder
    write_allowed = [*WRITE_ALLOWED, sockets]

    def under(path, roots):
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    report = {"mode": MODE, "uid": _os.getuid(), "sockets": sockets,
              "hostname": _os.uname().nodename, "readable_outside": [],
              "writable_outside": [], "written": [], "walk_errors": [],
              "readable_counts": {r: 0 for r in READ_ALLOWED}, "found": [],
              "directories": 0, "files": 0}
    name = f"census-{TOKEN}-{MODE}"

    def visit_dir(top):
        report["directories"] += 1
        try:
            with open(_os.path.join(top, name), "x") as handle:
                handle.write(SECRET if MODE == "write" else TOKEN)
        except OSError:
            return
        report["written"].append(top)
        if not under(top, write_allowed):
            report["writable_outside"].append(top)

    def visit_file(path):
        try:
            mode = _os.lstat(path).st_mode
        except OSError as error:
            report["walk_errors"].append(f"{path}: {error}")
            return
        if not _stat.S_ISREG(mode):
            return
        report["files"] += 1
        if MODE == "read" and ("census-" in path and "-write" in path):
            report["found"].append(path)
        readable = _os.access(path, _os.R_OK)
        if readable:
            roots = [r for r in READ_ALLOWED if under(path, [r])]
            if roots:
                report["readable_counts"][roots[0]] += 1
            else:
                report["readable_outside"].append(path)
        if MODE == "read" and readable and under(path, write_allowed):
            try:
                with open(path, "rb") as handle:
                    if SECRET.encode() in handle.read(2**20):
                        report["found"].append(path)
            except OSError:
                pass
        if not path.startswith("/proc/") and _os.access(path, _os.W_OK):
            if not under(path, write_allowed):
                report["writable_outside"].append(path)

    def walk(top, prune):
        for folder, dirs, files in _os.walk(top, onerror=lambda e: report["walk_errors"].append(
                f"{e.filename}: {e.strerror}")):
            dirs[:] = [d for d in dirs if _os.path.join(folder, d) not in prune]
            if not folder.startswith("/proc"):
                visit_dir(folder)
            for each in files:
                visit_file(_os.path.join(folder, each))

    # Everything from /, without following symlinks; of /proc only this process's own
    # entry (other entries describe the kernel and its settings, not files), no /sys.
    walk("/", prune={"/proc", "/sys"})
    walk("/proc/self", prune=set())
    # processes: another kernel's leftovers would show in /proc
    for pid in (p for p in _os.listdir("/proc") if p.isdigit()):
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if MODE == "read" and SECRET in cmdline:
            report["found"].append(f"process {pid}: {cmdline}")
    if MODE == "write":
        report["left_process"] = _subprocess.Popen(
            [_sys.executable, "-c", "import time; time.sleep(3600)", SECRET],
            start_new_session=True).pid
    return report


print("CENSUS:" + _base64.b64encode(_json.dumps(_census()).encode()).decode() + ":END")
