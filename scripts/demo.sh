#!/usr/bin/env bash
# The newcomer demo: installs, builds, starts a local PostgreSQL with a small
# "shop" database (customers with PII, orders), writes a job config for the
# embedded pipeline (no Kafka) into build/demo/job.json and runs it.
#
# Today the demo validates the job with `phony check-config` and stops there:
# the pipeline command `phony run` arrives with issue #8, and this script will
# run it as soon as it lands.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
demo="$here/build/demo"
step() { printf '\n==> %s\n' "$*" >&2; }

step "install"; scripts/install.sh
step "build"; scripts/build.sh
mkdir -p "$demo"
step "start a local PostgreSQL 15 for the demo"
PHONY_BUILD_DIR="$demo" scripts/services.sh start pg15
set -a; . "$demo/services.env"; set +a
psql=(/usr/lib/postgresql/15/bin/psql -h "$PHONY_PG15_HOST" -p "$PHONY_PG15_PORT" -U postgres -v ON_ERROR_STOP=1 -q)

step "create the source database 'shop' and an empty 'shop_staging'"
"${psql[@]}" -d postgres -c "CREATE DATABASE shop" -c "CREATE DATABASE shop_staging"
"${psql[@]}" -d shop <<'SQL'
CREATE TABLE customers (
  id bigint PRIMARY KEY, email text UNIQUE NOT NULL, first_name text, last_name text,
  phone text, birth_date date, notes text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id),
  customer_email text NOT NULL, card_number text, total numeric(12,2) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO customers
  SELECT i, 'customer' || i || '@mail.example', 'First' || i, 'Last' || i,
         '+1 212 555 ' || lpad((i % 10000)::text, 4, '0'), date '1960-01-01' + (i % 15000),
         'call after 5pm', now() - (i || ' minutes')::interval
  FROM generate_series(1, 1000) AS i;
INSERT INTO orders
  SELECT i, 1 + (i % 1000), 'customer' || (1 + (i % 1000)) || '@mail.example',
         '4111111111111111', (i % 500) + 0.99, now() - (i || ' seconds')::interval
  FROM generate_series(1, 5000) AS i;
SQL

step "write the job config (embedded: no kafka section)"
sed -e "s/\"port\": 5432/\"port\": $PHONY_PG15_PORT/g" \
    -e "s|\"dir\": \"./phony-state/demo-shop\"|\"dir\": \"$demo/state\"|" \
    config/examples/pg-embedded.json > "$demo/job.json"
export PHONY_SOURCE_PASSWORD=unused-with-trust-auth PHONY_TARGET_PASSWORD=unused-with-trust-auth
export PHONY_SECRET="${PHONY_SECRET:-demo-secret-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}"

step "validate it: build/phony check-config --config $demo/job.json"
build/phony check-config --config "$demo/job.json"

step "run it"
if build/phony run --help >/dev/null 2>&1 && build/phony run --config "$demo/job.json"; then
  exit 0
fi
cat >&2 <<MSG

The pipeline itself ('phony run': snapshot, then capture → transform → apply)
arrives with issue #8. Everything it stands on is built and tested
(scripts/test.sh). The demo database keeps running on 127.0.0.1:$PHONY_PG15_PORT:
  psql -h 127.0.0.1 -p $PHONY_PG15_PORT -U postgres shop
Stop it with:
  PHONY_BUILD_DIR=build/demo scripts/services.sh stop
MSG
