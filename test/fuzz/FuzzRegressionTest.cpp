// Replays, in the normal build, every input the fuzz targets start from and every input a
// fuzzer ever found (test/fuzz/regressions/), through the very functions libFuzzer calls.
// A target aborts on any broken invariant (a plan file that does not round-trip), and the
// sanitizer build (scripts/ci-sanitize.sh) runs this test too, so a crash found once by a
// fuzzer is a failing test forever. One test per input, named after its file.
#include "test/fuzz/FuzzTargets.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

enum class Target { FrontEnd, PlanJson };

struct Input {
  Target target;
  std::string path; ///< relative to the source dir
};

void PrintTo(const Input &input, std::ostream *os) { *os << input.path; }

/// Every regular file below \p dir (relative to the source dir) whose name ends in \p ext
/// (empty: any).
void collect(std::vector<Input> &out, Target target, llvm::StringRef dir, llvm::StringRef ext) {
  std::string root = STRATA_SOURCE_DIR;
  std::error_code ec;
  std::vector<Input> found;
  for (llvm::sys::fs::recursive_directory_iterator it(root + "/" + dir.str(), ec), end;
       it != end && !ec; it.increment(ec)) {
    if (it->type() != llvm::sys::fs::file_type::regular_file)
      continue;
    llvm::StringRef path = it->path();
    if (!ext.empty() && !path.endswith(ext))
      continue;
    found.push_back({target, path.drop_front(root.size() + 1).str()});
  }
  std::sort(found.begin(), found.end(),
            [](const Input &a, const Input &b) { return a.path < b.path; });
  out.insert(out.end(), found.begin(), found.end());
}

std::vector<Input> frontEndInputs() {
  std::vector<Input> out;
  collect(out, Target::FrontEnd, "test/fuzz/regressions/frontend", "");
  collect(out, Target::FrontEnd, "examples", ".strata");
  collect(out, Target::FrontEnd, "test/golden", ".strata");
  return out;
}

std::vector<Input> planJsonInputs() {
  std::vector<Input> out;
  collect(out, Target::PlanJson, "test/fuzz/regressions/planjson", "");
  collect(out, Target::PlanJson, "test/golden/plan/format", ".json");
  return out;
}

std::string testName(const testing::TestParamInfo<Input> &info) {
  std::string name = info.param.path;
  for (char &c : name)
    if (!llvm::isAlnum(c))
      c = '_';
  return name;
}

class FuzzReplay : public testing::TestWithParam<Input> {};

TEST_P(FuzzReplay, RunsCleanly) {
  const Input &input = GetParam();
  auto text = llvm::MemoryBuffer::getFile(std::string(STRATA_SOURCE_DIR) + "/" + input.path,
                                          /*IsText=*/false, /*RequiresNullTerminator=*/false);
  ASSERT_TRUE(text) << input.path << ": " << text.getError().message();
  auto data = reinterpret_cast<const uint8_t *>((*text)->getBufferStart());
  size_t size = (*text)->getBufferSize();
  // The targets return 0 or abort (which fails this test with the target's message).
  if (input.target == Target::FrontEnd)
    EXPECT_EQ(strata::fuzz::fuzzFrontEnd(data, size), 0);
  else
    EXPECT_EQ(strata::fuzz::fuzzPlanJson(data, size), 0);
}

INSTANTIATE_TEST_SUITE_P(FrontEnd, FuzzReplay, testing::ValuesIn(frontEndInputs()), testName);
INSTANTIATE_TEST_SUITE_P(PlanJson, FuzzReplay, testing::ValuesIn(planJsonInputs()), testName);

TEST(FuzzReplaySuite, SeesTheSeeds) {
  // The replay is only worth something if it finds the inputs: the examples and goldens.
  EXPECT_GE(frontEndInputs().size(), 140u);
  EXPECT_GE(planJsonInputs().size(), 1u);
}

} // namespace
