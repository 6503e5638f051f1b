# syntax=docker/dockerfile:1
# Khareetaty: build with the Swift toolchain, run on slim Debian with only the C libraries it links.
# (This file is checked by Tests/KhareetatyTests/ContainerTests.swift against what the binary links.)

# ---- build ---------------------------------------------------------------------------------------
FROM swift:6.3-bookworm AS build
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

# ---- runtime -------------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libcsv3 libxml2 libssl3 libproj25 libgeos-c1v5 tzdata ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin khareetaty
WORKDIR /app
COPY --from=build /out/khareetaty /usr/local/bin/khareetaty
COPY config ./config
COPY pipelines ./pipelines
COPY fixtures ./fixtures
USER khareetaty
# Healthy = config valid, database reachable, schema current, privileges present.
HEALTHCHECK --interval=5m --timeout=30s --start-period=30s --retries=3 CMD ["khareetaty", "check"]
ENTRYPOINT ["khareetaty"]
CMD ["run"]
