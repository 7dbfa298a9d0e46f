// Golden plans: one case per row of reference/postgres-operations.md that the DSL can
// express, plus combinations. Each case is a folder under test/golden/plan/ with
//
// - input.strata: a small project. Its first line says what to plan,
//   `// plan: --from core@1.0.0 --to core@1.1.0` (no --from: an empty database), and
//   `// expect: error C201 line 12` lines list every finding the plans must have (a lint
//   may add `up` or `finish`: the plan whose step raised it; compatibility findings show in
//   both), Clang -verify style;
// - up.txt, finish.txt: renderText of the two plans, no colour; up.sql where present.
//
// Besides the text, every case asserts its structural facts directly (the lock, the
// phase, whether a step is transactional...), invariants that hold for every plan (every
// step's SQL parses, CONCURRENTLY never runs in a transaction, nothing destroys data in
// up...) and determinism: two compilations planned separately give byte-identical output
// in every format. Rewrite the expected files after a reviewed change with
// STRATA_UPDATE_GOLDEN=1.
#include "compiler/Compilation.h"
#include "compiler/SqlExpr.h"
#include "planner/PlanFormat.h"
#include "planner/Planner.h"

#include <gtest/gtest.h>

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>

using namespace strata;
using namespace strata::planner;

namespace {

const char *const goldenDir = STRATA_SOURCE_DIR "/test/golden/plan";

std::vector<std::string> caseNames() {
  std::vector<std::string> out;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(goldenDir, ec), end; it != end && !ec; it.increment(ec))
    if (llvm::sys::fs::exists(it->path() + "/input.strata"))
      out.push_back(llvm::sys::path::filename(it->path()).str());
  std::sort(out.begin(), out.end());
  return out;
}

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return "";
  return (*buffer)->getBuffer().str();
}

struct ExpectedFinding {
  bool error = false;
  std::string code;
  unsigned line = 0;
  std::optional<Phase> phase; ///< none: both plans
};

/// The parsed header of an input.strata.
struct CaseSpec {
  std::string name;
  std::string relativePath; ///< the buffer name: "test/golden/plan/<case>/input.strata"
  std::string text;
  std::string from, to;
  std::vector<ExpectedFinding> expected;
  std::string problems; ///< malformed header lines
};

CaseSpec readCase(const std::string &name) {
  CaseSpec spec;
  spec.name = name;
  spec.relativePath = "test/golden/plan/" + name + "/input.strata";
  spec.text = readFile(std::string(goldenDir) + "/" + name + "/input.strata");
  llvm::SmallVector<llvm::StringRef, 64> lines;
  llvm::StringRef(spec.text).split(lines, '\n');
  if (lines.empty() || !lines[0].startswith("// plan:"))
    spec.problems += "the first line must be '// plan: [--from NODES] [--to NODES]'\n";
  else {
    llvm::SmallVector<llvm::StringRef, 8> words;
    lines[0].drop_front(strlen("// plan:")).split(words, ' ', -1, /*KeepEmpty=*/false);
    for (size_t i = 0; i < words.size(); ++i) {
      if ((words[i] == "--from" || words[i] == "--to") && i + 1 < words.size()) {
        (words[i] == "--from" ? spec.from : spec.to) = words[i + 1].str();
        ++i;
        continue;
      }
      spec.problems += "unknown word in the plan line: " + words[i].str() + "\n";
    }
  }
  static const std::regex expect(
      R"(^\s*// expect: (error|warning) ([CS][0-9]+) line ([0-9]+)( up| finish)?\s*$)");
  for (llvm::StringRef line : lines) {
    if (!line.contains("// expect:"))
      continue;
    std::smatch m;
    std::string text = line.str();
    if (!std::regex_match(text, m, expect)) {
      spec.problems += "malformed expect line: " + text + "\n";
      continue;
    }
    ExpectedFinding f;
    f.error = m[1] == "error";
    f.code = m[2];
    f.line = static_cast<unsigned>(std::stoul(m[3]));
    if (m[4] == " up")
      f.phase = Phase::Up;
    if (m[4] == " finish")
      f.phase = Phase::Finish;
    spec.expected.push_back(f);
  }
  return spec;
}

/// One case compiled and planned: both phases, and what they were planned from.
struct Planned {
  std::unique_ptr<compiler::Compilation> compilation;
  const compiler::Project *project = nullptr;
  std::string failure; ///< why there are no plans
  Plan up, finish;

  const Plan &plan(Phase phase) const { return phase == Phase::Up ? up : finish; }
};

Planned planCase(const CaseSpec &spec) {
  Planned out;
  out.compilation = std::make_unique<compiler::Compilation>();
  // A name relative to the repository: locations in the plans do not depend on where the
  // repository is checked out.
  out.compilation->addSource(spec.relativePath, spec.text);
  out.project = out.compilation->run();
  if (!out.project) {
    std::string diags;
    llvm::raw_string_ostream os(diags);
    out.compilation->diagnostics().render(os, false);
    out.failure = "does not compile:\n" + os.str();
    return out;
  }
  VersionGraph graph(*out.project);
  PlanRequest request;
  if (!spec.to.empty()) {
    auto targets = parseNodeList(*out.project, spec.to);
    if (!targets) {
      out.failure = "--to: " + llvm::toString(targets.takeError());
      return out;
    }
    request.targets = *targets;
  }
  if (!spec.from.empty()) {
    auto from = parseNodeList(*out.project, spec.from);
    if (!from) {
      out.failure = "--from: " + llvm::toString(from.takeError());
      return out;
    }
    request.start = startingPointFrom(graph, *from);
  }
  compiler::Compilation &compilation = *out.compilation;
  Locator locate = [&compilation](compiler::SourceRange range) {
    return compilation.diagnostics().describe(range.Start);
  };
  for (Phase phase : {Phase::Up, Phase::Finish}) {
    request.phase = phase;
    llvm::Expected<Plan> plan = makePlan(*out.project, graph, request, locate);
    if (!plan) {
      out.failure = std::string(phaseName(phase)) + ": " + llvm::toString(plan.takeError());
      return out;
    }
    (phase == Phase::Up ? out.up : out.finish) = std::move(*plan);
  }
  return out;
}

/// The line of a "file:line:col" location, 0 when it is not one.
unsigned lineOf(llvm::StringRef location) {
  llvm::SmallVector<llvm::StringRef, 4> parts;
  location.rsplit(':').first.rsplit(':').second.split(parts, ':');
  unsigned line = 0;
  if (parts.size() != 1 || parts[0].getAsInteger(10, line))
    return 0;
  return line;
}

