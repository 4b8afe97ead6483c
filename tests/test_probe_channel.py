"""The grader's channel: one report per graded cell, exactly for the calls made, with its nonce.

Unit tests of the judge on every malformed report shape, of the probe shipped in the cell
(drivers cannot be swapped) and of the names demo cells define; then one real grading run
(sandbox, nbgrader, kernels) of an honest student and of students who attack the channel:
a post_run_cell hook and an input transformer that add a perfect second report, a driver
swapped in sys.modules, floods of printed and updated output, a helper from a demo cell.
"""

import copy
import json
import re
import sys

import nbformat
import numpy as np
import pytest

from autograder.case import (
    TAMPERING_SECOND,
    RefusedReport,
    case_rng,
    judge_cell,
    judge_results,
)
from autograder.course import assignments, graded_cells
from autograder.exercises import checks_for
from autograder.preprocessors import ProbeExecute, defined_names, demo_only_names
from course_lib import probe
from tests.helpers import (
    master,
    run_grader,
    scores_by_student,
    solution_sources,
    with_solutions,
    write_submission,
)

SOFTMAX = "04_softmax_vs_hardmax"
SEARCH = "01_hyperparameter_search"
SEED = 12345  # run_grader's seed
POINTS_04 = dict(graded_cells(SOFTMAX))  # the master's points per graded cell
SAMPLER_IDS = ("test_sample_log_uniform", "test_sample_log_uniform_rng",
               "test_sample_log_uniform_errors", "test_sample_beta", "test_sample_beta_rng",
               "test_sample_beta_errors")
STUB = "    raise NotImplementedError()\n"


# -- the judge: exactly one report, for exactly the calls made, with the nonce ---------------

def _master_namespace(assignment):
    namespace = {"np": np}
    for source in solution_sources(assignment).values():
        exec(source, namespace)
    return namespace


@pytest.fixture(scope="module")
def honest_report():
    """(cases, the probe's report for them with nonce 'n0nce') of test_softmax, from the master."""
    cases = checks_for(SOFTMAX)["test_softmax"](case_rng(SEED, "test_softmax"))
    request = probe.make_request("test_softmax", [c.request() for c in cases], nonce="n0nce",
                                 drivers={})
    return cases, probe.collect(_master_namespace(SOFTMAX), request)


def _judge(report, cases, count=1):
    return judge_cell([report] * count, cases, grade_id="test_softmax", nonce="n0nce")


def _malformed(report):
    """Every way a report can differ from the probe's answer: {name: report}."""
    shapes = {"not a dict": [report], "a string": "report", "None": None, "a number": 7,
              "refused by the grader": RefusedReport("larger than 10 bytes")}
    for key in report:
        shapes[f"without {key}"] = {k: v for k, v in report.items() if k != key}
    shapes["with an extra key"] = {**report, "verdict": "ok"}
    shapes["another grade_id"] = {**report, "grade_id": "test_hardmax"}
    shapes["wrong nonce"] = {**report, "nonce": "guessed"}
    shapes["no nonce"] = {**report, "nonce": None}
    shapes["results not a list"] = {**report, "results": {"0": report["results"][0]}}
    records = report["results"]
    for i in range(len(records)):
        shapes[f"record {i} missing"] = {**report, "results": records[:i] + records[i + 1:]}
        shapes[f"record {i} twice"] = {**report, "results": records[:i + 1] + records[i:]}
        for key, value in (("case", "an extra case"), ("function", "hardmax"), ("call", i + 1),
                           ("call", str(i)), ("ok", "yes"), ("ok", None)):
            changed = copy.deepcopy(records)
            changed[i][key] = value
            shapes[f"record {i} with {key}={value!r}"] = {**report, "results": changed}
        for key in ("call", "case", "function", "ok", "value"):
            changed = copy.deepcopy(records)
            del changed[i][key]
            shapes[f"record {i} without {key}"] = {**report, "results": changed}
        changed = copy.deepcopy(records)
        changed[i]["verdict"] = "ok"
        shapes[f"record {i} with an extra key"] = {**report, "results": changed}
        changed = copy.deepcopy(records)
        changed[i] = [changed[i]]
        shapes[f"record {i} not a dict"] = {**report, "results": changed}
    shapes["records reordered"] = {**report, "results": records[::-1]}
    shapes["an extra record"] = {**report, "results": [*records, {**records[0], "call": 4}]}
    if len(records) > 1:
        shapes["call True for 1"] = {**report, "results": [
            records[0], {**records[1], "call": True}, *records[2:]]}
    return shapes


