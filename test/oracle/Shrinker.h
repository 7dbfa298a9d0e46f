// Shrinker: reduces a pair whose run was unsound to a minimal pair that still fails the
// same way (the same OracleFinding::what()), as C-Reduce and QuickCheck do: drop a version,
// a change, a table, a column, a table element, an enum, a column attribute or an
// `unsafe` marker, keep the result when the failure stays, until nothing more can go or
// the budget of runs is spent. The workload is derived from the schemas, so it shrinks
// with them. The signature of the minimal pair (what failed, and the kinds of the changes
// left) is what the list of known open findings holds.
//
// Test-only (test/oracle).
#pragma once

#include "test/oracle/Oracle.h"

namespace strata::oracle {

struct ShrinkResult {
  GeneratedPair pair;
  PairResult result;
  int runs = 0;
};

/// Shrinks \p pair, whose run gave \p result (unsound), with at most \p budget runs.
ShrinkResult shrink(Oracle &oracle, const GeneratedPair &pair, const PairResult &result,
                    int budget);

/// "statement failed (old): add constraint, rename column".
std::string signature(const GeneratedPair &pair, const OracleFinding &finding);

} // namespace strata::oracle
