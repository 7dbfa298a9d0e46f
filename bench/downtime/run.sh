#!/usr/bin/env bash
# Downtime under load: what an upgrade of a big, busy table costs the application that is
# using it, for strata's `apply up` and for a naive upgrade (plain ALTER TABLE / CREATE
# INDEX / UPDATE / SET NOT NULL), measured in one run. See docs/performance.md.
#
#   bash bench/downtime/run.sh            # 2 million rows, 8 clients (the documented run)
#   ROWS=200000 bash bench/downtime/run.sh  # smaller, for development
#
# For each upgrade: a fresh database with the 1.0.0 schema of bench/downtime/project
# (strata apply bootstrap) and ROWS rows; pgbench runs the old application
# (bench/downtime/old_app.sql: a primary-key read and a primary-key update per
# transaction) with CLIENTS clients and a per-transaction log; after IDLE seconds the
# upgrade to 2.0.0 runs; AFTER seconds after it ends pgbench stops. analyze.py prints, per
# phase, the transactions, failures, throughput, p50/p99/max latency and the longest
# stretch with no completed transaction. Logs stay in OUT (default: a new /tmp directory).
#
# Settings (environment): ROWS (2000000), CLIENTS (8), THREADS (2), IDLE (10), AFTER (10),
# STRATA_APPLY_FLAGS (the throttle of strata's backfills: "--batch-size 2000
# --batch-pause 30"), OUT, STRATA_BENCH_SKIP_BUILD=1 to use build/ as it is.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE=bench/downtime

ROWS="${ROWS:-2000000}"
CLIENTS="${CLIENTS:-8}"
THREADS="${THREADS:-2}"
IDLE="${IDLE:-10}"
AFTER="${AFTER:-10}"
STRATA_APPLY_FLAGS="${STRATA_APPLY_FLAGS:---batch-size 2000 --batch-pause 30}"
OUT="${OUT:-$(mktemp -d /tmp/strata-downtime.XXXXXX)}"
S="$ROOT/build/cli/strata"

log() { echo "downtime: $*" >&2; }
now() { date +%s.%N; }

if [[ "${STRATA_BENCH_SKIP_BUILD:-}" != 1 ]]; then
  bash scripts/build.sh build >"$OUT/build.log" 2>&1 || { tail -n 30 "$OUT/build.log" >&2; exit 1; }
fi
command -v pgbench >/dev/null || { log "error: pgbench not found (scripts/install-deps.sh)"; exit 1; }

# A throwaway server of our own (scripts/pg.sh), stopped on exit.
STRATA_PG_STATE="$(mktemp /tmp/strata-pg-state.XXXXXX)"
export STRATA_PG_STATE
pgbenchPid=""
cleanup() {
  if [[ -n "$pgbenchPid" ]]; then kill "$pgbenchPid" 2>/dev/null || true; fi
  bash scripts/pg.sh stop >/dev/null 2>&1 || true
  rm -f "$STRATA_PG_STATE"
}
trap cleanup EXIT
eval "$(bash scripts/pg.sh start)"

# The 1.0.0 database, seeded once: a tenth of the names are null (2.0.0 fills them).
log "seeding $ROWS rows"
psql -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE bench_strata" >/dev/null
"$S" apply bootstrap -s "$HERE/project" --db "$STRATA_TEST_DB dbname=bench_strata" \
  --to app@1.0.0 >"$OUT/bootstrap.log"
psql -qX -v ON_ERROR_STOP=1 -d bench_strata >/dev/null <<SQL
INSERT INTO accounts (id, balance, name, email, created_at)
  SELECT g, 0, CASE WHEN g % 10 = 0 THEN NULL ELSE 'name ' || g END,
         'user' || g || '@example.com', now()
  FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE accounts;
SQL
psql -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE bench_naive TEMPLATE bench_strata" >/dev/null

# Appends "label start end" for each step of a timestamped upgrade log: strata's step
# lines ("  app@2.0.0 up step 3: <reason> (<time>)", marked "(backfill)" when backfill
# progress lines came before it), or the naive statements.
stepPhases() {
  local upgradeLog="$1" start="$2"
  awk -v start="$start" '
    / backfill "[^"]*": / { backfill = 1 }
    / up step [0-9]+: / {
      line = $0; sub(/^[0-9.]+ +/, "", line); sub(/ \([^)]*\)$/, "", line)
      sub(/^[^ ]+ up /, "", line)
      if (backfill) sub(/:/, " (backfill):", line)
      print "up " line, start, $1; start = $1; backfill = 0 }
    / naive: / {
      line = $0; sub(/^[0-9.]+ naive: /, "", line)
      print line, start, $1; start = $1 }' "$upgradeLog"
}

# runScenario NAME: the old application's traffic around one upgrade.
runScenario() {
  local name="$1" db="bench_$1" dir="$OUT/$1"
  mkdir -p "$dir"
  psql -qX -d "$db" -c "CHECKPOINT" >/dev/null
  log "$name: pgbench, $CLIENTS clients"
  pgbench -n -c "$CLIENTS" -j "$THREADS" -T 100000 -D rows="$ROWS" -f "$HERE/old_app.sql" \
    --log --log-prefix="$dir/pgbench_log" "$db" >"$dir/pgbench.out" 2>"$dir/pgbench.err" &
  pgbenchPid=$!
  sleep 2 # connections made, caches warm
  local t0 t1 t2 t3
  t0=$(now)
  sleep "$IDLE"
  t1=$(now)
  log "$name: upgrading"
  if [[ "$name" == strata ]]; then
    # shellcheck disable=SC2086  # the flags are words
    "$S" apply up -s "$HERE/project" --db "$STRATA_TEST_DB dbname=$db" $STRATA_APPLY_FLAGS \
      | while IFS= read -r line; do printf '%s %s\n' "$(now)" "$line"; done >"$dir/upgrade.log"
  else
    while IFS= read -r statement; do
      psql -qX -v ON_ERROR_STOP=1 -d "$db" -c "$statement" >/dev/null
      printf '%s naive: %s\n' "$(now)" "$statement" >>"$dir/upgrade.log"
    done <"$HERE/naive.sql"
  fi
  t2=$(now)
  sleep "$AFTER"
  t3=$(now)
  # pgbench writes its logs as transactions end; stop it a little after the last phase,
  # so that what it had not written yet is outside every phase.
  sleep 2
  kill -TERM "$pgbenchPid" 2>/dev/null || true
  wait "$pgbenchPid" 2>/dev/null || true
  pgbenchPid=""
  grep -cE '^client [0-9]+ aborted' "$dir/pgbench.err" >"$dir/aborted" || true
  {
    echo "before (idle) $t0 $t1"
    echo "during upgrade $t1 $t2"
    stepPhases "$dir/upgrade.log" "$t1"
    echo "after $t2 $t3"
  } >"$dir/phases"
}

runScenario strata
runScenario naive

echo "Downtime under load: $ROWS rows, $CLIENTS pgbench clients (-j $THREADS), strata apply up" \
  "$STRATA_APPLY_FLAGS; $(date -u '+%Y-%m-%d %H:%M UTC'); load:$(uptime | sed 's/.*load average//')"
echo
python3 "$HERE/analyze.py" "$OUT" strata naive
echo
echo "logs: $OUT"
for name in strata naive; do
  if [[ -s "$OUT/$name/pgbench.err" ]] && grep -qE 'aborted|ERROR' "$OUT/$name/pgbench.err"; then
    echo "$name: pgbench errors:"
    grep -E 'aborted|ERROR' "$OUT/$name/pgbench.err" | head -n 5
  fi
done
