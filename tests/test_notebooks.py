"""Masters and student notebooks: no outputs committed, run top to bottom, no leaks, no drift."""

import re

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import assignments, graded_cells, master_path
from autograder.exercises import checks_for
from autograder.preprocessors import is_demo
from autograder.release import DEMO_MARKER, release
from course_lib.failures import WIDTH, strip_ansi
from tests.helpers import REPO

ASSIGNMENTS = assignments()
ANSWER_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
                  "### END HIDDEN TESTS", "run_in_process")


def _execute(nb, workdir, allow_errors):
    client = NotebookClient(nb, timeout=180, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return nb


def _errors(nb):
    return [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.outputs if o.output_type == "error"]


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def test_there_are_assignments():
    assert "04_softmax_vs_hardmax" in ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_master_has_no_outputs(assignment):
    nb = nbformat.read(master_path(assignment), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_graded_cells_follow_the_conventions(assignment):
    nb = nbformat.read(master_path(assignment), as_version=4)
    solutions = [_nbgrader(c)["grade_id"] for c in nb.cells if _nbgrader(c).get("solution")]
    for cell in nb.cells:
        if _nbgrader(cell).get("solution"):
            assert re.search(rf"^def {_nbgrader(cell)['grade_id']}\(|^class "
                             rf"{_nbgrader(cell)['grade_id']}\b", cell.source, re.M), cell.source
    checks = checks_for(assignment)
    for grade_id, points in graded_cells(assignment):
        assert points > 0
        assert any(grade_id.startswith(f"test_{name}") for name in solutions), grade_id
        assert grade_id in checks, f"{grade_id} has no grader cases"
    assert set(checks) == {g for g, _ in graded_cells(assignment)}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_master_passes_without_its_demo_cells(assignment, tmp_path):
    """The grader skips cells tagged 'demo': no graded function may depend on them."""
    nb = nbformat.read(master_path(assignment), as_version=4)
    nb.cells = [c for c in nb.cells if not is_demo(c)]
    nb = _execute(nb, tmp_path, True)
    assert _errors(nb) == []
    for cell in nb.cells:
        if _nbgrader(cell).get("grade") and cell.cell_type == "code":
            assert any(o.output_type == "stream" for o in cell.outputs), cell.source[:80]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_has_no_solutions_or_hidden_tests(assignment):
    student = (REPO / "notebooks" / f"{assignment}.ipynb").read_text()
    for marker in ANSWER_MARKERS:
        assert marker not in student
    nb = nbformat.read(master_path(assignment), as_version=4)
    for cell in nb.cells:
        if _nbgrader(cell).get("solution"):
            body = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            for line in body.strip().splitlines():
                if len(line.strip()) > 12:
                    assert line.strip() not in student, line


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_runs_and_stubs_raise(assignment, tmp_path):
    nb = nbformat.read(REPO / "notebooks" / f"{assignment}.ipynb", as_version=4)
    nb = _execute(nb, tmp_path, True)
    names = {o.ename for _, o in _errors(nb)}
    assert names <= {"NotImplementedError", "NameError", "CheckFailed"}, names
    for cell in nb.cells:
        if _nbgrader(cell).get("grade") and cell.cell_type == "code":
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert len(errors) == 1, cell.source[:80]
            # a visible check says it in one sentence; a stub run directly raises
            assert (errors[0].ename == "CheckFailed" and " is not implemented yet: "
                    in errors[0].evalue) or errors[0].ename == "NotImplementedError", errors[0]
    for _, error in _errors(nb):
        if error.ename != "NameError":  # a later cell using a name an earlier one never set
            _assert_one_line_message(error)


def _assert_one_line_message(error):
    """A stub's failure, in a check or in any other cell: a short box, no traceback."""
    lines = [strip_ansi(line) for line in "\n".join(error.traceback).splitlines()]
    assert lines[0] == "✗ Not implemented yet", lines
    assert " is not implemented yet: write it in its cell" in " ".join(lines), lines
    assert len(lines) <= 4 and all(len(line) <= WIDTH for line in lines), lines


def test_notebooks_folder_is_exactly_the_release(tmp_path):
    written = release(out_dir=tmp_path)
    assert sorted(p.name for p in written) == sorted(
        p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    for path in written:
        committed = (REPO / "notebooks" / path.name).read_bytes()
        assert committed == path.read_bytes(), (
            f"notebooks/{path.name} differs from the release: run `python -m autograder release`")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_sees_which_cells_the_grader_skips(assignment):
    """A code cell of the student's notebook says it is a demo exactly when it is one."""
    nb = nbformat.read(REPO / "notebooks" / f"{assignment}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert any(is_demo(c) for c in code)
    for cell in code:
        assert cell.source.startswith(DEMO_MARKER + "\n") == is_demo(cell), cell.source[:80]


def _numbered(text):
    """{number: item text} of a markdown numbered list."""
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^(\d+)\. (.+)$", text, re.M)}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_notebook_ends_with_try_it_summary_and_references(assignment):
    """3-5 ungraded questions (their answers kept beside the master, never released), a
    Summary, and References with a link each, in that order, References last."""
    nb = nbformat.read(master_path(assignment), as_version=4)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    heading = {title: next((i for i, s in enumerate(markdown) if s.startswith(title)), None)
               for title in ("## Try it", "## Summary", "## References")}
    assert None not in heading.values(), heading
    assert heading["## Try it"] < heading["## Summary"] < heading["## References"]
    assert nb.cells[-1].source.startswith("## References")
    questions = _numbered(markdown[heading["## Try it"]])
    assert 3 <= len(questions) <= 5 and sorted(questions) == list(range(1, len(questions) + 1))
    answers = _numbered((master_path(assignment).parent / "try_it_answers.md").read_text())
    assert sorted(answers) == sorted(questions), (sorted(answers), sorted(questions))
    body = markdown[heading["## References"]].split("\n", 1)[1]
    references = [item for item in re.split(r"\n(?=(?:[-*]|\d+\.) )", body.strip())
                  if re.match(r"(?:[-*]|\d+\.) ", item)]
    assert len(references) >= 2, body
    assert all("https://" in item or "lecture" in item.lower() for item in references), body
    student = (REPO / "notebooks" / f"{assignment}.ipynb").read_text()
    for answer in answers.values():
        assert answer not in student
