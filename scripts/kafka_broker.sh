#!/usr/bin/env bash
# One single-node Apache Kafka broker (KRaft) in a directory of its own, on
# loopback: services.sh starts the shared one with it, and tests that must
# stop, kill and restart a broker start a private one.
#
#   scripts/kafka_broker.sh start DIR   first start formats DIR on free ports;
#                                       later starts reuse DIR (same ports, same
#                                       data). Prints the bootstrap address.
#   scripts/kafka_broker.sh stop DIR    SIGTERM, waits for the exit
#   scripts/kafka_broker.sh kill DIR    SIGKILL
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PHONY_CACHE:-$here/.cache}"
libs="$cache/kafka/libs"

log() { printf '[kafka] %s\n' "$*" >&2; }
die() { printf '[kafka] error: %s\n' "$*" >&2; exit 1; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# A broker keeps its ports across stop and start, and tests run two at a
# time: a port that is free while one test's broker is down for an outage
# must not go to another test's new broker (the two would then share a
# broker without knowing it). Ports are reserved in a registry, under a
# lock, for as long as the directory that uses them exists.
registry="${TMPDIR:-/tmp}/phony-kafka-ports"
reserve_ports() {  # prints two ports no other broker directory holds
  local dir_abs ports=() p line
  dir_abs="$(cd "$dir" && pwd)"
  exec 9>>"$registry.lock"
  flock 9
  touch "$registry"
  # Forget the ports of directories that are gone.
  while read -r line; do
    if [ -n "$line" ] && [ -d "${line#* }" ]; then printf '%s\n' "$line"; fi
  done <"$registry" >"$registry.new"
  mv "$registry.new" "$registry"
  while [ "${#ports[@]}" -lt 2 ]; do
    p="$(free_port)"
    if grep -q "^$p " "$registry" || { [ "${#ports[@]}" -eq 1 ] && [ "${ports[0]}" = "$p" ]; }; then continue; fi
    ports+=("$p")
  done
  printf '%s %s\n%s %s\n' "${ports[0]}" "$dir_abs" "${ports[1]}" "$dir_abs" >>"$registry"
  flock -u 9
  exec 9>&-
  echo "${ports[0]} ${ports[1]}"
}

cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start|stop|kill DIR"

java_opts=(-Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
           -Dlog4j2.configurationFile="$dir/log4j2.properties")

configure() {
  local port cport
  mkdir -p "$dir/logs"
  read -r port cport < <(reserve_ports)
  cat >"$dir/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/logs
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
CONF
  cat >"$dir/log4j2.properties" <<CONF
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $dir/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
CONF
  echo "127.0.0.1:$port" >"$dir/brokers"
  local cluster_id
  cluster_id="$(java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
  java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster_id" \
    -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
    || { cat "$dir/format.log" >&2; die "storage format failed"; }
}

running() { [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; }
# Whether this directory's broker process is the one listening on $1 (true
# where `ss` cannot say).
owns_port() {
  command -v ss >/dev/null || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -q "pid=$(cat "$dir/kafka.pid"),"
}

case "$cmd" in
  start)
    [ -d "$libs" ] || die "Kafka jars missing: run scripts/install.sh"
    running && { cat "$dir/brokers"; exit 0; }
    [ -f "$dir/server.properties" ] || configure
    setsid java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
      </dev/null >>"$dir/stdout.log" 2>&1 &
    echo $! >"$dir/kafka.pid"
    brokers="$(cat "$dir/brokers")"
    port="${brokers##*:}"
    deadline=$((SECONDS + 90))
    # Answering is not enough: the listener must be this directory's broker,
    # not another one that holds the port.
    until kcat -b "$brokers" -L -m 2 >/dev/null 2>&1 && owns_port "$port"; do
      if [ "$SECONDS" -ge "$deadline" ] || ! running; then
        tail -n 40 "$dir/stdout.log" "$dir/server.log" >&2 || true
        die "broker in $dir did not answer on $brokers (or another process holds the port)"
      fi
      sleep 0.3
    done
    echo "$brokers"
    ;;
  stop|kill)
    running || exit 0
    pid="$(cat "$dir/kafka.pid")"
    kill "-$([ "$cmd" = kill ] && echo KILL || echo TERM)" "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/kafka.pid"
    ;;
  *) die "usage: $0 start|stop|kill DIR" ;;
esac
