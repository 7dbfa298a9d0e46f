// Golden diagnostics: every file of test/golden/diag (invalid inputs) and test/golden/valid
// (valid inputs) is compiled alone, and its diagnostics are compared with the expectations
// written in the file itself, Clang -verify style (compiler/Verify.h). One test per file,
// named after it; a failure prints the verifier's problems and the rendered diagnostics.
#include "compiler/Compilation.h"
#include "compiler/Verify.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace strata::compiler;

namespace {

struct GoldenFile {
  std::string folder; ///< "diag" or "valid"
  std::string stem;   ///< file name without .strata
  std::string path;
};

/// How GoogleTest (and so CTest's test list) shows a case: its file, not its bytes.
void PrintTo(const GoldenFile &file, std::ostream *os) {
  *os << file.folder << "/" << file.stem << ".strata";
}

std::string goldenDir(llvm::StringRef folder) {
  return (llvm::Twine(STRATA_SOURCE_DIR) + "/test/golden/" + folder).str();
}

std::vector<GoldenFile> goldenFiles(llvm::StringRef folder) {
  std::vector<GoldenFile> out;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(goldenDir(folder), ec), end; it != end && !ec;
       it.increment(ec)) {
    llvm::StringRef path = it->path();
    if (llvm::sys::path::extension(path) != ".strata")
      continue;
    out.push_back({folder.str(), llvm::sys::path::stem(path).str(), path.str()});
  }
  std::sort(out.begin(), out.end(),
            [](const GoldenFile &a, const GoldenFile &b) { return a.stem < b.stem; });
  return out;
}

std::string testName(const testing::TestParamInfo<GoldenFile> &info) {
  std::string name = info.param.stem;
  for (char &c : name)
    if (!llvm::isAlnum(c))
      c = '_';
  return name;
}

std::string rendered(Compilation &c) {
  std::string out;
  llvm::raw_string_ostream os(out);
  c.diagnostics().render(os, /*color=*/false);
  return os.str();
}

class GoldenDiag : public testing::TestWithParam<GoldenFile> {};

TEST_P(GoldenDiag, Verifies) {
  const GoldenFile &file = GetParam();
  auto text = llvm::MemoryBuffer::getFile(file.path);
  ASSERT_TRUE(text) << file.path << ": " << text.getError().message();
  llvm::StringRef source = (*text)->getBuffer();
  // Every golden file says in its first line what it is about.
  EXPECT_TRUE(source.startswith("// ")) << file.path << " must start with a // comment";

  Compilation c;
  if (llvm::Error err = c.addPath(file.path))
    FAIL() << llvm::toString(std::move(err));
  const Project *project = c.run();
  VerifyResult result = verifyDiagnostics(c.sources(), c.diagnostics());
  std::string problems;
  for (const std::string &p : result.problems)
    problems += "  " + p + "\n";
  EXPECT_TRUE(result.problems.empty())
      << "verifier problems:\n" << problems << "diagnostics:\n" << rendered(c);

  if (file.folder == "diag") {
    // An invalid input that expects nothing would verify by producing nothing.
    EXPECT_GT(result.expectations, 0u) << file.path << " lists no expected diagnostic";
    EXPECT_FALSE(source.contains("expected-no-diagnostics")) << file.path;
    return;
  }
  EXPECT_TRUE(project) << "a valid input must compile:\n" << rendered(c);
  EXPECT_FALSE(c.diagnostics().hasErrors());
  if (c.diagnostics().warningCount() == 0) {
    EXPECT_TRUE(source.contains("// expected-no-diagnostics"))
        << file.path << " must say `// expected-no-diagnostics`";
  }
}

INSTANTIATE_TEST_SUITE_P(Diag, GoldenDiag, testing::ValuesIn(goldenFiles("diag")), testName);
INSTANTIATE_TEST_SUITE_P(Valid, GoldenDiag, testing::ValuesIn(goldenFiles("valid")), testName);

TEST(GoldenDiagSuite, CoversEnoughInvalidInputs) {
  EXPECT_GE(goldenFiles("diag").size(), 40u);
  EXPECT_FALSE(goldenFiles("valid").empty());
}

TEST(GoldenDiagSuite, VerifierCatchesAMissedExpectation) {
  // The walker above is only as good as the verifier: an expectation that no diagnostic
  // meets, and a diagnostic that nothing expects, must both be problems.
  Compilation c;
  c.addSource("missed.strata", "subsystem core {\n"
                               "  version \"1.0.0\" {\n"
                               "    table t { id uuid primary key } // expected-error {{nope}}\n"
                               "    table u { id texxt }\n"
                               "  }\n"
                               "}\n");
  c.run();
  VerifyResult result = verifyDiagnostics(c.sources(), c.diagnostics());
  ASSERT_EQ(result.problems.size(), 2u);
  EXPECT_NE(result.problems[0].find("unexpected error: unknown type \"texxt\""), std::string::npos)
      << result.problems[0];
  EXPECT_NE(result.problems[1].find("expected error on line 3 not seen: {{nope}}"),
            std::string::npos)
      << result.problems[1];
}

} // namespace
