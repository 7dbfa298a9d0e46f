#!/usr/bin/env bash
# CI sanitizer job: builds all of strata with AddressSanitizer (LeakSanitizer included) and
# UndefinedBehaviorSanitizer (-DSTRATA_SANITIZE=ON) in its own build dir
# ($STRATA_SANITIZE_BUILD_DIR, default build-asan), starts its own throwaway PostgreSQL,
# runs every unit and integration test under ctest, and stops the server again.
#
# Every sanitizer report of every process (the test binaries and each `strata` they run,
# including the ones expected to fail) is written to a log file of its own; the job fails
# when a test fails or when any report was written, and prints the reports. See
# docs/reliability.md ("Sanitizers").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${STRATA_SANITIZE_BUILD_DIR:-build-asan}"
started=$(date +%s)

header() { printf '\n==== %s ====\n' "$*"; }

header "build ($BUILD_DIR, ASan + UBSan)"
STRATA_CMAKE_ARGS="-DSTRATA_SANITIZE=ON -DSTRATA_BUILD_BENCH=OFF" bash scripts/build.sh "$BUILD_DIR"

REPORTS="$ROOT/$BUILD_DIR/sanitizer-reports"
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
# log_path: one file per process (asan.<pid>, ubsan.<pid>), so that a report of a child
# whose failure a test expected is not lost. Suppressions: third-party code only.
export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1:halt_on_error=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:print_stacktrace=1:halt_on_error=1"

header "start PostgreSQL"
STRATA_PG_STATE="$(mktemp /tmp/strata-pg-state.XXXXXX)"
export STRATA_PG_STATE
stopServer() {
  local out
  out="$(bash scripts/pg.sh stop 2>&1)" || echo "$out" >&2
  rm -f "$STRATA_PG_STATE"
}
trap stopServer EXIT
# pg.sh runs PostgreSQL's own (uninstrumented) binaries: the sanitizer settings are ours.
pgEnv="$(env -u ASAN_OPTIONS -u LSAN_OPTIONS -u UBSAN_OPTIONS bash scripts/pg.sh start)"
eval "$pgEnv"
echo "STRATA_TEST_DB=$STRATA_TEST_DB"

header "test under ASan + UBSan"
status=0
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 1800 --no-tests=error || status=1

header "sanitizer reports"
shopt -s nullglob
reports=("$REPORTS"/*)
if [[ ${#reports[@]} -ne 0 ]]; then
  for r in "${reports[@]}"; do
    echo "--- $r"
    cat "$r"
  done
  echo "ci-sanitize: ${#reports[@]} sanitizer report(s), see above" >&2
  status=1
else
  echo "none"
fi
echo "ci-sanitize: took $(( $(date +%s) - started )) s"
exit "$status"
