# Doxa's everyday commands. `make help` lists them.
.DEFAULT_GOAL := help
VENV := .venv/bin

.PHONY: help install demo test lint format bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install: ## Create .venv and install Doxa (CPU torch, dev tools)
	@scripts/bootstrap.sh

demo: install ## Run the whole job on embedded engines (no services, no API key needed)
	$(VENV)/doxa demo

lint: install ## ruff + mypy
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy .

format: install ## Apply ruff's formatting and safe fixes
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

test: lint ## Lint, then the whole test suite on embedded engines
	$(VENV)/python -m pytest

bench: install ## Benchmarks (figures go to BENCHMARKS.md by hand)
	$(VENV)/python -m benchmarks.retrieval
