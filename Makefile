# greenai — every target installs what it needs first, so on a fresh machine
#   make demo   runs the live system with the demo feed (UI on http://127.0.0.1:8000)
#   make test   runs every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTHON_STAMP := $(VENV)/.installed
FRONTEND_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html \
                    frontend/vite.config.ts frontend/tsconfig.json
KAFKA_CLASSPATH := infra/kafka/target/classpath.txt

.PHONY: install base system tools demo up test test-unit test-integration test-frontend bench soak load lint \
        lint-deploy clean

# install: everything; base: what running greenai needs (make demo does not wait for the tools)
install: base tools

base: system $(PYTHON_STAMP) frontend/dist/index.html $(KAFKA_CLASSPATH)

system:
	@bash infra/install-system-packages.sh

# helm, kubeconform, actionlint, docker-compose and jaeger from the Go module proxy,
# dockerfilelint from npm and kubeconform's schemas, once into .tools (a stamp per version)
tools: $(PYTHON_STAMP)
	@bash infra/tools/install-tools.sh $(PY)

$(PYTHON_STAMP): pyproject.toml
	@echo "make: Python dependencies into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@touch $@

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	@echo "make: npm dependencies"
	@cd frontend && npm ci --no-audit --no-fund --loglevel=error

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	@echo "make: building the ReconWorkstation"
	@cd frontend && npm run --silent build

$(KAFKA_CLASSPATH): infra/kafka/pom.xml | $(PYTHON_STAMP)
	@$(PY) -c "from pathlib import Path; from greenai.localstack.kafka import kafka_classpath; \
	  kafka_classpath(Path('infra/kafka/target/maven.log'))"

demo: base
	$(VENV)/bin/greenai up --demo

up: base
	$(VENV)/bin/greenai up

test: install test-frontend
	$(VENV)/bin/pytest -q

test-unit: $(PYTHON_STAMP) system tools
	$(VENV)/bin/pytest -q tests/unit

test-integration: install
	$(VENV)/bin/pytest -q tests/integration

test-frontend: frontend/dist/index.html
	@cd frontend && npm test --silent

bench: base
	$(PY) -m bench

# Twenty minutes of chaos at a steady rate (GREENAI_SOAK_MINUTES, GREENAI_SOAK_RATE): lag,
# memory growth and restarts in soak-report.json. Not part of `make test`.
soak: base
	$(VENV)/bin/pytest -q -s -m soak tests/soak

# The BFF under load on a stack of its own: GREENAI_LOAD_USERS analysts (200) on the API and
# GREENAI_LOAD_SSE live streams (500) for GREENAI_LOAD_SECONDS (60) after a ramp; p50/p95/p99
# per request type, errors, SSE delivery lag (load/run.py, docs/benchmarks.md#load-test).
load: base
	$(PY) -m load.run

lint: $(PYTHON_STAMP) frontend/node_modules/.package-lock.json system tools
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@cd frontend && npm run --silent lint
	$(PY) deploy/checks.py

# helm lint, helm template | kubeconform, actionlint, docker-compose config, dockerfilelint,
# promtool check rules and promtool test rules (infra/prometheus)
lint-deploy: system tools
	$(PY) deploy/checks.py

clean:
	rm -rf .greenai frontend/dist infra/kafka/target .tools
