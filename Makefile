# sealfleet — build, test and benchmark targets.
GO ?= go
PKGS ?= ./...

.PHONY: all build test fmt-check vet unit test-long bench bench-go

all: build

build:
	$(GO) build -o bin/sealfleet ./cmd/sealfleet

# test is the README's test command: formatting, vet, and the race-enabled suite.
test: fmt-check vet unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

# test-long runs the 8MiB round trips and the long chaos run (issue #10: a manager and three workers seal 30 2KiB
# sectors through 12 SIGKILLs; about half a minute plus the build) without the race detector (minutes with it).
test-long:
	SEALFLEET_LONG=1 $(GO) test -count=1 -timeout 20m -run '8MiB' ./seal/sectordir/
	SEALFLEET_LONG=1 $(GO) test -count=1 -timeout 30m -run 'Chaos' -v ./itest/

# bench prints the headline figures on this machine: Fr32/CommP throughput against go-fil-commp-hashhash, PC1 ns per
# node against bare SHA-256, and one scheduling pass. Record them in BENCHMARKS.md. BENCH_PIECE_SIZE and
# BENCH_PC1_SIZE pick the sizes (512MiB and 8MiB by default).
BENCH_PIECE_SIZE ?= 512MiB
BENCH_PC1_SIZE ?= 8MiB
bench: build
	./bin/sealfleet bench piece --size $(BENCH_PIECE_SIZE)
	./bin/sealfleet bench pc1 --sector-size $(BENCH_PC1_SIZE)
	./bin/sealfleet bench sched --workers 200 --requests 400

# bench-go runs every Go micro-benchmark once (some build 512MiB inputs: expect minutes).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x $(PKGS)
