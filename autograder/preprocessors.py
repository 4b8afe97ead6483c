"""nbgrader preprocessors that keep the verdict of a graded test cell out of the student's kernel.

`ProbeExecute` executes the notebook like nbgrader's Execute, except that each
graded test cell runs the probe (`course_lib.probe`, its code carried in the
cell with the grader's inputs, a fresh nonce and the drivers' sources) instead
of its own source, and takes the one report the probe displays off the output
stream. `JudgeProbes` then judges that report against the reference in this
process: exactly one report, for exactly the calls made, with the nonce, or the
cell is `tampering`. The cell keeps the student's own (capped) outputs and gets
the verdict after them: a line, or an error naming the mistake, which is what
nbgrader's SaveAutoGrades scores.
"""

from __future__ import annotations

import ast
import json
import os
import time
from typing import Any

from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Enum, Integer, Unicode

from autograder.case import RefusedReport, Verdict, judge_cell
from autograder.exercises import exercises, seeded_cases
from autograder.limits import OUTPUT_MESSAGES, OutputCaps, kill_strays, message_bytes
from autograder.profile import WORKER
from course_lib.probe import MIME, cell_source, driver_modules, make_request, module_source


def is_graded_test(cell: NotebookNode) -> bool:
    """A code cell that carries points, has a grade_id and is not a solution cell."""
    return (cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)
            and "grade_id" in cell.metadata.get("nbgrader", {}))


DEMO_TAG = "demo"


def is_demo(cell: NotebookNode) -> bool:
    """An illustration the master tags 'demo': no graded function may depend on it."""
    return (DEMO_TAG in cell.metadata.get("tags", []) and not utils.is_grade(cell)
            and not utils.is_solution(cell))


def defined_names(source: str) -> set[str]:
    """The global names a cell's code binds: assignments, def, class, import, for, with, ...

    Function and class bodies, lambdas and comprehensions are not entered (their names
    are local). IPython syntax (magics, shell escapes) is translated first; a cell that
    still does not parse defines nothing.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return set()
    names = set()
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
              ast.SetComp, ast.DictComp, ast.GeneratorExp)

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            arguments = getattr(node, "args", None)
            outer = [*node.decorator_list, *getattr(node, "bases", []),
                     *getattr(arguments, "defaults", []), *getattr(arguments, "kw_defaults", [])]
            for child in outer:
                if child is not None:
                    visit(child)
            return
        if isinstance(node, scopes):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def demo_only_names(cells: list[NotebookNode]) -> frozenset[str]:
    """Names that cells tagged demo define and no other code cell of the notebook does."""
    demo, other = set(), set()
    for cell in cells:
        if cell.cell_type == "code":
            (demo if is_demo(cell) else other).update(defined_names(cell.source))
    return frozenset(demo - other)


Resources = dict[str, Any]
"""nbconvert's resources of one notebook (nbgrader's keys, and ProbeExecute's channels)."""


class RepairSubmission(NbGraderPreprocessor):
    """Drop nbgrader metadata that nbgrader itself would choke on, before its own checks.

    A cell that repeats an earlier cell's grade_id, or whose grade_id the master does
    not have, becomes an ordinary cell (nbgrader would otherwise stop grading the whole
    notebook). The master's cells are then restored by OverwriteCells as usual; a graded
    cell that is gone gets status cell_missing.
    """

    def preprocess(self, nb: NotebookNode,
                   resources: Resources) -> tuple[NotebookNode, Resources]:
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
    """The grader's cases of a cell under the run's seed (None for a cell it does not grade)."""
    if grade_id not in exercises(assignment):
        return None
    return seeded_cases(assignment, grade_id, seed)


DISPLAY_MESSAGES = frozenset({"display_data", "execute_result", "update_display_data"})
CHANNEL = "course_probe"
"""Key of `resources` under which ProbeExecute hands each graded cell's channel to JudgeProbes."""


def _carries_report(msg_type, content):
    data = content.get("data") if isinstance(content, dict) else None
    return msg_type in DISPLAY_MESSAGES and isinstance(data, dict) and MIME in data


class ReportChannel(dict):
    """What the kernel said on the probe's MIME type during one graded cell.

    Holds the cell's nonce, how many report messages came, and the reports kept for
    JudgeProbes: the first one if it is a plain display_data within `max_bytes`, else a
    `RefusedReport` saying why; a second message is kept as a refusal. A dict, so that
    it travels in nbconvert's `resources`.
    """

    def __init__(self, nonce: str) -> None:
        super().__init__(nonce=nonce, messages=0, reports=[])

    def receive(self, msg_type: str, content: dict, size: int, max_bytes: int) -> bool:
        """Take one message carrying a report; True when it was kept as the report."""
        self["messages"] += 1
        reports = self["reports"]
        if len(reports) >= 2:
            return False
        if self["messages"] > 1:
            reports.append(RefusedReport("a second report"))
        elif size > max_bytes:
            reports.append(RefusedReport(f"larger than {max_bytes} bytes"))
        elif msg_type != "display_data" or (content.get("transient") or {}).get("display_id"):
            reports.append(RefusedReport(f"sent as {msg_type} with a display id"
                                         if msg_type == "display_data" else f"sent as {msg_type}"))
        else:
            reports.append(content["data"][MIME])
            return True
        return False


