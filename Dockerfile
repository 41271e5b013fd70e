# syntax=docker/dockerfile:1
# Tally: a static binary (CGO_ENABLED=0; SQLite is pure Go) in a distroless
# image that has CA certificates and time zones, no shell, and runs as the
# unprivileged "nonroot" user (uid 65532).
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t tally .
#   docker run -p 8080:8080 -v tally-data:/data tally

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# timetzdata embeds the time zone database, so IANA names validate even
# without /usr/share/zoneinfo.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -tags timetzdata \
      -ldflags "-s -w -X main.version=${VERSION}" -o /out/tally ./cmd/tally \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tally /usr/local/bin/tally
# The SQLite default lives in /data; give it to the runtime user so a fresh
# named volume is writable.
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
ENV TALLY_ADDR=:8080 \
    TALLY_DATABASE_URL=sqlite:/data/tally.db \
    TALLY_LOG_FORMAT=json
USER nonroot:nonroot
EXPOSE 8080
VOLUME ["/data"]
# No shell or curl in the image: the binary probes its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/tally", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/tally"]
CMD ["serve"]
