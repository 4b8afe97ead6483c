"""Time one call of 01's black-box objective (`TinyNetworkTask`), against one gradient step.

    python bench/tiny_network_objective.py [--repeat 20]

A call trains the tiny network for `steps` full-batch steps and evaluates it; the anchor is
one `cost_and_gradients` evaluation on the same data, measured in the same run. Their ratio
is what a call costs in gradient evaluations: `steps` plus the evaluation is the floor, so a
ratio near it means the objective spends its time on the arithmetic, not on overhead. The
notebook's random-search and zoom demos call the objective a few hundred times, so a call
must stay in the tens of milliseconds (the notebook says so). Figures are medians.
"""

import argparse
import statistics
import time

from course_lib.tiny_network import TinyNetworkTask

PARAMS = {"learning_rate": 0.05, "beta": 0.95}


def median_seconds(function, repeat):
    """Median wall time of `function()` over `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    task = TinyNetworkTask()
    objective = median_seconds(lambda: task(PARAMS), args.repeat)
    step = median_seconds(lambda: task.cost_and_gradients(task._initial), args.repeat * 10)
    print(f"one objective call ({task.steps} training steps): {objective * 1e3:.1f} ms (median)")
    print(f"anchor, one gradient evaluation: {step * 1e3:.3f} ms (median)")
    print(f"ratio: {objective / step:.0f} gradient evaluations per call "
          f"(floor: about {task.steps + 1})")


if __name__ == "__main__":
    main()
