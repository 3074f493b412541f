# `make run`, `make test` and `make check` must work on a fresh machine: each creates .venv when
# needed, with the test and dev extras (so CI, which runs check then test, has both).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test check bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(PY) -m inspector --answers answers.example.json --flows flows

test: $(STAMP)
	$(PY) -m pytest -q

# The habits the project holds itself to (config in pyproject.toml): formatting, lint, types and
# the layering contracts. Every step runs, so one run shows all findings; it fails if any did.
CHECKS := \
	"$(VENV)/bin/ruff format --check inspector tests bench" \
	"$(VENV)/bin/ruff check inspector tests bench" \
	"$(VENV)/bin/mypy" \
	"$(VENV)/bin/lint-imports"

check: $(STAMP)
	@failed=""; \
	for step in $(CHECKS); do \
		echo "== $$step"; \
		$$step || failed="$$failed\n  $$step"; \
	done; \
	if [ -n "$$failed" ]; then printf "make check failed:$$failed\n"; exit 1; fi; \
	echo "make check: all passed"

bench: $(STAMP)
	$(PY) -m bench

# The suite's property tests with 30x the examples (a few minutes).
fuzz: $(STAMP)
	INSPECTOR_FUZZ_SCALE=30 $(PY) -m pytest -q -k "fuzz or random or arbitrary or never" -p no:cacheprovider

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .inspector
