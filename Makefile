# The README's commands. Everything runs from a virtualenv in .venv built from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install lint run test test-fast soak bench validate openapi clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: install          ## Redis (local, unless REDIS_URL is set), one worker per core, the API on $PORT
	$(PY) -m devtools.launcher

lint: install         ## ruff, as configured in pyproject.toml
	$(VENV)/bin/ruff check .

test: install lint    ## the linter, then the whole suite against its own Redis on a free port
	$(PY) -m pytest -q

test-fast: install    ## skip tests marked slow
	$(PY) -m pytest -q -m "not slow"

soak: install         ## five-minute soak of the live stack (the suite runs one minute of it)
	TLPROBE_SOAK_SECONDS=300 $(PY) -m pytest -q -s tests/integration/test_soak.py

bench: install        ## benchmarks printing ratios measured in one run
	$(PY) -m bench

validate: install     ## long theory-vs-simulation validation (N=K=800); writes docs/validation.md
	$(PY) -m bench.validation

openapi: install      ## export openapi/openapi.json from the app
	$(PY) -m service.openapi_export

clean:
	rm -rf $(VENV) .pytest_cache .data
