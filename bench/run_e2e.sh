#!/usr/bin/env bash
# Issue #8's bars for `phony run`, on a private PostgreSQL 15 with fsync on
# (scripts/pg_server.sh; source and staging are two databases on it) and,
# for Kafka mode, a private broker (scripts/kafka_broker.sh):
#
#   bench/run_e2e.sh lag [seconds=60] ["embedded kafka"] ["5000 20000"]
#     End-to-end lag (source commit → visible in staging) at a sustained 5 000
#     and 20 000 row changes/s (pgbench -R, 20-row insert transactions into a
#     10-column table with three anonymized columns), embedded and on Kafka.
#     A poller reads max(id) in staging every 20 ms; a row's lag is the first
#     poll that sees it minus its source created_at (clock_timestamp() at the
#     insert, a few ms before the commit): p50, p99, max, peak RSS.
#     Defaults are the config's (tuned for throughput); for latency set
#     PHONY_BENCH_BATCH_DELAY_MS (apply.batch_delay_ms), PHONY_BENCH_TX_MS
#     (kafka.transaction_interval_ms) and PHONY_BENCH_LINGER_MS (kafka.linger_ms).
#   bench/run_e2e.sh throughput [rows=1000000]
#     The same backlog of rows (transactions of 1 000) drained by PostgreSQL's
#     own logical replication (CREATE SUBSCRIPTION, no anonymization; slot made
#     first, create_slot=false) and by phony run (embedded, anonymizing) into
#     a second database, one after the other in the same run; rows/s and the
#     ratio (bar ≥ 0.8), phony's peak RSS (bar ≤ 256 MB).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
what="${1:-lag}"
[ -x build/phony ] || scripts/build.sh
bin=/usr/lib/postgresql/15/bin
dir="$(mktemp -d /tmp/phony-run-bench.XXXXXX)"
chmod 755 "$dir"
cleanup() {
  pkill -f "phony run --config $dir" 2>/dev/null || true
  [ -d "$dir/broker" ] && scripts/kafka_broker.sh kill "$dir/broker" >/dev/null 2>&1 || true
  scripts/pg_server.sh stop "$dir/pg" >/dev/null 2>&1 || true
  [ -n "${PHONY_BENCH_KEEP:-}" ] && echo "kept $dir" >&2 || rm -rf "$dir"
}
trap cleanup EXIT
port="$(scripts/pg_server.sh start "$dir/pg")"
sed -i 's/^fsync = off/fsync = on/; s/^full_page_writes = off/full_page_writes = on/; s/^synchronous_commit = off/synchronous_commit = on/' \
  "$dir/pg/data/postgresql.conf"
printf 'wal_level = logical\nmax_replication_slots = 16\nmax_wal_senders = 16\n' >>"$dir/pg/data/postgresql.conf"
scripts/pg_server.sh stop "$dir/pg" && scripts/pg_server.sh start "$dir/pg" >/dev/null
psql=("$bin/psql" -X -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt)
export PHONY_SECRET=0123456789abcdef0123456789abcdef

table_sql="CREATE TABLE events (id bigserial PRIMARY KEY, account_id bigint NOT NULL, email text, full_name text,
  phone text, amount numeric(12,2), status text, payload jsonb, note text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp())"

# job NAME SRC DST [kafka-brokers]: writes $dir/NAME.json
job() {
  local kafka=""
  [ -n "${4:-}" ] && kafka="\"kafka\": {\"brokers\": \"$4\", \"internal_topic_prefix\": \"internal_$1\", \"topic_prefix\": \"public_$1\", \"transaction_interval_ms\": ${PHONY_BENCH_TX_MS:-1000}, \"linger_ms\": ${PHONY_BENCH_LINGER_MS:-20}},"
  cat >"$dir/$1.json" <<JSON
{"name": "$1", $kafka
 "source": {"type": "postgresql", "host": "127.0.0.1", "port": $port, "database": "$2", "user": "postgres"},
 "target": {"type": "postgresql", "host": "127.0.0.1", "port": $port, "database": "$3", "user": "postgres"},
 "state": {"dir": "$dir/state-$1"}, "snapshot": {"analyze": false},
 "apply": {"batch_delay_ms": ${PHONY_BENCH_BATCH_DELAY_MS:-500}},
 "anonymization": {"secret_ref": "env://PHONY_SECRET", "unlisted_columns": "keep", "locale": "en_US"},
 "tables": {"events": {"columns": {
   "email": {"transform": "ANONYMIZE", "generator": "email", "domain": "email", "unique": ${PHONY_BENCH_UNIQUE:-true}},
   "full_name": {"transform": "ANONYMIZE", "generator": "full_name"},
   "phone": {"transform": "MASK", "pattern": "+1 ### ### {last4}"}}}}}
JSON
}

