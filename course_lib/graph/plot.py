"""Draw a computation graph with matplotlib: nodes by depth, left to right, edges as arrows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

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
    """A number as itself; a small array (up to 4 entries) as its rounded entries, in
    order (a column (3, 1) reads [25, 5, 1]); a larger one as its shape."""
    array = np.asarray(value, dtype=np.float64)
    if array.size == 1:
        return _number(array.reshape(()))
    if array.size <= 4:
        return "[" + ", ".join(_number(float(f"{x:.3g}")) for x in array.ravel()) + "]"
    return f"array {array.shape}"


_ROW = 1.4
"""Vertical distance between two nodes of one depth: room for edges between boxes."""

_MARGIN = 0.14
"""Clearance kept between an edge and a box it does not connect, in layout units."""


def _curve(start, end, offset, points=41):
    """A quadratic Bezier from start to end whose middle is `offset` units to the left
    of the straight line (negative: to the right), sampled at `points` points."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    direction = end - start
    normal = np.array([-direction[1], direction[0]]) / np.hypot(*direction)
    control = (start + end) / 2 + 2 * offset * normal  # the curve's middle gets half of it
    t = np.linspace(0, 1, points)[:, None]
    return (1 - t) ** 2 * start + 2 * t * (1 - t) * control + t ** 2 * end


def _inside(points, centre, margin=0.0):
    half = np.array(_BOX) / 2 + margin
    return np.all(np.abs(points - np.asarray(centre)) < half, axis=1)


def _through(start, waypoints, end):
    """A smooth curve from start through the waypoints to end (horizontal at each
    waypoint, cubic between), cut at the borders of the two end boxes."""
    points = [np.asarray(start, float)] + [np.asarray(p, float) for p in waypoints] \
        + [np.asarray(end, float)]
    t = np.linspace(0, 1, 25)[:, None]
    pieces = []
    for p, q in zip(points[:-1], points[1:], strict=True):
        c1, c2 = p + [(q[0] - p[0]) / 2, 0], q - [(q[0] - p[0]) / 2, 0]
        pieces.append((1 - t) ** 3 * p + 3 * t * (1 - t) ** 2 * c1
                      + 3 * t ** 2 * (1 - t) * c2 + t ** 3 * q)
    curve = np.vstack(pieces)
    outside = ~_inside(curve, start, 0.02) & ~_inside(curve, end, 0.02)
    return Path(curve[np.flatnonzero(outside)[0]:np.flatnonzero(outside)[-1] + 1])


def _edge_path(positions, parent, node, taken):
    """The drawn path of the edge parent -> node: the least bent curve (tried in order:
    straight, then bulging further and further to either side) that passes no box
    other than its two ends' and differs from the curves `taken` by the same pair of
    nodes; cut at the borders of the two boxes."""
    start, end = positions[parent], positions[node]
    others = [c for n, c in positions.items() if n is not parent and n is not node]
    candidates = [0.0] + [s * 0.2 * i for i in range(1, 16) for s in (1, -1)]
    free = [o for o in candidates if all(abs(o - t) >= 0.25 for t in taken)]

    def crossings(offset):  # boxes crossed, then boxes passed too closely, then the bend
        points = _curve(start, end, offset)
        return (sum(_inside(points, c, 0.02).any() for c in others),
                sum(_inside(points, c, _MARGIN).any() for c in others), abs(offset))

    chosen = min(free, key=crossings)
    points = _curve(start, end, chosen, points=81)
    outside = ~_inside(points, start, 0.02) & ~_inside(points, end, 0.02)
    kept = points[np.flatnonzero(outside)[0]:np.flatnonzero(outside)[-1] + 1]
    return chosen, Path(kept)


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


class _Bend:
    """A waypoint of a long edge: it takes a slot at each depth the edge passes, so that
    no box is placed where the edge runs (the usual trick of layered graph drawing)."""

    def __init__(self, k):
        self.name = f"~bend{k:05d}"  # after every node in the first ordering


