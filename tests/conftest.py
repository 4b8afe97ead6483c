import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Code that a test sends into a sandboxed kernel as a notebook cell, not a test module.
collect_ignore = ["sandbox_census_cell.py"]
