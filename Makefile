# The two set-up commands of README.md. Both create .venv and install everything pinned by constraints.txt.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# MCP reference servers from npm (filesystem, memory), installed project-locally from the lock file
NODE_STAMP := tools/mcp-servers/node_modules/.installed
export OMP_NUM_THREADS ?= 1
export LITELLM_LOCAL_MODEL_COST_MAP := True
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: run test venv clean browser

# The browser test drives Debian's headless Chromium; installed once, skipped when already present.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	else $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q && \
	     DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium chromium-driver; fi

venv: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -c constraints.txt -e ".[train,dev]"
	$(PY) -m pip install -q --no-deps -c constraints.txt bfcl-eval mpmath
	touch $(STAMP)

$(NODE_STAMP): tools/mcp-servers/package.json tools/mcp-servers/package-lock.json
	cd tools/mcp-servers && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

run: $(STAMP)
	$(VENV)/bin/magnet run

test: $(STAMP) $(NODE_STAMP) browser
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache tools/mcp-servers/node_modules
