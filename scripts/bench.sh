#!/usr/bin/env bash
# Builds the benchmarks (Release) into build-bench/ and runs them. Extra
# arguments go to every benchmark binary (e.g. --benchmark_filter=Decode).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPHONY_BUILD_BENCH=ON \
  -DPHONY_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j 2 --target codec_bench embedded_bus_bench pgoutput_bench envelope_bench transform_bench
for b in codec_bench embedded_bus_bench pgoutput_bench envelope_bench transform_bench; do
  echo "== $b"
  "build-bench/bench/$b" "$@"
done
