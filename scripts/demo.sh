#!/usr/bin/env bash
# THE demo: builds strata, starts a throwaway PostgreSQL 15 (stopped again on exit), and
# runs strata on examples/. Every command is echoed with a `$ ` prefix so the output
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

# Later steps (plan/apply against $STRATA_TEST_DB) go here.
status=0
run build/cli/strata check --source examples || status=$?
echo "(exit status $status)"
exit "$status"
