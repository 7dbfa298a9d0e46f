#!/usr/bin/env bash
# The benchmarks of docs/performance.md, with one command:
#
#   bash bench/run.sh            # everything (about 10 minutes on a quiet 2-core machine)
#   bash bench/run.sh stages     # only the per-stage Google Benchmark suite (no database)
#
# 1. stages: every stage (parse, compile, graph, plan up/finish/bootstrap, render SQL/JSON)
#    from 100 to 20,000 versions: prints the table, writes docs/performance-stages.svg.
# 2. cli: `strata check` and `strata plan up` of 10,000 versions (200 subsystems x 50),
#    end to end: wall time (hyperfine) and peak RSS (/usr/bin/time).
# 3. db (needs PostgreSQL, started with scripts/pg.sh on a private state file):
#    `strata apply up` of 1,000 small versions against `psql -1 -f` on the same SQL, the
#    round trips of each (strace), and `strata status` with 10,000 executed versions, with
#    its cache cold (emptied before each run) and warm.
#
# Results go to $STRATA_BENCH_OUT (default build/bench-results). Figures are never asserted:
# they are printed, with `uptime`, since the machine's load changes wall times.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${STRATA_BUILD:-$ROOT/build}"
OUT="${STRATA_BENCH_OUT:-$BUILD/bench-results}"
WHAT="${1:-all}"
mkdir -p "$OUT"

if [[ ! -f "$BUILD/build.ninja" ]]; then
  bash "$ROOT/scripts/build.sh" "$BUILD"
fi
cmake --build "$BUILD" -j2 --target strata strata_gen strata_stages strata_bench_report >/dev/null
STRATA="$BUILD/cli/strata"
GEN="$BUILD/bench/strata_gen"
RUNS="${STRATA_BENCH_RUNS:-5}"

say() { printf '\n== %s\n' "$*"; }
say "machine: $(nproc) cores; load: $(uptime | sed 's/.*load average/load average/')"

if [[ "$WHAT" == all || "$WHAT" == stages ]]; then
  say "stages (Google Benchmark; time per run / heap peak of one run)"
  "$BUILD/bench/strata_stages" --benchmark_min_time=1 --benchmark_out="$OUT/stages.json" \
    --benchmark_out_format=json >"$OUT/stages.txt"
  "$BUILD/bench/strata_bench_report" "$OUT/stages.json" "$ROOT/docs/performance-stages.svg"
  echo "plot: docs/performance-stages.svg"
fi

if [[ "$WHAT" == all || "$WHAT" == cli ]]; then
  say "cli: check and plan up of 10,000 versions (200 subsystems x 50)"
  rm -rf "$OUT/p10k"
  "$GEN" 200 50 42 "$OUT/p10k"
  du -sh "$OUT/p10k" | sed 's/^/source: /'
  for cmd in "check $OUT/p10k" "plan up $OUT/p10k"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "strata $cmd: %e s wall, %M KB peak RSS" "$STRATA" $cmd >/dev/null
  done
  # 20 runs at least, and the median next to the mean: on a 2-core VM the same command's
  # wall time scatters by +-20 % from run to run.
  hyperfine -N -w 2 -r "$(( RUNS > 20 ? RUNS : 20 ))" --export-markdown "$OUT/cli.md" \
    --export-json "$OUT/cli.json" \
    "$STRATA check $OUT/p10k" "$STRATA plan up $OUT/p10k" \
    "bash -c '$STRATA check $OUT/p10k >/dev/null && $STRATA plan up $OUT/p10k >/dev/null'"
  cat "$OUT/cli.md"
  python3 - "$OUT/cli.json" <<'PY'
import json, statistics, sys
for r in json.load(open(sys.argv[1]))["results"]:
    t = r["times"]
    print(f"median {statistics.median(t) * 1000:7.1f} ms  mean {statistics.mean(t) * 1000:7.1f} ms"
          f"  min {min(t) * 1000:7.1f} ms  {r['command'].replace(sys.argv[1].rsplit('/', 1)[0] + '/', '')}")
