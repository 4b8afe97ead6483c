"""The grading worker's side of the kernel zygote: jupyter_client starts kernels through it.

A sandboxed kernelspec (see `autograder.sandbox.install_kernel`) names the provisioner
`course-sandbox` (an entry point of this package). Its kernel command starts the worker's
zygote (`zygote.py`, in the bubblewrap sandbox, once per worker); each kernel is then a
fork of the zygote into namespaces and tmpfs of its own, under the kernel's user and the
limits. The zygote answers over a pipe; a thread of the worker reads its answers, so that
a kernel's death is known at once (jupyter_client polls `poll`).

    >>> from autograder.sandbox.provisioner import ZygoteProvisioner
    >>> ZygoteProvisioner.__mro__[1].__name__
    'LocalProvisioner'
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Dict, Int, Unicode

READY_SECONDS = 120.0
"""How long a new zygote may take to import what kernels need (a loaded machine)."""
BIND_SECONDS = 60.0
"""How long a new kernel may take to listen before jupyter_client's own wait takes over."""
KILL_SECONDS = 5.0
"""How long `kill` waits for the zygote to report the kernel's namespace gone."""
POLL_SECONDS = 0.002
"""How often a kernel's end is looked for while waiting for it (a dictionary lookup)."""
STOP_SECONDS = 5.0
"""How long `Zygote.stop` waits at each step (end of input, SIGTERM, SIGKILL)."""


class ZygoteError(RuntimeError):
    """The zygote could not start, or could not start a kernel."""


