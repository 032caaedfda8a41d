"""The course's grader: releases exercises with nbgrader and grades submissions with hidden checks.

Student code never runs in this process: it runs in a separate worker process (see `worker.py`),
and the hidden pytest checks in `checks/<assignment>/` call it through a proxy (see `proxy.py`).
"""
import sys

# jsonschema checks the "iri" string format with rfc3987-syntax when that is installed (jupyter-events' extra
# pulls it in), and importing it builds a Lark parser: 1.2 s of CPU in every process that reads a notebook,
# a grading run's workers included. Neither nbformat's nor nbgrader's schemas use that format, so the grader's
# processes go without it (jsonschema treats it as not installed).
sys.modules.setdefault("rfc3987_syntax", None)
