# Two commands do all the set-up on a fresh machine with Python 3.11 or 3.12 and make:
#   make run    — virtual environment, install, start the web app on the demo school
#                 (SQLite in ./instance) at http://127.0.0.1:8000/
#   make test   — the same environment, then lint and the whole test suite

# durable-rules does not import on Python 3.13: take the first 3.11/3.12 we find.
PYTHON ?= $(shell for p in python3.12 python3.11 python3 python; do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' \
	>/dev/null 2>&1 && { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test check lint typecheck bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Meldroute heeft Python 3.11 of 3.12 nodig (durable-rules werkt nog niet op 3.13)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

HOST ?= 127.0.0.1
PORT ?= 8000

run: $(STAMP)
	$(BIN)/meldroute serve --demo --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .

# mypy follows `meldroute.engine` etc. through a tree of links to the top-level folders
# (the package-dir mapping of pyproject.toml, which mypy cannot read).
TYPED := engine forms webapp rules schools schemas
typecheck: $(STAMP)
	@rm -rf build/typecheck && mkdir -p build/typecheck/meldroute
	@touch build/typecheck/meldroute/__init__.py
	@for d in $(TYPED); do ln -s ../../../$$d build/typecheck/meldroute/$$d; done
	$(BIN)/mypy -p meldroute.engine -p meldroute.forms -p meldroute.webapp

test: lint typecheck
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/meldroute check

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_evaluate.py
	$(BIN)/python benchmarks/bench_web.py
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_cli.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .ruff_cache test-output
