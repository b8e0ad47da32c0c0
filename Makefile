# The two README commands: `make run` and `make test`. Each installs what is missing and skips what is done.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEBIAN_PACKAGES := postgresql postgresql-15-postgis-3 gdal-bin chromium poppler-utils wrk varnish pgbouncer python3-qgis osmium-tool
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast lint bench system-deps venv clean

run: system-deps $(BIN)/.installed
	$(BIN)/kotaku demo --if-empty
	$(BIN)/kotaku serve --host $(HOST) --port $(PORT)

test: system-deps $(BIN)/.installed $(STYLE_VALIDATOR)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

# MapLibre's style validator, run by tests/api/test_styles.py when present (installed only where npm is).
STYLE_VALIDATOR := var/npm/node_modules/.bin/gl-style-validate
$(STYLE_VALIDATOR):
	-command -v npm >/dev/null && npm install --silent --no-audit --no-fund --prefix var/npm \
	  @maplibre/maplibre-gl-style-spec@26.11.0

# No database, cluster or server: the tests marked `fast` by tests/conftest.py, in seconds.
test-fast: $(BIN)/.installed
	$(BIN)/pytest -m fast $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: system-deps $(BIN)/.installed
	$(BIN)/python bench/import_regions.py
	$(BIN)/pip install -q -e '.[test,bench]'
	$(BIN)/python bench/tiles.py

# Debian packages: installed only when one is missing (apt-get update runs once, only then).
system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

venv: $(BIN)/.installed

# The virtualenv is rebuilt only when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	[ -x $(BIN)/pip ] || $(PYTHON) -m venv --clear $(VENV)  # a venv cut short (no pip) is made again
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

clean:
	-[ -x $(BIN)/kotaku ] && $(BIN)/kotaku db down
	rm -rf $(VENV) var
