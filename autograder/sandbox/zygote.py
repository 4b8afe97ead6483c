"""The kernel zygote: one per grading worker, inside that worker's bubblewrap sandbox.

It runs with the sandbox's Python and the standard library only (`autograder` cannot be
imported inside). It imports once what every kernel needs (the kernel machinery, numpy,
matplotlib, course_lib), never runs student code, and forks a fresh kernel for each
submission:

    zygote   root inside the sandbox, with CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID and
     |       CAP_SETPCAP only; a child subreaper
     `- init     pid 1 of a new pid namespace, in new mount and IPC namespaces: it mounts
        |        fresh private tmpfs on every scratch place (work folder, /tmp, /var/tmp,
        |        /dev/shm, /run), a new /proc and the connection file, read-only; it reaps,
        |        and exits with the kernel, which kills every process of the namespace
        `- kernel    a session of its own, the limits, the kernel's user, no capabilities
                     (bounding, inheritable), no_new_privs; then ipykernel on the file

so each kernel is as fresh as one started from nothing (a fork of a process that has only
imported modules; numpy's global generator is reseeded from the OS, as Python's `random`
is by Python itself), and sees what a kernel started by bubblewrap alone would see.

Protocol, one JSON object per line: the worker writes on the zygote's stdin, the zygote
answers on its stdout (moved away from fd 1 at start, so that nothing else writes there).

    -> {"config": {...}}                 first line (see `Config`); <- {"ready": true}
    -> {"start": ID, "connection": {...}}  <- {"started": ID} or {"failed": ID, "error": S}
    -> {"start": ID, "probe": true}      a kernel that checks who it is and exits 0
    -> {"kill": ID}                      SIGKILL to the kernel's init: its namespace dies
    <- {"exited": ID, "status": N}       a kernel's namespace is gone (N: init's status)

End of stdin (the worker stopped or died): every kernel is killed and the zygote exits.
"""

import ctypes
import json
import os
import resource
import select
import signal
import sys
import traceback

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x08000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_MOVE, MS_REC, MS_PRIVATE = 32, 8192, 16384, 1 << 18
MNT_DETACH = 2
PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 24, 36, 38
CAPABILITY_VERSION_3 = 0x20080522
HOLD = "/.hold"
"""An empty folder of the sandbox's root: runtime folders that lie under a scratch place
wait here while their place gets its fresh tmpfs."""

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source and source.encode(), target.encode(),
                       fstype and fstype.encode(), ctypes.c_ulong(flags),
                       data and data.encode()), f"mount {target}")


def _prctl(option, value):
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_capabilities():
    """Empty the bounding set, then (once the kernel's user) every other set."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows


def _clear_capability_sets():
    header, data = _CapHeader(CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


# --- the kernel, inside its own namespaces ------------------------------------------------


def _init(config, connection):
    """pid 1 of the kernel's namespaces: its private mounts, then the kernel; reaps."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    keep = config["keep"]
    for index, path in enumerate(keep):  # a runtime under /tmp survives its fresh tmpfs
        if index == 0:
            _mount("tmpfs", HOLD, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0700")
        os.mkdir(f"{HOLD}/{index}")
        _mount(path, f"{HOLD}/{index}", None, MS_MOVE)
    for path, size in config["scratch"].items():
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    for index, path in enumerate(keep):
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"{HOLD}/{index}", path, None, MS_MOVE)
    if keep:
        _check(_libc.umount2(HOLD.encode(), MNT_DETACH), "umount the hold")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    folder = os.path.dirname(config["connection_file"])
    _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")
    if connection is not None:
        with open(config["connection_file"], "w") as handle:
            json.dump(connection, handle)
        os.chmod(config["connection_file"], 0o444)
    _mount(None, folder, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(config["work_dir"])
    kernel = os.fork()
    if kernel == 0:
        _kernel(config, probe=connection is None)
    while True:
        pid, status = os.wait()
        if pid == kernel:
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)


def _kernel(config, probe):
    """The student's kernel: a session of its own, the limits, the kernel's user."""
    try:
        os.setsid()
        for name, value in config["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (value, value))
        uid = config["uid"]
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        _drop_capabilities()
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        os.setresuid(uid, uid, uid)
        _clear_capability_sets()
        if "numpy.random" in sys.modules:  # a fork shares its parent's generator
            sys.modules["numpy.random"].seed()
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path[:] = [p for p in sys.path if p not in ("", here)]
        if probe:
            import numpy  # noqa: F401  the runtime is there, read as the kernel's user
            os._exit(0 if os.getuid() == uid and os.getcwd() == config["work_dir"] else 3)
        sys.argv = ["ipykernel_launcher", "-f", config["connection_file"], *config["argv"]]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0
    except BaseException:
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


def _spawn(config, connection, report):
    """Between the zygote and init: new namespaces, init forked into them; init's pid (as
    the zygote sees it) or the error goes to `report`. Never returns."""
    try:
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
        init = os.fork()
        if init == 0:
            os.close(report)
            try:
                _init(config, connection)
            except BaseException:
                traceback.print_exc()
            os._exit(1)
        message = {"pid": init}
    except BaseException as error:
        message = {"error": f"{type(error).__name__}: {error}"}
    os.write(report, json.dumps(message).encode())
    os._exit(0)


# --- the zygote -----------------------------------------------------------------------------


class Zygote:
    """The loop: requests from the worker, kernels' exits from SIGCHLD."""

    def __init__(self, requests, answers):
        self.requests, self.answers = requests, answers
        self.kernels = {}  # init's pid -> the worker's id for it
        self.config = None
        self.buffer = b""
        self.wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        self.wake_write = wake_write

    def send(self, message):
        os.write(self.answers, (json.dumps(message) + "\n").encode())

    def run(self):
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        while True:
            ready, _, _ = select.select([self.requests, self.wake_read], [], [])
            if self.wake_read in ready:
                os.read(self.wake_read, 4096)
                self.reap()
            if self.requests in ready:
                data = os.read(self.requests, 65536)
                if not data:
                    self.stop()
                self.buffer += data
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    if line.strip():
                        self.handle(json.loads(line))

    def handle(self, request):
        if "config" in request:
            self.config = request["config"]
            for module in self.config["preload"]:
                __import__(module)
            self.send({"ready": True})
        elif "start" in request:
            self.start(request["start"], request.get("connection"))
        elif "kill" in request:
            for pid, ident in self.kernels.items():
                if ident == request["kill"]:
                    os.kill(pid, signal.SIGKILL)

    def start(self, ident, connection):
        read, write = os.pipe()
        middle = os.fork()
        if middle == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (read, self.requests, self.answers, self.wake_read, self.wake_write):
                os.close(fd)
            _spawn(self.config, connection, write)
        os.close(write)
        chunks = []
        while chunk := os.read(read, 4096):
            chunks.append(chunk)
        os.close(read)
        os.waitpid(middle, 0)
        try:
            message = json.loads(b"".join(chunks) or b"{}")
        except ValueError:
            message = {}
        if "pid" in message:
            self.kernels[message["pid"]] = ident
            self.send({"started": ident})
        else:
            self.send({"failed": ident, "error": message.get("error", "no answer")})

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.kernels:
                code = os.waitstatus_to_exitcode(status)
                self.send({"exited": self.kernels.pop(pid),
                           "status": code if code >= 0 else 128 - code})

    def stop(self):
        for pid in self.kernels:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os._exit(0)


def main():
    requests, answers = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # a kernel's stray prints go where its errors go
    os.close(null)
    Zygote(requests, answers).run()


if __name__ == "__main__":
    main()
