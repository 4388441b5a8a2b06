# Signpost: `make play` to try it, `make test` to check everything. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall whenever the project's dependencies or its C extension change.
BUILT  := pyproject.toml setup.py bot/scenario/_yamllines.c
STAMP  := $(VENV)/.installed-$(shell cat $(BUILT) | cksum | cut -d' ' -f1)

.PHONY: install play test check unit services system bench soak schema clean synapse

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BUILT) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,media,telegram,matrix,matrix-e2e,redis,ops,pdf,reports]'
	$(BIN)/python -m pip install --quiet --only-binary=:all: 'atheris>=2.3' \
		|| echo "atheris has no wheel here: its fuzz test will be skipped"
	rm -f $(VENV)/.installed-*
	touch $@

# The project's own bytecode, compiled as a regular install would: an editable install leaves it
# to the first run, and where PYTHONDONTWRITEBYTECODE is set, to every run (0.05 s of each
# `signpost` command). Files edited later are compiled again as they are imported.
install: $(STAMP)
	$(BIN)/python -m compileall -q bot storage adapters > /dev/null

# Synapse, the Matrix homeserver the Matrix adapter's tests run against: in a virtual environment of
# its own, because aiogram pins pydantic<2.14 in the app's and Synapse may want a newer one.
SYNAPSE_SPEC  := matrix-synapse>=1.100,<2
SYNAPSE_VENV  := .venv-synapse
SYNAPSE_STAMP := $(SYNAPSE_VENV)/.installed-$(shell echo '$(SYNAPSE_SPEC)' | cksum | cut -d' ' -f1)

$(SYNAPSE_STAMP):
	test -x $(SYNAPSE_VENV)/bin/python || $(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/python -m pip install --quiet '$(SYNAPSE_SPEC)'
	rm -f $(SYNAPSE_VENV)/.installed-*
	touch $@

synapse: $(SYNAPSE_STAMP)

play: install
	$(BIN)/signpost play

## Everything CI runs: static checks, then the whole test suite against real services.
test: install synapse services system check unit audit

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/signpost schema --check
	$(BIN)/signpost lint --strict dialogues
	$(BIN)/signpost test dialogues --fail-under 90 --no-gaps

unit: install
	. tools/test-env.sh && $(BIN)/python -m pytest

## Chromium, Graphviz and fonts for the report tests (Debian packages), if missing and possible.
system:
	@bash tools/system-packages.sh

## Start PostgreSQL and Redis on loopback if this machine has them and they are down.
services:
	@bash tools/services.sh

## Known vulnerabilities in the locked dependencies: reported, never failing the build
## (advisories without a fix would otherwise block every change).
audit: install
	-$(BIN)/pip-audit -r requirements.lock --no-deps --disable-pip --progress-spinner off

## Pin what is installed now into requirements.lock (after changing dependencies).
lock: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

## The long-running variants of the reliability tests (many more kill rounds).
soak: install services
	. tools/test-env.sh && SIGNPOST_SOAK=1 SIGNPOST_RELIABILITY_OUT=RELIABILITY.md $(BIN)/python -m pytest tests/reliability

bench: install services
	. tools/test-env.sh && $(BIN)/python -m bench

schema: install
	$(BIN)/signpost schema

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build *.egg-info
