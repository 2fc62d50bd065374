# igconnect — build, test and run targets. `make help` lists them.

# Image to build and deploy.
IMG ?= igconnect/manager:latest
# The build's version (the image's org.opencontainers.image.version label), its commit (the
# revision label) and its time: the commit's, so that two builds of one commit are the same.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct)
# Where `make image` writes the OCI layout, the OCI archive and the SBOMs; its platforms;
# extra -ldflags for the image's manager: those of `make build` (GO_LDFLAGS, the -X version
# variables, where defined), so that both managers report the same version.
IMAGE_DIR ?= $(LOCALBIN)/image
IMAGE_PLATFORMS ?= linux/amd64,linux/arm64
IMAGE_LDFLAGS ?= $(GO_LDFLAGS)
# Where binaries and the locally built control plane go.
LOCALBIN ?= $(shell pwd)/bin
# The control plane (etcd, kube-apiserver) for envtest and `make run`. Point KUBEBUILDER_ASSETS
# at your own envtest binaries to skip building them.
ENVTEST_ASSETS ?= $(LOCALBIN)/k8s
KUBEBUILDER_ASSETS ?=
TEST_ASSETS = $(if $(KUBEBUILDER_ASSETS),$(KUBEBUILDER_ASSETS),$(ENVTEST_ASSETS))

# Tools pinned in go.mod (`tool` directives).
CONTROLLER_GEN ?= go tool controller-gen
KUBECTL ?= kubectl
# Extra flags for `go test`, e.g. GOTEST_FLAGS=-v.
GOTEST_FLAGS ?=

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests under config/.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./internal/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: ## Generate the DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -w $$(git ls-files -co --exclude-standard '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: verify
verify: manifests generate fmt vet ## Fail when generated files, formatting or go.mod are stale.
	go mod tidy
	cd hack/envtest && go mod tidy
	@if [ -n "$$(git status --porcelain)" ]; then \
		echo "verify: the tree changed; commit the regenerated files:"; git status --porcelain; git diff --stat; exit 1; fi

.PHONY: envtest
envtest: ## Build etcd and kube-apiserver from source into bin/k8s (skipped when KUBEBUILDER_ASSETS is set).
ifeq ($(KUBEBUILDER_ASSETS),)
	hack/build-envtest.sh $(ENVTEST_ASSETS)
else
	@echo "control plane: using KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS)"
endif

# `image` comes first so that its cold cross-compile for arm64 runs before the tests, not beside
# them; test/image then builds the image again from the build cache.
.PHONY: test
test: manifests generate fmt vet envtest build image ## Run unit, fuzz-seed, envtest, end-to-end and image tests.
	KUBEBUILDER_ASSETS="$(TEST_ASSETS)" IGCONNECT_BIN="$(LOCALBIN)" go test $(GOTEST_FLAGS) -timeout 20m ./...

# Flags for the benchmark, e.g. BENCH_FLAGS="-n 200 -idle-n 1000 -idle-window 10s" for a quick run.
BENCH_FLAGS ?=

.PHONY: bench
bench: build envtest ## Run the scale benchmark of BENCHMARKS.md (long, so not part of test). BENCH_FLAGS=... passes flags.
	KUBEBUILDER_ASSETS="$(TEST_ASSETS)" IGCONNECT_BIN="$(LOCALBIN)" go run ./test/bench $(BENCH_FLAGS)

.PHONY: run
run: build ## Run igconnect here: a local control plane and the Instagram sandbox unless a cluster and credentials are set. RUN_ARGS=... passes flags.
	go build -o $(LOCALBIN)/igconnect-dev ./cmd/igconnect-dev
	$(LOCALBIN)/igconnect-dev --bin-dir "$(LOCALBIN)" --assets "$(TEST_ASSETS)" --make "$(MAKE)" $(RUN_ARGS)

##@ Build

.PHONY: build
build: ## Build bin/manager and bin/instagram-sandbox.
	go build -o $(LOCALBIN)/manager ./cmd
	go build -o $(LOCALBIN)/instagram-sandbox ./cmd/instagram-sandbox

.PHONY: image
image: ## Build the manager image without a container engine: OCI layout, archive and SBOMs in bin/image.
	go run ./hack/image --out "$(IMAGE_DIR)" --name "$(IMG)" --platforms "$(IMAGE_PLATFORMS)" \
		--version "$(VERSION)" --revision "$(REVISION)" --source-date-epoch "$(SOURCE_DATE_EPOCH)" \
		--ldflags "$(IMAGE_LDFLAGS)"

.PHONY: docker-build
docker-build: ## Build the manager image with a Docker engine (the same layout as `make image`).
	docker build -t $(IMG) --build-arg VERSION="$(VERSION)" --build-arg REVISION="$(REVISION)" \
		--build-arg CREATED="$$(date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ)" .

##@ Deployment

.PHONY: install
install: manifests ## Install the CRD into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: manifests ## Remove the CRD from the cluster of the current kubeconfig.
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: manifests ## Deploy the operator with image IMG to the cluster of the current kubeconfig.
	$(KUBECTL) kustomize config/default | sed "s|igconnect/manager:latest|$(IMG)|g" | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator from the cluster of the current kubeconfig.
	$(KUBECTL) kustomize config/default | $(KUBECTL) delete --ignore-not-found -f -
