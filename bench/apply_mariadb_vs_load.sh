#!/usr/bin/env bash
# Issue #6's bar: the MariaDB applier against LOAD DATA LOCAL INFILE of the
# same rows into the same table, in one run, on a private MariaDB 10.11
# (scripts/mariadb_server.sh, durable InnoDB settings as shipped).
#   bench/apply_mariadb_vs_load.sh [rows] [rows per source transaction]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
rows="${1:-1000000}"; per_tx="${2:-100}"
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPHONY_BUILD_BENCH=ON -DPHONY_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j 2 --target apply_mariadb_vs_load >/dev/null
dir="$(mktemp -d /tmp/phony-apply-bench.XXXXXX)"
chmod 755 "$dir"
trap 'scripts/mariadb_server.sh stop "$dir/m" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
port="$(scripts/mariadb_server.sh start "$dir/m")"
build-bench/bench/apply_mariadb_vs_load --host 127.0.0.1 --port "$port" --user root --rows "$rows" --tx-rows "$per_tx"
