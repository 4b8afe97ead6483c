"""Generate the student notebooks from the masters with nbgrader's generate_assignment."""

import shutil
import tempfile
from pathlib import Path

from autograder.course import NOTEBOOKS_DIR, SOURCE_DIR, assignments, nbgrader_api


class ReleaseError(RuntimeError):
    """generate_assignment failed for a master; the message holds nbgrader's log."""


def release(out_dir=NOTEBOOKS_DIR, names=None):
    """Write `<out_dir>/<assignment>.ipynb` for each assignment; return the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="course-release-") as work:
        shutil.copytree(SOURCE_DIR, Path(work) / "source")
        api = nbgrader_api(work)
        for name in names or assignments():
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                raise ReleaseError(f"could not release {name}:\n{result.get('log', '')}"
                                   f"{result.get('error', '')}")
            target = out_dir / f"{name}.ipynb"
            shutil.copyfile(Path(work) / "release" / name / f"{name}.ipynb", target)
            written.append(target)
    return written
