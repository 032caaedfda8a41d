"""A test cell's score from its hidden checks."""
from __future__ import annotations

from .runner import CheckResult


def cell_scores(cells, checks: list[CheckResult]) -> dict:
    """{grade_id: points earned}: a cell's points times the weight of its checks that passed over the weight of
    all its checks, rounded to 2 decimals (no check run: no points). A check weighs what its cell marker
    declares, 1 by default; a parametrized check's weight is shared by its cases (runner.check_weight)."""
    scores = {}
    for cell in cells:
        mine = [c for c in checks if c.cell == cell.grade_id]
        total = sum(c.weight for c in mine)
        passed = sum(c.weight for c in mine if c.passed)
        scores[cell.grade_id] = round(cell.points * passed / total, 2) if total > 0 else 0.0
    return scores
