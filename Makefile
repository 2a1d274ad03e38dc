# The two commands of the README: `make demo` (train a real example end to end) and
# `make test` (the whole suite). Both create .venv and install what they need into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NNCLI  := $(BIN)/nncli

.PHONY: demo test bench install install-dev clean schema

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(NNCLI) train configs/house-prices.yaml --set stopping.max_iterations=1 -o models/house-prices-1-iteration.npz
	$(NNCLI) train configs/iris.yaml

test: install-dev
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) models .pytest_cache .hypothesis

# Regenerate the committed JSON Schema after changing the config models (nncli/config.py).
schema: install
	$(NNCLI) schema -o nncli.schema.json
