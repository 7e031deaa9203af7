# Tether's build, test and verification entry points. See README.md.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c

GO       ?= go
BIN      := $(CURDIR)/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The agent image's repository: 'register' defaults to $(IMAGE_REPO):<version>.
IMAGE_REPO ?= ghcr.io/tether-io/tether-agent
LDFLAGS  := -X github.com/tether-io/tether/pkg/version.Version=$(VERSION) \
            -X github.com/tether-io/tether/pkg/register.ImageRepository=$(IMAGE_REPO)
# The image: platforms, its OCI layout, and the commit it is built from
# (its time is every timestamp in the image, so a commit gives one digest).
IMAGE_ARCHS       ?= amd64 arm64
IMAGE_LAYOUT      := $(BIN)/image
REVISION          ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
# Test packages run one at a time: each integration package owns a hub and
# members, and two at once saturate a 2-core machine.
TEST_FLAGS ?= -p 1 -count=1 -timeout 40m
# Time (or exec count, 1000000x) per fuzz target for 'make fuzz'.
FUZZTIME ?= 60s

.PHONY: all build image image-push testenv-bin test test-unit test-faults fuzz bench bench-fleet demo demo-down generate verify fmt vet clean

all: build

build: ## Build bin/tether-agent.
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/tether-agent ./cmd/agent

image: ## Multi-arch OCI image layout of the static agent in bin/image (no Docker): linux/amd64 and linux/arm64.
	@for arch in $(IMAGE_ARCHS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" \
	    -o $(BIN)/linux_$$arch/tether-agent ./cmd/agent || exit 1; \
	done
	$(GO) run ./hack/image build --layout $(IMAGE_LAYOUT) --version $(VERSION) --revision $(REVISION) \
	  --source-date-epoch $(SOURCE_DATE_EPOCH) $(foreach a,$(IMAGE_ARCHS),--platform $(a)=$(BIN)/linux_$(a)/tether-agent)
	TETHER_IMAGE_LAYOUT=$(IMAGE_LAYOUT) $(GO) test -count=1 -run TestMadeImage ./hack/image/ociimage/

image-push: ## Build the image and push it to $(REGISTRY)/tether-agent:$(VERSION) (Docker config credentials).
	@if [[ -z "$(REGISTRY)" ]]; then echo "REGISTRY is required: make image-push REGISTRY=ghcr.io/<org>"; exit 1; fi
	@$(MAKE) --no-print-directory image
	$(GO) run ./hack/image push --layout $(IMAGE_LAYOUT) --ref $(REGISTRY)/tether-agent:$(VERSION)

testenv-bin: ## Build the control-plane binaries the tests run (cached under bin/).
	hack/build-testenv.sh

test: testenv-bin ## Unit and integration tests against real apiservers.
	TESTENV_BIN=$(BIN) $(GO) test $(TEST_FLAGS) ./...

test-faults: testenv-bin ## Only the fault-injection suite (test/faults); prints its FAULT lines.
	TESTENV_BIN=$(BIN) $(GO) test $(TEST_FLAGS) -v ./test/faults/ 2>&1 | \
	  grep --line-buffered -E '(FAULT|^--- |^=== RUN|^ok|^FAIL|panic|_test.go:[0-9]+:)'

test-unit: ## Tests that need no apiserver.
	TESTENV_SKIP=1 $(GO) test -count=1 ./...

fuzz: ## Each fuzz target in turn for FUZZTIME (default 60s, or an exec count: 1000000x); prints exec counts.
	FUZZTIME=$(FUZZTIME) GO=$(GO) hack/fuzz.sh

bench: testenv-bin ## Benchmarks on real apiservers (2,000 Works; 5,000 nodes and 20,000 pods); prints BENCH lines.
	TETHER_BENCH=1 TESTENV_BIN=$(BIN) $(GO) test -count=1 -p 1 -timeout 60m -v ./test/bench/... 2>&1 | \
	  grep --line-buffered -E '^(BENCH|--- |ok|FAIL|panic)|_test.go:[0-9]+:'

.PHONY: bench-drift
bench-drift: testenv-bin ## Only the drift bench (a burst of 500 member-side edits; then 100 under the report mode); prints BENCH lines.
	TETHER_BENCH=1 TESTENV_BIN=$(BIN) $(GO) test -count=1 -timeout 30m -v ./test/bench/drift/ 2>&1 | \
	  grep --line-buffered -E '^(BENCH|--- |ok|FAIL|panic)|_test.go:[0-9]+:'

.PHONY: bench-fleet
# Fleet sizes of 'make bench-fleet' (comma-separated); TETHER_FLEET_QUICK=1 runs K=5 with short windows.
FLEET_K ?= 50,100,200

bench-fleet: testenv-bin ## K tether-agent processes against one hub (FLEET_K, default 50,100,200): idle hub cost per cluster, fan-out, hub restart, join storm; prints BENCH lines.
	TETHER_BENCH_FLEET=1 TETHER_FLEET_K=$(FLEET_K) TESTENV_BIN=$(BIN) $(GO) test -count=1 -timeout 180m -v -run TestBenchFleet ./test/bench/fleet/ 2>&1 | \
	  grep --line-buffered -E '^(BENCH|--- |ok|FAIL|panic)|_test.go:[0-9]+:'

generate: ## Regenerate DeepCopy, CRDs, clientset, listers and informers from pkg/apis.
	hack/update-codegen.sh

verify: ## gofmt, go vet, staticcheck, and generated files up to date.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n "$$out" ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# staticcheck is pinned in go.mod (tool directive); its checks are in staticcheck.conf.
	@# pkg/generated is left out: it is regenerated, never edited (informer-gen still uses ListFunc).
	$(GO) tool staticcheck $$($(GO) list ./... | grep -v '/pkg/generated/')
	@$(MAKE) --no-print-directory generate
	@if ! git diff --quiet -- pkg/apis pkg/generated deploy/crds || [[ -n "$$(git ls-files --others --exclude-standard pkg/apis pkg/generated deploy/crds)" ]]; then \
	  echo "generated files are stale: run 'make generate' and commit the result"; git status --short pkg/apis pkg/generated deploy/crds; exit 1; fi

clean:
	rm -rf $(BIN)

demo: build testenv-bin ## Local hub + two members, real register flow, agents, the nginx example; leaves it running.
	TESTENV_BIN=$(BIN) $(GO) run ./test/demo/cmd/demo

demo-down: ## Stop what 'make demo' started.
	$(GO) run ./test/demo/cmd/demo down
