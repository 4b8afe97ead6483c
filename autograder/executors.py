"""Where submissions are graded: the fan-out behind `python -m autograder grade --jobs N`.

An executor takes a picklable task function, the arguments it needs to set
itself up once per worker, and the list of jobs; it yields each job's result
as soon as it is done. `LocalExecutor` uses worker processes on this machine.
A cluster engine (Dask distributed, for instance) fits the same interface: set
each worker up once with `setup(*setup_args)`, then submit `task(job)` per job.
"""

import os
from concurrent.futures import ProcessPoolExecutor, as_completed

_worker_state = {}


def _init_worker(setup, setup_args):
    _worker_state["context"] = setup(*setup_args)


def _run_in_worker(task, job):
    return task(_worker_state["context"], job)


class SerialExecutor:
    """Grade in this process, one job after the other."""

    def run(self, setup, setup_args, task, jobs):
        if not jobs:
            return
        context = setup(*setup_args)
        for job in jobs:
            yield job, task(context, job)


class LocalExecutor:
    """Grade with `jobs` worker processes; each worker sets up once, then takes jobs."""

    def __init__(self, jobs=None):
        self.jobs = jobs or os.cpu_count() or 1

    def run(self, setup, setup_args, task, jobs):
        if self.jobs == 1 or len(jobs) <= 1:
            yield from SerialExecutor().run(setup, setup_args, task, jobs)
            return
        with ProcessPoolExecutor(max_workers=min(self.jobs, len(jobs)), initializer=_init_worker,
                                 initargs=(setup, setup_args)) as pool:
            futures = {pool.submit(_run_in_worker, task, job): job for job in jobs}
            for future in as_completed(futures):
                yield futures[future], future.result()
