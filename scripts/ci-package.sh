#!/usr/bin/env bash
# CI job: the Debian package. Builds it with CPack (from the build dir scripts/test.sh left,
# or a fresh one), installs it with dpkg -i as a user would, runs the installed strata
# (--version, check on an example, the man page and the bash completion), builds the
# example application against the installed package and runs it on a real PostgreSQL,
# then removes the package and checks that nothing of it is left. Needs root (dpkg).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${STRATA_BUILD_DIR:-build}"

header() { printf '\n==== %s ====\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
  echo "ci-package: error: dpkg -i needs root" >&2
  exit 1
fi

header "package ($BUILD_DIR)"
if [[ ! -f "$BUILD_DIR/CPackConfig.cmake" ]]; then
  bash scripts/build.sh "$BUILD_DIR"
fi
cmake --build "$BUILD_DIR" -j2
rm -rf "$BUILD_DIR/package"
cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$BUILD_DIR/package"
deb="$(ls "$BUILD_DIR"/package/strata_*.deb)"
dpkg-deb --field "$deb" Package Version Architecture Depends
dpkg-deb --contents "$deb" | awk '{ print $NF }'

header "install"
if dpkg-query -W strata >/dev/null 2>&1; then
  dpkg -r strata
fi
# Missing dependencies leave the package unconfigured; apt-get -f installs them.
dpkg -i "$deb" || DEBIAN_FRONTEND=noninteractive apt-get install -f -y --no-install-recommends
dpkg-query -W -f='${Package} ${Version} ${db:Status-Status}\n' strata
[[ "$(dpkg-query -W -f='${db:Status-Status}' strata)" == installed ]]

header "run the installed strata"
[[ "$(command -v strata)" == /usr/bin/strata ]]
/usr/bin/strata --version
expected="strata $(sed -n 's/^project(strata VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
[[ "$(/usr/bin/strata --version)" == "$expected" ]]
/usr/bin/strata check --source examples/gateway
echo "man page: $(dpkg -L strata | grep '/man1/strata.1')"
grep -q '^\.SS strata status' /usr/share/man/man1/strata.1
# Sourced inside a function, as bash-completion loads it; complete a subcommand, an option
# and an option's value.
completeWords() { # completeWords WORDS...: what TAB offers for the last word
  bash -c 'load() { source /usr/share/bash-completion/completions/strata; }; load
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _strata; echo "${COMPREPLY[*]}"' _ "$@" 2>&1
}
for words in "strata ap:apply" "strata apply --for:--force" "strata status --format j:json"; do
  # shellcheck disable=SC2086  # the words are split on purpose
  got="$(completeWords ${words%%:*})"
  echo "completion of '${words%%:*}': $got"
  [[ "$got" == "${words#*:}" ]]
done

header "the example application against the installed package"
work="$(mktemp -d)"
STRATA_PG_STATE="$(mktemp /tmp/strata-pg-state.XXXXXX)"
export STRATA_PG_STATE
cleanup() {
  bash scripts/pg.sh stop >/dev/null 2>&1 || true
  rm -rf "$work" "$STRATA_PG_STATE"
}
trap cleanup EXIT
cmake -S examples/app -B "$work/app" -G Ninja
cmake --build "$work/app"
ldd "$work/app/gateway_node" | grep libstrata
pgEnv="$(bash scripts/pg.sh start)"
eval "$pgEnv"
status=0
"$work/app/gateway_node" "$STRATA_TEST_DB" || status=$?
[[ $status -eq 3 ]] || { echo "expected exit 3 (needs bootstrap), got $status" >&2; exit 1; }
/usr/bin/strata apply bootstrap --source examples/gateway --db "$STRATA_TEST_DB" | tail -n 1
"$work/app/gateway_node" "$STRATA_TEST_DB"

header "remove"
dpkg -r strata
for f in /usr/bin/strata /usr/share/man/man1/strata.1 /usr/include/strata/strata.h \
  /usr/share/bash-completion/completions/strata; do
  [[ ! -e "$f" ]] || { echo "still there after dpkg -r: $f" >&2; exit 1; }
done
if compgen -G "/usr/lib/libstrata.so*" >/dev/null || compgen -G "/usr/lib/*/libstrata.so*" >/dev/null; then
  echo "libstrata still there after dpkg -r" >&2
  exit 1
fi
if [[ "$(dpkg-query -W -f='${db:Status-Status}' strata 2>/dev/null || true)" == installed ]]; then
  echo "strata is still installed" >&2
  exit 1
fi
echo "ci-package: the package builds, installs, runs and removes cleanly"
