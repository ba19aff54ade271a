#!/usr/bin/env bash
# Issue #9's decode bar, measured side by side in one run on the same file:
#   "Decode throughput on a binlog of ≥ 1M row events written by MariaDB:
#    ≥ 2 M row events/s on one core."
# Writes N rows (default 1 000 000) into a 10-column orders table on MariaDB
# 10.11 (ROW binlog, FULL image, FULL metadata) in transactions of 1 000,
# rotates the binlog, then on the same core (taskset -c $PHONY_BENCH_CPU,
# default 1) runs build-bench/bench/binlog_decode_bench over the file held in
# memory and times `mariadb-binlog --base64-output=decode-rows -vv FILE
# >/dev/null` on it (the page cache warmed first). Prints rows per CPU
# second of both, the ratio and the bar.
#
#   bench/binlog_decode.sh [rows]
# A private server in a temporary directory (removed on exit) by default;
# PHONY_BENCH_REUSE_SERVICES=1 uses the MariaDB of build/services.env instead
# (its binlog may then also hold whatever other clients write meanwhile).
# PHONY_BENCH_KEEP=DIR copies the binlog file(s) to DIR for later runs.
# Ours is the median of PHONY_BENCH_REPETITIONS (default 3) repetitions.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
rows="${1:-1000000}"
cpu="${PHONY_BENCH_CPU:-1}"
reps="${PHONY_BENCH_REPETITIONS:-3}"
db=phony_bench_binlog
command -v mariadbd >/dev/null || { echo "MariaDB is not installed: run scripts/install.sh" >&2; exit 1; }

cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPHONY_BUILD_BENCH=ON -DPHONY_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j 2 --target binlog_decode_bench >/dev/null

work="$(mktemp -d /tmp/phony-binlog-bench.XXXXXX)"
chmod 755 "$work"
server_pid=""
reuse="${PHONY_BENCH_REUSE_SERVICES:-0}"
mysql=()
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$server_pid" 2>/dev/null || true
  elif [ "$reuse" = 1 ] && [ "${#mysql[@]}" -gt 0 ]; then
    "${mysql[@]}" -e "DROP DATABASE IF EXISTS $db" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$reuse" = 1 ]; then
  [ -f build/services.env ] && grep -q PHONY_MARIADB_PORT build/services.env ||
    { echo "build/services.env has no MariaDB: scripts/services.sh start mariadb" >&2; exit 1; }
  set -a; . build/services.env; set +a
  mysql=(mariadb --no-defaults -h "$PHONY_MARIADB_HOST" -P "$PHONY_MARIADB_PORT" -u "$PHONY_MARIADB_USER"
         "-p$PHONY_MARIADB_PASSWORD" -N -B)
else
  # As scripts/services.sh start_mariadb does: MariaDB refuses to run as
  # root, so as root it runs as `mysql`.
  dbuser=mysql; [ "$(id -u)" -eq 0 ] || dbuser="$(id -un)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  sock="$work/m/mysqld.sock"
  mkdir -p "$work/m/data"
  [ "$(id -u)" -eq 0 ] && chown -R mysql:mysql "$work/m"
  mariadb-install-db --no-defaults --user="$dbuser" --datadir="$work/m/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; exit 1; }
  setsid mariadbd --no-defaults --user="$dbuser" --datadir="$work/m/data" --socket="$sock" \
    --port="$port" --bind-address=127.0.0.1 --pid-file="$work/m/mariadbd.pid" \
    --log-error="$work/m/error.log" --server-id=1 --log-bin=mariadb-bin --max-binlog-size=1G \
    --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
    --innodb-buffer-pool-size=512M --innodb-log-file-size=256M --innodb-flush-log-at-trx-commit=2 \
    --skip-name-resolve </dev/null >/dev/null 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    mariadb-admin --no-defaults -uroot -S "$sock" ping >/dev/null 2>&1 && break
    sleep 0.3
  done
  mariadb-admin --no-defaults -uroot -S "$sock" ping >/dev/null 2>&1 ||
    { tail -20 "$work/m/error.log" >&2; exit 1; }
  mysql=(mariadb --no-defaults -uroot -S "$sock" -N -B)
fi

