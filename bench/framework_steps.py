"""Time 1000 training steps of the lecture's example on course_lib.graph, against a plain loop.

    python bench/framework_steps.py [--repeat 5]

Each step of the framework runs the forward pass, a backward pass and the update; the
backward pass is the instructor's reference solution (the one the students write). The
anchor is the same 1000 updates written by hand, `w -= lr * (2*w - 10)`. Each figure is
the best of --repeat runs. Issue 5 asks for 1000 steps in under 0.5 s.
"""

import argparse
import time

import numpy as np

import course_lib.graph as fw
from autograder.reference.minimal_framework import backward

STEPS = 1000
LEARNING_RATE = 0.01
BUDGET = 0.5
COEFFICIENTS = np.array([[1.0], [-10.0], [25.0]])


def framework_seconds(with_placeholder):
    """Seconds for STEPS runs of the train op, and w at the end."""
    w = fw.Variable(0.0, name="w")
    if with_placeholder:
        x = fw.placeholder((3, 1), name="x")
        cost = x[0][0] * w**2 + x[1][0] * w + x[2][0]
        feed = {x: COEFFICIENTS}
    else:
        cost, feed = w**2 - 10 * w + 25, None
    train = fw.GradientDescentOptimizer(LEARNING_RATE, backward=backward).minimize(cost)
    session = fw.Session()
    session.run(fw.variables_initializer([w]))
    start = time.perf_counter()
    for _ in range(STEPS):
        session.run(train, feed_dict=feed)
    return time.perf_counter() - start, session.run(w)


def plain_seconds():
    """Seconds for the same STEPS updates as a plain Python loop, and w at the end."""
    start = time.perf_counter()
    w = 0.0
    for _ in range(STEPS):
        w -= LEARNING_RATE * (2 * w - 10)
    return time.perf_counter() - start, w


def best(run, repeat):
    results = [run() for _ in range(repeat)]
    return min(seconds for seconds, _ in results), results[0][1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (best is kept)")
    args = parser.parse_args(argv)
    anchor, w_plain = best(plain_seconds, args.repeat)
    print(f"{STEPS} steps of the lecture's example, best of {args.repeat} runs")
    print(f"  plain loop w -= lr*(2w - 10):   {anchor * 1e3:9.3f} ms   w = {w_plain!r}")
    worst = 0.0
    for label, placeholder in [("framework, constants", False),
                               ("framework, placeholder", True)]:
        seconds, w = best(lambda p=placeholder: framework_seconds(p), args.repeat)
        worst = max(worst, seconds)
        print(f"  {label + ':':31} {seconds * 1e3:9.3f} ms   w = {w!r}   "
              f"ratio to the plain loop: {seconds / anchor:,.0f}")
    verdict = "within" if worst < BUDGET else "OVER"
    print(f"slowest framework run: {worst:.3f} s for {STEPS} steps, {verdict} the "
          f"{BUDGET} s budget")
    return 0 if worst < BUDGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
