# Every target runs in the project's own virtualenv (.venv), made on first use, the same whether a
# virtualenv is active or not, and whichever: nothing is taken from an activated one (or a conda
# env). maturin develop installs into the venv VIRTUAL_ENV names, so it gets .venv's; pyo3's build
# script (cargo clippy --features python) configures for PYO3_PYTHON, so that is .venv's python.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
unexport VIRTUAL_ENV CONDA_PREFIX PYTHONHOME PYTHONPATH
export PYO3_PYTHON := $(abspath $(BIN)/python)

# Build, check and release tools (not needed to use or test the package from source).
DIST_TOOLS := 'maturin>=1.9,<2' 'ziglang>=0.13' 'auditwheel>=6' 'twine>=6.1' 'check-wheel-contents>=0.6' 'zizmor>=1.5'

.PHONY: help install dev demo test test-release test-rust test-python lint fmt bench clean tools dist check-dist test-wheel test-sdist fresh-clone

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python ## Build the Rust core (release) and install the package with its test tools
	$(BIN)/python -m pip install -q -e '.[test]'

dev: $(BIN)/python ## Build the Rust core (debug: quick to compile) and install it with the test tools
	$(BIN)/python -m pip install -q 'maturin>=1.9,<2'
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/maturin develop -q --extras test

demo: install ## Run the offline demo
	$(BIN)/cloudpartner demo

test: dev lint test-rust test-python ## Lint, then run every Rust and Python test on a debug build

test-release: install lint test-rust test-python ## The same on the release build (what users get)

test-rust: ## cargo test (the pure-Rust core, no Python needed)
	cargo test --quiet

test-python: ## pytest against the offline portal and scripted broken servers
	$(BIN)/python -m pytest -q

lint: $(BIN)/python tools ## rustfmt, clippy (both feature sets), ruff, mypy --strict, zizmor (workflows)
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	cargo clippy --quiet --all-targets --features python -- -D warnings
	$(BIN)/python -m ruff check python tests examples benchmarks scripts docs/_hooks
	$(BIN)/python -m ruff format --check python tests examples benchmarks scripts docs/_hooks
	$(BIN)/python -m mypy
	$(BIN)/zizmor --offline --min-severity low .github/workflows

tools: $(BIN)/python ## Install the build, check and release tools into .venv
	$(BIN)/python -m pip install -q $(DIST_TOOLS)

# maturin finds zig (the ziglang package) through the `python3` first on PATH: the venv's.
dist: tools ## Build the abi3 manylinux2014 wheel (zig, no Docker) and the sdist into dist/
	rm -rf dist
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/maturin build --release --zig --compatibility manylinux2014 --out dist
	$(BIN)/maturin sdist --out dist
	$(MAKE) check-dist

check-dist: tools ## twine check --strict, check-wheel-contents, auditwheel show; the sdist lists what it needs
	$(BIN)/twine check --strict dist/*
	$(BIN)/check-wheel-contents dist/*.whl
	$(BIN)/auditwheel show dist/*.whl > target/auditwheel.txt
	cat target/auditwheel.txt
	grep -q manylinux_2_17_x86_64 target/auditwheel.txt  # a file, not a pipe: grep -q would cut it off
	$(BIN)/python scripts/check_no_jitter.py dist/*.whl
	for f in Cargo.toml Cargo.lock .cargo/config.toml pyproject.toml README.md LICENSE src/lib.rs python/cloudpartner/__init__.py; do \
		tar -tzf dist/*.tar.gz | grep -qx "cloudpartner-[0-9.]*/$$f" || { echo "sdist lacks $$f"; exit 1; }; \
	done

test-wheel: ## The wheel in dist/ on the oldest and newest Python here: fresh venv, no Rust, demo, whole suite
	scripts/test-wheel.sh

test-sdist: tools ## Build a wheel from the sdist alone, in an empty directory, and run the smoke test
	scripts/test-sdist.sh

fresh-clone: ## README's two commands in a fresh clone of HEAD: (a) no venv active, (b) inside one, (c) oldest Python
	scripts/fresh-clone.sh $(or $(CASES),all)

fmt: ## Format Rust and Python sources
	cargo fmt
	$(BIN)/python -m ruff format python tests examples benchmarks scripts docs/_hooks

clean: ## Remove build outputs and the virtualenv
	rm -rf target $(VENV) python/cloudpartner/*.so

# ---------------------------------------------------------------------- the documentation site
# MkDocs + Material + mkdocstrings, pinned in docs/requirements.txt (installed into .venv once,
# again when the list changes). The CLI page and the API reference read the installed package,
# so a missing build is made first (make dev).
.PHONY: docs docs-serve docs-shots notebook-picture
DOCS_TOOLS := $(VENV)/.docs-tools

$(DOCS_TOOLS): docs/requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r docs/requirements.txt
	touch $@

docs: $(DOCS_TOOLS) ## Build the documentation site into site/ (mkdocs build --strict)
	$(BIN)/python -c 'import cloudpartner._core' 2>/dev/null || $(MAKE) dev
	$(BIN)/python -m mkdocs build --strict --site-dir site

docs-serve: $(DOCS_TOOLS) ## Serve the documentation on http://127.0.0.1:8000, rebuilt on change
	$(BIN)/python -c 'import cloudpartner._core' 2>/dev/null || $(MAKE) dev
	$(BIN)/python -m mkdocs serve --strict --dev-addr 127.0.0.1:8000

docs-shots: docs ## Render the home page, a guide and an API page to PNGs in target/docs-shots (headless Chromium)
	scripts/docs_shots.sh $(BIN)/python site target/docs-shots

notebook-picture: $(BIN)/python ## Execute examples/offline.ipynb, convert it to HTML, render docs/notebook.png
	$(BIN)/python -c 'import cloudpartner._core, nbclient' 2>/dev/null || $(MAKE) dev
	$(BIN)/python -c 'import nbconvert' 2>/dev/null || $(BIN)/python -m pip install -q 'nbconvert>=7.16'
	scripts/notebook_picture.sh $(BIN)/python examples/offline.ipynb docs/notebook.png
