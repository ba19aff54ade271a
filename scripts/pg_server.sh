#!/usr/bin/env bash
# One private PostgreSQL 15 server (Debian's binaries) in a directory of its
# own, on loopback, for tests that must crash and restart a server without
# disturbing the shared ones services.sh starts (a staging database that
# goes away mid-stream).
#
#   scripts/pg_server.sh start DIR   first start runs initdb on a free port;
#                                    later starts reuse DIR (same port, same
#                                    data). Prints the port.
#   scripts/pg_server.sh stop DIR    fast shutdown, waits for it
#   scripts/pg_server.sh kill DIR    immediate shutdown: no checkpoint, like a crash
set -euo pipefail
bindir=/usr/lib/postgresql/15/bin

log() { printf '[pg] %s\n' "$*" >&2; }
die() { printf '[pg] error: %s\n' "$*" >&2; exit 1; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start|stop|kill DIR"
[ -x "$bindir/postgres" ] || die "PostgreSQL 15 is not installed: run scripts/install.sh"

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ ! -f "$dir/port" ]; then
      port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
      [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
      as_postgres "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
      cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
full_page_writes = off
shared_buffers = 64MB
log_min_messages = warning
CONF
      echo "$port" >"$dir/port"
    fi
    as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
      || { tail -20 "$dir/server.log" >&2; die "server did not start"; }
    cat "$dir/port"
    ;;
  stop) as_postgres "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
  kill) as_postgres "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null ;;
  *) die "unknown command $cmd" ;;
esac
