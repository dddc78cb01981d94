# picsoak: one static binary for the daemon (serve), the one-shot runner (run) and the
# PIC simulator (sim). Every base image is pinned to a version so a rebuild next month
# soaks PIC with the same generator.

# The build stage's Go matches go.mod's go line, so no toolchain download happens.
FROM golang:1.26.8 AS build
WORKDIR /src
# Modules first: this layer stays cached while only picsoak's source changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG REVISION=unknown
# CGO off: a static binary that runs on any base image; -trimpath: no build paths in it.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/picsoak ./cmd/picsoak

# Alpine rather than distroless: it has version tags to pin to, and its wget lets
# docker-compose health checks reach /healthz.
FROM alpine:3.22
# A fixed non-root uid, so the reports volume and a read-only root filesystem work
# the same on every host.
RUN addgroup -S -g 10001 picsoak \
 && adduser -S -D -H -u 10001 -G picsoak -h /var/lib/picsoak picsoak \
 && mkdir -p /var/lib/picsoak/reports \
 && chown -R 10001:10001 /var/lib/picsoak
COPY --from=build /out/picsoak /usr/local/bin/picsoak
USER 10001:10001
WORKDIR /var/lib/picsoak
ENV PICSOAK_REPORT_DIR=/var/lib/picsoak/reports
VOLUME ["/var/lib/picsoak/reports"]
# 9853: picsoak serve (/metrics, /healthz, status page); 8080: picsoak sim.
EXPOSE 9853 8080
ENTRYPOINT ["/usr/local/bin/picsoak"]
CMD ["serve"]
