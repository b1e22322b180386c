# Lowcode CRM: set-up, services, tests.
#
#   make run     install everything, create the SQLite demo site, serve it
#   make test    install everything incl. MariaDB/Redis, start them, run pytest
#   make bench   benchmarks against the project's MariaDB/Redis
#
# Installing Debian packages needs root or sudo (only when something is missing).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

ROOT   := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PYTHON ?= python3
VENV   := $(ROOT)/.venv
PY     := $(VENV)/bin/python
APT    := $(ROOT)/scripts/apt-ensure.sh
SERVICES := $(ROOT)/scripts/services.sh

PYTEST_ARGS ?=
BENCH_ARGS  ?=
# Set KEEP_SERVICES=1 to leave MariaDB/Redis/Dovecot running after `make test`.
KEEP_SERVICES ?=

# Needed to build mysqlclient (pip install).
BUILD_PKGS   := default-libmysqlclient-dev pkg-config gcc
# Needed by the test suite and benchmarks (openssl: a certificate for the STARTTLS e-mail test;
# dovecot-imapd: the IMAP server the e-mail-in tests append to and poll; nginx: `nginx -t` of the
# site `lowcode setup production` writes; systemd: `systemd-analyze verify` of its units; iproute2:
# the network namespaces of the multi-host test).
SERVICE_PKGS := mariadb-server mariadb-client redis-server dovecot-imapd chromium openssl nginx systemd iproute2
# Needed at run time: PDF printing (WeasyPrint draws with Pango) and fonts that shape
# Persian and Hebrew.
RUNTIME_PKGS := libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DEBIAN_FRONTEND := noninteractive

NPM_STAMP := $(if $(wildcard $(ROOT)/package.json),$(ROOT)/node_modules/.installed)

.PHONY: help venv install build-deps system-deps services-start services-stop \
        services-status test run bench clean-run

help:
	@echo "make run             install, create the demo site (SQLite) and serve it"
	@echo "make test            install (incl. MariaDB/Redis/chromium), start services, run pytest"
	@echo "                     PYTEST_ARGS='-k foo -x' to pass options; KEEP_SERVICES=1 to leave services up"
	@echo "make bench           run tests/bench/run_bench.py (BENCH_ARGS=...), then bench_screen_pop.py (POP_ARGS=...)"
	@echo "make install         .venv + pip install -e '.[test]' (+ npm packages)"
	@echo "make system-deps     Debian packages: $(BUILD_PKGS) $(SERVICE_PKGS)"
	@echo "make services-start|services-stop|services-status"
	@echo "make clean-run       stop services and delete .run/ (their data)"

# ---------------------------------------------------------------- install

build-deps:
	@command -v $(PYTHON) >/dev/null 2>&1 || $(APT) python3 python3-venv python3-dev
	@$(APT) $(BUILD_PKGS) $(RUNTIME_PKGS)
	@# Python headers (for mysqlclient); Debian's python3 needs python3-dev.
	@$(PYTHON) -c "import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" \
		|| $(APT) python3-dev

system-deps:
	@$(APT) $(BUILD_PKGS) $(RUNTIME_PKGS) $(SERVICE_PKGS)

$(PY):
	@# Debian's python3 has no ensurepip without python3-venv.
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || $(APT) python3-venv
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(ROOT)/pyproject.toml | $(PY) build-deps
	cd $(ROOT) && $(PY) -m pip install -e '.[test]'
	touch $@

$(ROOT)/node_modules/.installed: $(ROOT)/package.json $(wildcard $(ROOT)/package-lock.json)
	@command -v npm >/dev/null 2>&1 || $(APT) nodejs npm
	cd $(ROOT) && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	touch $@

venv: $(PY)

install: $(VENV)/.installed $(NPM_STAMP)

# ---------------------------------------------------------------- services

services-start:
	@$(SERVICES) start

services-stop:
	@$(SERVICES) stop

services-status:
	@$(SERVICES) status

# ---------------------------------------------------------------- test / run / bench

# The services started for the run are stopped afterwards (even when tests fail); those
# already running before stay, and KEEP_SERVICES keeps all. pytest's exit status is kept.
# (`status` exits 1 when a service is down: under pipefail that must not end the recipe.)
test: system-deps install
	@down="$$({ $(SERVICES) status 2>/dev/null || true; } | awk -F: '$$2 !~ /running/ {print $$1}')"; \
	$(SERVICES) start; \
	eval "$$($(SERVICES) env)"; \
	echo "services: MariaDB $$LOWCODE_TEST_MARIADB (replica port $$LOWCODE_TEST_MARIADB_REPLICA_PORT), Redis $$LOWCODE_REDIS_URL, IMAP $$LOWCODE_TEST_IMAP_PORT"; \
	rc=0; \
	cd $(ROOT) && $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ -n "$$down" ] && [ -z "$(KEEP_SERVICES)" ]; then $(SERVICES) stop $$down || true; fi; \
	exit $$rc

run: install
	@$(ROOT)/scripts/run-demo.sh

bench: system-deps install services-start
	@eval "$$($(SERVICES) env)"; \
	cd $(ROOT) && $(PY) tests/bench/run_bench.py $(BENCH_ARGS) && \
	$(PY) tests/bench/bench_screen_pop.py $(POP_ARGS)

clean-run:
	@$(SERVICES) stop || true
	rm -rf $(ROOT)/.run
