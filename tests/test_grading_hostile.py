"""A corpus of hostile and broken submissions: each gets the expected score and a named status.

Every case is a submission of 04_softmax_vs_hardmax built from the master (whose answers are
right) with one thing done to it. All are graded in one run, two at a time, in the sandbox.
"""

import copy
import socket
import threading

import nbformat
import pytest

from tests.helpers import REPO, master, run_grader, scores_by_student, write_submission

A = "04_softmax_vs_hardmax"
POINTS = {"test_softmax": 2, "test_softmax_stable": 1, "test_hardmax": 1, "test_hardmax_ties": 1,
          "test_cross_entropy_cost": 2, "test_softmax_cost_grad": 2}
MASTER_PATH = REPO / "autograder" / "source" / A / f"{A}.ipynb"
SOFTMAX_IDS = ("test_softmax", "test_softmax_stable")
HARDMAX_IDS = ("test_hardmax", "test_hardmax_ties")

RIGHT_SOFTMAX = ("    T = np.exp(Z - Z.max(axis=0, keepdims=True))\n"
                 "    return T / T.sum(axis=0, keepdims=True)\n")
RIGHT_HARDMAX = ("    A = np.zeros(Z.shape)\n"
                 "    A[np.argmax(Z, axis=0), np.arange(Z.shape[1])] = 1.0\n    return A\n")
RIGHT_COST = "    return float(-np.sum(Y * np.log(A)) / Y.shape[1])\n"
RIGHT_GRAD = "    return (softmax(Z) - Y) / Y.shape[1]\n"


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _replace(grade_id, source):
    def change(nb):
        _cell(nb, grade_id).source = source
        return nb
    return change


def _insert_after(grade_id, source):
    def change(nb):
        index = nb.cells.index(_cell(nb, grade_id))
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
        return nb
    return change


def _delete(grade_id):
    def change(nb):
        nb.cells.remove(_cell(nb, grade_id))
        return nb
    return change


def _duplicate(grade_id):
    def change(nb):
        cell = _cell(nb, grade_id)
        twin = copy.deepcopy(cell)
        twin.id = cell.id + "-copy"
        nb.cells.insert(nb.cells.index(cell) + 1, twin)
        return nb
    return change


def _retype(grade_id):
    def change(nb):
        cell = _cell(nb, grade_id)
        index = nb.cells.index(cell)
        new = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
        new.id = cell.id
        nb.cells[index] = new
        return nb
    return change


def _edit_metadata(target, **changes):
    def change(nb):
        _cell(nb, target).metadata["nbgrader"].update(changes)
        return nb
    return change


def _split(grade_id):
    def change(nb):
        cell = _cell(nb, grade_id)
        head, tail = cell.source.split("\n", 2)[:2], cell.source.split("\n", 2)[2]
        cell.source = "\n".join(head)
        nb.cells.insert(nb.cells.index(cell) + 1, nbformat.v4.new_code_cell(tail))
        return nb
    return change


def _both(*changes):
    def change(nb):
        for each in changes:
            nb = each(nb)
        return nb
    return change


def _raw(data):
    return lambda nb: data


WRONG_AXIS = "def softmax(Z):\n    T = np.exp(Z)\n    return T / T.sum(axis=1, keepdims=True)\n"


def _expect(default="ok", **by_status):
    """{grade_id: status}: `by_status` maps a status to the grade_ids that get it."""
    expected = {g: default for g in POINTS}
    for status, ids in by_status.items():
        for grade_id in ids:
            expected[grade_id] = status
    return expected


