#!/usr/bin/env bash
# Configures (Ninja, ccache) and builds everything into build/; the CLI lands
# at build/phony. Extra arguments go to cmake's configure step, e.g.
#   scripts/build.sh -DPHONY_SANITIZE=ON
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
# Warnings are errors on the supported toolchain (Debian 12's GCC 12); pass
# -DPHONY_WERROR=OFF to build with another compiler.
cmake -S . -B build -G Ninja -DPHONY_WERROR=ON "$@" >/dev/null
# Two cores: two jobs keeps the machine responsive and memory in check.
cmake --build build -j "${PHONY_BUILD_JOBS:-2}"