// --- helpers for the structural facts -------------------------------------------------

/// Indexes of the steps of \p plan whose SQL contains \p needle.
std::vector<size_t> find(const Plan &plan, llvm::StringRef needle) {
  std::vector<size_t> out;
  for (size_t i = 0; i < plan.steps.size(); ++i)
    if (llvm::StringRef(plan.steps[i].sql).contains(needle))
      out.push_back(i);
  return out;
}

/// The index of the one step whose SQL contains \p needle; a failure when there is not
/// exactly one (then an index past the end, which the accessors below check).
size_t at(const Plan &plan, llvm::StringRef needle) {
  std::vector<size_t> found = find(plan, needle);
  if (found.size() != 1) {
    ADD_FAILURE() << "expected one " << phaseName(plan.phase) << " step with \"" << needle.str()
                  << "\", found " << found.size();
    return plan.steps.size();
  }
  return found[0];
}

const Step &stepAt(const Plan &plan, size_t index) {
  static const Step none;
  if (index >= plan.steps.size())
    return none;
  return plan.steps[index];
}

/// The one step whose SQL contains \p needle (an empty Step when there is not one).
const Step &step(const Plan &plan, llvm::StringRef needle) {
  return stepAt(plan, at(plan, needle));
}

/// \p before runs before \p after in \p plan.
void expectOrder(const Plan &plan, llvm::StringRef before, llvm::StringRef after) {
  size_t a = at(plan, before), b = at(plan, after);
  EXPECT_LT(a, b) << "\"" << before.str() << "\" should run before \"" << after.str() << "\"";
}

void expectLock(const Step &s, LockMode mode, std::vector<std::string> on) {
  EXPECT_EQ(lockModeName(s.lock), std::string(lockModeName(mode))) << s.sql;
  EXPECT_EQ(s.lockTables, on) << s.sql;
}

bool hasFinding(const Plan &plan, llvm::StringRef code, bool error) {
  return llvm::any_of(plan.findings,
                      [&](const Finding &f) { return f.code == code && f.error == error; });
}

using Facts = std::function<void(const Planned &)>;
const std::map<std::string, Facts> &allFacts();

class GoldenPlan : public testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    spec = readCase(GetParam());
    ASSERT_EQ(spec.problems, "");
    planned = planCase(spec);
    ASSERT_EQ(planned.failure, "");
  }
  CaseSpec spec;
  Planned planned;
};

} // namespace

// --- the expected files ---------------------------------------------------------------

TEST_P(GoldenPlan, MatchesExpectedFiles) {
  std::string dir = std::string(goldenDir) + "/" + spec.name + "/";
  std::vector<std::pair<std::string, std::string>> files = {
      {"up.txt", renderText(planned.up, {false})},
      {"finish.txt", renderText(planned.finish, {false})},
  };
  // up.sql only where the case keeps one: a few, to watch the psql script too.
  if (llvm::sys::fs::exists(dir + "up.sql"))
    files.push_back({"up.sql", renderSql(planned.up)});
  bool update = std::getenv("STRATA_UPDATE_GOLDEN") != nullptr;
  for (const auto &[file, actual] : files) {
    if (update) {
      std::ofstream(dir + file) << actual;
      continue;
    }
    ASSERT_TRUE(llvm::sys::fs::exists(dir + file))
        << "missing " << dir + file << " (run with STRATA_UPDATE_GOLDEN=1)";
    EXPECT_EQ(readFile(dir + file), actual) << "in " << dir + file;
  }
  if (update)
    GTEST_SKIP() << "rewrote the expected files of " << spec.name;
}

// --- findings: exactly the expected ones, at the right line -----------------------------

TEST_P(GoldenPlan, FindingsAreTheExpectedOnes) {
  for (Phase phase : {Phase::Up, Phase::Finish}) {
    auto describe = [](bool error, llvm::StringRef code, unsigned line) {
      return (error ? "error " : "warning ") + code.str() + " line " + std::to_string(line);
    };
    std::multiset<std::string> expected, actual;
    for (const ExpectedFinding &f : spec.expected)
      if (!f.phase || *f.phase == phase)
        expected.insert(describe(f.error, f.code, f.line));
    for (const Finding &f : planned.plan(phase).findings) {
      actual.insert(describe(f.error, f.code, lineOf(f.location)));
      EXPECT_TRUE(llvm::StringRef(f.location).startswith(spec.relativePath + ":"))
          << f.code << " at " << f.location;
    }
    EXPECT_EQ(std::vector<std::string>(expected.begin(), expected.end()),
              std::vector<std::string>(actual.begin(), actual.end()))
        << "findings of plan " << phaseName(phase);
    bool anyError = llvm::any_of(spec.expected, [](const ExpectedFinding &f) { return f.error; });
    EXPECT_EQ(planned.plan(phase).hasErrors(), anyError) << phaseName(phase);
  }
}

// --- invariants of every plan ---------------------------------------------------------

TEST_P(GoldenPlan, EveryStepKeepsTheRules) {
  for (Phase phase : {Phase::Up, Phase::Finish}) {
    const Plan &plan = planned.plan(phase);
    EXPECT_EQ(plan.phase, phase);
    for (const Step &s : plan.steps) {
      SCOPED_TRACE(std::string(phaseName(phase)) + " step: " + s.sql);
      EXPECT_EQ(s.phase, phase);
      EXPECT_FALSE(s.reason.empty());
      EXPECT_TRUE(llvm::StringRef(s.location).startswith(spec.relativePath + ":")) << s.location;
      // What apply sends must at least parse (PostgreSQL's own parser).
      compiler::SqlScriptInfo parsed = compiler::checkSqlScript(s.sql);
      EXPECT_TRUE(parsed.ok) << parsed.error;
      bool concurrently = llvm::StringRef(s.sql).contains("CONCURRENTLY");
      if (concurrently) {
        EXPECT_FALSE(s.transactional) << "CONCURRENTLY cannot run in a transaction block";
      }
      if (!s.transactional) {
        EXPECT_EQ(parsed.statements, 1u) << "a non-transactional step is one statement";
      }
      // Nothing in up destroys data; a rewrite anywhere is flagged by a lint.
      if (phase == Phase::Up) {
        EXPECT_FALSE(s.destroys);
      }
      if (s.rewrites) {
        EXPECT_FALSE(s.lints.empty());
      }
      // Raw SQL whose lock strata cannot classify may name no table.
      if (s.lock != LockMode::Unknown) {
        EXPECT_EQ(s.lock == LockMode::None, s.lockTables.empty());
      }
      if (s.isBackfill) {
        EXPECT_EQ(phase, Phase::Up);
        EXPECT_TRUE(s.transactional);
        EXPECT_EQ(s.lock, LockMode::RowExclusive);
        EXPECT_FALSE(s.backfill.keyColumns.empty());
        EXPECT_EQ(s.lockTables, std::vector<std::string>{s.backfill.table});
      }
      // A lint on a step is a finding of the same plan.
      for (const std::string &code : s.lints)
        EXPECT_TRUE(llvm::any_of(plan.findings, [&](const Finding &f) {
          return f.code == code && f.location == s.location && !f.error;
        })) << code;
    }
  }
}

