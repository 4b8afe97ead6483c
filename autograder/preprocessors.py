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

from jupyter_core.utils import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, Unicode

from autograder.checks import checks_for
from autograder.checks.case import Verdict, case_rng, judge_results
from course_lib.probe import MIME, make_payload


def is_graded_test(cell):
    """A code cell that carries points and is not a solution cell."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _cases(assignment, grade_id, seed):
    checks = checks_for(assignment)
    if grade_id not in checks:
        return None
    return checks[grade_id](case_rng(seed, grade_id))


class ProbeExecute(Execute):
    """Execute the notebook; graded test cells run student functions on the grader's inputs."""

    seed = Integer(0, help="Seed of the grader's inputs for this run.").tag(config=True)

    def preprocess(self, nb, resources, *args, **kwargs):
        self._assignment = resources["nbgrader"]["assignment"]
        return super().preprocess(nb, resources, *args, **kwargs)

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


def _status_without_results(cell):
    """Why a graded cell produced no probe results, from its outputs."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            name = output.get("ename", "")
            if name == "CellTimeoutError":
                return "timeout", "the cell did not finish before the time limit"
            if name in ("DeadKernelError", "UnresponsiveKernelError"):
                return "kernel_died", "the Python kernel stopped while running this cell"
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
        self._verdicts[grade_id] = verdict.__dict__
        cell.outputs = [_verdict_output(grade_id, verdict)]
        return cell, resources


def _verdict_output(grade_id, verdict):
    if verdict.ok:
        return NotebookNode(output_type="stream", name="stdout",
                            text=f"{grade_id}: {verdict.message}\n")
    return NotebookNode(output_type="error", ename=verdict.status, evalue=verdict.message,
                        traceback=[f"{grade_id} [{verdict.status}]: {verdict.message}"])