def test_the_probes_own_report_is_judged(honest_report):
    cases, report = honest_report
    verdict = _judge(report, cases)
    assert (verdict.status, verdict.cases_passed) == ("ok", len(cases))


def test_a_cell_without_report_is_left_to_its_outputs(honest_report):
    cases, _ = honest_report
    assert judge_cell([], cases, grade_id="test_softmax", nonce="n0nce") is None


def test_a_second_report_is_tampering_even_when_both_are_right(honest_report):
    cases, report = honest_report
    for count in (2, 3):
        verdict = _judge(report, cases, count)
        assert (verdict.status, verdict.cases_passed, verdict.message) == (
            "tampering", 0, TAMPERING_SECOND)


def test_every_malformed_report_is_tampering(honest_report):
    cases, report = honest_report
    shapes = _malformed(report)
    assert len(shapes) > 50
    wrong = {name: _judge(shape, cases) for name, shape in shapes.items()}
    wrong = {name: (v.status, v.message) for name, v in wrong.items()
             if v.status != "tampering" or v.cases_passed != 0
             or "the grader's channel is not allowed" not in v.message}
    assert not wrong


def test_a_record_for_a_call_not_made_is_named(honest_report):
    cases, report = honest_report
    records = copy.deepcopy(report["results"])
    records[1]["case"] = "a case the grader never sent"
    verdict = _judge({**report, "results": records}, cases)
    assert "result 1 answers a call the grader did not make" in verdict.message


# -- the probe: shipped in the cell, with its drivers -----------------------------------------

def test_the_cell_carries_the_probe_and_runs_without_course_lib(monkeypatch):
    """The cell's source runs with course_lib.probe and codec replaced in sys.modules."""
    request = probe.make_request("test_x", [{"case": "c", "function": "double", "args": [
        {"__float__": 2.0}]}], nonce="abc", drivers={})
    source = probe.cell_source(request)
    for name in ("course_lib.probe", "course_lib.codec"):
        monkeypatch.setitem(sys.modules, name, None)  # importing them now fails
    namespace = {"double": lambda x: 2 * x}
    displayed = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw: displayed.append(obj))
    exec(source, namespace)
    assert "__course_probe__" not in namespace
    (report,) = [shown[probe.MIME] for shown in displayed]
    assert report["nonce"] == "abc" and report["results"][0]["value"] == {"__float__": 4.0}


SWAP_DRIVERS = '''
import sys, types
import numpy as np
import course_lib.search_drivers as _real

def _draw(sampler, low, high, size, seed):
    rng = np.random.default_rng(seed)
    if sampler.__name__ == "sample_beta":
        return 1.0 - 10.0 ** rng.uniform(np.log10(1 - high), np.log10(1 - low), size)
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size)

def draw_samples(sampler, low, high, size, seed, other_seed):
    return {"first": _draw(sampler, low, high, size, seed),
            "second": _draw(sampler, low, high, size, seed),
            "other": _draw(sampler, low, high, size, other_seed)}

def draw_across_seeds(sampler, low, high, seeds):
    return [_draw(sampler, low, high, 1, int(seed)) for seed in seeds]

def value_errors(sampler, bounds, seed):
    def valid(low, high):
        return 0 <= low < high < 1 if sampler.__name__ == "sample_beta" else 0 < low < high
    return ["returned" if valid(low, high) else "ValueError" for low, high in bounds]

_fake = types.ModuleType("course_lib.search_drivers")
_fake.__dict__.update(_real.__dict__)
for _module in (_fake, _real):  # swapped in sys.modules, and patched in place
    _module.draw_samples = draw_samples
    _module.draw_across_seeds = draw_across_seeds
    _module.value_errors = value_errors
sys.modules["course_lib.search_drivers"] = _fake
'''


@pytest.fixture
def swapped_drivers():
    """Run SWAP_DRIVERS in this process; restore course_lib.search_drivers afterwards."""
    import course_lib.search_drivers as real

    saved = dict(real.__dict__)
    namespace = _master_namespace(SEARCH)
    for grade_id in ("sample_log_uniform", "sample_beta"):
        exec(f"def {grade_id}(low, high, size, rng):\n{STUB}", namespace)
    try:
        exec(SWAP_DRIVERS, namespace)
        yield namespace
    finally:
        real.__dict__.clear()
        real.__dict__.update(saved)
        sys.modules["course_lib.search_drivers"] = real


