#!/usr/bin/env bash
# Issue #7's bars: `phony snapshot` (anonymizing) against `pg_dump | psql`
# (no anonymization) copying the same database into an empty one, in one
# run, on a private PostgreSQL 15 with fsync on (scripts/pg_server.sh).
# Timed span for both: command start to data, indexes, constraints and
# sequences in place; ANALYZE off on our side (pg_dump | psql runs none).
#   bench/snapshot_vs_pg_dump.sh pgbench [scale=50]      one masked column
#   bench/snapshot_vs_pg_dump.sh ecommerce [scale=21]    bench/datagen, every PII column anonymized
# Prints seconds, MB/s, rows/s and peak RSS for both, alternating them ROUNDS
# times (default 2), and the ratio of the best times.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-pgbench}"
case "$mode" in
  pgbench) scale="${2:-50}" ;;
  ecommerce) scale="${2:-21}" ;;
  *) echo "usage: $0 pgbench|ecommerce [scale]" >&2; exit 2 ;;
esac
[ -x build/phony ] || scripts/build.sh
bin=/usr/lib/postgresql/15/bin
dir="$(mktemp -d /tmp/phony-snapshot-bench.XXXXXX)"
chmod 755 "$dir"
trap 'scripts/pg_server.sh stop "$dir/pg" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
port="$(scripts/pg_server.sh start "$dir/pg")"
sed -i 's/^fsync = off/fsync = on/; s/^full_page_writes = off/full_page_writes = on/' "$dir/pg/data/postgresql.conf"
scripts/pg_server.sh stop "$dir/pg" && scripts/pg_server.sh start "$dir/pg" >/dev/null
psql=("$bin/psql" -X -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt)
"${psql[@]}" -c "CREATE DATABASE src"

echo "loading the $mode database at scale $scale..."
export PHONY_SECRET=0123456789abcdef0123456789abcdef
if [ "$mode" = pgbench ]; then
  "$bin/pgbench" -i -q -s "$scale" -h 127.0.0.1 -p "$port" -U postgres src >/dev/null 2>&1
  cat >"$dir/job.json" <<JSON
{"name": "bench", "source": {"type": "postgresql", "host": "127.0.0.1", "port": $port, "database": "src", "user": "postgres"},
 "target": {"type": "postgresql", "host": "127.0.0.1", "port": $port, "database": "phony_dst", "user": "postgres"},
 "state": {"dir": "$dir/state"}, "snapshot": {"analyze": false},
 "anonymization": {"secret_ref": "env://PHONY_SECRET", "unlisted_columns": "keep"},
 "tables": {"pgbench_accounts": {"columns": {"filler": {"transform": "MASK", "pattern": "***{last4}"}}}}}
JSON
else
  "${psql[@]}" -v scale="$scale" -f bench/datagen/pg_ecommerce.sql src >/dev/null
  python3 - "$dir" "$port" <<'PY'
import json, sys
d, port = sys.argv[1], int(sys.argv[2])
c = json.load(open("config/examples/ecommerce.json"))
c["source"].update(port=port, database="src"); c["source"].pop("password_ref")
c["target"].update(port=port, database="phony_dst"); c["target"].pop("password_ref")
c["state"]["dir"] = d + "/state"
c["snapshot"] = {"analyze": False}
json.dump(c, open(d + "/job.json", "w"))
# The same job on a 1% subset: 1% of users, their orders, items, payments and
# reviews, and every row those reference.
c["name"] = "bench-subset"; c["target"]["database"] = "phony_sub"; c["state"]["dir"] = d + "/state-subset"
c["subset"] = {"percentage": 1, "seed_tables": ["users"],
               "rules": {"orders": {"sample": "follow_fk", "parent": "users"},
                         "order_items": {"sample": "follow_fk", "parent": "orders"},
                         "payments": {"sample": "follow_fk", "parent": "orders"},
                         "reviews": {"sample": "follow_fk", "parent": "users"}}}
json.dump(c, open(d + "/subset.json", "w"))
PY
fi
"${psql[@]}" -d src -c "VACUUM ANALYZE" -c CHECKPOINT
size_mb=$("${psql[@]}" -d src -c "SELECT pg_database_size('src') / 1048576.0")
rows=$("${psql[@]}" -d src -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")
echo "source: $(printf '%.0f' "$size_mb") MB, $rows rows"

. "$here/bench/lib.sh"
run() { copy_run "$@"; }
report() { copy_report "$1" 22; }

# Alternate the two, several rounds (the machine's disk makes single runs noisy); best of each.
rounds="${ROUNDS:-2}"
best_dump=1e9; best_phony=1e9
for round in $(seq 1 "$rounds"); do
  "${psql[@]}" -c "DROP DATABASE IF EXISTS dump_dst" -c "CREATE DATABASE dump_dst" -c CHECKPOINT
  run dump "'$bin/pg_dump' -h 127.0.0.1 -p $port -U postgres src | '$bin/psql' -X -q -h 127.0.0.1 -p $port -U postgres -v ON_ERROR_STOP=1 dump_dst"
  report "pg_dump | psql (#$round)"
  best_dump=$(awk -v a="$secs" -v b="$best_dump" 'BEGIN { print (a < b) ? a : b }')
  "${psql[@]}" -c "DROP DATABASE IF EXISTS phony_dst" -c "CREATE DATABASE phony_dst" -c CHECKPOINT
  rm -rf "$dir/state"
  run phony "build/phony snapshot --config '$dir/job.json' --quiet"
  report "phony snapshot (#$round)"
  best_phony=$(awk -v a="$secs" -v b="$best_phony" 'BEGIN { print (a < b) ? a : b }')
  grep -E "^run|problem" "$dir/phony.out" || true
done
dst_rows=$("${psql[@]}" -d phony_dst -c "SELECT sum(c) FROM (SELECT (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', schemaname, relname), false, true, '')))[1]::text::bigint AS c FROM pg_stat_user_tables WHERE schemaname = 'public') s")
echo "rows in staging: $dst_rows"
printf 'best of %d: pg_dump | psql %.2f s, phony snapshot %.2f s; time ratio phony / pg_dump|psql: %.2f\n' \
  "$rounds" "$best_dump" "$best_phony" "$(awk -v a="$best_phony" -v b="$best_dump" 'BEGIN { print a / b }')"
if [ "$mode" = ecommerce ]; then
  "${psql[@]}" -c "DROP DATABASE IF EXISTS phony_sub" -c "CREATE DATABASE phony_sub" -c CHECKPOINT
  run subset "build/phony snapshot --config '$dir/subset.json' --quiet"
  report "phony 1% subset"
  grep -E "^run|problem" "$dir/subset.out" || true
  printf 'subset time / full phony time: %.3f\n' "$(awk -v a="$secs" -v b="$best_phony" 'BEGIN { print a / b }')"
fi
