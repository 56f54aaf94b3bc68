# Changeledger's verbs. `make run` and `make test` work on a fresh machine: they install
# uv and the Python dependencies, fetch Apache Kafka and PostgreSQL, and start them.

SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: help setup infra run test lint format bench demo clean

help: ## list the verbs
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## install uv and the locked Python dependencies
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet

infra: setup ## fetch Apache Kafka's jars and install PostgreSQL when missing
	@$(UV) run changeledger kafka fetch
	@$(UV) run changeledger postgres install

run: setup ## start Kafka and the four services on SQLite stores under ./var (Ctrl-C stops all)
	@$(UV) run changeledger run

demo: setup ## play one quarter through the APIs of a running `make run` (or start one) and report
	@$(UV) run changeledger demo

test: infra ## run the whole suite against a real Kafka broker and a real PostgreSQL
	@$(UV) run pytest

lint: setup ## ruff and mypy
	@$(UV) run ruff check .
	@$(UV) run ruff format --check .
	@$(UV) run mypy .

format: setup ## apply ruff's fixes and formatting
	@$(UV) run ruff check --fix .
	@$(UV) run ruff format .

bench: infra ## run the benchmarks; each prints a table and writes bench/results/<name>.json
	@$(UV) run python -m bench.propagation
	@$(UV) run python -m bench.impact
	@$(UV) run python -m bench.replay
	@$(UV) run python -m bench.commands
	@$(UV) run python -m bench.aggregate_load
	@$(UV) run python -m bench.memory

clean: ## remove local state (stores, Kafka data, logs) under ./var
	rm -rf var