class ProbeExecute(Execute):
    """Execute the notebook; graded test cells run student functions on the grader's inputs.

    Each graded test cell's source is replaced by the probe's own code and a request
    (the calls, a nonce drawn from os.urandom for this cell, the drivers' sources). The
    one report it displays is taken off the kernel's output stream into the cell's
    channel (`resources[CHANNEL][grade_id]`: nonce, reports, message count), where
    JudgeProbes reads it; any other message on the probe's MIME type is counted there
    too (a graded cell) or dropped (any other cell), never kept as output.

    Also bounds the whole run: a wall-clock budget for the notebook; every output
    message, the probe's included, is counted against a per-cell and a per-notebook
    cap (display updates and widget messages too), and what passes a cap is dropped
    with a note; when the kernel dies, a named error on every cell that could not run
    instead of an aborted grading.
    """

    seed = Integer(0, help="Seed of the grader's inputs for this run.").tag(config=True)
    notebook_timeout = Integer(
        600, help="Seconds allowed for the whole notebook; cells after that are not run.").tag(
        config=True)
    max_output_bytes = Integer(
        1_000_000, help="Output kept per cell; the rest is dropped with a note.").tag(config=True)
    max_notebook_output_bytes = Integer(
        4_000_000, help="Output kept for the whole notebook, the grader's reports included; "
                        "a message that would pass it is dropped.").tag(config=True)
    max_result_bytes = Integer(
        4_000_000, help="Size of one graded cell's report; the probe never sends more, so a "
                        "larger one is refused as tampering.").tag(config=True)
    skip_demo_cells = Bool(
        True, help="Do not run cells tagged 'demo' (plots, experiments) when grading.").tag(
        config=True)
    # A cell that floods its output can take longer than nbclient's 4 s to drain after it
    # finished, on a busy machine. That is the student's cell running late, not a failure of
    # the grader: wait longer, then go on (a graded cell whose report never came is judged
    # as having produced no result) instead of aborting the whole notebook.
    iopub_timeout = Integer(30, help="Seconds to wait for a finished cell's output.").tag(
        config=True)
    raise_on_iopub_timeout = Bool(False, help="Go on when a cell's output is late.").tag(
        config=True)
    # The kernel is thrown away with its sandbox: asking it to shut down and waiting for it
    # cost about half a second per submission and gains nothing.
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate",
                           help="How the kernel is stopped after the last cell.").tag(
        config=True)

    def preprocess(self, nb: NotebookNode, resources: Resources, *args: Any,
                   **kwargs: Any) -> tuple[NotebookNode, Resources]:
        self._assignment = resources["nbgrader"]["assignment"]
        self._deadline = time.monotonic() + self.notebook_timeout
        self._dead_at = None
        self._caps = OutputCaps(cell=self.max_output_bytes,
                                notebook=self.max_notebook_output_bytes)
        self._probing = {}
        self._channels = resources.setdefault(CHANNEL, {})
        self.timeout_func = self._cell_timeout
        with WORKER.phase("execute"):
            return super().preprocess(nb, resources, *args, **kwargs)

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        with WORKER.phase("kernel_start"):
            await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self) -> Any:
        with WORKER.phase("kernel_start"):
            return await super().async_start_new_kernel_client()

    async def _async_cleanup_kernel(self) -> None:
        with WORKER.phase("kernel_stop"):
            await super()._async_cleanup_kernel()

    # nbclient's synchronous set-up calls these wrappers, bound to its own coroutines
    start_new_kernel = run_sync(async_start_new_kernel)
    start_new_kernel_client = run_sync(async_start_new_kernel_client)
    _cleanup_kernel = run_sync(_async_cleanup_kernel)

    def _cell_timeout(self, cell):
        remaining = self._deadline - time.monotonic()
        return max(1, int(min(self.timeout or remaining, remaining)))

    def preprocess_cell(self, cell: NotebookNode, resources: Resources,
                        index: int) -> tuple[NotebookNode, Resources]:
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
        kill_strays(getattr(getattr(getattr(self.km, "provisioner", None), "process", None),
                            "pid", None))
        return cell, resources

    async def _async_handle_timeout(self, timeout, cell=None):
        self._timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    def process_message(self, msg: dict, cell: NotebookNode,
                        cell_index: int) -> NotebookNode | None:
        """Count every output message against the caps; take reports off to the channel."""
        msg_type = msg.get("msg_type")
        if msg_type not in OUTPUT_MESSAGES:
            return super().process_message(msg, cell, cell_index)
        content = msg.get("content") or {}
        size = message_bytes(content, max(self.max_output_bytes, self.max_result_bytes) + 1)
        self._caps.count(cell_index, size)
        if _carries_report(msg_type, content):
            grade_id = self._probing.get(cell_index)
            if grade_id is not None and self._channels[grade_id].receive(
                    msg_type, content, size, self.max_result_bytes):
                self._caps.keep(size)
            return None
        if not self._caps.admit(cell_index, size):
            note = self._caps.cut_note(cell_index)
            if note:
                cell.outputs.append(NotebookNode(output_type="stream", name="stdout", text=note))
            return None
        return super().process_message(msg, cell, cell_index)

    def on_cell_executed(self, **kwargs: Any) -> None:
        """nbgrader adds the reply's error when no output shows it: keep that one short too."""
        cell = kwargs["cell"]
        before = len(cell.outputs)
        super().on_cell_executed(**kwargs)
        for output in cell.outputs[before:]:
            if output.get("output_type") == "error":
                output.evalue = str(output.get("evalue", ""))[:2000]
                output.traceback = [str(line)[:2000]
                                    for line in list(output.get("traceback", []))[-40:]]

    async def async_execute_cell(self, cell: NotebookNode, cell_index: int,
                                 execution_count: int | None = None,
                                 store_history: bool = True) -> NotebookNode:
        if not is_graded_test(cell):
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        grade_id = cell.metadata.nbgrader["grade_id"]
        cases = _cases(self._assignment, grade_id, self.seed)
        original = cell.source
        if cases is not None:
            calls = [case.request() for case in cases]
            request = make_request(
                grade_id, calls, nonce=os.urandom(16).hex(), budget=self.max_result_bytes,
                drivers={name: module_source(name) for name in driver_modules(calls)})
            self._channels[grade_id] = ReportChannel(request["nonce"])
            self._probing[cell_index] = grade_id
            cell.source = cell_source(request)
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
    """Judge the report of each graded test cell and write the verdict as its output.

    The report comes from the cell's channel (see ProbeExecute), never from the cell's
    outputs; the cell keeps the student's own outputs (already capped), then the verdict.
    """

    seed = Integer(0, help="Seed of the grader's inputs; must equal ProbeExecute.seed.").tag(
        config=True)
    verdict_dir = Unicode("", help="Folder for <student>/<assignment>.json verdicts.").tag(
        config=True)

    def preprocess(self, nb: NotebookNode,
                   resources: Resources) -> tuple[NotebookNode, Resources]:
        self._assignment = resources["nbgrader"]["assignment"]
        self._channels = resources.get(CHANNEL, {})
        self._demo_only = demo_only_names(nb.cells)
        self._verdicts = {}
        self._cell_errors = {}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if grade_id and utils.is_solution(cell) and errors:
                self._cell_errors[grade_id] = errors[0]
        with WORKER.phase("judge"):
            nb, resources = super().preprocess(nb, resources)
        if self.verdict_dir:
            folder = os.path.join(self.verdict_dir, resources["nbgrader"]["student"])
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, f"{self._assignment}.json")
            with open(path + ".tmp", "w") as handle:
                json.dump(self._verdicts, handle, indent=1)
            os.replace(path + ".tmp", path)
        return nb, resources

    def preprocess_cell(self, cell: NotebookNode, resources: Resources,
                        cell_index: int) -> tuple[NotebookNode, Resources]:
        if not is_graded_test(cell):
            return cell, resources
        grade_id = cell.metadata.nbgrader["grade_id"]
        cases = _cases(self._assignment, grade_id, self.seed)
        if cases is None:
            return cell, resources
        channel = self._channels.get(grade_id, {})
        verdict = judge_cell(channel.get("reports", []), cases, grade_id=grade_id,
                             nonce=channel.get("nonce"), demo_only=self._demo_only)
        if verdict is None:
            verdict = Verdict(*_status_without_results(cell), 0, len(cases))
        if verdict.status in ("not_defined", "exception") and self._cell_errors:
            verdict = self._blame_answer_cell(verdict, cases)
        self._verdicts[grade_id] = verdict.__dict__
        students = [o for o in cell.outputs if o.get("output_type") != "error"]
        cell.outputs = [*students, _verdict_output(grade_id, verdict)]
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
