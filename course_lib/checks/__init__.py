"""Visible checks that students run in the notebooks; each failure names the mistake.

Importing any of them makes a function left as its stub say so in one line wherever it is
called in the notebook (`course_lib.failures.install`), instead of a bare traceback.
"""

from course_lib.failures import install

install()
