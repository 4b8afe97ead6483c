# The whole set-up: `make lab` for students, `make test` for everyone else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# nbgrader runs `alembic` through PATH: keep the environment's bin/ first.
export PATH := $(CURDIR)/$(BIN):$(PATH)
LAB_DIR ?= notebooks
LAB_ARGS ?=
# JupyterLab refuses to run as root unless told to (containers, CI machines).
LAB_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab instructor review test venv release lint clean browser

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Students' JupyterLab: nbgrader's Validate and nothing else of it (see ./start).
lab: venv
	./start $(BIN)/jupyter lab --notebook-dir=$(LAB_DIR) $(LAB_AS_ROOT) $(LAB_ARGS)

# Instructors' JupyterLab on the course folder (autograder/: masters, nbgrader_config.py),
# with every nbgrader tool: Formgrader, Create Assignment, Validate.
instructor: venv
	cd autograder && $(CURDIR)/$(BIN)/jupyter lab $(LAB_AS_ROOT) $(LAB_ARGS)

# Formgrader on a graded class: `make review DIR=<the folder grade --out wrote>`.
review: venv
	@test -n "$(DIR)" || { echo "error: say which graded class: make review DIR=<the folder python -m autograder grade --out wrote>" >&2; exit 2; }
	@test -f "$(DIR)/gradebook.db" || { echo "error: $(DIR) has no gradebook.db: grade the class first (python -m autograder grade SUBMISSIONS --out $(DIR))" >&2; exit 2; }
	cd "$(DIR)" && $(CURDIR)/$(BIN)/jupyter lab $(LAB_AS_ROOT) $(LAB_ARGS)

# The browser tests drive Debian's chromium: installed here when missing (as root),
# otherwise the one command to run is printed.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "error: the browser tests need Chromium: run  sudo apt-get install chromium  and then make test again" >&2; \
	    exit 2; \
	  fi; }

lint: venv
	$(BIN)/ruff check .

# One test file per worker: each grading test grades its class once, in one worker. Files
# start in collection order (the longest first: tests/conftest.py), not by number of tests.
test: venv lint browser
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder --durations=15

release: venv
	$(BIN)/python -m autograder release

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
