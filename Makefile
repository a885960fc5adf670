# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
DATA ?= $(CURDIR)/var
# Test processes: one per core (each has its own PostgreSQL database and Redis prefix). The
# browser tests run in a session of their own: Playwright's sync API keeps an event loop
# running in its process, and a later test of that process calling asyncio.run() fails.
PYTEST_WORKERS ?= $(shell nproc)
DEMO_ENV := LIVEBASE_DEMO=1 LIVEBASE_DATA_DIR=$(DATA) LIVEBASE_PUBLIC_URL=http://$(HOST):$(PORT) LIVEBASE_LOG_JSON=0

.PHONY: run test install assets system-deps services lint typecheck pytest bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

assets:
	bash scripts/assets.sh

install: $(STAMP) assets

run: $(STAMP)
	-bash scripts/assets.sh
	$(DEMO_ENV) $(VENV)/bin/livebase migrate
	$(DEMO_ENV) $(VENV)/bin/livebase demo
	@echo ""
	@echo "  livebase is starting at  http://$(HOST):$(PORT)/"
	@echo "  demo accounts (password livebase-demo): admin, operator, moderator,"
	@echo "    jingwei / yanshan / yihe (merchants), xinghe (agency), xiaoya / ajie (hosts),"
	@echo "    clerk (pickup counter), viewer"
	@echo ""
	@bash scripts/media-run.sh $(VENV)/bin/livebase $(DATA) $(HOST) $(PORT) "$(DEMO_ENV)"
	$(DEMO_ENV) $(VENV)/bin/livebase serve --host $(HOST) --port $(PORT)

system-deps:
	bash scripts/system-deps.sh

services:
	bash scripts/services.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench migrations

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile --ignore=tests/e2e
	$(PY) -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile tests/e2e

test: $(STAMP) system-deps assets services lint typecheck pytest

bench: $(STAMP) services
	$(PY) bench/moderation.py
	$(PY) bench/http.py --pg

clean:
	rm -rf $(VENV) var artifacts
