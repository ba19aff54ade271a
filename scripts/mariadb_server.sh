#!/usr/bin/env bash
# One private MariaDB server (Debian's mariadbd) in a directory of its own,
# on loopback, for benchmarks and tests that need a server of their own.
#
#   scripts/mariadb_server.sh start DIR [MARIADBD_OPTION...]
#                                         first start installs on a free port;
#                                         later starts reuse DIR. Prints the port
#                                         (user root, no password, TCP on 127.0.0.1).
#                                         Options are added to mariadbd's for this
#                                         start (e.g. --log-bin=mariadb-bin).
#   scripts/mariadb_server.sh stop DIR
set -euo pipefail
log() { printf '[mariadb] %s\n' "$*" >&2; }
die() { printf '[mariadb] error: %s\n' "$*" >&2; exit 1; }
cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start DIR [MARIADBD_OPTION...] | stop DIR"
shift 2
command -v mariadbd >/dev/null || die "MariaDB is not installed: run scripts/install.sh"
user=mysql; [ "$(id -u)" -eq 0 ] || user="$(id -un)"
case "$cmd" in
  start)
    mkdir -p "$dir/data"
    if [ ! -f "$dir/port" ]; then
      python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' >"$dir/port"
      [ "$(id -u)" -eq 0 ] && chown -R mysql:mysql "$dir"
      mariadb-install-db --no-defaults --user="$user" --datadir="$dir/data" \
        --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
        || { cat "$dir/install.log" >&2; die "install-db failed"; }
    fi
    port="$(cat "$dir/port")"
    setsid mariadbd --no-defaults --user="$user" --datadir="$dir/data" --socket="$dir/mysqld.sock" \
      --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
      --innodb-buffer-pool-size=512M --innodb-log-file-size=256M --local-infile=1 --skip-name-resolve "$@" \
      </dev/null >/dev/null 2>&1 &
    for _ in $(seq 1 200); do
      mariadb-admin --no-defaults -uroot -S "$dir/mysqld.sock" ping >/dev/null 2>&1 && break
      sleep 0.3
    done
    mariadb-admin --no-defaults -uroot -S "$dir/mysqld.sock" ping >/dev/null 2>&1 \
      || { tail -20 "$dir/error.log" >&2; die "server did not start"; }
    mariadb --no-defaults -uroot -S "$dir/mysqld.sock" -e \
      "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
    echo "$port"
    ;;
  stop)
    [ -f "$dir/mariadbd.pid" ] || exit 0
    pid="$(cat "$dir/mariadbd.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    ;;
  *) die "unknown command $cmd" ;;
esac
