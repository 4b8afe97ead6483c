"""The kernel sandbox: its kernelspec, what the kernel runs with, and the fallback without it.

What the kernel can see and write is checked by a census during real grading
(tests/test_sandbox_census.py); here each piece is checked on its own, with real kernels.
"""

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

from autograder import sandbox
from autograder.course import REPO_DIR

LIMITS = sandbox.Limits(memory_bytes=2**31, cpu_seconds=77, processes=99,
                        file_bytes=3 * 2**20, open_files=333)
RLIMITS = {"--as": "RLIMIT_AS", "--cpu": "RLIMIT_CPU", "--fsize": "RLIMIT_FSIZE",
           "--nofile": "RLIMIT_NOFILE", "--core": "RLIMIT_CORE", "--nproc": "RLIMIT_NPROC"}


def _require_sandbox():
    enabled, reason = sandbox.namespaces_available()
    if not enabled:
        pytest.fail(f"these tests need the bubblewrap sandbox, which cannot run here: {reason}")


@pytest.fixture
def jupyter_path():
    old = os.environ.get("JUPYTER_PATH")
    yield
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


def _install(tmp_path, enabled, uid=61999):
    overrides = sandbox.install_kernel(tmp_path, limits=LIMITS, enabled=enabled, uid=uid)
    spec = json.loads((tmp_path / "share" / "kernels" / sandbox.KERNEL_NAME /
                       "kernel.json").read_text())
    return overrides, spec


