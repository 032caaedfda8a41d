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
    """The book built strictly into a new folder. Its chapters' outputs come from the execution cache that the
    last build of the same sources left (book/_ext/execution_cache.py), else they are executed now."""
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
    assert "_static/mathjax/startup.js" in page  # tex-chtml.js's components, less its menu (_config.yml)
    assert (html / "_static" / "mathjax" / "startup.js").is_file()
    assert (html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    assert r"\(" in page or "$$" in page or r"\[" in page  # math reaches the page for MathJax to typeset


def test_the_book_ships_only_the_mathjax_its_pages_load_and_no_source_map(book):
    _, html = book
    mathjax = html / "_static" / "mathjax"
    shipped = {p.relative_to(mathjax).as_posix() for p in mathjax.rglob("*") if p.is_file()}
    size = sum(p.stat().st_size for p in html.rglob("*") if p.is_file())
    print(f"built book: {size / 2**20:.1f} MiB, MathJax {sum((mathjax / f).stat().st_size for f in shipped) / 2**20:.1f} MiB")
    assert {"startup.js", "core.js", "input/tex.js", "output/chtml.js", "a11y/assistive-mml.js"} <= shipped
    assert not [f for f in shipped if f.startswith(("sre/", "ui/", "tex-", "mml-"))], "MathJax files no page loads"
    assert sum((mathjax / f).stat().st_size for f in shipped) < 3 * 2**20
    assert list(html.rglob("*.map")) == [], "source maps in the built book"
    assert not (html / "_static" / "scripts" / "fontawesome.js").exists()


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
    for out in ["out", "again"]:  # the second build finds the first one's execution cache: it must fail the same
        process = build(src, tmp_path / out)
        log = process.stdout + process.stderr
        assert process.returncode != 0
        assert "fails.md: WARNING: Executing notebook failed" in log and "ValueError: boom" in re.sub(r"\x1b\[[0-9;]*m", "", log)
        assert re.search(r"warns\.md:\d+: ERROR: stderr was found", log)
    assert list((src / "_build" / ".execution_cache").iterdir()), "the builds kept no execution cache"


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


# -- the book in a real browser: phone (390 px), tablet (800 px) and desktop (1400 px) -------------------

CHROMIUM = Path("/usr/bin/chromium")
PHONE, TABLET, DESKTOP = 390, 800, 1400
PAGE_BUDGET = 2_000_000  # bytes a page may load, images aside


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (Debian's, at /usr/bin/chromium; Playwright drives it)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (make browser) for the browser tests")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


MATHJAX_DONE = """() => !window.MathJax || !MathJax.startup ? true : Promise.race([
  MathJax.startup.promise.then(() => true), new Promise(done => setTimeout(() => done(false), 30000))])"""


class Visit:
    """A browser tab at one width that may load file:// (and `allowed` origins) only, and records what it
    was refused, what it logged as an error, and the bytes it loaded that are not images."""

    def __init__(self, browser, width, allowed=(), **options):
        self.context = browser.new_context(viewport={"width": width, "height": 900}, **options)
        self.page = self.context.new_page()
        self.refused, self.errors, self.bytes = [], [], 0
        self.allowed = ("file://", *allowed)
        self.context.route("**/*", self.route)
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("requestfinished", self.count)

    def route(self, route):
        if route.request.url.startswith(self.allowed):
            return route.continue_()
        self.refused.append(route.request.url)
        route.abort()

    def count(self, request):
        if request.resource_type == "image":
            return
        if request.url.startswith("file://"):
            local = Path(unquote(urlsplit(request.url).path))
            self.bytes += local.stat().st_size if local.is_file() else 0
        else:
            self.bytes += request.sizes()["responseBodySize"]

    def open(self, url):
        """Load a page and wait until MathJax has typeset it; return what that load cost and logged."""
        self.refused, self.errors, self.bytes = [], [], 0
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        # MathJax's promise never settles when one of its files fails to load: wait 30 s at most
        typeset = self.page.evaluate(MATHJAX_DONE)
        assert typeset, f"{url}: MathJax did not finish typesetting within 30 s"
        self.page.wait_for_timeout(100)
        return {"refused": self.refused, "errors": self.errors, "bytes": self.bytes}


# What sticks out of the article's column. An element may be wider than the column only inside a box that
# scrolls on purpose (overflow-x auto or scroll) and shows it with the book's scroll shadows; a box that
# clips its content (overflow hidden) hides it, which counts as sticking out.
OVERFLOW = """(strict) => {
  const article = document.querySelector("article.bd-article");
  const right = Math.min(article.getBoundingClientRect().right, document.documentElement.clientWidth) + 1;
  const name = el => el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
      ? "." + el.className.trim().split(/\\s+/).slice(0, 2).join(".") : "")
      + " «" + (el.textContent || "").trim().slice(0, 50) + "»";
  const scrolls = el => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
  const found = [];
  for (const el of article.querySelectorAll("*")) {
    if (el.closest("mjx-assistive-mml")) continue;  // MathJax's copy for screen readers, hidden on purpose
    const style = getComputedStyle(el);
    if (el.scrollWidth > el.clientWidth + 6 && el.clientWidth > 0) {  // a glyph's overhang is not overflow
      // (MathJax's own parts, a stretched brace say, clip on purpose; its container may not)
      const mathjaxPart = el.tagName.startsWith("MJX-") && el.tagName !== "MJX-CONTAINER";
      if (["hidden", "clip"].includes(style.overflowX) && !mathjaxPart) found.push("clipped: " + name(el));
      else if (scrolls(el)) {
        const code = el.closest("div.cell_output") === null;
        if (!style.backgroundImage.includes("gradient")) found.push("scrolls with no cue: " + name(el));
        else if (strict && code) found.push("scrolls at desktop width: " + name(el));
      }
    }
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > right) {
      let parent = el.parentElement, inside = false;
      while (parent && parent !== article) {
        if (scrolls(parent) || ["hidden", "clip"].includes(getComputedStyle(parent).overflowX)) { inside = true; break; }
        parent = parent.parentElement;
      }
      if (!inside) found.push("wider than the column: " + name(el));
    }
  }
  return [...new Set(found)];
}"""


@pytest.fixture(scope="module")
def every_page(book, browser):
    """Every page of the book opened at phone and desktop width: {(page, width): what it cost, logged,
    and what sticks out of its column}."""
    _, html = book
    seen = {}
    for width in (PHONE, DESKTOP):
        visit = Visit(browser, width)
        for file in toc_files():
            if not (html / f"{file}.html").is_file():
                continue  # the build's own test names a missing page
            record = visit.open((html / f"{file}.html").as_uri())
            record["overflow"] = visit.page.evaluate(OVERFLOW, width == DESKTOP)
            record["output"] = visit.page.evaluate(
                "() => [...document.querySelectorAll('div.cell_output')].map(o => o.textContent).join('\\n')")
            record["figures"] = visit.page.evaluate(
                "() => [...document.querySelectorAll('article img[src*=\"_images/\"]')]"
                ".map(img => [img.getAttribute('src'), img.naturalWidth, img.getBoundingClientRect().width])")
            seen[file, width] = record
        visit.context.close()
    return seen


def test_no_page_requests_anything_from_the_network(every_page):
    refused = {f"{page} at {width} px": r["refused"] for (page, width), r in every_page.items() if r["refused"]}
    assert refused == {}


def test_no_page_logs_an_error_in_the_browser_console(every_page):
    errors = {f"{page} at {width} px": r["errors"] for (page, width), r in every_page.items() if r["errors"]}
    assert errors == {}


def test_every_page_loads_less_than_2_mb_besides_its_images(every_page):
    weights = {page: r["bytes"] for (page, width), r in every_page.items() if width == DESKTOP}
    print("bytes loaded by each page, images aside:", weights)
    assert max(weights.values()) > 100_000, "the weights were not measured"
    assert {page: w for page, w in weights.items() if w > PAGE_BUDGET} == {}


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_nothing_is_wider_than_the_column_unless_it_scrolls_with_a_visible_cue(every_page, width):
    """At desktop width no equation, table or code cell scrolls either; only a cell's printed output may."""
    overflow = {page: r["overflow"] for (page, w), r in every_page.items() if w == width and r["overflow"]}
    assert overflow == {}


def test_figure_text_renders_at_9_px_or_more_in_a_phones_column(every_page):
    """The course style's smallest text, at the figures' resolution, shrunk to the width the phone shows."""
    import matplotlib
    from actlab.plots import use_course_style

    with matplotlib.rc_context():
        use_course_style()
        rc = matplotlib.rcParams
        sizes = [rc[key] for key in ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
                                     "ytick.labelsize", "legend.fontsize")]
        smallest = min(matplotlib.font_manager.FontProperties(size=size).get_size_in_points() for size in sizes)
        pixels_per_point = rc["figure.dpi"] / 72
    small = {}
    for (page, width), record in every_page.items():
        for src, natural, shown in record["figures"] if width == PHONE else []:
            text = smallest * pixels_per_point * shown / natural
            if text < 9:
                small[f"{page}: {src.rsplit('/', 1)[-1][:12]}"] = round(text, 1)
    assert sum(len(r["figures"]) for r in every_page.values()) > 20, "the figures were not measured"
    assert small == {}, "figure text smaller than 9 px on a phone"


def test_no_cell_shows_a_stray_object_repr(every_page):
    stray = {page: re.findall(r"<[\w.]+ (?:object )?at 0x[0-9a-f]+>", r["output"])
             for (page, width), r in every_page.items() if width == DESKTOP}
    assert {page: found for page, found in stray.items() if found} == {}


def test_headings_are_numbered_once_and_operators_render_whole(book):
    _, html = book
    for page in html.glob("book/**/*.html"):
        text = page.read_text(encoding="utf-8")
        headings = re.findall(r'<span class="section-number">[\d.]+\s*</span>\s*(\d+\.\s)', text)
        assert headings == [], f"{page.name}: headings numbered twice"
        assert r"\operatorname{expm1}" not in text and r"\operatorname{log1p}" not in text, page.name


def test_the_code_cells_of_the_chapters_fit_88_columns():
    """The column shows about 90 characters at desktop width; a longer line would need scrolling."""
    long_lines = []
    for source in sorted((course.REPO / "book").rglob("*.md")):
        text = source.read_text(encoding="utf-8")
        for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.S):
            if re.search(r"^:tags: \[.*remove-(cell|input)", cell, flags=re.M) or \
                    re.search(r"^tags: \[.*remove-(cell|input)", cell, flags=re.M):
                continue
            code = cell.split("\n---\n", 1)[1] if cell.startswith("---\n") else cell
            long_lines += [f"{source.name}: {line[:60]}" for line in code.splitlines()
                           if len(line) > 88 and not line.startswith(":")]
    assert long_lines == []


