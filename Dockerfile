# syntax=docker/dockerfile:1.7
#
# One image with every SMART Deal server program:
#   /usr/local/bin/{ingest,alerts,api,gateway,mavbridge,dronesim,loadgen}
# PROGRAM picks the one the image runs when no command is given (default api):
#
#   docker build -t smartdeal .                          # runs api by default
#   docker build -t smartdeal-ingest --build-arg PROGRAM=ingest .
#   docker run --rm smartdeal ingest -keys               # any program, by name
#
# Multi-arch (gateways on Raspberry Pi): docker buildx build --platform linux/amd64,linux/arm64 .
# Deployment files: deploy/compose (docker compose), deploy/k8s (kustomize); see deploy/README.md.

ARG GO_VERSION=1.26
ARG ALPINE_VERSION=3.22

# --- build ---------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
ARG PROGRAM=api
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Pure Go (SQLite is modernc.org/sqlite, periph and serial need no cgo): static binaries.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    set -eu; \
    case " ingest alerts api gateway mavbridge dronesim loadgen " in \
      *" ${PROGRAM} "*) ;; \
      *) echo "PROGRAM=${PROGRAM}: want one of ingest alerts api gateway mavbridge dronesim loadgen" >&2; exit 1 ;; \
    esac; \
    mkdir -p /out/bin; \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/cd06/smartdeal/devices/gateway.version=${VERSION} -X github.com/cd06/smartdeal/devices/gateway.buildTime=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      -o /out/bin/ ./cmd/ingest ./cmd/alerts ./cmd/api ./cmd/gateway ./cmd/mavbridge ./cmd/dronesim ./cmd/loadgen; \
    ln -s "${PROGRAM}" /out/bin/smartdeal-default

# --- runtime -------------------------------------------------------------------
# Alpine rather than distroless: busybox wget gives Docker a health check, and CA
# certificates for ssl:// brokers and https:// InfluxDB are in the base image.
FROM alpine:${ALPINE_VERSION}
ARG PROGRAM=api
ARG VERSION=dev
LABEL org.opencontainers.image.title="smartdeal" \
      org.opencontainers.image.description="SMART Deal telemetry platform: ingest, api, gateway, mavbridge, dronesim, loadgen" \
      org.opencontainers.image.source="https://github.com/cd06/smartdeal" \
      org.opencontainers.image.version="${VERSION}" \
      org.cd06.smartdeal.program="${PROGRAM}"
# /var/lib/smartdeal: the gateway's and mavbridge's spools (mount a volume there).
RUN addgroup -S -g 10001 smartdeal \
    && adduser -S -D -H -u 10001 -G smartdeal -h /var/lib/smartdeal smartdeal \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/smartdeal \
    && apk add --no-cache tzdata
COPY --from=build /out/bin/ /usr/local/bin/
# healthcheck [path]: GET http://127.0.0.1:<port of $SMARTDEAL_HTTP_ADDR><path> (default /healthz).
# Every program serves /healthz, /readyz and /metrics on SMARTDEAL_HTTP_ADDR, whose
# defaults listen on 127.0.0.1 only: containers set it to 0.0.0.0:<port>.
COPY --chmod=0755 <<'SH' /usr/local/bin/healthcheck
#!/bin/sh
addr=${SMARTDEAL_HTTP_ADDR:-}
if [ -z "$addr" ]; then echo "healthcheck: SMARTDEAL_HTTP_ADDR is not set" >&2; exit 1; fi
exec wget -q -T 5 -O /dev/null "http://127.0.0.1:${addr##*:}${1:-/healthz}"
SH
USER 10001:10001
WORKDIR /var/lib/smartdeal
# ingest 9181, api 8080, gateway/mavbridge 9102 (as set in deploy/compose and deploy/k8s).
EXPOSE 8080 9181 9102
HEALTHCHECK --interval=15s --timeout=6s --start-period=20s --retries=3 CMD ["/usr/local/bin/healthcheck", "/healthz"]
# SIGTERM: every program flushes, acks and disconnects (ingest within ingest.shutdown_timeout, 15 s).
STOPSIGNAL SIGTERM
CMD ["/usr/local/bin/smartdeal-default"]
