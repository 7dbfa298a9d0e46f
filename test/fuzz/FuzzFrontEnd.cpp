// libFuzzer target: bytes -> parse -> analyze (fold) -> plan.
//
// Every input is one .strata file. It must never crash, hang or leak: bad input is
// diagnostics, nothing else. When it compiles, the version graph is built and three plans
// are made to every subsystem's latest version: `bootstrap`, `up` from each subsystem's
// first version (its baseline when it has one), and `finish` after that `up`. Every plan is
// rendered in all four formats, and its plan file must read back (readJson) to a plan that
// renders the same file again; a mismatch aborts, so the fuzzer reports it as a crash.
// So does any difference between the hand-written lexer and the one ANTLR generates from
// the grammar (compiler/Lexer.h), on every input the parser would lex.
//
// With STRATA_FUZZ_DUMP_JSON=<dir> every plan file is also written to <dir> (the seed
// corpus of the plan reader target is made that way; see make-corpus.sh).
#include "test/fuzz/FuzzTargets.h"

#include "compiler/Compilation.h"
#include "compiler/Lexer.h"
#include "planner/PlanFormat.h"
#include "planner/Planner.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/ConvertUTF.h>
#include <llvm/Support/raw_ostream.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>

using namespace strata;

namespace {

[[noreturn]] void fail(const char *what, const std::string &a, const std::string &b) {
  std::fprintf(stderr, "FuzzFrontEnd: %s\n--- first ---\n%s\n--- second ---\n%s\n", what, a.c_str(),
               b.c_str());
  std::abort();
}

void dumpJson(const std::string &json) {
  const char *dir = std::getenv("STRATA_FUZZ_DUMP_JSON");
  if (!dir || !*dir)
    return;
  std::string path =
      std::string(dir) + "/" + llvm::utohexstr(std::hash<std::string>()(json)) + ".json";
  std::ofstream(path, std::ios::binary) << json;
}

void exercise(const planner::Plan &plan) {
  (void)planner::renderText(plan, {false});
  (void)planner::renderText(plan, {true});
  (void)planner::renderSql(plan);
  (void)planner::renderMarkdown(plan);
  std::string json = planner::renderJson(plan);
  dumpJson(json);
  llvm::Expected<planner::Plan> back = planner::readJson(json);
  if (!back)
    fail("readJson rejects what renderJson wrote", llvm::toString(back.takeError()), json);
  std::string again = planner::renderJson(*back);
  if (again != json)
    fail("plan file does not round-trip", json, again);
}

std::string describe(const std::vector<compiler::LexedToken> &tokens) {
  std::string out;
  for (const compiler::LexedToken &token : tokens)
    out += token.describe() + "\n";
  return out;
}

/// Both lexers on \p text, if the parser would lex it at all: valid UTF-8 without NUL
/// bytes (parseBuffer reports anything else before lexing).
void compareLexers(llvm::StringRef text) {
  const auto *pos = reinterpret_cast<const llvm::UTF8 *>(text.begin());
  const auto *end = reinterpret_cast<const llvm::UTF8 *>(text.end());
  if (text.contains('\0') || !llvm::isLegalUTF8String(&pos, end))
    return;
  std::vector<compiler::LexedToken> expected = compiler::lexWithGeneratedLexer(text);
  std::vector<compiler::LexedToken> actual = compiler::lexWithStrataLexer(text);
  if (actual != expected)
    fail("the hand-written lexer disagrees with the generated one (generated, then strata)",
         describe(expected), describe(actual));
}

std::optional<compiler::VersionRef> findRef(const compiler::Project &project,
                                            const planner::NodeId &id) {
  std::optional<unsigned> s = project.findSubsystem(id.subsystem);
  if (!s)
    return std::nullopt;
  std::optional<unsigned> v = project.subsystems[*s].findVersion(id.version);
  if (!v)
    return std::nullopt;
  return compiler::VersionRef{*s, *v};
}

void plan(compiler::Compilation &compilation, const compiler::Project &project) {
  planner::VersionGraph graph(project);
  planner::Locator locate = [&compilation](compiler::SourceRange range) {
    return compilation.diagnostics().describe(range.Start);
  };
  (void)graph.dot([](compiler::VersionRef) { return planner::VersionGraph::NodeStatus::None; });

  planner::PlanRequest bootstrap;
  bootstrap.phase = planner::Phase::Bootstrap;
  if (llvm::Expected<planner::Plan> p = planner::makePlan(project, graph, bootstrap, locate))
    exercise(*p);
  else
    llvm::consumeError(p.takeError());

  std::vector<compiler::VersionRef> firsts;
  for (unsigned s = 0; s < project.subsystems.size(); ++s)
    if (!project.subsystems[s].versions.empty())
      firsts.push_back({s, project.subsystems[s].baseline.value_or(0)});
  planner::PlanRequest up;
  up.phase = planner::Phase::Up;
  up.start = planner::startingPointFrom(graph, firsts);
  llvm::Expected<planner::Plan> upPlan = planner::makePlan(project, graph, up, locate);
  if (!upPlan) {
    llvm::consumeError(upPlan.takeError());
    return;
  }
  exercise(*upPlan);

  // `finish` after that `up`: the nodes it applied are pending.
  planner::PlanRequest finish;
  finish.phase = planner::Phase::Finish;
  finish.start = up.start;
  for (const planner::NodeId &id : upPlan->applies)
    if (std::optional<compiler::VersionRef> ref = findRef(project, id))
      finish.start.executed.push_back({*ref, /*finished=*/false});
  if (llvm::Expected<planner::Plan> p = planner::makePlan(project, graph, finish, locate))
    exercise(*p);
  else
    llvm::consumeError(p.takeError());
}

} // namespace

int strata::fuzz::fuzzFrontEnd(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  compareLexers(text);
  compiler::Compilation compilation;
  compilation.addSource("fuzz.strata", text);
  const compiler::Project *project = compilation.run();
  std::string rendered;
  llvm::raw_string_ostream os(rendered);
  compilation.diagnostics().render(os, /*color=*/true);
  (void)compilation.diagnostics().renderJson();
  if (project)
    plan(compilation, *project);
  return 0;
}

#ifdef STRATA_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return strata::fuzz::fuzzFrontEnd(data, size);
}
#endif
