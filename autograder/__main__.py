"""Instructor commands.

  python -m autograder release [ID ...]
      regenerate exercises/<id>/ from solutions/<id>/ through nbgrader (all assignments by default)
  python -m autograder grade ID SUBMISSIONS --out DIR [--workers N | --dask ADDRESS] [--db URL] [--lms canvas]
      grade SUBMISSIONS/<student_id>/<ID>.ipynb; write the gradebook (DIR/gradebook.db unless --db),
      DIR/grades.csv, DIR/feedback/<student_id>/<ID>.html and the class report DIR/report.html (with
      --lms canvas also DIR/grades-canvas.csv, for Canvas's gradebook import); exit 0 when every
      submission got a grade, 1 when a grade could not be made or written, 130 when stopped with Ctrl-C
      (rerun to resume).
      A rerun into the same DIR grades only what changed (--regrade: everything), so a run that
      was stopped resumes where it stopped. Student code runs in a bubblewrap sandbox; without one the command refuses unless
      --unsafe-no-sandbox is given. With --dask the submissions are graded on the workers of the Dask
      cluster whose scheduler is at ADDRESS (tcp://HOST:PORT, or its scheduler file); this process alone
      writes DIR (see README.md, "Grading on a Dask cluster").
  python -m autograder report ID --out DIR [--lms canvas]
      write DIR/report.html (and DIR/grades-canvas.csv) again from what `grade` left in DIR
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import course


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    release = commands.add_parser("release", help="regenerate exercises/ from solutions/")
    release.add_argument("ids", nargs="*", metavar="ID", help="assignment ids (default: all)")
    grade = commands.add_parser("grade", help="grade a folder of submissions")
    grade.add_argument("assignment", metavar="ID")
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                       help="folder holding <student_id>/<ID>.ipynb")
    grade.add_argument("--out", type=Path, required=True, metavar="DIR", help="where results go")
    grade.add_argument("--workers", type=int, default=1, metavar="N", help="submissions graded at once")
    grade.add_argument("--dask", metavar="ADDRESS",
                       help="grade on the workers of the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT, "
                            "or a scheduler file); this process alone writes DIR. --workers is then ignored")
    grade.add_argument("--db", metavar="URL", help="gradebook URL (default: sqlite:///DIR/gradebook.db)")
    grade.add_argument("--cell-timeout", type=float, default=course.CELL_TIMEOUT_S, metavar="S",
                       help=f"seconds one notebook cell may run (default {course.CELL_TIMEOUT_S})")
    grade.add_argument("--call-timeout", type=float, default=course.CALL_TIMEOUT_S, metavar="S",
                       help=f"seconds one call of a student's function may run (default {course.CALL_TIMEOUT_S})")
    grade.add_argument("--regrade", action="store_true",
                       help="grade every submission again, even those unchanged since the last run into DIR")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run student code without bubblewrap isolation (only for code you trust)")
    report = commands.add_parser("report", help="write the class report of a graded folder again")
    report.add_argument("assignment", metavar="ID")
    report.add_argument("--out", type=Path, required=True, metavar="DIR", help="the folder `grade` wrote")
    for command in (grade, report):
        command.add_argument("--lms", choices=["canvas"],
                             help="also write DIR/grades-<LMS>.csv for that learning platform's gradebook import")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    if args.command == "release":
        from .release import release as run_release
        for path in run_release(args.ids or course.assignments()):
            print(f"released {path.relative_to(course.REPO)}")
        return 0

    course.source_notebook(args.assignment)  # a clear error for an unknown id, before any work
    if args.command == "report":
        from .report import write_class_files
        for path in write_class_files(args.assignment, args.out, args.lms):
            print(f"wrote {path}")
        return 0

    from .grade import find_submissions, grade_folder, summary
    results, problems = grade_folder(args.assignment, args.submissions, args.out, max(1, args.workers), args.db,
                                    sandboxed=not args.unsafe_no_sandbox, cell_timeout=args.cell_timeout,
                                    call_timeout=args.call_timeout, regrade=args.regrade, lms=args.lms,
                                    dask=args.dask)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    total = len(find_submissions(args.assignment, args.submissions)[0])
    print(f"{summary(results, total)}. Grades: {args.out / 'grades.csv'}; feedback in {args.out / 'feedback'}; "
          f"class report: {args.out / 'report.html'}")
    from .proxy import STOPPING
    return 130 if STOPPING.is_set() else 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
