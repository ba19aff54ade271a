# Phony Sync image for users (not built in CI: the CI machine has no Docker engine).
FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config git ca-certificates \
      libpq-dev libmariadb-dev librdkafka-dev librocksdb-dev libabsl-dev libspdlog-dev libfmt-dev \
      nlohmann-json3-dev libcli11-dev libssl-dev libssh2-1-dev libzstd-dev libgtest-dev libgmock-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPHONY_BUILD_TESTS=OFF \
    && cmake --build build --target phony

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpq5 libmariadb3 librdkafka1 librocksdb7.8 libabsl20220623 libspdlog1.10 libfmt9 \
      libssl3 libssh2-1 libzstd1 ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/phony phony \
    && mkdir -p /var/lib/phony && chown phony /var/lib/phony
COPY --from=build /src/build/phony /usr/local/bin/phony
USER phony
WORKDIR /var/lib/phony
ENTRYPOINT ["phony"]
CMD ["--help"]