class Zygote:
    """One worker's zygote process: start kernels, kill them, learn when they end.

    Parameters
    ----------
    command : list of str
        The command that starts the zygote in its sandbox (the kernelspec's argv).
    env : mapping
        Its environment (the launcher reads SANDBOX_* from it).
    config : mapping
        The zygote's `config` line (see zygote.py): what to preload, the kernel's user,
        limits, scratch places, connection file and kernel arguments.
    stderr : file, optional
        Where the zygote's and its kernels' errors go (default: this process's stderr).
    """

    def __init__(self, command: Sequence[str], env: Mapping[str, str] | None,
                 config: Mapping[str, Any], *, stderr: Any = None) -> None:
        self.command = list(command)
        self._lock = threading.Condition()
        self._answers: dict[int, dict] = {}
        self._exits: dict[int, int] = {}
        self._ready = False
        self._dead: str | None = None
        self._next = 0
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=dict(env or os.environ),
                                        stderr=stderr, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name="kernel-zygote-reader")
        self._reader.start()
        self._send({"config": dict(config)})

    def wait_ready(self) -> None:
        """Block until the zygote has imported what kernels need; ZygoteError if it died."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._ready or self._dead, READY_SECONDS):
                self._dead = f"it did not get ready in {READY_SECONDS:.0f} s"
            dead = self._dead if not self._ready else None
        if dead:
            self.stop()
            raise ZygoteError(f"the kernel zygote could not start: {dead}")

    @property
    def alive(self) -> bool:
        return self._dead is None and self.process.poll() is None

    def _send(self, message: Mapping[str, Any]) -> None:
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as error:
            with self._lock:
                self._dead = self._dead or f"its pipe broke ({error})"
                self._lock.notify_all()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                if "ready" in message:
                    self._ready = True
                elif "exited" in message:
                    self._exits[message["exited"]] = int(message["status"])
                else:
                    self._answers[message.get("started", message.get("failed"))] = message
                self._lock.notify_all()
        status = self.process.wait()
        with self._lock:
            self._dead = self._dead or f"it exited with status {status}"
            self._lock.notify_all()

    def start(self, connection: Mapping[str, Any] | None) -> int:
        """Fork a kernel on `connection` (None: a probe); return its id."""
        self.wait_ready()
        with self._lock:
            self._next += 1
            ident = self._next
        self._send({"start": ident, "connection": connection} if connection is not None
                   else {"start": ident, "probe": True})
        with self._lock:
            self._lock.wait_for(lambda: ident in self._answers or self._dead, READY_SECONDS)
            answer = self._answers.pop(ident, None)
            if answer is None:
                raise ZygoteError(f"the kernel zygote died: {self._dead or 'no answer'}")
        if "failed" in answer:
            raise ZygoteError(f"the kernel zygote could not start a kernel: {answer['error']}")
        return ident

    def exit_status(self, ident: int) -> int | None:
        """The kernel's exit status, or None while it runs (-1: the zygote itself died)."""
        with self._lock:
            if ident in self._exits:
                return self._exits[ident]
            return -1 if self._dead else None

    def wait(self, ident: int, timeout: float | None = None) -> int | None:
        """Block until the kernel `ident` ends (or `timeout`); its status, or None."""
        with self._lock:
            self._lock.wait_for(lambda: ident in self._exits or self._dead, timeout)
        return self.exit_status(ident)

    def forget(self, ident: int) -> None:
        with self._lock:
            self._exits.pop(ident, None)

    def kill(self, ident: int) -> None:
        """SIGKILL to the kernel's namespace (every process the student started goes too)."""
        self._send({"kill": ident})

    def stop(self) -> None:
        """End the zygote and every kernel it has: the end of its stdin tells it; if it
        does not end, its launcher is told (it kills the sandbox), then killed."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        for stop in (None, self.process.terminate, self._kill_group):
            if stop is not None:
                stop()
            try:
                self.process.wait(timeout=STOP_SECONDS)
                return
            except subprocess.TimeoutExpired:
                continue

    def _kill_group(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass


_current: Zygote | None = None
_current_lock = threading.Lock()


def zygote_for(command: Sequence[str], env: Mapping[str, str] | None,
               config: Mapping[str, Any]) -> Zygote:
    """This process's zygote for `command`, started (or started again) when needed; it may
    still be importing (`Zygote.start` waits for it). Starting it as soon as a worker is set
    up lets it import while the worker prepares its first submission."""
    global _current
    with _current_lock:
        if _current is not None and (not _current.alive or _current.command != list(command)):
            _current.stop()
            _current = None
        if _current is None:
            _current = Zygote(command, env, config)
        return _current


def _forget_inherited() -> None:
    """In a forked child (a pool worker): the parent's zygote is not this process's. Close
    the child's copies of its pipes, so that the parent's zygote still sees the end of its
    input when the parent stops it."""
    global _current
    if _current is not None:
        # /dev/null in place of each pipe, at the same descriptor: the file objects (whose
        # locks the parent's reader thread may hold) still own a descriptor they can close
        null = os.open(os.devnull, os.O_RDWR)
        for pipe in (_current.process.stdin, _current.process.stdout):
            try:
                os.dup2(null, pipe.fileno())
            except (OSError, ValueError):
                pass
        os.close(null)
        _current = None


os.register_at_fork(after_in_child=_forget_inherited)


def stop_zygote() -> None:
    """Stop this process's zygote, if any (the end of a run in this process)."""
    global _current
    with _current_lock:
        if _current is not None:
            _current.stop()
            _current = None


