// `strata inspect`, `strata diff` and `strata apply baseline` on a real PostgreSQL
// (STRATA_TEST_DB): the round trip of every example version (bootstrap, inspect, compile
// the printed DSL, compare), hand-made drifts each reported exactly with the SQL that
// removes it (and that SQL run to prove it), baseline accepted and refused, and the exit
// codes of the real executable.
#include "TestDatabase.h"

#include "cli/Inspect.h"
#include "compiler/Compilation.h"
#include "runtime/Drift.h"
#include "runtime/Runner.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace strata {
namespace {

using test::ProjectDir;
using test::query;
using test::show;
using test::TestDatabase;
using Outcome = test::StrataProcess::Outcome;


Outcome strata(const ProjectDir &dir, const TestDatabase &db, std::vector<std::string> args) {
  args.insert(args.end(), {"-s", dir.path(), "--db", db.connInfo()});
  return test::runStrata(args);
}

/// Tables and types with their owners cleared: the catalog does not know them.
compiler::Schema withoutOwners(const compiler::Schema &schema) {
  compiler::Schema out;
  for (const auto &[_, table] : schema.tables()) {
    compiler::Table t = *table;
    t.owner.clear();
    out.putTable(std::move(t));
  }
  for (const auto &[_, type] : schema.enums()) {
    compiler::EnumType e = type;
    e.owner.clear();
    out.putEnum(std::move(e));
  }
  return out;
}

// --- the round trip of every example version ---------------------------------------------

struct Example {
  const char *name;
  const char *path; ///< under the source directory
};

class RoundTripTest : public ::testing::TestWithParam<Example> {};

TEST_P(RoundTripTest, EveryVersionInspectsBackToItsState) {
  TestDatabase db("roundtrip");
  ASSERT_TRUE(db.ok());
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  compiler::Compilation compilation;
  ASSERT_FALSE(compilation.addPath(std::string(STRATA_SOURCE_DIR) + "/" + GetParam().path));
  const compiler::Project *project = compilation.run();
  ASSERT_TRUE(project);
  planner::VersionGraph graph(*project);
  int checked = 0;
  for (unsigned s = 0; s < project->subsystems.size(); ++s) {
    for (unsigned v = 0; v < project->subsystems[s].versions.size(); ++v) {
      compiler::VersionRef x{s, v};
      SCOPED_TRACE(project->describe(x));
      ASSERT_TRUE(query(*conn, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"));
      std::string log;
      llvm::raw_string_ostream logStream(log);
      runtime::RunnerOptions ropts;
      ropts.connInfo = db.connInfo();
      ropts.targets = {x};
      runtime::Runner runner(
          *project, graph, [](compiler::SourceRange) { return ""; }, ropts, logStream);
      llvm::Error boot = runner.bootstrap();
      ASSERT_FALSE(boot) << llvm::toString(std::move(boot));

      llvm::Expected<std::vector<compiler::VersionRef>> recorded =
          runtime::recordedVersions(*conn, *project, graph);
      ASSERT_TRUE(bool(recorded)) << llvm::toString(recorded.takeError());
      ASSERT_TRUE(llvm::is_contained(*recorded, x));
      llvm::Expected<runtime::Inspection> live = runtime::inspect(*conn, {});
      ASSERT_TRUE(bool(live)) << llvm::toString(live.takeError());
      EXPECT_TRUE(live->unsupported.empty());

      // The catalog is exactly the declared state of the versions it is at (X's among them).
      compiler::Schema declared = runtime::declaredState(*project, *recorded);
      EXPECT_GT(declared.tables().size(), 0u);
      llvm::Expected<compiler::Schema> stored = runtime::storedForm(*conn, declared, "public");
      ASSERT_TRUE(bool(stored)) << llvm::toString(stored.takeError());
      EXPECT_EQ(runtime::describeSchema(*stored), runtime::describeSchema(live->schema));
      for (const auto &[name, _] : project->at(x).state.tables())
        EXPECT_TRUE(live->schema.findTable(name)) << name;
      llvm::Expected<runtime::DriftReport> drift = runtime::checkDrift(*conn, *project, *recorded);
      ASSERT_TRUE(bool(drift)) << llvm::toString(drift.takeError());
      for (const runtime::Change &c : drift->changes)
        ADD_FAILURE() << runtime::describeChange(c);
      for (const runtime::UnmanagedObject &u : drift->unmanaged)
        EXPECT_EQ(u.kind, "schema") << u.name; // every table and type is declared

      // `strata inspect` prints DSL that compiles to the same catalog.
      cli::InspectOptions iopts;
      iopts.run.db = db.connInfo();
      iopts.as = "inspected@1.0.0";
      std::string printed, errors;
      llvm::raw_string_ostream out(printed), err(errors);
      ASSERT_EQ(cli::runInspect(iopts, out, err), 0) << errors;
      compiler::Compilation again;
      again.addSource("inspected.strata", printed);
      const compiler::Project *reparsed = again.run();
      ASSERT_TRUE(reparsed) << printed;
      ASSERT_EQ(reparsed->subsystems.size(), 1u);
      const compiler::Schema &compiled = reparsed->subsystems[0].versions[0].state;
      EXPECT_EQ(runtime::describeSchema(withoutOwners(compiled)),
                runtime::describeSchema(live->schema))
          << printed;
      llvm::Expected<compiler::Schema> compiledStored =
          runtime::storedForm(*conn, withoutOwners(compiled), "public");
      ASSERT_TRUE(bool(compiledStored)) << llvm::toString(compiledStored.takeError());
      EXPECT_EQ(runtime::describeSchema(*compiledStored), runtime::describeSchema(*stored));
      ++checked;
    }
  }
  EXPECT_GE(checked, 5);
}

INSTANTIATE_TEST_SUITE_P(Examples, RoundTripTest,
                         ::testing::Values(Example{"gateway", "examples/gateway"},
                                           Example{"design", "examples/design/design.strata"}),
                         [](const ::testing::TestParamInfo<Example> &info) {
                           return std::string(info.param.name);
                         });

// --- hand-made drifts ------------------------------------------------------------------

constexpr const char *appProject = R"(
subsystem app {
  version "1.0.0" {
    enum mood { 'ok', 'sad' }
    table users {
      id    bigint primary key
      name  text not null
      email text
      score integer default 0
      feel  mood
      constraint users_email_key unique (email)
      constraint users_score_check check (score >= 0)
      index users_name_idx (name)
      index users_lower_name_idx ((lower(name)))
    }
    table posts {
      id      bigint primary key
      user_id bigint references users(id) on delete cascade
      body    text
    }
  }
}
)";

/// appProject with a version 1.1.0 that adds a column to users.
std::string appNextVersion() {
  std::string text = appProject;
  text.erase(text.rfind('}'));
  return text + R"(  version "1.1.0" {
    alter table users {
      add column nick text
    }
  }
}
)";
}

class DriftTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(db.ok());
    conn = db.connect();
    ASSERT_TRUE(conn);
    Outcome o = strata(dir, db, {"apply", "bootstrap"});
    ASSERT_EQ(o.exitCode, 0) << show(o);
  }

  /// `strata diff --format json`, its exit code checked, parsed.
  nlohmann::json diffJson(int expectedExit) {
    Outcome o = strata(dir, db, {"diff", "--format", "json"});
    EXPECT_EQ(o.exitCode, expectedExit) << show(o);
    nlohmann::json j = nlohmann::json::parse(o.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << show(o);
    return j;
  }

  /// Runs the drift's SQL, one statement at a time (CONCURRENTLY cannot run in a block).
  void runFix(const nlohmann::json &report) {
    for (const nlohmann::json &statement : report["sql"])
      ASSERT_TRUE(query(*conn, statement.get<std::string>()));
  }

  /// The hand-made drift \p sql gives exactly one change of \p kind on \p table /
  /// \p object, whose SQL is \p fix; running it removes the drift.
  void expectSingleChange(const std::string &sql, const std::string &kind, const std::string &table,
                          const std::string &object, const std::vector<std::string> &fix) {
    ASSERT_TRUE(query(*conn, sql));
    nlohmann::json report = diffJson(1);
    ASSERT_EQ(report["changes"].size(), 1u) << report.dump(2);
    const nlohmann::json &c = report["changes"][0];
    EXPECT_EQ(c["kind"], kind) << report.dump(2);
    EXPECT_EQ(c["table"], table);
    EXPECT_EQ(c["object"], object);
    EXPECT_EQ(c["sql"].get<std::vector<std::string>>(), fix);
    EXPECT_EQ(report["sql"].get<std::vector<std::string>>(), fix);
    runFix(report);
    nlohmann::json after = diffJson(0);
    EXPECT_EQ(after["changes"].size(), 0u) << after.dump(2);
  }

  TestDatabase db{"drift"};
  ProjectDir dir{appProject};
  std::optional<runtime::Connection> conn;
};

