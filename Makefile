# Two commands for a fresh machine: `make run` and `make test`. Both build the environment
# from uv.lock first (uv itself is installed into .tools with pip): `make run` only what the
# server needs, `make test` the development tools as well. Each marker says what its sync
# installed; `make run` never removes packages (--inexact), so the tools `make test` installed
# stay, and its marker stays true.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PROJECT_ENVIRONMENT := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: run test lint types unit bench clean

run: .venv/.synced-runtime
	.venv/bin/clarion serve --new-key

test: lint types unit

lint: .venv/.synced
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench

types: .venv/.synced
	.venv/bin/mypy

unit: .venv/.synced
	.venv/bin/pytest

bench: .venv/.synced
	.venv/bin/python bench/api.py

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced-runtime: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --no-dev --inexact
	touch $@

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

clean:
	rm -rf .venv .tools .mypy_cache .pytest_cache .ruff_cache
