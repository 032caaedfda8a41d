import os

# Imports need no path set-up here: tests/pytest.ini's `pythonpath` adds the repository root (autograder)
# and tests/ (helpers), and the course's environment installs actlab (`pip install -e .`, the Makefile).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
