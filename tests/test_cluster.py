"""Grading on a Dask cluster (`--executor dask`): a real LocalCluster, real grading.

The executor itself is tested with trivial tasks (every job yielded once, jobs taken as
needed, set-up failures and workers that keep dying reported per job, everything stopped
when the consumer stops); the grader end to end on the graded class (the same grades.csv,
byte for byte, as `--jobs 2`), with a worker killed mid-grading (the same grades, each
submission recorded once, the killed worker's kernel gone), and on a scheduler and worker
of their own whose worker, in a mount namespace of its own, cannot see the run's files
(another machine's worker: the same grades, and one run's files kept at a time).
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from pathlib import Path

import dask
import psutil
import pytest

from autograder.cluster import IN_FLIGHT_PER_THREAD, LOCAL_CLUSTER_CONFIG, DaskExecutor
from autograder.executors import JobFailed
from autograder.exercises import ASSIGNMENTS
from autograder.submissions import GradingError
from tests.browser import free_port
from tests.helpers import REPO

WORKERS = 2
MIXED_ASSIGNMENT = ASSIGNMENTS[0]
"""Graded through the cluster and compared: it holds every kind of submission the class has."""
KILLED_ASSIGNMENT = "04_softmax_vs_hardmax"


# Tasks run on the Dask workers: module-level, so the workers import them by name.

def setup_ok(marker: str, folder: str | None = None) -> dict:
    if folder:
        with open(Path(folder, "setups"), "a") as handle:
            handle.write(f"{os.getpid()}\n")
    return {"marker": marker, "pid": os.getpid()}


def setup_broken(marker: str) -> dict:
    raise RuntimeError(f"no course here ({marker})")


def square(context: dict, job: int) -> tuple[str, int, int]:
    time.sleep(0.05)
    return context["marker"], job * job, context["pid"]


def kill_own_worker_on_7(context: dict, job: int) -> int:
    if job == 7:
        os.kill(os.getpid(), signal.SIGKILL)
    return job


def start_child_then_wait(folder: str, job: int) -> int:
    """Start a child in a session of its own (as a kernel is), note its pid, then (job 1)
    stay busy."""
    child = subprocess.Popen(["sleep", "600"], start_new_session=True)
    Path(folder, f"{job}.pid").write_text(str(child.pid))
    if job == 1:
        time.sleep(600)
    return child.pid


def _worker_pids(executor: DaskExecutor) -> list[int]:
    return sorted(executor.client.run(os.getpid).values())


def _gone(pid: int, within: float = 30.0) -> bool:
    """Whether process `pid` has ended (or is a zombie) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.2)
    return False


def test_every_job_once_taken_as_needed_worker_set_up_once(tmp_path):
    taken = []

    def jobs():
        for job in range(40):
            taken.append(job)
            yield job

    seen = []
    with DaskExecutor(None, WORKERS, log=seen.append) as executor:
        results = []
        for job, result in executor.run(setup_ok, ("run-1", str(tmp_path)), square, jobs()):
            results.append((job, result))
            assert len(taken) - len(results) < IN_FLIGHT_PER_THREAD * WORKERS, \
                "more jobs taken from the iterable than the cluster has room for"
        workers = _worker_pids(executor)
    assert sorted(job for job, _ in results) == list(range(40))  # each once
    assert all(result[:2] == ("run-1", job * job) for job, result in results)
    setups = (tmp_path / "setups").read_text().split()
    assert len(set(setups)) == len(setups)  # each worker process set itself up once
    assert {result[2] for _, result in results} == {int(pid) for pid in setups}
    assert set(map(int, setups)) <= set(workers)  # set up in the workers
    assert len(seen) == 1 and seen[0].startswith("dask: a LocalCluster at tcp://")
    assert f"{WORKERS} workers" in seen[0]


def test_failed_set_up_and_a_job_that_kills_its_workers_fail_that_job_only():
    with (dask.config.set({"distributed.scheduler.allowed-failures": 1}),
          DaskExecutor(None, WORKERS, log=lambda line: None) as executor):
        failed = list(executor.run(setup_broken, ("x",), square, range(5)))
        assert sorted(job for job, _ in failed) == list(range(5))
        for _, result in failed:
            assert isinstance(result, JobFailed)
            assert "could not start: RuntimeError: no course here (x)" in result.message
        done = dict(executor.run(setup_ok, ("run-2",), kill_own_worker_on_7, range(12)))
    assert sorted(done) == list(range(12))
    assert isinstance(done.pop(7), JobFailed)
    assert done == {job: job for job in done}


