# thermine: `make run` flies the nominal SIL mission; `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# dev: pytest, ruff, ...; dask: campaigns on a Dask cluster (its test uses a LocalCluster);
# plots: matplotlib for the pictures
EXTRAS ?= dev,dask,plots

.PHONY: run test lint bench states campaign clean

# (re)install when the project's definition or the compiled kernels' source change
$(STAMP): pyproject.toml setup.py sims/_kernels.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/thermine run $(ARGS)

# two workers (CI has 2 cores); branch coverage of flight/, failing under 95 %; the 15
# slowest tests listed (the suite must stay under 5 minutes)
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --cov=flight --cov-branch \
		--cov-report=term:skip-covered --cov-fail-under=95 --durations=15

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy flight common hal sims ground

bench: $(STAMP)
	$(BIN)/thermine bench

campaign: $(STAMP)
	$(BIN)/thermine campaign configs/campaigns/single-faults.yaml $(ARGS)

states: $(STAMP)
	$(BIN)/thermine states

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache .mypy_cache .hypothesis .coverage htmlcov *.egg-info build sims/*.so
