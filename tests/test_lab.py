"""`make lab` starts JupyterLab and serves the student notebooks (headless, on loopback)."""

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request

from tests.helpers import REPO

PORT = 18931


def _get(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=5) as response:
        return response.status, response.read()


def test_make_lab_serves_the_notebooks(tmp_path):
    # JupyterLab autosaves what it opens: serve a copy of notebooks/.
    served = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", served)
    args = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={PORT} "
            "--ServerApp.port_retries=0 --IdentityProvider.token=")
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_DIR={served}", f"LAB_ARGS={args}"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
            try:
                status, _ = _get("/api/status")
                break
            except OSError:
                assert time.monotonic() < deadline, "JupyterLab did not start in 90 s"
                time.sleep(0.5)
        names = sorted(p.name for p in served.glob("*.ipynb"))
        status, body = _get("/api/contents/")
        listed = sorted(item["name"] for item in json.loads(body)["content"])
        assert status == 200 and set(names) <= set(listed)
        for name in names:
            status, body = _get(f"/api/contents/{name}")
            model = json.loads(body)
            assert status == 200 and model["type"] == "notebook" and model["content"]["cells"]
            status, page = _get(f"/lab/tree/{name}")
            assert status == 200 and b"JupyterLab" in page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
