// `strata check`: the library function (exit codes, text and JSON diagnostics, --verify)
// and the real executable (--help, bad flags, missing paths).
#include "cli/Commands.h"
#include "test/cli/CliTestSupport.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Program.h>
#include <llvm/Support/raw_ostream.h>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <string>

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

Result check(std::vector<std::string> paths, OutputFormat format = OutputFormat::Text,
             bool verify = false) {
  CheckOptions options;
  options.paths = std::move(paths);
  options.format = format;
  options.verify = verify;
  Result r;
  llvm::raw_string_ostream out(r.out), err(r.err);
  r.code = runCheck(options, out, err);
  out.flush();
  err.flush();
  return r;
}

const char *badFile = "subsystem core {\n"
                      "  version \"1.0.0\" {\n"
                      "    table services {\n"
                      "      id   uuid primary key\n"
                      "      host texxt\n"
                      "    }\n"
                      "  }\n"
                      "}\n";

TEST(CheckCommand, ExamplesCompile) {
  Result r = check({STRATA_SOURCE_DIR "/examples/design"});
  EXPECT_EQ(r.code, ExitOk) << r.err;
  EXPECT_NE(r.out.find(": ok"), std::string::npos) << r.out;
  // The planner's warnings on its upgrade steps (a dropped table, a widened column).
  EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;
}

