# Two commands on a fresh machine: `make run` serves the API, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= $(or $(HELPDESK_HOST),127.0.0.1)
PORT ?= $(or $(HELPDESK_PORT),8000)

.PHONY: run test lint typecheck pytest openapi install install-dev clean dovecot alertmanager client-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/helpdesk-api serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install-dev
	$(BIN)/mypy

# One process per core (at most four), each with its own PostgreSQL: the suite spends much of
# its time waiting on real processes, so two cores run it in ~60 % of the serial time. Work
# stealing: a few tests take a minute or more, and a worker left idle at the end steals.
pytest: install-dev dovecot alertmanager client-tools
	$(BIN)/pytest -n auto --maxprocesses 4 --dist worksteal --durations=15

# The checks run side by side (the suite waits on PostgreSQL and real processes much of the
# time, so the linters and mypy fit in its gaps); each one's output is printed whole when done.
test: install-dev
	$(MAKE) --no-print-directory -j3 --output-sync=target lint typecheck pytest

# The IMAP tests run a private dovecot (tests/mail/imap_server.py). Installed when missing
# (as root, on Debian/Ubuntu); the distro's own service is stopped if apt started it.
dovecot:
	@command -v dovecot >/dev/null 2>&1 || test -x /usr/sbin/dovecot || { \
	  echo "installing dovecot-imapd for the IMAP tests"; \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    dovecot-imapd >/dev/null && \
	  { service dovecot stop >/dev/null 2>&1 || true; }; }

# The Alertmanager channel's end-to-end test runs the real Alertmanager
# (tests/channels/alertmanager_process.py): Debian's package, installed when missing (as root,
# on Debian/Ubuntu); the distro's own service is stopped if apt started it.
alertmanager:
	@command -v prometheus-alertmanager >/dev/null 2>&1 || { \
	  echo "installing prometheus-alertmanager for the Alertmanager channel's test"; \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    prometheus-alertmanager >/dev/null && \
	  { service prometheus-alertmanager stop >/dev/null 2>&1 || true; }; }

# The generated-client tests (tests/clients/) type-check a TypeScript client made by
# openapi-typescript + openapi-fetch: the npm tools, at the exact versions of the committed
# lock file, go into .cache/clients/ (gitignored). Node.js and npm are installed when missing
# (as root, on Debian/Ubuntu), as for dovecot.
CLIENT_TOOLS := .cache/clients
$(CLIENT_TOOLS)/.installed: tests/clients/ts/package.json tests/clients/ts/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing nodejs and npm for the generated-client tests"; \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    nodejs npm >/dev/null; }
	mkdir -p $(CLIENT_TOOLS)
	cp tests/clients/ts/package.json tests/clients/ts/package-lock.json $(CLIENT_TOOLS)/
	npm ci --prefix $(CLIENT_TOOLS) --no-audit --no-fund --loglevel=error
	touch $@

client-tools: $(CLIENT_TOOLS)/.installed

openapi: install
	$(BIN)/helpdesk-api openapi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .cache

# Benchmarks, not part of `make test` (bench/README.md): `make bench` loads a million tickets
# once (~4.5 min) and then runs in ~12 minutes; `make bench-quick` runs every scenario at 2,000
# tickets in ~3.
# Options pass through, e.g. `make bench BENCH_ARGS="--workers 4 --concurrency 16"`.
BENCH_ARGS ?=

.PHONY: bench bench-quick bench-check bench-mail bench-triggers bench-channels

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-quick: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

# Before every change to a hot path: the quick run (which loads the quick dataset when it is
# missing), then the floors held to the service's statements on it, one for one (~5 min).
bench-check: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)
	$(BIN)/python -m bench.capture_sql --check

# The e-mail paths (bench/README.md, "Mail"): ~6 min; BENCH_ARGS=--quick for ~1.
bench-mail: $(VENV)/.installed-bench
	$(BIN)/python -m bench.mail $(BENCH_ARGS)

# The triggers' cost on the write paths (bench/README.md, "Triggers"): the quick dataset,
# the default trigger against 100 more, ~5 min.
bench-triggers: $(VENV)/.installed-bench
	$(BIN)/python -m bench.triggers $(BENCH_ARGS)

# Messaging channels (bench/README.md, "Channels"): messages and an alert storm against the
# floor of their own recorded SQL, ~2 min at the defaults.
bench-channels: $(VENV)/.installed-bench
	$(BIN)/python -m bench.channels $(BENCH_ARGS)
