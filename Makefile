# Two commands for everyone:  make book  (build the HTML book)  and  make test  (the whole test suite).
# Both create the virtual environment in .venv/ first, with MathJax for offline math.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MATHJAX_VERSION := 3.2.2
# The venv's bin/ first on PATH: nbgrader runs `alembic` and jupyter finds its kernels there.
export PATH := $(abspath $(BIN)):$(PATH)
# Busy-waiting OpenMP threads slow shared 2-core machines down several times.
export OMP_WAIT_POLICY := PASSIVE

.PHONY: book test test-quick test-unit test-checks test-grading test-book venv sandbox-tools browser database release bench-grade profile-grade clean

MATHJAX := $(VENV)/mathjax/mathjax
# (what of MathJax the book ships: see the rule below)
MATHJAX_FILES := startup.js core.js input/tex.js input/tex/extensions output/chtml.js \
	output/chtml/fonts/tex.js output/chtml/fonts/woff-v2 a11y/assistive-mml.js
MATHJAX_STAMP := $(MATHJAX)/.book-files-$(MATHJAX_VERSION)-$(shell echo $(MATHJAX_FILES) | cksum | cut -d' ' -f1)
venv: $(VENV)/.installed $(MATHJAX_STAMP)

# The grader runs student code in bubblewrap (Debian package); prlimit comes with util-linux.
sandbox-tools:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; } || \
	  echo "WARNING: bubblewrap is missing and could not be installed (apt-get install bubblewrap as root)"

# A PostgreSQL gradebook is tested against a real server (Debian package), started by the test itself.
database:
	@command -v /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	  echo "WARNING: postgresql is missing and could not be installed: the PostgreSQL gradebook test will be skipped"

# The book's test renders a page in headless Chromium (Debian package) to prove math typesets offline.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "WARNING: chromium is missing and could not be installed: the offline-math browser test will be skipped"

$(VENV)/.installed: requirements.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	@# actlab in editable mode, as students install its wheel: chapters, labs and tests import it from any
	@# folder. The pinned setuptools builds it (no build isolation: nothing to fetch).
	$(BIN)/pip install --quiet --no-build-isolation -e . -c requirements.txt
	@# earlier versions of this Makefile put the whole repository on the venv's path with this file
	rm -f $(VENV)/lib/python*/site-packages/course.pth
	touch $@

# MathJax from the npm registry, copied where _config.yml's html_static_path looks: only what the pages load
# (tex-chtml.js's components but its context menu: the loader, core, TeX input with the extensions it loads
# on demand, HTML output with its font data and files, assistive MathML), not the whole 24 MiB package. The
# stamp names the version and the list, so a venv with another copy is remade on the next make.
$(MATHJAX_STAMP):
	mkdir -p $(VENV)/npm $(VENV)/mathjax
	npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/npm mathjax@$(MATHJAX_VERSION)
	rm -rf $(MATHJAX)
	cd $(VENV)/npm/node_modules/mathjax/es5 && for f in $(MATHJAX_FILES); do \
	  mkdir -p $(abspath $(MATHJAX))/$$(dirname $$f) && cp -r $$f $(abspath $(MATHJAX))/$$f || exit 1; done
	touch $@

# The book, then the course kit it offers on its Exercises page (_build/html/activation-functions-kit.zip).
book: venv
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/python -m autograder.kit

# Two processes (pytest-xdist): most tests wait on kernels, workers and subprocesses. See tests/conftest.py
# (which groups a file's tests in one process, and hands out the slowest files first).
PARALLEL := -n 2 --dist loadgroup --no-loadscope-reorder

test: venv sandbox-tools browser database
	$(BIN)/python -m pytest tests $(PARALLEL)

# The quick part: everything but the slow tests (book build, full grading runs, the corpus of wrong answers).
test-quick: venv sandbox-tools
	$(BIN)/python -m pytest tests -m "not slow" $(PARALLEL)

# One layer at a time (pytest.ini): the grader's parts, the hidden checks, the instructor's commands, the book.
test-unit: venv sandbox-tools
	$(BIN)/python -m pytest tests -m unit $(PARALLEL)
test-checks: venv sandbox-tools
	$(BIN)/python -m pytest tests -m checks $(PARALLEL)
test-grading: venv sandbox-tools database
	$(BIN)/python -m pytest tests -m grading $(PARALLEL)
test-book: venv browser
	$(BIN)/python -m pytest tests -m book $(PARALLEL)

release: venv
	$(BIN)/python -m autograder release

# Seconds per submission: plain `nbgrader autograde` against this grader, on the same notebooks.
# CLASS=200: a realistic class of 200 (correct, mistakes, partial, blank, broken), graded with --workers 2.
bench-grade: venv sandbox-tools
	$(BIN)/python -m autograder.bench $(if $(CLASS),$(CLASS) --class,$(N))

clean:
	rm -rf _build

# Where one submission's time goes: each grading step timed over N submissions of a realistic class.
profile-grade: venv sandbox-tools
	$(BIN)/python -m autograder.profile_grading $(or $(N),20)
