"""`grade --profile`: where a submission's time goes.

The stopwatch is checked on a clock the test drives; the profile of a real run on the
session's graded class (tests/graded_class.py, graded with `--profile`).
"""

import json
from collections import defaultdict

import pytest

from autograder import profile as profile_module
from autograder.profile import PHASES, Profile, Stopwatch
from autograder.submissions import REFUSED_STATUSES


class Clock:
    """time.perf_counter, moved by the test."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(profile_module.time, "perf_counter", fake)
    return fake


def test_nested_phases_are_counted_once_each_and_add_up_to_the_time_spent(clock):
    watch = Stopwatch()
    with watch.phase("execute"):
        clock.now += 1.0
        with watch.phase("kernel_start"):
            clock.now += 0.25
        clock.now += 2.0
        with watch.phase("judge"):
            clock.now += 0.5
            with watch.phase("kernel_stop"):
                clock.now += 0.125
    with watch.phase("execute"):  # a phase entered again adds up
        clock.now += 3.0
    taken = watch.take()
    assert taken == {"execute": 6.0, "kernel_start": 0.25, "judge": 0.5, "kernel_stop": 0.125}
    assert sum(taken.values()) == clock.now - 100.0
    assert watch.take() == {}


def test_a_phase_that_raises_is_still_counted(clock):
    watch = Stopwatch()
    with pytest.raises(RuntimeError, match="kernel died"):
        with watch.phase("execute"):
            clock.now += 0.75
            raise RuntimeError("kernel died")
    assert watch.take() == {"execute": 0.75}


def test_the_line_gives_each_phase_as_a_mean_in_the_pipeline_order():
    spent = Profile()
    spent.add({"record": 0.5, "execute": 2.0})
    spent.add({"execute": 4.0, "kernel_start": 1.0})
    line = spent.line()
    assert line.startswith("profile, seconds per submission (mean of 2): ")
    assert (f"{PHASES['kernel_start']} 0.500, {PHASES['execute']} 3.000, "
            f"{PHASES['record']} 0.250; total 3.750") in line
    assert Profile().line() == "profile: no submission was graded in this run"


def test_the_profile_of_a_class_counts_the_submissions_that_ran_a_kernel(graded_class):
    assert graded_class.returncode == 0, graded_class.stderr[-3000:]
    written = json.loads(graded_class.profile.read_text())
    statuses = defaultdict(set)
    for row in graded_class.rows():
        statuses[(row["student_id"], row["assignment"])].add(row["status"])
    ran = [pair for pair, seen in statuses.items() if not seen <= REFUSED_STATUSES]
    refused = [pair for pair, seen in statuses.items() if seen <= REFUSED_STATUSES]
    assert ran and refused  # the class has both kinds
    assert written["submissions"] == len(ran)
    # every phase of a submission graded in a kernel took time; nothing else was timed
    assert set(written["seconds"]) == set(PHASES)
    assert all(seconds > 0 for seconds in written["seconds"].values()), written
    line = next(x for x in graded_class.stdout.splitlines() if x.startswith("profile"))
    assert f"(mean of {len(ran)})" in line
    total = sum(written["seconds"].values()) / len(ran)
    assert line.endswith(f"; total {total:.3f}")
