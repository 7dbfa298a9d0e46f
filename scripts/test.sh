#!/usr/bin/env bash
# THE test command: builds strata, starts a throwaway PostgreSQL 15, runs every test
# under ctest against it, and always stops the server again (even on failure).
# Exits non-zero if the build fails, the server does not start, or any test fails.
# The build dir is $STRATA_BUILD_DIR (default: build); see build.sh for STRATA_CMAKE_ARGS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${STRATA_BUILD_DIR:-build}"

header() { printf '\n==== %s ====\n' "$*"; }

header "build ($BUILD_DIR)"
bash scripts/build.sh "$BUILD_DIR"

header "start PostgreSQL"
# A state file of our own, so a concurrent demo.sh or a hand-started server is untouched.
STRATA_PG_STATE="$(mktemp /tmp/strata-pg-state.XXXXXX)"
export STRATA_PG_STATE
stopServer() {
  local out
  # Quiet on success so ctest's summary stays the last thing printed.
  out="$(bash scripts/pg.sh stop 2>&1)" || echo "$out" >&2
  rm -f "$STRATA_PG_STATE"
}
trap stopServer EXIT
# Assign first: `eval "$(cmd)"` would swallow a failure of cmd.
pgEnv="$(bash scripts/pg.sh start)"
eval "$pgEnv"
echo "STRATA_TEST_DB=$STRATA_TEST_DB"

header "test"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 1200 --no-tests=error
