# Every target runs in the project's own virtualenv (.venv), made on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help install dev demo test test-release test-rust test-python lint fmt bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python ## Build the Rust core (release) and install the package with its test tools
	$(BIN)/python -m pip install -q -e '.[test]'

dev: $(BIN)/python ## Build the Rust core (debug: quick to compile) and install it with the test tools
	$(BIN)/python -m pip install -q 'maturin>=1.9,<2'
	$(BIN)/maturin develop -q --extras test

demo: install ## Run the offline demo
	$(BIN)/cloudpartner demo

test: dev lint test-rust test-python ## Lint, then run every Rust and Python test on a debug build

test-release: install lint test-rust test-python ## The same on the release build (what users get)

test-rust: ## cargo test (the pure-Rust core, no Python needed)
	cargo test --quiet

test-python: ## pytest against the offline portal and scripted broken servers
	$(BIN)/python -m pytest -q

lint: $(BIN)/python ## rustfmt, clippy (both feature sets), ruff, mypy --strict
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	cargo clippy --quiet --all-targets --features python -- -D warnings
	$(BIN)/python -m ruff check python tests examples benchmarks
	$(BIN)/python -m ruff format --check python tests examples benchmarks
	$(BIN)/python -m mypy

fmt: ## Format Rust and Python sources
	cargo fmt
	$(BIN)/python -m ruff format python tests examples benchmarks

clean: ## Remove build outputs and the virtualenv
	rm -rf target $(VENV) python/cloudpartner/*.so
