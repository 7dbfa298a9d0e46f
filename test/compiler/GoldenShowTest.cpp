// Golden files for what people read from the Schema model: for every version of every
// input under test/golden/show, `strata show` (the state as canonical DSL) and
// `strata show --ops`, compared as text with <input>.expected.
// Rewrite them after a reviewed behaviour change with STRATA_UPDATE_GOLDEN=1.
#include "compiler/Compilation.h"
#include "compiler/Printer.h"

#include <gtest/gtest.h>

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <cstdlib>
#include <fstream>

using namespace strata::compiler;

namespace {
std::vector<std::string> inputs() {
  std::vector<std::string> out;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(STRATA_SOURCE_DIR "/test/golden/show", ec), end;
       it != end && !ec; it.increment(ec))
    if (llvm::sys::path::extension(it->path()) == ".strata")
      out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

class GoldenShow : public testing::TestWithParam<std::string> {};
} // namespace

TEST_P(GoldenShow, MatchesExpected) {
  const std::string &path = GetParam();
  Compilation compilation;
  ASSERT_FALSE(compilation.addPath(path));
  const Project *project = compilation.run();
  std::string diags;
  llvm::raw_string_ostream ds(diags);
  compilation.diagnostics().render(ds, false);
  ASSERT_TRUE(project) << ds.str();
  std::string actual;
  llvm::raw_string_ostream os(actual);
  for (unsigned s = 0; s < project->subsystems.size(); ++s)
    for (unsigned v = 0; v < project->subsystems[s].versions.size(); ++v) {
      os << "==== show --ops " << project->describe({s, v}) << "\n";
      printVersionOps(os, *project, {s, v});
      os << "==== show " << project->describe({s, v}) << "\n";
      printVersionState(os, *project, {s, v});
    }
  os.flush();
  std::string expectedPath = path + ".expected";
  if (std::getenv("STRATA_UPDATE_GOLDEN")) {
    std::ofstream(expectedPath) << actual;
    GTEST_SKIP() << "rewrote " << expectedPath;
  }
  auto expected = llvm::MemoryBuffer::getFile(expectedPath);
  ASSERT_TRUE(bool(expected)) << "missing " << expectedPath
                              << " (run with STRATA_UPDATE_GOLDEN=1)";
  EXPECT_EQ((*expected)->getBuffer().str(), actual);
}

INSTANTIATE_TEST_SUITE_P(Inputs, GoldenShow, testing::ValuesIn(inputs()),
                         [](const testing::TestParamInfo<std::string> &info) {
                           std::string name = llvm::sys::path::stem(info.param).str();
                           for (char &c : name)
                             if (!isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return name;
                         });