class ZygoteProvisioner(LocalProvisioner):  # type: ignore[misc]
    """Kernels forked by the worker's zygote instead of started from nothing.

    The kernelspec's argv starts the zygote; the provisioner's config (kernelspec
    metadata) carries the zygote's `config` line and this kernel's socket folder, which is
    made fresh for each kernel (owned by the kernel's user) and removed when it ends.
    """

    zygote = Dict(help="The zygote's config line (see zygote.py).").tag(config=True)
    sockets = Unicode(help="The kernel's socket folder on this machine.").tag(config=True)
    uid = Int(help="The kernel's user.").tag(config=True)

    _ident: int | None = None
    _owner: Zygote | None = None

    @property
    def has_process(self) -> bool:
        return self._ident is not None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        owner = zygote_for(cmd, kwargs.get("env"), self.zygote)
        owner.wait_ready()  # its launcher has made the folder of the socket folders
        sockets = Path(self.sockets)
        shutil.rmtree(sockets, ignore_errors=True)
        sockets.mkdir(mode=0o700)
        os.chown(sockets, self.uid, self.uid)
        connection = {key: value.decode() if isinstance(value, bytes) else value
                      for key, value in self.connection_info.items()}
        self._ident = owner.start(connection)
        self._owner = owner
        self.pid = self._ident
        await self._bound(connection)
        return self.connection_info

    async def _bound(self, connection: Mapping[str, Any]) -> None:
        """Wait until the kernel has bound its five sockets (or ended, or BIND_SECONDS).

        A client that connects before the kernel listens is retried by ZeroMQ only a tenth
        of a second later, and jupyter_client then waits for a kernel_info reply and an
        IOPub message that can be lost meanwhile: a third of a second per kernel."""
        paths = [Path(f"{connection['ip']}-{connection[f'{name}_port']}")
                 for name in ("shell", "iopub", "stdin", "hb", "control")]
        deadline = asyncio.get_running_loop().time() + BIND_SECONDS
        while not all(path.exists() for path in paths):
            if await self.poll() is not None or asyncio.get_running_loop().time() > deadline:
                return  # jupyter_client reports a dead or silent kernel itself
            await asyncio.sleep(POLL_SECONDS)

    async def poll(self) -> int | None:
        if self._ident is None or self._owner is None:
            return 0
        return self._owner.exit_status(self._ident)

    async def wait(self) -> int | None:
        if self._ident is None or self._owner is None:
            return 0
        owner, ident = self._owner, self._ident
        status = await self._ended(None)
        owner.forget(ident)
        self._ident = None
        return status

    async def _ended(self, timeout: float | None) -> int | None:
        """The kernel's status once it has ended, or None after `timeout` seconds.

        Polled on the event loop: no thread (a worker forked from a process whose event
        loop had started executor threads would wait on threads that do not exist)."""
        loop = asyncio.get_running_loop()
        end = None if timeout is None else loop.time() + timeout
        while (status := await self.poll()) is None:
            if end is not None and loop.time() > end:
                return None
            await asyncio.sleep(POLL_SECONDS)
        return status

    async def send_signal(self, signum: int) -> None:
        """Only killing is supported (kernels are interrupted by message)."""
        if signum in (signal.SIGKILL, signal.SIGTERM):
            await self.kill()

    async def kill(self, restart: bool = False) -> None:
        if self._ident is None or self._owner is None:
            return
        self._owner.kill(self._ident)
        await self._ended(KILL_SECONDS)

    async def terminate(self, restart: bool = False) -> None:
        await self.kill(restart)

    async def cleanup(self, restart: bool = False) -> None:
        shutil.rmtree(self.sockets, ignore_errors=True)
        await super().cleanup(restart)


class ReadyClient(AsyncKernelClient):  # type: ignore[misc]
    """A kernel client that knows the kernel is ready without waiting on a clock.

    jupyter_client's `wait_for_ready` ends by draining IOPub until it has been silent for
    0.2 s: a fifth of a second per kernel. This one waits for the kernel's `idle` status
    of its own kernel_info request instead, which proves IOPub connected and comes after
    everything the kernel published before it.
    """

    iopub_wait = 0.2
    """Seconds to wait for that status before asking again (IOPub not yet connected)."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            request = self.kernel_info()
            try:
                reply = await self.get_shell_msg(timeout=1)
            except Empty:
                reply = None
            if (reply is not None and reply["msg_type"] == "kernel_info_reply"
                    and await self._idle_after(request)):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    async def _idle_after(self, request: str) -> bool:
        end = time.monotonic() + self.iopub_wait
        while (left := end - time.monotonic()) > 0:
            try:
                message = await self.get_iopub_msg(timeout=left)
            except Empty:
                return False
            if (message["msg_type"] == "status"
                    and message["parent_header"].get("msg_id") == request
                    and message["content"].get("execution_state") == "idle"):
                return True
        return False
