# Two commands do everything on a fresh clone (Python 3.11 and the package registries):
#   make book   build the HTML book into _build/html (installs what it needs first)
#   make test   run every test: lint, lib doctests and unit/property tests, md/ipynb pair
#               sync, nbval over every chapter (each executed once, on both cores), the
#               strict (-W -n --keep-going) book build, the PDF (its numbers against the
#               HTML's), and the offline browser test
# Also: make lab (JupyterLab on the book), make pdf (the book as one PDF).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
SETUP  := requirements.txt pyproject.toml jupyter/overrides.json tools/lab_setup.py tools/book_kernel.py
STAMP  := $(VENV)/.installed-$(shell cat $(SETUP) | sha256sum | cut -c1-12)
LIBHASH = $(shell cat lib/*.py _config.yml | sha256sum | cut -c1-16)

.PHONY: book test test-run test-lib test-notebooks test-build notebooks figure clean venv \
        chromium test-browser lint test-mutations test-seeds cache-check bench \
        latex cffconvert axe \
        lab lab-screenshot pdf test-pdf test-outputs poppler screenshots

venv: $(STAMP)
$(STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (set PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python tools/lab_setup.py
	rm -f $(VENV)/.installed-* && touch $@

# jupyter-cache does not notice a change in lib/ (or the configuration): the execution
# cache is dropped whenever their hash changes.
cache-check:
	@if [ "$$(cat _build/.lib-hash 2>/dev/null)" != "$(LIBHASH)" ]; then \
	  echo "lib/ or _config.yml changed: clearing the execution cache"; \
	  rm -rf _build/.jupyter_cache; mkdir -p _build; echo "$(LIBHASH)" > _build/.lib-hash; fi

# Chapters missing from the cache are executed two at a time (tools/book_cache.py), then
# the build renders them; a rebuild after editing prose executes nothing.
book: $(STAMP) cache-check
	OMP_NUM_THREADS=1 $(BIN)/python tools/book_cache.py --jobs 2
	$(BIN)/jupyter-book build .
	@echo "The book is in _build/html/index.html"

test: lint test-run test-build test-outputs

# The PDF and the browser test both read the strict build; they run side by side.
test-outputs:
	$(MAKE) --no-print-directory -j2 --output-sync=target test-pdf test-browser

# One pytest session on both cores (pytest-xdist; a chapter's cells stay on one worker):
# every chapter under nbval (heaviest first), the doctests of lib and the unit tests.
# Each chapter is executed exactly once per `make test`: nbval's fresh execution also
# fills the build's cache (tools/nbval_cache.py), which test-build then renders.
CHAPTER_NOTEBOOKS = $(shell ls -r book/[0-9][0-9]-*.ipynb)
test-run: $(STAMP) latex cffconvert
	rm -rf _build && mkdir -p _build && echo "$(LIBHASH)" > _build/.lib-hash
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadscope -p nbval_cache \
	  --nbval-lax --doctest-modules $(CHAPTER_NOTEBOOKS) lib tests

test-lib: $(STAMP) latex cffconvert
	$(BIN)/python -m pytest -n 2 --doctest-modules lib tests

test-notebooks: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadscope --nbval-lax \
	  $(CHAPTER_NOTEBOOKS)

# Strict: warnings are errors and a raising chapter fails. It renders the executions
# that test-run just cached; run alone, it executes whatever the cache lacks.
test-build: $(STAMP) cache-check
	$(BIN)/jupyter-book build . -W -n --keep-going

# The book as one PDF (tools/pdf.py): the single-page HTML build, which reuses the
# execution cache and the HTML build's parsed documents (same numbers: "Figure 3.2" in
# both), printed by Debian's Chromium once MathJax has typeset it; written to
# _build/pdf/attention-book.pdf and copied to _build/html/downloads/, where the
# introduction links it.
pdf: $(STAMP) cache-check chromium
	OMP_NUM_THREADS=1 $(BIN)/python tools/book_cache.py --jobs 2
	$(BIN)/jupyter-book build . --builder singlehtml $(PDFFLAGS)
	$(BIN)/python tools/pdf.py

# After test-build: the strict single-page build, the PDF, and its checks (every chapter
# title, theorem and figure number of the HTML in its text; the downloads of the pages).
test-pdf: PDFFLAGS = -W -n --keep-going
test-pdf: pdf poppler
	$(BIN)/python -m pytest tests/built/check_pdf.py tests/built/check_downloads.py \
	  tests/built/check_rebuild.py

# Debian's poppler-utils (pdftotext) for test-pdf, installed only if missing (after
# chromium: one apt-get at a time).
poppler: chromium
	@command -v pdftotext >/dev/null || { \
	  echo "installing Debian's poppler-utils (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends poppler-utils; }

# JupyterLab on the book: a chapter's .md opens as a notebook (jupytext), its MyST
# rendered (jupyterlab-myst), on the kernel attention-book. CHAPTER=03 opens chapter 3;
# LAB_ARGS="--no-browser --port 8899" passes options to `jupyter lab`.
LAB_PAGE = $(if $(CHAPTER),$(or $(wildcard book/$(CHAPTER)-*.md),$(error no chapter book/$(CHAPTER)-*.md)),book)
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/$(LAB_PAGE) \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# make lab seen by a reader (headless Chromium): the chapter opens as a notebook, the
# jupytext and MyST extensions load, no MyST is left raw; _build/screenshots/lab-*.png.
lab-screenshot: $(STAMP) chromium
	$(BIN)/python tools/lab_screenshot.py $(if $(CHAPTER),--chapter $(CHAPTER))

# The built book in a real browser with no network (run after test-build): every page opens
# with its math typeset by the book's own MathJax, every image loaded, no failed request and
# no console error; the search box finds a word; first-screen screenshots of every page
# go to _build/screenshots/.
# One test class per page: --dist loadscope keeps a page on one worker.
test-browser: $(STAMP) chromium axe latex
	timeout 900 $(BIN)/python -m pytest -n 2 --dist loadscope \
	  tests/browser/check_offline_book.py tests/browser/check_bibtex.py

# The browser test with whole-page screenshots (_build/screenshots/), after a build.
screenshots: $(STAMP) chromium axe latex
	BOOK_FULL_SCREENSHOTS=1 timeout 900 $(BIN)/python -m pytest -n 2 --dist loadscope \
	  tests/browser/check_offline_book.py

# Debian's Chromium for test-browser, installed only if missing (CI runs as root).
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

# Debian's pdflatex + bibtex for the BibTeX compile tests, installed only if missing.
latex:
	@test -x /usr/bin/pdflatex -a -x /usr/bin/bibtex || { \
	  echo "installing Debian's texlive-latex-base (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends texlive-latex-base; }

# cffconvert in its own virtualenv (it needs jsonschema < 4; the book has 4).
CFF := $(VENV)/cffconvert/.installed-$(shell sha256sum requirements-cffconvert.txt | cut -c1-12)
cffconvert: $(CFF)
$(CFF): requirements-cffconvert.txt
	test -x $(VENV)/cffconvert/bin/python || $(PYTHON) -m venv $(VENV)/cffconvert
	$(VENV)/cffconvert/bin/python -m pip install --quiet -r requirements-cffconvert.txt
	rm -f $(VENV)/cffconvert/.installed-* && touch $@

# axe-core (pinned) from npm into .venv/npm; the browser test injects that local file.
AXE_VERSION := 4.14.1
AXE := $(VENV)/npm/.axe-core-$(AXE_VERSION)
axe: $(AXE)
$(AXE):
	npm install --prefix $(VENV)/npm --no-audit --no-fund --save-exact axe-core@$(AXE_VERSION)
	touch $@

# Regenerate one figure's files (_build/figures/NAME.{svg,pdf,png}): make figure NAME=ch3-rates
# executes the chapter that saves it (the .ipynb pair is left alone); `make book` then copies
# them into _build/html/figures/.
figure: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make figure NAME=<figure name: its label without fig->"; exit 2; }
	$(BIN)/python tools/figure.py $(NAME)

# Re-execute the chapters and refresh their paired .ipynb (after editing a .md).
notebooks: $(STAMP)
	for md in book/[0-9]*.md; do \
	  $(BIN)/jupytext --to ipynb --execute "$$md" || exit 1; done

# Lint and format check (ruff, 88 columns; configured in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check lib tests _ext tools
	$(BIN)/ruff format --check lib tests _ext tools

# Referee runs (slow, not part of `make test`): every chapter under 20 other seed sets,
# and every planted error of tests/mutations/NN.toml caught by its chapter or unit tests.
# Select chapters with CHAPTERS="01 03".
test-seeds: $(STAMP)
	$(BIN)/python tools/chapter_runs.py seeds --seeds $(or $(SEEDS),1-20) \
	  $(if $(CHAPTERS),--chapters $(CHAPTERS))

test-mutations: $(STAMP)
	$(BIN)/python tools/chapter_runs.py mutations $(if $(CHAPTERS),--chapters $(CHAPTERS))

# Timings side by side (chapters cold, make book, make test's phases, attention against
# torch's fused kernel), written to _build/bench.md for the execution page. ~6 minutes.
bench: $(STAMP)
	$(BIN)/python tools/bench.py

clean:
	rm -rf _build
