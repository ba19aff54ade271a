#!/usr/bin/env bash
# Issue #5's Kafka stage bar: N change events (default 1M rows committed in
# transactions of 1 000) with three PII columns (email, full name, phone)
# captured into the job's raw topic, then `phony transform` (exactly once:
# consume, anonymize, produce to the anonymized topic and the public
# per-table topic, offsets in the same Kafka transaction) timed from start
# to the end of the raw topic. Broker on the same machine. Bar: >= 50 k
# events/s. Prints wall time, events/s, CPU and peak RSS.
#
#   bench/transform_kafka.sh [rows] [--no-public]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
rows="${1:-1000000}"
extra="${2:-}"
. "$here/bench/lib.sh"
bench_common phony_xbench
job="xbench$$"
"${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
"${psql[@]}" -d "$db" -c "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, phone text, score int)"
cat >"$work/job.json" <<JSON
{"name": "$job", "source": {"type": "postgresql", "port": $PHONY_PG15_PORT, "database": "$db", "user": "postgres"},
 "target": {"type": "postgresql", "port": $PHONY_PG15_PORT, "database": "unused", "user": "postgres"},
 "kafka": {"brokers": "$PHONY_KAFKA_BROKERS", "transactions": true},
 "state": {"dir": "$work/state"},
 "anonymization": {"secret_ref": "env://PHONY_BENCH_SECRET", "locale": "en_US"},
 "tables": {"users": {"columns": {
   "id": {"transform": "KEEP"}, "score": {"transform": "KEEP"},
   "email": {"transform": "ANONYMIZE", "generator": "email", "unique": true},
   "name": {"transform": "ANONYMIZE", "generator": "full_name"},
   "phone": {"transform": "ANONYMIZE", "generator": "phone"}}}}}
JSON
build/phony capture --config "$work/job.json" --stop-after-idle 1 2>/dev/null
echo "loading $rows rows in transactions of 1000..."
"${psql[@]}" -d "$db" -c "CREATE PROCEDURE load(n bigint) LANGUAGE plpgsql AS \$\$
  BEGIN FOR b IN 0..(n - 1) / 1000 LOOP
    INSERT INTO users SELECT g, 'person' || g || '@corp.example', 'First' || g || ' Last' || g,
      '+1 212 555 ' || lpad((g % 10000)::text, 4, '0'), g % 100
      FROM generate_series(b * 1000 + 1, least((b + 1) * 1000, n)) g;
    COMMIT; END LOOP; END \$\$" -c "CALL load($rows)"
echo "capturing into the raw topic..."
build/phony capture --config "$work/job.json" --stop-after-idle 2 2>"$work/capture.err"
events=$(kcat -b "$PHONY_KAFKA_BROKERS" -Q -t "phony_internal.$job.raw:0:-1" 2>/dev/null | awk '{print $NF}')
echo "raw topic: $events events"
rows="$events"  # measure reports per event
# --stop-after-idle 2: the idle tail is subtracted below.
# PHONY_PERF=FILE records a perf profile of the stage into FILE.
wrap=()
[ -n "${PHONY_PERF:-}" ] && wrap=(perf record -F 999 -g -o "$PHONY_PERF")
measure transform "${wrap[@]}" build/phony transform --config "$work/job.json" --stop-after-idle 2 $extra
out=$(kcat -b "$PHONY_KAFKA_BROKERS" -Q -t "phony_internal.$job.anonymized:0:-1" 2>/dev/null | awk '{print $NF}')
echo "anonymized topic end offset: $out (transaction markers included)"
busy=$(echo "$transform_secs - 2" | bc -l)
printf 'events/s over the whole run (start-up included, the 2 s idle stop excluded): %.0f\n' "$(echo "$events / $busy" | bc -l)"
grep -o '[0-9.]* s from the first event to the last ([0-9]* events/s)' "$work/transform.err" | sed 's/^/steady state: /'
echo "(bar: >= 50000 events/s)"
"${psql[@]}" -d "$db" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '$db'" >/dev/null
"${psql[@]}" -d postgres -c "DROP DATABASE $db WITH (FORCE)"
