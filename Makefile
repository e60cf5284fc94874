# Two commands do everything on a fresh machine with Go installed:
#   make demo   runs the whole breach plan on the sample incident, on an embedded Temporal server
#   make test   runs every test, including integration tests against a real Temporal dev server
#               and against a real Temporal server on the machine's PostgreSQL (.ci/run starts it)
GO            ?= go
TEMPORAL_CLI  := github.com/temporalio/cli/cmd/temporal
TEMPORAL_VER  := v1.5.1
# The Temporal server the pinned CLI embeds, and its SQL tool (schema set-up), for the
# production-topology tests: a real server on PostgreSQL rather than the dev server.
TEMPORAL_SERVER     := go.temporal.io/server/cmd/server
TEMPORAL_SQL_TOOL   := go.temporal.io/server/cmd/tools/sql
TEMPORAL_SERVER_VER := v1.29.1
BIN           := $(abspath bin)
export BREACH_TEMPORAL_BIN := $(BIN)/temporal
export BREACH_TEMPORAL_SERVER_BIN := $(BIN)/temporal-server
export BREACH_TEMPORAL_SQL_TOOL_BIN := $(BIN)/temporal-sql-tool

.PHONY: all build temporal-server demo test unit lint compose-check bench bench-isolation bench-slack bench-notify bench-scope bench-soak deps fuzz clean

all: build

# The pinned Temporal CLI, built from the Go module proxy (about five minutes the first time).
bin/.temporal-$(TEMPORAL_VER):
	@mkdir -p bin
	@echo "building the Temporal CLI $(TEMPORAL_VER) into ./bin (first time only)…"
	GOBIN=$(BIN) $(GO) install $(TEMPORAL_CLI)@$(TEMPORAL_VER)
	@rm -f bin/.temporal-v*
	@touch $@

# The Temporal server and its SQL tool, built from the Go module proxy without cgo (about four
# minutes the first time); go install names them server and sql, so they are renamed.
bin/.temporal-server-$(TEMPORAL_SERVER_VER):
	@mkdir -p bin/.temporal-server-build
	@echo "building the Temporal server $(TEMPORAL_SERVER_VER) and its SQL tool into ./bin (first time only)…"
	CGO_ENABLED=0 GOBIN=$(BIN)/.temporal-server-build $(GO) install $(TEMPORAL_SERVER)@$(TEMPORAL_SERVER_VER) $(TEMPORAL_SQL_TOOL)@$(TEMPORAL_SERVER_VER)
	mv bin/.temporal-server-build/server bin/temporal-server
	mv bin/.temporal-server-build/sql bin/temporal-sql-tool
	@rmdir bin/.temporal-server-build
	@rm -f bin/.temporal-server-v*
	@touch $@

temporal-server: bin/.temporal-server-$(TEMPORAL_SERVER_VER)

bin/breach: FORCE
	$(GO) build -o bin/breach ./cmd/breach

build: bin/breach bin/.temporal-$(TEMPORAL_VER)

demo: build
	bin/breach demo

# Debian packages the tests need (docker-compose validates the compose file).
deps:
	@scripts/deps.sh

compose-check: deps
	docker-compose -f docker-compose.yml config -q

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need formatting"; exit 1; }
	@$(GO) mod tidy -diff >/dev/null || { $(GO) mod tidy -diff; echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

test: build temporal-server compose-check lint
	$(GO) test -count=1 -timeout 40m ./...

unit:
	$(GO) test -count=1 -short ./...

# The dataset reader (with and without record limits) and the facts reader (with its size cap).
fuzz:
	$(GO) test -run XXX -fuzz '^FuzzReader$$' -fuzztime 30s ./internal/subjects
	$(GO) test -run XXX -fuzz '^FuzzReaderLimits$$' -fuzztime 30s ./internal/subjects
	$(GO) test -run XXX -fuzz '^FuzzParseFacts$$' -fuzztime 30s ./internal/rules
	$(GO) test -run XXX -fuzz '^FuzzReadFacts$$' -fuzztime 30s ./internal/rules

# Benchmarks print figures; nothing asserts times.
# Declare -> first isolation call, 50 incidents back to back (and one at a time) on the dev server.
bench: build
	$(GO) test -run XXX -bench BenchmarkDeclareToIsolation -benchtime 1x -timeout 20m ./e2e

# Declare -> isolation in force (nftables in network namespaces, probed), 30 incidents; root.
bench-isolation: build
	$(GO) test -run XXX -bench BenchmarkIsolationInForce -benchtime 1x -timeout 20m ./e2e

# 1,000,000 customer notices through the full workflow into a local SendGrid, against a bare loop
# posting the same batches. BREACH_BENCH_POSTGRES=postgres://… puts the ledger on PostgreSQL.
bench-notify: build
	$(GO) test -run XXX -bench BenchmarkNotify -benchtime 1x -timeout 60m ./e2e

# The scope from the machine's PostgreSQL (snapshot, then counts) beside the same rows from a CSV
# file, 1 and 10 million rows, each in a process of its own: rows per second and peak RSS.
# BREACH_BENCH_SCOPE_ROWS=100000,1000000 chooses other sizes.
bench-scope:
	$(GO) test -run XXX -bench BenchmarkScope -benchtime 1x -timeout 60m ./activities

# 1,000 drill incidents open at once (a running GDPR clock, a manual isolation nobody confirms) on
# one worker in the benchmark's process and the dev server, at 10x, for ten minutes after they are
# declared: the worker's peak RSS, how late escalations come, history events per incident per
# simulated day. BREACH_SOAK_DURATION=2m (and BREACH_SOAK_INCIDENTS, BREACH_SOAK_SCALE) for a
# quick look.
bench-soak: build
	$(GO) test -run XXX -bench BenchmarkSoak -benchtime 1x -timeout 90m ./e2e

# Slack slash command acknowledgement: 200 signed commands from 20 clients.
bench-slack:
	$(GO) test -run XXX -bench BenchmarkSlashCommandAck -benchtime 1x ./internal/ingress

clean:
	rm -rf bin var

FORCE:
