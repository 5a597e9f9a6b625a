# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo clean-demo site website test test-slow test-all lint bench bench-profile bench-scale bench-sim bench-site clean-output
OUTPUT ?= output

# $(call venv,FOLDER,EXTRAS): a virtual environment with the project installed (editable)
# and those extras; the steps of an environment's .installed target
define venv
$(PYTHON) -m venv $(1)
$(1)/bin/python -m pip install --quiet --upgrade pip
$(1)/bin/python -m pip install --quiet -e '.[$(2)]'
touch $(1)/.installed
endef

$(VENV)/.installed: pyproject.toml
	$(call venv,$(VENV),test)

install: $(VENV)/.installed

## Set up and crawl the bundled offline demo mirror into output/demo/ (its own state too).
demo: install
	$(PY) -m tests.mirror.demo --output output/demo

## Remove the demo's invented articles, reports and state (the live output/ is untouched).
clean-demo:
	rm -rf output/demo

## The archive as a website with Debian's jekyll: $(OUTPUT)/_site/ (skipped without jekyll):
## searchable by Pagefind (the site extra; without it the site is built without search).
## Jekyll renders the posts, the project the listing pages and Atom feeds; a second run after
## a crawl updates only what changed (SITE_FLAGS=--full rebuilds all). `make site OUTPUT=output/demo`
## builds the demo's; `make website` is the same.
site: install
	$(PY) -m newscrawl.website --output $(OUTPUT) $(SITE_FLAGS)

website: site

## Lint: ruff, and mypy over the package ([tool.mypy] in pyproject.toml).
lint: install
	$(PY) -m ruff check newscrawl tests benchmarks
	$(PY) -m mypy

## The suite: lint, then pytest on every core (pytest-xdist; a test file stays on one worker,
## its module fixtures made once), without the exhaustive runs marked slow.
PYTEST := $(PY) -m pytest -n auto --dist loadfile
test: lint
	$(PYTEST) -m "not slow"

## The exhaustive kill, fuzz and repair runs alone (CI runs them after make test).
test-slow: install
	$(PYTEST) -m slow

## Everything: lint, then the whole suite, slow runs included.
test-all: lint
	$(PYTEST)

## Speed and memory benchmark, in its own environment as a deployment installs the crawler:
## its dependencies and the benchmark-only extra (trafilatura), not the test tools (the test
## extra's wacz brings pydantic, which itemadapter imports at every start: ~0.06 s).
BENCH_VENV ?= .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python

$(BENCH_VENV)/.installed: pyproject.toml
	$(call venv,$(BENCH_VENV),bench)

bench: $(BENCH_VENV)/.installed
	PYTHONPATH=. $(BENCH_PY) benchmarks/run.py $(BENCH_FLAGS)
	PYTHONPATH=. $(BENCH_PY) benchmarks/warc.py

## Where a crawl's CPU goes: py-spy (the bench extra) over a crawl of 300 real-size DW articles
## and over the re-crawl with nothing new, samples by component (benchmarks/profile.py; ~2 min).
bench-profile: $(BENCH_VENV)/.installed
	PYTHONPATH=. $(BENCH_PY) benchmarks/profile.py

## What a nothing-new re-crawl and rebuild-state cost at 1,000 and 100,000 articles (clones of
## a crawl of the demo mirror; ~1 GB of disk and ~15 minutes, so not part of `make bench`).
bench-scale: $(BENCH_VENV)/.installed
	PYTHONPATH=. $(BENCH_PY) benchmarks/scale.py

## Ten simulated days of both sites (new articles daily, edits, sidebars that change daily)
## against a crawler that fetches only what is new or changed: the ratio, the counts per day,
## duplicates/missed/stale and when each edit was caught (~2 minutes; benchmarks/simulation.py).
## `make bench-sim STEPS=1h,6h,1d,3d,7d,30d` tries another NEWSCRAWL_RECHECK_STEPS.
bench-sim: install
	PYTHONPATH=. $(PY) benchmarks/simulation.py $(if $(STEPS),--steps $(STEPS))

## What make site costs at 1,000 and 10,000 posts (clones of the demo's posts; run make demo
## first; ~10 minutes): full build, nothing new, one new post. Writes benchmarks/out/site.json.
bench-site: install
	PYTHONPATH=. $(PY) benchmarks/site.py --base output/demo

clean-output:
	find output -mindepth 1 ! -name .gitkeep -delete
