"""The published course launches on Binder: what repo2docker sees, and what a student runs.

One publish (through the command line, with `--repository` overriding the constant) serves
every test. repo2docker's own detection is run on it offline (`--no-build`: no container
engine), and a fresh virtual environment built from the published folder alone runs every
published notebook filled with the masters' answers.
"""

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import tomllib
import yaml

from autograder.__main__ import main
from autograder.course import assignments
from autograder.publish import PUBLIC_REPOSITORY, binder_badges
from tests.helpers import REPO, solution_sources, with_solutions

REPOSITORY = "someone-else/their-course"  # not the constant: --repository must win
ANSWER_MARKERS = ("### BEGIN SOLUTION", "BEGIN HIDDEN TESTS")
BIN = Path(sys.executable).parent


def run_publish(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "autograder", "publish", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    dest = tmp_path_factory.mktemp("published") / "course-public"
    proc = run_publish(str(dest), "--repository", REPOSITORY)
    assert proc.returncode == 0, proc.stderr
    return dest


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


# ---------------------------------------------------------------- what the folder holds


def test_published_folder_holds_the_student_course_only(published):
    assert sorted(p.name for p in published.iterdir()) == [
        "README.md", "course_lib", "environment.yml", "jupyter", "notebooks",
        "pyproject.toml", "start"]
    for private in ("autograder", "tests", "bench", "binder", ".binder", "docs"):
        assert not (published / private).exists(), private
    for path in published.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="ignore")
            for marker in ANSWER_MARKERS:
                assert marker not in text, f"{path.relative_to(published)} holds {marker!r}"


def test_publish_refuses_a_folder_that_is_not_empty(published):
    again = run_publish(str(published))
    assert again.returncode == 2 and "not empty" in again.stderr, again.stderr


def test_start_is_published_unchanged_and_executable(published):
    start = published / "start"
    assert start.read_bytes() == (REPO / "start").read_bytes()
    mode = start.stat().st_mode
    assert mode & stat.S_IXUSR and mode & stat.S_IXGRP and mode & stat.S_IXOTH, oct(mode)