def _corpus(port, other_student_file):
    return {
        # broken Python
        "syntax_error": (
            _replace("softmax", "def softmax(Z):\n    return (Z\n"),
            _expect(syntax_error=SOFTMAX_IDS, exception=["test_softmax_cost_grad"])),
        "exception_at_import": (
            _replace("hardmax", "import a_module_that_does_not_exist\n\ndef hardmax(Z):\n"
                                + RIGHT_HARDMAX),
            _expect(cell_error=HARDMAX_IDS)),
        "exception_in_function": (
            _replace("cross_entropy_cost", "def cross_entropy_cost(A, Y):\n    return 1 / 0\n"),
            _expect(exception=["test_cross_entropy_cost"])),
        # resources
        "infinite_loop": (
            _replace("cross_entropy_cost",
                     "def cross_entropy_cost(A, Y):\n    while True:\n        pass\n"),
            _expect(timeout=["test_cross_entropy_cost"])),
        "memory_bomb": (
            _replace("softmax_cost_grad", "def softmax_cost_grad(Z, Y):\n    hoard = []\n"
                     "    while True:\n        hoard.append(np.empty(2**28))\n"),
            _expect(exception=["test_softmax_cost_grad"])),
        "giant_array": (
            _replace("softmax_cost_grad", "def softmax_cost_grad(Z, Y):\n"
                                          "    return np.ones((10**6, 10**6))\n"),
            _expect(exception=["test_softmax_cost_grad"])),
        "fork_bomb": (
            _replace("hardmax", "import os\n\ndef hardmax(Z):\n    while True:\n"
                                "        os.fork()\n"),
            None),
        "os_exit_in_function": (
            _replace("softmax_cost_grad", "import os\n\ndef softmax_cost_grad(Z, Y):\n"
                                          "    os._exit(1)\n"),
            _expect(kernel_died=["test_softmax_cost_grad"])),
        "os_exit_at_import": (
            _replace("hardmax", "import os\nos._exit(0)\n"),
            _expect(kernel_died=[*HARDMAX_IDS, "test_cross_entropy_cost",
                                 "test_softmax_cost_grad"])),
        "sys_exit_in_function": (
            _replace("hardmax", "import sys\n\ndef hardmax(Z):\n    sys.exit(3)\n"),
            _expect(exception=HARDMAX_IDS)),
        "huge_output": (
            _replace("softmax", "def softmax(Z):\n    print('spam ' * 200_000)\n"
                                + RIGHT_SOFTMAX),
            _expect()),
        # the notebook's structure
        "test_cell_deleted": (_delete("test_hardmax"), _expect(cell_missing=["test_hardmax"])),
        "test_cell_duplicated": (_duplicate("test_softmax"), _expect()),
        "test_cell_split": (_split("test_softmax"), _expect()),
        "test_cell_retyped": (_retype("test_hardmax"), _expect()),
        "answer_cell_retyped": (_retype("hardmax"), _expect()),  # restored from the master
        "grade_id_changed": (
            _edit_metadata("test_cross_entropy_cost", grade_id="test_free_points"),
            _expect(cell_missing=["test_cross_entropy_cost"])),
        "points_raised": (_edit_metadata("test_softmax", points=100), _expect()),
        "test_cell_edited_to_pass": (
            _both(_replace("softmax", WRONG_AXIS), _replace("test_softmax", "pass"),
                  _replace("test_softmax_stable", "pass")),
            _expect(wrong_answer=[*SOFTMAX_IDS, "test_softmax_cost_grad"])),
        # cheating
        "monkeypatches_numpy_and_checkers": (
            _both(_replace("softmax", WRONG_AXIS), _insert_after(
                "softmax",
                "import builtins\nimport course_lib.checking as checking\n"
                "import course_lib.checks.softmax_vs_hardmax as checks\n"
                "np.allclose = lambda *a, **k: True\n"
                "np.testing.assert_allclose = lambda *a, **k: None\n"
                "checking.describe_mismatch = lambda *a, **k: None\n"
                "checks.softmax_problem = lambda *a, **k: None\n"
                "check_softmax = check_softmax_stable = lambda f: None\n"
                "builtins.AssertionError = type('Nothing', (Exception,), {})\n")),
            _expect(wrong_answer=[*SOFTMAX_IDS, "test_softmax_cost_grad"])),
        "returns_ndarray_subclass": (
            _replace("softmax", "class Agreeable(np.ndarray):\n"
                     "    def __eq__(self, other):\n        return np.ones(self.shape, bool)\n\n"
                     "def softmax(Z):\n    return np.zeros(Z.shape).view(Agreeable)\n"),
            _expect(invalid_result=[*SOFTMAX_IDS, "test_softmax_cost_grad"])),
        "returns_object_that_equals_everything": (
            _replace("cross_entropy_cost",
                     "class Yes:\n    def __eq__(self, other):\n        return True\n"
                     "    def __float__(self):\n        return 0.0\n\n"
                     "def cross_entropy_cost(A, Y):\n    return Yes()\n"),
            _expect(invalid_result=["test_cross_entropy_cost"])),
        "imports_the_reference_solution": (
            _replace("softmax",
                     "from autograder.reference.softmax_vs_hardmax import softmax\n"),
            _expect(cell_error=SOFTMAX_IDS, exception=["test_softmax_cost_grad"])),
        "reads_the_master_from_disk": (
            _replace("hardmax", f"def hardmax(Z):\n    open({str(MASTER_PATH)!r}).read()\n"
                                + RIGHT_HARDMAX),
            _expect(exception=HARDMAX_IDS)),
        "looks_at_another_students_work": (
            _replace("cross_entropy_cost",
                     "import os\n\ndef cross_entropy_cost(A, Y):\n"
                     f"    if os.path.exists({str(other_student_file)!r}):\n"
                     "        raise RuntimeError('another student is visible')\n"
                     + RIGHT_COST),
            _expect()),
        "uses_the_network": (
            _replace("softmax_cost_grad",
                     "import socket\n\ndef softmax_cost_grad(Z, Y):\n"
                     f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
                     + RIGHT_GRAD),
            _expect(exception=["test_softmax_cost_grad"])),
        # bad results
        "returns_nan": (
            _replace("softmax", "def softmax(Z):\n    return np.full(Z.shape, np.nan)\n"),
            _expect(wrong_answer=[*SOFTMAX_IDS, "test_softmax_cost_grad"])),
        "returns_wrong_shape": (
            _replace("hardmax", "def hardmax(Z):\n    return np.zeros((Z.shape[1], 1))\n"),
            _expect(wrong_answer=HARDMAX_IDS)),
        "returns_complex_dtype": (
            _replace("hardmax", "def hardmax(Z):\n"
                                + RIGHT_HARDMAX.replace("return A", "return A.astype(complex)")),
            _expect(invalid_result=HARDMAX_IDS)),
        # files
        "not_json": (_raw(b"this is not a notebook\n"), _expect("unreadable_notebook")),
        "empty_file": (_raw(b""), _expect("unreadable_notebook")),
        "not_utf8": (_raw(b'{"cells": "\xff\xfe"}'), _expect("unreadable_notebook")),
        "wrong_nbformat": (_raw(b'{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}'),
                           _expect("unreadable_notebook")),
        "missing_notebook": (None, _expect("missing_submission")),
    }


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    root = tmp_path_factory.mktemp("hostile")
    out = tmp_path_factory.mktemp("hostile-graded")
    other = write_submission(root, "zz_honest", A, master(A))
    corpus = _corpus(port, other)
    for student, (change, _) in corpus.items():
        if change is None:
            (root / student / A).mkdir(parents=True)
            (root / student / A / "notes.txt").write_text("forgot the notebook")
            continue
        write_submission(root, student, A, change(master(A)))
    (root / "extra_files" / A).mkdir(parents=True)
    write_submission(root, "extra_files", A, master(A))
    (root / "extra_files" / A / "scratch.ipynb").write_text("{}")
    (root / "extra_files" / A / "data.csv").write_text("1,2\n")
    proc, rows = run_grader(root, out, "--timeout", "10", "--jobs", "2")
    listener.close()
    return corpus, proc, rows, out, accepted


