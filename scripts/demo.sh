#!/usr/bin/env bash
# The newcomer demo: installs, builds, starts a local PostgreSQL holding a
# source database with PII ("shop", bench/datagen's e-commerce generator) and
# an empty staging database, then runs the embedded job (`phony run`, no
# Kafka): the anonymized snapshot, then live changes made on the source
# arriving anonymized in staging, shown side by side; `phony verify` checks
# the mirror; everything is stopped at the end.
#   scripts/demo.sh            # PHONY_DEMO_SCALE=0.2 by default (2 000 customers)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
demo="$here/build/demo"
scale="${PHONY_DEMO_SCALE:-0.2}"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
pause() { sleep "${PHONY_DEMO_PAUSE:-2}"; }

step "install and build (first time only takes a while)"
scripts/install.sh
scripts/build.sh

step "start a local PostgreSQL 15 (source and staging databases on it)"
mkdir -p "$demo"
PHONY_BUILD_DIR="$demo" scripts/services.sh stop >/dev/null 2>&1 || true
rm -rf "$demo/state"
PHONY_BUILD_DIR="$demo" scripts/services.sh start pg15
set -a; . "$demo/services.env"; set +a
run_pid=""
cleanup() {
  [ -n "$run_pid" ] && kill -TERM "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null || true
  PHONY_BUILD_DIR="$demo" scripts/services.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql=(/usr/lib/postgresql/15/bin/psql -X -h "$PHONY_PG15_HOST" -p "$PHONY_PG15_PORT" -U postgres -v ON_ERROR_STOP=1 -q)

step "load the source database 'shop' (customers, addresses, orders, payments, tickets … full of PII)"
"${psql[@]}" -d postgres -c "CREATE DATABASE shop" -c "CREATE DATABASE shop_staging"
"${psql[@]}" -v scale="$scale" -f bench/datagen/pg_ecommerce.sql shop >/dev/null
"${psql[@]}" -f bench/datagen/pg_ecommerce_workload.sql shop
"${psql[@]}" -d shop -c "SELECT (SELECT count(*) FROM users) AS customers, (SELECT count(*) FROM orders) AS orders,
                                (SELECT count(*) FROM payments) AS payments"

step "the job: config/examples/ecommerce.json (a rule per PII column), embedded (no kafka section)"
sed -e "s/\"port\": 5432/\"port\": $PHONY_PG15_PORT/g" -e "s|\./phony-state/ecommerce|$demo/state|" \
  config/examples/ecommerce.json > "$demo/job.json"
export PHONY_SOURCE_PASSWORD=unused-with-trust-auth PHONY_TARGET_PASSWORD=unused-with-trust-auth
export PHONY_SECRET="${PHONY_SECRET:-demo-secret-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
build/phony check-config --config "$demo/job.json"

step "phony run --config $demo/job.json   (log: $demo/run.log)"
build/phony run --config "$demo/job.json" --quiet >"$demo/run.log" 2>&1 &
run_pid=$!
for _ in $(seq 1 300); do
  done_runs="$("${psql[@]}" -At -d shop_staging -c "SELECT count(*) FROM phony.snapshot_runs WHERE state = 'done'" 2>/dev/null || echo 0)"
  [ "$done_runs" = "1" ] && break
  kill -0 "$run_pid" 2>/dev/null || { cat "$demo/run.log" >&2; exit 1; }
  sleep 0.2
done
grep -E "snapshot: |run: " "$demo/run.log" | grep -v "has no rule" | sed 's/^[^ ]* /  /' | tail -n 4 >&2 || true

# Prints the same customers from source and staging, one under the other.
side_by_side() {  # side_by_side "id list"
  local q="SELECT id, email, first_name || ' ' || last_name, coalesce(phone, '-'), coalesce(national_id, '-'),
                  coalesce(date_of_birth::text, '-') FROM users WHERE id IN ($1) ORDER BY id"
  paste -d '\n' <("${psql[@]}" -At -F '  ' -d shop -c "$q" | sed 's/^/  source : /') \
                <("${psql[@]}" -At -F '  ' -d shop_staging -c "$q" | sed 's/^/  staging: /')
}

step "the snapshot: the same customers, production vs staging"
side_by_side "1, 2, 3"
pause

step "live changes on the source: a new customer, customer 2 changes email and phone, an order is deleted"
new_id="$("${psql[@]}" -At -d shop -c "INSERT INTO users (email, first_name, last_name, phone, date_of_birth, national_id,
            password_hash) VALUES ('jane.doe@realmail.com', 'Jane', 'Doe', '+1 415 555 0134', '1988-04-12',
            '12345678901', 'x') RETURNING id")"
"${psql[@]}" -d shop -c "UPDATE users SET email = 'bob.new@realmail.com', phone = '+1 212 555 0199' WHERE id = 2"
"${psql[@]}" -d shop -c "DELETE FROM payments WHERE order_id = 5; DELETE FROM orders WHERE id = 5"
"${psql[@]}" -d shop -c "SELECT phony_shop_tick(g) FROM generate_series(1, 20) g" >/dev/null
sleep 1.5
side_by_side "2, $new_id"
printf '  order 5 in staging: %s rows\n' "$("${psql[@]}" -At -d shop_staging -c "SELECT count(*) FROM orders WHERE id = 5")" >&2
pause

step "a stream of traffic (one business transaction every 20 ms for 5 s), then: is the mirror right?"
for i in $(seq 100 350); do echo "SELECT phony_shop_tick($i);"; echo "SELECT pg_sleep(0.02);"; done \
  | "${psql[@]}" -d shop >/dev/null
sleep 1.5
build/phony verify --config "$demo/job.json" 2>/dev/null || true
grep -E "apply: [0-9]+ rows" "$demo/run.log" | tail -n 1 | sed 's/^[^ ]* /  /' >&2 || true

step "stop (SIGTERM: everything applied is confirmed to the slot) and clean up"
kill -TERM "$run_pid"; wait "$run_pid" || true; run_pid=""
grep "run: stopped" "$demo/run.log" | sed 's/^[^ ]* /  /' >&2 || true
echo >&2
echo "Done. Next: README.md (Kafka mode, docs/operations.md), config/README.md (every key)." >&2