PY
  # Growth: check + plan up at 1/4, 1/2 and all of the 200 subsystems.
  for s in 50 100 200 400; do
    rm -rf "$OUT/g$s"
    "$GEN" "$s" 50 42 "$OUT/g$s"
    /usr/bin/time -f "$((s * 50)) versions: check + plan up %e s wall, %M KB peak RSS" \
      bash -c "'$STRATA' check '$OUT/g$s' >/dev/null && '$STRATA' plan up '$OUT/g$s' >/dev/null"
  done
fi

if [[ "$WHAT" == all || "$WHAT" == db ]]; then
  export STRATA_PG_STATE="${STRATA_PG_STATE:-/tmp/strata-pg-state.bench.$$}"
  # fsync on, as in production: a commit then waits for the disk, which is what one
  # transaction per version costs against psql -1's single commit.
  export STRATA_PG_FSYNC=on
  eval "$(bash "$ROOT/scripts/pg.sh" start)"
  trap 'bash "$ROOT/scripts/pg.sh" stop' EXIT
  say "db: PostgreSQL $(psql -XAtc 'show server_version'), fsync=$(psql -XAtc 'show fsync')"

  # 1,000 small versions: 10 subsystems x 101 versions, bootstrapped at 1.0.0 each, so
  # that `apply up` runs the other 1,000 (one new table or one added column each).
  rm -rf "$OUT/small"
  "$GEN" --small 10 101 42 "$OUT/small"
  base="core@1.0.0"
  for i in $(seq 1 9); do base="$base,plugin_$i@1.0.0"; done
  dropdb --if-exists bench_base >/dev/null 2>&1
  createdb bench_base
  "$STRATA" apply bootstrap --db "dbname=bench_base" --to "$base" "$OUT/small" >/dev/null
  # The plan's steps, from its JSON: `--format sql` is a script that does what apply does
  # (records, checks of the database's state, batches), not the bare statements psql
  # should be compared on.
  "$STRATA" plan up --db "dbname=bench_base" --format json "$OUT/small" >"$OUT/up.json"
  # up-plain.sql: the statements for psql -1 (one transaction for the whole file).
  # up-steps.sql: each step (BEGIN, its statements, COMMIT) sent as one message (psql's
  # \;), as strata sends it: what one transaction per version costs without strata's
  # bookkeeping.
  python3 - "$OUT/up.json" "$OUT/up-plain.sql" "$OUT/up-steps.sql" <<'PY'
import json, sys
steps = json.load(open(sys.argv[1]))["steps"]
with open(sys.argv[2], "w") as plain, open(sys.argv[3], "w") as each:
    for step in steps:
        statements = [s.strip() for s in step["sql"].strip().rstrip(";").split(";\n")]
        plain.write(";\n".join(statements) + ";\n")
        each.write("BEGIN \\; " + " \\; ".join(statements) + " \\; COMMIT;\n")
