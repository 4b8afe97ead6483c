"""Grading on a Dask cluster: `python -m autograder grade SUBMISSIONS --out DIR --executor dask`.

`DaskExecutor` implements the executor protocol of `autograder.executors` with Dask's
`distributed`: each job (a submission's bytes, see `autograder.grading.Job`) is sent to a
Dask worker as data, graded there, and its result (`Graded`) comes back to the run's main
process, which records it. Workers need the installed course only: no access to
SUBMISSIONS or OUT.

- Without a scheduler address it starts a `LocalCluster` of one-thread worker processes on
  this machine and closes it at the end (its workers and their kernels gone).
- Each Dask worker process sets itself up once per run (`setup(*setup_args)`, cached in
  this module by the arguments); a set-up that fails becomes `JobFailed` for each job it
  was given, as with `LocalExecutor`. The set-up lives until the next run's replaces it
  or the worker stops; then its `close()`, if it has one, runs (a `Grader` removes the
  worker's temporary course folder), so a cluster serving many runs keeps one run's files.
- A bounded number of jobs is in flight (twice the cluster's threads), so a class's
  notebooks are never all in memory; results are yielded as they complete, each once.
  A LocalCluster's scheduler hands a worker its next job only when it is free
  (`LOCAL_CLUSTER_CONFIG`), so a lost worker takes only the job it was grading with it.
- A worker lost mid-task costs nothing: the scheduler runs its tasks again elsewhere. After
  Dask's allowed failures (`distributed.scheduler.allowed-failures`, 3 by default) a task
  that keeps killing its workers becomes `JobFailed` for that job only.
- When the consumer stops (an exception, SIGTERM, Ctrl-C), the futures are cancelled and a
  LocalCluster is closed. A worker process that stops kills its kernels; it also stops
  when its nanny dies (Linux parent-death signal), as `LocalExecutor`'s workers do.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import signal
import threading
import warnings
from collections.abc import Callable, Generator, Iterable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

import dask
from distributed import Client, LocalCluster, as_completed
from distributed.diagnostics.plugin import WorkerPlugin

from autograder.executors import JobFailed, die_with_parent, kill_kernels
from autograder.submissions import GradingError

if TYPE_CHECKING:
    from distributed import Future, Worker

PLUGIN_NAME = "autograder-worker"
"""The name of the worker plugin a grading run registers (once per cluster)."""

IN_FLIGHT_PER_THREAD = 2
"""Jobs handed to the cluster per worker thread at once (one running, one waiting)."""

LOCAL_CLUSTER_CONFIG = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
}
"""Dask settings of the LocalCluster a run starts (set them on a cluster of your own too):
a worker gets its next job only when it is free, so a lost worker takes only the job it
was grading with it; no statistical profiler sampling the grading thread's stack every
10 ms (CPU the kernels need)."""

TEARDOWN_WAIT = 10.0
"""Seconds a closing worker waits for its job (its kernel killed) before leaving its set-up."""
_state_lock = threading.Lock()
"""Held while a job runs: one Grader per worker process grades one submission at a time."""
_context: dict[bytes, Any] = {}
"""This worker process's set-up, keyed by the pickled (setup, setup_args); one entry."""


def _stop_worker(signum: int, frame: FrameType | None) -> None:
    kill_kernels()
    _drop_context()
    os._exit(128 + signum)


def _drop_context() -> None:
    """Forget this worker's set-up, closing it first when it has a `close` method (a
    `Grader`: its zygote stopped, its temporary course folder removed)."""
    for context in list(_context.values()):
        close = getattr(context, "close", None)
        if callable(close):
            try:
                close()
            except Exception as error:  # the worker is going on (or away): say it, go on
                warnings.warn(f"a grading run's set-up could not be closed: {error}",
                              RuntimeWarning, stacklevel=1)
    _context.clear()


