// `strata new`: what it writes compiles (`strata check`) and is formatted (`strata fmt
// --check`), versions get the right parent, and nothing is ever overwritten.
#include "cli/Commands.h"
#include "test/cli/CliTestSupport.h"

#include "compiler/Compilation.h"

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

Result runNewCommand(std::string kind, std::string subsystem, std::string version,
                     std::string dir) {
  NewOptions options;
  options.kind = std::move(kind);
  options.subsystem = std::move(subsystem);
  options.version = std::move(version);
  options.dir = std::move(dir);
  Result r;
  llvm::raw_string_ostream out(r.out), err(r.err);
  r.code = runNew(options, out, err);
  out.flush();
  err.flush();
  return r;
}

Result checkAndFmt(const std::string &dir) {
  Result r;
  llvm::raw_string_ostream out(r.out), err(r.err);
  CheckOptions check;
  check.paths = {dir};
  r.code = runCheck(check, out, err);
  if (r.code == ExitOk) {
    FmtOptions fmt;
    fmt.paths = {dir};
    fmt.check = true;
    r.code = runFmt(fmt, out, err);
  }
  out.flush();
  err.flush();
  return r;
}

/// The parents of \p subsystem @ \p version in the project in \p dir.
std::vector<std::string> parentsOf(const std::string &dir, llvm::StringRef subsystem,
                                   llvm::StringRef version) {
  strata::compiler::Compilation compilation;
  EXPECT_FALSE(compilation.addPath(dir));
  const strata::compiler::Project *project = compilation.run();
  if (!project)
    return {"<does not compile>"};
  const strata::compiler::Subsystem &s = project->subsystems[*project->findSubsystem(subsystem)];
  std::vector<std::string> out;
  for (unsigned p : s.versions[*s.findVersion(version)].parents)
    out.push_back(s.versions[p].text);
  return out;
}

} // namespace

TEST(NewCommand, SubsystemCompilesAndIsFormatted) {
  TempDir dir;
  std::string project = dir.file("plugins");
  Result r = runNewCommand("subsystem", "rate_limiting", "", project);
  EXPECT_EQ(r.code, ExitOk) << r.err;
  EXPECT_EQ(r.out, "created " + project + "/rate_limiting.strata\n");
  EXPECT_NE(dir.read("plugins/rate_limiting.strata").find("version \"1.0.0\" {"),
            std::string::npos);
  Result check = checkAndFmt(project);
  EXPECT_EQ(check.code, ExitOk) << check.out << check.err;
  EXPECT_NE(check.out.find("1 subsystem, 1 version: ok"), std::string::npos) << check.out;
}

TEST(NewCommand, VersionsChainAndCompile) {
  TempDir dir;
  ASSERT_EQ(runNewCommand("subsystem", "acl", "0.1.0", dir.str()).code, ExitOk);
  Result r = runNewCommand("version", "acl", "0.2.0", dir.str());
  EXPECT_EQ(r.code, ExitOk) << r.err;
  EXPECT_EQ(r.out, "added acl@0.2.0 (after 0.1.0) to " + dir.file("acl.strata") + "\n");
  ASSERT_EQ(runNewCommand("version", "acl", "1.0.0", dir.str()).code, ExitOk);
  // A patch on an older branch names its parent; the next version follows the highest.
  ASSERT_EQ(runNewCommand("version", "acl", "0.1.1", dir.str()).code, ExitOk);
  ASSERT_EQ(runNewCommand("version", "acl", "1.1.0", dir.str()).code, ExitOk);
  Result check = checkAndFmt(dir.str());
  EXPECT_EQ(check.code, ExitOk) << check.out << check.err << dir.read("acl.strata");
  EXPECT_NE(check.out.find("1 subsystem, 5 versions: ok"), std::string::npos) << check.out;
  EXPECT_EQ(parentsOf(dir.str(), "acl", "0.2.0"), std::vector<std::string>{"0.1.0"});
  EXPECT_EQ(parentsOf(dir.str(), "acl", "1.0.0"), std::vector<std::string>{"0.2.0"});
  EXPECT_EQ(parentsOf(dir.str(), "acl", "0.1.1"), std::vector<std::string>{"0.1.0"});
  EXPECT_EQ(parentsOf(dir.str(), "acl", "1.1.0"), std::vector<std::string>{"1.0.0"});
  EXPECT_NE(dir.read("acl.strata").find("version \"1.1.0\" after \"1.0.0\" {"),
            std::string::npos);
  // The example in the comment names a table the parent version has.
  EXPECT_NE(dir.read("acl.strata").find("//   alter table acl {"), std::string::npos);
}

TEST(NewCommand, NeverOverwrites) {
  TempDir dir;
  ASSERT_EQ(runNewCommand("subsystem", "acl", "", dir.str()).code, ExitOk);
  std::string before = dir.read("acl.strata");
  Result again = runNewCommand("subsystem", "acl", "", dir.str());
  EXPECT_EQ(again.code, ExitFailure);
  EXPECT_NE(again.err.find("exists; not overwritten"), std::string::npos) << again.err;
  EXPECT_EQ(dir.read("acl.strata"), before);

  // Declared in another file under another name.
  dir.write("plugins.strata", "subsystem oauth2 {\n  version \"1.0.0\" {}\n}\n");
  Result declared = runNewCommand("subsystem", "oauth2", "", dir.str());
  EXPECT_EQ(declared.code, ExitFailure);
  EXPECT_NE(declared.err.find("subsystem \"oauth2\" already exists in"), std::string::npos)
      << declared.err;

  Result existing = runNewCommand("version", "acl", "1.0.0", dir.str());
  EXPECT_EQ(existing.code, ExitFailure);
  EXPECT_NE(existing.err.find("acl@1.0.0 exists already"), std::string::npos) << existing.err;
  Result older = runNewCommand("version", "acl", "0.9.0", dir.str());
  EXPECT_EQ(older.code, ExitFailure);
  EXPECT_EQ(dir.read("acl.strata"), before);
}

TEST(NewCommand, BadNamesAndVersionsAreRefused) {
  TempDir dir;
  EXPECT_EQ(runNewCommand("subsystem", "Rate-Limiting", "", dir.str()).code, ExitUsage);
  EXPECT_EQ(runNewCommand("subsystem", "table", "", dir.str()).code, ExitUsage);
  EXPECT_EQ(runNewCommand("subsystem", "acl", "1.0", dir.str()).code, ExitUsage);
  EXPECT_EQ(runNewCommand("version", "acl", "x", dir.str()).code, ExitUsage);
  Result missing = runNewCommand("version", "nope", "1.0.0", STRATA_SOURCE_DIR "/examples/design");
  EXPECT_EQ(missing.code, ExitFailure);
  EXPECT_NE(missing.err.find("no subsystem \"nope\""), std::string::npos) << missing.err;
}

TEST(NewCommand, TheExecutable) {
  TempDir dir;
  Process subsystem = runStrata({"new", "subsystem", "billing", "--dir", dir.str()});
  EXPECT_EQ(subsystem.code, ExitOk) << subsystem.err;
  Process version = runStrata({"new", "version", "billing", "1.1.0", "-d", dir.str()});
  EXPECT_EQ(version.code, ExitOk) << version.err;
  EXPECT_EQ(runStrata({"check", dir.str()}).out, "1 subsystem, 2 versions: ok\n");
  EXPECT_EQ(runStrata({"new"}).code, ExitUsage) << "'subsystem' or 'version' is required";
  EXPECT_EQ(runStrata({"new", "version", "billing"}).code, ExitUsage);
}
