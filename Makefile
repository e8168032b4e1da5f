# Everything runs from a fresh clone: `make test` and `make demo` create the virtualenv themselves.
SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
PYTHON       ?= python3
VENV         := .venv
PY           := $(VENV)/bin/python
STAMP        := $(VENV)/.installed-$(shell sha1sum requirements-dev.txt | cut -c1-12)
# checkov pins an older boto3 than moto's: it gets a virtualenv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell sha1sum requirements-checkov.txt | cut -c1-12)
CHECKOV      := $(CHECKOV_VENV)/bin/checkov
# Offline (no policy download, no registry modules); *.tftest.hcl files are not Terraform configuration.
CHECKOV_FLAGS := --framework terraform --skip-download --download-external-modules false \
                 --skip-path '\.tftest\.hcl$$' --compact --quiet
TF_OFFLINE   := $(PY) tools/ci/terraform_offline.py
PYTEST       := $(PY) tools/ci/run_pytest.py
TF_MODULES   := $(sort $(dir $(wildcard modules/*/main.tf)))
TF_EXAMPLES  := $(sort $(dir $(wildcard examples/*/main.tf)))
# The root module (the notification service) keeps its native tests in tests/*.tftest.hcl, where `terraform test`
# looks by default; pytest ignores them. Examples with native tests (mock providers) are tested too.
TF_TESTED    := $(sort $(patsubst %/tests/,%/,$(dir $(wildcard modules/*/tests/*.tftest.hcl examples/*/tests/*.tftest.hcl))) $(if $(wildcard tests/*.tftest.hcl),.))
PY_SOURCES   := lambda_src tests tools

# A TF_CLI_CONFIG_FILE that points nowhere only makes terraform print a warning on every command.
ifneq ($(TF_CLI_CONFIG_FILE),)
ifeq ($(wildcard $(TF_CLI_CONFIG_FILE)),)
unexport TF_CLI_CONFIG_FILE
endif
endif

.PHONY: help venv venv-checkov fmt lint fmt-check docs docs-check security secrets validate tftest unit e2e offline-tests package test demo bench clean

help:
	@echo "make test     everything CI runs: lint, validate, terraform test, handler tests, apply/destroy tests"
	@echo "make demo     deploy every pattern to a local AWS emulator and show what it delivers (PATTERN=name for one)"
	@echo "make docs     regenerate the Inputs/Outputs tables of every README and every deployer-policy.json"
	@echo "              (make test fails when stale)"
	@echo "make package  rebuild dist/lambda.zip (deterministic; commit the result)"
	@echo "make fmt      terraform fmt + ruff format/fix;  make lint  the same checks, read-only, + mypy"
	@echo "make security checkov over modules/ and examples/ (zero failed checks);  make secrets  secret scan"
	@echo "make bench    measure API calls, cold start, invocation cost, package size -> docs/benchmarks.md"
	@echo "              (TERRAFORM=1 also times every example's plan/apply/destroy: ~2 min each)"

venv: $(STAMP)
$(STAMP): requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

venv-checkov: $(CHECKOV_STAMP)
$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	rm -f $(CHECKOV_VENV)/.installed-* && touch $@

fmt: venv
	terraform fmt -recursive .
	$(PY) -m ruff format $(PY_SOURCES)
	$(PY) -m ruff check --fix $(PY_SOURCES)

lint: venv
	terraform fmt -recursive -check -diff .
	$(PY) -m ruff format --check $(PY_SOURCES)
	$(PY) -m ruff check $(PY_SOURCES)
	$(PY) -m mypy
	$(PY) tools/ci/workflow_lint.py

# The README tables and every module's deployer-policy.json (tools/ci/deployer_policy.py).
docs: venv
	$(PY) tools/ci/terraform_docs.py generate
	$(PY) -m tools.ci.deployer_policy generate

docs-check: venv
	$(PY) tools/ci/terraform_docs.py check
	$(PY) -m tools.ci.deployer_policy check

# Static security checks of every module, and of every module again as the examples call it. Zero failed
# checks; a check is skipped only inline, on one resource, with its reason, and listed in SECURITY.md.
security: venv venv-checkov
	@mkdir -p build/checkov
	@for dir in modules examples; do \
	  echo "checkov -d $$dir"; \
	  $(CHECKOV) -d $$dir $(CHECKOV_FLAGS) -o cli -o json --output-file-path console,build/checkov/$$dir.json \
	    || exit 1; \
	done
	$(PY) tools/ci/checkov_summary.py build/checkov/modules.json build/checkov/examples.json

# No secret in any file of the repository but the audited false positives of .secrets.baseline.
secrets: venv
	$(PY) tools/ci/secret_scan.py

validate: venv
	$(TF_OFFLINE) validate . $(TF_MODULES) $(TF_EXAMPLES)

tftest: venv
	$(TF_OFFLINE) test $(TF_TESTED)

unit: venv
	$(PYTEST) tests/unit -q

e2e: venv
	$(PYTEST) tests/terraform -q -n 2 --dist loadfile --no-loadscope-reorder

package: venv
	$(PY) -m tools.ci.event_validator
	$(PY) tools/ci/package_lambda.py

# In stages, each a separate make run: the two virtualenvs, built side by side; the cheap static gates, in
# order (a failure stops here, before the slow stages); then two lanes at once: the end-to-end tests (much of
# their time is Terraform waiting on the emulator, e.g. ~25 s per SQS queue) beside validate, the native
# Terraform tests and the unit tests, one after another (they init the same module directories).
# --output-sync prints each lane's output whole when it ends; `make <target>` still runs any one part alone.
test:
	$(MAKE) --no-print-directory -j2 venv venv-checkov
	$(MAKE) --no-print-directory -j1 lint docs-check security secrets
	$(MAKE) --no-print-directory -j2 --output-sync=target offline-tests e2e
	@echo "make test: all checks passed"

offline-tests:
	$(MAKE) --no-print-directory -j1 validate tftest unit

demo: venv
	$(PY) -m tools.demo

# Not part of `make test`: figures are reported, never asserted. Writes docs/benchmarks.md and .json.
# TERRAFORM=1 also applies every example against the emulator, one after another (~2 min each);
# without it the Terraform figures of the last such run are carried over from docs/benchmarks.json.
# ONLY=cold_start,package_size re-measures those sections and carries the others over from that file
# (e.g. the cold start again on a quiet machine); each section says when and under what load it was measured.
bench: venv
	$(PY) -m tools.bench $(if $(TERRAFORM),--terraform) $(if $(ONLY),--only $(ONLY))

clean:
	find . -name .terraform -type d -prune -exec rm -rf {} + ; find . -name .terraform.lock.hcl -delete
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build
