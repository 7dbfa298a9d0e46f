#!/usr/bin/env bash
# Installs every system package strata needs to build, test and run its demo, all from
# Debian 12. Idempotent and fast on reruns: apt is only touched when dpkg-query says a
# package is missing. See ../shared/reference/toolchain.md (section 1) for why each is here.
set -euo pipefail

PACKAGES=(
  antlr4 libantlr4-runtime-dev uuid-dev libboost-graph-dev llvm-14-dev zlib1g-dev
  libpq-dev libssl-dev postgresql-15 postgresql-client-15 libgtest-dev libgmock-dev libbenchmark-dev
  cmake ninja-build pkg-config g++ clang-14 libclang-rt-14-dev libcli11-dev libfmt-dev
  nlohmann-json3-dev libpg-query-dev libjemalloc-dev ccache openjdk-17-jre-headless python3-jsonschema dpkg-dev file
  # bench/run.sh (docs/performance.md): wall times, round trips
  hyperfine strace
)

isInstalled() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  isInstalled "$pkg" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: error: not running as root, cannot install the packages above." >&2
  echo "install-deps: run 'sudo $0' (or install them with apt-get) and retry." >&2
  exit 1
fi

apt-get update
# --no-upgrade: installing an already-present package (e.g. postgresql-15) must not
# upgrade it behind our back; we only fill in what is missing.
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends --no-upgrade \
  "${PACKAGES[@]}"

# Verify, so a package name that apt silently skipped does not surface later as a
# confusing CMake error.
still=()
for pkg in "${PACKAGES[@]}"; do
  isInstalled "$pkg" || still+=("$pkg")
done
if [[ ${#still[@]} -ne 0 ]]; then
  echo "install-deps: error: still missing after apt-get install: ${still[*]}" >&2
  exit 1
fi
echo "install-deps: done"
