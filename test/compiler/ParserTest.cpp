#include "compiler/Compilation.h"

#include <gtest/gtest.h>

using namespace strata::compiler;

TEST(Parser, DesignExampleParses) {
  Compilation c;
  ASSERT_FALSE(c.addPath(STRATA_SOURCE_DIR "/examples/design/design.strata"));
  const Project *p = c.run();
  std::string rendered;
  llvm::raw_string_ostream os(rendered);
  c.diagnostics().render(os, false);
  EXPECT_TRUE(p) << os.str();
}
