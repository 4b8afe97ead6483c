"""Every assignment's class judged in process on four seeds: no kernel, the grader's cases.

The classes are those of tests/test_grading_classes.py (each assignment's `RIGHT` and
`MISTAKES`): right variants pass every case on every seed, and each mistake fails exactly
its cells, with its words, on every seed.
"""

import numpy as np
import pytest

from tests.graded_class import CLASSES
from tests.helpers import assert_fails_exactly, in_process_failures

SEEDS = [0, 1, 2, 3]
RIGHT = [(a, s) for a, m in CLASSES.items() for s in m.RIGHT]
MISTAKES = [(a, s) for a, m in CLASSES.items() for s in m.MISTAKES]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("assignment, student", RIGHT)
def test_right_variants_pass_every_case(assignment, student, seed):
    with np.errstate(all="ignore"):
        assert in_process_failures(assignment, CLASSES[assignment].RIGHT[student], seed) == {}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("assignment, student", MISTAKES)
def test_each_mistake_fails_exactly_its_cells(assignment, student, seed):
    sources, expected = CLASSES[assignment].MISTAKES[student]
    with np.errstate(all="ignore"):
        failed = in_process_failures(assignment, sources, seed)
    assert_fails_exactly(failed, expected)
