# The commands of the README: `make demo` (train real examples end to end, then inspect,
# predict with and evaluate them), `make test` (the whole suite) and `make bench` (against
# scikit-learn and the BLAS floor; minutes, never part of `make test`). Each creates .venv
# and installs what it needs into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NNCLI  := $(BIN)/nncli
# e.g. make bench BENCH_ARGS="--quick" or BENCH_ARGS="--json bench.json --cases a"
BENCH_ARGS ?=

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

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(NNCLI) train configs/house-prices.yaml --set stopping.max_iterations=1 -o models/house-prices-1-iteration.npz
	$(NNCLI) inspect models/house-prices-1-iteration.npz --precision 7 --layer 2
	$(NNCLI) train configs/iris.yaml
	$(NNCLI) inspect models/iris.npz --layer 2
	$(NNCLI) predict models/iris.npz datasets/iris.csv --keep species -o models/iris-predictions.csv
	head -n 4 models/iris-predictions.csv
	$(NNCLI) evaluate models/iris.npz datasets/iris.csv

test: install-dev
	$(BIN)/ruff check nncli tests benchmarks
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) models .pytest_cache .hypothesis

# Regenerate the committed JSON Schema after changing the config models (nncli/config.py).
schema: install
	$(NNCLI) schema -o nncli.schema.json
