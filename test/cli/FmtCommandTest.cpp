// `strata fmt`: rewriting in place, --check for CI, --stdout, refusing files that do not
// parse, and the examples already in the canonical layout.
#include "cli/Commands.h"
#include "test/cli/CliTestSupport.h"

#include <gtest/gtest.h>

using namespace strata::cli;
using strata::test::Process;
using strata::test::runStrata;
using strata::test::TempDir;

namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result fmtFiles(std::vector<std::string> paths, bool check = false, bool toStdout = false) {
  FmtOptions options;
  options.paths = std::move(paths);
  options.check = check;
  options.toStdout = toStdout;
  Result r;
  llvm::raw_string_ostream out(r.out), err(r.err);
  r.code = runFmt(options, out, err);
  out.flush();
  err.flush();
  return r;
}

const char *messy = "subsystem core { version \"1.0.0\" { table t { id uuid primary key // key\n"
                    "name text } } }";
const char *tidy = "subsystem core {\n"
                   "  version \"1.0.0\" {\n"
                   "    table t {\n"
                   "      id   uuid primary key // key\n"
                   "      name text\n"
                   "    }\n"
                   "  }\n"
                   "}\n";

} // namespace

TEST(FmtCommand, RewritesInPlaceAndListsWhatChanged) {
  TempDir dir;
  std::string a = dir.write("a.strata", messy);
  dir.write("b.strata", "subsystem other {\n  version \"1.0.0\" {}\n}\n");
  Result r = fmtFiles({dir.str()});
  EXPECT_EQ(r.code, ExitOk) << r.err;
  EXPECT_EQ(r.out, a + "\n") << "only the file that changed is listed";
  EXPECT_EQ(dir.read("a.strata"), tidy);
  EXPECT_EQ(dir.read("b.strata"), "subsystem other {\n  version \"1.0.0\" {}\n}\n");
  // Formatted files are left alone.
  Result again = fmtFiles({dir.str()});
  EXPECT_EQ(again.code, ExitOk);
  EXPECT_EQ(again.out, "");
}

TEST(FmtCommand, CheckWritesNothingAndExitsOneWhenAFileWouldChange) {
  TempDir dir;
  std::string a = dir.write("a.strata", messy);
  Result r = fmtFiles({a}, /*check=*/true);
  EXPECT_EQ(r.code, ExitFailure);
  EXPECT_EQ(r.out, a + "\n");
  EXPECT_EQ(dir.read("a.strata"), messy) << "--check must not write";
  dir.write("a.strata", tidy);
  Result ok = fmtFiles({a}, /*check=*/true);
  EXPECT_EQ(ok.code, ExitOk) << ok.out << ok.err;
  EXPECT_EQ(ok.out, "");
}

TEST(FmtCommand, StdoutPrintsInsteadOfWriting) {
  TempDir dir;
  std::string a = dir.write("a.strata", messy);
  Result r = fmtFiles({a}, /*check=*/false, /*toStdout=*/true);
  EXPECT_EQ(r.code, ExitOk) << r.err;
  EXPECT_EQ(r.out, tidy);
  EXPECT_EQ(dir.read("a.strata"), messy);
}

TEST(FmtCommand, SyntaxErrorsExitTwoWithDiagnosticsAndOtherFilesAreStillFormatted) {
  TempDir dir;
  std::string a = dir.write("a.strata", messy);
  const char *badText = "subsystem core {\n  version \"1.0.0\" {\n"
                        "    table t { id uuid, }\n  }\n}\n";
  std::string bad = dir.write("bad.strata", badText);
  Result r = fmtFiles({dir.str()});
  EXPECT_EQ(r.code, ExitUsage);
  EXPECT_NE(r.err.find(bad + ":3:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("error:"), std::string::npos) << r.err;
  EXPECT_EQ(dir.read("a.strata"), tidy);
  EXPECT_EQ(dir.read("bad.strata"), badText) << "left as it was";
}

TEST(FmtCommand, MissingPathOrNoFilesExitTwo) {
  EXPECT_EQ(fmtFiles({"/nonexistent/strata"}).code, ExitUsage);
  TempDir dir;
  dir.write("README.md", "nothing here\n");
  Result r = fmtFiles({dir.str()});
  EXPECT_EQ(r.code, ExitUsage);
  EXPECT_NE(r.err.find("no .strata files found"), std::string::npos);
}

TEST(FmtCommand, ExamplesAreInTheCanonicalLayout) {
  Result r = fmtFiles({STRATA_SOURCE_DIR "/examples"}, /*check=*/true);
  EXPECT_EQ(r.code, ExitOk) << "run 'strata fmt examples' and review the diff:\n" << r.out << r.err;
}

TEST(FmtCommand, TheExecutable) {
  TempDir dir;
  std::string a = dir.write("a.strata", messy);
  Process check = runStrata({"fmt", "--check", a});
  EXPECT_EQ(check.code, ExitFailure) << check.err;
  EXPECT_EQ(check.out, a + "\n");
  Process printed = runStrata({"fmt", "--stdout", a});
  EXPECT_EQ(printed.code, ExitOk) << printed.err;
  EXPECT_EQ(printed.out, tidy);
  EXPECT_EQ(runStrata({"fmt", a}).code, ExitOk);
  EXPECT_EQ(dir.read("a.strata"), tidy);
  Process stdinEmpty = runStrata({"fmt", "-"});
  EXPECT_EQ(stdinEmpty.code, ExitOk) << stdinEmpty.err;
  EXPECT_EQ(stdinEmpty.out, "");
  EXPECT_EQ(runStrata({"fmt", "-", a}).code, ExitUsage) << "'-' is alone or not at all";
}
