# The README's commands. Everything runs from a virtualenv in .venv, installed from the lock file
# (every package pinned with its hashes; `make lock` re-resolves it from pyproject.toml).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LOCK := requirements/lock-test.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml client/pyproject.toml client/VERSION $(LOCK) | cksum | cut -d' ' -f1)
UV_VERSION := 0.13.9
COMPILE = $(VENV)/bin/uv pip compile pyproject.toml client/pyproject.toml requirements/build.in --generate-hashes --universal \
	--python-version 3.11 --quiet $(UPGRADE)

.PHONY: install lint run test test-fast cluster-test soak fuzz bench validate openapi lock redis-server chromium kubectl \
	caddy iproute2 clean

install: $(STAMP)

$(STAMP): pyproject.toml client/pyproject.toml client/VERSION $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e ./client -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

lock: install         ## re-resolve requirements/lock*.txt with uv (keeps pins; UPGRADE=--upgrade moves them)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(COMPILE) -o requirements/lock.txt
	$(COMPILE) --extra test -c requirements/lock.txt -o requirements/lock-test.txt

NEED_REDIS := devtools/need-program redis-server redis-server "macOS: \`brew install redis\`"

redis-server:         ## redis-server on PATH: apt-get installs it when missing (as root or with sudo)
	@$(NEED_REDIS)

chromium:             ## Debian's chromium (the dashboard's browser test): apt-get installs it when missing
	@devtools/need-program chromium chromium

# Debian's own kubernetes-client is kubectl 1.20, whose kustomize cannot build deploy/kubernetes: the package
# is the one of Kubernetes' apt repository (pkgs.k8s.io) or Google Cloud's
kubectl:              ## kubectl (tests/deploy render deploy/kubernetes with `kubectl kustomize`)
	@devtools/need-program kubectl kubectl "from Kubernetes' apt repository, pkgs.k8s.io; elsewhere https://kubernetes.io/docs/tasks/tools/"

caddy:                ## Debian's caddy (tests/integration/test_tls.py puts it in front of uvicorn, as docker-compose.public.yml does)
	@devtools/need-program caddy caddy "macOS: \`brew install caddy\`"

iproute2:             ## as root, `ip` for the namespace-hosts test (tests/cluster; skipped without root)
	@[ "$$(id -u)" != 0 ] || devtools/need-program ip iproute2

run:                  ## Redis (local, unless REDIS_URL or TLPROBE_REDIS_SENTINELS is set), one worker per core, the API on $PORT
	@[ -n "$$TLPROBE_REDIS_URL$$REDIS_URL$$TLPROBE_REDIS_SENTINELS" ] || $(NEED_REDIS)
	@$(MAKE) --no-print-directory install
	$(PY) -m devtools.launcher

lint: install         ## ruff, as configured in pyproject.toml
	$(VENV)/bin/ruff check .

test: redis-server chromium kubectl caddy iproute2 install lint  ## the linter, then the whole suite against its own Redis on a free port
	$(PY) -m pytest -q

test-fast: redis-server kubectl install  ## the inner loop: no live stack (no uvicorn, no worker processes) and no slow tests
	$(PY) -m pytest -q -m "not slow and not e2e" --hypothesis-profile=inner-loop

cluster-test: redis-server iproute2 install  ## only the namespace-hosts test (as root; also part of `make test`)
	$(PY) -m pytest -q -m cluster tests/cluster

soak: redis-server install  ## five-minute soak of the live stack (the suite runs one minute of it)
	TLPROBE_SOAK_SECONDS=300 $(PY) -m pytest -q -s tests/integration/test_soak.py

fuzz: redis-server install  ## schemathesis, every operation x 100 examples + stateful, against Redis, workers, uvicorn
	$(PY) -m devtools.fuzz --examples $(or $(EXAMPLES),100)

bench: redis-server iproute2 install  ## benchmarks printing ratios measured in one run
	$(PY) -m bench

validate: install     ## theory-vs-simulation gaps from their caches in docs/data/ (finite size, regimes, ...); asserts; writes docs/validation.md
	$(PY) -m bench.validation

openapi: install      ## export openapi/openapi.json from the app
	$(PY) -m service.openapi_export

clean:
	rm -rf $(VENV) .pytest_cache .data
