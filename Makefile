# The two commands a newcomer needs (see README.md):
#   make run   — the whole platform on one machine, embedded defaults
#   make test  — every test against real Mosquitto and InfluxDB
GO       ?= go
PKGS     ?= ./...
# CI and the test command run the race detector; a full run takes a while on 2 cores.
TESTFLAGS ?= -race -count=1 -timeout 60m

.PHONY: run test lint fuzz bench build build-arm loadgen clean axe assets basemap

run:
	$(GO) run ./cmd/smartdeal

test:
	$(GO) run ./cmd/withservices -- $(GO) test $(TESTFLAGS) $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Short fuzzing of every fuzz target of the repository (found in the *_test.go
# files, so a new target is fuzzed without editing this file), one after the
# other; crashers land in the package's testdata/fuzz and must be committed.
FUZZTIME ?= 30s
fuzz:
	@grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . | \
	sed 's#^\(.*\)/[^/]*_test\.go:func #\1 #' | sort -u | \
	while read -r pkg target; do \
		echo "== $$target ($$pkg)"; \
		$(GO) test -run=NONE -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

bench:
	$(GO) run ./cmd/withservices -- $(GO) test -run=NONE -bench=. -benchmem $(PKGS)

build:
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...

# Gateway binaries for Raspberry Pi: 64-bit (Pi 3/4/5 with a 64-bit OS) and 32-bit ARMv7.
# buildTime is the earliest wall clock the gateway trusts (a Pi has no RTC).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GW_LDFLAGS = -s -w -X github.com/cd06/smartdeal/devices/gateway.version=$(VERSION) -X github.com/cd06/smartdeal/devices/gateway.buildTime=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)
build-arm:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags "$(GW_LDFLAGS)" -o bin/smartdeal-gateway-linux-arm64 ./cmd/gateway
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags "$(GW_LDFLAGS)" -o bin/smartdeal-gateway-linux-armv7 ./cmd/gateway
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags "-s -w" -o bin/smartdeal-mavbridge-linux-arm64 ./cmd/mavbridge
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags "-s -w" -o bin/smartdeal-mavbridge-linux-armv7 ./cmd/mavbridge
	@ls -l bin/smartdeal-*-linux-*

# axe-core, the accessibility engine of the browser tests (tests only), from the
# npm registry at the exact version of internal/testenv/axe/package-lock.json,
# vendored so that tests and CI need no npm. To move to another version:
#   cd internal/testenv/axe && npm install --save-exact --no-audit axe-core@X.Y.Z && cd - && make axe
# then refresh the results that /accessibilite shows:
#   go run ./cmd/withservices -- go test ./dashboards/api -run TestBrowserAccessibility -count=1 -update
AXE_DIR = internal/testenv/axe
axe:
	cd $(AXE_DIR) && npm ci --no-audit --no-fund
	cp $(AXE_DIR)/node_modules/axe-core/axe.min.js $(AXE_DIR)/node_modules/axe-core/LICENSE $(AXE_DIR)/
	cd $(AXE_DIR) && node -p 'require("./node_modules/axe-core/sri-history.json")[require("./node_modules/axe-core/package.json").version]["axe.min.js"]' > axe.min.js.sri
	rm -rf $(AXE_DIR)/node_modules
	$(GO) test -count=1 -run TestVendored ./$(AXE_DIR)

clean:
	rm -rf bin .run

# The map's front end (dashboards/assets): the pinned npm packages' files the
# map loads, copied into static/vendor (committed, so go build needs no npm).
ASSETS_DIR = dashboards/assets
assets:
	cd $(ASSETS_DIR) && npm ci --no-audit --no-fund
	rm -rf $(ASSETS_DIR)/static/vendor && mkdir -p $(ASSETS_DIR)/static/vendor/leaflet/images $(ASSETS_DIR)/static/vendor/markercluster
	cp $(ASSETS_DIR)/node_modules/leaflet/dist/leaflet.js $(ASSETS_DIR)/node_modules/leaflet/dist/leaflet.css $(ASSETS_DIR)/node_modules/leaflet/LICENSE $(ASSETS_DIR)/static/vendor/leaflet/
	cp $(ASSETS_DIR)/node_modules/leaflet/dist/images/*.png $(ASSETS_DIR)/static/vendor/leaflet/images/
	cp $(ASSETS_DIR)/node_modules/leaflet.markercluster/dist/leaflet.markercluster.js $(ASSETS_DIR)/node_modules/leaflet.markercluster/dist/MarkerCluster.css \
	   $(ASSETS_DIR)/node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css $(ASSETS_DIR)/node_modules/leaflet.markercluster/MIT-LICENCE.txt $(ASSETS_DIR)/static/vendor/markercluster/
	$(GO) test -count=1 -run 'TestVendored|TestBudget' ./$(ASSETS_DIR)

# The offline base map and the commune gazetteer (static/basemap-06.geojson,
# static/communes-06.json), derived by cmd/basemap; see docs/map.md for SRC.
BASEMAP_SHA256 = eda4ff9e2d35a6c24d9d0f12dbcb2f6faeb3e2fa6f114ef80d22aa586dc3524e
basemap:
	cd $(ASSETS_DIR) && npm ci --no-audit --no-fund
	$(GO) run ./cmd/basemap -contours $(SRC) -sha256 $(BASEMAP_SHA256) -communes $(ASSETS_DIR)/node_modules/@etalab/decoupage-administratif/data/communes.json -out $(ASSETS_DIR)/static
