"""A PostgreSQL gradebook on the grading machine: a real server, started by the test in a temporary folder,
graded into by a class with `--workers 2`, read back with nbgrader's own `export`; student code can
neither see its socket nor pass for the grader's database user."""
import csv
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder import course
from helpers import released, solution

INITDB = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _missing() -> str:
    if not INITDB:
        return "needs Debian's postgresql (make test installs it when run as root)"
    if os.geteuid() != 0:
        return "starts the server as the `postgres` user, which needs root"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "needs the `postgres` user that Debian's postgresql package creates"
    if shutil.which("bwrap") is None:
        return "needs bubblewrap (make test installs it)"
    return ""


pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(_missing()), reason=_missing() or "ready")]
MAX = 25


def as_postgres(*argv, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, text=True,
                          **kwargs)


@pytest.fixture(scope="module")
def server():
    """A throw-away cluster listening only on a Unix socket in a private folder; its superuser is `root`,
    whom peer authentication lets in as the grader's own OS user."""
    root = Path(tempfile.mkdtemp(prefix="pg-"))  # pytest's own folders are closed to the `postgres` user
    os.chmod(root, 0o755)
    data, sockets = root / "data", root / "sockets"
    for folder in (data, sockets):
        folder.mkdir()
        shutil.chown(folder, "postgres", "postgres")
    bindir = os.path.dirname(INITDB[-1])
    as_postgres(f"{bindir}/initdb", "-D", str(data), "-U", "root", "--auth-local=peer", "--auth-host=reject")
    as_postgres(f"{bindir}/pg_ctl", "-D", str(data), "-l", str(data / "server.log"), "-w", "start",
                "-o", f"-k {sockets} -c listen_addresses=''")
    try:
        subprocess.run(["psql", "-h", str(sockets), "-d", "postgres", "-c", "CREATE DATABASE gradebook"],
                       check=True, capture_output=True)
        yield sockets
    finally:
        as_postgres(f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root)


def attack(sockets) -> str:
    """A cell that looks for the gradebook's server everywhere and, if it gets in, zeroes every grade."""
    return f'''
import glob, os
found = glob.glob("/run/postgresql/.s.PGSQL.*") + glob.glob("/var/run/postgresql/.s.PGSQL.*") \\
    + glob.glob("/tmp/**/.s.PGSQL.*", recursive=True) + glob.glob({str(sockets)!r} + "/.s.PGSQL.*")
reached = []
for path in found + [{str(sockets)!r} + "/.s.PGSQL.5432"]:
    try:
        import psycopg2
        with psycopg2.connect(host=os.path.dirname(path), dbname="gradebook", user="root") as db:
            db.cursor().execute("CREATE TABLE pwned (x int); UPDATE grade SET auto_score = 0")
        reached.append(path)
    except Exception as exc:
        pass
'''


def test_a_class_graded_into_postgresql_reads_back_with_nbgrader_export(server, tmp_path):
    subs, out = tmp_path / "submissions", tmp_path / "out"
    notebooks = {"honest": solution(), "honest2": solution(), "blank": released(), "intruder": solution()}
    notebooks["intruder"].cells.insert(2, new_code_cell(attack(server)))
    notebooks["intruder"].cells.append(new_code_cell(attack(server)))
    for student, nb in notebooks.items():
        (subs / student).mkdir(parents=True)
        nbformat.write(nb, str(subs / student / "activations.ipynb"))
    url = f"postgresql+psycopg2://root@/gradebook?host={server}"
    grade = [sys.executable, "-m", "autograder", "grade", "activations", str(subs), "--out", str(out),
             "--workers", "2", "--db", url]
    # graded, then graded again from scratch: nbgrader's export and the tables hold each grade exactly once
    for rerun in ([], ["--regrade"]):
        run = subprocess.run(grade + rerun, cwd=course.REPO, capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stderr[-3000:]
        exported = tmp_path / "export.csv"
        subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "export",
                        f"--CourseDirectory.db_url={url}", f"--CourseDirectory.course_id={course.COURSE_ID}",
                        f"--CsvExportPlugin.to={exported}"],
                       cwd=tmp_path, check=True, capture_output=True, text=True, timeout=300)
        with open(exported) as f:
            rows = list(csv.DictReader(f))
        assert sorted(row["student_id"] for row in rows) == ["blank", "honest", "honest2", "intruder"]
        assert {row["student_id"]: float(row["score"]) for row in rows} == {"honest": MAX, "honest2": MAX,
                                                                             "blank": 0.0, "intruder": MAX}
        submitted = subprocess.run(["psql", "-h", str(server), "-d", "gradebook", "-tAc",
                                    "SELECT count(*) FROM submitted_assignment"],
                                   check=True, capture_output=True, text=True).stdout.strip()
        assert submitted == "4"
    tables = subprocess.run(["psql", "-h", str(server), "-d", "gradebook", "-tAc",
                             "SELECT count(*) FROM pg_tables WHERE tablename = 'pwned'"],
                            check=True, capture_output=True, text=True).stdout.strip()
    assert tables == "0"
