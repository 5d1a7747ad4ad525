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

.PHONY: run test lint bench venv demo-data clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
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
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(BIN)/.synced
	$(BIN)/ruff check .

bench: $(BIN)/.synced
	$(BIN)/python -m benchmarks.run $(BENCH)

clean:
	rm -rf $(VENV) $(TOOLS) .prefect outputs mlruns $(DEMO)
