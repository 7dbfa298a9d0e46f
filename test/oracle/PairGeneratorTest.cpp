// The generator of the oracle (issue 22): deterministic, mostly valid, and it draws every
// kind of change the DSL has. A kind added to compiler::OpKind breaks the build in
// PairGenerator.cpp until it is drawn, and EveryOpKindIsDrawn fails until the drawing
// actually produces it.
#include "test/oracle/PairGenerator.h"

#include "compiler/Compilation.h"

#include <gtest/gtest.h>

#include <set>

using namespace strata;
using namespace strata::oracle;

namespace {

const compiler::Project *compile(compiler::Compilation &c, const GeneratedPair &p) {
  c.addSource("pair.strata", p.dsl());
  return c.run();
}

} // namespace

TEST(PairGenerator, SameSeedSamePair) {
  for (uint64_t seed : {1, 2, 77, 1000})
    EXPECT_EQ(generatePair(seed).dsl(), generatePair(seed).dsl()) << "seed " << seed;
  EXPECT_NE(generatePair(1).dsl(), generatePair(2).dsl());
}

TEST(PairGenerator, EveryOpKindIsDrawn) {
  std::set<compiler::OpKind> compiled;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    GeneratedPair p = generatePair(seed);
    compiler::Compilation c;
    const compiler::Project *project = compile(c, p);
    if (!project)
      continue;
    const compiler::Subsystem &s = project->subsystems.front();
    for (size_t v = 1; v < s.versions.size(); ++v)
      for (const compiler::Op &op : s.versions[v].ops)
        compiled.insert(op.kind);
  }
  for (compiler::OpKind k : allOpKinds()) {
    EXPECT_NE(std::string(drawingOf(k)), "");
    EXPECT_TRUE(compiled.count(k)) << "no pair of seeds 1..400 compiles to a \""
                                   << compiler::opKindName(k) << "\" (" << drawingOf(k) << ")";
  }
}

TEST(PairGenerator, MostPairsCompile) {
  int ok = 0, total = 200;
  std::string firstBad;
  for (uint64_t seed = 1; seed <= static_cast<uint64_t>(total); ++seed) {
    GeneratedPair p = generatePair(seed);
    compiler::Compilation c;
    if (compile(c, p)) {
      ++ok;
      continue;
    }
    if (firstBad.empty()) {
      std::string diags;
      llvm::raw_string_ostream os(diags);
      c.diagnostics().render(os, false);
      firstBad = "seed " + std::to_string(seed) + ":\n" + p.dsl() + os.str();
    }
  }
  EXPECT_GE(ok, total * 9 / 10) << firstBad;
}

TEST(PairGenerator, ChainsAndUnsafeAndWasAreDrawn) {
  bool chain = false, unsafe = false, was = false, fill = false, usingExpr = false;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    GeneratedPair p = generatePair(seed);
    std::string dsl = p.dsl();
    chain |= p.versions.size() >= 2;
    unsafe |= dsl.find("unsafe") != std::string::npos;
    was |= dsl.find(" was \"") != std::string::npos;
    fill |= dsl.find(" fill (") != std::string::npos;
    usingExpr |= dsl.find(" using (") != std::string::npos;
  }
  EXPECT_TRUE(chain);
  EXPECT_TRUE(unsafe);
  EXPECT_TRUE(was);
  EXPECT_TRUE(fill);
  EXPECT_TRUE(usingExpr);
}
