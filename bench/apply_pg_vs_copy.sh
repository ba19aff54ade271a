#!/usr/bin/env bash
# Issue #6's bar: the PostgreSQL applier against COPY of the same rows into
# the same table, in one run, on a private PostgreSQL 15 (scripts/pg_server.sh).
#   bench/apply_pg_vs_copy.sh [rows] [rows per source transaction]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
rows="${1:-1000000}"; per_tx="${2:-100}"
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPHONY_BUILD_BENCH=ON -DPHONY_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j 2 --target apply_pg_vs_copy >/dev/null
dir="$(mktemp -d /tmp/phony-apply-bench.XXXXXX)"
chmod 755 "$dir"  # the server runs as postgres
trap 'scripts/pg_server.sh stop "$dir/pg" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
port="$(scripts/pg_server.sh start "$dir/pg")"
# Durable like a staging server would be: fsync on, as PostgreSQL ships.
sed -i 's/^fsync = off/fsync = on/; s/^full_page_writes = off/full_page_writes = on/' "$dir/pg/data/postgresql.conf"
scripts/pg_server.sh stop "$dir/pg" && scripts/pg_server.sh start "$dir/pg" >/dev/null
build-bench/bench/apply_pg_vs_copy --host 127.0.0.1 --port "$port" --user postgres --rows "$rows" --tx-rows "$per_tx"
