#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests and the demo.
#
#   eval "$(scripts/pg.sh start)"   # initdb + start; prints `export ...` lines
#   scripts/pg.sh env               # prints the same lines again
#   scripts/pg.sh stop              # fast shutdown, removes the data dir
#   scripts/pg.sh restart [fast|immediate]   # shutdown mode (default fast), then start again
#
# The cluster lives in a fresh `mktemp -d /tmp/strata-pg.XXXXXX` dir, trusts every local
# user, and listens on a Unix socket in that dir only (no TCP), so several can run side by
# side with the same port number. The dir is recorded in $STRATA_PG_STATE (default
# /tmp/strata-pg.current) so `stop` and `env` find it; callers that may run concurrently
# should point STRATA_PG_STATE at a file of their own. Port: $STRATA_PG_PORT (default 54329).
# fsync: $STRATA_PG_FSYNC (default off, for speed; the benchmarks turn it on).
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
# (runuser); as any other user it runs as that user. Only `export` lines go to stdout;
# progress and errors go to stderr, so `eval "$(scripts/pg.sh start)"` is safe.
set -euo pipefail

PGBIN="${STRATA_PGBIN:-/usr/lib/postgresql/15/bin}"
STATE="${STRATA_PG_STATE:-/tmp/strata-pg.current}"
PORT="${STRATA_PG_PORT:-54329}"
# Tests do not need their data to survive a power cut; benchmarks of commits do (on).
FSYNC="${STRATA_PG_FSYNC:-off}"

log() { echo "pg.sh: $*" >&2; }

# Runs a PostgreSQL binary as the server's owner. The cwd is moved to the data's parent
# because the postgres user may not be able to read the caller's cwd (e.g. /root).
asOwner() {
  local dir="$1"
  shift
  if [[ $(id -u) -eq 0 ]]; then
    (cd "$dir" && runuser -u postgres -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

# Only dirs this script creates are ever removed, whatever the state file says.
isOurDir() { [[ "$1" =~ ^/tmp/strata-pg\.[A-Za-z0-9]+$ && -d "$1" ]]; }

printEnv() {
  local dir="$1" port="$2"
  echo "export STRATA_PG_DIR='$dir'"
  echo "export STRATA_TEST_DB='host=$dir port=$port user=postgres dbname=postgres'"
  # So plain psql (and libpq with an empty conninfo) reach the same server.
  echo "export PGHOST='$dir' PGPORT='$port' PGUSER='postgres' PGDATABASE='postgres'"
}

readState() {
  [[ -f "$STATE" ]] || return 1
  # Format: "DIR PORT" on one line.
  read -r stateDir statePort <"$STATE" || return 1
  [[ -n "${stateDir:-}" && -n "${statePort:-}" ]]
}

isRunning() {
  local dir="$1"
  [[ -d "$dir/data" ]] && asOwner "$dir" "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

showLog() {
  local f="$1"
  [[ -s "$f" ]] || return 0
  echo "---- tail of $f ----" >&2
  tail -n 30 "$f" >&2
}

cmdStart() {
  if readState && isRunning "$stateDir"; then
    log "error: a server from $STATE is already running in $stateDir;"
    log "use 'pg.sh env' to reach it, 'pg.sh stop' to stop it, or set STRATA_PG_STATE"
    exit 1
  fi
  [[ "$PORT" =~ ^[0-9]+$ ]] || { log "error: STRATA_PG_PORT must be a number, got '$PORT'"; exit 1; }
  [[ "$FSYNC" == on || "$FSYNC" == off ]] || { log "error: STRATA_PG_FSYNC must be on or off, got '$FSYNC'"; exit 1; }
  [[ -x "$PGBIN/initdb" ]] || { log "error: $PGBIN/initdb not found (run scripts/install-deps.sh)"; exit 1; }

  local dir
  dir="$(mktemp -d /tmp/strata-pg.XXXXXX)"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$dir"
  fi
  chmod 700 "$dir"

  # fail MESSAGE LOGFILE: report, show the log that explains it, leave nothing behind.
  fail() {
    log "error: $1"
    showLog "$2"
    if isRunning "$dir"; then
      asOwner "$dir" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    exit 1
  }

  log "initdb in $dir"
  asOwner "$dir" "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || fail "initdb failed" "$dir/initdb.log"

  log "starting PostgreSQL on socket $dir/.s.PGSQL.$PORT"
  asOwner "$dir" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir -p $PORT -c fsync=$FSYNC -c max_connections=200" \
    start >"$dir/pg_ctl.log" 2>&1 || { cat "$dir/pg_ctl.log" >&2; fail "pg_ctl start failed" "$dir/server.log"; }

  echo "$dir $PORT" >"$STATE"
  log "ready (state in $STATE)"
  printEnv "$dir" "$PORT"
}

cmdEnv() {
  if ! readState || ! isRunning "$stateDir"; then
    log "error: no running server recorded in $STATE (run 'pg.sh start')"
    exit 1
  fi
  printEnv "$stateDir" "$statePort"
}

# Idempotent: stopping when nothing runs is not an error, so it is safe in an EXIT trap.
cmdStop() {
  if ! readState; then
    log "no server recorded in $STATE"
    return 0
  fi
  if isRunning "$stateDir"; then
    log "stopping server in $stateDir"
    asOwner "$stateDir" "$PGBIN/pg_ctl" -D "$stateDir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      { log "warning: fast stop failed, stopping immediately"; showLog "$stateDir/server.log"
        asOwner "$stateDir" "$PGBIN/pg_ctl" -D "$stateDir/data" -m immediate -w stop >/dev/null 2>&1 || true; }
  fi
  if isOurDir "$stateDir"; then
    rm -rf "$stateDir"
  else
    log "warning: not removing $stateDir (not a dir created by pg.sh)"
  fi
  rm -f "$STATE"
}

# A restart in the given shutdown mode (immediate: no checkpoint, crash recovery on start),
# with the options of the first start; for tests of what a restart does to clients.
cmdRestart() {
  local mode="${1:-fast}"
  [[ "$mode" == fast || "$mode" == immediate ]] ||
    { log "error: restart mode must be 'fast' or 'immediate', got '$mode'"; exit 2; }
  if ! readState || ! isRunning "$stateDir"; then
    log "error: no running server recorded in $STATE (run 'pg.sh start')"
    exit 1
  fi
  log "restarting server in $stateDir ($mode shutdown)"
  asOwner "$stateDir" "$PGBIN/pg_ctl" -D "$stateDir/data" -l "$stateDir/server.log" -m "$mode" \
    -w -t 60 restart >"$stateDir/pg_ctl.log" 2>&1 ||
    { cat "$stateDir/pg_ctl.log" >&2; showLog "$stateDir/server.log"; log "error: restart failed"; exit 1; }
}

case "${1:-}" in
  start) cmdStart ;;
  stop) cmdStop ;;
  restart) cmdRestart "${2:-fast}" ;;
  env) cmdEnv ;;
  *)
    echo "usage: $0 start|stop|env|restart [fast|immediate]" >&2
    exit 2
    ;;
esac