insert_sql="INSERT INTO events (account_id, email, full_name, phone, amount, status, payload, note)
SELECT g, 'user' || g || '.' || random() || '@mail.example', 'Name ' || g, '+1 212 555 ' || lpad((g % 10000)::text, 4, '0'),
       g % 1000 + 0.5, 'new', '{\"k\": 1}', 'note' FROM generate_series(1, 20) g;"

peak_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
# CPU seconds the whole PostgreSQL server has used: the postmaster, its
# live children and the children it reaped (walsenders, apply workers and
# backends of both drains are all its children).
server_cpu() {
  local pm; pm="$(head -1 "$dir/pg/data/postmaster.pid")"
  local hz; hz="$(getconf CLK_TCK)"
  { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for c in $(pgrep -P "$pm"); do awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || true; done
  } | awk -v hz="$hz" '{t += $1} END {printf "%.1f", t / hz}'
}
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo "?"; }

# Starts phony run for job $1 in the background (pid in $run_pid), waits
# until it streams.
start_run() {
  build/phony run --config "$dir/$1.json" --quiet >"$dir/$1.log" 2>&1 &
  run_pid=$!
  for _ in $(seq 1 600); do
    grep -q "capture: streaming slot" "$dir/$1.log" 2>/dev/null && return 0
    kill -0 "$run_pid" 2>/dev/null || { cat "$dir/$1.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "phony run did not start streaming" >&2; exit 1
}

lag_round() {  # lag_round MODE RATE SECONDS
  local mode="$1" rate="$2" secs="$3" name="lag_${1}_$2" brokers=""
  "${psql[@]}" -c "DROP DATABASE IF EXISTS src_$name" -c "DROP DATABASE IF EXISTS dst_$name" \
    -c "CREATE DATABASE src_$name" -c "CREATE DATABASE dst_$name"
  "${psql[@]}" -d "src_$name" -c "$table_sql"
  if [ "$mode" = kafka ]; then
    [ -d "$dir/broker" ] || brokers_addr="$(scripts/kafka_broker.sh start "$dir/broker" 2>/dev/null)"
    brokers="$brokers_addr"
  fi
  job "$name" "src_$name" "dst_$name" "$brokers"
  start_run "$name"
  # Warm up: the table's schema reaches staging.
  "${psql[@]}" -d "src_$name" -c "$insert_sql"
  for _ in $(seq 1 300); do
    [ "$("${psql[@]}" -d "dst_$name" -c "SELECT count(*) FROM events" 2>/dev/null || echo 0)" = 20 ] && break
    sleep 0.1
  done
  echo "$insert_sql" >"$dir/insert.sql"
  # The poller: (time, max id visible in staging) every 20 ms.
  ( printf 'SELECT extract(epoch FROM clock_timestamp()), coalesce(max(id), 0) FROM events \\watch 0.02\n' |
      "$bin/psql" -X -h 127.0.0.1 -p "$port" -U postgres -qAt -F ' ' -d "dst_$name" >"$dir/$name.polls" 2>/dev/null ) &
  local poller=$!
  "$bin/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -f "$dir/insert.sql" -R $((rate / 20)) -T "$secs" -c 4 -j 2 \
    "src_$name" >"$dir/$name.pgbench" 2>&1 || { cat "$dir/$name.pgbench" >&2; exit 1; }
  local expected
  expected="$("${psql[@]}" -d "src_$name" -c "SELECT max(id) FROM events")"
  for _ in $(seq 1 600); do
    [ "$(tail -n 1 "$dir/$name.polls" | awk '{print $2}')" = "$expected" ] && break
    sleep 0.1
  done
  sleep 0.2
  kill "$poller" 2>/dev/null || true
  local rss; rss="$(peak_rss_mb "$run_pid")"
  kill -TERM "$run_pid"; wait "$run_pid" || true
  "${psql[@]}" -d "src_$name" -c "\\copy (SELECT id, extract(epoch FROM created_at) FROM events WHERE id > 10 ORDER BY id) TO '$dir/$name.rows'"
  local achieved; achieved="$(awk '/^tps/ {printf "%.0f", $3 * 20; exit}' "$dir/$name.pgbench")"
  python3 - "$dir/$name.rows" "$dir/$name.polls" "$mode" "$rate" "$achieved" "$rss" <<'PY'
import bisect, sys
rows = [tuple(map(float, l.split('\t'))) for l in open(sys.argv[1]) if l.strip()]
polls = []
for l in open(sys.argv[2]):
    p = l.split()
    if len(p) == 2:
        try: polls.append((float(p[0]), float(p[1])))
        except ValueError: pass
# max id seen is monotone in time; first poll seeing each id
times = [t for t, _ in polls]
seen = []
m = 0
for t, v in polls:
    m = max(m, v); seen.append(m)
lags = []
for rid, created in rows:
    i = bisect.bisect_left(seen, rid)
    if i < len(polls): lags.append(times[i] - created)
lags.sort()
def pct(q): return lags[min(len(lags) - 1, int(q * len(lags)))] * 1000
print(f"{sys.argv[3]:>8} {int(sys.argv[4]):>7} rows/s target, {sys.argv[5]:>6} achieved: lag p50 {pct(0.5):7.1f} ms  p99 {pct(0.99):7.1f} ms  max {lags[-1]*1000:7.1f} ms  ({len(lags)} rows)  peak RSS {sys.argv[6]} MB")
PY
}

throughput() {
  local rows="$1"
  "${psql[@]}" -c "CREATE DATABASE tsrc" -c "CREATE DATABASE tnative" -c "CREATE DATABASE tphony"
  "${psql[@]}" -d tsrc -c "$table_sql"
  "${psql[@]}" -d tnative -c "$table_sql"
  job tput tsrc tphony
  [ -n "${PHONY_BENCH_ASYNC_STAGING:-}" ] && "${psql[@]}" -c "ALTER DATABASE tphony SET synchronous_commit = off"
  # phony's slot and staging table (the snapshot of the empty table).
  build/phony run --config "$dir/tput.json" --quiet --stop-after-idle 2 >"$dir/tput-init.log" 2>&1 || { cat "$dir/tput-init.log" >&2; exit 1; }
  # PostgreSQL's own: the slot first (same-server subscriptions need it), then a disabled subscription.
  "${psql[@]}" -d tsrc -c "CREATE PUBLICATION native_pub FOR TABLE events" \
    -c "SELECT pg_create_logical_replication_slot('native_slot', 'pgoutput')" >/dev/null
  "${psql[@]}" -d tnative -c "CREATE SUBSCRIPTION native_sub CONNECTION 'host=127.0.0.1 port=$port user=postgres dbname=tsrc'
    PUBLICATION native_pub WITH (create_slot = false, slot_name = 'native_slot', copy_data = false, enabled = false)"
  echo "the backlog: $rows rows in transactions of 1000..."
  "${psql[@]}" -d tsrc -c "CREATE PROCEDURE load(n bigint) LANGUAGE plpgsql AS \$\$
    BEGIN FOR b IN 0..(n - 1) / 1000 LOOP
      INSERT INTO events (account_id, email, full_name, phone, amount, status, payload, note)
      SELECT g, 'user' || g || '@mail.example', 'Name ' || g, '+1 212 555 ' || lpad((g % 10000)::text, 4, '0'),
             g % 1000 + 0.5, 'new', '{\"k\": 1}', 'note' FROM generate_series(b * 1000 + 1, least((b + 1) * 1000, n)) g;
      COMMIT; END LOOP; END \$\$" -c "CALL load($rows)"
  local start end native phony server0 native_server="?"
  # Each drain starts from a checkpoint, and autovacuum stays off the copies:
  # otherwise the second drain pays for the first one's checkpoint and the
  # vacuum of its million new rows.
  "${psql[@]}" -d tnative -c "ALTER TABLE events SET (autovacuum_enabled = off)"
  "${psql[@]}" -d tphony -c "ALTER TABLE events SET (autovacuum_enabled = off)"
  "${psql[@]}" -c "CHECKPOINT"
  # PHONY_BENCH_SKIP_NATIVE=SECONDS: reuse that native time (phony-only experiments).
  if [ -n "${PHONY_BENCH_SKIP_NATIVE:-}" ]; then
    native="$PHONY_BENCH_SKIP_NATIVE"
  else
    server0="$(server_cpu)"
    start=$(date +%s.%N)
    "${psql[@]}" -d tnative -c "ALTER SUBSCRIPTION native_sub ENABLE"
    until [ "$("${psql[@]}" -d tnative -c "SELECT count(*) FROM events")" = "$rows" ]; do sleep 0.2; done
    end=$(date +%s.%N)
    native=$(echo "$end - $start" | bc -l)
    native_server="$(echo "$(server_cpu) - $server0" | bc -l)"
    "${psql[@]}" -d tnative -c "ALTER SUBSCRIPTION native_sub DISABLE"
  fi
  "${psql[@]}" -c "CHECKPOINT"
  server0="$(server_cpu)"
  start=$(date +%s.%N)
  LD_PRELOAD="${PHONY_BENCH_PRELOAD:-}" build/phony run --config "$dir/tput.json" --quiet >"$dir/tput.log" 2>&1 &
  run_pid=$!
  # PHONY_BENCH_PERF=FILE: a perf profile of phony while it drains, its report in FILE
  # (PHONY_BENCH_PERF_CALLGRAPH=dwarf for callers; the build has no frame pointers).
  local perf_pid=""
  if [ -n "${PHONY_BENCH_PERF:-}" ]; then
    sleep 1  # perf -p follows the threads that exist when it attaches: the stages' start in the first second
    perf record -F 499 --call-graph "${PHONY_BENCH_PERF_CALLGRAPH:-fp}" -p "$run_pid" -o "$dir/perf.data" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  until [ "$("${psql[@]}" -d tphony -c "SELECT count(*) FROM events")" = "$rows" ]; do
    kill -0 "$run_pid" 2>/dev/null || { cat "$dir/tput.log" >&2; exit 1; }
    sleep 0.2
  done
  end=$(date +%s.%N)
  phony=$(echo "$end - $start" | bc -l)
  local rss; rss="$(peak_rss_mb "$run_pid")"
  local cpu; cpu="$(cpu_seconds "$run_pid")"
  local phony_server; phony_server="$(echo "$(server_cpu) - $server0" | bc -l)"
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    { perf report -i "$dir/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null | grep -v "^$"
      perf report -i "$dir/perf.data" --no-children --percent-limit 0.7 --stdio 2>/dev/null | grep -v "^$"
    } >"$PHONY_BENCH_PERF" || true
    cp "$dir/perf.data" "$PHONY_BENCH_PERF.data"  # for more reports
  fi
  kill -TERM "$run_pid"; wait "$run_pid" || true
  # Server CPU: what the drain cost PostgreSQL (walsender decoding, the
  # apply worker or phony's staging session, checkpoints); two cores in all.
  printf 'CREATE SUBSCRIPTION (no anonymization) %8.2f s  %8.0f rows/s  server CPU %s s\n' "$native" \
    "$(echo "$rows / $native" | bc -l)" "$native_server"
  printf 'phony run (embedded, anonymizing)      %8.2f s  %8.0f rows/s  peak RSS %s MB  phony CPU %s s  server CPU %.1f s\n' \
    "$phony" "$(echo "$rows / $phony" | bc -l)" "$rss" "$cpu" "$phony_server"
  printf 'ratio phony / native: %.2f (bar >= 0.8)\n' "$(echo "$native / $phony" | bc -l)"
  "${psql[@]}" -d tnative -c "DROP SUBSCRIPTION native_sub" >/dev/null 2>&1 || true
}

case "$what" in
  lag)
    secs="${2:-60}"
    for mode in ${3:-embedded kafka}; do
      for rate in ${4:-5000 20000}; do lag_round "$mode" "$rate" "$secs"; done
    done ;;
  throughput) throughput "${2:-1000000}" ;;
  *) echo "usage: $0 lag [seconds] | throughput [rows]" >&2; exit 2 ;;
esac
