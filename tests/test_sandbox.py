"""The kernel sandbox: what it hides, what it keeps, and its fallback without namespaces."""

import json
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder import sandbox
from autograder.course import AUTOGRADER_DIR, REPO_DIR


def test_describe_says_what_is_applied_and_warns_without_namespaces():
    limits = sandbox.Limits(memory_bytes=2**30, cpu_seconds=30)
    on = sandbox.describe(True, "", limits)
    off = sandbox.describe(False, "the grader is not running as root", limits)
    assert "namespaces" in on and "1024 MiB" in on and "30 s" in on
    assert "WARNING" in off and "not running as root" in off and "can read files" in off


def test_kernel_reads_the_course_and_python_and_not_the_masters(tmp_path):
    read = sandbox.paths_to_read()
    assert any(p == REPO_DIR or p in REPO_DIR.parents for p in read)
    prefix = Path(sys.prefix).resolve()
    assert any(p == prefix or p in prefix.parents for p in read)
    hidden = sandbox.paths_to_hide(tmp_path / "out", tmp_path / "subs")
    assert AUTOGRADER_DIR in hidden and REPO_DIR / ".git" in hidden
    assert (tmp_path / "out").resolve() in hidden and (tmp_path / "subs").resolve() in hidden


def _kernelspec(tmp_path, enabled):
    old = os.environ.get("JUPYTER_PATH")
    try:
        overrides = sandbox.install_kernel(tmp_path, hide=[tmp_path / "secret"],
                                           limits=sandbox.Limits(), enabled=enabled, uid=61999)
        spec = json.loads((tmp_path / "share" / "kernels" / sandbox.KERNEL_NAME /
                           "kernel.json").read_text())
        return overrides, spec
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old


def test_isolated_kernelspec_uses_namespaces_and_unix_sockets(tmp_path):
    overrides, spec = _kernelspec(tmp_path, True)
    assert spec["argv"][0] == "unshare" and "--net" in spec["argv"]
    assert spec["interrupt_mode"] == "message"
    assert str(tmp_path / "secret") in spec["env"]["SANDBOX_HIDE"]
    assert overrides["KernelManager.transport"] == "ipc"


def test_fallback_kernel_applies_the_limits_and_runs(tmp_path):
    overrides, spec = _kernelspec(tmp_path, False)
    assert spec["argv"][0] == "prlimit" and "unshare" not in spec["argv"]
    assert "KernelManager.transport" not in overrides
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import resource\nprint(resource.getrlimit(resource.RLIMIT_AS)[0])")])
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(tmp_path / "share")
    try:
        NotebookClient(nb, kernel_name=sandbox.KERNEL_NAME, timeout=60).execute()
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old
    assert nb.cells[0].outputs[0]["text"].strip() == str(sandbox.Limits().memory_bytes)
