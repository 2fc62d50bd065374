# igconnect — build, test and run targets. `make help` lists them.

# Image to build and deploy.
IMG ?= igconnect/manager:latest
# The version stamped into bin/manager (igconnect_build_info, the start-up log) and into the
# image's labels (org.opencontainers.image.version, .revision).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
GO_LDFLAGS ?= -X github.com/igconnect/igconnect/internal/version.version=$(VERSION) \
	-X github.com/igconnect/igconnect/internal/version.revision=$(REVISION)
# Every timestamp in the image: the commit's time, so that two builds of one commit are the same.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct)
# Where `make image` writes the OCI layout, the OCI archive and the SBOMs; its platforms;
# the -ldflags of the image's manager: those of `make build`, so both report one version.
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
# golangci-lint is pinned in its own module, hack/tools, so that its dependencies stay out of
# ours; it is built into bin/ once and rebuilt only when hack/tools/go.mod or go.sum changes.
GOLANGCI_LINT = $(LOCALBIN)/golangci-lint
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

# config/namespaced grants the generated ClusterRole's rules per watched namespace, from a copy.
.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests under config/, the chart's CRD templates and manager rules, and its values table.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./internal/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	cp config/rbac/role.yaml config/namespaced/manager-role/role.yaml
	go run ./hack/helm/chartgen

.PHONY: generate
generate: ## Generate the DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -w $$(git ls-files -co --exclude-standard '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: lint-config ## Run golangci-lint over the whole tree (.golangci.yml).
	$(GOLANGCI_LINT) run ./...

.PHONY: lint-fix
lint-fix: $(GOLANGCI_LINT) ## Run golangci-lint and apply the fixes it can make itself.
	$(GOLANGCI_LINT) run --fix ./...

.PHONY: lint-config
lint-config: $(GOLANGCI_LINT) ## Check .golangci.yml against golangci-lint's schema (a misspelt setting is otherwise ignored).
	$(GOLANGCI_LINT) config verify

$(GOLANGCI_LINT): hack/tools/go.mod hack/tools/go.sum
	cd hack/tools && go build -o $(GOLANGCI_LINT) github.com/golangci/golangci-lint/v2/cmd/golangci-lint

.PHONY: helm-lint
helm-lint: ## Lint charts/igconnect (helm lint --strict, with its default and ci values) through the pinned Helm SDK.
	go run ./hack/helm/chartlint charts/igconnect

.PHONY: verify
verify: manifests generate fmt vet lint helm-lint ## Fail when generated files, formatting, lint findings or go.mod are stale, or the chart does not lint.
	go mod tidy
	cd hack/envtest && go mod tidy
	cd hack/tools && go mod tidy
	cd hack/krew && go mod tidy
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

# The make that igconnect-dev calls for `make envtest`. Named through this variable because
# make runs every recipe line that mentions $(MAKE) literally even under `make -n`, and that
# line starts the whole stack: `make -n run` must only print (test/makefile checks it).
RUN_MAKE = $(MAKE)

.PHONY: run
run: build ## Run igconnect here: a local control plane and the Instagram sandbox unless a cluster and credentials are set. RUN_ARGS=... passes flags.
	go build -o $(LOCALBIN)/igconnect-dev ./cmd/igconnect-dev
	$(LOCALBIN)/igconnect-dev --bin-dir "$(LOCALBIN)" --assets "$(TEST_ASSETS)" --make "$(RUN_MAKE)" $(RUN_ARGS)

##@ Build

.PHONY: build
build: ## Build bin/manager, bin/instagram-sandbox and bin/kubectl-igconnect (the kubectl plugin).
	go build -ldflags "$(GO_LDFLAGS)" -o $(LOCALBIN)/manager ./cmd
	go build -o $(LOCALBIN)/instagram-sandbox ./cmd/instagram-sandbox
	go build -o $(LOCALBIN)/kubectl-igconnect ./cmd/kubectl-igconnect

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
