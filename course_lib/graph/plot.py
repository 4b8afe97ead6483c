"""Draw a computation graph with matplotlib: nodes by depth, left to right, edges as arrows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy.typing as npt
    from matplotlib.axes import Axes

    from course_lib.graph.core import Node

_SYMBOLS = {"add": "+", "sub": "\N{MINUS SIGN}", "mul": "\N{MULTIPLICATION SIGN}"}
_COLOURS = {"variable": "#9ecae1", "placeholder": "#fdd0a2", "constant": "#e0e0e0"}
_BOX = (0.76, 0.7)
"""Width and height of a node's box, in units of the layout (one unit per depth)."""


def _number(x):
    x = float(x) + 0.0  # no "-0"
    return f"{x:.0f}" if x == round(x) and abs(x) < 1e6 else f"{x:.4g}"


def _short(value):
    array = np.asarray(value, dtype=np.float64)
    if array.size == 1:
        return _number(array.reshape(()))
    return f"array {array.shape}"


def _label(node):
    if node.op in _SYMBOLS:
        return _SYMBOLS[node.op]
    if node.op == "pow":
        return f"** {_number(node.exponent)}"
    if node.op == "getitem":
        index = node.index if isinstance(node.index, tuple) else (node.index,)
        return f"[{', '.join(str(i) for i in index)}]"
    if node.op == "constant" and node.value.size == 1:
        return _number(node.value.reshape(()))
    return node.name


def graph_layout(output: Node, sweeps: int = 4
                 ) -> tuple[dict[Node, tuple[float, float]], list[tuple[Node, Node, int]]]:
    """Positions of the nodes `output` depends on, for drawing.

    x is the depth: an operation sits one step right of its deepest input, a leaf
    one step left of its first user. Within a depth, nodes are ordered by the mean
    height of their neighbours (a few sweeps), to keep edges short and uncrossed.

    Returns
    -------
    positions : dict Node -> (x, y)
    edges : list of (input, node, k), k counting repeated edges between the same pair
    """
    seen, stack = {output}, [output]
    while stack:
        for parent in stack.pop().inputs:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    depth = {}

    def depth_of(node):
        if node not in depth:
            depth[node] = 1 + max((depth_of(p) for p in node.inputs), default=-1)
        return depth[node]

    users = {node: [] for node in seen}
    for node in seen:
        depth_of(node)
        for parent in node.inputs:
            users[parent].append(node)
    for node in seen:
        if not node.inputs and users[node]:
            depth[node] = min(depth[u] for u in users[node]) - 1
    low = min(depth.values())
    levels = {}
    for node in sorted(seen, key=lambda n: n.name):
        levels.setdefault(depth[node] - low, []).append(node)

    def place():
        return {n: (float(d), (len(level) - 1) / 2 - i)
                for d, level in levels.items() for i, n in enumerate(level)}

    positions = place()
    for sweep in range(sweeps):
        neighbours = (lambda n: n.inputs) if sweep % 2 == 0 else (lambda n: users[n])
        for d in sorted(levels, reverse=sweep % 2 == 1):
            levels[d].sort(key=lambda n: np.mean([positions[m][1] for m in neighbours(n)])
                           if neighbours(n) else positions[n][1], reverse=True)
            positions = place()
    edges = []
    for node in seen:
        for k, parent in enumerate(node.inputs):
            edges.append((parent, node, node.inputs[:k].count(parent)))
    return positions, edges


def plot_graph(output: Node, *, ax: Axes | None = None,
               values: Mapping[Node, npt.ArrayLike] | None = None, show_grad: bool = False,
               title: str | None = None) -> Axes:
    """Draw the graph of `output`: leaves on the left, `output` (bold) on the right.

    Operations show their symbol (`+`, `**2`, `[0]`), leaves their name, numeric
    constants their value.

    Parameters
    ----------
    output : Node
    ax : matplotlib Axes, optional
    values : dict Node -> value, optional
        e.g. `session.forward(cost)`: each node shows its value.
    show_grad : bool
        Show each node's `.grad` (after a backward pass).

    Returns
    -------
    ax : matplotlib Axes
    """
    positions, edges = graph_layout(output)
    width = max(x for x, _ in positions.values()) + 1
    height = max(abs(y) for _, y in positions.values()) * 2 + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * width + 0.4, 1.1 * height + 1.2))
    boxes = {}
    for node, (x, y) in positions.items():
        box = FancyBboxPatch((x - _BOX[0] / 2, y - _BOX[1] / 2), *_BOX,
                             boxstyle="round,pad=0,rounding_size=0.08",
                             fc=_COLOURS.get(node.op, "white"),
                             ec="black" if node is output else "0.45",
                             lw=1.8 if node is output else 0.8, zorder=2)
        ax.add_patch(box)
        boxes[node] = box
        lines = [_label(node)]
        if values is not None and node in values:
            lines.append(f"= {_short(values[node])}")
        if show_grad:
            lines.append(f"grad {_short(node.grad)}")
        ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=9, zorder=3)
    for parent, node, k in edges:
        # a repeated edge (x * x) bends to the other side; a long edge bends to pass the
        # boxes between its ends, more the longer it is
        span = positions[node][0] - positions[parent][0]
        bend = 0.3 * k * (1 if k % 2 else -1)
        if span > 1.5:  # bulge by 0.35 + 0.08 * span units
            bend += (0.7 + 0.16 * span) / span
        ax.add_patch(FancyArrowPatch(positions[parent], positions[node],
                                     patchA=boxes[parent], patchB=boxes[node],
                                     arrowstyle="-|>", mutation_scale=10, color="0.35",
                                     lw=0.9, shrinkA=1, shrinkB=1, zorder=1, clip_on=False,
                                     connectionstyle=f"arc3,rad={bend}"))
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(-height / 2 - 0.3, height / 2 + 0.3)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
