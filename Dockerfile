# syntax=docker/dockerfile:1
# Khareetaty: build with the Swift toolchain, run on slim Debian with only the C libraries it links.
# The base images are build arguments: the official images by default (fully qualified, as podman
# wants them); `make test-container` builds the `runtime-prebuilt` target from a local Debian 12
# base (debootstrap) and the binary built on the host, where no registry is reachable.
# (Tests/KhareetatyTests/ContainerTests.swift checks the runtime packages against what the binary links.)
ARG BUILD_IMAGE=docker.io/library/swift:6.3-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

# ---- build ---------------------------------------------------------------------------------------
FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libpq-dev libcsv-dev libxml2-dev zlib1g-dev libssl-dev libproj-dev libgeos-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
# The build-tool plugin that compiles Sources/KhareetatyCore/Schema/sql into the binary.
COPY Plugins ./Plugins
# The Swift runtime and Foundation are linked statically, so the runtime image needs no toolchain.
RUN swift build -c release --product khareetaty --static-swift-stdlib \
 && install -D .build/release/khareetaty /out/khareetaty

# ---- runtime base: the libraries, the user, the pipelines ------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime-base
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libcsv3 libxml2 libssl3 libproj25 libgeos-c1v5 tzdata ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin khareetaty \
 && mkdir -p /data/inbox /data/reports /data/metrics \
 && chown khareetaty /data/inbox /data/reports /data/metrics
WORKDIR /app
COPY config ./config
COPY pipelines ./pipelines
COPY fixtures ./fixtures
# Where a deployment mounts its exports, reports and metrics: `run` without files loads the inbox,
# each committed run writes its morning report and its Prometheus textfile. (Environment values
# are defaults: a deployment's KHAREETATY_* variables or config file override them.)
ENV KHAREETATY_INBOX_DIR=/data/inbox \
    KHAREETATY_REPORT_DIR=/data/reports \
    KHAREETATY_METRICS_TEXTFILE=/data/metrics/khareetaty-{pipeline}.prom
VOLUME ["/data/inbox", "/data/reports", "/data/metrics"]
USER khareetaty
ENTRYPOINT ["khareetaty"]
# A run-to-completion job: no HEALTHCHECK (there is no server to probe). The default command only
# prints the usage; a deployment says what to run (`migrate`, `run --pipeline …`, `report …`).
CMD ["--help"]

# ---- runtime: the binary built above (the default target) -----------------------------------------
FROM runtime-base AS runtime-prebuilt
COPY khareetaty /usr/local/bin/khareetaty

FROM runtime-base AS runtime
COPY --from=build /out/khareetaty /usr/local/bin/khareetaty
