"""Bounds on what one submission's kernel can cost the grader: output and stray processes.

`OutputCaps` counts every output message of a notebook against a per-cell and a
per-notebook cap; `kill_strays` ends processes the student's code left behind in the
kernel's pid namespace after a cell. Both are used by `ProbeExecute`.
"""

from __future__ import annotations

import os
import signal
from typing import Any

OUTPUT_MESSAGES = frozenset({"stream", "display_data", "execute_result", "error",
                             "update_display_data", "comm_open", "comm_msg", "comm_close"})
"""Kernel messages that carry output: each one is counted against the caps."""


def message_bytes(content: Any, limit: int) -> int:
    """About how many bytes `content` (a message's content) takes as JSON; stops past `limit`.

    >>> message_bytes({"text": "abc"}, 100)
    13
    """
    total, stack = 0, [content]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            total += 2 + len(item)
            stack.extend(item)
        else:
            total += 8
    return total


class OutputCaps:
    """Bytes of output per cell and per notebook; what passes a cap is dropped once, noted.

    >>> caps = OutputCaps(cell=10, notebook=15)
    >>> caps.count(0, 8), caps.admit(0, 8)
    (None, True)
    >>> caps.count(1, 8), caps.admit(1, 8)
    (None, False)
    >>> caps.cut_note(1)
    '\\n[output cut: over 15 bytes for the notebook]\\n'
    >>> caps.cut_note(1) is None
    True
    """

    def __init__(self, *, cell: int, notebook: int) -> None:
        self.cell, self.notebook = cell, notebook
        self.cell_bytes: dict[int, int] = {}
        self.notebook_bytes = 0
        self._cut: set[int] = set()

    def count(self, index: int, size: int) -> None:
        """Count a message of `size` bytes of cell `index` (kept or not)."""
        self.cell_bytes[index] = self.cell_bytes.get(index, 0) + size

    def admit(self, index: int, size: int) -> bool:
        """Whether a counted message of cell `index` may be kept (then it counts for the
        notebook too)."""
        if self.cell_bytes[index] > self.cell or self.notebook_bytes + size > self.notebook:
            return False
        self.notebook_bytes += size
        return True

    def keep(self, size: int) -> None:
        """Count a message kept outside the caps' judgement (the grader's own report)."""
        self.notebook_bytes += size

    def cut_note(self, index: int) -> str | None:
        """The note to append to cell `index` the first time its output is cut, else None."""
        if index in self._cut:
            return None
        self._cut.add(index)
        cap = (f"{self.cell} bytes for this cell" if self.cell_bytes[index] > self.cell
               else f"{self.notebook} bytes for the notebook")
        return f"\n[output cut: over {cap}]\n"


def kill_strays(kernel_pid: int | None) -> None:
    """Kill the processes left in the pid namespace of the kernel started as `kernel_pid`.

    The sandbox starts each kernel in a pid namespace of its own; anything in it that is
    not the kernel (or its launcher's direct children) was started by the student's code.
    Nothing happens when the kernel shares the grader's namespace (no sandbox).
    """
    if kernel_pid is None:
        return
    try:
        children = [int(p) for p in open(f"/proc/{kernel_pid}/task/{kernel_pid}/children")
                    .read().split()]
        namespace = os.readlink(f"/proc/{children[0]}/ns/pid") if children else None
    except (OSError, IndexError):
        return
    if namespace is None or namespace == os.readlink("/proc/self/ns/pid"):
        return
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in children:
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") == namespace:
                    os.kill(int(entry), signal.SIGKILL)
            except OSError:
                continue
