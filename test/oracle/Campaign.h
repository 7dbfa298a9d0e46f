// Campaign: a run of the oracle over a range of seeds, as the smoke test and the
// strata-oracle executable do it: generate each pair, run it, shrink every unsound one to
// a minimal pair and its signature, tell known open findings (known-findings.txt) from
// new ones, and with `completeness` run each refused pair again with every change marked
// unsafe (a refusal whose run then shows nothing is a completeness note). Prints each new
// signature once in full (seed, the minimal DSL of both versions, the plan, the statement
// and PostgreSQL's error) and the figures at the end.
//
// Test-only (test/oracle).
#pragma once

#include "test/oracle/Oracle.h"

#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace strata::oracle {

/// The known open findings: signature -> note ("issue 17 bug 1"), from a file of lines
/// `signature  # note`; blank lines and lines starting with '#' are left out.
std::map<std::string, std::string> readKnownFindings(const std::string &path);

struct CampaignOptions {
  uint64_t firstSeed = 1;
  uint64_t pairs = 10;
  /// When not empty: these seeds instead of firstSeed and pairs.
  std::vector<uint64_t> seeds;
  int shrinkBudget = 80;
  bool completeness = false;
  bool verbose = false;
  std::map<std::string, std::string> known;
};

struct CampaignFigures {
  uint64_t pairs = 0, invalid = 0, refused = 0, ran = 0, unsoundPairs = 0, warnedPairs = 0;
  uint64_t statements = 0, looser = 0, shrinkRuns = 0, completenessRuns = 0;
  std::map<std::string, std::vector<uint64_t>> seedsBySignature; ///< unsound findings
  std::set<std::string> unknownSignatures;
  std::map<std::string, uint64_t> refusedByCode;
  std::map<std::string, uint64_t> completenessByCode; ///< refusals never borne out
  std::vector<uint64_t> invalidSeeds;
  double seconds = 0;

  void print(llvm::raw_ostream &out, const std::map<std::string, std::string> &known) const;
};

CampaignFigures runCampaign(Oracle &oracle, const CampaignOptions &options, llvm::raw_ostream &out);

} // namespace strata::oracle