ON_SCREEN = """(selector) => [...document.querySelectorAll(selector)].some(link => {
  const box = link.getBoundingClientRect();
  return link.checkVisibility({visibilityProperty: true, opacityProperty: true}) && box.width > 0
      && box.left >= 0 && box.right <= innerWidth + 1 && box.top < innerHeight;
})"""
# The table of contents (a link to chapter 1) and the page's outline (a link to one of its sections), in the
# sidebar or in the dialog the theme opens them in on small screens.
CONTENTS = ".bd-sidebar-primary a[href*='neurons.html'], #pst-primary-sidebar-modal a[href*='neurons.html']"
OUTLINE = ".bd-sidebar-secondary a[href^='#'], #pst-secondary-sidebar-modal a[href^='#']"


@pytest.mark.parametrize("width", [PHONE, TABLET, DESKTOP])
def test_the_menu_button_opens_and_closes_the_table_of_contents(book, browser, width):
    _, html = book
    visit = Visit(browser, width)
    visit.open((html / "book" / "activations.html").as_uri())
    page = visit.page

    def shown():
        page.wait_for_timeout(400)  # the sidebar slides
        return page.evaluate(ON_SCREEN, CONTENTS)

    toggles = [t for t in page.locator("button.primary-toggle").all() if t.is_visible()]
    assert len(toggles) == 1, f"{len(toggles)} visible menu buttons"
    before = shown()
    assert before == (width == DESKTOP), "the contents start hidden on small screens, shown on a desktop"
    toggles[0].click()
    assert shown() != before, "the menu button did not toggle the table of contents"
    if before:  # a desktop: the same button brings it back
        toggles[0].click()
    else:  # a phone or tablet: a click beside the open menu closes it
        page.mouse.click(width - 5, 450)
    assert shown() == before
    header = page.locator("header.bd-header")
    assert header.count() == 0 or not header.is_visible() or header.bounding_box()["height"] < 5, \
        "an empty top bar above the article"
    assert visit.errors == [] and visit.refused == []
    visit.context.close()


