# Two commands for a newcomer: `make run` and `make test`.
# Everything installs into project-local folders from uv.lock; the system interpreter is never touched.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO := data/demo
OUT := outputs/demo

export UV_PYTHON_DOWNLOADS := never
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)
export DO_NOT_TRACK := 1
export MLFLOW_DISABLE_TELEMETRY := true
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: run test test-kills lint bench bench-models bench-offpolicy bench-expected bench-ceiling bench-scale bench-features-reference venv demo-data clean lab

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The Jupyter kernel `vigia` is registered inside .venv (never in the user's home), so notebooks
# run on the project's interpreter in JupyterLab and under nbmake alike.
$(BIN)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	$(BIN)/python -m ipykernel install --sys-prefix --name vigia --display-name "Python (Vigía .venv)"
	touch $@

venv: $(BIN)/.synced

$(DEMO)/workplaces.csv: | $(BIN)/.synced
	$(BIN)/vigia demo-data --out $(DEMO)

demo-data: $(DEMO)/workplaces.csv

# The main job on the demo world, then (demo only) its lists scored against the hidden truth.
run: $(BIN)/.synced $(DEMO)/workplaces.csv
	$(BIN)/vigia run --data $(DEMO) --out $(OUT)
	$(BIN)/vigia evaluate --hidden $(DEMO)/truth --run $(OUT)

# The planners' HTML report is checked in headless Chromium (Debian's package): installed here
# when missing and the machine allows it (root and apt-get); otherwise that one test says why.
test: $(BIN)/.synced
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& DEBIAN_FRONTEND=noninteractive apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "make test: chromium not installed (needs root and apt-get); its test will skip"
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

# Whole runs, and the output writers, killed with SIGKILL at random moments, many times
# (minutes; .ci/run runs it after `make test`).
test-kills: $(BIN)/.synced
	$(BIN)/python -m pytest -m kill_loop -s tests/test_run_kills.py tests/test_crash_safety.py

lint: $(BIN)/.synced
	$(BIN)/ruff check .

# JupyterLab on notebooks/ (they read VIGIA_RUN_DIR / VIGIA_DATA_DIR, or build a small demo run).
# Jupyter refuses root without --allow-root; the project's machines run as root.
lab: $(BIN)/.synced
	$(BIN)/jupyter lab --notebook-dir=notebooks --MappingKernelManager.default_kernel_name=vigia \
		$(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(BIN)/.synced
	$(BIN)/python -m benchmarks.run $(BENCH)

# Model quality across the demo-world family (long: minutes a world; not in `make test`).
# One OpenMP thread: HistGradientBoosting's threads spin badly when the cores are shared.
bench-models: $(BIN)/.synced
	OMP_NUM_THREADS=1 $(BIN)/python -m benchmarks.model_quality $(ARGS)

# Off-policy estimates and weighted training against the truth (benchmarks/offpolicy_quality.py).
bench-offpolicy: $(BIN)/.synced
	OMP_NUM_THREADS=1 $(BIN)/python -m benchmarks.offpolicy_quality $(ARGS)

# Expected findings of the delivered lists and their 90% interval against the truth
# (benchmarks/expected_findings_quality.py; ARGS="--workplaces 20000 50000 --seeds 1 2").
bench-expected: $(BIN)/.synced
	OMP_NUM_THREADS=1 $(BIN)/python -m benchmarks.expected_findings_quality $(ARGS)

# Where the gap to the oracle comes from (features, labels or model) and candidate trials on the
# cached worlds of bench-models (ARGS="--trial shipped rf_leaf_80 ..."); not in `make test`.
bench-ceiling: $(BIN)/.synced
	OMP_NUM_THREADS=1 $(BIN)/python -m benchmarks.candidate_ceiling $(ARGS)

# Wall time and peak memory per stage of `vigia run` and `vigia rank` on demo worlds of 50,000,
# 200,000 and 500,000 workplaces (benchmarks/scale.py; ARGS="--sizes 50000"); not in `make test`.
bench-scale: $(BIN)/.synced
	$(BIN)/python -m benchmarks.scale $(ARGS)

# Our feature stage against one DuckDB query computing the same columns for one as-of date, on the
# 50,000-workplace demo world of bench-scale (benchmarks/feature_reference.py; ARGS="--as-of
# 2024-03-01" or "--data DIR"); DuckDB is a dev dependency; not in `make test`.
bench-features-reference: $(BIN)/.synced
	$(BIN)/python -m benchmarks.feature_reference $(ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .prefect outputs mlruns $(DEMO) .bench
