# safecutover: build and test targets.
#
#   make test         every test, with the race detector; starts dynalite
#                     (a DynamoDB-compatible server) on 127.0.0.1 for the
#                     DynamoDB journal and lease tests, and stops it after.
#   make reliability  the long reliability suite (see docs/reliability.md).
#   make bench        the benchmarks quoted in the docs.

SHELL := /bin/bash
GO ?= go
DYNALITE_PORT ?= 18000
DYNALITE_DIR := tools/dynalite

.PHONY: test vet fmt-check dynalite-install bench reliability example

test: dynalite-install fmt-check
	@set -euo pipefail; \
	pid=$$($(DYNALITE_DIR)/start.sh $(DYNALITE_PORT)); \
	trap 'kill $$pid 2>/dev/null || true' EXIT; \
	export SAFECUTOVER_DYNAMODB_ENDPOINT=http://127.0.0.1:$(DYNALITE_PORT); \
	export SAFECUTOVER_REQUIRE_DYNAMODB=1; \
	$(GO) vet ./...; \
	$(GO) test -race -count=1 -timeout 20m ./...

dynalite-install: $(DYNALITE_DIR)/node_modules/.package-lock.json

# Reinstalled whenever the lockfile changes.
$(DYNALITE_DIR)/node_modules/.package-lock.json: $(DYNALITE_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to install dynalite (apt-get install nodejs npm)"; exit 1; }
	npm ci --prefix $(DYNALITE_DIR) --no-audit --no-fund --loglevel=error

# The full reliability suite (crash anywhere, provider faults, two
# controllers, hostile input, load, approvals); ends with the
# "reliability: ..." summary line. make test runs its short form.
reliability: dynalite-install
	@set -euo pipefail; \
	pid=$$($(DYNALITE_DIR)/start.sh $(DYNALITE_PORT)); \
	trap 'kill $$pid 2>/dev/null || true' EXIT; \
	export SAFECUTOVER_DYNAMODB_ENDPOINT=http://127.0.0.1:$(DYNALITE_PORT); \
	export SAFECUTOVER_REQUIRE_DYNAMODB=1; \
	$(GO) run ./reliability/cmd/reliability

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

example:
	$(GO) run ./examples/migration -approve ci

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./cutover/
	$(GO) run ./bench/gates -quick
