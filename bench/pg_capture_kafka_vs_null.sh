#!/usr/bin/env bash
# Issue #4's capture-to-Kafka bar, side by side in one run on the same WAL:
# N rows (default 1M) committed in transactions of 1 000 rows, drained by
#   `phony capture` into the job's raw Kafka topic (idempotent producer,
#   acks=all, local broker; the slot confirmed only on broker acks), and
#   `phony capture --sink null` (decode, assemble, ack, confirm),
# each from its own slot created before the workload; wall time, rows/s,
# CPU, peak RSS, and the ratio kafka/null (bar: >= 0.9).
#
#   bench/pg_capture_kafka_vs_null.sh [rows] [runs]
# Uses PostgreSQL 15 and Kafka from scripts/services.sh (started if needed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
rows="${1:-1000000}"
runs="${2:-1}"
. "$here/bench/lib.sh"
bench_common phony_kbench

ratios=()
run_id=0

one_run() {
  run_id=$((run_id + 1))
  local job="kbench$run_id$$"
  "${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  "${psql[@]}" -d "$db" -c "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2), created_at timestamptz, active boolean)" \
    -c "CREATE PUBLICATION bench_pub FOR TABLE items" >/dev/null
  cat >"$work/job.json" <<JSON
{"name": "$job", "source": {"type": "postgresql", "port": $PHONY_PG15_PORT, "database": "$db", "user": "postgres"},
 "target": {"type": "postgresql", "port": $PHONY_PG15_PORT, "database": "unused", "user": "postgres"},
 "kafka": {"brokers": "$PHONY_KAFKA_BROKERS"},
 "state": {"dir": "$work/state-$run_id"}, "anonymization": {"secret_ref": "env://PHONY_BENCH_SECRET"}}
JSON
  # Both slots (and the topics) exist before the workload.
  build/phony capture --config "$work/job.json" --sink null --slot s_null --publication bench_pub --stop-after-idle 1 2>/dev/null
  build/phony capture --config "$work/job.json" --slot s_kafka --publication bench_pub --stop-after-idle 1 2>/dev/null

  load_items psql "$db" "$rows"
  end_lsn="$("${psql[@]}" -d "$db" -c "SELECT pg_current_wal_lsn()")"
  echo "WAL end $end_lsn"

  run_null() { measure null-sink build/phony capture --config "$work/job.json" --sink null --slot s_null \
                 --publication bench_pub --stop-at-lsn "$end_lsn"; }
  run_kafka() { measure kafka build/phony capture --config "$work/job.json" --slot s_kafka \
                 --publication bench_pub --stop-at-lsn "$end_lsn"; }
  if [ $((run_id % 2)) -eq 1 ]; then run_null; run_kafka; else run_kafka; run_null; fi
  local msgs
  msgs=$(kcat -b "$PHONY_KAFKA_BROKERS" -Q -t "phony_internal.$job.raw:0:-1" 2>/dev/null | awk '{print $NF}' || echo "?")
  echo "raw topic phony_internal.$job.raw end offset: $msgs"
  local r
  r=$(echo "$null_sink_secs / $kafka_secs" | bc -l)
  printf 'ratio (kafka rate / null-sink rate): %.2f\n' "$r"
  ratios+=("$r")
  "${psql[@]}" -d "$db" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$db'" >/dev/null
  "${psql[@]}" -d postgres -c "DROP DATABASE $db WITH (FORCE)"
}
for _ in $(seq 1 "$runs"); do one_run; done
printf 'median ratio over %d runs: %.2f\n' "$runs" \
  "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
