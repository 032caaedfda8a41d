"""The course's grader: releases exercises with nbgrader and grades submissions with hidden checks.

Student code never runs in this process: it runs in a separate worker process (see `worker.py`),
and the hidden pytest checks in `checks/<assignment>/` call it through a proxy (see `proxy.py`).
"""