// --- determinism -----------------------------------------------------------------------

TEST_P(GoldenPlan, PlanningTwiceGivesIdenticalOutput) {
  Planned again = planCase(spec);
  ASSERT_EQ(again.failure, "");
  for (Phase phase : {Phase::Up, Phase::Finish}) {
    const Plan &a = planned.plan(phase), &b = again.plan(phase);
    EXPECT_EQ(a, b);
    EXPECT_EQ(renderText(a, {false}), renderText(b, {false}));
    EXPECT_EQ(renderText(a, {true}), renderText(b, {true}));
    EXPECT_EQ(renderSql(a), renderSql(b));
    EXPECT_EQ(renderJson(a), renderJson(b));
    EXPECT_EQ(renderMarkdown(a), renderMarkdown(b));
    // And the plan file reads back as the same plan.
    llvm::Expected<Plan> back = readJson(renderJson(a));
    ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
    EXPECT_EQ(*back, a);
  }
}

// --- structural facts, case by case ---------------------------------------------------

TEST_P(GoldenPlan, StructuralFacts) {
  auto it = allFacts().find(spec.name);
  ASSERT_NE(it, allFacts().end()) << "add the structural facts of case " << spec.name
                                  << " to allFacts()";
  it->second(planned);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenPlan, testing::ValuesIn(caseNames()),
                         [](const testing::TestParamInfo<std::string> &info) {
                           std::string name = info.param;
                           for (char &c : name)
                             if (!isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return name;
                         });

TEST(GoldenPlanCases, TargetsThatPassEachOtherAreRefused) {
  // rate_limiting@2.0.0 requires core 1.2.0: it cannot go with the target core@1.1.0.
  CaseSpec spec = readCase("targets_within_ceiling");
  spec.to = "core@1.1.0,rate_limiting@2.0.0";
  Planned planned = planCase(spec);
  EXPECT_EQ(planned.failure, "up: the targets need core@1.2.0, past the target core@1.1.0: "
                             "another target requires it; name a lower version of that one, "
                             "or a higher core");
}

TEST(GoldenPlanCases, EnoughCasesAndAllHaveFacts) {
  std::vector<std::string> names = caseNames();
  EXPECT_GE(names.size(), 22u);
  for (const auto &[name, facts] : allFacts())
    EXPECT_TRUE(llvm::is_contained(names, name)) << "facts for a missing case: " << name;
}

namespace {

/// Facts that every case of one kind shares.
void expectNothingIn(const Plan &plan) { EXPECT_TRUE(plan.steps.empty()) << renderText(plan, {}); }

void expectConcurrentBuild(const Step &s, const char *table) {
  EXPECT_FALSE(s.transactional);
  EXPECT_TRUE(s.scans);
  expectLock(s, LockMode::ShareUpdateExclusive, {table});
}

/// CHECK (c IS NOT NULL) NOT VALID and its VALIDATE after the backfill of \p column in
/// up, SET NOT NULL in finish with no scan.
void expectNotNullThroughCheck(const Planned &p, const std::string &table,
                               const std::string &column) {
  std::string check = "CHECK (\"" + column + "\" IS NOT NULL) NOT VALID";
  const Step &add = step(p.up, check);
  expectLock(add, LockMode::AccessExclusive, {table});
  EXPECT_FALSE(add.scans);
  const Step &validate = step(p.up, "VALIDATE CONSTRAINT \"" + table + "_" + column);
  expectLock(validate, LockMode::ShareUpdateExclusive, {table});
  EXPECT_TRUE(validate.scans);
  expectOrder(p.up, check, "VALIDATE CONSTRAINT \"" + table + "_" + column);
  // A NOT VALID check applies to updates: it waits until no row is left to fill.
  for (size_t i : find(p.up, "\"" + column + "\" IS NULL"))
    if (p.up.steps[i].isBackfill) {
      EXPECT_LT(i, at(p.up, check));
    }
  const Step &set = step(p.finish, "ALTER COLUMN \"" + column + "\" SET NOT NULL");
  expectLock(set, LockMode::AccessExclusive, {table});
  EXPECT_FALSE(set.scans);
}

const std::map<std::string, Facts> &allFacts() {
  static const std::map<std::string, Facts> facts = {
      {"add_column_nullable",
       [](const Planned &p) {
         ASSERT_EQ(p.up.steps.size(), 1u);
         const Step &s = p.up.steps[0];
         EXPECT_EQ(s.sql, "ALTER TABLE \"services\" ADD COLUMN \"path\" text");
         expectLock(s, LockMode::AccessExclusive, {"services"});
         EXPECT_TRUE(s.transactional);
         EXPECT_FALSE(s.scans || s.rewrites || s.destroys);
         expectNothingIn(p.finish);
       }},
      {"add_column_default",
       [](const Planned &p) {
         ASSERT_EQ(p.up.steps.size(), 3u);
         for (const Step &s : p.up.steps) {
           EXPECT_TRUE(llvm::StringRef(s.sql).contains(" DEFAULT ")) << s.sql;
           EXPECT_FALSE(s.scans || s.rewrites || s.isBackfill) << s.sql;
           expectLock(s, LockMode::AccessExclusive, {"services"});
         }
         EXPECT_TRUE(llvm::StringRef(step(p.up, "\"protocol\"").sql).contains("NOT NULL"));
         expectNothingIn(p.finish);
       }},
      {"add_column_volatile_default",
       [](const Planned &p) {
         // No volatile default in ADD COLUMN: set afterwards, for new rows only.
         EXPECT_EQ(step(p.up, "ADD COLUMN \"custom_id\"").sql,
                   "ALTER TABLE \"consumers\" ADD COLUMN \"custom_id\" uuid");
         EXPECT_EQ(step(p.up, "ADD COLUMN \"seen_at\"").sql,
                   "ALTER TABLE \"consumers\" ADD COLUMN \"seen_at\" timestamp with time zone");
         expectOrder(p.up, "ADD COLUMN \"custom_id\"", "SET DEFAULT (gen_random_uuid())");
         const Step &fill = step(p.up, "SET \"custom_id\" = (gen_random_uuid())");
         EXPECT_TRUE(fill.isBackfill);
         EXPECT_EQ(fill.backfill.keyColumns, std::vector<std::string>{"id"});
         expectOrder(p.up, "SET DEFAULT (gen_random_uuid())",
                     "SET \"custom_id\" = (gen_random_uuid())");
         expectOrder(p.up, "SET DEFAULT (clock_timestamp())",
                     "SET \"seen_at\" = (clock_timestamp())");
         for (const Step &s : p.up.steps)
           EXPECT_FALSE(s.rewrites) << s.sql;
         expectNotNullThroughCheck(p, "consumers", "seen_at");
         EXPECT_TRUE(find(p.finish, "custom_id").empty());
       }},
      {"add_column_not_null_fill",
       [](const Planned &p) {
         EXPECT_EQ(step(p.up, "ADD COLUMN \"slug\"").sql,
                   "ALTER TABLE \"routes\" ADD COLUMN \"slug\" text");
         // The fills are sections of the table's one sync trigger: created with the first
         // (under SHARE ROW EXCLUSIVE), its function replaced by the next (no table lock).
         expectLock(step(p.up, "CREATE TRIGGER"), LockMode::ShareRowExclusive, {"routes"});
         const Step &trigger = step(p.up, "NEW.\"slug\" := ");
         expectLock(trigger, LockMode::None, {});
         // The fill names a column: evaluated over the row the trigger writes.
         EXPECT_TRUE(llvm::StringRef(trigger.sql)
                         .contains("NEW.\"slug\" := (SELECT ('route-' || id::text) FROM "
                                   "(SELECT (NEW).*) AS strata_row);"));
         expectOrder(p.up, "NEW.\"slug\" := ", "SET \"slug\" = ('route-' || id::text)");
         expectNotNullThroughCheck(p, "routes", "slug");
         expectNotNullThroughCheck(p, "routes", "https_redirect_status_code");
         // The last section's removal drops the trigger.
         const Step &drop = step(p.finish, "DROP TRIGGER IF EXISTS \"routes_strata_sync\"");
         expectLock(drop, LockMode::AccessExclusive, {"routes"});
       }},
      {"add_column_not_null_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         EXPECT_TRUE(p.finish.hasErrors());
         EXPECT_TRUE(find(p.up, "UPDATE").empty()) << "nothing to fill with";
       }},
      {"add_column_fill_over_default",
       [](const Planned &p) {
         // Same fill and default: as is, with the default, no backfill.
         EXPECT_EQ(step(p.up, "\"protocol\"").sql,
                   "ALTER TABLE \"services\" ADD COLUMN \"protocol\" text NOT NULL DEFAULT "
                   "('http')");
         // Different: existing rows get the fill, inserts the default.
         EXPECT_EQ(step(p.up, "ADD COLUMN \"tls_verify\"").sql,
                   "ALTER TABLE \"services\" ADD COLUMN \"tls_verify\" boolean");
         expectOrder(p.up, "ADD COLUMN \"tls_verify\"", "SET DEFAULT (true)");
         const Step &fill = step(p.up, "SET \"tls_verify\" = (false)");
         EXPECT_TRUE(fill.isBackfill);
         expectNotNullThroughCheck(p, "services", "tls_verify");
       }},
      {"set_not_null_fill",
       [](const Planned &p) {
         expectOrder(p.up, "CREATE TRIGGER \"services_strata_sync\"",
                     "SET \"name\" = ('svc-' || id)");
         const Step &fill = step(p.up, "SET \"name\" = ('svc-' || id)");
         EXPECT_TRUE(fill.isBackfill);
         EXPECT_EQ(fill.backfill.where, "\"name\" IS NULL");
         expectNotNullThroughCheck(p, "services", "name");
       }},
      {"set_not_null_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         EXPECT_TRUE(find(p.up, "CREATE TRIGGER").empty());
         EXPECT_TRUE(find(p.up, "UPDATE").empty());
       }},
      {"drop_not_null",
       [](const Planned &p) {
         ASSERT_EQ(p.up.steps.size(), 1u);
         expectLock(step(p.up, "DROP NOT NULL"), LockMode::AccessExclusive, {"upstreams"});
         expectNothingIn(p.finish);
       }},
      {"set_default",
       [](const Planned &p) {
         ASSERT_EQ(p.up.steps.size(), 2u);
         for (const Step &s : p.up.steps)
           EXPECT_FALSE(s.scans || s.rewrites) << s.sql;
         expectLock(step(p.up, "SET DEFAULT ('round-robin')"), LockMode::AccessExclusive,
                    {"upstreams"});
         expectNothingIn(p.finish);
       }},
      {"drop_default",
       [](const Planned &p) {
         expectNothingIn(p.up);
         ASSERT_EQ(p.finish.steps.size(), 1u);
         expectLock(step(p.finish, "DROP DEFAULT"), LockMode::AccessExclusive, {"upstreams"});
       }},
      {"fk_new_column",
       [](const Planned &p) {
         const Step &add = step(p.up, "FOREIGN KEY (\"service_id\")");
         EXPECT_TRUE(llvm::StringRef(add.sql).endswith(" NOT VALID"));
         expectLock(add, LockMode::ShareRowExclusive, {"routes", "services"});
         EXPECT_FALSE(add.scans);
         const Step &validate = step(p.up, "VALIDATE CONSTRAINT \"routes_service_id_fkey\"");
         expectLock(validate, LockMode::ShareUpdateExclusive, {"routes"});
         EXPECT_TRUE(validate.scans);
         expectOrder(p.up, "ADD COLUMN \"service_id\"", "FOREIGN KEY (\"service_id\")");
         expectOrder(p.up, "FOREIGN KEY (\"service_id\")", "VALIDATE CONSTRAINT");
         expectNothingIn(p.finish);
       }},
      {"fk_existing_column_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         expectLock(step(p.up, "NOT VALID"), LockMode::ShareRowExclusive, {"routes", "services"});
       }},
      {"fk_existing_column_unsafe",
       [](const Planned &p) {
         EXPECT_FALSE(p.up.hasErrors());
         ASSERT_EQ(p.up.steps.size(), 2u);
         for (const Step &s : p.up.steps)
           EXPECT_TRUE(s.unsafe) << s.sql;
         expectLock(step(p.up, "NOT VALID"), LockMode::ShareRowExclusive, {"routes", "services"});
         // The problem and the author's reason, not the advice to mark it unsafe.
         EXPECT_TRUE(llvm::StringRef(p.up.findings[0].message)
                         .contains("; marked unsafe: \"every release since 0.9"))
             << p.up.findings[0].message;
         EXPECT_FALSE(llvm::StringRef(p.up.findings[0].message).contains("or mark it unsafe"));
       }},
      {"check_new_column",
       [](const Planned &p) {
         const Step &add = step(p.up, "CHECK (port > 0 and port < 65536) NOT VALID");
         expectLock(add, LockMode::AccessExclusive, {"services"});
         EXPECT_FALSE(add.scans);
         expectLock(step(p.up, "VALIDATE CONSTRAINT \"services_port_check\""),
                    LockMode::ShareUpdateExclusive, {"services"});
         expectOrder(p.up, "ADD COLUMN \"read_timeout\"", "CHECK (read_timeout >= 0) NOT VALID");
         EXPECT_FALSE(p.up.hasErrors());
         expectNothingIn(p.finish);
       }},
      {"check_existing_column_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         EXPECT_TRUE(llvm::StringRef(step(p.up, "CHECK (retries").sql).endswith("NOT VALID"));
       }},
      {"check_new_column_fill",
       [](const Planned &p) {
         // The constant fill (1.1.0) is fine; the one computed from "name" (1.2.0) is not:
         // it carries old nodes' values into the checked column (C203), and is null where
         // "name" is (C215).
         ASSERT_EQ(p.up.findings.size(), 2u);
         EXPECT_TRUE(llvm::StringRef(p.up.findings[0].message).contains("routes_slug_check") ||
                     llvm::StringRef(p.up.findings[1].message).contains("routes_slug_check"));
         EXPECT_TRUE(hasFinding(p.up, "C215", true));
         EXPECT_EQ(step(p.up, "\"routes_priority_check\" CHECK").version, "1.1.0");
       }},
      {"check_on_renamed_column_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         EXPECT_TRUE(llvm::StringRef(p.up.findings[0].message).contains("reviews_rating_check"));
       }},
      {"fill_may_be_null_rejected",
       [](const Planned &p) {
         // Only "c": coalesce says what "d" holds where "a" is null.
         ASSERT_EQ(p.up.findings.size(), 1u);
         EXPECT_TRUE(llvm::StringRef(p.up.findings[0].message).contains("\"t\".\"c\""));
       }},
      {"type_using_changes_values_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         // The plain cast gets its shadow column; the other change none.
         step(p.up, "ADD COLUMN \"retries_strata_new\" bigint");
         EXPECT_TRUE(find(p.up, "timeout_strata_new").empty());
       }},
      {"drop_column_of_multi_column_check",
       [](const Planned &p) {
         EXPECT_FALSE(p.up.hasErrors());
         EXPECT_TRUE(llvm::any_of(p.up.findings, [](const Finding &f) {
           return f.code == "C212" && llvm::StringRef(f.message).contains("spans_check");
         }));
         EXPECT_TRUE(llvm::any_of(p.up.findings, [](const Finding &f) {
           return f.code == "C212" && llvm::StringRef(f.message).contains("spans_lo_hi_key");
         }));
       }},
      {"name_held_until_finish_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         EXPECT_TRUE(find(p.up, "CREATE TABLE \"t\"").empty());
         EXPECT_TRUE(find(p.up, "ADD COLUMN \"a\"").empty());
       }},
      {"default_dropped_then_set",
       [](const Planned &p) {
         step(p.up, "SET DEFAULT (20000)");
         EXPECT_TRUE(find(p.finish, "DROP DEFAULT").empty());
       }},
      {"rename_volatile_default_then_set",
       [](const Planned &p) {
         step(p.up, "ALTER COLUMN \"seen\" SET DEFAULT (now())");
         EXPECT_TRUE(find(p.finish, "SET DEFAULT").empty());
       }},
      {"check_redefined_unsafe",
       [](const Planned &p) {
         // The old check keeps its name until finish: the new one takes another meanwhile.
         const Step &add = step(p.up, "ADD CONSTRAINT \"services_port_check_strata_new\"");
         EXPECT_TRUE(llvm::StringRef(add.sql).endswith("NOT VALID"));
         EXPECT_TRUE(find(p.up, "DROP CONSTRAINT").empty());
         expectOrder(p.finish, "DROP CONSTRAINT \"services_port_check\"",
                     "RENAME CONSTRAINT \"services_port_check_strata_new\" TO "
                     "\"services_port_check\"");
       }},
      {"unique_new_column",
       [](const Planned &p) {
         const Step &build = step(p.up, "CREATE UNIQUE INDEX CONCURRENTLY");
         expectConcurrentBuild(build, "consumers");
         const Step &attach = step(p.up, "UNIQUE USING INDEX \"consumers_custom_id_key\"");
         expectLock(attach, LockMode::AccessExclusive, {"consumers"});
         EXPECT_TRUE(attach.transactional);
         EXPECT_FALSE(attach.scans);
         expectOrder(p.up, "ADD COLUMN \"custom_id\"", "CREATE UNIQUE INDEX CONCURRENTLY");
         expectOrder(p.up, "CREATE UNIQUE INDEX CONCURRENTLY", "UNIQUE USING INDEX");
         expectNothingIn(p.finish);
       }},
      {"unique_new_column_fill",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         EXPECT_TRUE(llvm::StringRef(p.up.findings[0].message).contains("consumers_custom_id_key"));
       }},
      {"primary_key_change",
       [](const Planned &p) {
         // Up: the new key's index only, under a name the old key's index does not hold.
         ASSERT_EQ(p.up.steps.size(), 1u);
         const Step &build = p.up.steps[0];
         EXPECT_TRUE(llvm::StringRef(build.sql).startswith(
             "CREATE UNIQUE INDEX CONCURRENTLY \"ratelimiting_metrics_pkey_strata_new\""));
         expectConcurrentBuild(build, "ratelimiting_metrics");
         // Finish: the old key goes, the index becomes the key (and takes its name).
         expectOrder(p.finish, "DROP CONSTRAINT \"ratelimiting_metrics_pkey\"",
                     "PRIMARY KEY USING INDEX \"ratelimiting_metrics_pkey_strata_new\"");
         const Step &attach = step(p.finish, "PRIMARY KEY USING INDEX");
         expectLock(attach, LockMode::AccessExclusive, {"ratelimiting_metrics"});
         EXPECT_FALSE(attach.scans);
         EXPECT_FALSE(p.up.hasErrors()) << "the old key (identifier, period) proves the new one";
       }},
      {"create_index",
       [](const Planned &p) {
         ASSERT_EQ(p.up.steps.size(), 2u);
         for (const Step &s : p.up.steps) {
           EXPECT_TRUE(llvm::StringRef(s.sql).startswith("CREATE INDEX CONCURRENTLY ")) << s.sql;
           expectConcurrentBuild(s, "routes");
         }
         EXPECT_TRUE(llvm::StringRef(step(p.up, "routes_paths_idx").sql).contains("USING \"gin\""));
         expectNothingIn(p.finish);
       }},
      {"create_index_new_table",
       [](const Planned &p) {
         const Step &create = step(p.up, "CREATE TABLE \"targets\"");
         // The inline foreign key locks the referenced table too.
         expectLock(create, LockMode::ShareRowExclusive, {"targets", "services"});
         for (const char *name : {"targets_upstream_id_idx", "targets_target_idx"}) {
           const Step &index = step(p.up, std::string("INDEX \"") + name + "\"");
           EXPECT_FALSE(llvm::StringRef(index.sql).contains("CONCURRENTLY"));
           EXPECT_TRUE(index.transactional);
           expectLock(index, LockMode::Share, {"targets"});
           expectOrder(p.up, "CREATE TABLE \"targets\"", std::string("INDEX \"") + name + "\"");
         }
         expectNothingIn(p.finish);
       }},
      {"drop_index",
       [](const Planned &p) {
         expectNothingIn(p.up);
         const Step &drop = step(p.finish, "DROP INDEX CONCURRENTLY IF EXISTS \"routes_name_idx\"");
         EXPECT_FALSE(drop.transactional);
         expectLock(drop, LockMode::ShareUpdateExclusive, {"routes"});
       }},
      {"index_redefined",
       [](const Planned &p) {
         ASSERT_EQ(p.up.steps.size(), 1u);
         EXPECT_TRUE(llvm::StringRef(p.up.steps[0].sql)
                         .startswith("CREATE INDEX CONCURRENTLY "
                                     "\"routes_service_id_idx_strata_new\""));
         expectConcurrentBuild(p.up.steps[0], "routes");
         const Step &drop = step(p.finish, "DROP INDEX CONCURRENTLY");
         EXPECT_FALSE(drop.transactional);
         expectOrder(p.finish, "DROP INDEX CONCURRENTLY",
                     "ALTER INDEX \"routes_service_id_idx_strata_new\" RENAME TO "
                     "\"routes_service_id_idx\"");
       }},
      {"rename_column",
       [](const Planned &p) {
         // The new column is added without NOT NULL or default; it takes the default
         // (non-volatile: the trigger compares inserts with it) with the trigger, so that
         // no row written before the trigger exists gets it instead of the old value.
         EXPECT_EQ(step(p.up, "ADD COLUMN").sql,
                   "ALTER TABLE \"services\" ADD COLUMN \"max_retries\" integer");
         const Step &trigger = step(p.up, "CREATE TRIGGER");
         expectLock(trigger, LockMode::AccessExclusive, {"services"});
         EXPECT_TRUE(
             llvm::StringRef(trigger.sql).endswith("ALTER COLUMN \"max_retries\" SET DEFAULT (5)"));
         const Step &copy = step(p.up, "SET \"max_retries\" = \"retries\"");
         EXPECT_TRUE(copy.isBackfill);
         expectOrder(p.up, "CREATE TRIGGER", "SET \"max_retries\" = \"retries\"");
         expectNotNullThroughCheck(p, "services", "max_retries");
         // Finish: the trigger and the old column go together.
         EXPECT_TRUE(find(p.finish, "SET DEFAULT").empty());
         const Step &drop = step(p.finish, "DROP COLUMN \"retries\"");
         EXPECT_TRUE(llvm::StringRef(drop.sql).contains("DROP TRIGGER IF EXISTS"));
         EXPECT_TRUE(drop.destroys);
         EXPECT_EQ(drop.phase, Phase::Finish);
         for (const Step &s : p.up.steps)
           EXPECT_FALSE(llvm::StringRef(s.sql).contains("DROP COLUMN")) << s.sql;
       }},
      {"rename_indexed_column_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         expectNothingIn(p.up);
       }},
      {"rename_indexed_column_unsafe",
       [](const Planned &p) {
         ASSERT_EQ(p.up.steps.size(), 1u);
         const Step &rename = step(p.up, "RENAME COLUMN \"service_id\" TO \"service\"");
         EXPECT_TRUE(rename.unsafe);
         expectLock(rename, LockMode::AccessExclusive, {"routes"});
         EXPECT_FALSE(p.up.hasErrors());
       }},
      {"type_int_to_bigint",
       [](const Planned &p) {
         EXPECT_EQ(step(p.up, "ADD COLUMN").sql,
                   "ALTER TABLE \"ratelimiting_metrics\" ADD COLUMN \"value_strata_new\" bigint");
         for (const Step &s : p.up.steps) {
           EXPECT_FALSE(s.rewrites) << s.sql;
           EXPECT_FALSE(llvm::StringRef(s.sql).contains(" TYPE bigint")) << s.sql;
         }
         EXPECT_TRUE(step(p.up, "SET \"value_strata_new\" = (\"value\"::bigint)").isBackfill);
         expectNotNullThroughCheck(p, "ratelimiting_metrics", "value_strata_new");
         // The swap: the trigger goes in the same transaction, so no write is lost.
         const Step &swap = step(p.finish, "RENAME COLUMN \"value_strata_new\" TO \"value\"");
         EXPECT_TRUE(llvm::StringRef(swap.sql).startswith("DROP TRIGGER IF EXISTS"));
         EXPECT_TRUE(llvm::StringRef(swap.sql).contains("DROP COLUMN \"value\""));
         EXPECT_TRUE(llvm::StringRef(swap.sql).contains("SET DEFAULT (0)"));
         EXPECT_TRUE(swap.destroys);
         EXPECT_FALSE(swap.scans);
         expectOrder(p.finish, "SET NOT NULL", "RENAME COLUMN");
         EXPECT_TRUE(hasFinding(p.up, "C210", false));
       }},
      {"type_varchar_to_text",
       [](const Planned &p) {
         ASSERT_EQ(p.up.steps.size(), 2u);
         for (const Step &s : p.up.steps) {
           EXPECT_FALSE(s.rewrites || s.scans) << s.sql;
           expectLock(s, LockMode::AccessExclusive, {"consumers"});
         }
         EXPECT_EQ(step(p.up, "\"username\"").sql,
                   "ALTER TABLE \"consumers\" ALTER COLUMN \"username\" TYPE text");
         expectNothingIn(p.finish);
       }},
      {"type_text_to_integer_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         expectNothingIn(p.up);
         const Step &retype = step(p.finish, "TYPE integer USING (port::integer)");
         EXPECT_TRUE(retype.rewrites);
         EXPECT_EQ(retype.lints, std::vector<std::string>{"S105"});
       }},
      {"fk_on_key_dropped_in_finish_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         bool found = false;
         for (const Finding &f : p.up.findings)
           found = found || (f.code == "C207" && f.error &&
                             f.message.find("\"plugins_id_key\"") != std::string::npos &&
                             f.message.find("core@1.1.0") != std::string::npos);
         EXPECT_TRUE(found) << "C207 names the key in the way and the version to stop at";
       }},
      {"type_indexed_column_rejected",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.hasErrors());
         expectNothingIn(p.up);
         ASSERT_FALSE(p.up.findings.empty());
         EXPECT_NE(p.up.findings[0].message.find("which index \"targets_weight_idx\" uses"),
                   std::string::npos)
             << p.up.findings[0].message;
         EXPECT_TRUE(step(p.finish, "TYPE bigint").rewrites);
       }},
      {"type_serial_to_bigint_unsafe",
       [](const Planned &p) {
         EXPECT_FALSE(p.up.hasErrors());
         expectNothingIn(p.up);
         const Step &retype = step(p.finish, "TYPE bigint");
         EXPECT_EQ(retype.sql.find("bigserial"), std::string::npos) << retype.sql;
         EXPECT_NE(retype.sql.find("ALTER SEQUENCE %s AS bigint"), std::string::npos) << retype.sql;
       }},
      {"rename_table",
       [](const Planned &p) {
         ASSERT_EQ(p.up.steps.size(), 1u);
         const Step &rename = p.up.steps[0];
         EXPECT_EQ(rename.sql, "ALTER TABLE \"apis\" RENAME TO \"legacy_apis\";\nCREATE VIEW "
                               "\"apis\" AS SELECT * FROM \"legacy_apis\"");
         EXPECT_TRUE(rename.transactional) << "the rename and the view in one transaction";
         expectLock(rename, LockMode::AccessExclusive, {"apis"});
         // DROP VIEW locks the view, not the table.
         expectLock(step(p.finish, "DROP VIEW IF EXISTS \"apis\""), LockMode::AccessExclusive,
                    {"apis"});
       }},
      {"rename_table_after_changes",
       [](const Planned &p) {
         // Finish runs once the table is "upstreams" and "services" a view: the view goes
         // first, and every later step names the table by its new name.
         ASSERT_FALSE(p.finish.steps.empty());
         EXPECT_EQ(p.finish.steps[0].sql, "DROP VIEW IF EXISTS \"services\"");
         EXPECT_EQ(p.finish.steps[0].version, "1.1.0");
         for (size_t i = 1; i < p.finish.steps.size(); ++i) {
           const Step &s = p.finish.steps[i];
           EXPECT_FALSE(llvm::StringRef(s.sql).contains("ON \"services\"")) << s.sql;
           EXPECT_FALSE(llvm::StringRef(s.sql).contains("TABLE \"services\"")) << s.sql;
           EXPECT_EQ(s.lockTables, std::vector<std::string>{"upstreams"}) << s.sql;
         }
         step(p.finish, "ALTER TABLE \"upstreams\" DROP COLUMN \"legacy\"");
         step(p.finish, "ALTER TABLE \"upstreams\" ALTER COLUMN \"name\" SET NOT NULL");
         // Up renames in order: 1.1.0's steps on "services", then the rename.
         expectOrder(p.up, "CREATE TRIGGER", "RENAME TO \"upstreams\"");
       }},
      {"drop_column",
       [](const Planned &p) {
         // Up relaxes only the column new nodes can no longer fill.
         ASSERT_EQ(p.up.steps.size(), 1u);
         EXPECT_EQ(p.up.steps[0].sql,
                   "ALTER TABLE \"plugins\" ALTER COLUMN \"api_id\" DROP NOT NULL");
         for (const char *column : {"api_id", "consumer_id"}) {
           const Step &drop = step(p.finish, std::string("DROP COLUMN \"") + column + "\"");
           EXPECT_TRUE(drop.destroys);
           EXPECT_EQ(drop.lints, std::vector<std::string>{"S101"});
           expectLock(drop, LockMode::AccessExclusive, {"plugins"});
         }
         EXPECT_TRUE(p.up.findings.empty()) << "the lints belong to finish";
       }},
      {"drop_table",
       [](const Planned &p) {
         expectNothingIn(p.up);
         const Step &drop = step(p.finish, "DROP TABLE \"apis\"");
         EXPECT_TRUE(drop.destroys);
         EXPECT_EQ(drop.lints, std::vector<std::string>{"S102"});
         EXPECT_TRUE(p.up.findings.empty()) << "the lint belongs to finish";
       }},
      {"enum_create_add_value",
       [](const Planned &p) {
         expectOrder(p.up, "CREATE TYPE \"protocol\"", "ADD COLUMN \"protocol\"");
         expectOrder(p.up, "ADD COLUMN \"protocol\"", "ADD VALUE IF NOT EXISTS 'grpc'");
         const Step &before = step(p.up, "ADD VALUE IF NOT EXISTS 'tcp' BEFORE 'http'");
         EXPECT_TRUE(before.transactional);
         EXPECT_EQ(before.lock, LockMode::None);
         EXPECT_EQ(before.version, "1.2.0");
         expectNothingIn(p.finish);
       }},
      {"backfill_batched",
       [](const Planned &p) {
         ASSERT_EQ(p.up.steps.size(), 2u);
         const Step &first = p.up.steps[0], &second = p.up.steps[1];
         for (const Step &s : p.up.steps) {
           EXPECT_TRUE(s.isBackfill);
           EXPECT_TRUE(s.transactional);
           EXPECT_EQ(s.backfill.table, "routes");
           EXPECT_EQ(s.backfill.keyColumns, std::vector<std::string>{"id"});
           expectLock(s, LockMode::RowExclusive, {"routes"});
         }
         EXPECT_EQ(first.backfill.batchSize, 5000);
         EXPECT_EQ(first.backfill.where, "(name is null)");
         EXPECT_EQ(second.backfill.batchSize, 0);
         EXPECT_EQ(second.backfill.set, "\"strip_path\" = (true), \"name\" = (lower(name))");
         expectNothingIn(p.finish);
       }},
      {"raw_sql",
       [](const Planned &p) {
         const Step &notify = step(p.up, "CREATE TRIGGER events_notify");
         EXPECT_TRUE(notify.transactional);
         // CREATE FUNCTION takes no table lock, CREATE TRIGGER SHARE ROW EXCLUSIVE.
         expectLock(notify, LockMode::ShareRowExclusive, {"events"});
         const Step &index = step(p.up, "CREATE INDEX CONCURRENTLY IF NOT EXISTS");
         EXPECT_FALSE(index.transactional);
         expectLock(index, LockMode::ShareUpdateExclusive, {"events"});
         ASSERT_EQ(p.finish.steps.size(), 1u);
         EXPECT_EQ(p.finish.steps[0].sql, "DROP FUNCTION IF EXISTS events_notify_legacy();");
         expectLock(p.finish.steps[0], LockMode::None, {});
       }},
      {"raw_sql_locks",
       [](const Planned &p) {
         // UPDATE: ROW EXCLUSIVE, CREATE INDEX: SHARE, the strongest.
         expectLock(step(p.up, "UPDATE events"), LockMode::Share, {"events"});
         expectLock(step(p.up, "DO $$"), LockMode::Unknown, {});
         expectLock(step(p.finish, "DROP INDEX events_kind_idx"), LockMode::AccessExclusive,
                    {"events_kind_idx"});
         EXPECT_NE(renderText(p.up, {}).find("lock: unknown"), std::string::npos);
       }},
      {"type_changed_twice",
       [](const Planned &p) {
         // Two shadow columns, each with its section of the table's one trigger.
         step(p.up, "ADD COLUMN \"hits_strata_new\" integer");
         step(p.up, "ADD COLUMN \"hits_strata_new2\" bigint");
         step(p.up, "NEW.\"hits_strata_new2\" := ");
         // The second converts from the column as the database holds it, through both.
         EXPECT_EQ(step(p.up, "\"hits_strata_new2\" = ").backfill.set,
                   "\"hits_strata_new2\" = ((SELECT (hits * 2 / 2) FROM (SELECT "
                   "(\"hits\"::integer) AS \"hits\") AS strata_prev))");
         // In finish the first shadow only goes; the last one takes the name.
         expectOrder(p.finish, "DROP COLUMN \"hits_strata_new\"",
                     "RENAME COLUMN \"hits_strata_new2\" TO \"hits\"");
         for (const Step &s : p.finish.steps)
           EXPECT_FALSE(llvm::StringRef(s.sql).contains("RENAME COLUMN \"hits_strata_new\" "))
               << s.sql;
       }},
      {"rename_table_then_type",
       [](const Planned &p) {
         const Step &inPlace = step(p.up, "ALTER COLUMN \"name\" TYPE text");
         EXPECT_EQ(inPlace.sql, "DROP VIEW \"plugins\";\n"
                                "ALTER TABLE \"legacy_plugins\" ALTER COLUMN \"name\" TYPE text;\n"
                                "CREATE VIEW \"plugins\" AS SELECT * FROM \"legacy_plugins\"");
         EXPECT_TRUE(inPlace.transactional);
         step(p.up, "ALTER TABLE \"legacy_plugins\" ADD COLUMN \"weight_strata_new\"");
         expectOrder(p.finish, "DROP VIEW IF EXISTS \"plugins\"",
                     "RENAME COLUMN \"weight_strata_new\" TO \"weight\"");
       }},
      {"drop_table_after_plugin_fk",
       [](const Planned &p) {
         const Step &fk = step(p.finish, "DROP COLUMN \"group_id\"");
         // In core's node, whose DROP TABLE it must precede.
         EXPECT_EQ(fk.subsystem, "core");
         EXPECT_EQ(fk.version, "2.0.0");
         expectOrder(p.finish, "DROP COLUMN \"group_id\"", "DROP TABLE \"groups\"");
         EXPECT_TRUE(p.up.steps.empty());
       }},
      {"merge_branches",
       [](const Planned &p) {
         std::vector<std::string> applies;
         for (const NodeId &n : p.up.applies)
           applies.push_back(n.subsystem + "@" + n.version);
         EXPECT_EQ(applies, (std::vector<std::string>{"core@1.1.0", "core@1.2.0"}));
         EXPECT_EQ(p.up.from.size(), 2u) << "1.0.1 and its parent 1.0.0";
         EXPECT_TRUE(find(p.up, "\"protocol\"").empty()) << "1.0.1 ran already";
         EXPECT_EQ(step(p.up, "\"host\"").version, "1.1.0");
         EXPECT_EQ(step(p.up, "\"tags\"").version, "1.2.0");
         expectNothingIn(p.finish);
       }},
      {"targets_within_ceiling",
       [](const Planned &p) {
         std::vector<std::string> to, applies;
         for (const NodeId &n : p.up.to)
           to.push_back(n.subsystem + "@" + n.version);
         for (const NodeId &n : p.up.applies)
           applies.push_back(n.subsystem + "@" + n.version);
         EXPECT_EQ(to, (std::vector<std::string>{"core@1.1.0", "rate_limiting@1.1.0"}));
         EXPECT_EQ(applies, (std::vector<std::string>{"core@1.1.0", "rate_limiting@1.0.0",
                                                      "rate_limiting@1.1.0"}));
         EXPECT_TRUE(find(p.up, "route_name").empty()) << "rate_limiting@2.0.0 needs core 1.2";
         // A foreign key added to a new table still locks the table it references.
         expectLock(step(p.up, "ADD CONSTRAINT \"ratelimiting_metrics_route_id_fkey\""),
                    LockMode::ShareRowExclusive, {"ratelimiting_metrics", "routes"});
       }},
      {"plan_up_from_empty",
       [](const Planned &p) {
         EXPECT_TRUE(p.up.from.empty());
         expectNothingIn(p.finish);
         EXPECT_TRUE(p.up.findings.empty());
         for (const Step &s : p.up.steps) {
           EXPECT_FALSE(s.destroys || s.isBackfill) << s.sql;
           EXPECT_FALSE(llvm::StringRef(s.sql).contains("CONCURRENTLY")) << s.sql;
           EXPECT_FALSE(llvm::StringRef(s.sql).contains("VIEW")) << s.sql;
         }
         expectOrder(p.up, "CREATE TABLE \"apis\"", "DROP TABLE \"apis\"");
         step(p.up, "ALTER TABLE \"services\" RENAME TO \"upstream_services\"");
       }},
  };
  return facts;
}

} // namespace
