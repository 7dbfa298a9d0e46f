#!/usr/bin/env bash
# Installs this build into a temporary prefix, builds examples/app against it with
# find_package(strata) (an old node and a new node of the gateway), and runs both, and
# `strata status --app`, on a fresh database taken through every state of an upgrade:
#   needs bootstrap -> bootstrapped at the old versions -> up ran -> finish ran.
#   example-app-test.sh SOURCE_DIR BUILD_DIR [APP_LINK_FLAGS]
# (STRATA_TEST_DB: a PostgreSQL to use; APP_LINK_FLAGS: -fsanitize=... under the sanitizers)
set -euo pipefail

SRC="$1"
BIN="$2"
APP_LINK_FLAGS="${3:-}"
: "${STRATA_TEST_DB:?STRATA_TEST_DB is not set (scripts/pg.sh start)}"

work="$(mktemp -d)"
dbName="strata_example_app_$$"
cleanup() {
  psql "$STRATA_TEST_DB" -qXc "DROP DATABASE IF EXISTS $dbName" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

cmake --install "$BIN" --prefix "$work/prefix" >/dev/null
S="$work/prefix/bin/strata"
for f in include/strata/strata.h include/strata/version.h share/man/man1/strata.1 \
  share/bash-completion/completions/strata; do
  [[ -f "$work/prefix/$f" ]] || fail "not installed: $f"
done

OLD_DB=core@0.14.1,key_auth@1.0.0,acl@1.0.0,rate_limiting@1.0.0,oauth2@1.0.0
# The old node does not use oauth2: subsystems it does not list are ignored.
OLD_APP=core@0.14.1,key_auth@1.0.0,acl@1.0.0,rate_limiting@1.0.0
NEW_APP=core@1.2.0,key_auth@1.2.0,acl@1.2.0,rate_limiting@2.0.0
for node in old new; do
  versions=$OLD_APP
  [[ $node == new ]] && versions=$NEW_APP
  cmake -S "$SRC/examples/app" -B "$work/$node" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
    -DAPP_VERSIONS="$versions" -DCMAKE_EXE_LINKER_FLAGS="$APP_LINK_FLAGS" >/dev/null
  cmake --build "$work/$node" >/dev/null
done

psql "$STRATA_TEST_DB" -qXc "CREATE DATABASE $dbName" >/dev/null
DB="$STRATA_TEST_DB dbname=$dbName"

# expect STATE NODE EXIT VERDICT: runs the node (and strata status --app with the same
# versions) and checks the exit code and the verdict printed.
expect() {
  local state="$1" node="$2" code="$3" verdict="$4" versions=$OLD_APP got out
  [[ $node == new ]] && versions=$NEW_APP
  got=0
  out="$("$work/$node/gateway_node" "$DB" 2>&1)" || got=$?
  echo "--- $state, $node node: exit $got"
  echo "$out"
  [[ $got -eq $code ]] || fail "$state, $node node: exit $got, expected $code"
  grep -q "): $verdict\$" <<<"$out" || fail "$state, $node node: verdict is not $verdict"
  got=0
  out="$("$S" status --app "$versions" --db "$DB" --format json 2>&1)" || got=$?
  [[ $got -eq $code ]] || fail "$state, strata status --app ($node): exit $got, expected $code"
  grep -q "\"verdict\": \"$verdict\"" <<<"$out" ||
    fail "$state, strata status --app ($node): verdict is not $verdict: $out"
}

expect "needs bootstrap" old 3 needs_bootstrap
expect "needs bootstrap" new 3 needs_bootstrap

"$S" apply bootstrap --source "$SRC/examples/gateway" --db "$DB" --to "$OLD_DB" >/dev/null
expect "bootstrapped at the old versions" old 0 ok
expect "bootstrapped at the old versions (new migrations)" new 5 needs_up

"$S" apply up --source "$SRC/examples/gateway" --db "$DB" >/dev/null
expect "up ran, finish pending" old 0 ok
expect "up ran, finish pending" new 0 ok
grep -q "blue/green window" <<<"$("$work/new/gateway_node" "$DB")" ||
  fail "pending finish: the new node does not say it starts in the blue/green window"
# statusApp VERSIONS EXIT WHAT: strata status --app in the current state.
statusApp() {
  local got=0
  "$S" status --app "$1" --db "$DB" >/dev/null 2>&1 || got=$?
  [[ $got -eq $2 ]] || fail "$3: strata status --app $1: exit $got, expected $2"
}
statusApp core@1.1.0 6 "a version up only passed through"
statusApp core@1.2.0,no_such_plugin@1.0.0 5 "a subsystem the database does not have"
statusApp core@1.3.0 5 "a version newer than the window"
statusApp core@1.2.0,core@1.2.0 1 "a subsystem listed twice"
statusApp core@1.2 1 "not a semantic version"

"$S" apply finish --source "$SRC/examples/gateway" --db "$DB" --yes >/dev/null
expect "finish ran" old 6 too_new
expect "finish ran" new 0 ok

# Bad input: one line, exit 1; an unreachable server: exit 1.
got=0
"$work/new/gateway_node" "host=/nonexistent-dir port=1" >/dev/null 2>&1 || got=$?
[[ $got -eq 1 ]] || fail "unreachable server: exit $got, expected 1"
got=0
err="$("$S" status --app core --db "$DB" 2>&1)" || got=$?
[[ $got -eq 1 && "$err" == *"expected SUBSYSTEM@VERSION"* ]] ||
  fail "status --app core: exit $got, '$err'"

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "example application: every state as expected"