class GradingWorker(WorkerPlugin):
    """Installed in every Dask worker process of a grading run (main thread, at start).

    The worker ignores SIGINT (Ctrl-C reaches the grader, which stops the cluster); on
    SIGTERM it kills its kernels and exits; with a nanny, it gets SIGTERM when the nanny
    dies. When the worker closes, it kills the kernels it still has. It warns as the
    grader does: the grader's warning filters are copied into it (a worker process is
    spawned, not forked, so it inherits none).

    Parameters
    ----------
    warning_filters : list
        The grader's `warnings.filters`.
    """

    idempotent = True
    """Registered once per cluster: a later run (another class graded on the same cluster
    at the same time, too) neither replaces it nor tears it down."""

    def __init__(self, warning_filters: Sequence[Any] = ()) -> None:
        self.warning_filters = [f for f in warning_filters if _picklable(f)]

    def setup(self, worker: Worker) -> None:
        """Install the signal handlers (Dask calls this in the worker's main thread).

        Parameters
        ----------
        worker : distributed.Worker
            The worker being set up.
        """
        if threading.current_thread() is not threading.main_thread():
            return  # an in-process worker (tests, `processes=False`): nothing to own
        warnings.resetwarnings()
        for action, message, category, module, lineno in self.warning_filters:
            warnings.filterwarnings(action, _pattern(message), category, _pattern(module),
                                    lineno, append=True)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, _stop_worker)
        if getattr(worker, "nanny", None) and os.getppid() != 1:
            die_with_parent(os.getppid())

    def teardown(self, worker: Worker) -> None:
        """Kill the kernels this worker process still has (it is closing).

        Parameters
        ----------
        worker : distributed.Worker
            The worker being closed.
        """
        if threading.current_thread() is threading.main_thread():
            kill_kernels()
            if _state_lock.acquire(timeout=TEARDOWN_WAIT):  # not while a job still runs
                try:
                    _drop_context()
                finally:
                    _state_lock.release()


def _pattern(value: Any) -> str:
    """A warning filter's message or module regular expression, as text ("" for any)."""
    return getattr(value, "pattern", value) or ""


def _picklable(value: object) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


def _run_job(setup: Callable[..., Any], setup_args: Sequence[Any],
             task: Callable[[Any, Any], Any], job: Any) -> Any:
    """Run on a Dask worker: set this process up once for `setup_args`, then `task(context,
    job)`; a failed set-up gives its `JobFailed` for every job."""
    key = pickle.dumps((setup.__module__, setup.__qualname__, tuple(setup_args)))
    with _state_lock:
        if key not in _context:
            if _context:  # a new run: the previous run's set-up is no longer used
                _drop_context()
                gc.unfreeze()
            try:
                _context[key] = setup(*setup_args)
                gc.freeze()  # it lives as long as the run (see autograder.executors)
            except Exception as error:
                _context[key] = JobFailed(f"the grading worker could not start: "
                                          f"{type(error).__name__}: {str(error)[:200]}")
        context = _context[key]
        if isinstance(context, JobFailed):
            return context
        return task(context, job)


def _threads(client: Client) -> int:
    """The cluster's worker threads now (0 while it has no worker)."""
    workers = client.scheduler_info().get("workers", {})
    return sum(int(w.get("nthreads", 1)) for w in workers.values())


def _check_threads(client: Client) -> None:
    """Refuse workers with more than one thread: a worker process grades one at a time."""
    workers = client.scheduler_info().get("workers", {})
    wide = sorted(f"{addr} ({w['nthreads']} threads)" for addr, w in workers.items()
                  if int(w.get("nthreads", 1)) > 1)
    if wide:
        raise GradingError(
            "each Dask worker process grades one submission at a time, but these workers "
            f"have more threads: {', '.join(wide)}. Start workers with `dask worker "
            "ADDRESS --nthreads 1 --nworkers N` (N processes per machine) and run again.")


