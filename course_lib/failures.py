"""How a failure reads in the notebook: one short message, not a traceback.

A visible check that finds a mistake raises `course_lib.checking.CheckFailed`; IPython
shows what its `_render_traceback_` returns, which is `render(...)` below: a title line and
the hint sentence wrapped at `WIDTH` columns (JupyterLab would otherwise break long
lines mid-word). No frame of the checking code is shown; when the student's own code raised, the
sentence names its line.

A function left as its stub raises a bare `NotImplementedError`, in a check or in any other
cell (a demo cell that uses it, say). `install()` registers `show_not_implemented` with
IPython for that exception, so the cell says "softmax is not implemented yet: ..." in one
line instead of 20 lines of traceback. Any other NotImplementedError (one raised at the top
level of a cell, or inside a library) keeps IPython's usual traceback. Importing a
`course_lib.checks` module installs it.

The same lines appear in nbgrader's Validate dialog, which shows each failed cell's
traceback.

>>> print("\\n".join(strip_ansi(line) for line in render("Check failed", "x " * 50)))
✗ Check failed
  x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x
  x x x x x x x x x x x
"""

from __future__ import annotations

import re
import textwrap
import traceback
from collections.abc import Sequence
from typing import Any

WIDTH = 80
"""Columns of a message line, indentation included. nbgrader's Validate dialog indents each
line by 4 and cuts what passes 87 columns with "...", so a line must stay under 83."""

NOT_IMPLEMENTED = "{name} is not implemented yet"
"""The sentence both the notebook and the grader use for a function left as its stub."""

NOT_IMPLEMENTED_ADVICE = ("write it in its cell (`def {name}`), run that cell, then run "
                          "this one again")
"""What the notebook adds to NOT_IMPLEMENTED: what to do next."""

_RED, _GREEN, _BOLD, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[0m"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    """`text` without its colour codes."""
    return _ANSI.sub("", text)


def not_implemented(name: str, *, advice: bool = True) -> str:
    """The one sentence for a function `name` left as its stub.

    >>> not_implemented("softmax", advice=False)
    'softmax is not implemented yet'
    """
    sentence = NOT_IMPLEMENTED.format(name=name)
    return f"{sentence}: {NOT_IMPLEMENTED_ADVICE.format(name=name)}" if advice else sentence


def wrap(text: str, indent: str = "  ") -> list[str]:
    """`text` as lines of at most WIDTH columns, each starting with `indent`; words are
    never split (a word longer than a line gets a line of its own)."""
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) or [indent]


def render(title: str, message: str, *, ok: bool = False) -> list[str]:
    """The lines a failure (or, with `ok`, a success) shows: a coloured title and the
    message wrapped under it."""
    mark, colour = ("✓", _GREEN) if ok else ("✗", _RED)
    heading = wrap(f"{mark} {title}", indent="")
    return [f"{_BOLD}{colour}{line}{_RESET}" for line in heading] + wrap(message)


def success(summary: str, covered: Sequence[str]) -> str:
    """What a passing visible check prints: what it covered, and that grading checks more.

    >>> print(strip_ansi(success("double doubles.", ["x = 1", "x = 2"])))
    ✓ double doubles.
      Checked on: x = 1; x = 2.
      The grader checks more inputs of the same kinds.
    """
    lines = render(summary, f"Checked on: {'; '.join(covered)}.", ok=True)
    return "\n".join([*lines, "  The grader checks more inputs of the same kinds."])


def stub_name(error: BaseException) -> str | None:
    """The notebook function whose stub raised `error` (None: not a stub's
    NotImplementedError, e.g. one raised by a library or at a cell's top level)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames or not isinstance(error, NotImplementedError) or str(error):
        return None
    innermost = frames[-1]
    from_a_cell = "ipykernel" in innermost.filename or innermost.filename.startswith("<ipython")
    return innermost.name if from_a_cell and innermost.name.isidentifier() else None


def show_not_implemented(shell: Any, etype: type, value: BaseException, tb: Any,
                         tb_offset: int | None = None) -> list[str]:
    """IPython's handler for NotImplementedError: one line for a stub, the usual
    traceback for anything else. (IPython ignores what a handler returns: it shows it.)"""
    name = stub_name(value)
    if name is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return []
    lines = render("Not implemented yet", not_implemented(name))
    shell._showtraceback(etype, value, lines)  # what showtraceback sends, with our lines
    return lines


def install() -> bool:
    """Show stubs' NotImplementedError as one line in this IPython session (False when
    there is none, e.g. in a plain Python process)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((NotImplementedError,), show_not_implemented)
    return True
