"""A corpus of hostile and broken submissions: each gets the expected score and a named status.

Every case is a submission of 04_softmax_vs_hardmax built from the master (whose answers are
right) with one thing done to it. All are graded in one run, two at a time, in the sandbox,
beside honest students (whose ids a shell or a spreadsheet would read as patterns or formulas)
who must get full marks whatever the others did.
"""

import copy
import os
import socket
import threading
from html.parser import HTMLParser

import nbformat
import pytest

from autograder.course import graded_cells
from tests.helpers import (
    REPO,
    master,
    run_grader,
    scores_by_student,
    student_version,
    write_submission,
)

A = "04_softmax_vs_hardmax"
POINTS = dict(graded_cells(A))  # the master's points per graded cell
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


def _insert_demo(after, source):
    """A new cell tagged 'demo' after the cell `after` (the grader does not run it)."""
    def change(nb):
        index = nb.cells.index(_cell(nb, after))
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["demo"]}))
        return nb
    return change


def _append_cells(*cells):
    def change(nb):
        nb.cells.extend(cells)
        return nb
    return change


def _loader(file_name, marker):
    """An answer cell that looks everywhere it can for `file_name` holding `marker`, and runs it.

    /proc and /sys are left out: they hold no files of the course and walking them is slow.
    """
    return ("import os\n"
            "def _find():\n"
            "    for top, dirs, files in os.walk('/'):\n"
            "        dirs[:] = [d for d in dirs if os.path.join(top, d) not in ('/proc', '/sys')]\n"
            f"        if {file_name!r} in files:\n"
            f"            path = os.path.join(top, {file_name!r})\n"
            "            try:\n"
            "                text = open(path).read()\n"
            "            except OSError:\n"
            "                continue\n"
            f"            if {marker!r} in text:\n"
            "                return text\n"
            f"    raise FileNotFoundError('no readable copy of ' + {file_name!r})\n"
            "exec(_find(), globals())\n")


FLOOD = f"course-flood-{os.getpid()}-"
"""How the flooding students' files are named (this run's own prefix)."""


def _flood(folder):
    """An answer cell that fills `folder` with 32 MB files until the sandbox says no."""
    return (f"for _i in range(40):\n"
            "    try:\n"
            f"        with open('{folder}/{FLOOD}%d' % _i, 'wb') as _f:\n"
            "            _f.write(bytes(32 * 2**20))\n"
            "    except OSError:\n"
            "        break\n\n"
            "def hardmax(Z):\n" + RIGHT_HARDMAX)


def _nested_json(depth):
    return b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": ' + b"[" * depth + \
        b"]" * depth + b'}, "cells": []}'


SECOND_RESULT = (
    "import json as _json\n"
    "from IPython import get_ipython\n"
    "from IPython.display import display\n"
    "_MIME = 'application/vnd.course.probe+json'\n"
    "def _second(result=None):\n"
    "    display({_MIME: {'grade_id': 'test_softmax', 'results': []}}, raw=True)\n")


WRONG_AXIS = "def softmax(Z):\n    T = np.exp(Z)\n    return T / T.sum(axis=1, keepdims=True)\n"


def _from(grade_id):
    """The graded cells from `grade_id` on, in the master's order: where a kernel that died
    in that cell leaves every later cell."""
    ids = list(POINTS)
    return ids[ids.index(grade_id):]


def _expect(default="ok", **by_status):
    """{grade_id: status}: `by_status` maps a status to the grade_ids that get it."""
    expected = {g: default for g in POINTS}
    for status, ids in by_status.items():
        for grade_id in ids:
            expected[grade_id] = status
    return expected


