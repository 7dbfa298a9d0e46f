#!/usr/bin/env bash
# Configures and builds strata: scripts/build.sh [BUILD_DIR]   (default: build)
# Extra CMake arguments come from $STRATA_CMAKE_ARGS (word-split), e.g.
#   STRATA_CMAKE_ARGS="-DSTRATA_SANITIZE=ON" scripts/build.sh build-asan
# Works from any directory: paths are relative to the repo root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${1:-build}"

bash scripts/install-deps.sh

# Intentionally unquoted: STRATA_CMAKE_ARGS is a space-separated list of arguments.
# shellcheck disable=SC2206
extraArgs=(${STRATA_CMAKE_ARGS:-})
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${extraArgs[@]}"
cmake --build "$BUILD_DIR" -j2
