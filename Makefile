# Parley's developer commands. `make test` is the one test command, in CI too.

GO ?= go

.PHONY: run build test lint browser bench

# Run the demo: SQLite in ./parley-demo-data, the shop page at http://127.0.0.1:8080/demo/.
run:
	$(GO) run ./cmd/parley demo

build:
	$(GO) build -o parley ./cmd/parley

# vet, then every test with the race detector, browser tests included.
test: browser
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m ./...

# The browser tests drive Debian's Chromium; install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Chromium for the browser tests..."; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./internal/realtime/
