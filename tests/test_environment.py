"""The Binder environment and the pip project declare the same runtime packages."""

import re

import tomllib
import yaml

from tests.helpers import REPO


def _split(requirement):
    name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", requirement.strip()).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pip_side = dict(_split(r) for r in project["dependencies"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda_side = dict(_split(d) for d in env["dependencies"]
                      if isinstance(d, str) and not d.startswith(("python", "pip")))
    assert conda_side == pip_side


def test_environment_installs_the_project():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert pip_lists and "-e ." in pip_lists[0]
