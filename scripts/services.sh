#!/usr/bin/env bash
# Starts and stops the real servers the tests and the demo use, on loopback,
# with ephemeral ports and throwaway data directories:
#   PostgreSQL 15 (Debian) and 17 (npm's @embedded-postgres), wal_level=logical
#   MariaDB 10.11 (Debian) with a ROW binlog, FULL row image and metadata, GTIDs
#   Apache Kafka 4.x, single node in KRaft mode (jars from scripts/install.sh)
#
#   scripts/services.sh start [pg15|pg17|mariadb|kafka ...]   (default: all)
#   scripts/services.sh stop
#   scripts/services.sh status
#
# `start` writes the connection settings to build/services.env (sourceable);
# `stop` stops every server it started and removes the data directories.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PHONY_CACHE:-$here/.cache}"
build="${PHONY_BUILD_DIR:-$here/build}"
envfile="$build/services.env"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# PostgreSQL and MariaDB refuse to run as root: run them as their own users.
as_user() {
  local user="$1"; shift
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local secs="$1" what="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.3
  done
}

start_postgres() {  # start_postgres NAME BINDIR
  local name="$1" bindir="$2"
  local dir="$root/$name" port
  port="$(free_port)"
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  as_user postgres "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "$name: initdb failed"; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
wal_level = logical
max_replication_slots = 32
max_wal_senders = 32
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
wal_sender_timeout = 60s
log_min_messages = warning
CONF
  local upper; upper="$(echo "$name" | tr a-z A-Z)"
  {
    echo "PHONY_${upper}_HOST=127.0.0.1"
    echo "PHONY_${upper}_PORT=$port"
    echo "PHONY_${upper}_USER=postgres"
    echo "PHONY_${upper}_BIN=$bindir"
    echo "PHONY_${upper}_DATA=$dir/data"
  } >>"$envfile"
  as_user postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { tail -30 "$dir/server.log" >&2; die "$name: server did not start"; }
  # pg_isready is a client tool (the npm build has none): Debian's speaks to any version.
  wait_for 30 "$name" /usr/lib/postgresql/15/bin/pg_isready -h 127.0.0.1 -p "$port" \
    || die "$name: not ready"
  log "$name listening on 127.0.0.1:$port"
}

pg17_bindir() {
  local bindir="$cache/pg17/native/bin"
  [ -x "$bindir/postgres" ] || die "PostgreSQL 17 binaries missing: run scripts/install.sh"
  # The postgres user must be able to read the binaries; a checkout under a
  # private home directory is not, so fall back to a copy in the services dir.
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$bindir/postgres"; then
    cp -a "$(readlink -f "$cache/pg17")" "$root/pg17-dist"
    chmod -R a+rX "$root/pg17-dist"
    bindir="$root/pg17-dist/native/bin"
  fi
  echo "$bindir"
}

start_mariadb() {
  local dir="$root/mariadb" port sock
  # MariaDB refuses to run as root: as root it runs as `mysql`, otherwise as us.
  local dbuser=mysql
  [ "$(id -u)" -eq 0 ] || dbuser="$(id -un)"
  port="$(free_port)"; sock="$dir/mysqld.sock"
  mkdir -p "$dir/data"
  [ "$(id -u)" -eq 0 ] && chown -R mysql:mysql "$dir"
  mariadb-install-db --no-defaults --user="$dbuser" --datadir="$dir/data" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log" >&2; die "mariadb: install-db failed"; }
  {
    echo "PHONY_MARIADB_HOST=127.0.0.1"
    echo "PHONY_MARIADB_PORT=$port"
    echo "PHONY_MARIADB_USER=phony"
    echo "PHONY_MARIADB_PASSWORD=phony"
    echo "PHONY_MARIADB_SOCKET=$sock"
    echo "PHONY_MARIADB_PIDFILE=$dir/mariadbd.pid"
  } >>"$envfile"
  # Started directly (no mysqld_safe), detached; its pid file is what stop uses.
  setsid mariadbd --no-defaults --user="$dbuser" --datadir="$dir/data" --socket="$sock" \
    --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" \
    --log-error="$dir/error.log" --server-id=1 --log-bin=mariadb-bin \
    --binlog-format=ROW --binlog-row-image=FULL --binlog-row-metadata=FULL \
    --gtid-strict-mode=1 --log-slave-updates=1 --innodb-buffer-pool-size=128M \
    --innodb-flush-log-at-trx-commit=2 --skip-name-resolve \
    --max-connections=200 </dev/null >/dev/null 2>&1 &
  wait_for 60 mariadb mariadb-admin --no-defaults -uroot -S "$sock" ping \
    || { tail -30 "$dir/error.log" >&2; die "mariadb: server did not start"; }
  mariadb --no-defaults -uroot -S "$sock" <<SQL
CREATE USER IF NOT EXISTS 'phony'@'127.0.0.1' IDENTIFIED BY 'phony';
GRANT ALL PRIVILEGES ON *.* TO 'phony'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  log "mariadb listening on 127.0.0.1:$port"
}

