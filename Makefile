# Two environments: .venv (everything: torch CPU, sdv peers, sdmetrics oracle, dask, the dp
# extra's opendp, mbi and jax for aim and mst; pandas 2.x
# since sdv and sdmetrics pin pandas<3) and .venv-pd3 (core + tests on pandas 3.x).
PY ?= python3
VENV := .venv
VENV3 := .venv-pd3
BIN := $(VENV)/bin
BIN3 := $(VENV3)/bin
# A bare `torch` pulls a CUDA build of several GB; this CPU wheel is what the ctgan extra is tested with.
TORCH := torch==2.13.0
DATA ?= sample_data
N ?=

.PHONY: help install install-pd3 demo test test-fast test-kernels lint bench clean

help:
	@echo "make demo   fit, sample and report on sample_data/ (creates .venv)"
	@echo "make test   the test suite under pandas 2.x (full extras) and pandas 3.x (core)"
	@echo "make test-kernels  the trained-model tests under each CPU kernel and several seeds"
	@echo "make bench  side-by-side benchmark (DATA=../shared/datasets for the real tables)"

$(BIN)/synthgen: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev,ctgan,sdv,dask,dp]'
	@touch $@

$(BIN3)/synthgen: pyproject.toml
	$(PY) -m venv $(VENV3)
	$(BIN3)/pip install -q --upgrade pip
	$(BIN3)/pip install -q -e '.[test]' 'pandas>=3'
	@touch $@

install: $(BIN)/synthgen
install-pd3: $(BIN3)/synthgen

demo: install
	mkdir -p demo-out
	$(BIN)/synthgen run sample_data/penguins.csv --output-dir demo-out/penguins --force
	$(BIN)/synthgen run sample_data/penguins_raw.csv --output-dir demo-out/penguins_raw --force

# The pandas 2 run in worker processes, one test file each (a file's fitted fixtures are made
# once): on 2 cores it took 408 s against 626 s in one process. WORKERS=0 runs it in one. The
# pandas 3 run (about 150 s) stays in one process: one of five fresh clones' runs of it in
# workers failed one test, which its log, deleted with the clone, no longer names.
WORKERS ?= auto --maxprocesses 4
XDIST = $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadfile)
test: install install-pd3
	$(BIN)/python -m pytest -q $(XDIST)
	$(BIN3)/python -m pytest -q -m "not sdv and not torch"

test-fast: install
	$(BIN)/python -m pytest -q -x -m "not slow"

# The trained-model tests (marker `trained`) as another processor would run them: under each of
# torch's CPU kernels, each with OpenBLAS's kernels of a processor of its generation, on seeds
# 0-2 (SYNTHGEN_TEST_SEED); then each assert's smallest and largest values over the runs
# (tests/spread.py), to read a bound's margin from. Set KERNELS or SEEDS for fewer or more.
KERNELS ?= default:Prescott avx2:Haswell avx512:SkylakeX
SEEDS ?= 0 1 2
test-kernels: install
	@spread=$$(mktemp) pyc=$$(mktemp -d) failed=""; \
	for kernel in $(KERNELS); do for seed in $(SEEDS); do \
		echo "== ATEN_CPU_CAPABILITY=$${kernel%%:*} OPENBLAS_CORETYPE=$${kernel#*:} SYNTHGEN_TEST_SEED=$$seed"; \
		ATEN_CPU_CAPABILITY=$${kernel%%:*} OPENBLAS_CORETYPE=$${kernel#*:} SYNTHGEN_TEST_SEED=$$seed \
		SYNTHGEN_TEST_SPREAD=$$spread PYTHONPYCACHEPREFIX=$$pyc $(BIN)/python -m pytest -q \
			-p no:cacheprovider -m trained -p tests.spread -o enable_assertion_pass_hook=true \
			|| failed="$$failed $$kernel/seed=$$seed"; \
	done; done; \
	$(BIN)/python -m tests.spread $$spread; rm -rf $$spread $$pyc; \
	if [ -n "$$failed" ]; then echo "failed under:$$failed"; exit 1; fi

lint: install
	$(BIN)/ruff check synthgen tests benchmarks
	$(BIN)/ruff format --check synthgen tests benchmarks

bench: install
	$(BIN)/python -m benchmarks --data $(DATA)

clean:
	rm -rf $(VENV) $(VENV3) demo-out build *.egg-info