def test_student_jupyter_config_is_published_unchanged(published):
    """jupyter/student/ as the repository has it (tracked or new, not what Jupyter writes
    there at run time, which .gitignore lists)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "jupyter/student"],
        cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    source = {name for name in listed if (REPO / name).is_file()}
    assert "jupyter/student/jupyter_server_config.json" in source
    copied = {str(p.relative_to(published)) for p in (published / "jupyter").rglob("*")
              if p.is_file()}
    assert copied == source
    for name in source:
        assert (published / name).read_bytes() == (REPO / name).read_bytes(), name


# ---------------------------------------------------------------- Binder badges


BADGE = re.compile(r"\[!\[[^\]]*\]\(https://mybinder\.org/badge_logo\.svg\)\]\(([^)\s]+)\)")


def test_readme_has_one_binder_badge_per_notebook(published):
    readme = (published / "README.md").read_text()
    notebooks = sorted(p.name for p in (published / "notebooks").glob("*.ipynb"))
    assert len(notebooks) == len(assignments()) == 5
    lines = [line for line in readme.splitlines() if BADGE.search(line)]
    assert len(lines) == len(notebooks) and len(BADGE.findall(readme)) == len(notebooks)
    for line, name in zip(lines, notebooks, strict=True):
        assert BADGE.search(line).group(1) == (
            f"https://mybinder.org/v2/gh/{REPOSITORY}/HEAD?labpath=notebooks%2F{name}")
        assert line.rstrip().endswith(Path(name).stem), line
    assert PUBLIC_REPOSITORY not in readme  # --repository overrides the constant
    assert binder_badges(REPOSITORY) in readme


def test_badges_command_prints_the_course_readme_badges(capsys):
    assert main(["publish", "--badges"]) == 0
    printed = capsys.readouterr().out
    assert printed == binder_badges() + "\n"
    assert printed.count(f"/v2/gh/{PUBLIC_REPOSITORY}/HEAD?labpath=notebooks%2F") == 5
    assert binder_badges() in (REPO / "README.md").read_text()  # the course README's
    assert main(["publish", "--badges", "--repository", REPOSITORY]) == 0
    assert capsys.readouterr().out == binder_badges(REPOSITORY) + "\n"


@pytest.mark.parametrize("wrong", ["course-public", "https://github.com/a/b", "a/b/c"])
def test_publish_refuses_a_repository_that_is_not_owner_slash_name(wrong, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["publish", str(tmp_path / "out"), "--repository", wrong])
    assert stop.value.code == 2 and "OWNER/NAME" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_published_pyproject_installs_course_lib_alone(published):
    setuptools = tomllib.loads((published / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["packages"] == {"find": {"include": ["course_lib*"]}}
    assert setuptools["package-data"] == {"course_lib": ["checks/values/*.json"]}


# ---------------------------------------------------------------- repo2docker


def repo2docker():
    exe = BIN / "jupyter-repo2docker"
    assert exe.exists(), ("jupyter-repo2docker is a dev dependency: "
                          "pip install -e '.[dev]' (or pip install jupyter-repo2docker)")
    return exe


@pytest.mark.filterwarnings("ignore:pythonjsonlogger.jsonlogger has been moved")
def test_repo2docker_picks_the_conda_buildpack(published, monkeypatch):
    """repo2docker's own detection, through its Python API: environment.yml at the root
    (no binder/ folder hiding it), `start` as the entrypoint, no postBuild."""
    repo2docker()
    from repo2docker.app import Repo2Docker
    from repo2docker.buildpacks import CondaBuildPack

    app = Repo2Docker()
    monkeypatch.chdir(published)
    picked = next((bp for bp in (BP(base_image=app.base_image) for BP in app.buildpacks)
                   if bp.detect()), None) or app.default_buildpack(base_image=app.base_image)
    assert type(picked) is CondaBuildPack
    assert picked.binder_dir == "" and picked.environment_yaml_path == "environment.yml"
    assert picked.python_version == "3.11"
    assert picked.get_start_script() == "${REPO_DIR}/start"
    assert picked.get_post_build_scripts() == []


def test_repo2docker_renders_a_dockerfile_that_installs_the_project_after_copying_it(
        published, tmp_path):
    """`jupyter-repo2docker --no-build --debug` prints the Dockerfile without any container
    engine (DOCKER_HOST points nowhere). The environment, whose pip section holds `-e .`, is
    installed after the repository is copied in; `start` is the entrypoint."""
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    proc = subprocess.run(
        [str(repo2docker()), "--no-build", "--debug", "--user-id", "1000",
         "--user-name", "jovyan", str(published)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Building conda environment for python=3.11" in proc.stderr
    dockerfile = proc.stdout
    copy = dockerfile.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    install = dockerfile.index('env update -p ${NB_PYTHON_PREFIX} --file "environment.yml"')
    assert copy < install, "the environment is installed before the project is copied in"
    assert dockerfile.count('--file "environment.yml"') == 1
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/start"' in dockerfile
    assert "RUN ./postBuild" not in dockerfile


# ---------------------------------------------------------------- a fresh environment

RUNNER = r'''
"""Run in the fresh environment: execute each notebook in turn, print a JSON report."""
import json
import sys
import time

import nbformat
from nbclient import NotebookClient

workdir, *paths = sys.argv[1:]
report = []
for path in paths:
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": workdir}}).execute()
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            cells.append({
                "grade": bool(cell.metadata.get("nbgrader", {}).get("grade")),
                "source": cell.source[:200],
                "errors": [f"{o.ename}: {o.evalue}" for o in cell.outputs
                           if o.output_type == "error"],
                "stream": "".join(o.get("text", "") for o in cell.outputs
                                  if o.output_type == "stream"),
            })
    report.append({"notebook": path, "seconds": time.perf_counter() - started,
                   "cells": cells})
print(json.dumps(report))
'''

PROBE = ("import json, sys\nimport course_lib\n"
         "print('PROBE' + json.dumps({'prefix': sys.prefix, 'course_lib': course_lib.__file__}))")


def pip_requirements(dest):
    """What repo2docker would install from the published environment.yml, for pip: its
    conda packages (conda's `name=version` as `name==version`; not python, not pip), and
    its pip section with the project itself (`-e .`) as the published folder."""
    env = yaml.safe_load((dest / "environment.yml").read_text())
    requirements = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep.get("pip", []):
                local = re.fullmatch(r"(-e\s+|--editable=)?\.", line.strip())
                requirements.append(str(dest) if local else line)
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+", dep).group()
        if name not in ("python", "pip"):
            requirements.append(re.sub(r"^([A-Za-z0-9_.\-]+)=(?!=)", r"\1==", dep))
    assert str(dest) in requirements, "environment.yml's pip section must install the project"
    return requirements


def filled(path):
    """The published notebook at `path` with every solution cell holding the master's."""
    nb = nbformat.read(path, as_version=4)
    stubs = [c.source for c in nb.cells if _nbgrader(c).get("solution")]
    assert stubs and all("raise NotImplementedError()" in s for s in stubs), path.stem
    nb = with_solutions(path.stem, solution_sources(path.stem), base=nb)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    return nb


def test_fresh_environment_runs_every_filled_notebook(published, tmp_path):
    """A new venv (not this one, no system packages) gets what the published
    environment.yml lists, the course from the published folder (not an editable install,
    so course_lib must be complete as packaged); every published notebook, its answers
    filled in from the masters, then runs in one process, one after the other, on that
    venv's own kernel, from the published notebooks/ folder (as on Binder). No cell may
    raise; every graded check prints its success."""
    started = time.perf_counter()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH",
                        "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", PYTHONNOUSERSITE="1",
               JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"), MPLBACKEND="Agg",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-input", "--progress-bar", "off",
         "--no-compile",  # Python compiles what the notebooks import, when they import it
         *pip_requirements(published)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    installed = time.perf_counter()

    folder = tmp_path / "filled"
    folder.mkdir()
    names = sorted(p.name for p in (published / "notebooks").glob("*.ipynb"))
    assert names == [f"{a}.ipynb" for a in assignments()]
    for name in names:
        nbformat.write(filled(published / "notebooks" / name), folder / name)
    runner = tmp_path / "run_notebooks.py"
    runner.write_text(RUNNER)
    proc = subprocess.run([str(python), str(runner), str(published / "notebooks"),
                           *(str(folder / n) for n in names)],
                          cwd=published / "notebooks", env=env, capture_output=True,
                          text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.splitlines()[-1])
    print(f"fresh environment: install {installed - started:.0f} s, notebooks "
          + ", ".join(f"{Path(r['notebook']).stem} {r['seconds']:.0f} s" for r in report))

    assert [Path(r["notebook"]).name for r in report] == names
    for entry in report:
        errors = [(c["source"][:80], c["errors"]) for c in entry["cells"] if c["errors"]]
        assert errors == [], (entry["notebook"], errors)
        for cell in entry["cells"]:
            if cell["grade"]:
                assert "✓" in cell["stream"], (entry["notebook"], cell["source"][:80])
        probe = json.loads(entry["cells"][-1]["stream"].split("PROBE", 1)[1])
        assert Path(probe["prefix"]).resolve() == venv.resolve(), probe
        assert Path(probe["course_lib"]).resolve().is_relative_to(venv.resolve()), probe
