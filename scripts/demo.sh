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

# The whole life of the API gateway example (examples/gateway: a core and four plugins
# over four releases), as a release engineer runs it: check, bootstrap the 0.14.1 release,
# review the upgrade's plan, run `up` (old and new nodes both work), then `finish` once the
# old nodes are gone.
S=build/cli/strata
DB="$STRATA_TEST_DB"
OLD=core@0.14.1,key_auth@1.0.0,acl@1.0.0,rate_limiting@1.0.0,oauth2@1.0.0
run "$S" check --source examples/gateway
run "$S" graph --source examples/gateway --from "$OLD"
run "$S" apply bootstrap --source examples/gateway --db "$DB" --to "$OLD"
status=0
run "$S" status --source examples/gateway --db "$DB" || status=$?
echo "(exit status $status: new versions are available)"
run "$S" plan up --source examples/gateway --from "$OLD"
run "$S" apply up --source examples/gateway --db "$DB"
status=0
run "$S" status --source examples/gateway --db "$DB" || status=$?
echo "(exit status $status: finish is pending)"
run "$S" plan finish --source examples/gateway --from "$OLD"
run "$S" apply finish --source examples/gateway --db "$DB" --yes
run "$S" status --source examples/gateway --db "$DB"
