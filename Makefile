# gitlab-ha: the targets a newcomer and CI run. Everything runs with nothing but Go installed.
GO    ?= go
STACK ?= dev
OUT   ?= plan/$(STACK)

.PHONY: plan test lint bench

## plan: evaluate STACK under mocks (no cloud, no Pulumi CLI) and write $(OUT)/
plan:
	$(GO) run ./internal/cmd/plan -stack $(STACK) -out $(OUT)

## test: every package's tests, under mocks
test:
	$(GO) test ./...

## lint: gofmt (must be silent) and go vet
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## bench: evaluation benchmarks under mocks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
