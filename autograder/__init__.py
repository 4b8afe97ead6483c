"""The course's grader (see README.md, "Grading a class").

jsonschema, which nbformat validates notebooks with, imports `rfc3987_syntax` when it is
installed (JupyterLab's jupyter-events brings it), and that module builds a grammar at
import time: most of a second in every grading process, for the "iri" string format, which
no notebook schema uses. The grader's processes go without it (jsonschema then simply has
no "iri" check).
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
