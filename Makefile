# Two commands do all the set-up on a fresh machine:
#   make gate   - the release gate over the bundled fixture charts (writes reports/)
#   make test   - chartgate's own test suite
# Extra pytest options: make gate ARGS='--chart-root ../other-monorepo'

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.chartgate-installed
HELM4  := .tools/helm-v4.1.4/helm
HELM3  := .tools/helm-v3.19.0/helm
ARGS   ?=

.PHONY: gate test tools bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[parallel]'
	touch $(STAMP)

$(HELM4) $(HELM3): | $(STAMP)
	$(PY) -m chartgate.render.toolchain provision --dest .tools

tools: $(STAMP) $(HELM4) $(HELM3)

gate: tools
	$(PY) -m pytest policies $(ARGS)

test: tools
	$(PY) -m pytest tests $(ARGS)

bench: tools
	$(PY) bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) .tools reports
