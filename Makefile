# `make run` and `make test` must work on a fresh machine: each creates .venv when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(PY) -m inspector --answers answers.example.json --flows flows

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m bench

# The suite's property tests with 30x the examples (a few minutes).
fuzz: $(STAMP)
	INSPECTOR_FUZZ_SCALE=30 $(PY) -m pytest -q -k "fuzz or random or arbitrary or never" -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .inspector
