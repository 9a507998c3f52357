# govsim: two commands do all set-up on a fresh machine.
#   make run    create .venv (Python 3.12, pinned deps) and run the main job
#   make test   create .venv if needed and run the fast test suite
# Everything is installed from requirements.txt (exact pins) into .venv.

PYTHON ?= $(shell for p in python3.12 "env PYENV_VERSION=3.12.1 python3.12" python3; do \
	$$p -c 'import sys; assert sys.version_info[:2] >= (3, 12)' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-all lint bench clean dashboard test-browser \
	slurm-start slurm-stop test-slurm ray-venv test-ray

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "need Python >= 3.12 (python3.12) on the PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/govsim experiment cstd_anchor

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow or not slow"

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks
	$(BIN)/ruff format --check sim tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run_benchmarks.py

PORT ?= 8765
dashboard: $(STAMP)
	$(BIN)/govsim dashboard --port $(PORT)

# The dashboard's browser test: Playwright driving Debian's chromium (apt-get install chromium).
test-browser: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-browser.txt
	$(BIN)/python -m pytest -q -m browser tests/test_dashboard.py

# Cluster tests (docs/scaling.md): a single-node SLURM cluster on localhost (root, Debian), and
# Ray in its own venv (RAY_VENV) so that .venv stays as it is.
slurm-start:
	scripts/slurm_cluster.sh start

slurm-stop:
	scripts/slurm_cluster.sh stop

test-slurm: $(STAMP)
	scripts/slurm_cluster.sh status >/dev/null || scripts/slurm_cluster.sh start
	GOVSIM_SLURM=1 $(BIN)/python -m pytest -q -m "slow and slurm" -rs tests/test_clusters.py

RAY_VENV ?= .venv-ray
ray-venv: $(RAY_VENV)/.installed

$(RAY_VENV)/.installed: requirements.txt requirements-ray.txt
	@test -n "$(PYTHON)" || { echo "need Python >= 3.12 (python3.12) on the PATH"; exit 1; }
	$(PYTHON) -m venv $(RAY_VENV)
	$(RAY_VENV)/bin/python -m pip install --quiet --upgrade pip==26.3
	$(RAY_VENV)/bin/python -m pip install --quiet -r requirements-ray.txt
	$(RAY_VENV)/bin/python -m pip check
	@touch $@

test-ray: ray-venv
	PYTHONPATH=$(CURDIR) $(RAY_VENV)/bin/python -m pytest -q -m "not slurm" -rs tests/test_clusters.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