def _corpus(port, other_student_file, host_sockets):
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
            _expect(kernel_died=_from("test_softmax_cost_grad"))),
        "os_exit_at_import": (
            _replace("hardmax", "import os\nos._exit(0)\n"),
            _expect(kernel_died=_from(HARDMAX_IDS[0]))),
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
        "json_nested_100000_deep": (_raw(_nested_json(100_000)), _expect("unreadable_notebook")),
        "json_integer_of_5000_digits": (
            _raw(b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {"n": ' + b"7" * 5000
                 + b'}, "cells": []}'), _expect("unreadable_notebook")),
        "json_cells_not_a_list": (
            _raw(b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {"a": 1}}'),
            _expect("unreadable_notebook")),
        "json_source_not_text": (
            _raw(b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type":'
                 b' "code", "id": "x", "metadata": {}, "outputs": [], "execution_count": null,'
                 b' "source": 12}]}'), _expect("unreadable_notebook")),
        # answers from files: nothing of the course but course_lib is visible in the sandbox
        "loads_the_reference_from_any_visible_path": (
            _replace("softmax", _loader("softmax_vs_hardmax.py", "def softmax(")),
            _expect(cell_error=SOFTMAX_IDS, exception=["test_softmax_cost_grad"])),
        "loads_answers_from_the_tests": (
            _replace("hardmax", _loader("test_grading_hostile.py", "RIGHT_HARDMAX")),
            _expect(cell_error=HARDMAX_IDS)),
        "loads_the_master_from_any_visible_path": (
            _replace("softmax", _loader(f"{A}.ipynb", "BEGIN SOLUTION")),
            _expect(cell_error=SOFTMAX_IDS, exception=["test_softmax_cost_grad"])),
        # places outside the work folder: private, bounded, gone after the run
        "floods_var_tmp": (_replace("hardmax", _flood("/var/tmp")), _expect()),
        "floods_dev_shm": (_replace("hardmax", _flood("/dev/shm")), _expect()),
        "reaches_a_host_socket": (
            _replace("softmax_cost_grad",
                     "import socket\n\ndef softmax_cost_grad(Z, Y):\n"
                     f"    for address in {host_sockets!r}:\n"
                     "        s = socket.socket(socket.AF_UNIX)\n"
                     "        s.settimeout(2)\n"
                     "        try:\n"
                     "            s.connect(address)\n"
                     "        except OSError:\n"
                     "            continue\n"
                     "        finally:\n"
                     "            s.close()\n"
                     "        raise RuntimeError('a host socket answered')\n"
                     + RIGHT_GRAD),
            _expect()),
        # output: every message counts against the caps, probe-looking or not
        "floods_output_with_the_probe_type": (
            _insert_after("softmax", "from IPython.display import display\n"
                          "for _ in range(100):\n"
                          "    display({'application/vnd.course.probe+json': {'x': 'y' * 10**6}},"
                          " raw=True)\n"),
            _expect()),
        "floods_output_with_display_updates": (
            _insert_after("softmax", "from IPython.display import display, update_display\n"
                          "display('start', display_id='flood')\n"
                          "for _ in range(100):\n"
                          "    update_display('y' * 10**6, display_id='flood')\n"),
            _expect()),
        # the verdict channel: one result per call, from the grader's own call
        "second_result_after_every_cell": (
            _insert_after("softmax", SECOND_RESULT
                          + "get_ipython().events.register('post_run_cell', _second)\n"),
            _expect("tampering")),
        "input_transformer_adds_a_result": (
            _insert_after("softmax", SECOND_RESULT
                          + "get_ipython().input_transformers_post.append(\n"
                          "    lambda lines: lines + ['\\n_second()\\n'])\n"),
            _expect("tampering")),
        # derivations must be derived
        "numerical_gradient": (
            _replace("softmax_cost_grad",
                     "from course_lib.gradcheck import numerical_gradient\n\n"
                     "def softmax_cost_grad(Z, Y):\n"
                     "    return numerical_gradient(\n"
                     "        lambda Zc: cross_entropy_cost(softmax(Zc), Y), Z.copy())\n"),
            _expect(wrong_answer=["test_softmax_cost_grad"])),
        # demo cells are not run when grading
        "answer_needs_a_demo_cell": (
            _both(_insert_demo("softmax", "def column_max(Z):\n"
                               "    return Z.max(axis=0, keepdims=True)\n"),
                  _replace("softmax", "def softmax(Z):\n    T = np.exp(Z - column_max(Z))\n"
                                      "    return T / T.sum(axis=0, keepdims=True)\n")),
            _expect(uses_demo_cell=[*SOFTMAX_IDS, "test_softmax_cost_grad"])),
        # feedback runs nothing the student wrote
        "script_in_markdown_and_html_output": (
            _append_cells(
                nbformat.v4.new_markdown_cell(
                    "<script>document.title = 'pwned'</script>\n"
                    "<img src=x onerror=\"alert(1)\"> <iframe src=\"https://example.org\">"
                    "</iframe> [click](javascript:alert(2))"),
                nbformat.v4.new_code_cell(
                    "from IPython.display import HTML, display\n"
                    "display(HTML('<script>alert(3)</script><b onmouseover=alert(4)>x</b>'))\n")),
            _expect()),
    }


# Honest students whose ids are patterns to a shell (nbgrader globs paths) or formulas to a
# spreadsheet: each must be graded as exactly their own work.
HONEST = {"zz_honest": "master", "extra_files": "master", "[abc]": "master", "*": "master",
          "a": "untouched", "b": "untouched", "=1+1": "master", "@SUM(A1)": "master",
          "+cmd": "master", "-2+3": "master"}
SYMLINKED = ("links_to_the_master", "links_to_another_student")


