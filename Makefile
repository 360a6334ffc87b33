# Everything is set up from nothing, idempotently; stamp files make re-runs fast.
#   make deps    .venv (Python 3.11, requirements-dev.txt), .venv313 (Python 3.13, the worker library
#                for tests/app and tests/worker), .venv-infra (checkov and its Bicep parser, for tests/infra),
#                .venv-c7n (Cloud Custodian, for bench/custodian.py and its test), localdev/node_modules (Azurite),
#                tests/ops/kusto/node_modules (Microsoft's Kusto language service, to check every KQL query)
#   make test    ruff and mypy over the product, then the whole test suite (except the Azure CLI's)
#   make lint    ruff over the whole repo, mypy (remediation, function_app.py, localdev, bench), import-linter
#   make test-fast  lint, then the unit and static tests (the inner loop: under a minute)
#   make test-azcli  the Azure CLI against the local emulator (tests/azcli; builds .venv-azcli, azure-cli
#                from PyPI, on first use: about 2 min and 730 MB, and Azurite for the audit table the report
#                reads; installs dig and nslookup when missing and it runs as root; the tests about 5 min)
#   make demo    the local stack demo
#   make bench   benchmarks (the large ones only with make bench-scale)
#   make faults  the fault matrix as a table (its cells also run in make test)
#   make clean   remove everything `make deps` and `make test-azcli` made, and .localdev/

SHELL := /bin/bash

PYTHON ?= python3
# The first Python 3.13+ that really runs (a pyenv shim for an inactive version does not).
ifndef PY313
PY313 := $(shell for p in $$(command -v python3.13 2>/dev/null) \
	$$(ls -d /root/.pyenv/versions/3.13*/bin/python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 13))' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
endif
NPM ?= npm
PYTEST_ARGS ?=

VENV := .venv
VENV313 := .venv313
VENV_INFRA := .venv-infra
VENV_C7N := .venv-c7n
VENV_AZCLI := .venv-azcli
NODE_MODULES := localdev/node_modules
KUSTO_MODULES := tests/ops/kusto/node_modules

DEV_STAMP := $(VENV)/.deps-stamp
INDEXING_STAMP := $(VENV313)/.deps-stamp
INFRA_STAMP := $(VENV_INFRA)/.deps-stamp
C7N_STAMP := $(VENV_C7N)/.deps-stamp
AZCLI_STAMP := $(VENV_AZCLI)/.deps-stamp
NODE_STAMP := $(NODE_MODULES)/.deps-stamp
KUSTO_STAMP := $(KUSTO_MODULES)/.deps-stamp

.PHONY: deps test test-azcli deps-azcli demo bench bench-scale clean

deps: $(DEV_STAMP) $(INDEXING_STAMP) $(INFRA_STAMP) $(C7N_STAMP) $(NODE_STAMP) $(KUSTO_STAMP)

$(DEV_STAMP): requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q -r requirements-dev.txt
	touch $@

# azure-functions 1.x (requirements.txt) declares Requires-Python <3.13, so .venv313 gets
# requirements.txt without its azure-functions line, plus requirements-indexing.txt (2.x).
$(INDEXING_STAMP): requirements.txt requirements-indexing.txt
	@test -n "$(PY313)" || { echo "error: no Python 3.13 found (tried python3.13 on PATH and" \
		"~/.pyenv/versions/3.13*); install one or run make PY313=/path/to/python3.13" >&2; exit 1; }
	test -x $(VENV313)/bin/python || $(PY313) -m venv $(VENV313)
	grep -viE '^[[:space:]]*azure[-_.]functions[[:space:]]*([=<>~!;[]|$$)' requirements.txt \
		> $(VENV313)/requirements-app.txt
	$(VENV313)/bin/python -m pip install -q -r requirements-indexing.txt -r $(VENV313)/requirements-app.txt
	touch $@

# checkov pins its own dependency set, so it gets a virtualenv of its own.
$(INFRA_STAMP): requirements-infra.txt
	test -x $(VENV_INFRA)/bin/python || $(PYTHON) -m venv $(VENV_INFRA)
	$(VENV_INFRA)/bin/python -m pip install -q -r requirements-infra.txt
	touch $@

# Cloud Custodian, for the benchmark that runs it beside the scan (bench/custodian.py) and the test of its
# launcher (tests/integration/test_estate_scale.py).
$(C7N_STAMP): requirements-c7n.txt
	test -x $(VENV_C7N)/bin/python || $(PYTHON) -m venv $(VENV_C7N)
	$(VENV_C7N)/bin/python -m pip install -q -r requirements-c7n.txt
	touch $@

# The Azure CLI pins its own dependency set too; only make test-azcli needs it, so make deps leaves it out.
$(AZCLI_STAMP): requirements-azcli.txt
	test -x $(VENV_AZCLI)/bin/python || $(PYTHON) -m venv $(VENV_AZCLI)
	$(VENV_AZCLI)/bin/python -m pip install -q -r requirements-azcli.txt
	touch $@

deps-azcli: $(AZCLI_STAMP)

# dig and nslookup, for the lookups docs/local-stack.md shows and tests/azcli runs: Debian's bind9-dnsutils,
# installed when missing where apt-get can (as root, as on CI's machines), else named.
.PHONY: deps-dnsutils
deps-dnsutils:
	@command -v dig >/dev/null && command -v nslookup >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bind9-dnsutils >/dev/null; \
		else \
			echo "error: dig and nslookup are missing: install bind9-dnsutils (Debian) or dnsutils" >&2; exit 1; \
		fi; }

$(NODE_STAMP): localdev/package.json $(wildcard localdev/package-lock.json)
	if [ -f localdev/package-lock.json ]; then \
		$(NPM) ci --prefix localdev --no-audit --no-fund; \
	else \
		$(NPM) install --prefix localdev --no-audit --no-fund; \
	fi
	touch $@

# The Kusto language service, pinned by its lock file (tests/ops parses every KQL query of infra/ with it).
$(KUSTO_STAMP): tests/ops/kusto/package.json tests/ops/kusto/package-lock.json
	$(NPM) ci --prefix tests/ops/kusto --no-audit --no-fund
	touch $@

# Static checks first (seconds), then the suite.
test: deps lint
	$(VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

# The inner loop: lint, then the pure tests (unit, static): no emulator, no Azurite, well under a minute.
.PHONY: test-fast
test-fast: $(DEV_STAMP) lint
	$(VENV)/bin/python -m pytest -q tests/unit tests/static $(PYTEST_ARGS)

.PHONY: lint
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# pyproject.toml leaves tests/azcli out of the default run; naming the folder runs it.
test-azcli: $(DEV_STAMP) $(AZCLI_STAMP) $(NODE_STAMP) deps-dnsutils
	AZ_CLI=$(CURDIR)/$(VENV_AZCLI)/bin/az $(VENV)/bin/python -m pytest -q tests/azcli $(PYTEST_ARGS)

demo: deps
	$(VENV)/bin/python -m localdev.demo

bench: deps
	$(VENV)/bin/python -m bench

# The large tables: scan and Custodian at 10,000 accounts, estates of 100,000 accounts over 1,000
# subscriptions, the storm with 1/2/4/8 worker processes (tens of minutes, a few GiB).
bench-scale: deps
	$(VENV)/bin/python -m bench --scale

clean:
	rm -rf $(VENV) $(VENV313) $(VENV_INFRA) $(VENV_C7N) $(VENV_AZCLI) $(NODE_MODULES) $(KUSTO_MODULES) .localdev

.PHONY: faults
faults: deps
	$(VENV)/bin/python -m bench.faults
