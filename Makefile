# tiergate: `make run` serves the gateway on its embedded default; `make test` runs every check.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv

.PHONY: run test lint typecheck unit k8s-validate sim clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

run: $(VENV)/.synced
	$(VENV)/bin/tiergate serve

sim: $(VENV)/.synced
	$(VENV)/bin/tiergate sim --port 9100

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check app domain adapters infra

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy

test: $(VENV)/.synced
	bash scripts/install_test_deps.sh
	$(MAKE) --no-print-directory lint typecheck
	bash scripts/validate_k8s.sh
	$(VENV)/bin/pytest

# Overhead benchmark (issue 8, ~14 min): tiergate vs LiteLLM vs an aiohttp pass-through vs the
# simulator itself; rewrites the measured sections of docs/benchmarks.md. `make bench SOAK=600`
# adds the RSS soak; BENCH_ARGS passes more options (`python -m bench.perf --help`).
.PHONY: bench
bench: $(VENV)/.synced
	$(VENV)/bin/python -m bench.perf $(if $(SOAK),--soak $(SOAK)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
