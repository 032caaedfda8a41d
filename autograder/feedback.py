"""A feedback page per student: scores per test cell and, in plain words, each check that failed.

It shows the checks' titles and the student-facing failure messages only: never the hidden
checks' code, their file paths or their expected values.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-bottom: .3rem; }
.score { font-size: 1.3rem; font-weight: bold; }
.cell { border: 1px solid #ddd; border-radius: 6px; padding: .5rem 1rem; margin: .8rem 0; }
.full { border-left: 6px solid #2a9d3a; } .partial { border-left: 6px solid #e0a000; } .none { border-left: 6px solid #c62828; }
ul { margin: .3rem 0; padding-left: 1.2rem; } li.pass { color: #2a6d33; } li.fail { color: #a11; }
.why { color: #444; display: block; margin-left: 1rem; font-size: .92rem; }
.hint { color: #1b4f8a; }
.share { color: #666; font-size: .85rem; white-space: nowrap; }
.problems { background: #fff4e5; border: 1px solid #f0c36d; border-radius: 6px; padding: .5rem 1rem; }
"""


def render(grade) -> str:
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>{escape(grade.assignment)}: feedback for {escape(grade.student_id)}</title>",
             f"<style>{STYLE}</style></head><body>",
             f"<h1>{escape(grade.assignment)}: feedback for {escape(grade.student_id)}</h1>",
             f"<p class='score'>Score: {grade.score:g} / {grade.max_score:g}</p>",
             "<p>Each hidden check is worth the share of its test cell's points shown beside it; a cell earns "
             "the shares of the checks your code passed. The hidden checks test your functions on many more "
             "inputs than the visible asserts.</p>"]
    if grade.problems:
        items = "".join(f"<li>{escape(p)}</li>" for p in grade.problems)
        parts.append(f"<div class='problems'><strong>About your notebook</strong><ul>{items}</ul></div>")
    for cell in grade.cells:
        earned = grade.scores.get(cell.grade_id, 0.0)
        state = "full" if earned >= cell.points else ("partial" if earned > 0 else "none")
        checks = [c for c in grade.checks if c.cell == cell.grade_id]
        total = sum(c.weight for c in checks)
        items = []
        for check in checks:
            mark, css = ("&#10003;", "pass") if check.passed else ("&#10007;", "fail")
            why = f"<span class='why'>{escape(check.message)}</span>" if check.message else ""
            if check.hint:
                why += (f"<span class='why hint'>Likely cause: {escape(check.hint)} "
                        f"(<a href='{escape(check.section, quote=True)}'>the book explains it</a>)</span>")
            share = f"<span class='share'>{cell.points * check.weight / total:.2g} pt</span>"
            items.append(f"<li class='{css}'>{mark} {escape(check.title)} {share}{why}</li>")
        if not checks:
            items.append("<li class='fail'>&#10007; no check could run for this cell</li>")
        parts.append(f"<div class='cell {state}'><h2>{escape(cell.title or cell.grade_id)}</h2>"
                     f"<p>{earned:g} / {cell.points:g} points ({sum(c.passed for c in checks)} of "
                     f"{len(checks)} checks passed)</p><ul>{''.join(items)}</ul></div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(grade, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(grade), encoding="utf-8")
