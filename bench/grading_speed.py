"""Benchmark: grading a class with `python -m autograder grade` against plain serial nbgrader.

Builds N submissions (correct, untouched and mistaken answers, mixed over the
assignments that have masters), then, on this machine and in this run:

1. the anchor: plain nbgrader, `nbgrader generate_assignment` + `nbgrader autograde`
   for each assignment over all students, serial, its stock preprocessors, no isolation;
2. ours, serial (`--jobs 1`) and parallel (`--jobs J`), with the sandbox on and
   feedback pages included.

Prints both wall times and their ratio; where a submission's time goes in our grader
(`grade --profile`: kernel start, running the cells, stopping the kernel, judging,
nbgrader's pipeline, gradebook, feedback page, recording); the floor, the same students'
code and the grader's calls run in this already-running interpreter (no kernel, no
nbgrader); and the peak memory (RSS) of one kernel and of one grading worker in one more
parallel run, not timed (a kernel, a worker's kernel zygote, a worker). Usage:

    .venv/bin/python bench/grading_speed.py [--students 60] [--jobs 2]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "autograder" / "source"


def _variants(assignment):
    """(name, notebook) pairs: the master, the student stub, and one wrong answer."""
    master = nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)
    stub = nbformat.read(REPO / "notebooks" / f"{assignment}.ipynb", as_version=4)
    wrong = nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source += "\n\nraise ValueError('half-finished answer')\n"
            break
    return [("correct", master), ("stub", stub), ("wrong", wrong)]


def build_class(root, students):
    """SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb for `students` submissions."""
    assignments = sorted(p.name for p in SOURCE.iterdir() if (p / f"{p.name}.ipynb").exists())
    variants = {a: _variants(a) for a in assignments}
    for i in range(students):
        assignment = assignments[i % len(assignments)]
        _, nb = variants[assignment][(i // len(assignments)) % 3]
        folder = Path(root) / f"student{i:03d}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    return assignments


def plain_nbgrader(submissions, assignments):
    """Wall time of stock nbgrader: generate_assignment, then autograde, serially."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with tempfile.TemporaryDirectory(prefix="bench-nbgrader-") as course:
        course = Path(course)
        (course / "nbgrader_config.py").write_text(
            "c = get_config()\nc.CourseDirectory.course_id = 'bench'\n")
        shutil.copytree(SOURCE, course / "source")
        shutil.copytree(submissions, course / "submitted")
        nbgrader = [sys.executable, "-m", "nbgrader"]
        start = time.perf_counter()
        for assignment in assignments:
            subprocess.run([*nbgrader, "generate_assignment", assignment, "--force"],
                           cwd=course, env=env, check=True, capture_output=True)
            subprocess.run([*nbgrader, "autograde", assignment, "--force",
                            "--create"], cwd=course, env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def is_kernel(process):
    """Whether `process` is a student's kernel: forked by a worker's zygote (its command
    line is the zygote's), running as a kernel's user (the zygote and each kernel's init
    run as root)."""
    try:
        return ("zygote.py" in " ".join(process.cmdline())
                and process.uids().real != 0)
    except psutil.Error:
        return False


class PeakMemory:
    """Samples the process tree of a running grader: the largest RSS of a kernel (a process
    forked by a worker's zygote that runs as a kernel's user), its largest USS (the memory
    only it uses: what one more kernel costs, the rest being shared with its zygote), the
    largest RSS of a zygote, and that of a grading worker (a child of the grader running
    `autograder` or multiprocessing)."""

    def __init__(self, pid):
        self.root = psutil.Process(pid)
        self.kernel = self.kernel_unique = self.zygote = self.worker = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(0.1):
            try:
                children = self.root.children(recursive=True)
            except psutil.Error:
                return
            for child in children:
                try:
                    line = " ".join(child.cmdline())
                    if is_kernel(child):
                        memory = child.memory_full_info()
                        self.kernel = max(self.kernel, memory.rss)
                        self.kernel_unique = max(self.kernel_unique, memory.uss)
                    elif "zygote.py" in line:
                        self.zygote = max(self.zygote, child.memory_info().rss)
                    elif "multiprocessing" in line or "autograder" in line:
                        self.worker = max(self.worker, child.memory_info().rss)
                except psutil.Error:
                    continue

    def stop(self):
        self._stop.set()
        self._thread.join()


def ours(submissions, jobs, memory=False):
    """Wall time of `python -m autograder grade` with the sandbox and feedback; the
    isolation line, the profile (`grade --profile`) and the peak memory (or None)."""
    with tempfile.TemporaryDirectory(prefix="bench-ours-") as out:
        profile = Path(out).parent / f"{Path(out).name}-profile.json"
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", out,
             "--jobs", str(jobs), "--seed", "1", "--no-progress", "--profile", str(profile)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = PeakMemory(proc.pid) if memory else None
        stdout, stderr = proc.communicate()
        seconds = time.perf_counter() - start
        if peak:
            peak.stop()
        if proc.returncode != 0:
            raise SystemExit(f"grading failed ({proc.returncode}): {stderr[-2000:]}")
        isolation = next(line for line in stdout.splitlines() if line.startswith("isolation:"))
        spent = json.loads(profile.read_text())
        profile.unlink()
        return seconds, isolation, spent, peak


def floor(submissions):
    """Seconds to run every submission's code and the grader's calls in this interpreter:
    the solution and import cells executed in a fresh namespace each, then each graded
    cell's cases called and judged, as the grader does, but with no kernel, no sandbox and
    no nbgrader (modules imported once, before the clock starts)."""
    sys.path.insert(0, str(REPO))
    from autograder.case import case_rng, judge_results
    from autograder.exercises import checks_for
    from autograder.preprocessors import is_demo
    from course_lib import probe

    notebooks = sorted(Path(submissions).glob("*/*/*.ipynb"))
    for assignment in {p.parent.name for p in notebooks}:  # imports, once
        _run_notebook_code(nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", 4),
                           is_demo)
    start = time.perf_counter()
    for path in notebooks:
        assignment = path.parent.name
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # not a notebook: the grader refuses it without running anything
            continue
        namespace = _run_notebook_code(nb, is_demo)
        for grade_id, make_cases in checks_for(assignment).items():
            cases = make_cases(case_rng(1, grade_id))
            judge_results(cases, [probe.call_one(c.request(), namespace) for c in cases])
    return time.perf_counter() - start


def _run_notebook_code(nb, is_demo):
    """Execute a notebook's code cells but the demo and graded test cells (magics and shell
    lines dropped); a cell that raises is left as it is. Returns the namespace."""
    namespace = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or is_demo(cell) or meta.get("grade"):
            continue
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        try:
            exec(compile(source, "<cell>", "exec"), namespace)
        except BaseException:
            continue
    return namespace


def _profile_lines(spent):
    from autograder.profile import PHASES

    n = spent["submissions"]
    total = sum(spent["seconds"].values())
    for name, what in PHASES.items():
        seconds = spent["seconds"].get(name, 0.0)
        yield (f"  {what:<55} {seconds / n:6.3f} s  {100 * seconds / total:5.1f} %")
    yield f"  {'in all, per submission (worker time)':<55} {total / n:6.3f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-class-") as root:
        submissions = Path(root) / "submitted"
        assignments = build_class(submissions, args.students)
        print(f"{args.students} submissions over {', '.join(assignments)}; "
              f"{os.cpu_count()} cores")
        anchor = plain_nbgrader(submissions, assignments)
        print(f"plain nbgrader autograde, serial:      {anchor:7.1f} s "
              f"({anchor / args.students:.2f} s per submission)")
        serial, _, spent, _ = ours(submissions, 1)
        print(f"python -m autograder grade --jobs 1:   {serial:7.1f} s "
              f"({serial / args.students:.2f} s per submission, feedback included)")
        mine, isolation, _, _ = ours(submissions, args.jobs)
        # the memory in a run of its own: sampling every process's pages costs CPU time
        _, _, _, peak = ours(submissions, args.jobs, memory=True)
        print(f"python -m autograder grade --jobs {args.jobs}:   {mine:7.1f} s "
              f"({mine / args.students:.2f} s per submission, feedback included)")
        print(f"  {isolation}")
        least = floor(submissions)
        print(f"floor, the same code in this interpreter: {least:7.2f} s "
              f"({1000 * least / args.students:.1f} ms per submission)")
        print("where a submission's time goes, --jobs 1 (grade --profile):")
        for line in _profile_lines(spent):
            print(line)
        print(f"peak memory: one kernel {peak.kernel / 2**20:.0f} MiB "
              f"({peak.kernel_unique / 2**20:.0f} MiB of it its own, the rest shared with "
              f"its zygote), one zygote {peak.zygote / 2**20:.0f} MiB, one grading worker "
              f"{peak.worker / 2**20:.0f} MiB")
        print(f"speed-up against plain nbgrader: {anchor / mine:.2f}x "
              f"(serial, demo cells skipped: {anchor / serial:.2f}x; "
              f"from {args.jobs} workers: {serial / mine:.2f}x); "
              f"ours --jobs 1 is {serial / least:.0f}x the floor")


if __name__ == "__main__":
    main()
