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

A worker and its kernel take turns (the worker sends a cell, the kernel runs it, the
worker judges): one core's worth of work that hands over many times a second. With no
more workers than CPUs, each worker is pinned to a CPU of its own (its kernels inherit
it), so a worker and its kernel stay on one core's caches and two pairs never queue on
one core while another idles. The objects a process has when its workers fork, and those
a worker's set-up made, live as long as the worker: they are moved out of the garbage
collector's sight (`gc.freeze`), so a collection does not scan them again and a forked
worker does not copy the pages it shares with its parent just to scan them.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Container, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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


def cpus_to_pin(jobs: int) -> list[int] | None:
    """The CPUs `jobs` workers are pinned to, one each; None (not pinned) when there are
    more workers than CPUs this process may use."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return allowed[:jobs] if 1 < jobs <= len(allowed) else None


def _pin(cpus: Sequence[int] | None, taken: Any) -> None:
    """Pin this worker to the next CPU of `cpus` (`taken` counts the workers pinned)."""
    if not cpus:
        return
    with taken.get_lock():
        index, taken.value = taken.value, taken.value + 1
    try:
        os.sched_setaffinity(0, {cpus[index % len(cpus)]})
    except OSError:  # a CPU gone meanwhile: the worker just runs unpinned
        pass


def _init_worker(parent: int, setup: Callable[..., Any], setup_args: Sequence[Any],
                 cpus: Sequence[int] | None = None, taken: Any = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    die_with_parent(parent)
    _pin(cpus, taken)
    try:
        _worker_state["context"] = setup(*setup_args)
    except Exception as error:  # reported per job: the pool itself keeps working
        _worker_state["failed"] = JobFailed(f"the grading worker could not start: "
                                            f"{type(error).__name__}: {str(error)[:200]}")
    gc.freeze()  # the set-up lives as long as the worker


def _noop() -> None:
    """A task that makes a pool start its workers."""


def _run_in_worker(task: Callable[[Any, Any], Any], job: Any) -> Any:
    if "failed" in _worker_state:
        return _worker_state["failed"]
    return task(_worker_state["context"], job)


class Executor(Protocol):
    """What `autograder.grading.grade` needs of an executor (see the module's docstring)."""

    def run(self, setup: Callable[..., Any], setup_args: Sequence[Any],
            task: Callable[[Any, Any], Any],
            jobs: Iterable[Any]) -> Generator[tuple[Any, Any], None, None]:
        """Yield `(job, result)` for every job, as soon as it is done; take jobs from
        `jobs` only as they are needed."""
        ...


class SerialExecutor:
    """Grade in this process, one job after the other. The set-up is done once for all
    the runs with the same set-up arguments (a canary, then the class)."""

    def __init__(self) -> None:
        self._key: bytes | None = None
        self._context: Any = None

    def run(self, setup: Callable[..., Any], setup_args: Sequence[Any],
            task: Callable[[Any, Any], Any],
            jobs: Iterable[Any]) -> Generator[tuple[Any, Any], None, None]:
        jobs = iter(jobs)
        first = next(jobs, _NONE)
        if first is _NONE:
            return
        key = _setup_key(setup, setup_args)
        if key != self._key:
            self.close()
            try:
                self._context, self._key = setup(*setup_args), key
                gc.freeze()  # the set-up lives until `close`
            except Exception as error:
                failed = JobFailed(f"the grader could not start: {type(error).__name__}: "
                                   f"{str(error)[:200]}")
                for job in itertools.chain([first], jobs):
                    yield job, failed
                return
        for job in itertools.chain([first], jobs):
            yield job, task(self._context, job)

    def close(self) -> None:
        """Drop the set-up and let the collector see its objects again."""
        if self._key is not None:
            self._context, self._key = None, None
            gc.unfreeze()


def _setup_key(setup: Callable[..., Any], setup_args: Sequence[Any]) -> bytes:
    return pickle.dumps((setup, tuple(setup_args)))


_NONE = object()


class LocalExecutor:
    """Grade with `jobs` worker processes; each worker sets up once, then takes jobs.

    Jobs are taken from the iterable as workers need them (at most two per worker are
    waiting), so a class's notebooks are never all in memory. A job whose worker died is
    tried once more in a fresh pool, then reported as `JobFailed`. When the consumer stops
    (an exception, SIGTERM, Ctrl-C), the workers and their kernels are killed before the
    exception goes on. The workers stay up between runs with the same set-up arguments
    (the canary, then the class: their kernels' zygotes are warm) until `close`.
    """

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs or os.cpu_count() or 1
        self._serial = SerialExecutor()
        self._pool: ProcessPoolExecutor | None = None
        self._pool_key: bytes | None = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Let the workers finish and exit (their kernels and zygotes go with them)."""
        self._serial.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool, self._pool_key = None, None
            gc.unfreeze()

    def start(self, setup: Callable[..., Any], setup_args: Sequence[Any]) -> None:
        """Start the workers now (each runs `setup` at once), ahead of the first job."""
        if self.jobs > 1:
            self._pool_for(setup, setup_args).submit(_noop)

    def stop(self) -> None:
        """Stop the workers now (their kernels and zygotes go with them)."""
        if self._pool is not None:
            stop_pool(self._pool)
            self._pool, self._pool_key = None, None
            gc.unfreeze()

    def run(self, setup: Callable[..., Any], setup_args: Sequence[Any],
            task: Callable[[Any, Any], Any],
            jobs: Iterable[Any]) -> Generator[tuple[Any, Any], None, None]:
        if self.jobs == 1:
            yield from self._serial.run(setup, setup_args, task, jobs)
            return
        source = iter(jobs)
        tries: dict[int, int] = {}
        retry: list[Any] = []
        while True:
            broken: list[Any] = []
            yield from self._pool_run(setup, setup_args, task,
                                      itertools.chain(retry, source), broken)
            retry = []
            for job in broken:
                tries[id(job)] = tries.get(id(job), 0) + 1
                if tries[id(job)] >= 2:
                    yield job, JobFailed("the grading worker stopped while grading this "
                                         "submission")
                else:
                    retry.append(job)
            following = next(source, _NONE)
            if following is not _NONE:
                source = itertools.chain([following], source)
            elif not retry:
                return

    def _pool_for(self, setup: Callable[..., Any],
                  setup_args: Sequence[Any]) -> ProcessPoolExecutor:
        key = _setup_key(setup, setup_args)
        if self._pool is not None and self._pool_key != key:
            self.close()
        if self._pool is None:
            gc.freeze()  # the workers fork from here: what this process has, they share
            taken = multiprocessing.get_context("fork").Value("i", 0)
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=multiprocessing.get_context("fork"),
                initializer=_init_worker,
                initargs=(os.getpid(), setup, setup_args, cpus_to_pin(self.jobs), taken))
            self._pool_key = key
        return self._pool

    def _pool_run(self, setup: Callable[..., Any], setup_args: Sequence[Any],
                  task: Callable[[Any, Any], Any], jobs: Iterator[Any],
                  broken: list[Any]) -> Generator[tuple[Any, Any], None, None]:
        """Run jobs in the pool until they are done or the pool breaks; the jobs it was
        running when it broke go to `broken`, the ones it had not taken stay in `jobs`."""
        futures: dict[Future, Any] = {}
        pool = self._pool_for(setup, setup_args)  # workers start at the first submission

        def refill() -> None:
            while len(futures) < 2 * self.jobs and not broken:
                job = next(jobs, _NONE)
                if job is _NONE:
                    return
                try:
                    futures[pool.submit(_run_in_worker, task, job)] = job
                except BrokenProcessPool:
                    broken.append(job)

        try:
            refill()
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    job = futures.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken.append(job)
                        continue
                    except Exception as error:
                        result = JobFailed(f"{type(error).__name__}: {str(error)[:200]}")
                    yield job, result
                refill()
        except BaseException:
            self.stop()
            raise
        if broken:
            self.stop()


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
