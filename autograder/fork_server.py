"""Imported by the grading pool's fork server alone: grade.py preloads it, with the grading code and PyTorch.

The pool's workers fork from that server, so a worker's parent is the server, not the grader, and each worker
holds the lifeline that keeps the server running (for forks of its own). Without this, a grader killed with
SIGKILL would leave the server, its workers and their sandboxes grading on; with it, the server gets SIGKILL
when the grader dies, and the workers when the server does (sandbox.die_with_parent, set by each worker).
"""
from .sandbox import die_with_parent

die_with_parent()
