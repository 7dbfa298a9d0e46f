#include "test/oracle/Campaign.h"

#include "test/oracle/PairGenerator.h"
#include "test/oracle/Shrinker.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/MemoryBuffer.h>

namespace strata::oracle {

std::map<std::string, std::string> readKnownFindings(const std::string &path) {
  std::map<std::string, std::string> out;
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return out;
  llvm::SmallVector<llvm::StringRef, 32> lines;
  (*buffer)->getBuffer().split(lines, '\n');
  for (llvm::StringRef line : lines) {
    line = line.trim();
    if (line.empty() || line.startswith("#"))
      continue;
    auto [signature, note] = line.split('#');
    out[signature.trim().str()] = note.trim().str();
  }
  return out;
}

namespace {

const OracleFinding *findingLike(const PairResult &r, const std::string &what) {
  for (const OracleFinding &f : r.findings)
    if (!f.warned && f.what() == what)
      return &f;
  return r.firstUnsound();
}

void printFailure(llvm::raw_ostream &out, uint64_t seed, const std::string &sig,
                  const ShrinkResult &s, const OracleFinding &f, bool known) {
  out << "==== " << (known ? "known" : "NEW") << " soundness finding, seed " << seed << " ("
      << s.runs << " shrink runs)\n"
      << "signature: " << sig << "\n"
      << "--- old version (strata-oracle --seed " << seed << " --pairs 1 prints the original) ---\n"
      << s.pair.startDsl() << "--- both versions, minimal ---\n"
      << s.pair.dsl() << "--- plan up ---\n"
      << s.result.plan << "--- finding ---\n"
      << f.str();
  if (!s.result.diagnostics.empty())
    out << "--- strata check ---\n" << s.result.diagnostics;
  out << "\n";
}

} // namespace

CampaignFigures runCampaign(Oracle &oracle, const CampaignOptions &options,
                            llvm::raw_ostream &out) {
  CampaignFigures fig;
  auto started = std::chrono::steady_clock::now();
  std::vector<uint64_t> seeds = options.seeds;
  if (seeds.empty())
    for (uint64_t s = options.firstSeed; s < options.firstSeed + options.pairs; ++s)
      seeds.push_back(s);
  for (uint64_t seed : seeds) {
    ++fig.pairs;
    GeneratedPair pair = generatePair(seed);
    PairResult r = oracle.run(pair);
    fig.statements += r.statements;
    fig.looser += r.looser;
    switch (r.verdict) {
    case PairResult::Verdict::Invalid:
      ++fig.invalid;
      fig.invalidSeeds.push_back(seed);
      if (options.verbose)
        out << "seed " << seed << ": does not compile\n" << pair.dsl() << r.diagnostics << "\n";
      continue;
    case PairResult::Verdict::Refused: {
      ++fig.refused;
      std::set<std::string> codes(r.errorCodes.begin(), r.errorCodes.end());
      for (const std::string &c : codes)
        ++fig.refusedByCode[c];
      if (options.verbose)
        out << "seed " << seed << ": refused (" << llvm::join(codes, ", ") << ")\n";
      if (!options.completeness)
        continue;
      ++fig.completenessRuns;
      PairResult waived = oracle.run(pair.allUnsafe());
      fig.statements += waived.statements;
      if (waived.verdict == PairResult::Verdict::Ran && waived.findings.empty()) {
        for (const std::string &c : codes)
          ++fig.completenessByCode[c];
        if (options.verbose)
          out << "seed " << seed << ": completeness note: refused with " << llvm::join(codes, ", ")
              << ", nothing failed with unsafe\n";
      }
      continue;
    }
    case PairResult::Verdict::Ran:
      break;
    }
    ++fig.ran;
    if (!r.findings.empty() && !r.unsound())
      ++fig.warnedPairs;
    if (!r.unsound()) {
      if (options.verbose)
        out << "seed " << seed << ": ok (" << r.statements << " statements, " << r.findings.size()
            << " warned)\n";
      continue;
    }
    ++fig.unsoundPairs;
    std::string what = r.firstUnsound()->what();
    ShrinkResult s = shrink(oracle, pair, r, options.shrinkBudget);
    fig.shrinkRuns += static_cast<uint64_t>(s.runs);
    const OracleFinding *f = findingLike(s.result, what);
    std::string sig = signature(s.pair, *f);
    bool known = options.known.count(sig) > 0;
    bool firstTime = fig.seedsBySignature[sig].empty();
    fig.seedsBySignature[sig].push_back(seed);
    if (!known)
      fig.unknownSignatures.insert(sig);
    if (firstTime || options.verbose)
      printFailure(out, seed, sig, s, *f, known);
    else
      out << "seed " << seed << ": " << (known ? "known" : "NEW") << ": " << sig << "\n";
    out.flush();
  }
  fig.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return fig;
}

void CampaignFigures::print(llvm::raw_ostream &out,
                            const std::map<std::string, std::string> &known) const {
  out << "==== oracle figures\n"
      << "pairs " << pairs << ": ran " << ran << ", refused " << refused << ", invalid " << invalid
      << "\n"
      << "statements " << statements << ", looser outcomes " << looser << ", shrink runs "
      << shrinkRuns << ", completeness runs " << completenessRuns << "\n"
      << "pairs with soundness findings " << unsoundPairs << ", with warned findings only "
      << warnedPairs << "\n"
      << llvm::format("time %.1f s\n", seconds);
  for (const auto &[sig, seeds] : seedsBySignature) {
    auto k = known.find(sig);
    out << (k == known.end() ? "NEW   " : "known ") << sig
        << (k == known.end() || k->second.empty() ? "" : "  # " + k->second) << "\n      seeds:";
    for (uint64_t s : seeds)
      out << " " << s;
    out << "\n";
  }
  if (!refusedByCode.empty()) {
    out << "refused by code:";
    for (const auto &[c, n] : refusedByCode)
      out << " " << c << "=" << n;
    out << "\n";
  }
  if (!completenessByCode.empty()) {
    out << "completeness notes (refused, nothing failed with unsafe):";
    for (const auto &[c, n] : completenessByCode)
      out << " " << c << "=" << n;
    out << "\n";
  }
  if (!invalidSeeds.empty()) {
    out << "invalid seeds (generator drew what does not compile):";
    for (uint64_t s : invalidSeeds)
      out << " " << s;
    out << "\n";
  }
}

} // namespace strata::oracle
