import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Code that a test sends into a sandboxed kernel as a notebook cell, not a test module.
collect_ignore = ["sandbox_census_cell.py"]

# `make test` hands whole files to two workers in collection order (pytest-xdist's loadfile):
# the files that grade whole classes go first, so that no long file starts last while the
# other worker has nothing left to do. Order only: every test still runs.
LONGEST_FIRST = ("test_grading_classes.py", "test_grading_resume.py", "test_probe_channel.py",
                 "test_grading_run.py", "test_grading_hostile.py", "test_sandbox_census.py",
                 "test_publish.py", "test_browser.py", "test_notebooks.py")


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each file is kept


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """Every assignment's class graded in one run, shared by the session's workers (read
    only; change a `copy_of` it). See tests/graded_class.py."""
    from tests.graded_class import shared_class

    return shared_class(tmp_path_factory)
