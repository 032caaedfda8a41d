import os
import sys
from pathlib import Path

# The project's packages (autograder, actlab) import from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
