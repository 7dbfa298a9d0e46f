// strata-oracle: the differential test of the compatibility proof by hand (issue 22), for
// long runs: `strata-oracle --seed 1 --pairs 10000`. Needs a server (--db or
// STRATA_TEST_DB) where it may create and drop databases. Exits 1 when a soundness
// finding is not in the known list (--known, default test/oracle/known-findings.txt).
// `--print` shows a seed's pair without running it. See docs/reliability.md.
#include "test/oracle/Campaign.h"
#include "test/oracle/PairGenerator.h"

#include <llvm/Support/raw_ostream.h>

#include <cstdlib>
#include <cstring>
#include <string>

using namespace strata::oracle;

int main(int argc, char **argv) {
  CampaignOptions options;
  std::string db = std::getenv("STRATA_TEST_DB") ? std::getenv("STRATA_TEST_DB") : "";
  std::string knownPath = std::string(STRATA_SOURCE_DIR) + "/test/oracle/known-findings.txt";
  bool print = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        llvm::errs() << "strata-oracle: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seed")
      options.firstSeed = std::stoull(value());
    else if (a == "--pairs")
      options.pairs = std::stoull(value());
    else if (a == "--shrink-budget")
      options.shrinkBudget = std::stoi(value());
    else if (a == "--completeness")
      options.completeness = true;
    else if (a == "--verbose" || a == "-v")
      options.verbose = true;
    else if (a == "--db")
      db = value();
    else if (a == "--known")
      knownPath = value();
    else if (a == "--print")
      print = true;
    else {
      llvm::errs() << "usage: strata-oracle [--seed S] [--pairs N] [--shrink-budget R] "
                      "[--completeness] [--verbose] [--db CONNINFO] [--known FILE] [--print]\n";
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (print) {
    for (uint64_t s = options.firstSeed; s < options.firstSeed + options.pairs; ++s)
      llvm::outs() << "// seed " << s << "\n" << generatePair(s).dsl();
    return 0;
  }
  if (db.empty()) {
    llvm::errs() << "strata-oracle: no server: --db or STRATA_TEST_DB\n";
    return 2;
  }
  Oracle oracle(db);
  if (!oracle.failure().empty()) {
    llvm::errs() << "strata-oracle: " << oracle.failure() << "\n";
    return 2;
  }
  options.known = readKnownFindings(knownPath);
  CampaignFigures fig = runCampaign(oracle, options, llvm::outs());
  fig.print(llvm::outs(), options.known);
  return fig.unknownSignatures.empty() ? 0 : 1;
}
