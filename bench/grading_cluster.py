"""Benchmark: grading a class on a Dask LocalCluster against `--jobs` on the same machine.

Builds N submissions as bench/grading_speed.py does (correct, untouched and half-finished
answers, mixed over the assignments), then, on this machine and in this run:

1. `grade(..., executor=LocalExecutor(J))`, what `--jobs J` runs;
2. `grade(..., executor=DaskExecutor(None, J))`, what `--executor dask --jobs J` runs (a
   LocalCluster of J one-thread worker processes);
3. the scheduler's per-task overhead: 1,000 trivial tasks through the same client.

Core-seconds per submission are wall time x workers / submissions: the cores a run holds,
the canary and the cluster's start included.

While each grade runs, the process tree is sampled (psutil) for the peak resident memory of
a grading worker and of a kernel. Prints both wall times, the core-seconds per submission,
their ratio, the overhead, the peaks, and an estimate for a large course. Usage:

    .venv/bin/python bench/grading_cluster.py [--students 200] [--jobs 2]
"""

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.cluster import DaskExecutor  # noqa: E402
from autograder.executors import LocalExecutor  # noqa: E402
from autograder.grading import grade  # noqa: E402
from bench.grading_speed import build_class, is_kernel  # noqa: E402

STUDENTS, ASSIGNMENTS, CORES = 10_000, 5, 100
"""The course the closing estimate is for: students x assignments on a cluster of cores."""

TRIVIAL_TASKS = 1_000


def _kind(process: psutil.Process) -> str | None:
    """'kernel' (the student's Python), 'worker' (a grading worker process) or None."""
    try:
        cmdline = process.cmdline()
    except psutil.Error:
        return None
    if not cmdline or "python" not in Path(cmdline[0]).name:
        return None
    if is_kernel(process):
        return "kernel"
    joined = " ".join(cmdline)
    if "zygote.py" in joined:  # a worker's zygote, or a kernel's init
        return None
    if "resource_tracker" in joined or "forkserver" in joined:
        return None
    try:
        return "worker" if process.parent() and process.parent().pid == os.getpid() else None
    except psutil.Error:
        return None


class TreeSampler:
    """Samples this process's descendants every `interval` seconds: peak RSS per kind."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak = {"worker": 0, "kernel": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "TreeSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(self.interval):
            for process in me.children(recursive=True):
                kind = _kind(process)
                if kind is None:
                    continue
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                self.peak[kind] = max(self.peak[kind], rss)



def timed_grade(submissions: Path, executor: object) -> tuple[float, dict[str, int]]:
    """(wall seconds, peak RSS per kind) of grading `submissions` afresh."""
    with tempfile.TemporaryDirectory(prefix="bench-cluster-out-") as out:
        start = time.perf_counter()
        with TreeSampler() as sampler:
            grade(submissions, out, seed=1, progress=False, executor=executor,
                  log=lambda line: None)
        return time.perf_counter() - start, dict(sampler.peak)


def _trivial(i: int) -> int:
    return i + 1


def scheduler_overhead(executor: DaskExecutor) -> float:
    """Seconds per task of TRIVIAL_TASKS trivial tasks through the executor's client."""
    client = executor._connect()
    client.gather(client.map(_trivial, range(10), pure=False))  # warm the workers
    start = time.perf_counter()
    futures = client.map(_trivial, range(TRIVIAL_TASKS), pure=False)
    assert client.gather(futures) == list(range(1, TRIVIAL_TASKS + 1))
    return (time.perf_counter() - start) / TRIVIAL_TASKS


def _mib(size: int) -> str:
    return f"{size / 2**20:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    n, jobs = args.students, args.jobs
    with tempfile.TemporaryDirectory(prefix="bench-cluster-class-") as root:
        submissions = Path(root) / "submitted"
        assignments = build_class(submissions, n)
        print(f"{n} submissions over {', '.join(assignments)}; {os.cpu_count()} cores, "
              f"{jobs} workers; each grade includes its canary (the {len(assignments)} "
              "masters)", flush=True)
        local, local_peak = timed_grade(submissions, LocalExecutor(jobs))
        print(f"--jobs {jobs} (LocalExecutor):            {local:7.1f} s wall, "
              f"{local * jobs / n:.2f} core-s per submission", flush=True)
        with DaskExecutor(None, jobs, log=lambda line: print(f"  {line}", flush=True)) as dask:
            cluster, cluster_peak = timed_grade(submissions, dask)
            overhead = scheduler_overhead(dask)
    core_seconds = cluster * jobs / n
    print(f"--executor dask --jobs {jobs} (LocalCluster): {cluster:7.1f} s wall, "
          f"{core_seconds:.2f} core-s per submission")
    print(f"dask / --jobs wall time: {cluster / local:.3f}")
    print(f"scheduler overhead: {overhead * 1e3:.2f} ms per task "
          f"({TRIVIAL_TASKS} trivial tasks through the same client, {jobs} workers)")
    print(f"peak RSS of a grading worker: --jobs {_mib(local_peak['worker'])}, "
          f"dask {_mib(cluster_peak['worker'])}; of a kernel: --jobs "
          f"{_mib(local_peak['kernel'])}, dask {_mib(cluster_peak['kernel'])}")
    total = STUDENTS * ASSIGNMENTS
    grading = core_seconds * total / CORES
    scheduling = overhead * total / CORES
    print(f"estimate: {STUDENTS:,} students x {ASSIGNMENTS} assignments = {total:,} "
          f"submissions on a {CORES}-core cluster (one one-thread worker per core): "
          f"{core_seconds:.2f} core-s x {total:,} / {CORES} = {grading / 60:.1f} min of "
          f"grading + {overhead * 1e3:.2f} ms x {total:,} / {CORES} = {scheduling:.1f} s "
          f"of scheduling = about {(grading + scheduling) / 60:.0f} min, if each worker "
          f"has a core and memory for itself and a kernel (peaks above), plus one canary "
          f"per worker (its set-up) and the main process writing {total:,} records.")


if __name__ == "__main__":
    main()
