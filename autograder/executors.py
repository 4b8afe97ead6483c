"""Where submissions are graded: the fan-out behind `python -m autograder grade --jobs N`.

An executor takes a picklable task function, the arguments it needs to set itself up
once per worker, and the list of jobs; it yields `(job, result)` as soon as a job is
done, where `result` is the task's return value or a `JobFailed` when the machinery
around the task broke (a worker died, its set-up failed). One job's failure never
stops the others. `LocalExecutor` uses worker processes on this machine; a cluster
engine (Dask distributed, for instance) fits the same interface.

Nothing a run starts outlives it: each worker process gets a parent-death signal
(Linux `PR_SET_PDEATHSIG`), so it stops when the grader dies, even by `kill -9`; a
stopping worker kills its kernels (each kernel's sandbox dies with its launcher).
Workers ignore SIGINT: Ctrl-C reaches the grader, which stops them itself.
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable, Container, Generator, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol

_worker_state: dict[str, Any] = {}
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class JobFailed:
    """The machinery around a job broke; `message` says how (a sentence)."""

    message: str


def children(pid: int | None = None) -> list[int]:
    """Process ids of the direct children of `pid` (default: this process), from /proc."""
    pid = pid or os.getpid()
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(p) for p in handle.read().split())
        except OSError:
            continue
    return found


def kill_kernels(exclude: Container[int] = ()) -> None:
    """Kill this process's children (kernel launchers) and their process groups."""
    for pid in children():
        if pid in exclude:
            continue
        try:
            if os.getpgid(pid) == pid:  # a kernel runs in a session of its own
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except OSError:
            continue


def die_with_parent(parent: int) -> None:
    """Ask Linux to send SIGTERM to this process when `parent` ends (no-op elsewhere)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        _stop_worker(signal.SIGTERM, None)


def _stop_worker(signum: int, frame: FrameType | None) -> None:
    kill_kernels()
    os._exit(128 + signum)


def _init_worker(parent: int, setup: Callable[..., Any], setup_args: Sequence[Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    die_with_parent(parent)
    try:
        _worker_state["context"] = setup(*setup_args)
    except Exception as error:  # reported per job: the pool itself keeps working
        _worker_state["failed"] = JobFailed(f"the grading worker could not start: "
                                            f"{type(error).__name__}: {str(error)[:200]}")


def _run_in_worker(task: Callable[[Any, Any], Any], job: Any) -> Any:
    if "failed" in _worker_state:
        return _worker_state["failed"]
    return task(_worker_state["context"], job)


class Executor(Protocol):
    """What `autograder.grading.grade` needs of an executor (see the module's docstring)."""

    def run(self, setup: Callable[..., Any], setup_args: Sequence[Any],
            task: Callable[[Any, Any], Any],
            jobs: Sequence[Any]) -> Generator[tuple[Any, Any], None, None]:
        """Yield `(job, result)` for every job, as soon as it is done."""
        ...


class SerialExecutor:
    """Grade in this process, one job after the other."""

    def run(self, setup: Callable[..., Any], setup_args: Sequence[Any],
            task: Callable[[Any, Any], Any],
            jobs: Sequence[Any]) -> Generator[tuple[Any, Any], None, None]:
        if not jobs:
            return
        try:
            context = setup(*setup_args)
        except Exception as error:
            failed = JobFailed(f"the grader could not start: {type(error).__name__}: "
                               f"{str(error)[:200]}")
            for job in jobs:
                yield job, failed
            return
        for job in jobs:
            yield job, task(context, job)


class LocalExecutor:
    """Grade with `jobs` worker processes; each worker sets up once, then takes jobs.

    A job whose worker died is tried once more in a fresh pool, then reported as
    `JobFailed`. When the consumer stops (an exception, SIGTERM, Ctrl-C), the workers
    and their kernels are killed before the exception goes on.
    """

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs or os.cpu_count() or 1

    def run(self, setup: Callable[..., Any], setup_args: Sequence[Any],
            task: Callable[[Any, Any], Any],
            jobs: Iterable[Any]) -> Generator[tuple[Any, Any], None, None]:
        jobs = list(jobs)
        if self.jobs == 1 or len(jobs) <= 1:
            yield from SerialExecutor().run(setup, setup_args, task, jobs)
            return
        for _attempt in range(2):
            broken = []
            yield from self._pool_run(setup, setup_args, task, jobs, broken)
            jobs = broken
            if not jobs:
                return
        for job in jobs:
            yield job, JobFailed("the grading worker stopped while grading this submission")

    def _pool_run(self, setup: Callable[..., Any], setup_args: Sequence[Any],
                  task: Callable[[Any, Any], Any], jobs: list[Any],
                  broken: list[Any]) -> Generator[tuple[Any, Any], None, None]:
        pool = ProcessPoolExecutor(max_workers=min(self.jobs, len(jobs)),
                                   initializer=_init_worker,
                                   initargs=(os.getpid(), setup, setup_args))
        try:
            futures = {pool.submit(_run_in_worker, task, job): job for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken.append(job)
                    continue
                except Exception as error:
                    result = JobFailed(f"{type(error).__name__}: {str(error)[:200]}")
                yield job, result
        except BaseException:
            stop_pool(pool)
            raise
        pool.shutdown(wait=True)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: each worker kills its kernels and exits; queued jobs are dropped."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
