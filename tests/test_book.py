"""The book builds strictly, executes its notebooks, and reads fully offline."""
import os
import re
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
import yaml
from markdown_it import MarkdownIt

from autograder import course, kit

pytestmark = pytest.mark.slow
JUPYTER_BOOK = str(Path(sys.executable).parent / "jupyter-book")


def build(source: Path, out: Path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "OMP_WAIT_POLICY": "PASSIVE"}
    return subprocess.run([JUPYTER_BOOK, "build", str(source), "-W", "-n", "--keep-going", "--path-output", str(out)],
                          capture_output=True, text=True, timeout=1200, env=env)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    process = build(course.REPO, out)
    return process, out / "_build" / "html"


def toc_files():
    toc = yaml.safe_load((course.REPO / "_toc.yml").read_text())
    files = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    return files


class Resources(HTMLParser):
    """The scripts and stylesheets a page loads."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "") and attrs.get("href"):
            self.urls.append(attrs["href"])


def test_the_book_builds_with_no_warning_and_no_failed_cell(book):
    process, html = book
    log = process.stdout + process.stderr
    assert process.returncode == 0, log[-5000:]
    # Sphinx's "WARNING:" lines, not the kernel's notice about its TCP transport
    warnings = [line for line in log.splitlines() if "WARNING" in line and "[IPKernelApp]" not in line]
    assert warnings == [] and "Traceback" not in log, log[-5000:]
    for file in toc_files():
        assert (html / f"{file}.html").is_file(), file


def test_no_page_loads_a_script_or_stylesheet_from_the_network(book):
    _, html = book
    pages = list(html.rglob("*.html"))
    assert pages
    for page in pages:
        parser = Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        remote = [u for u in parser.urls if re.match(r"^(https?:)?//", u)]
        assert remote == [], f"{page.relative_to(html)} loads {remote}"


def test_math_is_typeset_by_mathjax_served_from_the_book_itself(book):
    _, html = book
    page = (html / "book" / "neurons.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in page
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    assert r"\(" in page or "$$" in page or r"\[" in page  # math reaches the page for MathJax to typeset


def test_chapters_show_figures_executed_at_build_time(book):
    _, html = book
    for chapter in ["neurons", "forward", "backward", "nonlinearity", "activations", "dynamics", "choosing"]:
        page = (html / "book" / f"{chapter}.html").read_text(encoding="utf-8")
        assert re.search(r'<img [^>]*src="[^"]*_images/[^"]+\.png"', page), chapter
        assert re.search(r'<img [^>]*alt="[^"]{10,}"', page), f"{chapter}: figures need alt text"


def test_a_failing_cell_or_a_warning_fails_the_strict_build(tmp_path):
    """The same configuration on a two-page book whose cells fail: the build must fail on both."""
    src = tmp_path / "src"
    shutil.copytree(course.REPO / "book", src / "book", ignore=shutil.ignore_patterns("*.md", "*.bib"))
    shutil.copy(course.REPO / "_config.yml", src / "_config.yml")
    (src / "book" / "references.bib").write_text("")
    header = (course.REPO / "book" / "neurons.md").read_text().split("---\n")[1]
    for name, code in [("fails", "raise ValueError('boom')"),
                       ("warns", "import warnings\nwarnings.warn('careful')")]:
        (src / "book" / f"{name}.md").write_text(f"---\n{header}---\n# {name}\n\n```{{code-cell}} ipython3\n{code}\n```\n")
    (src / "_toc.yml").write_text("format: jb-book\nroot: book/fails\nchapters:\n  - file: book/warns\n")
    (src / ".venv").symlink_to(course.REPO / ".venv")
    process = build(src, tmp_path / "out")
    log = process.stdout + process.stderr
    assert process.returncode != 0
    assert "fails.md: WARNING: Executing notebook failed" in log and "ValueError: boom" in re.sub(r"\x1b\[[0-9;]*m", "", log)
    assert re.search(r"warns\.md:\d+: ERROR: stderr was found", log)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium to render pages headless")
def test_math_renders_in_a_browser_that_cannot_reach_the_network(book):
    """Headless Chromium with every host unresolvable: MathJax must still typeset the chapter's math."""
    _, html = book
    page = html / "book" / "neurons.html"
    process = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=15000",
         f"--user-data-dir={html.parent / 'chromium-profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert process.stdout.count("<mjx-container") >= 3, process.stderr[-2000:]


# -- the course kit that `make book` writes beside the book --------------------------------------------

@pytest.fixture(scope="module")
def course_kit(book, tmp_path_factory):
    """The kit built from this book as `make book` builds it, and unzipped: (built HTML, the kit's folder)."""
    _, html = book
    archive = kit.build_kit(html / f"{kit.KIT}.zip", html)
    out = tmp_path_factory.mktemp("kit")
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(out)
    return html, out / kit.KIT


class Links(HTMLParser):
    """The targets of a page's links."""

    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])


def test_the_exercises_page_offers_the_course_kit_for_download(course_kit):
    html, _ = course_kit
    page = html / "book" / "exercises.html"
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    kits = [href for href in parser.hrefs if href.endswith(f"{kit.KIT}.zip")]
    assert kits, "the Exercises page has no link to the course kit"
    for href in kits:
        assert zipfile.is_zipfile(page.parent / href), href


def test_the_kit_holds_the_book_the_wheel_every_released_notebook_and_no_answer(course_kit):
    _, unpacked = course_kit
    files = {p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*") if p.is_file()}
    (wheel,) = [f for f in files if f.endswith("-py3-none-any.whl")]
    notebooks = {f"exercises/{a}/{a}.ipynb" for a in course.assignments()}
    assert {f for f in files if not f.startswith("book/")} == {"README.md", wheel, *notebooks}
    assert "book/index.html" in files and "book/book/exercises.html" in files
    assert not [f for f in files if f.endswith(".zip")], "the kit holds no copy of itself"
    markers = [b"BEGIN SOLUTION", b"END SOLUTION", b"BEGIN HIDDEN TESTS", b"autograder/checks"]
    leaks = [(f, m) for f in files for m in markers if m in (unpacked / f).read_bytes()]
    assert leaks == []


def notebook_links(path: Path) -> list[str]:
    """The target of every link in a notebook's markdown cells."""
    nb = nbformat.read(str(path), as_version=4)
    markdown = MarkdownIt()
    return [token.attrs["href"] for cell in nb.cells if cell.cell_type == "markdown"
            for block in markdown.parse(cell.source) for token in block.children or []
            if token.type == "link_open"]


def test_every_link_of_every_released_notebook_opens_a_page_and_section_of_the_kits_book(course_kit):
    _, unpacked = course_kit
    checked = 0
    for path in sorted((unpacked / "exercises").glob("*/*.ipynb")):
        for href in notebook_links(path):
            if href.startswith(course.BOOK_URL) and "://" in course.BOOK_URL:  # a published book: the kit's copy
                href = os.path.relpath(unpacked / "book", path.parent) + "/" + href[len(course.BOOK_URL):]
            url = urlsplit(href)
            assert not url.scheme and not url.netloc, f"{path.name}: {href} leaves the kit"
            target = (path.parent / unquote(url.path)).resolve()
            where = f"{path.relative_to(unpacked)}: {href}"
            assert target.is_relative_to(unpacked / "book") and target.suffix == ".html", where
            assert target.is_file(), f"{where} does not exist"
            if url.fragment:
                assert f'id="{url.fragment}"' in target.read_text(encoding="utf-8"), f"{where}: no such section"
            checked += 1
    assert checked >= 50, f"only {checked} links checked"