def test_the_contents_button_shows_the_page_outline_on_a_phone(book, browser):
    _, html = book
    visit = Visit(browser, PHONE)
    visit.open((html / "book" / "activations.html").as_uri())
    assert not visit.page.evaluate(ON_SCREEN, OUTLINE)
    toggles = [t for t in visit.page.locator("button.secondary-toggle").all() if t.is_visible()]
    assert len(toggles) == 1, f"{len(toggles)} visible contents buttons"
    toggles[0].click()
    visit.page.wait_for_timeout(400)
    assert visit.page.evaluate(ON_SCREEN, OUTLINE), "the contents button did not show the page's outline"
    visit.context.close()


def test_a_page_downloads_as_its_executed_notebook_over_http(book, browser, tmp_path):
    _, html = book
    import functools
    import http.server
    import threading
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_port}"
    try:
        visit = Visit(browser, DESKTOP, allowed=(origin,), accept_downloads=True)
        visit.open(f"{origin}/book/activations.html")
        page = visit.page
        page.locator(".dropdown-download-buttons button.dropdown-toggle").click()
        link = page.locator(".dropdown-download-buttons a", has_text=".ipynb")
        assert link.count() == 1, "the download menu offers no .ipynb"
        with page.expect_download() as download_info:
            link.click()
        download = download_info.value
        assert download.suggested_filename == "activations.ipynb"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        notebook = nbformat.read(str(saved), as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3"
        assert sum(cell.cell_type == "code" for cell in notebook.cells) > 20  # the chapter's cells
        assert visit.refused == [] and visit.errors == []
        visit.context.close()
    finally:
        server.shutdown()
        server.server_close()