def test_consumer_stopping_closes_the_cluster_its_workers_and_their_kernels(tmp_path):
    executor = DaskExecutor(None, WORKERS, log=lambda line: None)
    with pytest.raises(KeyError, match="the instructor stopped"):
        with closing(executor.run(setup_ok_folder, (str(tmp_path),), start_child_then_wait,
                                  [0, 1])) as results:
            next(results)
            workers = _worker_pids(executor)
            while not (tmp_path / "1.pid").exists():
                time.sleep(0.1)
            raise KeyError("the instructor stopped")
    assert executor.client is None
    children = [int((tmp_path / f"{job}.pid").read_text()) for job in (0, 1)]
    for pid in [*workers, *children]:
        assert _gone(pid), f"process {pid} outlived the run"


def setup_ok_folder(folder: str) -> str:
    return folder


def test_bad_scheduler_address_or_worker_count_says_what_to_give():
    with pytest.raises(GradingError, match="not a scheduler address: give tcp://HOST:PORT"):
        DaskExecutor("localhost:8786")
    with pytest.raises(GradingError, match="at least one worker, not 0"):
        DaskExecutor(None, 0)
    executor = DaskExecutor("tcp://127.0.0.1:9", log=lambda line: None, connect_timeout=2)
    with pytest.raises(GradingError, match="cannot reach the Dask scheduler at tcp://127"):
        list(executor.run(setup_ok, ("x",), square, [1]))


def _grade_command(submissions: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
            "--seed", "12345", "--no-progress", "--executor", "dask", "--jobs", str(WORKERS),
            *extra]


def _records(out: Path) -> list[Path]:
    return sorted(p.relative_to(out) for p in (out / ".results").glob("*/*.json"))


def _pages(out: Path) -> list[Path]:
    return sorted(p.relative_to(out) for p in (out / "feedback").glob("*/*.html"))


def _csv_rows(path: Path, assignment: str | None = None) -> list[list[str]]:
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[:1] + [r for r in rows[1:] if assignment in (None, r[1])]