"${mysql[@]}" <<SQL
DROP DATABASE IF EXISTS $db;
CREATE DATABASE $db;
CREATE TABLE $db.orders (
  id bigint PRIMARY KEY, account_id bigint, email varchar(255), full_name varchar(255), phone varchar(32),
  amount decimal(12,2), status varchar(16), payload json, note text, created_at datetime(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
DELIMITER //
CREATE PROCEDURE $db.load_orders(n bigint)
BEGIN
  DECLARE b bigint DEFAULT 0;
  WHILE b * 1000 < n DO
    START TRANSACTION;
    INSERT INTO $db.orders
      SELECT i, i % 5000, CONCAT('customer', i, '@mail.example'), CONCAT('Firstname Lastname ', i),
             CONCAT('+1 212 555 ', LPAD(i % 10000, 4, '0')), (i * 7919 % 10000000) / 100,
             ELT(1 + i % 4, 'new', 'paid', 'shipped', 'refunded'),
             JSON_OBJECT('sku', CONCAT('SKU-', i % 1000), 'qty', 1 + i % 9, 'gift', i % 7 = 0,
                         'tags', JSON_ARRAY('web', 'priority')),
             CONCAT('delivery note for order ', i, ': leave the parcel at the door'),
             TIMESTAMP'2024-01-01 00:00:00' + INTERVAL i SECOND + INTERVAL i % 1000000 MICROSECOND
      FROM (SELECT b * 1000 + seq AS i FROM seq_1_to_1000) s WHERE i <= n;
    COMMIT;
    SET b = b + 1;
  END WHILE;
END//
DELIMITER ;
SQL
# The load gets binlog files of its own: rotate before and after it.
"${mysql[@]}" -e "FLUSH BINARY LOGS"
datadir="$("${mysql[@]}" -e "SELECT @@datadir")"
first="$("${mysql[@]}" -e "SHOW MASTER STATUS" | cut -f1)"
echo "loading $rows rows in transactions of 1000..."
start=$(date +%s.%N)
"${mysql[@]}" -e "CALL $db.load_orders($rows)"
echo "loaded in $(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc -l)") s"
"${mysql[@]}" -e "FLUSH BINARY LOGS"
last="$("${mysql[@]}" -e "SHOW MASTER STATUS" | cut -f1)"
files=()
while read -r name _; do
  if [[ "$name" > "$first" || "$name" == "$first" ]] && [[ "$name" < "$last" ]]; then files+=("$datadir/$name"); fi
done < <("${mysql[@]}" -e "SHOW BINARY LOGS")
[ "${#files[@]}" -gt 0 ] || { echo "no binlog file between $first and $last" >&2; exit 1; }
# Issue #9's streaming bar, on the same files while the server runs:
#   "Streaming and decoding that binlog from the server to a null sink:
#    >= 3x the rate of mariadb-binlog --read-from-remote-server
#    --base64-output=decode-rows -vv to /dev/null", with the raw copy
# (--raw) as the transfer limit. Not pinned: the server shares the cores.
cmake --build build-bench -j 2 --target binlog_stream >/dev/null
if [ "$reuse" = 1 ]; then
  s_host="$PHONY_MARIADB_HOST"; s_port="$PHONY_MARIADB_PORT"; s_user="$PHONY_MARIADB_USER"; s_pass="$PHONY_MARIADB_PASSWORD"
else
  "${mysql[@]}" -e "CREATE USER IF NOT EXISTS phony_bench@'%' IDENTIFIED BY 'phony_bench';
    GRANT REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR ON *.* TO phony_bench@'%'"
  s_host=127.0.0.1; s_port="$port"; s_user=phony_bench; s_pass=phony_bench
fi
names=(); for f in "${files[@]}"; do names+=("$(basename "$f")"); done
echo "== streaming from the server: phony (replica client + decoder, null sink)"
read -r s_rows _ s_bytes s_secs s_rate s_mbs < <(build-bench/bench/binlog_stream "$s_host" "$s_port" "$s_user" "$s_pass" \
  "${names[0]}" "$last")
printf 'phony stream:             %10.0f rows/s  %7.1f MB/s  (%s rows in %.2f s)\n' "$s_rate" "$s_mbs" "$s_rows" "$s_secs"
remote=(mariadb-binlog --read-from-remote-server -h "$s_host" -P "$s_port" -u "$s_user" "-p$s_pass")
start=$(date +%s.%N)
"${remote[@]}" --base64-output=decode-rows -vv "${names[@]}" >/dev/null
m_secs="$(echo "$(date +%s.%N) - $start" | bc -l)"
printf 'mariadb-binlog remote -vv: %9.0f rows/s  (%.2f s)\n' "$(echo "$s_rows / $m_secs" | bc -l)" "$m_secs"
mkdir -p "$work/raw"
start=$(date +%s.%N)
"${remote[@]}" --raw --result-file="$work/raw/" "${names[@]}"
r_secs="$(echo "$(date +%s.%N) - $start" | bc -l)"
printf 'mariadb-binlog remote --raw: %7.1f MB/s  (%.2f s; the transfer limit)\n' \
  "$(echo "$s_bytes / $r_secs / 1000000" | bc -l)" "$r_secs"
rm -rf "$work/raw"
printf 'streaming ratio phony / mariadb-binlog -vv: %.2f (bar >= 3)\n' "$(echo "$m_secs / $s_secs" | bc -l)"

# Copy the files out: the server can be stopped (private) and keeps nothing busy.
mkdir -p "$work/binlog"
cp "${files[@]}" "$work/binlog/"
bench_files=()
for f in "${files[@]}"; do bench_files+=("$work/binlog/$(basename "$f")"); done
if [ -n "$server_pid" ]; then
  mariadb-admin --no-defaults -uroot -S "$sock" shutdown >/dev/null 2>&1 || true
  for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
  server_pid=""
fi
if [ -n "${PHONY_BENCH_KEEP:-}" ]; then mkdir -p "$PHONY_BENCH_KEEP"; cp "${bench_files[@]}" "$PHONY_BENCH_KEEP/"; fi
bytes=$(cat "${bench_files[@]}" | wc -c)
printf 'binlog: %s (%.1f MB)\n' "$(basename -a "${bench_files[@]}" | paste -sd' ')" "$(echo "$bytes / 1000000" | bc -l)"
cat "${bench_files[@]}" >/dev/null  # page cache, for mariadb-binlog

uptime
echo "== phony (binlog_decode_bench, file in memory, cpu $cpu)"
PHONY_BENCH_BINLOG="$(IFS=:; echo "${bench_files[*]}")" taskset -c "$cpu" build-bench/bench/binlog_decode_bench \
  --benchmark_repetitions="$reps" --benchmark_display_aggregates_only=true \
  --benchmark_out="$work/bench.json" --benchmark_out_format=json
read -r decoded ours < <(python3 - "$work/bench.json" <<'PY'
import json, sys
runs = [x for x in json.load(open(sys.argv[1]))["benchmarks"] if x["name"].startswith("BM_DecodeFile/")]
b = next((x for x in runs if x.get("aggregate_name") == "median"), runs[0])  # one repetition: no aggregates
if b["real_time"] > 1.1 * b["cpu_time"]:
    print("warning: BM_DecodeFile's wall time exceeds its CPU time by over 10%: the core was shared", file=sys.stderr)
print(int(b["rows"]), b["items_per_second"])
PY
)

echo "== mariadb-binlog --base64-output=decode-rows -vv (cpu $cpu)"
rows="$decoded"
. "$here/bench/lib.sh"
measure mariadb-binlog taskset -c "$cpu" mariadb-binlog --no-defaults --base64-output=decode-rows -vv "${bench_files[@]}"
# Google Benchmark's rates are per CPU second: take mariadb-binlog's CPU
# seconds too (the same as wall on an idle core; a gap means the core was shared).
read -r _ peer_user peer_sys <"$work/mariadb-binlog.time"
peer_cpu=$(echo "$peer_user + $peer_sys" | bc -l)
peer=$(echo "$rows / $peer_cpu" | bc -l)
if [ "$(echo "$mariadb_binlog_secs > 1.1 * $peer_cpu" | bc -l)" = 1 ]; then
  echo "warning: mariadb-binlog's wall time exceeds its CPU time by over 10%: another process shared cpu $cpu" >&2
fi

printf '\nrows %d, binlog %.1f MB\n' "$decoded" "$(echo "$bytes / 1000000" | bc -l)"
printf 'phony BM_DecodeFile  %12.0f rows/s (per CPU second, median of %d)\n' "$ours" "$reps"
printf 'mariadb-binlog -vv   %12.0f rows/s (per CPU second)\n' "$peer"
printf 'ratio (phony / mariadb-binlog): %.2f\n' "$(echo "$ours / $peer" | bc -l)"
if [ "$(echo "$ours >= 2000000" | bc -l)" = 1 ]; then verdict=met; else verdict=missed; fi
[ "$decoded" -ge 1000000 ] || verdict="$verdict (but the file holds fewer than 1M rows)"
echo "issue #9 bar (>= 2 M row events/s on one core): $verdict"