def test_the_grader_finishes_and_exits_zero(corpus_run):
    corpus, proc, rows, _, _ = corpus_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "isolation: namespaces" in proc.stdout
    students = {r["student_id"] for r in rows}
    assert students == set(corpus) | {"zz_honest", "extra_files"}
    assert len(rows) == len(students) * len(POINTS)


def test_every_case_gets_its_expected_status_and_score(corpus_run):
    corpus, _, rows, _, _ = corpus_run
    table = scores_by_student(rows)
    problems = []
    for student, (_, expected) in corpus.items():
        if expected is None:
            continue
        for grade_id, status in expected.items():
            score, got, message = table[student][grade_id]
            want_score = POINTS[grade_id] if status == "ok" else 0
            if (got, score) != (status, want_score) or (status != "ok" and not message):
                problems.append(f"{student}/{grade_id}: expected {status} {want_score}, "
                                f"got {got} {score} ({message})")
    assert not problems, "\n".join(problems)


def test_fork_bomb_loses_its_points_and_nothing_else_is_affected(corpus_run):
    _, _, rows, _, _ = corpus_run
    table = scores_by_student(rows)
    for grade_id in HARDMAX_IDS:
        score, status, message = table["fork_bomb"][grade_id]
        assert score == 0 and status != "ok" and message
    for student in ("zz_honest", "extra_files"):
        assert {g: s for g, (s, _, _) in table[student].items()} == POINTS


def test_no_connection_left_the_sandbox(corpus_run):
    *_, accepted = corpus_run
    assert accepted == []


def test_messages_name_the_problem(corpus_run):
    _, _, rows, _, _ = corpus_run
    table = scores_by_student(rows)
    assert "SyntaxError" in table["syntax_error"]["test_softmax"][2]
    assert "time limit" in table["infinite_loop"]["test_cross_entropy_cost"][2]
    assert "MemoryError" in table["memory_bomb"]["test_softmax_cost_grad"][2]
    assert "kernel stopped" in table["os_exit_in_function"]["test_softmax_cost_grad"][2]
    assert "empty" in table["empty_file"]["test_softmax"][2]
    assert "UTF-8" in table["not_utf8"]["test_softmax"][2]
    assert "plain numpy array" in table["returns_ndarray_subclass"]["test_softmax"][2]


def test_feedback_stays_small_and_hides_hidden_tests(corpus_run):
    corpus, _, _, out, _ = corpus_run
    for student in corpus:
        page = (out / "feedback" / student / f"{A}.html").read_text(errors="replace")
        assert "BEGIN HIDDEN TESTS" not in page and "run_in_process" not in page
        assert len(page) < 3_000_000, student