@pytest.fixture
def sampler_cases():
    """The grader's cases of the sampler cells, built before any driver is swapped."""
    return {g: checks_for(SEARCH)[g](case_rng(SEED, g)) for g in SAMPLER_IDS}


def test_swapped_drivers_would_pass_stubs_but_the_shipped_ones_run_the_students_code(
        sampler_cases, swapped_drivers):
    shipped = probe.load_drivers({"course_lib.search_drivers":
                                  probe.module_source("course_lib.search_drivers")})
    for grade_id, cases in sampler_cases.items():
        requests = [case.request() for case in cases]
        trusting = judge_results(cases, [probe.call_one(r, swapped_drivers) for r in requests])
        assert trusting.status == "ok", (grade_id, trusting.message)  # the attack is real
        records = [probe.call_one(r, swapped_drivers, shipped, index=i)
                   for i, r in enumerate(requests)]
        assert judge_results(cases, records).status == "not_implemented", grade_id


def test_a_driver_not_shipped_is_not_imported():
    record = probe.call_one({"case": "x", "function": "course_lib.search_drivers:value_errors",
                             "args": []}, {}, {})
    assert (record["ok"], record["error"], record["stage"]) == (False, "ImportError", "lookup")


def test_a_result_over_the_budget_is_not_sent():
    record = probe.call_one({"case": "x", "function": "big", "args": []},
                            {"big": lambda: np.ones(10**6)}, {}, budget=10**5)
    assert (record["ok"], record["error"]) == (False, "ResultTooLarge")
    rng = np.random.default_rng(0)  # each value fits alone, not all three together
    report = probe.collect({"f": lambda: rng.random(4000)}, probe.make_request(
        "g", [{"case": str(i), "function": "f", "args": []} for i in range(3)], nonce="n",
        drivers={}, budget=100_000))
    assert [r.get("error") for r in report["results"]].count("ResultTooLarge") == 2
    assert len(json.dumps(report)) < 100_000


# -- names that demo cells define ----------------------------------------------------------

BINDINGS = {
    "a": "a = 1", "b": "b: int = 2", "c": "x, (c, *rest) = 1, (2, 3)", "d": "def d():\n    pass",
    "e": "class e:\n    inner = 1", "f": "import os.path as f", "g": "import g.sub",
    "h": "from os import path as h", "i": "for i in range(3):\n    pass",
    "j": "with open('x') as j:\n    pass", "k": "if (k := 3):\n    pass",
    "l": "try:\n    pass\nexcept Exception as l:\n    pass", "m": "async def m():\n    pass",
    "n": "%matplotlib inline\nn = 4", "o": "while True:\n    o = 1\n    break",
}


@pytest.mark.parametrize("name", sorted(BINDINGS))
def test_each_way_of_binding_a_name_is_found(name):
    assert name in defined_names(BINDINGS[name])


def test_names_local_to_functions_and_comprehensions_are_not_global():
    found = defined_names("def f(x):\n    y = x\n[z for z in range(3)]\nlambda w: w\n"
                          "class C:\n    attr = 1\n")
    assert found == {"f", "C"}


def test_demo_only_names_are_those_no_other_cell_defines():
    def cell(source, demo=False):
        return nbformat.v4.new_code_cell(source, metadata={"tags": ["demo"]} if demo else {})
    cells = [cell("a = 1\nb = 2", demo=True), cell("b = 3"), cell("def c(): pass", demo=True),
             nbformat.v4.new_markdown_cell("d = 4")]
    assert demo_only_names(cells) == {"a", "c"}


# -- through the real grader -----------------------------------------------------------------

def _forger(mime):
    """Code that rebuilds the probe's perfect report for a graded cell's source, with a
    right softmax: what an attacker who read the probe's code could display."""
    return f'''
import ast as _ast, types as _types
from IPython import get_ipython
from IPython.display import display

def _right_softmax(Z):
    T = np.exp(Z - Z.max(axis=0, keepdims=True))
    return T / T.sum(axis=0, keepdims=True)

def _forged(source):
    lines = [l for l in source.splitlines() if l.startswith("{probe._PROBE_FUNCTION}(globals(), ")]
    if not lines:
        return None
    call = _ast.parse(lines[0]).body[0].value
    request, sources = _ast.literal_eval(call.args[1]), _ast.literal_eval(call.args[2])
    shipped = {{}}
    for name, text in sources:
        module = _types.ModuleType(name)
        module.__dict__.update(shipped)
        exec(text, module.__dict__)
        shipped[name] = module
    return {{{mime!r}: shipped["probe"].collect({{**globals(), "softmax": _right_softmax}},
                                              request)}}
'''


