# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# checkov scans template.yaml in the tests, but pins an old boto3: it gets a venv of its own.
CHECKOV := .venv-checkov/bin/checkov

.PHONY: test lint typecheck unit demo bench schemas clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests
	$(BIN)/ruff format --check reconciler tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(CHECKOV)
	CHECKOV=$(CURDIR)/$(CHECKOV) $(BIN)/pytest

$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet "checkov==3.3.30"

demo: $(STAMP)
	$(BIN)/reconciler demo

bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks

schemas: $(STAMP)
	$(BIN)/python -m reconciler.schemas schemas

clean:
	rm -rf $(VENV) .venv-checkov .mypy_cache .pytest_cache .ruff_cache .hypothesis

# `sam build` runs this once per function (Metadata: BuildMethod: makefile in template.yaml):
# copy the package without its dev-only parts and install the runtime wheels for Lambda's
# arm64 Python 3.12, so nothing from the local machine (or .venv) is packaged.
build-%Function:
	mkdir -p "$(ARTIFACTS_DIR)"
	cp -R reconciler "$(ARTIFACTS_DIR)/reconciler"
	rm -rf "$(ARTIFACTS_DIR)/reconciler/emulator" "$(ARTIFACTS_DIR)/reconciler/demo"
	find "$(ARTIFACTS_DIR)/reconciler" -name __pycache__ -prune -exec rm -rf {} +
	$(PYTHON) -m pip install --quiet --target "$(ARTIFACTS_DIR)" \
		--platform manylinux2014_aarch64 --implementation cp --python-version 3.12 \
		--only-binary=:all: -r requirements.txt
