#!/usr/bin/env bash
# Issue #9's snapshot bar: `phony snapshot` (anonymizing) against
# `mariadb-dump | mariadb` (no anonymization) copying the same database into
# an empty one, in one run, on a private MariaDB 10.11
# (scripts/mariadb_server.sh: durable InnoDB settings as shipped, plus the
# ROW binlog a CDC source has, which phony snapshot reads its cut's position
# from; neither copy writes into it: phony turns sql_log_bin off on its
# staging sessions, the dump's loader gets the same through --init-command):
#   "MariaDB → MariaDB snapshot of the generated ~1 GB schema vs
#    mariadb-dump | mariadb: ratio ≤ 1.3"
#
#   bench/snapshot_vs_mariadb_dump.sh [scale=21] [rounds=2]
#
# Loads `src` with bench/datagen/my_ecommerce.sql at SCALE, then alternates
# ROUNDS times (each into freshly dropped and created databases):
#   mariadb-dump --single-transaction --quick src | mariadb dump_dst
#   build/phony snapshot: src -> phony_dst on the same server, every PII
#     column of config/examples/ecommerce.json anonymized, 2 workers, ANALYZE
#     off (mariadb-dump | mariadb runs none)
# timed from command start to data and indexes in place, and checks after
# each copy that every table holds as many rows as in src (and after
# phony's that no email of src.users is left in phony_dst.users). Prints
# seconds, MB/s (of src on disk), rows/s and peak RSS (of the client side:
# the server's memory is shared) for both, and the ratio of the best times.
#
# PHONY_BENCH_SKIP_PHONY=1 times the load and mariadb-dump | mariadb only.
# PHONY_BENCH_DUMP_OPTS adds options to mariadb-dump (e.g. --no-autocommit).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scale="${1:-21}"
rounds="${2:-${ROUNDS:-2}}"
skip_phony="${PHONY_BENCH_SKIP_PHONY:-0}"
[[ "$scale" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "usage: $0 [scale=21] [rounds=2]" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [scale=21] [rounds=2]" >&2; exit 2; }
command -v mariadbd >/dev/null || { echo "MariaDB is not installed: run scripts/install.sh" >&2; exit 1; }
[ "$skip_phony" = 1 ] || [ -x build/phony ] || scripts/build.sh

dir="$(mktemp -d /tmp/phony-mariadb-snapshot-bench.XXXXXX)"
chmod 755 "$dir"
trap 'scripts/mariadb_server.sh stop "$dir/m" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
port="$(scripts/mariadb_server.sh start "$dir/m" --server-id=1 --log-bin=mariadb-bin --binlog-format=ROW \
  --binlog-row-image=FULL --binlog-row-metadata=FULL)"
client=(--no-defaults -h 127.0.0.1 -P "$port" -u root --default-character-set=utf8mb4)
q() { mariadb "${client[@]}" -N -B "$@"; }
q -e "CREATE DATABASE src CHARACTER SET utf8mb4"

echo "loading the ecommerce database at scale $scale..."
start=$(date +%s.%N)
mariadb "${client[@]}" --init-command="SET @scale = $scale, sql_log_bin = 0" src <bench/datagen/my_ecommerce.sql >/dev/null
printf 'loaded in %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc -l)"
settle() {  # InnoDB's dirty pages written out (as the PostgreSQL script's CHECKPOINT), at most 5 min
  q -e "SET GLOBAL innodb_max_dirty_pages_pct = 0"
  for _ in $(seq 1 600); do
    [ "$(q -e "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | cut -f2)" -lt 100 ] && break
    sleep 0.5
  done
  q -e "SET GLOBAL innodb_max_dirty_pages_pct = DEFAULT"
}
settle

tables=$(q -e "SELECT table_name FROM information_schema.tables WHERE table_schema = 'src' AND table_type = 'BASE TABLE' ORDER BY table_name")
count_rows() {  # DB: "table<TAB>rows" per table of src, exact
  local sql="" t
  for t in $tables; do sql+="${sql:+ UNION ALL }SELECT '$t', COUNT(*) FROM \`$1\`.\`$t\`"; done
  q -e "$sql"
}
count_rows src >"$dir/src.counts"
rows=$(awk '{ s += $2 } END { print s }' "$dir/src.counts")
size_mb=$(echo "$(du -sb "$dir/m/data/src" | cut -f1) / 1048576" | bc -l)
data_mb=$(q -e "SELECT SUM(data_length + index_length) / 1048576 FROM information_schema.tables WHERE table_schema = 'src'")
printf 'source: %.0f MB on disk (%.0f MB data + indexes), %d rows:' "$size_mb" "$data_mb" "$rows"
awk '{ printf " %s %d", $1, $2 } END { print "" }' "$dir/src.counts"

verify() {  # DB: every table of src holds as many rows in DB, or the run fails
  if ! count_rows "$1" >"$dir/$1.counts" 2>"$dir/$1.err"; then
    echo "FAILED: counting the rows of $1: $(grep ERROR "$dir/$1.err")" >&2
    exit 1
  fi
  if ! diff "$dir/src.counts" "$dir/$1.counts" >"$dir/$1.diff"; then
    echo "FAILED: the tables of $1 do not hold the rows of src (< src, > $1):" >&2
    cat "$dir/$1.diff" >&2
    exit 1
  fi
}

export PHONY_SECRET=0123456789abcdef0123456789abcdef
python3 - "$dir" "$port" <<'PY'
import json, sys
d, port = sys.argv[1], int(sys.argv[2])
c = json.load(open("config/examples/ecommerce.json"))
c["name"] = "bench-mariadb"
# No password_ref: root has none over loopback (scripts/mariadb_server.sh).
c["source"] = {"type": "mariadb", "host": "127.0.0.1", "port": port, "database": "src", "user": "root"}
c["target"] = {"type": "mariadb", "host": "127.0.0.1", "port": port, "database": "phony_dst", "user": "root"}
c["state"] = {"dir": d + "/state"}
c["snapshot"] = {"workers": 2, "analyze": False}
# The column names of bench/datagen/my_ecommerce.sql are those of
# pg_ecommerce.sql: the example's table rules apply as they are.
json.dump(c, open(d + "/job.json", "w"), indent=1)
PY

. "$here/bench/lib.sh"
run() { copy_run "$@"; }
report() { copy_report "$1" 28; }
recreate() {  # DB: dropped and created empty, then the server settled
  q -e "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4"
  settle
}

dump="mariadb-dump ${client[*]} --single-transaction --quick --skip-routines --skip-triggers ${PHONY_BENCH_DUMP_OPTS:-} src"
load="mariadb ${client[*]} --init-command='SET sql_log_bin = 0' dump_dst"
# Alternate the two, several rounds (the disk makes single runs noisy); best of each.
best_dump=1e9; best_phony=1e9
for round in $(seq 1 "$rounds"); do
  recreate dump_dst
  run dump "$dump | $load"
  report "mariadb-dump | mariadb (#$round)"
  best_dump=$(awk -v a="$secs" -v b="$best_dump" 'BEGIN { print (a < b) ? a : b }')
  verify dump_dst
  [ "$skip_phony" = 1 ] && continue
  # phony's bookkeeping on a MariaDB target lives in the `phony` database.
  q -e "DROP DATABASE IF EXISTS phony"
  recreate phony_dst
  rm -rf "$dir/state"
  run phony "build/phony snapshot --config '$dir/job.json' --quiet"
  report "phony snapshot (#$round)"
  best_phony=$(awk -v a="$secs" -v b="$best_phony" 'BEGIN { print (a < b) ? a : b }')
  grep -E "^run|problem" "$dir/phony.out" || true
  verify phony_dst
  # and anonymized: no source email left in staging (a unique-key join)
  kept=$(q -e "SELECT COUNT(*) FROM phony_dst.users d JOIN src.users s ON s.email = d.email")
  [ "$kept" = 0 ] || { echo "FAILED: $kept emails of src.users are in phony_dst.users" >&2; exit 1; }
done
if [ "$skip_phony" = 1 ]; then
  echo "checked after each copy: every table holds the rows of src"
  printf 'best of %d: mariadb-dump | mariadb %.2f s (phony skipped: PHONY_BENCH_SKIP_PHONY=1)\n' "$rounds" "$best_dump"
else
  echo "checked after each copy: every table holds the rows of src; phony_dst.users holds no email of src.users"
  printf 'best of %d: mariadb-dump | mariadb %.2f s, phony snapshot %.2f s; time ratio phony / dump: %.2f (bar 1.3)\n' \
    "$rounds" "$best_dump" "$best_phony" "$(awk -v a="$best_phony" -v b="$best_dump" 'BEGIN { print a / b }')"
fi