def test_cluster_grades_a_mixed_class_like_local_workers(graded_class, tmp_path):
    """The class's first assignment (right answers, named mistakes, an untouched notebook,
    an unreadable file, a kernel that dies, missing submissions) through a LocalCluster of
    two workers: the same rows as the class graded by two local workers, in the same order,
    every record and feedback page. (One assignment: the whole class would double the
    time of this test and prove nothing more about the executor.)"""
    out = tmp_path / "out"
    proc = subprocess.run(_grade_command(graded_class.submissions, out, "--assignment",
                                         MIXED_ASSIGNMENT),
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "dask: a LocalCluster at tcp://" in proc.stdout
    expected = _csv_rows(graded_class.out / "grades.csv", MIXED_ASSIGNMENT)
    assert _csv_rows(out / "grades.csv") == expected
    assert {row[5] for row in expected[1:]} >= {"ok", "wrong_answer", "not_implemented",
                                                "unreadable_notebook", "kernel_died",
                                                "missing_submission"}
    assert _records(out) == [p for p in _records(graded_class.out)
                             if p.name == f"{MIXED_ASSIGNMENT}.json"]
    assert _pages(out) == [p for p in _pages(graded_class.out)
                           if p.name == f"{MIXED_ASSIGNMENT}.html"]


def _busy_worker(grader: psutil.Process) -> psutil.Process | None:
    """A Dask worker process of `grader` (its LocalCluster) that has a kernel running."""
    for child in grader.children():
        try:
            if "spawn_main" in " ".join(child.cmdline()) and child.children():
                return child
        except psutil.Error:
            continue
    return None


def test_worker_killed_mid_grading_costs_nothing(graded_class, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        _grade_command(graded_class.submissions, out, "--assignment", KILLED_ASSIGNMENT),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        grader = psutil.Process(proc.pid)
        deadline = time.monotonic() + 300
        victim = None
        while victim is None and time.monotonic() < deadline and proc.poll() is None:
            if _records(out):  # the first results are recorded: kill a busy worker
                victim = _busy_worker(grader)
            time.sleep(0.05)
        assert victim is not None, "no worker was seen grading after the first results"
        kernels = victim.children(recursive=True)
        victim.send_signal(signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-3000:]
    assert (_csv_rows(out / "grades.csv")
            == _csv_rows(graded_class.out / "grades.csv", KILLED_ASSIGNMENT))
    students = sorted(p.name for p in graded_class.submissions.iterdir() if p.is_dir())
    expected = [Path(".results", s, f"{KILLED_ASSIGNMENT}.json") for s in students]
    assert _records(out) == expected  # every submission recorded, once
    assert _pages(out) == [Path("feedback", s, f"{KILLED_ASSIGNMENT}.html") for s in students]
    for kernel in kernels:
        assert _gone(kernel.pid, within=5), f"kernel process {kernel.pid} outlived its worker"


@contextmanager
def remote_cluster(hidden: list[Path], worker_tmp: Path):
    """A scheduler, and one worker that sees this machine's files except `hidden` (each an
    empty tmpfs in the worker's own mount namespace), with its temporary files in
    `worker_tmp` (inside a hidden folder): the worker of another machine, which has the
    installed course and nothing of the run. Yields (address, the worker's pid)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "TMPDIR": str(worker_tmp), "COURSE_HIDDEN": ":".join(map(str, hidden)),
           **{f"DASK_{k.upper().replace('.', '__').replace('-', '_')}": str(v)
              for k, v in LOCAL_CLUSTER_CONFIG.items()}}
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--no-dashboard"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    worker = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
         'set -e; IFS=:; for f in $COURSE_HIDDEN; do mount -t tmpfs tmpfs "$f"; done; '
         'mkdir -p "$TMPDIR"; exec "$0" "$@"',
         sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
         "--nworkers", "1", "--no-dashboard"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        yield address, worker.pid
    finally:
        for process in (worker, scheduler):
            os.killpg(process.pid, signal.SIGTERM)
        for process in (worker, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _seen_by(pid: int, path: Path) -> Path:
    """`path` as process `pid` sees it (its own mount namespace)."""
    return Path(f"/proc/{pid}/root{path.resolve()}")


def _class_of(graded_class, folder: Path, assignment: str, students: list[str]) -> Path:
    """Some students' submissions of `assignment` from the graded class, copied to `folder`."""
    for student in students:
        shutil.copytree(graded_class.submissions / student / assignment,
                        folder / student / assignment)
    return folder


def test_a_worker_of_another_machine_grades_with_the_course_alone(graded_class, tmp_path):
    """A worker that cannot see SUBMISSIONS, OUT or the run's scratch folder (another
    machine's) registers the assignments itself, survives a kernel that dies, and gives
    grades.csv byte for byte as local workers do. A second run on the same worker removes
    the first run's folder, so a cluster serving many runs keeps one run's files per
    worker."""
    hidden = [graded_class.out.parent, tmp_path]
    worker_tmp = tmp_path / "worker-tmp"
    mistaken = next(r["student_id"] for r in graded_class.rows()
                    if r["assignment"] == MIXED_ASSIGNMENT and r["mistake"])
    runs = [(MIXED_ASSIGNMENT, ["correct", "crashed", mistaken, "untouched"]),
            (KILLED_ASSIGNMENT, ["correct"])]
    folders = []
    with remote_cluster(hidden, worker_tmp) as (address, worker):
        for n, (assignment, students) in enumerate(runs):
            submissions = _class_of(graded_class, tmp_path / f"class-{n}", assignment, students)
            out = tmp_path / f"out-{n}"
            command = _grade_command(submissions, out, "--scheduler", address)
            proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                                  timeout=900)
            assert proc.returncode == 0, proc.stderr[-3000:]
            assert f"dask: the cluster at {address}, 1 workers" in proc.stdout, proc.stdout
            expected = _csv_rows(graded_class.out / "grades.csv", assignment)
            expected = expected[:1] + [r for r in expected[1:] if r[0] in students]
            assert _csv_rows(out / "grades.csv") == expected
            if n == 0:
                assert {row[5] for row in expected[1:]} == {
                    "ok", "wrong_answer", "not_implemented", "kernel_died"}, expected
            # what the worker sees: the course, and nothing of the run
            assert _seen_by(worker, REPO / "autograder").is_dir()
            for path in (out, submissions, graded_class.out):
                assert path.is_dir() and not _seen_by(worker, path).exists(), path
            folders.append(sorted(p.name for p in _seen_by(worker, worker_tmp).iterdir()
                                  if p.name.startswith("autograder-worker-")))
    assert [len(f) for f in folders] == [1, 1], folders
    assert folders[0] != folders[1], folders  # the first run's folder is gone
