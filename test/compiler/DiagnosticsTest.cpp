// The diagnostics table (compiler/DiagnosticKinds.def) and the engine's rendering.
#include "compiler/Compilation.h"
#include "compiler/Diagnostics.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/ADT/StringSet.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

using namespace strata::compiler;

namespace {

TEST(DiagnosticKinds, CodesAreUnique) {
  // A code is what users and tools see; two meanings for one code would break both.
  llvm::StringSet<> seen;
  for (const DiagInfo &info : allDiagInfos())
    EXPECT_TRUE(seen.insert(info.code).second) << "duplicate diagnostic code " << info.code;
  EXPECT_EQ(seen.size(), allDiagInfos().size());
}

TEST(DiagnosticKinds, CodePrefixMatchesSeverity) {
  for (const DiagInfo &info : allDiagInfos()) {
    llvm::StringRef code = info.code;
    ASSERT_EQ(code.size(), 4u) << code.str();
    char expected = info.severity == Severity::Error     ? 'E'
                    : info.severity == Severity::Warning ? 'W'
                                                         : 'N';
    // The planner's findings: C2xx compatibility (errors, but a few are warnings by
    // nature), S1xx lints (warnings).
    if (code[0] == 'C')
      EXPECT_TRUE(code[1] == '2' && info.severity != Severity::Note) << code.str();
    else if (code[0] == 'S')
      EXPECT_TRUE(code[1] == '1' && info.severity == Severity::Warning) << code.str();
    else
      EXPECT_EQ(code[0], expected) << code.str();
    EXPECT_TRUE(llvm::all_of(code.drop_front(), [](char c) { return llvm::isDigit(c); }))
        << code.str();
  }
}

TEST(DiagnosticKinds, MessagesFollowTheStyle) {
  // Clang's style (STYLE.md): lower-case, no final period.
  for (const DiagInfo &info : allDiagInfos()) {
    llvm::StringRef format = info.format;
    ASSERT_FALSE(format.empty()) << info.code;
    EXPECT_FALSE(format.front() >= 'A' && format.front() <= 'Z') << info.code << ": " << info.format;
    EXPECT_FALSE(format.endswith(".")) << info.code << ": " << info.format;
  }
}

TEST(DiagnosticsEngine, JsonHasCodeLineColumnAndNotes) {
  Compilation c;
  c.addSource("dup.strata", "subsystem core {\n"
                            "  version \"1.0.0\" {\n"
                            "    table t {\n"
                            "      id uuid primary key\n"
                            "      id text\n"
                            "    }\n"
                            "  }\n"
                            "}\n");
  EXPECT_EQ(c.run(), nullptr);
  nlohmann::json out = nlohmann::json::parse(c.diagnostics().renderJson());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["code"], "E202");
  EXPECT_EQ(out[0]["severity"], "error");
  EXPECT_EQ(out[0]["file"], "dup.strata");
  EXPECT_EQ(out[0]["line"], 5);
  EXPECT_EQ(out[0]["column"], 7);
  ASSERT_EQ(out[0]["notes"].size(), 1u);
  EXPECT_EQ(out[0]["notes"][0]["code"], "N002");
  EXPECT_EQ(out[0]["notes"][0]["line"], 4);
}

TEST(DiagnosticsEngine, ErrorLimitStopsWithOneFinalError) {
  std::string text = "subsystem core {\n  version \"1.0.0\" {\n";
  for (int i = 0; i < 80; ++i)
    text += "    table t" + std::to_string(i) + " { id texxt }\n";
  text += "  }\n}\n";
  Compilation c;
  c.addSource("many.strata", text);
  EXPECT_EQ(c.run(), nullptr);
  llvm::ArrayRef<Diagnostic> diags = c.diagnostics().diagnostics();
  ASSERT_EQ(diags.size(), 51u); // the limit (50), then "too many errors"
  EXPECT_EQ(diags.back().id, DiagID::ErrTooManyErrors);
  EXPECT_TRUE(c.diagnostics().limitReached());
}

TEST(DiagnosticsEngine, FilesParsedInParallelReportInFileOrderUpToTheLimit) {
  // Twelve files of ten lexical errors each: files are parsed on several threads, and
  // their diagnostics must come out as a serial parse gives them: file by file, line by
  // line, and cut at the limit (50: the first five files) with one final error.
  Compilation c;
  std::vector<std::string> expected;
  for (int file = 0; file < 12; ++file) {
    std::string name = fmt::format("f{:02}.strata", file);
    std::string text = "subsystem s" + std::to_string(file) + " {\n";
    for (int line = 2; line <= 11; ++line) {
      text += "  $\n";
      if (expected.size() < 50)
        expected.push_back(fmt::format("{}:{}:3", name, line));
    }
    c.addSource(name, text + "}\n");
  }
  EXPECT_EQ(c.run(), nullptr);
  llvm::ArrayRef<Diagnostic> diags = c.diagnostics().diagnostics();
  ASSERT_EQ(diags.size(), 51u);
  std::vector<std::string> places;
  for (const Diagnostic &d : diags.drop_back())
    places.push_back(c.diagnostics().describe(d.range.Start));
  EXPECT_EQ(places, expected);
  EXPECT_EQ(diags.back().id, DiagID::ErrTooManyErrors);
}

} // namespace
