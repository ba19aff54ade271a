# Sourced by the side-by-side benchmark scripts (after setting $here, $work
# and $rows).
#
# bench_common DB: the shared preamble of the capture benchmarks: phony
# built, PostgreSQL 15 and Kafka running, and the globals bin, psql (array),
# db, work (a temporary directory removed on exit) and PHONY_BENCH_SECRET.
bench_common() {
  [ -x build/phony ] || scripts/build.sh
  ensure_pg15_kafka
  bin=/usr/lib/postgresql/15/bin
  psql=("$bin/psql" -h 127.0.0.1 -p "$PHONY_PG15_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
  db="$1"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  export PHONY_BENCH_SECRET=0123456789abcdef0123456789abcdef
}

# ensure_pg15_kafka: PostgreSQL 15 and Kafka from scripts/services.sh,
# started when build/services.env lacks them; exports their settings.
ensure_pg15_kafka() {
  if [ ! -f build/services.env ] || ! grep -q PHONY_KAFKA_BROKERS build/services.env ||
     ! grep -q PHONY_PG15_PORT build/services.env; then
    scripts/services.sh stop >/dev/null 2>&1 || true
    scripts/services.sh start pg15 kafka
  fi
  set -a; . build/services.env; set +a
}

# load_items PSQL_ARRAY_NAME DB ROWS: ROWS rows into items(id, name, price,
# created_at, active), committed in transactions of 1 000.
load_items() {
  local -n q="$1"
  echo "loading $3 rows in transactions of 1000..."
  "${q[@]}" -d "$2" -c "CREATE PROCEDURE load(n bigint) LANGUAGE plpgsql AS \$\$
    BEGIN FOR b IN 0..(n - 1) / 1000 LOOP
      INSERT INTO items SELECT g, 'item number ' || g, (g % 1000) + 0.99, now(), g % 2 = 0
        FROM generate_series(b * 1000 + 1, least((b + 1) * 1000, n)) g;
      COMMIT; END LOOP; END \$\$" -c "CALL load($3)"
}

# measure NAME COMMAND... runs
# COMMAND (stdout dropped, stderr to $work/NAME.err), prints wall time, rows/s
# for $rows, peak RSS and CPU seconds, and sets ${NAME//-/_}_secs.
measure() {
  local name="$1"; shift
  local start end rss user sys secs
  start=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$work/$name.time" "$@" >/dev/null 2>"$work/$name.err" || { cat "$work/$name.err"; exit 1; }
  end=$(date +%s.%N)
  read -r rss user sys <"$work/$name.time"
  secs=$(echo "$end - $start" | bc -l)
  printf '%-16s %8.2f s  %10.0f rows/s  peak RSS %6.1f MB  CPU %6.2f s\n' "$name" "$secs" \
    "$(echo "$rows / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$(echo "$user + $sys" | bc -l)"
  eval "${name//-/_}_secs=$secs"
}

# The copy benchmarks (snapshot_vs_*_dump.sh): one timed command, and its
# line of figures. They use the caller's $dir, $size_mb and $rows.
copy_run() {  # NAME COMMAND...: wall seconds and peak RSS (KB) into $secs and $rss
  local name="$1"; shift
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$dir/$name.rss" bash -c "$*" >"$dir/$name.out" 2>"$dir/$name.err" || {
    cat "$dir/$name.err"; exit 1; }
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  rss=$(tail -1 "$dir/$name.rss")
}
copy_report() {  # NAME [WIDTH]
  printf "%-${2:-22}s %7.2f s  %7.1f MB/s  %9.0f rows/s  peak RSS %6.1f MB\n" "$1" "$secs" \
    "$(echo "$size_mb / $secs" | bc -l)" "$(echo "$rows / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}
