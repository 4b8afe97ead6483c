"""Grader-side checks: for each graded test cell, the calls to make and how to judge them.

Each assignment has a module here with a dict `CHECKS` from the test cell's
grade_id to a function `cases(rng) -> list[Case]`. The cases' inputs are drawn
from the grader's generator; their judges compare the student's results with
the reference outside the student's kernel.
"""

import importlib

ASSIGNMENT_MODULES = {
    "01_hyperparameter_search": "autograder.checks.hyperparameter_search",
    "02_batchnorm_derivation": "autograder.checks.batchnorm_derivation",
    "03_batchnorm_test_time": "autograder.checks.batchnorm_test_time",
    "04_softmax_vs_hardmax": "autograder.checks.softmax_vs_hardmax",
    "05_minimal_framework": "autograder.checks.minimal_framework",
}


def checks_for(assignment):
    """The CHECKS dict of `assignment` (KeyError naming the known assignments)."""
    if assignment not in ASSIGNMENT_MODULES:
        raise KeyError(f"no checks for assignment {assignment!r}; "
                       f"known: {', '.join(sorted(ASSIGNMENT_MODULES))}")
    return importlib.import_module(ASSIGNMENT_MODULES[assignment]).CHECKS
