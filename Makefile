# sealfleet — build, test and benchmark targets.
GO ?= go
PKGS ?= ./...

.PHONY: all build test fmt-check vet unit bench integration

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

# bench runs the Go micro-benchmarks; record figures in BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x $(PKGS)
