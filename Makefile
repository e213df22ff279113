# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
AS_OF   = 2026-11-20
DEMO    = --data sample_data --config examples/sample/aftercare.toml --out out/demo --as-of $(AS_OF)

.PHONY: demo test install clean sample-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The sample's export date pins every date, so the demo prints the same on any day.
demo: install
	$(BIN)/aftercare check --data sample_data --as-of $(AS_OF)
	$(BIN)/aftercare due --month 2026-12 $(DEMO) --force
	$(BIN)/aftercare due --day 2026-11-23 $(DEMO) --force
	$(BIN)/aftercare churn $(DEMO)
	$(BIN)/aftercare report --month 2026-10 --data sample_data --config examples/sample/aftercare.toml --out out/demo
	@echo "Demo files are in out/demo/"

test: install
	$(BIN)/python -m pytest -q

sample-data: install
	$(BIN)/python sample_data/generate.py

clean:
	rm -rf $(VENV) out

# Benchmarks (bench/README.md): synthetic data in bench/data/, results in bench/results.md.
.PHONY: bench bench-group

bench: install
	$(BIN)/python bench/run.py --size store

bench-group: install
	$(BIN)/python bench/run.py --size group