def _layout(output, sweeps):
    """Positions of the nodes and of the waypoints of long edges, and the edges."""
    seen, stack = {output}, [output]
    while stack:
        for parent in stack.pop().inputs:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    users = {node: [] for node in seen}
    for node in seen:
        for parent in node.inputs:
            users[parent].append(node)
    # depth = operations on the longest path from a leaf (Kahn's order: no recursion)
    depth, waiting = {}, {node: len(set(node.inputs)) for node in seen}
    ready = [node for node in seen if not waiting[node]]
    while ready:
        node = ready.pop()
        depth[node] = 1 + max((depth[p] for p in node.inputs), default=-1)
        for user in set(users[node]):
            waiting[user] -= 1
            if not waiting[user]:
                ready.append(user)
    for node in seen:
        if not node.inputs and users[node]:
            depth[node] = min(depth[u] for u in users[node]) - 1
    low = min(depth.values())
    edges = []
    for node in sorted(seen, key=lambda n: n.name):
        for k, parent in enumerate(node.inputs):
            edges.append((parent, node, node.inputs[:k].count(parent)))
    # the layered graph: a long edge becomes a chain through one waypoint per depth
    ins = {node: [] for node in seen}
    outs = {node: [] for node in seen}
    level_of = {node: depth[node] - low for node in seen}
    waypoints = []
    for parent, node, _ in edges:
        chain, previous = [], parent
        for d in range(depth[parent] + 1, depth[node]):
            bend = _Bend(len(level_of))
            level_of[bend] = d - low
            ins[bend], outs[bend] = [previous], []
            outs[previous].append(bend)
            chain.append(bend)
            previous = bend
        ins[node].append(previous)
        outs[previous].append(node)
        waypoints.append(chain)
    levels = {}
    for item in sorted(level_of, key=lambda n: n.name):
        levels.setdefault(level_of[item], []).append(item)

    def place():
        return {n: (float(d), _ROW * ((len(level) - 1) / 2 - i))
                for d, level in levels.items() for i, n in enumerate(level)}

    positions = place()
    for sweep in range(sweeps):
        neighbours = ins if sweep % 2 == 0 else outs
        for d in sorted(levels, reverse=sweep % 2 == 1):
            levels[d].sort(key=lambda n: np.mean([positions[m][1] for m in neighbours[n]])
                           if neighbours[n] else positions[n][1], reverse=True)
            positions = place()
    nodes = {n: xy for n, xy in positions.items() if not isinstance(n, _Bend)}
    return nodes, edges, [[positions[b] for b in chain] for chain in waypoints]


def graph_layout(output: Node, sweeps: int = 4
                 ) -> tuple[dict[Node, tuple[float, float]], list[tuple[Node, Node, int]]]:
    """Positions of the nodes `output` depends on, for drawing.

    x is the depth: an operation sits one step right of its deepest input, a leaf
    one step left of its first user. An edge longer than one step runs through a
    reserved slot at each depth it passes. Within a depth, nodes and slots are
    ordered by the mean height of their neighbours (a few sweeps), to keep edges
    short and uncrossed.

    Returns
    -------
    positions : dict Node -> (x, y)
    edges : list of (input, node, k), k counting repeated edges between the same pair
    """
    positions, edges, _ = _layout(output, sweeps)
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
    positions, edges, waypoints = _layout(output, sweeps=4)
    # an edge bends around the boxes between its ends, so that it never passes behind a
    # box (which would read as a connection); a repeated edge (x * x) takes another curve
    taken, paths = {}, []
    for (parent, node, _), through in zip(edges, waypoints, strict=True):
        if through:  # a long edge: a smooth curve through its reserved slots
            paths.append(_through(positions[parent], through, positions[node]))
            continue
        used = taken.setdefault((parent, node), [])
        offset, path = _edge_path(positions, parent, node, used)
        used.append(offset)
        paths.append(path)
    reach = np.vstack([np.array(list(positions.values()))] + [p.vertices for p in paths])
    x_low = min(reach[:, 0].min() - 0.1, -0.5)
    x_high = max(reach[:, 0].max() + 0.1, max(x for x, _ in positions.values()) + 0.5)
    top = max(abs(y) for _, y in positions.values()) + 0.65
    y_low, y_high = min(reach[:, 1].min() - 0.1, -top), max(reach[:, 1].max() + 0.1, top)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * (x_high - x_low) + 0.4,
                                      0.8 * (y_high - y_low) + 1.2))
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
        ax.text(x, y, "\n".join(lines), ha="center", va="center", zorder=3,
                fontsize=9 if max(map(len, lines)) <= 16 else 8)
    for path in paths:
        arrow = FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=10,
                                color="0.35", lw=0.9, zorder=1, clip_on=False)
        arrow.set_in_layout(False)  # measuring arrows at every layout is slow, and useless
        ax.add_patch(arrow)
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
