"""Run each student's kernel isolated: namespaces, an unprivileged user, resource limits.

The kernel is started by `kernel-launch.sh` under `unshare` in new mount, network,
PID, IPC and UTS namespaces. Inside, the masters, the grader's code, the git
history, the gradebook, other students' work and other kernels' connection files
are covered by empty file systems; only the submission's own working folder and
its socket folder are put back. The kernel then runs as an unprivileged user
with limits on memory, CPU time, processes, file size and open files, and talks
to the grader over Unix sockets (there is no network inside).

Where namespaces are not available (not root, or a kernel without them), the
kernel runs with the resource limits only, and the grader says so.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir

from autograder.course import AUTOGRADER_DIR, REPO_DIR

KERNEL_NAME = "course-sandbox"
LAUNCHER = Path(__file__).resolve().parent / "kernel-launch.sh"
RUN_DIR = Path("/run/course-grader")
HOLD_DIR = Path("/run/course-sandbox")


@dataclass
class Limits:
    """Per-kernel limits; the defaults fit the course's notebooks with a wide margin."""

    memory_bytes: int = 4 * 2**30
    cpu_seconds: int = 600
    processes: int = 128
    file_bytes: int = 64 * 2**20
    tmp_size: str = "256m"


def namespaces_available():
    """(True, '') if this process can create the namespaces, else (False, why not)."""
    if os.geteuid() != 0:
        return False, "the grader is not running as root"
    for tool in ("unshare", "setpriv", "prlimit", "mount"):
        if shutil.which(tool) is None:
            return False, f"`{tool}` (util-linux) is not installed"
    probe = subprocess.run(
        ["unshare", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
         "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return False, f"unshare failed: {probe.stderr.strip()[:200]}"
    return True, ""


def describe(enabled, reason, limits):
    """One line for the terminal saying what isolation is applied."""
    common = (f"memory {limits.memory_bytes // 2**20} MiB, CPU {limits.cpu_seconds} s, "
              f"{limits.processes} processes, files {limits.file_bytes // 2**20} MiB")
    if enabled:
        return ("isolation: namespaces (mount, network, pid, ipc, uts), unprivileged user, "
                f"hidden masters and other submissions; {common}")
    return (f"isolation: WARNING namespaces unavailable ({reason}); applied only resource "
            f"limits ({common}) - kernels can read files and reach the network")


def install_kernel(worker_dir, *, hide, limits, enabled, uid):
    """Write a kernelspec for the sandboxed kernel; return the config overrides that use it.

    Parameters
    ----------
    worker_dir : Path
        This worker's scratch folder; the kernelspec goes in `worker_dir/share`.
    hide : list of str
        Folders the kernel must not see (besides /tmp, which it always gets empty).
    limits : Limits
    enabled : bool
        Whether namespaces can be used (see `namespaces_available`).
    uid : int
        The unprivileged user id the kernel runs as (one per worker).
    """
    spec_dir = Path(worker_dir) / "share" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    ipc_dir = RUN_DIR / f"worker-{os.getpid()}"
    ipc_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(ipc_dir, 0o777)
    rlimits = ["prlimit", f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}",
               f"--fsize={limits.file_bytes}", "--core=0", "--"]
    if enabled:
        argv = ["unshare", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork",
                "--kill-child", "--mount-proc", "sh", str(LAUNCHER), "{connection_file}"]
        env = {"SANDBOX_HOLD": str(HOLD_DIR / f"worker-{os.getpid()}"),
               "SANDBOX_SHOW": str(ipc_dir),
               "SANDBOX_READ": ":".join(str(p) for p in paths_to_read()),
               "SANDBOX_HIDE": ":".join(str(p) for p in hide),
               "SANDBOX_UID": str(uid), "SANDBOX_PYTHON": sys.executable,
               "SANDBOX_MEMORY": str(limits.memory_bytes),
               "SANDBOX_CPU": str(limits.cpu_seconds),
               "SANDBOX_NPROC": str(limits.processes),
               "SANDBOX_FSIZE": str(limits.file_bytes), "SANDBOX_TMP_SIZE": limits.tmp_size}
    else:
        argv = [*rlimits, sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        env = {}
    spec = {"argv": argv, "display_name": "Python 3 (grading sandbox)", "language": "python",
            "interrupt_mode": "message", "env": env}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(Path(worker_dir) / "share"), *filter(None, [os.environ.get("JUPYTER_PATH")])])
    overrides = {"Execute.kernel_name": KERNEL_NAME}
    if enabled:
        overrides.update({"KernelManager.transport": "ipc",
                          "KernelManager.ip": str(ipc_dir / "kernel")})
    return overrides


def paths_to_read():
    """What the kernel must read wherever it lies: the course's code and Python itself."""
    wanted = [REPO_DIR, Path(sys.prefix), Path(sys.base_prefix)]
    unique = []
    for path in (p.resolve() for p in wanted):
        if not any(path == u or u in path.parents for u in unique):
            unique = [u for u in unique if path not in u.parents] + [path]
    return unique


def paths_to_hide(out_dir, submissions_dir):
    """What a student's kernel must not see while a submission is graded."""
    return [AUTOGRADER_DIR, REPO_DIR / ".git", Path(out_dir).resolve(),
            Path(submissions_dir).resolve(), Path(jupyter_runtime_dir()), RUN_DIR]