def _csv_id(student):
    """How a student id reads in grades.csv: formulas are neutralised with a leading quote."""
    return "'" + student if student[:1] in ("=", "+", "-", "@") else student


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    host_dir = tmp_path_factory.mktemp("host-sockets")
    unix_listeners = []
    host_sockets = (str(host_dir / "host.sock"), f"\0course-hostile-host-{os.getpid()}")
    for address in host_sockets:
        unix = socket.socket(socket.AF_UNIX)
        unix.bind(address)
        unix.listen(8)
        unix_listeners.append(unix)
        threading.Thread(target=lambda u=unix: accepted.append(u.accept()), daemon=True).start()
    root = tmp_path_factory.mktemp("hostile")
    out = tmp_path_factory.mktemp("hostile-graded")
    other = write_submission(root, "zz_honest", A, master(A))
    corpus = _corpus(port, other, host_sockets)
    for student, (change, _) in corpus.items():
        if change is None:
            (root / student / A).mkdir(parents=True)
            (root / student / A / "notes.txt").write_text("forgot the notebook")
            continue
        write_submission(root, student, A, change(master(A)))
    for student, kind in HONEST.items():
        write_submission(root, student, A, master(A) if kind == "master" else student_version(A))
    (root / "extra_files" / A / "scratch.ipynb").write_text("{}")
    (root / "extra_files" / A / "data.csv").write_text("1,2\n")
    (root / SYMLINKED[0] / A).mkdir(parents=True)
    os.symlink(MASTER_PATH, root / SYMLINKED[0] / A / f"{A}.ipynb")
    os.symlink(root / "zz_honest", root / SYMLINKED[1])
    proc, rows = run_grader(root, out, "--timeout", "10", "--jobs", "2")
    listener.close()
    for unix in unix_listeners:
        unix.close()
    return corpus, proc, rows, out, accepted


def test_the_grader_finishes_and_exits_zero(corpus_run):
    corpus, proc, rows, _, _ = corpus_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "isolation:" in proc.stdout and "WARNING" not in proc.stdout
    students = {r["student_id"] for r in rows}
    assert students == {_csv_id(s) for s in (*corpus, *HONEST, *SYMLINKED)}
    assert len(rows) == len(students) * len(POINTS)


def test_honest_students_get_their_own_grade_whatever_their_id(corpus_run):
    _, _, rows, _, _ = corpus_run
    table = scores_by_student(rows)
    for student, kind in HONEST.items():
        cells = table[_csv_id(student)]
        if kind == "master":
            assert {g: (s, st) for g, (s, st, _) in cells.items()} == {
                g: (p, "ok") for g, p in POINTS.items()}, (student, cells)
        else:
            assert {st for _, st, _ in cells.values()} == {"not_implemented"}, (student, cells)


def test_symlinks_are_refused_not_followed(corpus_run):
    _, _, rows, out, _ = corpus_run
    table = scores_by_student(rows)
    for student in SYMLINKED:
        assert {(s, st) for s, st, _ in table[student].values()} == {(0, "symlink_refused")}
        page = (out / "feedback" / student / f"{A}.html").read_text()
        assert "BEGIN SOLUTION" not in page and "keepdims=True" not in page


def test_no_field_of_grades_csv_is_a_formula(corpus_run):
    *_, out, _ = corpus_run
    import csv

    with open(out / "grades.csv", newline="") as handle:
        for record in csv.reader(handle):
            for field in record:
                assert not field or field[0] not in "=+-@\t\r" or _is_number(field), field


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_nothing_written_in_the_sandbox_is_left_on_the_host(corpus_run):
    for folder in ("/var/tmp", "/dev/shm", "/tmp"):
        assert not [n for n in os.listdir(folder) if n.startswith(FLOOD)], folder


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
    assert "numerical" in table["numerical_gradient"]["test_softmax_cost_grad"][2]
    assert "column_max" in table["answer_needs_a_demo_cell"]["test_softmax"][2]
    assert "demo" in table["answer_needs_a_demo_cell"]["test_softmax"][2]
    assert "second result" in table["second_result_after_every_cell"]["test_hardmax"][2]


def test_feedback_stays_small_and_hides_hidden_tests(corpus_run):
    corpus, _, _, out, _ = corpus_run
    for student in corpus:
        page = (out / "feedback" / student / f"{A}.html").read_text(errors="replace")
        assert "BEGIN HIDDEN TESTS" not in page and "run_in_process" not in page
        assert len(page) < 3_000_000, student


class _ActiveContent(HTMLParser):
    """Collects every tag or attribute of a page that a browser would run or load."""

    RUNS = {"script", "iframe", "object", "embed", "form", "base", "frame", "applet"}

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in self.RUNS:
            self.found.append(tag)
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if name in ("href", "src", "action", "formaction", "xlink:href") and not (
                    value.startswith("#") or value.startswith("data:image/png")
                    or value.startswith("data:image/jpeg")):
                self.found.append(f"{tag} {name}={value[:40]}")


def test_feedback_pages_run_nothing(corpus_run):
    corpus, _, _, out, _ = corpus_run
    for student in (*corpus, *HONEST):
        path = out / "feedback" / student / f"{A}.html"
        if not path.exists():
            continue
        parser = _ActiveContent()
        parser.feed(path.read_text(errors="replace"))
        assert parser.found == [], (student, parser.found[:10])
    page = (out / "feedback" / "script_in_markdown_and_html_output" / f"{A}.html").read_text()
    assert "document.title" in page  # the student's text is shown, as text