TEST_F(DriftTest, NoDriftAfterBootstrap) {
  nlohmann::json report = diffJson(0);
  EXPECT_EQ(report["drift"], false);
  EXPECT_EQ(report["against"][0]["version"], "1.0.0");
  Outcome o = strata(dir, db, {"diff"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  EXPECT_NE(o.out.find("no drift"), std::string::npos) << show(o);
}

TEST_F(DriftTest, ExtraIndex) {
  expectSingleChange("CREATE INDEX users_email_lower_idx ON users (lower(email))", "extra_index",
                     "users", "users_email_lower_idx",
                     {"DROP INDEX CONCURRENTLY \"users_email_lower_idx\""});
}

TEST_F(DriftTest, DroppedColumn) {
  expectSingleChange("ALTER TABLE posts DROP COLUMN body", "missing_column", "posts", "body",
                     {"ALTER TABLE \"posts\" ADD COLUMN \"body\" text"});
}

TEST_F(DriftTest, ExtraColumn) {
  expectSingleChange("ALTER TABLE users ADD COLUMN nick text", "extra_column", "users", "nick",
                     {"ALTER TABLE \"users\" DROP COLUMN \"nick\""});
}

TEST_F(DriftTest, ChangedDefault) {
  ASSERT_TRUE(query(*conn, "ALTER TABLE users ALTER COLUMN score SET DEFAULT 5"));
  nlohmann::json report = diffJson(1);
  ASSERT_EQ(report["changes"].size(), 1u) << report.dump(2);
  EXPECT_EQ(report["changes"][0]["declared"], "default (0)");
  EXPECT_EQ(report["changes"][0]["live"], "default (5)");
  ASSERT_TRUE(query(*conn, "ALTER TABLE users ALTER COLUMN score SET DEFAULT 0"));
  expectSingleChange("ALTER TABLE users ALTER COLUMN score SET DEFAULT 5", "changed_default",
                     "users", "score",
                     {"ALTER TABLE \"users\" ALTER COLUMN \"score\" SET DEFAULT (0)"});
}

TEST_F(DriftTest, ChangedType) {
  ASSERT_TRUE(query(*conn, "ALTER TABLE posts ALTER COLUMN body TYPE varchar(200)"));
  nlohmann::json report = diffJson(1);
  ASSERT_EQ(report["changes"].size(), 1u) << report.dump(2);
  EXPECT_EQ(report["changes"][0]["declared"], "text");
  EXPECT_EQ(report["changes"][0]["live"], "character varying(200)");
  ASSERT_TRUE(query(*conn, "ALTER TABLE posts ALTER COLUMN body TYPE text"));
  expectSingleChange("ALTER TABLE posts ALTER COLUMN body TYPE varchar(200)", "changed_type",
                     "posts", "body", {"ALTER TABLE \"posts\" ALTER COLUMN \"body\" TYPE text"});
}

TEST_F(DriftTest, ChangedTypeUnderAnExpressionIndexIsFixedInOrder) {
  // PostgreSQL rebuilds the index over the new type (lower(name::text)): two changes, and
  // the index is built again only after the column has its declared type back.
  ASSERT_TRUE(query(*conn, "ALTER TABLE users ALTER COLUMN name TYPE varchar(50)"));
  nlohmann::json report = diffJson(1);
  std::vector<std::string> kinds;
  for (const nlohmann::json &c : report["changes"])
    kinds.push_back(c["kind"].get<std::string>() + " " + c["object"].get<std::string>());
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"changed_index users_lower_name_idx", "changed_type name"}))
      << report.dump(2);
  EXPECT_EQ(
      report["sql"].get<std::vector<std::string>>(),
      (std::vector<std::string>{
          "DROP INDEX CONCURRENTLY \"users_lower_name_idx\"",
          "ALTER TABLE \"users\" ALTER COLUMN \"name\" TYPE text",
          "CREATE INDEX CONCURRENTLY \"users_lower_name_idx\" ON \"users\" ((lower(name)))"}));
  runFix(report);
  nlohmann::json after = diffJson(0);
  EXPECT_EQ(after["changes"].size(), 0u) << after.dump(2);
}