class DaskExecutor:
    """Grade on a Dask cluster (see the module's docstring).

    Parameters
    ----------
    scheduler : str or None
        The cluster's scheduler, "tcp://HOST:PORT"; None starts a LocalCluster on this
        machine for each run and closes it at the end of the run.
    workers : int or None
        With no scheduler, the LocalCluster's worker processes (default: this machine's
        cores); ignored with a scheduler (the cluster has the workers it has).
    log : callable
        Where the one line naming the cluster and its dashboard goes (default: print).
    connect_timeout : float
        Seconds to keep trying to reach the scheduler before giving up.

    Used as a context manager, one cluster (or connection) serves every run until the
    block ends; otherwise each run starts and closes its own.
    """

    def __init__(self, scheduler: str | None = None, workers: int | None = None, *,
                 log: Callable[[str], object] = print, connect_timeout: float = 30) -> None:
        if scheduler is not None and not scheduler.startswith(("tcp://", "tls://",
                                                               "inproc://", "ucx://")):
            raise GradingError(f"--scheduler {scheduler!r} is not a scheduler address: give "
                               "tcp://HOST:PORT (what `dask scheduler` prints)")
        if workers is not None and workers < 1:
            raise GradingError(f"a cluster needs at least one worker, not {workers}")
        self.scheduler = scheduler
        self.workers = workers or os.cpu_count() or 1
        self.log = log
        self.connect_timeout = connect_timeout
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None
        self._entered = False
        self._announced = False

    def __enter__(self) -> DaskExecutor:
        self._entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        self._entered = False
        self.close()

    @property
    def client(self) -> Client | None:
        """The connected client while a run (or the `with` block) is under way."""
        return self._client

    def _connect(self) -> Client:
        if self._client is not None:
            return self._client
        if self.scheduler is None:
            with dask.config.set(LOCAL_CLUSTER_CONFIG):
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                             processes=True, dashboard_address=":0",
                                             silence_logs=logging.ERROR)
            try:
                self._client = Client(self._cluster)
            except BaseException:
                self._cluster.close()
                self._cluster = None
                raise
        else:
            try:
                self._client = Client(self.scheduler, timeout=self.connect_timeout)
            except OSError as error:
                raise GradingError(f"cannot reach the Dask scheduler at {self.scheduler}: "
                                   f"{error}. Is `dask scheduler` running there, and is "
                                   "its port open from this machine?") from error
        if not self._announced:
            self._announced = True
            self.log(self._describe(self._client))
        return self._client

    def _describe(self, client: Client) -> str:
        info = client.scheduler_info()
        where = "a LocalCluster" if self._cluster is not None else "the cluster"
        dashboard = (client.dashboard_link if "dashboard" in info.get("services", {})
                     else "none (install bokeh on the scheduler for one)")
        return (f"dask: {where} at {info.get('address', self.scheduler)}, "
                f"{len(info.get('workers', {}))} workers; dashboard: {dashboard}")

    def close(self) -> None:
        """Disconnect; a LocalCluster this executor started is closed (its workers and
        their kernels stop)."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def run(self, setup: Callable[..., Any], setup_args: Sequence[Any],
            task: Callable[[Any, Any], Any],
            jobs: Iterable[Any]) -> Generator[tuple[Any, Any], None, None]:
        """Yield `(job, result)` for every job as soon as it is done on the cluster.

        Parameters
        ----------
        setup : callable
            Run once per Dask worker process with `setup_args` (picklable, importable on
            the workers); its return value is the context `task` gets.
        setup_args : sequence
            Its arguments.
        task : callable
            `task(context, job)`, run on a worker for each job.
        jobs : iterable
            The jobs, taken only as the cluster needs them.

        Returns
        -------
        generator of (job, result)
            `result` is what `task` returned, or `JobFailed` when the machinery broke (the
            worker's set-up failed, the task killed its workers too often).
        """
        source = iter(jobs)
        first = next(source, _NONE)
        if first is _NONE:
            return
        client = self._connect()
        futures: dict[Future, Any] = {}
        try:
            if not client.scheduler_info().get("workers"):
                self.log("dask: waiting for a worker to join the cluster ...")
                client.wait_for_workers(1)
            _check_threads(client)
            client.register_plugin(GradingWorker(warnings.filters), name=PLUGIN_NAME)
            pending = as_completed()
            waiting = [first]

            def refill() -> None:
                limit = max(IN_FLIGHT_PER_THREAD, IN_FLIGHT_PER_THREAD * _threads(client))
                while len(futures) < limit:
                    job = waiting.pop() if waiting else next(source, _NONE)
                    if job is _NONE:
                        return
                    future = client.submit(_run_job, setup, setup_args, task, job, pure=False)
                    futures[future] = job
                    pending.add(future)

            refill()
            while futures:
                future = next(pending)
                job = futures.pop(future)
                yield job, _result(future)
                refill()
        except BaseException:
            if futures:
                client.cancel(list(futures), force=True)
            self.close()
            raise
        if not self._entered:
            self.close()


def _result(future: Future) -> Any:
    """A finished future's value, or `JobFailed` saying why there is none."""
    from distributed.scheduler import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        return JobFailed("the grading workers kept stopping while grading this submission "
                         "(the cluster gave up on it)")
    except Exception as error:
        return JobFailed(f"{type(error).__name__}: {str(error)[:200]}")


_NONE = object()
