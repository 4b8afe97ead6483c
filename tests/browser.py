"""What the browser tests share: Debian's Chromium for Playwright, and JupyterLab started by
a make target on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.helpers import REPO

ARTIFACTS_ROOT = Path(os.environ.get("COURSE_TEST_ARTIFACTS", REPO / "test-artifacts"))
"""Where browser tests put their screenshots (gitignored)."""
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""
    except OSError:  # not listening yet
        return 0, b""



@contextlib.contextmanager
def make_jupyterlab(target: str, folder: Path, *make_args: str, extra: str = ""):
    """`make <target>` serving JupyterLab headless on a free port, its settings and
    workspaces in `folder`, the output in `folder/lab.log`; yields its base URL and stops
    the whole process group at the end."""
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(folder / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces")}
    env.pop("JUPYTER_CONFIG_DIR", None)
    port = free_port()
    args = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
            f"--ServerApp.port_retries=0 --IdentityProvider.token= {extra}")
    with (folder / "lab.log").open("wb") as log:
        proc = subprocess.Popen(["make", "-s", target, *make_args, f"LAB_ARGS={args}"],
                                cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while get(f"{base}/api/status")[0] != 200:
                assert proc.poll() is None, (folder / "lab.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "JupyterLab did not start in 120 s"
                time.sleep(0.5)
            yield base
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
