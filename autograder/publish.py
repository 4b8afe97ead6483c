"""Copy what students need into a folder of its own, to push as the public course repository.

Published: notebooks/, course_lib/, environment.yml, a pyproject.toml that installs
course_lib alone, the students' Jupyter set-up (`start`, kept executable, and
jupyter/student/), and a README with one Binder launch badge per notebook. Never published:
autograder/ (masters with solutions and hidden tests, grader cases, references), tests/,
bench/.

Binder (mybinder.org runs repo2docker) builds the published folder as it is, from files at
its root (there is no binder/ folder, which would make repo2docker ignore them):

- environment.yml picks repo2docker's conda buildpack. Its pip section holds `-e .`, a local
  requirement: repo2docker then installs the environment only after copying the repository
  into the image (not in its cached "pre-assemble" step, which sees environment.yml alone),
  and mamba runs pip in environment.yml's folder, so `-e .` installs the published
  pyproject.toml (course_lib). No postBuild is needed.
- `start` is run by repo2docker's entrypoint before the Jupyter server: it points
  JUPYTER_CONFIG_DIR at jupyter/student/ (nbgrader's Validate only, and so on).
- Each badge opens JupyterLab on one notebook (`?labpath=notebooks%2F<name>.ipynb`).

tests/test_publish.py checks all three with repo2docker's own detection, and runs every
published notebook, filled with the masters' answers, in a fresh environment.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote

from autograder.course import NOTEBOOKS_DIR, REPO_DIR

PUBLIC_REPOSITORY = "dl-tuning-course/course-public"
"""GitHub OWNER/NAME of the public course repository, the one Binder builds.

An instructor sets it once, here, to where they push the published folder; the badges of the
published README (and those `python -m autograder publish --badges` prints for the course
README) point at it. `publish --repository OWNER/NAME` overrides it for one run.
"""

BINDER_BADGE = "https://mybinder.org/badge_logo.svg"

# What Jupyter writes into jupyter/student/ when ./start runs it (also in .gitignore):
# never published.
_STUDENT_CONFIG_RUNTIME = ("migrated", "lab")
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")

STUDENT_README = """# Deep-learning tuning course: student notebooks

## In your browser, on Binder

Nothing to install: each badge opens one notebook in JupyterLab (the first start can take a
few minutes). A Binder session is deleted after some time unused and keeps nothing: download
your notebook (File > Download) before you leave.

{badges}

## On your own machine

    python3 -m venv .venv && .venv/bin/pip install -e . && ./start .venv/bin/jupyter lab notebooks/

or with conda: `conda env create -f environment.yml`, `conda activate dl-tuning-course`, then
`./start jupyter lab notebooks/`. (`./start` runs JupyterLab with the course's set-up:
nbgrader's Validate button and nothing else of nbgrader.)

Fill in the cells that say `raise NotImplementedError()`, run the check below each one,
and submit the notebook as your instructor tells you.
"""


def check_repository(repository: str) -> str:
    """`repository` if it is a GitHub OWNER/NAME, else ValueError.

    >>> check_repository("dl-tuning-course/course-public")
    'dl-tuning-course/course-public'
    >>> check_repository("https://github.com/a/b")
    Traceback (most recent call last):
    ...
    ValueError: the public repository must be GitHub's OWNER/NAME, not 'https://github.com/a/b'
    """
    if not _REPOSITORY.match(repository) or repository.endswith((".git", "/.", "/..")):
        raise ValueError(f"the public repository must be GitHub's OWNER/NAME, not {repository!r}")
    return repository


def binder_url(repository: str, notebook: str) -> str:
    """The mybinder.org address that opens `notebooks/<notebook>` of `repository` in JupyterLab.

    >>> binder_url("owner/course", "01_intro.ipynb")
    'https://mybinder.org/v2/gh/owner/course/HEAD?labpath=notebooks%2F01_intro.ipynb'
    """
    path = quote(f"notebooks/{notebook}", safe="")
    return f"https://mybinder.org/v2/gh/{check_repository(repository)}/HEAD?labpath={path}"


def binder_badges(repository: str = PUBLIC_REPOSITORY,
                  notebooks: str | os.PathLike[str] = NOTEBOOKS_DIR) -> str:
    """Markdown: one line per notebook of `notebooks` (course order), a Binder launch badge
    that opens it from `repository` (GitHub OWNER/NAME), named after the notebook.

    The published README holds these lines; `python -m autograder publish --badges` prints
    them for the course README.
    """
    names = sorted(p.name for p in Path(notebooks).glob("*.ipynb"))
    return "\n".join(f"- [![Launch {Path(name).stem} on Binder]({BINDER_BADGE})]"
                     f"({binder_url(repository, name)}) {Path(name).stem}" for name in names)


def student_pyproject() -> str:
    """The course's pyproject.toml, installing course_lib alone (and its data files).

    Raises RuntimeError when the course's pyproject.toml no longer has the lines this
    rewrites, rather than publishing a project that installs the autograder or none.
    """
    text = (REPO_DIR / "pyproject.toml").read_text()
    for old, new in (('include = ["course_lib*", "autograder*"]', 'include = ["course_lib*"]'),
                     ('autograder = ["nbgrader_config.py", "sandbox/*.sh", '
                      '"source/*/*.ipynb"]\n', "")):
        if text.count(old) != 1:
            raise RuntimeError(f"pyproject.toml changed: update autograder/publish.py ({old!r})")
        text = text.replace(old, new)
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the two replacements above are checked
        return text
    setuptools = tomllib.loads(text)["tool"]["setuptools"]
    if (setuptools["packages"] != {"find": {"include": ["course_lib*"]}}
            or set(setuptools.get("package-data", {})) - {"course_lib"}):
        raise RuntimeError("pyproject.toml changed: the published one would not install "
                           "course_lib alone; update autograder/publish.py")
    return text


def _ignore_student_runtime(folder: str, names: list[str]) -> set[str]:
    """copytree's ignore for jupyter/student/: what Jupyter writes there at run time."""
    ignored = {n for n in names if n in {"__pycache__", ".ipynb_checkpoints"}}
    if Path(folder) == REPO_DIR / "jupyter" / "student":
        ignored |= {n for n in names if n in _STUDENT_CONFIG_RUNTIME}
    return ignored


def publish(dest: str | os.PathLike[str], repository: str = PUBLIC_REPOSITORY) -> Path:
    """Write the student-facing course into `dest` (which must not exist or be empty), its
    README's Binder badges pointing at `repository` (GitHub OWNER/NAME)."""
    badges = binder_badges(repository)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty: publish into a new or empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(REPO_DIR / "notebooks", dest / "notebooks", ignore=ignore)
    shutil.copytree(REPO_DIR / "course_lib", dest / "course_lib", ignore=ignore)
    shutil.copytree(REPO_DIR / "jupyter" / "student", dest / "jupyter" / "student",
                    ignore=_ignore_student_runtime)
    shutil.copyfile(REPO_DIR / "start", dest / "start")
    (dest / "start").chmod(0o755)
    shutil.copyfile(REPO_DIR / "environment.yml", dest / "environment.yml")
    (dest / "pyproject.toml").write_text(student_pyproject())
    (dest / "README.md").write_text(STUDENT_README.format(badges=badges))
    return dest
