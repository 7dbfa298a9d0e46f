#!/usr/bin/env bash
# Makes the seed corpora of the fuzz targets from the project's own inputs (nothing is
# copied into git): test/fuzz/make-corpus.sh FUZZ_BUILD_DIR OUT_DIR
#   OUT_DIR/frontend: every .strata file of examples/ and test/golden/ (valid, invalid, plan
#                     inputs) and test/fuzz/regressions/frontend/;
#   OUT_DIR/planjson: the plan files (JSON) of every plan the front-end target makes from
#                     those seeds (STRATA_FUZZ_DUMP_JSON), the golden plan file, and
#                     test/fuzz/regressions/planjson/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="$(cd "${1:?usage: make-corpus.sh FUZZ_BUILD_DIR OUT_DIR}" && pwd)"
OUT="${2:?usage: make-corpus.sh FUZZ_BUILD_DIR OUT_DIR}"
mkdir -p "$OUT/frontend" "$OUT/planjson"

# A seed's name is its path with / as _, so that two input.strata files do not collide.
while IFS= read -r -d '' f; do
  rel="${f#"$ROOT"/}"
  cp "$f" "$OUT/frontend/${rel//\//_}"
done < <(find "$ROOT/examples" "$ROOT/test/golden" "$ROOT/test/fuzz/regressions/frontend" \
           -name '*.strata' -print0 2>/dev/null)

cp "$ROOT/test/golden/plan/format/plan.json" "$OUT/planjson/golden_format_plan.json"
if [[ -d "$ROOT/test/fuzz/regressions/planjson" ]]; then
  find "$ROOT/test/fuzz/regressions/planjson" -type f -exec cp {} "$OUT/planjson/" \;
fi
# -runs=0 executes every seed once and stops.
STRATA_FUZZ_DUMP_JSON="$OUT/planjson" "$BUILD_DIR/test/fuzz/strata_fuzz_frontend" -runs=0 \
  "$OUT/frontend" > "$OUT/make-corpus.log" 2>&1
echo "make-corpus: $(ls "$OUT/frontend" | wc -l) front-end seeds, $(ls "$OUT/planjson" | wc -l) plan files"
