import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Code that a test sends into a sandboxed kernel as a notebook cell, not a test module.
collect_ignore = ["sandbox_census_cell.py"]

# `make test` hands whole files to two workers in collection order (pytest-xdist's loadfile,
# with --no-loadscope-reorder: by default xdist puts the files with most tests first). The
# longest files go first, longest first, so that no long file starts last while the other
# worker has nothing left to do; the first one grades the session's class (graded_class),
# which is ready before any other file asks for it. Seconds are from `--durations` in
# `make test`. Order only: every test still runs.
LONGEST_FIRST = (
    "test_grading_classes.py",  # 45 s: grades the class the instructor-side files read
    "test_browser.py",  # 125
    "test_grading_resume.py",  # 86, half of it a slow student's sleeps
    "test_publish.py",  # 85
    "test_cluster.py",  # 70
    "test_grading_in_process.py",  # 50
    "test_grading_hostile.py",  # 50
    "test_grading_run.py",  # 43
    "test_feedback_pages.py",  # 40
    "test_grading_minimal_framework.py",  # 39
    "test_exercises.py",  # 35
    "test_grading_batchnorm_derivation.py",  # 32
    "test_sandbox.py",  # 32
    "test_notebooks.py",  # 26
    "test_instructor_week.py",  # 25
    "test_sandbox_census.py",  # 22
    "test_formgrader.py",  # 21
)


def pytest_collection_modifyitems(session, config, items):
    missing = [name for name in LONGEST_FIRST
               if not (Path(__file__).parent / name).is_file()]
    if missing:
        raise pytest.UsageError(f"tests/conftest.py LONGEST_FIRST names no file: {missing}")

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
