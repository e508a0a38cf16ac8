# profgen: learn a minimal seccomp profile by watching a program run.
# Every target installs the Debian packages it needs first (scripts/deps.sh).

GO      ?= go
BIN     := bin/profgen
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# The suite runs as root on the real kernel: eBPF, seccomp, audit, runc,
# podman, dockerd. One package at a time (-p 1): audit records, runc state
# and the machine's CPUs are shared, and a burst in one package (monitor's
# 100k records) would show as truthfully reported loss in another.
TESTFLAGS ?= -count=1 -timeout 45m -p 1

.PHONY: all deps deps-generate deps-bench build demo test bench bench-all fuzz generate vet clean

all: build

deps:
	@scripts/deps.sh

deps-generate:
	@scripts/deps.sh generate

deps-bench:
	@scripts/deps.sh bench

build: deps
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/profgen
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/profgen-runc ./cmd/profgen-runc
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o bin/profgen-landlock ./cmd/profgen-landlock

# Record the bundled HTTP server while its driver runs, emit its OCI
# profile, then rerun server and driver inside runc under that profile.
demo: build
	@scripts/demo.sh $(BIN)

test: deps
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...

# Fuzz each parser of untrusted input for FUZZTIME; `make test` runs their
# seed corpora (testdata/fuzz). New failing inputs land in testdata/fuzz
# beside them: commit them with the fix, as regression cases.
FUZZTIME ?= 30s
FUZZ_TARGETS := ./internal/audit:FuzzParse ./recording:FuzzParse ./recording:FuzzMerge ./readers:FuzzParseOCI ./filter:FuzzHotMatchesPlain ./trace/dispatch:FuzzDispatchRegistry

fuzz: deps
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -parallel 1 $$pkg; \
	done

# bench prints the recorder's tables (a read/write loop, and a real server,
# against a bare run and an empty sys_enter program), the enforcement tables
# (argument rules against allow-all, loaded directly and under runc) and the
# scale table, ratios within the same run (docs/performance.md).
# PROFGEN_BENCH_ROUNDS sets the rounds (default 7; the server's 11);
# PROFGEN_BENCH_REDIS_REQUESTS the server's requests per run (100000);
# PROFGEN_BENCH_SCALE_MINUTES=N samples the scale table's recorder after 1
# and N minutes instead of 10 and 30 seconds.
bench: deps-bench
	$(GO) test -run '^$$' -bench '^BenchmarkRecorderFloor$$' -count=1 ./trace/
	$(GO) test -run '^$$' -bench '^BenchmarkRecordPaths$$' -count=1 ./trace/
	$(GO) test -run '^$$' -bench '^BenchmarkRecorderServer$$' -count=1 ./trace/
	$(GO) test -run '^$$' -bench '^BenchmarkArgumentRules$$' -count=1 ./replay/
	$(GO) test -run '^$$' -bench '^BenchmarkEnforcementRunc$$' -count=1 ./replay/
	$(GO) test -run '^$$' -bench '^BenchmarkRecorderScale$$' -count=1 -timeout 0 ./trace/

# bench-all runs every benchmark of the tree (each reports its own ratios).
bench-all: deps-bench
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

# Regenerate the bpf2go output under trace/ from trace/bpf/*.c.
generate: deps-generate
	$(GO) generate ./trace/...

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