HOOK = _forger(probe.MIME) + '''
def _second(result):
    forged = _forged(result.info.raw_cell)
    if forged is not None:
        display(forged, raw=True)

get_ipython().events.register("post_run_cell", _second)
'''

TRANSFORMER = _forger(probe.MIME) + '''
def _append(lines):
    forged = _forged("".join(lines))
    if forged is None:
        return lines
    return [*lines, f"\\n__import__('IPython').display.display({forged!r}, raw=True)\\n"]

get_ipython().input_transformers_post.append(_append)
'''

PRINTS = 2000
FLOOD_PRINT = f"for _ in range({PRINTS}):\n    print('x' * 100_000, flush=True)\n"
FLOOD_UPDATES = ("from IPython.display import display\n"
                 "_handle = display('start', display_id=True)\n"
                 f"for _k in range({PRINTS}):\n"
                 "    _handle.update(f'update {_k}: ' + 'y' * 100_000)\n")
DEMO_HELPER = "def column_max(Z):\n    return Z.max(axis=0, keepdims=True)\n"
USES_HELPER = ("def softmax(Z):\n    T = np.exp(Z - column_max(Z))\n"
               "    return T / T.sum(axis=0, keepdims=True)\n")


def _stub(assignment, name):
    source = solution_sources(assignment)[name]
    head = source[:source.index("    ### BEGIN SOLUTION")]
    return head + STUB


def _insert_after(nb, grade_id, source, *, tags=()):
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    nb.cells.insert(nb.cells.index(cell) + 1, nbformat.v4.new_code_cell(
        source, metadata={"tags": list(tags)} if tags else {}))
    return nb