TEST_F(DriftTest, MissingConstraint) {
  expectSingleChange(
      "ALTER TABLE users DROP CONSTRAINT users_score_check", "missing_constraint", "users",
      "users_score_check",
      {"ALTER TABLE \"users\" ADD CONSTRAINT \"users_score_check\" CHECK (score >= 0)"});
}

TEST_F(DriftTest, MissingForeignKeyKeepsItsAction) {
  expectSingleChange("ALTER TABLE posts DROP CONSTRAINT posts_user_id_fkey", "missing_constraint",
                     "posts", "posts_user_id_fkey",
                     {"ALTER TABLE \"posts\" ADD CONSTRAINT \"posts_user_id_fkey\" FOREIGN KEY "
                      "(\"user_id\") REFERENCES \"users\" (\"id\") ON DELETE CASCADE"});
}

TEST_F(DriftTest, ChangedIndexIsOneChangeWithDropAndCreate) {
  expectSingleChange("DROP INDEX users_name_idx; CREATE INDEX users_name_idx ON users (name DESC)",
                     "changed_index", "users", "users_name_idx",
                     {"DROP INDEX CONCURRENTLY \"users_name_idx\"",
                      "CREATE INDEX CONCURRENTLY \"users_name_idx\" ON \"users\" (\"name\")"});
}

TEST_F(DriftTest, DroppedNotNull) {
  expectSingleChange("ALTER TABLE users ALTER COLUMN name DROP NOT NULL", "changed_nullability",
                     "users", "name", {"ALTER TABLE \"users\" ALTER COLUMN \"name\" SET NOT NULL"});
}

TEST_F(DriftTest, UnmanagedObjectsAreListedAndNeverChanged) {
  ASSERT_TRUE(query(*conn, "CREATE TABLE audit_log (id int); CREATE TYPE colour AS ENUM ('red'); "
                           "CREATE SCHEMA reporting; CREATE TABLE reporting.daily (d date)"));
  nlohmann::json report = diffJson(0);
  std::vector<std::string> unmanaged;
  for (const nlohmann::json &u : report["unmanaged"])
    unmanaged.push_back(u["kind"].get<std::string>() + " " + u["name"].get<std::string>());
  EXPECT_TRUE(llvm::is_contained(unmanaged, "table audit_log")) << report.dump(2);
  EXPECT_TRUE(llvm::is_contained(unmanaged, "type colour")) << report.dump(2);
  EXPECT_TRUE(llvm::is_contained(unmanaged, "schema reporting")) << report.dump(2);
  for (const std::string &u : unmanaged)
    EXPECT_EQ(u.find("strata_"), std::string::npos) << "strata's own tables are not listed";
  // A drift elsewhere: its SQL leaves the unmanaged objects alone.
  ASSERT_TRUE(query(*conn, "CREATE INDEX users_email_idx2 ON users (email)"));
  report = diffJson(1);
  runFix(report);
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM pg_class WHERE relname IN ('audit_log', 'daily')"),
            "2");
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM pg_type WHERE typname = 'colour'"), "1");
}

