# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
AS_OF   = 2026-11-20

.PHONY: demo test install clean sample-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/aftercare check --data sample_data --as-of $(AS_OF)

test: install
	$(BIN)/python -m pytest -q

sample-data: install
	$(BIN)/python sample_data/generate.py

clean:
	rm -rf $(VENV) out
