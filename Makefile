# Every target sets up .venv from requirements.txt first (once; again when requirements change).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: synth test check bench lint diagrams clean

synth: $(STAMP) ## Synthesize every environment into cdktf.out/
	$(PY) main.py

test: $(STAMP) ## Run the test suite (one synth per session)
	$(PY) -m pytest

check: $(STAMP) ## Validate the environment config only (no provider load)
	$(PY) main.py --check

bench: $(STAMP) ## Naive provider import vs make synth: wall time, peak RSS, identical JSON
	$(PY) bench/synth_bench.py

lint: $(STAMP) ## ruff (lint + format check) on the whole repo, then mypy (strict; files in pyproject.toml)
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy

diagrams: synth ## Redraw docs/diagrams/<env>.md from the synthesized stacks
	$(PY) -m ops diagram --out docs/diagrams

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-input -r requirements.txt
	touch $@

clean:
	rm -rf cdktf.out cdktf.out.tmp-* cdktf.out.old-* .pytest_cache
