"""nbgrader preprocessors that keep the verdict of a graded test cell out of the student's kernel.

`ProbeExecute` executes the notebook like nbgrader's Execute, except that each
graded test cell runs `course_lib.probe.run` with the grader's inputs instead
of its own source. `JudgeProbes` then reads the results the kernel displayed,
judges them against the reference in this process, and replaces the cell's
outputs by the verdict: nothing, or an error naming the mistake, which is what
nbgrader's SaveAutoGrades scores.
"""

import json
import os
import signal
import time

from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer, Unicode

from autograder.checks import checks_for
from autograder.checks.case import Verdict, case_rng, judge_results
from course_lib.probe import MIME, make_payload


def is_graded_test(cell):
    """A code cell that carries points, has a grade_id and is not a solution cell."""
    return (cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)
            and "grade_id" in cell.metadata.get("nbgrader", {}))


DEMO_TAG = "demo"


def is_demo(cell):
    """An illustration the master tags 'demo': no graded function may depend on it."""
    return (DEMO_TAG in cell.metadata.get("tags", []) and not utils.is_grade(cell)
            and not utils.is_solution(cell))


class RepairSubmission(NbGraderPreprocessor):
    """Drop nbgrader metadata that nbgrader itself would choke on, before its own checks.

    A cell that repeats an earlier cell's grade_id, or whose grade_id the master does
    not have, becomes an ordinary cell (nbgrader would otherwise stop grading the whole
    notebook). The master's cells are then restored by OverwriteCells as usual; a graded
    cell that is gone gets status cell_missing.
    """

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        with Gradebook(resources["nbgrader"]["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(resources["nbgrader"]["notebook"],
                                               resources["nbgrader"]["assignment"])
            known = {cell.name for cell in notebook.source_cells}
        seen = set()
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if grade_id not in known or grade_id in seen:
                del cell.metadata["nbgrader"]
                continue
            seen.add(grade_id)
        return nb, resources


def _cases(assignment, grade_id, seed):
    checks = checks_for(assignment)
    if grade_id not in checks:
        return None
    return checks[grade_id](case_rng(seed, grade_id))


class ProbeExecute(Execute):
    """Execute the notebook; graded test cells run student functions on the grader's inputs.

    Also bounds the whole run: a wall-clock budget for the notebook, a cap on the
    output kept per cell, and, when the kernel dies, a named error on every cell
    that could not run instead of an aborted grading.
    """

    seed = Integer(0, help="Seed of the grader's inputs for this run.").tag(config=True)
    notebook_timeout = Integer(
        600, help="Seconds allowed for the whole notebook; cells after that are not run.").tag(
        config=True)
    max_output_bytes = Integer(
        1_000_000, help="Output kept per cell; the rest is dropped with a note.").tag(config=True)
    skip_demo_cells = Bool(
        True, help="Do not run cells tagged 'demo' (plots, experiments) when grading.").tag(
        config=True)

    def preprocess(self, nb, resources, *args, **kwargs):
        self._assignment = resources["nbgrader"]["assignment"]
        self._deadline = time.monotonic() + self.notebook_timeout
        self._dead_at = None
        self._output_bytes = {}
        self.timeout_func = self._cell_timeout
        return super().preprocess(nb, resources, *args, **kwargs)

    def _cell_timeout(self, cell):
        remaining = self._deadline - time.monotonic()
        return max(1, int(min(self.timeout or remaining, remaining)))

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self.skip_demo_cells and is_demo(cell):
            cell.outputs = [NotebookNode(output_type="stream", name="stdout",
                                         text="(an illustration: not run when grading)\n")]
            return cell, resources
        if self._dead_at is not None:
            cell.outputs = [_error("DeadKernelError", f"not run: the kernel stopped in cell "
                                                      f"{self._dead_at + 1}")]
            return cell, resources
        if time.monotonic() >= self._deadline:
            cell.outputs = [_error("NotebookTimeoutError", "not run: the notebook used up its "
                                   f"{self.notebook_timeout} s")]
            return cell, resources
        self._timed_out = False
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._dead_at = index
            cell.outputs.append(_error("DeadKernelError", "the kernel stopped while running "
                                                          "this cell"))
            return cell, self.resources
        if self._timed_out:
            cell.outputs.append(_error("CellTimeoutError", "the cell did not finish in time"))
        self._kill_strays()
        return cell, resources

    async def _async_handle_timeout(self, timeout, cell=None):
        self._timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    def _kill_strays(self):
        """Kill processes the student's code left running inside the kernel's namespace."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is None:
            return
        try:
            children = [int(p) for p in open(f"/proc/{process.pid}/task/{process.pid}/children")
                        .read().split()]
            namespace = os.readlink(f"/proc/{children[0]}/ns/pid") if children else None
        except (OSError, IndexError):
            return
        if namespace is None or namespace == os.readlink("/proc/self/ns/pid"):
            return
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in children:
                try:
                    if os.readlink(f"/proc/{entry}/ns/pid") == namespace:
                        os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    continue

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        if MIME not in content.get("data", {}):  # the grader's own results always pass
            size = len(json.dumps(content, default=str))
            used = self._output_bytes.get(cell_index, 0)
            self._output_bytes[cell_index] = used + size
            if used + size > self.max_output_bytes:
                if used <= self.max_output_bytes:
                    outs.append(NotebookNode(output_type="stream", name="stdout", text=(
                        f"\n[output cut: over {self.max_output_bytes} bytes]\n")))
                return None
        return super().output(outs, msg, display_id, cell_index)

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        if not is_graded_test(cell):
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        grade_id = cell.metadata.nbgrader["grade_id"]
        cases = _cases(self._assignment, grade_id, self.seed)
        original = cell.source
        if cases is not None:
            payload = make_payload(grade_id, [case.request() for case in cases])
            cell.source = ("__import__('course_lib.probe', fromlist=['run'])"
                           f".run(globals(), '{payload}')")
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        finally:
            cell.source = original

    # nbclient binds execute_cell to the base class's coroutine: rebind it to ours.
    execute_cell = run_sync(async_execute_cell)


def _error(name, message):
    return NotebookNode(output_type="error", ename=name, evalue=message,
                        traceback=[f"{name}: {message}"])


def _status_without_results(cell):
    """Why a graded cell produced no probe results, from its outputs."""
    errors = {o.get("ename", ""): o for o in cell.get("outputs", [])
              if o.get("output_type") == "error"}
    if "CellTimeoutError" in errors:
        return "timeout", "the cell did not finish before the time limit: look for an endless loop"
    if "NotebookTimeoutError" in errors:
        return "timeout", "the notebook went over its total time limit"
    for name in ("DeadKernelError", "UnresponsiveKernelError"):
        if name in errors:
            return "kernel_died", ("the Python kernel stopped: the code called exit, crashed, "
                                   "or went over the memory, CPU-time or process limits "
                                   f"({errors[name].get('evalue', '')})")
    for name, output in errors.items():
        return "error", f"the cell raised {name}: {str(output.get('evalue', ''))[:300]}"
    return "no_result", "the cell produced no result: was the kernel stopped before it ran?"


class JudgeProbes(NbGraderPreprocessor):
    """Judge the probe results of each graded test cell and write the verdict as its output."""

    seed = Integer(0, help="Seed of the grader's inputs; must equal ProbeExecute.seed.").tag(
        config=True)
    verdict_dir = Unicode("", help="Folder for <student>/<assignment>.json verdicts.").tag(
        config=True)

    def preprocess(self, nb, resources):
        self._assignment = resources["nbgrader"]["assignment"]
        self._verdicts = {}
        self._cell_errors = {}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if grade_id and utils.is_solution(cell) and errors:
                self._cell_errors[grade_id] = errors[0]
        nb, resources = super().preprocess(nb, resources)
        if self.verdict_dir:
            folder = os.path.join(self.verdict_dir, resources["nbgrader"]["student"])
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, f"{self._assignment}.json")
            with open(path + ".tmp", "w") as handle:
                json.dump(self._verdicts, handle, indent=1)
            os.replace(path + ".tmp", path)
        return nb, resources

    def preprocess_cell(self, cell, resources, cell_index):
        if not is_graded_test(cell):
            return cell, resources
        grade_id = cell.metadata.nbgrader["grade_id"]
        cases = _cases(self._assignment, grade_id, self.seed)
        if cases is None:
            return cell, resources
        probes = [o for o in cell.outputs
                  if o.get("output_type") == "display_data" and MIME in o.get("data", {})]
        data = probes[-1]["data"][MIME] if probes else None
        if not isinstance(data, dict) or data.get("grade_id") != grade_id:
            verdict = Verdict(*_status_without_results(cell), 0, len(cases))
        else:
            verdict = judge_results(cases, data.get("results"))
        if verdict.status in ("not_defined", "exception") and self._cell_errors:
            verdict = self._blame_answer_cell(verdict, cases)
        self._verdicts[grade_id] = verdict.__dict__
        cell.outputs = [_verdict_output(grade_id, verdict)]
        return cell, resources

    def _blame_answer_cell(self, verdict, cases):
        """Name the error of the answer cell when it is why the function is missing or broken."""
        names = {case.function for case in cases} | {
            a["__global__"] for case in cases for a in case.args
            if isinstance(a, dict) and "__global__" in a}
        for name in sorted(names):
            error = self._cell_errors.get(name)
            if error is None:
                continue
            ename = error.get("ename", "Error")
            syntax = ename in ("SyntaxError", "IndentationError")
            status = "syntax_error" if syntax else "cell_error"
            evalue = str(error.get("evalue", ""))[:200]
            return Verdict(status, f"the cell that defines {name} raised {ename}: {evalue}",
                           verdict.cases_passed, verdict.cases_total)
        return verdict


def _verdict_output(grade_id, verdict):
    if verdict.ok:
        return NotebookNode(output_type="stream", name="stdout",
                            text=f"{grade_id}: {verdict.message}\n")
    return NotebookNode(output_type="error", ename=verdict.status, evalue=verdict.message,
                        traceback=[f"{grade_id} [{verdict.status}]: {verdict.message}"])
