"""Copy what students need into a folder of its own, to push as the public course repository.

Published: notebooks/, course_lib/, environment.yml, a pyproject.toml that installs
course_lib alone, and a short README. Never published: autograder/ (masters with
solutions and hidden tests, grader cases, references), tests/, bench/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from autograder.course import REPO_DIR

STUDENT_README = """# Deep-learning tuning course: student notebooks

Open the notebooks in JupyterLab:

    python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/jupyter lab notebooks/

or with conda: `conda env create -f environment.yml`, then `jupyter lab notebooks/`.
Fill in the cells that say `raise NotImplementedError()`, run the check below each one,
and submit the notebook as your instructor tells you.
"""


def publish(dest: str | os.PathLike[str]) -> Path:
    """Write the student-facing course into `dest` (which must not exist or be empty)."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty: publish into a new or empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(REPO_DIR / "notebooks", dest / "notebooks", ignore=ignore)
    shutil.copytree(REPO_DIR / "course_lib", dest / "course_lib", ignore=ignore)
    shutil.copyfile(REPO_DIR / "environment.yml", dest / "environment.yml")
    pyproject = (REPO_DIR / "pyproject.toml").read_text()
    pyproject = pyproject.replace('include = ["course_lib*", "autograder*"]',
                                  'include = ["course_lib*"]')
    pyproject = pyproject.replace(
        '[tool.setuptools.package-data]\nautograder = ["nbgrader_config.py", "sandbox/*.sh", '
        '"source/*/*.ipynb"]\n', '')
    (dest / "pyproject.toml").write_text(pyproject)
    (dest / "README.md").write_text(STUDENT_README)
    return dest
