#!/usr/bin/env bash
# Regenerates the pgoutput golden files from the real servers:
#   tests/golden/pgoutput/regenerate.sh
# (builds pgoutput_record, starts PostgreSQL 15 and 17 with
# scripts/services.sh if they are not running). Review the diff of the
# .expected files before committing: they are the decoder's contract.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$here"
scripts/build.sh >/dev/null
cmake --build build --target pgoutput_record >/dev/null
[ -f build/services.env ] || scripts/services.sh start pg15 pg17
set -a; . build/services.env; set +a
out=tests/golden/pgoutput
for spec in basic:PG15:1 basic:PG15:3 basic:PG17:4 streamed:PG15:2 streamed:PG17:4; do
  IFS=: read -r workload server proto <<<"$spec"
  name="${workload}_$(echo "$server" | tr A-Z a-z)_v${proto}"
  build/tests/pgoutput_record "$server" "$proto" "$name" "$out/$workload.sql" "$out"
done
