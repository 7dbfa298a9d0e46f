#!/usr/bin/env bash
# CI fuzz smoke: builds the libFuzzer targets with clang 14 (ASan + UBSan, build dir
# $STRATA_FUZZ_BUILD_DIR, default build-fuzz), makes the seed corpora from examples/ and the
# golden inputs (test/fuzz/make-corpus.sh), and fuzzes each target for
# $STRATA_FUZZ_SECONDS seconds (default 60). Exits non-zero on any crash, leak, hang
# (an input running over 10 s) or sanitizer report; the input that did it is left in
# $BUILD_DIR/fuzz-artifacts/ and its name printed. See docs/reliability.md ("Fuzzing") for
# the longer run and how a finding becomes a regression test.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${STRATA_FUZZ_BUILD_DIR:-build-fuzz}"
SECONDS_PER_TARGET="${STRATA_FUZZ_SECONDS:-60}"
# Parallel fuzzing jobs per target (the longer run uses more; CI has 2 cores).
JOBS="${STRATA_FUZZ_JOBS:-1}"

header() { printf '\n==== %s ====\n' "$*"; }

header "build ($BUILD_DIR, clang 14, fuzzer + ASan + UBSan)"
bash scripts/install-deps.sh
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_FUZZ=ON -DSTRATA_BUILD_TESTS=OFF \
  -DSTRATA_BUILD_BENCH=OFF
cmake --build "$BUILD_DIR" -j2 --target strata_fuzz_frontend strata_fuzz_planjson

header "seed corpora"
BUILD_DIR="$(cd "$BUILD_DIR" && pwd)"
CORPUS="$BUILD_DIR/fuzz-corpus"
ARTIFACTS="$BUILD_DIR/fuzz-artifacts"
mkdir -p "$ARTIFACTS"
bash test/fuzz/make-corpus.sh "$BUILD_DIR" "$CORPUS"

status=0
fuzz() {
  local target="$1"; shift
  header "fuzz $target for ${SECONDS_PER_TARGET}s"
  local log="$BUILD_DIR/fuzz-$target.log"
  # New inputs go to a scratch dir, so that the seed dir stays what make-corpus made.
  local scratch="$BUILD_DIR/fuzz-new-$target"
  mkdir -p "$scratch"
  local jobArgs=()
  if [[ "$JOBS" -gt 1 ]]; then
    jobArgs=(-jobs="$JOBS" -workers="$JOBS")
  fi
  # From the build dir: with -jobs, libFuzzer writes fuzz-<n>.log files to the current dir.
  if (cd "$BUILD_DIR" && "$BUILD_DIR/test/fuzz/strata_fuzz_$target" "$@" -max_total_time="$SECONDS_PER_TARGET" \
       -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${jobArgs[@]}" \
       -artifact_prefix="$ARTIFACTS/$target-" "$scratch" "$CORPUS/$target") > "$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" || true
    echo "fuzz $target: no crash, leak or hang"
  else
    tail -n 60 "$log"
    echo "fuzz $target: FAILED; the input is in $ARTIFACTS (see $log)" >&2
    status=1
  fi
}
fuzz frontend -dict="$ROOT/test/fuzz/frontend.dict" -max_len=8192
fuzz planjson -max_len=65536
exit "$status"
