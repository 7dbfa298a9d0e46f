#include "test/oracle/Shrinker.h"

#include "test/oracle/PairGenerator.h"

#include <llvm/ADT/StringExtras.h>

#include <functional>

namespace strata::oracle {

namespace {

/// Every pair one reduction smaller than \p p, biggest cuts first.
std::vector<GeneratedPair> candidates(const GeneratedPair &p) {
  std::vector<GeneratedPair> out;
  auto with = [&](const std::function<void(GeneratedPair &)> &edit) {
    GeneratedPair q = p;
    edit(q);
    out.push_back(std::move(q));
  };
  for (size_t v = 0; v < p.versions.size() && p.versions.size() > 1; ++v)
    with([&](GeneratedPair &q) { q.versions.erase(q.versions.begin() + v); });
  for (size_t t = 0; t < p.tables.size(); ++t)
    with([&](GeneratedPair &q) { q.tables.erase(q.tables.begin() + t); });
  // A pair keeps at least one change: without one there is no upgrade to test.
  for (size_t v = 0; v < p.versions.size(); ++v)
    for (size_t c = 0; c < p.versions[v].size() && p.changeCount() > 1; ++c)
      with([&](GeneratedPair &q) {
        q.versions[v].erase(q.versions[v].begin() + c);
        if (q.versions[v].empty())
          q.versions.erase(q.versions.begin() + v);
      });
  for (size_t t = 0; t < p.tables.size(); ++t) {
    for (size_t c = 0; c < p.tables[t].columns.size(); ++c)
      with([&](GeneratedPair &q) { q.tables[t].columns.erase(q.tables[t].columns.begin() + c); });
    for (size_t e = 0; e < p.tables[t].elements.size(); ++e)
      with([&](GeneratedPair &q) { q.tables[t].elements.erase(q.tables[t].elements.begin() + e); });
  }
  for (size_t e = 0; e < p.enums.size(); ++e)
    with([&](GeneratedPair &q) { q.enums.erase(q.enums.begin() + e); });
  for (size_t t = 0; t < p.tables.size(); ++t)
    for (size_t c = 0; c < p.tables[t].columns.size(); ++c) {
      const GenColumn &col = p.tables[t].columns[c];
      auto edit = [&](const std::function<void(GenColumn &)> &f) {
        with([&](GeneratedPair &q) { f(q.tables[t].columns[c]); });
      };
      if (col.notNull)
        edit([](GenColumn &g) { g.notNull = false; });
      if (!col.defaultExpr.empty())
        edit([](GenColumn &g) { g.defaultExpr.clear(); });
      if (col.unique)
        edit([](GenColumn &g) { g.unique = false; });
      if (!col.check.empty())
        edit([](GenColumn &g) { g.check.clear(); });
      if (!col.references.empty())
        edit([](GenColumn &g) {
          g.references.clear();
          g.onDelete.clear();
        });
      if (!col.onDelete.empty())
        edit([](GenColumn &g) { g.onDelete.clear(); });
    }
  for (size_t v = 0; v < p.versions.size(); ++v)
    for (size_t c = 0; c < p.versions[v].size(); ++c)
      if (p.versions[v][c].unsafe)
        with([&](GeneratedPair &q) { q.versions[v][c].unsafe = false; });
  return out;
}

} // namespace

ShrinkResult shrink(Oracle &oracle, const GeneratedPair &pair, const PairResult &result,
                    int budget) {
  ShrinkResult best{pair, result, 0};
  const OracleFinding *first = result.firstUnsound();
  if (!first)
    return best;
  const std::string what = first->what();
  auto stillFails = [&](const PairResult &r) {
    for (const OracleFinding &f : r.findings)
      if (!f.warned && f.what() == what)
        return true;
    return false;
  };
  bool progress = true;
  while (progress && best.runs < budget) {
    progress = false;
    for (GeneratedPair &candidate : candidates(best.pair)) {
      if (best.runs >= budget)
        break;
      ++best.runs;
      PairResult r = oracle.run(candidate);
      if (r.verdict != PairResult::Verdict::Ran || !stillFails(r))
        continue;
      best.pair = std::move(candidate);
      best.result = std::move(r);
      progress = true;
      break;
    }
  }
  return best;
}

std::string signature(const GeneratedPair &pair, const OracleFinding &finding) {
  std::vector<std::string> kinds;
  for (compiler::OpKind k : pair.drawnKinds())
    kinds.push_back(compiler::opKindName(k));
  std::sort(kinds.begin(), kinds.end());
  return finding.what() + ": " + llvm::join(kinds, ", ");
}

} // namespace strata::oracle