TEST_F(DriftTest, StatusWarnsAndPlanNotesTheTouchedStep) {
  ASSERT_TRUE(query(*conn, "CREATE INDEX users_email_lower_idx ON users (lower(email))"));
  Outcome o = strata(dir, db, {"status"});
  EXPECT_EQ(o.exitCode, 0) << show(o); // the exit code says what status always says
  EXPECT_NE(o.err.find("strata: warning: drift: extra_index on table \"users\" index "
                       "\"users_email_lower_idx\""),
            std::string::npos)
      << show(o);
  dir.write(appNextVersion());
  o = strata(dir, db, {"plan", "up"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  EXPECT_NE(o.out.find("warning[D301]"), std::string::npos) << show(o);
  EXPECT_NE(o.out.find("users_email_lower_idx"), std::string::npos) << show(o);
  // A plan that touches nothing drifted says nothing.
  ASSERT_TRUE(query(*conn, "DROP INDEX users_email_lower_idx; "
                           "CREATE INDEX posts_body_idx ON posts (body)"));
  o = strata(dir, db, {"plan", "up"});
  EXPECT_EQ(o.out.find("D301"), std::string::npos) << show(o);
}

TEST_F(DriftTest, PendingFinishIsNotWarnedAboutButDiffSaysWhy) {
  std::string text = appProject;
  text.erase(text.rfind('}'));
  dir.write(text + R"(  version "1.1.0" {
    alter table posts {
      drop column body
    }
  }
}
)");
  Outcome o = strata(dir, db, {"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  o = strata(dir, db, {"status"});
  EXPECT_EQ(o.exitCode, 4) << show(o);
  EXPECT_EQ(o.err.find("drift"), std::string::npos) << show(o);
  // The column finish drops is still there: diff reports it, and says why.
  nlohmann::json report = diffJson(1);
  ASSERT_EQ(report["changes"].size(), 1u) << report.dump(2);
  EXPECT_EQ(report["changes"][0]["kind"], "extra_column");
  EXPECT_EQ(report["changes"][0]["object"], "body");
  ASSERT_EQ(report["notes"].size(), 1u) << report.dump(2);
  EXPECT_NE(report["notes"][0].get<std::string>().find("app@1.1.0 is pending finish"),
            std::string::npos);
  o = strata(dir, db, {"apply", "finish", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  report = diffJson(0);
  EXPECT_EQ(report["notes"].size(), 0u) << report.dump(2);
}

TEST_F(DriftTest, DiffExitCodes) {
  Outcome o = strata(dir, db, {"diff"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  ASSERT_TRUE(query(*conn, "ALTER TABLE posts DROP COLUMN body"));
  o = strata(dir, db, {"diff"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_NE(o.out.find("missing_column on table \"posts\" column \"body\""), std::string::npos)
      << show(o);
  EXPECT_NE(o.out.find("ALTER TABLE \"posts\" ADD COLUMN \"body\" text;"), std::string::npos)
      << show(o);
  o = strata(dir, db, {"diff", "--format", "sql"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_EQ(o.out, "ALTER TABLE \"posts\" ADD COLUMN \"body\" text;\n");
  // Errors: an unreachable server, an unmanaged database without --to, a bad --to.
  o = test::runStrata({"diff", "-s", dir.path(), "--db", "host=/nonexistent dbname=x"});
  EXPECT_EQ(o.exitCode, 2) << show(o);
  ASSERT_TRUE(query(*conn, "DROP TABLE strata_steps, strata_nodes"));
  o = strata(dir, db, {"diff"});
  EXPECT_EQ(o.exitCode, 2) << show(o);
  EXPECT_NE(o.err.find("--to"), std::string::npos) << show(o);
  o = strata(dir, db, {"diff", "--to", "app@1.0.0"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  o = strata(dir, db, {"diff", "--to", "app@9.9.9"});
  EXPECT_EQ(o.exitCode, 2) << show(o);
}

TEST_F(DriftTest, InspectSubsystemPrintsOnlyItsTables) {
  ASSERT_TRUE(query(*conn, "CREATE TABLE audit_log (id int)"));
  Outcome o = strata(dir, db, {"inspect", "--subsystem", "app"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_NE(o.out.find("subsystem app {\n  version \"1.0.0\" {"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("table users {"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("enum mood { 'ok', 'sad' }"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("constraint posts_user_id_fkey foreign key (user_id) references users "
                       "(id) on delete cascade"),
            std::string::npos)
      << o.out;
  EXPECT_EQ(o.out.find("table audit_log"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("strata_nodes"), std::string::npos) << o.out;
  o = test::runStrata({"inspect", "--db", db.connInfo()});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_NE(o.out.find("table audit_log {"), std::string::npos) << o.out;
  o = strata(dir, db, {"inspect", "--subsystem", "nope"});
  EXPECT_EQ(o.exitCode, 2) << show(o);
  o = test::runStrata({"inspect", "--db", db.connInfo(), "--schema", "nope"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_NE(o.err.find("schema \"nope\" does not exist"), std::string::npos) << show(o);
}

// --- baseline --------------------------------------------------------------------------

TEST_F(DriftTest, BaselineAcceptsAMatchingDatabase) {
  // An existing database that strata does not manage: the same objects, no state.
  ASSERT_TRUE(query(*conn, "DROP TABLE strata_steps, strata_nodes"));
  Outcome o = strata(dir, db, {"status"});
  EXPECT_EQ(o.exitCode, 3) << show(o);
  o = strata(dir, db, {"apply", "baseline", "--to", "app@1.0.0"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_NE(o.out.find("recorded the database as being at app@1.0.0"), std::string::npos)
      << show(o);
  EXPECT_EQ(query(*conn, "SELECT string_agg(subsystem || '@' || version || ' ' || status, ',') "
                         "FROM strata_nodes WHERE subsystem <> 'strata'"),
            "app@1.0.0 executed");
  o = strata(dir, db, {"status"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  // And up works from there.
  dir.write(appNextVersion());
  o = strata(dir, db, {"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM information_schema.columns WHERE table_name = "
                         "'users' AND column_name = 'nick'"),
            "1");
  // A managed database is not baselined again.
  o = strata(dir, db, {"apply", "baseline", "--to", "app@1.0.0"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_NE(o.err.find("already managed"), std::string::npos) << show(o);
}

TEST_F(DriftTest, BaselineRefusesADriftedDatabaseListingTheDifferences) {
  ASSERT_TRUE(query(*conn, "DROP TABLE strata_steps, strata_nodes; "
                           "CREATE INDEX users_email_lower_idx ON users (lower(email)); "
                           "ALTER TABLE posts DROP COLUMN body"));
  Outcome o = strata(dir, db, {"apply", "baseline", "--to", "app@1.0.0"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_NE(o.err.find("does not match app@1.0.0 (2 differences)"), std::string::npos) << show(o);
  EXPECT_NE(o.err.find("extra_index on table \"users\" index \"users_email_lower_idx\""),
            std::string::npos)
      << show(o);
  EXPECT_NE(o.err.find("missing_column on table \"posts\" column \"body\""), std::string::npos)
      << show(o);
  // Nothing written: no state tables, the database still needs bootstrap (or a baseline).
  EXPECT_EQ(query(*conn, "SELECT to_regclass('strata_nodes') IS NULL"), "t");
  o = strata(dir, db, {"status"});
  EXPECT_EQ(o.exitCode, 3) << show(o);
  // A baseline needs versions.
  o = strata(dir, db, {"apply", "baseline"});
  EXPECT_EQ(o.exitCode, 2) << show(o);
}

} // namespace
} // namespace strata
