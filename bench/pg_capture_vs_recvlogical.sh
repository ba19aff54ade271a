#!/usr/bin/env bash
# Issue #3's capture bars, measured side by side in one run on the same WAL:
#   draining one N-row transaction (default 1M rows, ~115 MB of pgoutput) with
#   `phony capture --sink null` (decode, assemble, ack, confirm) versus
#   `pg_recvlogical -f FILE` (copies bytes only; the byte count is printed to
#   show it received the whole transaction), both on pgoutput with
#   the same protocol and streaming; wall time, rows/s, ratio, and peak RSS.
#
#   bench/pg_capture_vs_recvlogical.sh [rows] [runs]
# Each run loads fresh data; the median ratio over the runs is printed last.
# Uses the PostgreSQL 15 of scripts/services.sh (started if needed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
rows="${1:-1000000}"
runs="${2:-1}"
[ -x build/phony ] || scripts/build.sh
if [ ! -f build/services.env ]; then scripts/services.sh start pg15; fi
set -a; . build/services.env; set +a
bin=/usr/lib/postgresql/15/bin
psql=("$bin/psql" -h 127.0.0.1 -p "$PHONY_PG15_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
db=phony_bench
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ratios=()
run_id=0
one_run() {
run_id=$((run_id + 1))
"${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
"${psql[@]}" -d "$db" -c "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2), created_at timestamptz, active boolean)" \
  -c "CREATE PUBLICATION bench_pub FOR TABLE items" \
  -c "SELECT pg_create_logical_replication_slot('bench_recv', 'pgoutput', false, false)" >/dev/null
cat >"$work/job.json" <<JSON
{"name": "bench", "source": {"type": "postgresql", "port": $PHONY_PG15_PORT, "database": "$db", "user": "postgres"},
 "target": {"type": "postgresql", "port": $PHONY_PG15_PORT, "database": "unused", "user": "postgres"},
 "state": {"dir": "$work/state-$run_id"}, "anonymization": {"secret_ref": "env://PHONY_BENCH_SECRET"}}
JSON
export PHONY_BENCH_SECRET=0123456789abcdef0123456789abcdef
# Create phony's slot and publication before the workload (a check run does not).
build/phony capture --config "$work/job.json" --sink null --stop-after-idle 1 --publication bench_pub 2>/dev/null

echo "loading $rows rows in one transaction..."
"${psql[@]}" -d "$db" -c "INSERT INTO items SELECT g, 'item number ' || g, (g % 1000) + 0.99, now(), g % 2 = 0 FROM generate_series(1, $rows) g"
end_lsn="$("${psql[@]}" -d "$db" -c "SELECT pg_current_wal_lsn()")"
echo "WAL end $end_lsn"

. "$here/bench/lib.sh"

run_recv() {
  rm -f "$work/recv.out"
  measure pg_recvlogical "$bin/pg_recvlogical" -h 127.0.0.1 -p "$PHONY_PG15_PORT" -U postgres -d "$db" \
    --slot bench_recv --start --endpos "$end_lsn" -o proto_version=3 -o streaming=on \
    -o publication_names=bench_pub -f "$work/recv.out"
  echo "pg_recvlogical received $(stat -c %s "$work/recv.out") bytes"
}
run_phony() {
  measure phony-capture ${PHONY_BENCH_WRAP:-} build/phony capture --config "$work/job.json" --sink null \
    --publication bench_pub --stop-at-lsn "$end_lsn"
}
# Alternate who reads the WAL first (the second reader finds it in the page cache).
if [ $((run_id % 2)) -eq 1 ]; then run_recv; run_phony; else run_phony; run_recv; fi
printf 'ratio (phony rate / pg_recvlogical rate): %.2f\n' "$(echo "$pg_recvlogical_secs / $phony_capture_secs" | bc -l)"

  ratios+=("$(echo "$pg_recvlogical_secs / $phony_capture_secs" | bc -l)")
"${psql[@]}" -d "$db" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$db'" >/dev/null
"${psql[@]}" -d postgres -c "DROP DATABASE $db WITH (FORCE)"
}
for _ in $(seq 1 "$runs"); do one_run; done
printf "median ratio over %d runs: %.2f\n" "$runs" "$(printf "%s\n" "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