print(f"steps: {len(steps)}")
PY
  # Every run starts from the same state: a fresh copy of the bootstrapped database and a
  # checkpoint (otherwise a run that happens to cross a checkpoint pays for its full-page
  # writes). The commands run in interleaved rounds, each compared with psql -1 in the
  # same round (bench/interleave.py says why: the VM's speed drifts).
  fresh="dropdb --if-exists bench_run; createdb -T bench_base bench_run; psql -XAqc checkpoint"
  python3 "$ROOT/bench/interleave.py" --rounds "$(( RUNS > 15 ? RUNS : 15 ))" --prepare "$fresh" \
    "strata apply up=$STRATA apply up --db dbname=bench_run $OUT/small" \
    "psql, a message per step=psql -X -q -v ON_ERROR_STOP=1 -d bench_run -f $OUT/up-steps.sql" \
    "psql -1 -f=psql -X -q -1 -v ON_ERROR_STOP=1 -d bench_run -f $OUT/up-plain.sql" |
    tee "$OUT/apply.txt"

  # The same over a slower network: a proxy that delays each chunk in each direction
  # (bench/delayproxy.py), whose round trip is measured first. Every round trip then
  # costs milliseconds, and strata sends a message per batch of versions, psql one per
  # statement.
  say "apply over a link with a few ms of round trip (bench/delayproxy.py)"
  proxyPort=$((PGPORT + 171))
  python3 "$ROOT/bench/delayproxy.py" "$proxyPort" "$PGHOST/.s.PGSQL.$PGPORT" 0.25 &
  proxy=$!
  trap 'kill $proxy 2>/dev/null; bash "$ROOT/scripts/pg.sh" stop' EXIT
  sleep 1
  slow="host=127.0.0.1 port=$proxyPort user=postgres dbname=bench_run"
  start=$(date +%s.%N)
  for _ in $(seq 1 1000); do echo "select 1;"; done | psql -X -q -d "$slow" >/dev/null
  echo "round trip through the proxy: $(python3 -c "print(f'{($(date +%s.%N) - $start):.2f}')") ms (1,000 select 1 in that many s)"
  python3 "$ROOT/bench/interleave.py" --rounds 5 --prepare "$fresh" \
    "strata apply up=$STRATA apply up --db '$slow' $OUT/small" \
    "psql -1 -f=psql -X -q -1 -v ON_ERROR_STOP=1 -d '$slow' -f $OUT/up-plain.sql" |
    tee "$OUT/apply-slow-link.txt"
  kill $proxy
  trap 'bash "$ROOT/scripts/pg.sh" stop' EXIT

  # A query message (one round trip) is a sendto whose data starts with 'Q'; a long
  # message takes more than one sendto.
  say "round trips (query messages to the server, strace)"
  bash -c "$fresh" >/dev/null 2>&1
  strace -f -qq -e trace=sendto -o "$OUT/strata.strace" \
    "$STRATA" apply up --db dbname=bench_run "$OUT/small" >/dev/null
  bash -c "$fresh" >/dev/null 2>&1
  strace -f -qq -e trace=sendto -o "$OUT/psql.strace" \
    psql -X -q -1 -v ON_ERROR_STOP=1 -d bench_run -f "$OUT/up-plain.sql" >/dev/null
  echo "strata apply up: $(grep -c 'sendto([0-9]*, "Q' "$OUT/strata.strace") round trips"
  echo "psql -1 -f:      $(grep -c 'sendto([0-9]*, "Q' "$OUT/psql.strace") round trips"

  say "status with 10,000 executed versions"
  [[ -d "$OUT/p10k" ]] || "$GEN" 200 50 42 "$OUT/p10k"
  dropdb --if-exists bench_status >/dev/null 2>&1
  createdb bench_status
  "$STRATA" apply bootstrap --db "dbname=bench_status" "$OUT/p10k" >/dev/null
  echo "executed versions: $(psql -XAtd bench_status -c "select count(*) from strata_nodes where subsystem <> 'strata'")"
  # Cold: the status cache emptied before each run (compile + scratch-schema drift check);
  # warm: the cache from the previous run (only the records and the live catalog read).
  export STRATA_CACHE_DIR="$OUT/status-cache"
  rm -rf "$STRATA_CACHE_DIR"
  /usr/bin/time -f "strata status, cold: %e s wall, %U s user, %M KB peak RSS" \
    "$STRATA" status --db dbname=bench_status "$OUT/p10k" >/dev/null
  /usr/bin/time -f "strata status, warm: %e s wall, %U s user, %M KB peak RSS" \
    "$STRATA" status --db dbname=bench_status "$OUT/p10k" >/dev/null
  hyperfine -w 1 -r "$RUNS" --export-markdown "$OUT/status.md" \
    -n "strata status, cold cache" --prepare "rm -rf $STRATA_CACHE_DIR" \
    "$STRATA status --db dbname=bench_status $OUT/p10k" \
    -n "strata status, warm cache" --prepare "true" \
    "$STRATA status --db dbname=bench_status $OUT/p10k"
  cat "$OUT/status.md"
fi

say "load at the end: $(uptime | sed 's/.*load average/load average/')"
