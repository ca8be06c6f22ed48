# exhgen — see README.md. `make run` serves the example, `make test` is what CI runs.

GO       ?= go
EXAMPLE  ?= examples/clinic
BIN      := $(CURDIR)/bin
export GOFLAGS := -buildvcs=false

.PHONY: run test build generate vet fmt-check unit e2e openapi-lint fuzz bench clean

## run: generate, build and start the example backend (finds or starts PostgreSQL).
run: build
	@examples/run.sh $(EXAMPLE)

## build: build the exhgen CLI into bin/.
build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/exhgen ./cmd/exhgen

## generate: regenerate every example's backend (commit the result).
generate: build
	@for d in examples/*/; do if [ -f $$d/project.hcl ]; then $(BIN)/exhgen generate $$d || exit 1; fi; done

## test: everything CI checks.
test: fmt-check vet unit openapi-lint

fmt-check:
	@out=$$(find . -name '*.go' -not -path '*/testdata/*' -not -path '*/node_modules/*' -not -path './.git/*' | xargs gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## vet: go vet and staticcheck (pinned, run through the Go toolchain).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## unit: all Go tests, including the end-to-end test of examples/clinic. The
## runtime and the spec loader run under the race detector; the generator
## (single-threaded, and ogen runs ~10x slower under -race) and the e2e test
## (which builds and runs real processes) run without it.
RACE_PKGS := ./runtime/... ./spec/... ./templates/...
unit:
	$(GO) test -race -timeout 15m $(RACE_PKGS)
	$(GO) test -timeout 15m ./generator/... ./examples/... ./cmd/...

## e2e: only the end-to-end test.
e2e:
	$(GO) test -run TestE2E -v -timeout 15m ./examples/

## openapi-lint: redocly lint + a type-checked TypeScript client of the example's API.
openapi-lint:
	@examples/clinic/client-ts/check.sh $(EXAMPLE)/backend/openapi.json

fuzz:
	$(GO) test ./spec -run '^$$' -fuzz FuzzLoad -fuzztime 60s

## bench: benchmarks (see README for the load test against a running backend).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./runtime/document ./generator

clean:
	rm -rf $(BIN) .tmp
