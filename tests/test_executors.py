"""The local executor's workers: one CPU each when there are enough, set-ups out of the
collector's sight while they are used, and every object back in it when the run is over.

The tasks here are plain functions (no kernel), so these run in a second or two; the
grading tests run the same executor with real kernels.
"""

import ast
import gc
import os
import subprocess
import sys

import pytest

from autograder.executors import LocalExecutor, SerialExecutor, cpus_to_pin

ALLOWED = sorted(os.sched_getaffinity(0))


def _setup(tag):
    return {"tag": tag, "frozen": gc.get_freeze_count()}


def _where(context, job):
    """(worker pid, its CPUs, the CPUs of a process it starts, objects frozen at set-up)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
        capture_output=True, text=True, check=True).stdout
    return (os.getpid(), sorted(os.sched_getaffinity(0)), ast.literal_eval(child),
            context["frozen"], gc.get_freeze_count())


def _run(executor, jobs):
    return [result for _, result in executor.run(_setup, ("t",), _where, range(jobs))]


@pytest.mark.parametrize("jobs", sorted({max(2, len(ALLOWED)), len(ALLOWED) + 1}))
def test_workers_get_a_cpu_each_exactly_when_there_are_enough(jobs):
    pinned = jobs <= len(ALLOWED)
    assert (cpus_to_pin(jobs) is not None) == pinned
    with LocalExecutor(jobs) as executor:
        results = _run(executor, 8 * jobs)
    by_worker = {pid: (cpus, child) for pid, cpus, child, _, _ in results}
    for cpus, child in by_worker.values():
        assert child == cpus  # what a worker starts (its zygote, so its kernels) stays there
        assert cpus == (cpus[:1] if pinned else ALLOWED)
    if pinned:
        firsts = [cpus[0] for cpus, _ in by_worker.values()]
        assert len(set(firsts)) == len(firsts)  # no two workers share a CPU
        assert set(firsts) <= set(ALLOWED)


def test_one_job_at_a_time_is_never_pinned():
    assert cpus_to_pin(1) is None


def test_a_worker_freezes_its_set_up_and_the_run_unfreezes_this_process():
    before = gc.get_freeze_count()
    with LocalExecutor(2) as executor:
        results = _run(executor, 4)
        assert gc.get_freeze_count() > before  # what the workers forked from
    assert gc.get_freeze_count() == before
    for _, _, _, at_setup, after in results:
        assert after > at_setup  # the set-up's objects, frozen once it was done


def test_the_serial_executor_freezes_its_set_up_until_it_is_closed():
    before = gc.get_freeze_count()
    executor = SerialExecutor()
    results = _run(executor, 2)
    assert all(after > before for *_, after in results)
    executor.close()
    assert gc.get_freeze_count() == before
