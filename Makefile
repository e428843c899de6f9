# safecutover: build and test targets.
#
#   make test         every test, with the race detector; starts dynalite
#                     (a DynamoDB-compatible server) on 127.0.0.1 for the
#                     DynamoDB journal and lease tests, and stops it after;
#                     the Prometheus tests start the prometheus binary
#                     (apt-get install prometheus) on 127.0.0.1 themselves,
#                     and fail if it is missing.
#   make reliability  the long reliability suite (see docs/reliability.md).
#   make bench        the benchmarks quoted in the docs.

SHELL := /bin/bash
GO ?= go
DYNALITE_PORT ?= 18000
DYNALITE_DIR := tools/dynalite

.PHONY: test vet fmt-check dynalite-install prometheus-check bench bench-prometheus reliability example

test: dynalite-install prometheus-check fmt-check
	@set -euo pipefail; \
	pid=$$($(DYNALITE_DIR)/start.sh $(DYNALITE_PORT)); \
	trap 'kill $$pid 2>/dev/null || true' EXIT; \
	export SAFECUTOVER_DYNAMODB_ENDPOINT=http://127.0.0.1:$(DYNALITE_PORT); \
	export SAFECUTOVER_REQUIRE_DYNAMODB=1; \
	export SAFECUTOVER_REQUIRE_PROMETHEUS=1; \
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

# The Prometheus tests run the server themselves (internal/promtest), with a
# scrape configuration for the targets they serve; this only checks that it
# is installed. $$SAFECUTOVER_PROMETHEUS names another binary.
prometheus-check:
	@p=$${SAFECUTOVER_PROMETHEUS:-$$(command -v prometheus || true)}; \
	if [ -z "$$p" ]; then echo "prometheus is needed for the Prometheus tests (apt-get install prometheus, or set SAFECUTOVER_PROMETHEUS)"; exit 1; fi

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

# The detection time of a regression judged from a real Prometheus server
# (docs/prometheus.md): five trials on a 15 s scrape, about five minutes.
bench-prometheus: prometheus-check
	$(GO) test -run '^$$' -bench Detection -benchtime 5x -timeout 20m ./bench/prometheus/
