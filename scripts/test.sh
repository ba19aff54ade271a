#!/usr/bin/env bash
# The whole test run, from a fresh machine to green:
#   install → build → start servers → every test (unit and integration) → stop servers.
# Fails loudly at the first broken step. Extra arguments go to ctest, e.g.
#   scripts/test.sh -L unit        (only unit tests)
#   scripts/test.sh -R Config      (tests matching a regex)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
step() { printf '\n==> %s\n' "$*" >&2; }
start=$SECONDS

step "install (scripts/install.sh)"
scripts/install.sh

step "build (scripts/build.sh)"
scripts/build.sh

step "start servers (scripts/services.sh start)"
trap 'step "stop servers"; scripts/services.sh stop' EXIT
scripts/services.sh start
set -a
# shellcheck disable=SC1091
. build/services.env
set +a

step "tests (ctest)"
ctest --test-dir build --output-on-failure -j 2 --timeout 600 "$@"
step "all tests passed in $((SECONDS - start)) s"
