# K2 — one Bun process: Binance streams → exactly-once Parquet → query API.
# `make start` and `make test` work on a machine with only Node and npm: Bun is taken from PATH
# or installed (the version pinned below, same as package.json) into .tools/ from npm.
SHELL := /bin/bash
.DEFAULT_GOAL := help
BUN_VERSION := 1.4.5
BUN ?= $(shell command -v bun 2>/dev/null || echo $(CURDIR)/.tools/node_modules/.bin/bun)
BIN := node_modules/.bin
SHARD ?= 1/4
TEST_UNIT := src
# Bun 1.4.5 forgets the preload's setDefaultTimeout (test/support/timeout.ts) for every file that
# runs after one giving a test its own timeout, falling back to 5 s; its --timeout flag holds for
# the whole run. The value is read from the preload, its one owner.
TEST_TIMEOUT_MS := $(shell sed -n 's/^export const TEST_TIMEOUT_MS = \([0-9_]*\);$$/\1/p' test/support/timeout.ts | tr -d _)
BUN_TEST = "$(BUN)" test --timeout $(TEST_TIMEOUT_MS)
TEST_INTEGRATION := test

IMAGE ?= k2:dev

.PHONY: help bootstrap chromium start demo demo-cluster test test-pr test-pr-full ci-all test-operational test-unit test-integration test-shard lint format typecheck bench bench-doc clean \
	coverage audit config-doc docker-build chaos-smoke soak-smoke perf-gate test-soak-1h test-soak-24h test-chaos bench-e2e \
	nats-server test-long test-cluster bench-cluster bench-nats bench-backfill

# Variables a help line may mention as $(NAME): help prints their values, not their names.
HELP_VARS := BUN_VERSION IMAGE SHARD DEMO_DATA_DIR

help: ## list every target
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) \
	  | sed $(foreach v,$(HELP_VARS),-e 's|\$$($(v))|$($(v))|g') \
	  | awk 'BEGIN{FS=":.*## "}{printf "  %-18s %s\n", $$1, $$2}'

bootstrap: ## find or install Bun $(BUN_VERSION), then install locked dependencies
	@if [ ! -x "$(BUN)" ]; then \
	  echo "bun not on PATH: installing bun@$(BUN_VERSION) from npm into .tools/"; \
	  npm install --prefix .tools --no-save --no-audit --no-fund bun@$(BUN_VERSION) >/dev/null; \
	fi
	@v=$$("$(BUN)" --version); [ "$$v" = "$(BUN_VERSION)" ] || echo "warning: bun $$v on PATH, K2 pins $(BUN_VERSION)"
	@"$(BUN)" install --frozen-lockfile

# The live page's browser test (test/page/browser.test.ts) drives Debian's chromium through
# playwright-core: no browser is downloaded from anywhere but Debian's archive.
chromium: ## install Debian's chromium for the page's browser test when /usr/bin/chromium is missing (apt-get; sudo when not root)
	@if [ ! -x /usr/bin/chromium ]; then \
	  command -v apt-get >/dev/null || { echo "chromium: /usr/bin/chromium is missing and there is no apt-get to install Debian's chromium" >&2; exit 1; }; \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "installing Debian's chromium (apt-get)"; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@/usr/bin/chromium --version 2>/dev/null

start: bootstrap ## install what is missing and run the service (bun run start)
	"$(BUN)" run start

# The demo's folder is its own: a simulator's invented market never mixes with real recordings
# (K2 refuses a data dir recorded from another source: src/config/source-marker.ts).
DEMO_DATA_DIR ?= data-demo

demo: bootstrap ## run K2 against the embedded Binance simulator (K2_SOURCE=sim), files in ./$(DEMO_DATA_DIR)
	K2_SOURCE=sim K2_DATA_DIR="$(DEMO_DATA_DIR)" "$(BUN)" run start

demo-cluster: bootstrap nats-server ## 3 NATS nodes + simulator + 2 recorders + 1 writer + 1 query node on loopback, until Ctrl-C (docs/SCALING.md)
	"$(BUN)" run scripts/demo-cluster.ts

test: bootstrap chromium nats-server lint typecheck ## lint + typecheck + the default test suite (< 5 min on 2 cores)
	$(BUN_TEST) $(TEST_UNIT) $(TEST_INTEGRATION)

