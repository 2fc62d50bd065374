# Builds the manager image with Docker: `make docker-build IMG=...`. `make image` builds the
# same image without a container engine (hack/image); both give the same paths, user,
# entrypoint and labels, which test/image checks against this file.
# With buildx (`docker buildx build --platform linux/amd64,linux/arm64 ...`) the builder runs
# on the build machine's platform and cross-compiles for each target, with no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=unknown
WORKDIR /workspace
# Modules first, so that a change to the sources does not download them again.
COPY go.mod go.sum ./
RUN go mod download
# Only what the manager is built from: cmd/instagram-sandbox, test/ stay out.
COPY cmd/*.go cmd/
COPY api/ api/
COPY internal/ internal/
# Static (no cgo), reproducible paths, no symbol tables, the version stamped as `make build`
# and `make image` stamp it. GOARCH defaults to the builder's.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -o manager -ldflags="-s -w \
      -X github.com/igconnect/igconnect/internal/version.version=${VERSION} \
      -X github.com/igconnect/igconnect/internal/version.revision=${REVISION}" ./cmd

# No base image: the manager, the nonroot user and the CA bundle, and nothing else (no
# shell, no package manager).
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="igconnect-manager" \
      org.opencontainers.image.description="igconnect: Instagram connections as Kubernetes resources" \
      org.opencontainers.image.source="https://github.com/igconnect/igconnect" \
      org.opencontainers.image.url="https://github.com/igconnect/igconnect" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
# /etc/passwd and /etc/group with root and nonroot (65532), the files hack/image uses.
COPY hack/image/rootfs/etc/passwd hack/image/rootfs/etc/group /etc/
# The golang image is Debian's, with Debian's ca-certificates bundle.
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /workspace/manager /manager
WORKDIR /
# The nonroot user, numeric so that runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/manager"]
