# One-command set-up: every target creates the virtual environment when it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= demo-run

.PHONY: demo test test-slow test-all bench lint docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The pinned CPU wheel first (torch is the `torch` extra), so that the extra installs nothing bigger.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[torch,eval,test,plot,flows,onnx,dask,tune,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/caloforge demo --out $(DEMO_DIR)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	RUN_SLOW=1 $(BIN)/python -m pytest -q -m slow

test-all: $(STAMP)
	RUN_SLOW=1 $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_simulate.py
	$(BIN)/python benchmarks/bench_generate.py --models vae wgan flow-matching --geant4-ms 130

# The API reference from the docstrings: build/api/index.html.
docs: $(STAMP)
	$(BIN)/python tools/build_api_docs.py build/api

lint: $(STAMP)
	# Pinned: a new release of either must not fail CI on code that has not changed.
	$(BIN)/python -m pip install --quiet "ruff==0.17.6" "mypy==2.4.1"
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
