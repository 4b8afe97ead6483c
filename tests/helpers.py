"""Shared test helpers: build submissions from the masters and run the grader."""

import csv
import subprocess
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "autograder" / "source"


def master(assignment):
    """The master notebook of `assignment` (solutions and hidden tests)."""
    return nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)


def student_version(assignment):
    """The released student notebook of `assignment`."""
    return nbformat.read(REPO / "notebooks" / f"{assignment}.ipynb", as_version=4)


def with_solutions(assignment, replacements=None, *, base=None):
    """A submission: the master's answers, with some solution cells' source replaced.

    `replacements` maps a solution cell's grade_id to the source a student wrote.
    """
    nb = base if base is not None else master(assignment)
    replacements = dict(replacements or {})
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replacements:
            cell.source = replacements.pop(grade_id)
    assert not replacements, f"no solution cells named {sorted(replacements)}"
    return nb


def write_submission(root, student, assignment, nb):
    """Write `nb` as SUBMISSIONS/<student>/<assignment>/<assignment>.ipynb."""
    folder = Path(root) / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    if isinstance(nb, (bytes, str)):
        path.write_bytes(nb if isinstance(nb, bytes) else nb.encode())
    else:
        nbformat.write(nb, path)
    return path


def run_grader(submissions, out, *extra):
    """Run `python -m autograder grade`; return (completed process, rows of grades.csv)."""
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
         "--seed", "12345", "--no-progress", *extra],
        capture_output=True, text=True, cwd=REPO, timeout=1200)
    rows = []
    csv_path = Path(out) / "grades.csv"
    if csv_path.exists():
        with open(csv_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    return proc, rows


def scores_by_student(rows):
    """{student: {grade_id: (score, status, message)}}."""
    table = {}
    for row in rows:
        table.setdefault(row["student_id"], {})[row["grade_id"]] = (
            float(row["score"]), row["status"], row["message"])
    return table


def grade_class(tmp_path_factory, assignment, others):
    """Grade the master ("correct"), the student notebook ("untouched") and `others` in one run.

    `others` maps a student to the {solution grade_id: source} that replaces the master's.
    Returns (out folder, completed process, {student: {grade_id: (score, status, message)}}).
    """
    root = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("graded")
    write_submission(root, "correct", assignment, with_solutions(assignment))
    write_submission(root, "untouched", assignment, student_version(assignment))
    for student, replacements in others.items():
        write_submission(root, student, assignment, with_solutions(assignment, replacements))
    proc, rows = run_grader(root, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc, scores_by_student(rows)


def assert_full_marks(cells, full):
    """Every graded cell gets its points with status ok."""
    assert {g: s for g, (s, _, _) in cells.items()} == full, cells
    assert {status for _, status, _ in cells.values()} == {"ok"}, cells


def assert_untouched_scores_zero(cells, full):
    """The released notebook, unchanged: 0 everywhere, each cell saying it is not implemented."""
    assert set(cells) == set(full)
    for grade_id, (score, status, message) in cells.items():
        assert score == 0, grade_id
        assert status == "not_implemented" and "not implemented" in message


def assert_loses_exactly(cells, full, failures, *, statuses=("wrong_answer",),
                         hinted_statuses=None):
    """The cells in `failures` ({grade_id: hint or None}) score 0; all others full marks.

    A failing cell's status must be one of `statuses` (any but ok when None), and where a
    hint is given the message must contain it (and the status be one of `hinted_statuses`).
    """
    for grade_id, points in full.items():
        score, status, message = cells[grade_id]
        if grade_id not in failures:
            assert (score, status) == (points, "ok"), (grade_id, status, message)
            continue
        assert score == 0 and status != "ok", (grade_id, status, message)
        assert statuses is None or status in statuses, (grade_id, status, message)
        hint = failures[grade_id]
        if hint:
            assert hint in message, (grade_id, message)
            assert hinted_statuses is None or status in hinted_statuses, (grade_id, status)


def assert_feedback_hides_hidden_tests(out, assignment, students, *, student=None, words=None):
    """Each student's feedback page exists and shows no hidden test; `student`'s names `words`."""
    for each in students:
        page = (Path(out) / "feedback" / each / f"{assignment}.html").read_text()
        assert len(page) > 1000
        assert "BEGIN HIDDEN TESTS" not in page and "run_in_process" not in page
    if student:
        page = (Path(out) / "feedback" / student / f"{assignment}.html").read_text()
        assert words in page


def solution_sources(assignment):
    """{grade_id: source} of the master's solution cells."""
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in master(assignment).cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def _imports(source):
    """The import statements of a code cell (magics dropped), as a module to execute."""
    import ast

    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return None
    body = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return ast.Module(body=body, type_ignores=[])


def solved_namespace(assignment, sources=None, extra=None):
    """The master's imports and solutions (those in `sources` replaced), executed afresh in
    a namespace that also holds `extra`."""
    import numpy as np

    namespace = {"np": np, **(extra or {})}
    for cell in master(assignment).cells:
        module = _imports(cell.source) if cell.cell_type == "code" else None
        if module is not None:
            exec(compile(module, f"<{assignment} imports>", "exec"), namespace)
    for source in {**solution_sources(assignment), **(sources or {})}.values():
        exec(source, namespace)
    return namespace


def in_process_failures(assignment, sources, seed, namespace=None):
    """{grade_id: verdict} of the grader's cases that fail, run in this process.

    The master's solution cells, with those in `sources` replaced, are executed in a
    fresh namespace (`namespace` adds the notebook's imports), then judged as
    `failing_verdicts` does.
    """
    return failing_verdicts(assignment, solved_namespace(assignment, sources, namespace), seed)


def failing_verdicts(assignment, namespace, seed):
    """{grade_id: verdict} of the graded cells whose cases for `seed` fail on the functions
    in `namespace`: the grader's own cases (built once per process, as in a grading
    worker), called and judged as at grading time, without a kernel."""
    from autograder.case import judge_results
    from autograder.exercises import checks_for, seeded_cases
    from course_lib import probe

    failed = {}
    for grade_id in checks_for(assignment):
        cases = seeded_cases(assignment, grade_id, seed)
        verdict = judge_results(cases, [probe.call_one(c.request(), namespace) for c in cases])
        if not verdict.ok:
            failed[grade_id] = verdict
    return failed


def assert_fails_exactly(failed, expected, *, hinted_statuses=None):
    """`failed` ({grade_id: verdict}, from in_process_failures) is exactly `expected`.

    `expected` maps a grade_id to a hint or None; where a hint is given the verdict's
    message must contain it (and its status be one of `hinted_statuses`).
    """
    assert set(failed) == set(expected), {g: v.message for g, v in failed.items()}
    for grade_id, hint in expected.items():
        if hint:
            assert hint in failed[grade_id].message, failed[grade_id].message
            assert hinted_statuses is None or failed[grade_id].status in hinted_statuses, (
                failed[grade_id])