def _submissions():
    """{(student, assignment): notebook} of the class graded once for this module."""
    stub = {"softmax": _stub(SOFTMAX, "softmax")}
    swap = with_solutions(SEARCH, {name: _stub(SEARCH, name)
                                   for name in ("sample_log_uniform", "sample_beta")})
    return {
        ("honest", SOFTMAX): master(SOFTMAX),
        ("hook_adds_a_perfect_report", SOFTMAX): _insert_after(
            with_solutions(SOFTMAX, stub), "softmax", HOOK),
        ("transformer_adds_a_perfect_report", SOFTMAX): _insert_after(
            with_solutions(SOFTMAX, stub), "softmax", TRANSFORMER),
        ("floods_print_and_updates", SOFTMAX): _insert_after(_insert_after(
            master(SOFTMAX), "softmax", FLOOD_UPDATES), "softmax", FLOOD_PRINT),
        ("helper_in_a_demo_cell", SOFTMAX): _insert_after(
            with_solutions(SOFTMAX, {"softmax": USES_HELPER}), "softmax", DEMO_HELPER,
            tags=["demo"]),
        ("swaps_the_drivers", SEARCH): _insert_after(swap, "sample_beta", SWAP_DRIVERS),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("channel")
    out = tmp_path_factory.mktemp("channel-graded")
    submissions = _submissions()
    for (student, assignment), nb in submissions.items():
        write_submission(root, student, assignment, nb)
    proc, rows = run_grader(root, out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, {student: scores_by_student([r for r in rows if r["assignment"] == assignment])[
        student] for student, assignment in submissions}


class TestChannelThroughTheGrader:
    def test_the_honest_student_gets_full_marks(self, graded):
        _, table = graded
        assert {g: (s, st) for g, (s, st, _) in table["honest"].items()} == {
            g: (p, "ok") for g, p in POINTS_04.items()}

    @pytest.mark.parametrize("student", ["hook_adds_a_perfect_report",
                                         "transformer_adds_a_perfect_report"])
    def test_a_second_report_scores_zero_as_tampering(self, graded, student):
        _, table = graded
        assert {g: (s, st, m) for g, (s, st, m) in table[student].items()} == {
            g: (0.0, "tampering", TAMPERING_SECOND) for g in POINTS_04}

    def test_swapped_drivers_still_run_the_students_stubs(self, graded):
        _, table = graded
        cells = table["swaps_the_drivers"]
        for grade_id in SAMPLER_IDS:
            assert cells[grade_id][:2] == (0.0, "not_implemented"), (grade_id, cells[grade_id])
        assert cells["test_zoom"][:2] == (3.0, "ok"), cells["test_zoom"]

    def test_floods_of_output_are_cut_and_grading_goes_on(self, graded):
        out, table = graded
        assert {g: (s, st) for g, (s, st, _) in table["floods_print_and_updates"].items()} == {
            g: (p, "ok") for g, p in POINTS_04.items()}
        page = (out / "feedback" / "floods_print_and_updates" / f"{SOFTMAX}.html").read_text()
        cap = ProbeExecute.max_output_bytes.default_value
        assert 0 < page.count("x" * 1000) * 1000 <= cap
        assert 0 < page.count("y" * 1000) * 1000 <= cap
        assert len(re.findall(r"\[output cut: over \d+ bytes for this cell\]", page)) == 2
        assert f"update {PRINTS - 1}:" not in page  # later updates were dropped, not applied
        assert len(page) < 4 * cap

    def test_a_helper_from_a_demo_cell_is_named(self, graded):
        _, table = graded
        cells = table["helper_in_a_demo_cell"]
        sentence = ("`column_max` is defined only in a cell marked as a demo, which the grader "
                    "does not run: move it into the answer cell")
        uses = ("test_softmax", "test_softmax_stable", "test_softmax_cost_grad")
        for grade_id, points in POINTS_04.items():
            expected = (0.0, "uses_demo_cell", sentence) if grade_id in uses else (
                points, "ok")
            assert cells[grade_id][:len(expected)] == expected, (grade_id, cells[grade_id])


# -- a property of every graded function: it leaves its arguments as they were ---------------

def _notebook_namespace(assignment):
    """The master's import cells and solutions, executed as a notebook would."""
    namespace = {}
    for cell in master(assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or "demo" in cell.metadata.get("tags", []):
            continue
        if meta.get("solution") or (not meta and "import " in cell.source):
            exec("\n".join(line for line in cell.source.splitlines()
                           if not line.startswith("%")), namespace)
    return namespace


def _change_in_place(value):
    """Add 1 to the first float this value holds in place (array, dict, list); True if done."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size:
        value.flat[0] += 1.0
        return True
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, float):
                value[key] = item + 1.0
                return True
            if _change_in_place(item):
                return True
    if isinstance(value, list):
        return any(_change_in_place(item) for item in value)
    return False


def _mutating(function, changed):
    """`function`, changed to alter its inputs in place after computing; `changed` counts."""
    import functools

    @functools.wraps(function)
    def mutating(*args, **kwargs):
        result = function(*args, **kwargs)
        if any(_change_in_place(v) for v in (*args, *kwargs.values())):
            changed.append(1)
        return result
    return mutating


def _calls_of(case, name):
    """Whether `case` calls the notebook function `name`, directly or through a driver."""
    return case.function == name or any(
        isinstance(a, dict) and a.get("__global__") == name for a in case.args)


@pytest.mark.parametrize("assignment", assignments())
def test_the_grader_names_every_graded_function_that_changes_its_arguments(assignment):
    """Every graded function, called directly or by a driver, that changes its inputs."""
    namespace = _notebook_namespace(assignment)
    functions = [n for n in solution_sources(assignment)
                 if __import__("inspect").isfunction(namespace.get(n))]
    checked = []
    for grade_id, make_cases in checks_for(assignment).items():
        cases = make_cases(case_rng(SEED, grade_id))
        honest = judge_results(cases, [probe.call_one(c.request(), namespace) for c in cases])
        assert honest.ok, (grade_id, honest.message)
        for name in functions:
            if not any(_calls_of(c, name) for c in cases):
                continue
            changed = []
            altered = {**namespace, name: _mutating(namespace[name], changed)}
            verdict = judge_results(cases, [probe.call_one(c.request(), altered)
                                            for c in cases])
            if not changed:
                continue  # this cell never hands `name` anything it could change
            assert verdict.status == "wrong_answer", (grade_id, name, verdict)
            assert f"{name} modified its argument" in verdict.message, verdict.message
            checked.append((grade_id, name))
    assert checked, f"no graded call of {assignment} hands a function data it could change"