# The predecessor's tiers, under the names its operators know.
test-pr: bootstrap lint typecheck ## lint + typecheck + unit tests (src/): the quick check before a PR (~20 s)
	$(BUN_TEST) $(TEST_UNIT)

# Named *.long.ts, not *.test.ts: `bun test src test` filters by substring, so every *.test.ts
# anywhere would join the default suite. Bun runs a file given by path whatever its name.
test-long: bootstrap nats-server ## every long test, test-long/*/*.long.ts (the hand-over and its faults, cluster faults, books and completeness in the roles with REST kline repair and missed minutes, completeness and book proofs, missed kline minutes, REST etiquette, the SIGKILL loop; ~12 min): CI runs them after make test
	$(BUN_TEST) $(addprefix ./,$(wildcard test-long/*/*.long.ts))

test-cluster: bootstrap nats-server ## the long cluster tests only (recorder and writer crashes, leader death, 30 s NATS outage, query nodes, books, backfill and klines in the roles, their REST repair and missed minutes; ~8 min)
	$(BUN_TEST) $(addprefix ./,$(wildcard test-long/cluster/*.long.ts))

bench-e2e: bootstrap ## socket → rows visible in Parquet: K2 (WAL on, defaults) vs a bare client on the same max-rate simulator, 10 symbols; lost/dup, lag p99, RSS (~2 min)
	"$(BUN)" run native-bench/e2e-throughput.ts $(ARGS)

bench-cluster: bootstrap nats-server ## scale-out path vs single process on one feed (~31k rows/s, 3 streams): rows/s, loss, latency, CPU/RSS per process
	"$(BUN)" run native-bench/cluster-throughput.ts $(ARGS)

test-pr-full: test ## lint + typecheck + unit + integration (the default suite, < 5 min)

ci-all: test test-long audit chaos-smoke soak-smoke perf-gate ## everything CI runs, locally (not the Docker build: no engine here; not the weekly 24 h soak)

test-unit: bootstrap ## unit tests beside the code (src/)
	$(BUN_TEST) $(TEST_UNIT)

test-integration: bootstrap chromium nats-server ## cross-stage tests against real sockets and files (test/)
	$(BUN_TEST) $(TEST_INTEGRATION)

test-shard: bootstrap chromium nats-server ## one shard of the default suite: make test-shard SHARD=2/4
	$(BUN_TEST) --shard=$(SHARD) $(TEST_UNIT) $(TEST_INTEGRATION)

lint: bootstrap ## biome + actionlint and pin rules (.github/) + Dockerfile lint
	"$(BUN)" run lint
	"$(BUN)" run scripts/lint-workflows.ts
	"$(BUN)" run scripts/lint-dockerfile.ts

format: bootstrap ## rewrite files in the house format
	"$(BUN)" run format

typecheck: bootstrap ## tsc --noEmit (Bun itself does not type-check)
	"$(BUN)" run typecheck

coverage: bootstrap ## the default suite with coverage (text + coverage/lcov.info)
	$(BUN_TEST) --coverage $(TEST_UNIT) $(TEST_INTEGRATION)

audit: bootstrap ## dependency audit of bun.lock (bun audit; high and critical fail)
	"$(BUN)" audit --audit-level=high

config-doc: bootstrap ## regenerate docs/configuration.md from src/config/keys.ts
	"$(BUN)" run scripts/gen-config-doc.ts

docker-build: ## build the image $(IMAGE) (needs a Docker engine; CI builds it in pr-full-check)
	@command -v docker >/dev/null || { echo "docker-build: needs a Docker engine and the docker CLI (none here)" >&2; exit 1; }
	docker build -t $(IMAGE) .

# No --allow-skip for the smoke set: none of its scenarios needs root, a mount or a preload, so a
# SKIP on the nightly runner would be a regression, and it fails the run like a FAIL.
chaos-smoke: bootstrap ## ~2-minute chaos subset with short holds (nightly CI); JSON in chaos/reports/
	"$(BUN)" run chaos/run.ts --scenario smoke

soak-smoke: bootstrap ## 2-minute soak, 2000 trades/s, 20 symbols, a fault every 15 s (nightly CI)
	"$(BUN)" run soak/run.ts --duration 2m --rate 2000 --symbols 20 --faults every=15s --sample 2s

perf-gate: bootstrap ## native-bench ratios + autocannon req/s vs native-bench/baseline.json (fails on regression)
	"$(BUN)" run native-bench/perf-gate.ts

test-soak-1h: bootstrap ## 1 h soak with a fault every 5 min; also gates uptime, RSS slope and lag
	"$(BUN)" run soak/run.ts --duration 1h --rate 2000 --symbols 20 --faults every=5m

test-soak-24h: bootstrap ## 24 h soak with a fault every 10 min (soak-weekly, self-hosted runner)
	"$(BUN)" run soak/run.ts --duration 24h --rate 2000 --symbols 20 --faults every=10m

test-chaos: bootstrap ## chaos scenarios (SCENARIO=name|all|smoke, default all); a SKIP fails unless ALLOW_SKIP=1; asks first unless CONFIRM=1
	@if [ "$(CONFIRM)" != "1" ]; then \
	  read -r -p "test-chaos runs scenario(s) '$(or $(SCENARIO),all)' (minutes, mounts a tmpfs as root). Continue? [y/N] " a; \
	  [ "$$a" = y ] || [ "$$a" = Y ] || { echo "test-chaos: not confirmed (CONFIRM=1 skips the question)" >&2; exit 1; }; \
	fi
	"$(BUN)" run chaos/run.ts --scenario $(or $(SCENARIO),all)$(if $(ALLOW_SKIP), --allow-skip)

test-operational: bootstrap ## hand-overs and restarts under load, upgrade rehearsal, full disk (~5 min; root for the full disk); asks first unless CONFIRM=1
	@if [ "$(CONFIRM)" != "1" ]; then \
	  read -r -p "test-operational starts K2 processes under load for minutes and mounts a tmpfs as root. Continue? [y/N] " a; \
	  [ "$$a" = y ] || [ "$$a" = Y ] || { echo "test-operational: not confirmed (CONFIRM=1 skips the question)" >&2; exit 1; }; \
	fi
	"$(BUN)" run operational/handover-load.ts --rounds 10
	"$(BUN)" run operational/handover-load.ts --mode restart --rounds 3
	"$(BUN)" run operational/upgrade-rehearsal.ts
	$(BUN_TEST) ./test-long/process/handover.long.ts test/process/disk-full.test.ts

# Debian's nats-server (2.9.x). The package also enables a system service; K2's tests and benches
# never use it: each starts a private cluster on free loopback ports (test/support/nats-cluster.ts).
nats-server: ## install nats-server from Debian apt when missing (the NATS tests and bench-nats start private clusters from it)
	@if command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ]; then \
	  echo "nats-server present: $$(PATH=$$PATH:/usr/sbin nats-server --version)"; \
	else \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update && $$sudo apt-get install -y nats-server; \
	fi

bench-ws: bootstrap ## the receive alone per WebSocket client, Bun's vs K2's raw with a string and with bytes per frame (K2_WS_CLIENT): frames/s and CPU per frame, same max-rate simulator (~1.5 min)
	"$(BUN)" run native-bench/ws-receive.ts $(ARGS)

bench-nats: bootstrap nats-server ## JetStream design measurement: one msg per row vs batched, 2 publishers, 3-node R3 (docs/SCALING.md)
	"$(BUN)" run native-bench/nats-design.ts $(ARGS)

bench-backfill: bootstrap ## k2 backfill from local archive zips → visible Parquet vs DuckDB read_csv → COPY parquet zstd, same threads, same run, with the allocator setting `bun run backfill` uses (ARGS=--rows N --concurrency N)
	sh scripts/batch-alloc.sh "$(BUN)" run native-bench/backfill.ts $(ARGS)

bench-doc: bootstrap ## run every benchmark and regenerate docs/BENCHMARKS.md (~10 min; --quick: make bench-doc ARGS=--quick)
	"$(BUN)" run scripts/bench-doc.ts $(ARGS)

bench: bootstrap ## native-bench suites + Parquet sink + simulator→ring throughput (ratios vs same-run baselines)
	"$(BUN)" run native-bench/run.ts
	"$(BUN)" run native-bench/parquet-sink.ts
	"$(BUN)" run native-bench/ingest-throughput.ts

clean: ## remove installed tools, dependencies, data and results
	rm -rf .tools node_modules data data-demo coverage native-bench/results
