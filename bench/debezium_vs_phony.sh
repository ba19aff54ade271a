#!/usr/bin/env bash
# Issue #4's Debezium bar, side by side in one run: the same PostgreSQL
# workload (N rows in transactions of 1 000, default 1M) captured into the
# same local broker by
#   phony capture (the job's raw topic, idempotent producer, acks=all), and
#   Debezium 3.6.1's embedded engine (Java 17, pgoutput, each change event
#   sent with a KafkaProducer acks=all, idempotent, lz4; bench/debezium/),
# each from its own slot created before the workload. Prints wall time,
# events/s, CPU seconds per million events and peak RSS for both, and the
# ratios the issue sets (CPU/event <= 1/5 of Debezium's, events/s >=
# Debezium's, peak RSS <= 1/4).
#
#   bench/debezium_vs_phony.sh [rows] [runs]
# Fetches Debezium's jars with Maven into .cache/ on first use. The JVM runs
# with DEBEZIUM_JAVA_OPTS (default -Xmx1g).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
rows="${1:-1000000}"
runs="${2:-1}"
libs="$here/.cache/debezium-3.6.1/libs"
classes="$here/.cache/debezium-bench-classes"
if [ ! -f "$libs/.complete" ]; then
  mkdir -p "$libs"
  mvn -q -B -f bench/debezium/pom.xml -Dmaven.repo.local="$here/.cache/m2" dependency:copy-dependencies \
    -DoutputDirectory="$libs" -DincludeScope=runtime
  touch "$libs/.complete"
fi
command -v javac >/dev/null || {
  echo "bench/debezium_vs_phony.sh compiles its Java harness: install a JDK (apt-get install -y openjdk-17-jdk-headless)" >&2
  exit 2
}
mkdir -p "$classes"
javac -d "$classes" -cp "$libs/*" bench/debezium/DebeziumBench.java
. "$here/bench/lib.sh"
bench_common phony_dbzbench

cpu() { awk '{print $2 + $3}' "$work/$1.time"; }
rss_mb() { awk '{print $1 / 1024}' "$work/$1.time"; }

run_id=0
one_run() {
  run_id=$((run_id + 1))
  local job="dbzbench$run_id$$"
  "${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  "${psql[@]}" -d "$db" -c "CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2), created_at timestamptz, active boolean)" \
    -c "CREATE PUBLICATION bench_pub FOR TABLE items" \
    -c "SELECT pg_create_logical_replication_slot('dbz_$run_id', 'pgoutput')" >/dev/null
  cat >"$work/job.json" <<JSON
{"name": "$job", "source": {"type": "postgresql", "port": $PHONY_PG15_PORT, "database": "$db", "user": "postgres"},
 "target": {"type": "postgresql", "port": $PHONY_PG15_PORT, "database": "unused", "user": "postgres"},
 "kafka": {"brokers": "$PHONY_KAFKA_BROKERS"},
 "state": {"dir": "$work/state-$run_id"}, "anonymization": {"secret_ref": "env://PHONY_BENCH_SECRET"}}
JSON
  build/phony capture --config "$work/job.json" --slot s_phony --publication bench_pub --stop-after-idle 1 2>/dev/null

  load_items psql "$db" "$rows"
  end_lsn="$("${psql[@]}" -d "$db" -c "SELECT pg_current_wal_lsn()")"

  run_phony() { measure phony build/phony capture --config "$work/job.json" --slot s_phony \
                  --publication bench_pub --stop-at-lsn "$end_lsn"; }
  run_dbz() {
    # shellcheck disable=SC2086
    measure debezium java ${DEBEZIUM_JAVA_OPTS:--Xmx1g} -cp "$libs/*:$classes" DebeziumBench 127.0.0.1 \
      "$PHONY_PG15_PORT" "$db" "dbz_$run_id" bench_pub "$PHONY_KAFKA_BROKERS" "$job" "$rows"
  }
  if [ $((run_id % 2)) -eq 1 ]; then run_phony; run_dbz; else run_dbz; run_phony; fi
  grep -h "debezium harness" "$work/debezium.err" || true
  local pc dc
  pc=$(cpu phony); dc=$(cpu debezium)
  printf 'CPU s per 1M events: phony %.2f, Debezium %.2f (phony/Debezium %.3f; bar <= 0.2)\n' \
    "$(echo "$pc * 1000000 / $rows" | bc -l)" "$(echo "$dc * 1000000 / $rows" | bc -l)" "$(echo "$pc / $dc" | bc -l)"
  printf 'events/s ratio phony/Debezium: %.2f (bar >= 1)\n' "$(echo "$debezium_secs / $phony_secs" | bc -l)"
  printf 'peak RSS: phony %.1f MB, Debezium %.1f MB (phony/Debezium %.3f; bar <= 0.25)\n' \
    "$(rss_mb phony)" "$(rss_mb debezium)" "$(echo "$(rss_mb phony) / $(rss_mb debezium)" | bc -l)"
  "${psql[@]}" -d "$db" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$db'" >/dev/null
  "${psql[@]}" -d postgres -c "DROP DATABASE $db WITH (FORCE)"
}
for _ in $(seq 1 "$runs"); do one_run; done