def _run_cells(tmp_path, overrides, sources, stream="stdout"):
    """Run code cells in a kernel of the installed kernelspec; return what each cell wrote
    to `stream` ("stdout" or "stderr")."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    kwargs = {}
    if "KernelManager.transport" in overrides:
        kwargs["km"] = AsyncKernelManager(
            kernel_name=sandbox.KERNEL_NAME, transport=overrides["KernelManager.transport"],
            ip=overrides["KernelManager.ip"])
    client = NotebookClient(nb, kernel_name=sandbox.KERNEL_NAME, timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}}, **kwargs)
    try:
        client.execute()
    finally:
        if "km" in kwargs:  # nbclient stops only the kernels it started itself
            run_sync(kwargs["km"].shutdown_kernel)(now=True)
    return ["".join(o["text"] for o in c.outputs
                    if o.output_type == "stream" and o.name == stream)
            for c in nb.cells]


RLIMIT_CELL = ("import json, resource\nprint(json.dumps({n: resource.getrlimit(getattr("
               f"resource, n))[0] for n in {sorted(RLIMITS.values())!r}}}))")


def test_describe_says_what_is_applied_and_warns_loudly_without_the_sandbox():
    on = sandbox.describe(True, "", LIMITS)
    off = sandbox.describe(False, "the grader is not running as root", LIMITS)
    assert "bubblewrap allow-list" in on and "no network" in on and "unprivileged" in on
    assert "2048 MiB" in on and "77 s" in on and "99 processes" in on and "333 open" in on
    assert "scratch space 256 MiB" in on
    assert off.startswith("isolation: WARNING no sandbox (the grader is not running as root)")
    for missing in ("NO filesystem isolation", "network reachable", "no limit on processes",
                    "grader's own user"):
        assert missing in off
    # only what is applied is stated as applied
    assert "99 processes" not in off and "2048 MiB" in off


def test_scratch_space_adds_up_to_the_limit():
    sizes = sandbox.scratch_sizes(LIMITS)
    assert set(sizes) == {sandbox.WORK_DIR, "/tmp", "/var/tmp", "/dev/shm", "/run"}
    assert sum(sizes.values()) <= LIMITS.scratch_bytes and min(sizes.values()) > 0


def test_course_lib_is_copied_without_anything_else(tmp_path):
    import course_lib

    source = Path(course_lib.__file__).parent
    target = sandbox.stage_course_lib(tmp_path / "stage")
    copied = {p.relative_to(target / "course_lib") for p in target.rglob("*") if p.is_file()}
    expected = {p.relative_to(source) for p in source.rglob("*")
                if p.is_file() and p.suffix in sandbox.COURSE_LIB_SUFFIXES
                and "__pycache__" not in p.parts}
    assert copied == expected and Path("probe.py") in copied
    assert all(oct(p.stat().st_mode)[-3:] == "444" for p in target.rglob("*.py"))


def test_sandboxed_kernelspec_binds_nothing_of_the_repository_but_the_environment(
        tmp_path, jupyter_path):
    _require_sandbox()
    overrides, spec = _install(tmp_path, True)
    argv = spec["argv"]
    assert argv[:3] == ["setpriv", "--pdeathsig", "TERM"]
    bwrap = argv.index(sandbox.bwrap_path())
    for flag in ("--die-with-parent", "--new-session", "--unshare-net", "--unshare-pid",
                 "--clearenv", "--remount-ro"):
        assert flag in argv[bwrap:], flag
    sources = [Path(argv[i + 1]) for i, a in enumerate(argv)
               if a in ("--bind", "--ro-bind", "--ro-bind-try")]
    allowed_inside_repo = Path(sys.prefix).absolute()
    for source in sources:
        inside = source == REPO_DIR or REPO_DIR in source.parents
        assert not inside or source == allowed_inside_repo, source
    assert overrides["KernelManager.transport"] == "ipc"
    provisioner = spec["metadata"]["kernel_provisioner"]
    assert provisioner["provisioner_name"] == sandbox.PROVISIONER
    sockets = Path(provisioner["config"]["sockets"])  # the kernel's own, in the bound folder
    assert Path(overrides["KernelManager.ip"]).parent == sockets
    assert sockets.parent == Path(spec["env"]["SANDBOX_SOCKETS"])
    assert argv[-2:] == [sys.executable, sandbox.ZYGOTE_INSIDE]


def test_sandboxed_kernel_runs_as_an_unprivileged_user_under_every_limit(
        tmp_path, jupyter_path):
    _require_sandbox()
    overrides, _ = _install(tmp_path, True, uid=61998)
    rlimits, who, imports, status = _run_cells(tmp_path, overrides, [
        RLIMIT_CELL,
        "import os\nprint(os.getuid(), os.getcwd(), sorted(os.listdir('/')))",
        "import course_lib\nprint(course_lib.__file__)\n"
        "try:\n    import autograder\nexcept ImportError:\n    print('no autograder')",
        "print(open('/proc/self/status').read())"])
    # every capability set empty, no way to gain one, every id the kernel's user
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(fields[name], 16) == 0, (name, fields[name])
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Uid"].split() == ["61998"] * 4 and fields["Gid"].split() == ["61998"] * 4
    assert fields["Groups"].strip() == ""
    applied = sandbox.applied_limits(LIMITS, True)
    assert json.loads(rlimits) == {RLIMITS[k]: v for k, v in applied.items()}
    uid, cwd, _ = who.split(" ", 2)  # what the kernel can see: the census
    assert (uid, cwd) == ("61998", sandbox.WORK_DIR)
    assert imports.split() == [f"{sandbox.COURSE_LIB_DIR}/course_lib/__init__.py",
                               "no", "autograder"]


def test_kernels_forked_from_one_zygote_draw_different_random_numbers(tmp_path, jupyter_path):
    """A fork copies its parent's generators: numpy's global one is reseeded from the OS in
    each kernel (Python's `random` is reseeded by Python itself at a fork)."""
    _require_sandbox()
    overrides, _ = _install(tmp_path, True, uid=61994)
    cell = ("import random, numpy as np\n"
            "print(np.random.rand(), random.random(), np.random.default_rng().random())")
    draws = [_run_cells(tmp_path, overrides, [cell])[0].split() for _ in range(3)]
    for column in zip(*draws, strict=True):
        assert len(set(column)) == 3, draws


def test_fallback_kernel_applies_the_limits_it_states_and_runs(tmp_path, jupyter_path):
    overrides, spec = _install(tmp_path, False)
    assert spec["argv"][0] == "prlimit" and "KernelManager.transport" not in overrides
    assert not any("bwrap" in a for a in spec["argv"])
    (rlimits,) = _run_cells(tmp_path, overrides, [RLIMIT_CELL])
    applied = sandbox.applied_limits(LIMITS, False)
    expected = {RLIMITS[k]: v for k, v in applied.items()}
    expected["RLIMIT_NPROC"] = resource.getrlimit(resource.RLIMIT_NPROC)[0]  # not applied
    assert json.loads(rlimits) == expected
    assert "--nproc" not in applied


def test_fallback_kernel_leaves_the_graders_ipython_history_alone(tmp_path, jupyter_path,
                                                                   monkeypatch):
    # The grader's history database, already larger than the kernel's file-size limit:
    # a kernel that wrote to it would fail with "disk I/O error" in its output.
    ipython_dir = tmp_path / "ipython"
    history = ipython_dir / "profile_default" / "history.sqlite"
    history.parent.mkdir(parents=True)
    with sqlite3.connect(history) as db:
        db.execute("CREATE TABLE padding (data BLOB)")
        db.execute("INSERT INTO padding VALUES (?)", (b"x" * (LIMITS.file_bytes + 2**20),))
    before = history.stat()
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    overrides, _ = _install(tmp_path, False)
    stderr = _run_cells(tmp_path, overrides, ["x = 1", "print(x)", "x + 1"], stream="stderr")
    assert stderr == ["", "", ""]
    after = history.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert [p.name for p in history.parent.glob("history*")] == ["history.sqlite"]


KEEPER = """
import os, sys, time
from jupyter_client import KernelManager
from autograder import sandbox
overrides = sandbox.install_kernel(sys.argv[1], limits=sandbox.Limits(),
                                   enabled=True, uid=int(sys.argv[2]))
km = KernelManager(kernel_name=sandbox.KERNEL_NAME, transport="ipc",
                   ip=overrides["KernelManager.ip"])
km.start_kernel()
if sys.argv[3] != "ready":  # die while the kernel is still starting
    time.sleep(float(sys.argv[3]))
    os._exit(0)
client = km.client()
client.start_channels()
client.wait_for_ready(timeout=120)
print("ready", flush=True)
time.sleep(3600)
"""
"""A grading worker with one sandboxed kernel: it waits with the kernel ready (argv[3] is
"ready"), or dies argv[3] seconds after asking for it."""


def _processes_of(uid):
    ps = subprocess.run(["ps", "-o", "pid=,args=", "-u", str(uid)], capture_output=True,
                        text=True)
    return ps.stdout.splitlines()


def test_no_kernel_outlives_a_killed_grader(tmp_path):
    _require_sandbox()
    uid = 61997
    keeper = subprocess.Popen([sys.executable, "-c", textwrap.dedent(KEEPER), str(tmp_path),
                               str(uid), "ready"], stdout=subprocess.PIPE, text=True,
                              cwd=REPO_DIR)
    try:
        assert keeper.stdout.readline().strip() == "ready"
        assert _processes_of(uid), "the kernel should be running as its own user"
    finally:
        os.kill(keeper.pid, signal.SIGKILL)
        keeper.wait()
    for _ in range(100):  # the kernel gets SIGKILL from the kernel: wait until it is reaped
        if not _processes_of(uid):
            break
        time.sleep(0.1)
    assert _processes_of(uid) == []
    stage = sandbox.RUN_DIR / f"worker-{keeper.pid}"
    assert stage.is_dir()  # killed before it could clean up: the next worker removes it
    sandbox.prune_stale_workers()
    assert not stage.exists()


def _sandbox_processes(stage):
    """Host processes whose command line names the worker's staging folder (bwrap's binds)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(stage) in (entry / "cmdline").read_text():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.15, 0.4, 1.0])
def test_no_kernel_outlives_a_worker_killed_while_it_starts(tmp_path, delay):
    """At any moment of a kernel's start, the worker's death takes the whole sandbox along
    (bwrap's own parent-death signal is set only once bwrap runs: the launcher covers the
    time before)."""
    _require_sandbox()
    uid = 61996
    starter = subprocess.Popen([sys.executable, "-c", textwrap.dedent(KEEPER),
                                str(tmp_path), str(uid), str(delay)], cwd=REPO_DIR)
    assert starter.wait(timeout=120) == 0
    stage = sandbox.RUN_DIR / f"worker-{starter.pid}"
    time.sleep(3)  # a launcher that missed the worker's death would have started by now
    for _ in range(100):
        if not _processes_of(uid) and not _sandbox_processes(stage):
            break
        time.sleep(0.1)
    assert _processes_of(uid) == [] and _sandbox_processes(stage) == []
    sandbox.prune_stale_workers()


LAUNCHING_WORKER = """
import os, subprocess, sys, time
from autograder import sandbox
folder, marker, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
env = {**os.environ, "SANDBOX_SOCKETS": folder + "/sockets", "SANDBOX_UID": "61995",
       "SANDBOX_WORKER_PID": str(os.getpid())}
open(folder + "/connection.json", "w").close()
subprocess.Popen(["setpriv", "--pdeathsig", "TERM", "--", "sh", str(sandbox.LAUNCHER),
                  folder + "/connection.json", "sleep", marker], env=env)
time.sleep(delay)
os._exit(0)
"""
"""A worker that starts the launcher on a command that never asks for a parent-death signal
of its own (as bwrap before it has set one), then dies `argv[3]` seconds later."""


def _with_marker(marker):
    return _sandbox_processes(f"sleep\0{marker}")


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_the_launcher_takes_its_command_along_when_the_worker_dies(tmp_path, delay):
    """Whether the worker dies before the launcher runs (no signal can come) or after
    (the parent-death signal), nothing the launcher started is left."""
    _require_sandbox()
    marker = f"{900 + delay:.3f}{os.getpid() % 1000}"
    worker = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LAUNCHING_WORKER),
                               str(tmp_path), marker, str(delay)], cwd=REPO_DIR)
    assert worker.wait(timeout=60) == 0
    time.sleep(1.5)
    for _ in range(50):
        if not _with_marker(marker):
            break
        time.sleep(0.1)
    assert _with_marker(marker) == []