TEST(CheckCommand, ErrorsExitOneWithFileLineColumn) {
  TempDir dir;
  std::string file = dir.write("bad.strata", badFile);
  Result r = check({file});
  EXPECT_EQ(r.code, ExitFailure);
  EXPECT_NE(r.err.find(file + ":5:12: error: unknown type \"texxt\""), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 error generated."), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "nothing on stdout when the check fails";
}

TEST(CheckCommand, JsonFormatParsesWithCodeLineAndColumn) {
  TempDir dir;
  std::string file = dir.write("bad.strata", badFile);
  Result r = check({dir.str()}, OutputFormat::Json);
  EXPECT_EQ(r.code, ExitFailure);
  nlohmann::json diags = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(diags.is_array()) << r.out;
  ASSERT_EQ(diags.size(), 1u) << r.out;
  EXPECT_EQ(diags[0]["code"], "E301");
  EXPECT_EQ(diags[0]["severity"], "error");
  EXPECT_EQ(diags[0]["file"], file);
  EXPECT_EQ(diags[0]["line"], 5);
  EXPECT_EQ(diags[0]["column"], 12);
  EXPECT_EQ(diags[0]["message"], "unknown type \"texxt\"");
}

TEST(CheckCommand, JsonFormatOfAValidProjectIsAnEmptyArray) {
  TempDir dir;
  dir.write("ok.strata", "subsystem core {\n  version \"1.0.0\" {\n"
                         "    table t { id uuid primary key }\n  }\n}\n");
  Result r = check({dir.str()}, OutputFormat::Json);
  EXPECT_EQ(r.code, ExitOk) << r.err;
  nlohmann::json diags = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(diags.is_array()) << r.out;
  EXPECT_TRUE(diags.empty());
}

TEST(CheckCommand, JsonNotesCarryTheirOwnPlace) {
  TempDir dir;
  dir.write("dup.strata", "subsystem core {\n  version \"1.0.0\" {\n    table t {\n"
                          "      id uuid primary key\n      id text\n    }\n  }\n}\n");
  Result r = check({dir.str()}, OutputFormat::Json);
  nlohmann::json diags = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(diags.size(), 1u) << r.out;
  ASSERT_EQ(diags[0]["notes"].size(), 1u);
  EXPECT_EQ(diags[0]["notes"][0]["line"], 4);
  EXPECT_EQ(diags[0]["notes"][0]["column"], 7);
}

TEST(CheckCommand, WarningsAloneExitZero) {
  TempDir dir;
  std::string file = dir.write("warn.strata", "subsystem core {\n  version \"1.0.0\" {\n"
                                              "    table Services { id uuid primary key }\n"
                                              "  }\n}\n");
  Result r = check({file});
  EXPECT_EQ(r.code, ExitOk) << r.err;
  EXPECT_NE(r.err.find(":3:11: warning: unquoted identifier \"Services\""), std::string::npos)
      << r.err;
}

// The planner's findings for every upgrade step: a compatibility error fails the check at
// the change's line; one waived with `unsafe` is a warning there, with a note at the
// marker; lints are warnings.
TEST(CheckCommand, ReportsThePlannersFindingsForEveryUpgradeStep) {
  const char *project = "subsystem core {\n"
                        "  version \"1.0.0\" {\n"
                        "    table services { id uuid primary key  host text  port integer }\n"
                        "  }\n"
                        "  version \"1.1.0\" {\n"
                        "    alter table services {\n"
                        "      alter column host set not null\n"
                        "      unsafe \"ports were always positive\" add check (port > 0)\n"
                        "      drop column port\n"
                        "    }\n"
                        "  }\n"
                        "}\n";
  TempDir dir;
  std::string file = dir.write("findings.strata", project);
  Result r = check({file});
  EXPECT_EQ(r.code, ExitFailure) << r.err;
  EXPECT_NE(r.err.find(file + ":7:7: error: old nodes may still write null into "
                              "\"services\".\"host\"; add 'fill (...)'"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(file + ":8:43: warning: old nodes can write rows into \"services\" that "
                              "violate check \"services_port_check\"; marked unsafe: \"ports "
                              "were always positive\""),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(file + ":8:7: note: marked unsafe here"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file + ":9:7: warning: dropping column \"port\" of \"services\" "
                              "destroys data"),
            std::string::npos)
      << r.err;
  Result json = check({file}, OutputFormat::Json);
  nlohmann::json diags = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(diags.is_array()) << json.out;
  std::vector<std::string> codes;
  for (const nlohmann::json &d : diags)
    codes.push_back(d["code"].get<std::string>() + " " + d["severity"].get<std::string>());
  EXPECT_EQ(codes, (std::vector<std::string>{"C202 error", "C203 warning", "S101 warning"}));

  // With a fill, only warnings: the check passes.
  std::string fixed = project;
  fixed.replace(fixed.find("set not null"), 12, "set not null fill ('localhost')");
  Result ok = check({dir.write("fixed.strata", fixed)});
  EXPECT_EQ(ok.code, ExitOk) << ok.err;
  EXPECT_NE(ok.out.find(": ok"), std::string::npos) << ok.out;
  EXPECT_NE(ok.err.find("2 warnings generated."), std::string::npos) << ok.err;
}

TEST(CheckCommand, VerifyComparesWithExpectedComments) {
  EXPECT_EQ(check({STRATA_SOURCE_DIR "/test/golden/diag/decl_duplicate_version.strata"},
                  OutputFormat::Text, /*verify=*/true)
                .code,
            ExitOk);
  TempDir dir;
  std::string file = dir.write("wrong.strata", std::string(badFile) + "// expected-error {{x}}\n");
  Result r = check({file}, OutputFormat::Text, /*verify=*/true);
  EXPECT_EQ(r.code, ExitFailure);
  EXPECT_NE(r.err.find("unexpected error: unknown type \"texxt\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("expected error on line 9 not seen: {{x}}"), std::string::npos) << r.err;
}

TEST(CheckCommand, MissingPathFails) {
  Result r = check({"/nonexistent/strata/project"});
  EXPECT_EQ(r.code, ExitFailure);
  EXPECT_NE(r.err.find("strata: error: /nonexistent/strata/project"), std::string::npos)
      << r.err;
}

TEST(CheckCommand, DirectoryWithoutStrataFilesFails) {
  TempDir dir;
  dir.write("README.md", "nothing to compile here\n");
  Result r = check({dir.str()});
  EXPECT_EQ(r.code, ExitFailure);
  EXPECT_NE(r.err.find("no .strata files found"), std::string::npos) << r.err;
}

// --- the executable ------------------------------------------------------------------------

TEST(StrataExecutable, HelpExitsZero) {
  Process p = runStrata({"--help"});
  EXPECT_EQ(p.code, ExitOk) << p.err;
  EXPECT_NE(p.out.find("check"), std::string::npos) << p.out;
  EXPECT_EQ(runStrata({"check", "--help"}).code, ExitOk);
}

TEST(StrataExecutable, UnknownFlagExitsTwo) {
  EXPECT_EQ(runStrata({"--no-such-flag"}).code, ExitUsage);
  Process p = runStrata({"check", "--no-such-flag", STRATA_SOURCE_DIR "/examples/design"});
  EXPECT_EQ(p.code, ExitUsage);
  EXPECT_NE(p.err.find("--no-such-flag"), std::string::npos) << p.err;
  EXPECT_EQ(runStrata({"check", "--format", "yaml", STRATA_SOURCE_DIR "/examples/design"}).code,
            ExitUsage);
  EXPECT_EQ(runStrata({}).code, ExitUsage) << "a subcommand is required";
}

TEST(StrataExecutable, CheckOnAMissingDirectoryExitsOne) {
  Process p = runStrata({"check", "/nonexistent/strata/project"});
  EXPECT_EQ(p.code, ExitFailure);
  EXPECT_NE(p.err.find("strata: error: /nonexistent/strata/project"), std::string::npos)
      << p.err;
}

TEST(StrataExecutable, CheckOfExamplesAndOfABadFile) {
  EXPECT_EQ(runStrata({"check", STRATA_SOURCE_DIR "/examples/design"}).code, ExitOk);
  TempDir dir;
  std::string file = dir.write("bad.strata", badFile);
  Process p = runStrata({"check", file});
  EXPECT_EQ(p.code, ExitFailure);
  EXPECT_NE(p.err.find(file + ":5:12: error:"), std::string::npos) << p.err;
  p = runStrata({"check", "--format", "json", file});
  EXPECT_EQ(p.code, ExitFailure);
  EXPECT_TRUE(nlohmann::json::parse(p.out, nullptr, false).is_array()) << p.out;
}

} // namespace
