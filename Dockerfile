# Builds bin/manager into a static, non-root image: `make docker-build IMG=...`.
# With buildx (`docker buildx build --platform linux/amd64,linux/arm64 ...`) the builder runs
# on the build machine's platform and cross-compiles for each target, with no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
WORKDIR /workspace
# Modules first, so that a change to the sources does not download them again.
COPY go.mod go.sum ./
RUN go mod download
# Only what the manager is built from: cmd/instagram-sandbox, hack/, test/ stay out.
COPY cmd/*.go cmd/
COPY api/ api/
COPY internal/ internal/
# Static (no cgo), reproducible paths, no symbol tables. GOARCH defaults to the builder's.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o manager ./cmd

# distroless/static: CA certificates and time zones, no shell, no package manager.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
# The image's nonroot user, numeric so that runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/manager"]