start_kafka() {
  local dir="$root/kafka" brokers
  brokers="$("$here/scripts/kafka_broker.sh" start "$dir")"
  {
    echo "PHONY_KAFKA_BROKERS=$brokers"
    echo "PHONY_KAFKA_PIDFILE=$dir/kafka.pid"
    echo "PHONY_KAFKA_CONFIG=$dir/server.properties"
  } >>"$envfile"
  log "kafka listening on $brokers"
}

stop_all() {
  [ -f "$envfile" ] || { log "nothing to stop"; return 0; }
  # shellcheck disable=SC1090
  set -a; . "$envfile"; set +a
  for v in PG15 PG17; do
    local bin="PHONY_${v}_BIN" data="PHONY_${v}_DATA"
    if [ -n "${!data:-}" ] && [ -f "${!data}/postmaster.pid" ]; then
      as_user postgres "${!bin}/pg_ctl" -D "${!data}" -m immediate -w stop >/dev/null 2>&1 || true
      log "$v stopped"
    fi
  done
  for pidfile in "${PHONY_MARIADB_PIDFILE:-}" "${PHONY_KAFKA_PIDFILE:-}"; do
    [ -n "$pidfile" ] && [ -f "$pidfile" ] || continue
    local pid; pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped pid $pid"
  done
  if [ -n "${PHONY_SERVICES_DIR:-}" ] && [ -d "$PHONY_SERVICES_DIR" ]; then
    rm -rf "$PHONY_SERVICES_DIR"
  fi
  rm -f "$envfile"
}

case "${1:-}" in
  start)
    shift
    wanted=("$@"); [ "${#wanted[@]}" -gt 0 ] || wanted=(pg15 pg17 mariadb kafka)
    [ -f "$envfile" ] && { log "services already running per $envfile; stopping them first"; stop_all; }
    mkdir -p "$build"
    root="$(mktemp -d /tmp/phony-services.XXXXXX)"
    chmod 755 "$root"
    echo "PHONY_SERVICES_DIR=$root" >"$envfile"
    trap 'rc=$?; if [ $rc -ne 0 ]; then echo "[services] start failed; stopping what started" >&2; stop_all; fi' EXIT
    for s in "${wanted[@]}"; do
      case "$s" in
        pg15) start_postgres pg15 /usr/lib/postgresql/15/bin ;;
        pg17) start_postgres pg17 "$(pg17_bindir)" ;;
        mariadb) start_mariadb ;;
        kafka) start_kafka ;;
        *) die "unknown service '$s' (expected pg15, pg17, mariadb, kafka)" ;;
      esac
    done
    trap - EXIT
    log "settings in $envfile"
    ;;
  stop) stop_all ;;
  status) [ -f "$envfile" ] && cat "$envfile" || log "not running" ;;
  *) echo "usage: $0 start [pg15|pg17|mariadb|kafka ...] | stop | status" >&2; exit 2 ;;
esac
