# profgen: learn a minimal seccomp profile by watching a program run.
# Every target installs the Debian packages it needs first (scripts/deps.sh).

GO      ?= go
BIN     := bin/profgen
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# The suite runs as root on the real kernel: eBPF, seccomp, audit, runc.
TESTFLAGS ?= -count=1 -timeout 45m

.PHONY: all deps deps-generate build demo test bench generate vet clean

all: build

deps:
	@scripts/deps.sh

deps-generate:
	@scripts/deps.sh generate

build: deps
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/profgen
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/profgen-runc ./cmd/profgen-runc

# Record the bundled HTTP server while its driver runs, emit its OCI
# profile, then rerun server and driver inside runc under that profile.
demo: build
	@scripts/demo.sh $(BIN)

test: deps
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...

# Benchmarks report ratios against a baseline measured in the same run.
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

# Regenerate the bpf2go output under trace/ from trace/bpf/*.c.
generate: deps-generate
	$(GO) generate ./trace/...

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
