#!/usr/bin/env bash
# THE demo: builds strata, starts a throwaway PostgreSQL 15 (stopped again on exit), and
# runs strata on an example project. Every command is echoed with a `$ ` prefix so the output
# reads like a terminal transcript. Exits with the status of the last strata command.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

run() {
  echo "\$ $*"
  "$@"
}

run bash scripts/build.sh build

STRATA_PG_STATE="$(mktemp /tmp/strata-pg-state.XXXXXX)"
export STRATA_PG_STATE
# shellcheck disable=SC2317  # invoked through the trap
cleanup() {
  bash scripts/pg.sh stop || true
  rm -f "$STRATA_PG_STATE"
}
trap cleanup EXIT
echo "\$ eval \"\$(scripts/pg.sh start)\""
pgEnv="$(bash scripts/pg.sh start)"
eval "$pgEnv"
echo "\$ echo \$STRATA_TEST_DB"
echo "$STRATA_TEST_DB"

# The whole life of a project, as a release engineer would run it: check, bootstrap an
# old release, review the upgrade's plan, run `up` (old and new nodes both work), then
# `finish` once the old nodes are gone.
S=build/cli/strata
DB="$STRATA_TEST_DB"
OLD=core@1.0.0,rate_limiting@1.0.0
run "$S" check --source examples/design
run "$S" graph --source examples/design --from "$OLD"
run "$S" apply bootstrap --source examples/design --db "$DB" --to "$OLD"
status=0
run "$S" status --source examples/design --db "$DB" || status=$?
echo "(exit status $status: new versions are available)"
run "$S" plan up --source examples/design --from "$OLD"
run "$S" apply up --source examples/design --db "$DB"
status=0
run "$S" status --source examples/design --db "$DB" || status=$?
echo "(exit status $status: finish is pending)"
run "$S" plan finish --source examples/design --from "$OLD"
run "$S" apply finish --source examples/design --db "$DB" --yes
run "$S" status --source examples/design --db "$DB"
