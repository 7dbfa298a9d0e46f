// One verdict everywhere (issue 17, bugs 4, 5 and 8): what `status` says, what `plan
// --db` prints and what `apply` does agree on an edited version, on versions pending
// finish, on a downgrade target, on a bootstrap to an old release or into a database that
// already has the tables; and `reset` names the database and what it drops before it
// drops anything. The real executable on a database of its own per test (STRATA_TEST_DB;
// skipped without it).
#include "test/runtime/ApplyHelpers.h"
#include "test/runtime/TestDatabase.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace strata;
using namespace strata::test;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

using test::strata;

/// Three versions: a table; a NOT NULL column filled from another one plus an index (so
/// `up` leaves it pending finish); a default changed (no finish steps).
const char *project = R"(
subsystem app {
  version "1.0.0" {
    table t {
      id bigint primary key
      a  integer not null  // the fill of c reads it (C215 if it could be null)
      b  text default ('x')
    }
  }
  version "1.1.0" {
    alter table t {
      add column c integer not null fill ((a * 2))
      add index t_b_idx (b)
    }
  }
  version "1.2.0" {
    alter table t {
      alter column b set default ('y')
    }
  }
}
)";

std::string replaced(std::string text, const std::string &from, const std::string &to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos)
    text.replace(at, from.size(), to);
  return text;
}

/// The one line `strata: error: ...` of a run.
std::string errorLine(const Outcome &o) {
  size_t at = o.err.find("strata: error: ");
  if (at == std::string::npos)
    return "";
  return o.err.substr(at, o.err.find('\n', at) - at);
}

class VerdictTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!test::serverConnInfo())
      GTEST_SKIP() << "STRATA_TEST_DB is not set (run scripts/test.sh)";
  }
};

// --- bug 5: an edited version -------------------------------------------------------------

TEST_F(VerdictTest, EditedVersionUnderLaterOnesIsOneVerdictWithAdviceThatWorks) {
  TestDatabase db("verdict");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(project);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap"}).exitCode, 0);

  // 1.0.0 edited after 1.1.0 and 1.2.0 ran on top of it.
  dir.write(replaced(project, "b  text default ('x')", "b  text default ('w')"));
  Outcome status = run({"status"});
  EXPECT_EQ(status.exitCode, 7) << show(status);
  EXPECT_THAT(status.out, HasSubstr("Changed since they ran (checksum differs):\napp: 1.0.0\n"));
  EXPECT_THAT(status.out, Not(HasSubstr("up to date")));
  EXPECT_THAT(status.out, HasSubstr("restore it as it ran and put the change in a new version "
                                    "('strata new version app 1.2.1')"));
  Outcome json = run({"status", "--format", "json"});
  EXPECT_EQ(json.exitCode, 7) << show(json);
  EXPECT_EQ(nlohmann::json::parse(json.out, nullptr, false)["status"], 7) << json.out;

  // The dry run refuses as apply does, with the same message, and neither offers --force,
  // which cannot re-run a version that others were built on.
  Outcome plan = run({"plan", "up"});
  Outcome apply = run({"apply", "up"});
  EXPECT_EQ(plan.exitCode, 1) << show(plan);
  EXPECT_EQ(apply.exitCode, 1) << show(apply);
  EXPECT_EQ(errorLine(plan), errorLine(apply));
  EXPECT_THAT(errorLine(apply),
              HasSubstr("app@1.0.0 changed since it ran (checksum differs): restore it as it "
                        "ran and put the change in a new version ('strata new version app "
                        "1.2.1')"));
  EXPECT_THAT(errorLine(apply), Not(HasSubstr("--force")));
  Outcome forced = run({"apply", "up", "--force"});
  EXPECT_EQ(forced.exitCode, 1) << show(forced);
  EXPECT_THAT(errorLine(forced), HasSubstr("strata new version app 1.2.1"));
  EXPECT_EQ(errorLine(forced), errorLine(run({"plan", "up", "--force"})));

  // The advice works: restored, and the change in a new version.
  dir.write(project);
  Outcome added = test::runStrata({"new", "version", "app", "1.2.1", "--dir", dir.path()});
  ASSERT_EQ(added.exitCode, 0) << show(added);
  std::string withNew = readFile(dir.file());
  withNew.insert(withNew.rfind("version \"1.2.1\" {") + 17,
                 "\n    alter table t {\n      alter column b set default ('w')\n    }");
  dir.write(withNew);
  EXPECT_EQ(run({"status"}).exitCode, 5);
  Outcome up = run({"apply", "up"});
  ASSERT_EQ(up.exitCode, 0) << show(up);
  EXPECT_THAT(up.out, HasSubstr("app@1.2.1 migrated up: executed"));
  EXPECT_EQ(run({"status"}).exitCode, 0);
}

TEST_F(VerdictTest, EditedLatestVersionOffersForceAndPlanShowsTheRerun) {
  TestDatabase db("verdict");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(project);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap"}).exitCode, 0);

  // A release candidate's last version edited after it ran: nothing else was built on it.
  dir.write(replaced(project, "set default ('y')", "set default ('z')"));
  EXPECT_EQ(run({"status"}).exitCode, 7);
  Outcome plan = run({"plan", "up"});
  Outcome apply = run({"apply", "up"});
  EXPECT_EQ(plan.exitCode, 1) << show(plan);
  EXPECT_EQ(apply.exitCode, 1) << show(apply);
  EXPECT_EQ(errorLine(plan), errorLine(apply));
  EXPECT_THAT(errorLine(apply), HasSubstr("strata new version app 1.2.1"));
  EXPECT_THAT(errorLine(apply), HasSubstr("re-run it with 'strata apply up --force'"));

  // --force does what it says, and its dry run shows it first.
  plan = run({"plan", "up", "--force"});
  ASSERT_EQ(plan.exitCode, 0) << show(plan);
  EXPECT_THAT(plan.out, HasSubstr("SET DEFAULT ('z')"));
  apply = run({"apply", "up", "--force"});
  ASSERT_EQ(apply.exitCode, 0) << show(apply);
  EXPECT_THAT(apply.out, HasSubstr("app@1.2.0 migrated up: executed"));
  EXPECT_EQ(run({"status"}).exitCode, 0);
}

// The decision itself, without a database: --force re-runs changed versions together, and
// refuses only where a version that stays recorded was built on a changed one.
TEST(UpDecisionTest, ForceRerunsAChainOfChangedVersionsButNotOneUnderAKeptVersion) {
  LoadedProject p = load("project.strata", project);
  ASSERT_TRUE(p.project);
  auto locate = [](compiler::SourceRange) { return std::string(); };
  auto recordsWith = [&](std::vector<std::string> changed) {
    std::vector<runtime::NodeRecord> records;
    for (const compiler::Version &v : p.project->subsystems[0].versions)
      records.push_back(
          {"app", v.text, llvm::is_contained(changed, v.text) ? "edited" : v.checksum, true});
    return records;
  };
  llvm::Expected<runtime::UpDecision> both = runtime::Runner::decideUp(
      *p.project, *p.graph, locate, recordsWith({"1.1.0", "1.2.0"}), {}, /*force=*/true);
  ASSERT_TRUE(!!both) << llvm::toString(both.takeError());
  EXPECT_EQ(both->rerun.size(), 2u);
  EXPECT_EQ(both->plan.applies.size(), 2u);

  llvm::Expected<runtime::UpDecision> under = runtime::Runner::decideUp(
      *p.project, *p.graph, locate, recordsWith({"1.1.0"}), {}, /*force=*/true);
  ASSERT_FALSE(!!under);
  EXPECT_THAT(llvm::toString(under.takeError()),
              HasSubstr("app@1.1.0 changed since it ran, and app@1.2.0 ran after it"));
  llvm::Expected<runtime::UpDecision> refused = runtime::Runner::decideUp(
      *p.project, *p.graph, locate, recordsWith({"1.1.0"}), {}, /*force=*/false);
  ASSERT_FALSE(!!refused);
  EXPECT_THAT(llvm::toString(refused.takeError()), Not(HasSubstr("--force")));
}

// --- bug 5: versions pending finish ---------------------------------------------------------

TEST_F(VerdictTest, PlanUpOnAPendingFinishRefusesAsApplyDoes) {
  TestDatabase db("verdict");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(project);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_EQ(run({"apply", "up", "--to", "app@1.1.0"}).exitCode, 0);

  Outcome plan = run({"plan", "up"});
  Outcome apply = run({"apply", "up"});
  EXPECT_EQ(plan.exitCode, 1) << show(plan);
  EXPECT_EQ(apply.exitCode, 1) << show(apply);
  EXPECT_EQ(plan.out, "") << "the dry run printed steps that apply refuses";
  EXPECT_THAT(errorLine(apply), HasSubstr("pending finish: app@1.1.0"));
  EXPECT_EQ(errorLine(plan), errorLine(apply));

  // With --force both go ahead, and the dry run shows what apply then runs.
  plan = run({"plan", "up", "--force"});
  ASSERT_EQ(plan.exitCode, 0) << show(plan);
  EXPECT_THAT(plan.out, HasSubstr("SET DEFAULT ('y')"));
  EXPECT_THAT(plan.out, Not(HasSubstr("t_b_idx"))) << "the pending version again";

  // Nothing to do is not a refusal, for either.
  ASSERT_EQ(run({"apply", "up", "--force"}).exitCode, 0);
  plan = run({"plan", "up"});
  EXPECT_EQ(plan.exitCode, 0) << show(plan);
  EXPECT_EQ(run({"apply", "up"}).exitCode, 0);

  // finish: the dry run of what apply finish runs.
  plan = run({"plan", "finish"});
  ASSERT_EQ(plan.exitCode, 0) << show(plan);
  EXPECT_THAT(plan.out, HasSubstr("app@1.1.0"));
  ASSERT_EQ(run({"apply", "finish", "--yes"}).exitCode, 0);
  EXPECT_EQ(run({"status"}).exitCode, 0);
}

// --- bug 8: versions out of order -----------------------------------------------------------

TEST_F(VerdictTest, OlderTargetIsADowngrade) {
  TestDatabase db("verdict");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(project);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap"}).exitCode, 0);
  for (const char *command : {"plan", "apply"}) {
    Outcome o = run({command, "up", "--to", "app@1.0.0"});
    EXPECT_EQ(o.exitCode, 1) << show(o);
    EXPECT_THAT(errorLine(o),
                HasSubstr("the database has app@1.2.0, newer than the target app@1.0.0: that is "
                          "a downgrade, which strata does not do"));
    EXPECT_THAT(errorLine(o), Not(HasSubstr("another branch")));
  }
}

TEST_F(VerdictTest, BootstrapToAnOldReleaseSaysWhatIsNewerAsStatusDoes) {
  TestDatabase db("verdict");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(project);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  Outcome o = run({"apply", "bootstrap", "--to", "app@1.0.0"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, Not(HasSubstr("up to date")));
  EXPECT_THAT(o.out, HasSubstr("database is at app@1.0.0; newer versions are not applied: "
                               "app@1.1.0, app@1.2.0; run 'strata apply up' to proceed"));
  EXPECT_EQ(run({"status"}).exitCode, 5);

  TestDatabase latest("verdict");
  ASSERT_TRUE(latest.ok());
  o = strata(dir, latest, {"apply", "bootstrap"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("database is up to date"));
  EXPECT_EQ(strata(dir, latest, {"status"}).exitCode, 0);
}

TEST_F(VerdictTest, BootstrapIntoExistingTablesIsRefusedUpFront) {
  TestDatabase db("verdict");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(project);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  // Built by hand (or by another tool), as version 1.0.0 declares it.
  ASSERT_TRUE(query(*conn,
                    "CREATE TABLE t (id bigint PRIMARY KEY, a integer NOT NULL, b text DEFAULT "
                    "'x'); INSERT INTO t (id, a) VALUES (1, 1)"));

  Outcome plan = run({"plan", "bootstrap", "--to", "app@1.0.0"});
  Outcome apply = run({"apply", "bootstrap", "--to", "app@1.0.0"});
  EXPECT_EQ(plan.exitCode, 1) << show(plan);
  EXPECT_EQ(apply.exitCode, 1) << show(apply);
  EXPECT_EQ(errorLine(plan), errorLine(apply));
  EXPECT_THAT(errorLine(apply),
              HasSubstr("the database already has table \"t\" that bootstrap would create"));
  EXPECT_THAT(errorLine(apply), HasSubstr("'strata apply baseline --to app@1.0.0'"));
  EXPECT_THAT(errorLine(apply), HasSubstr("docs/adopting.md"));
  EXPECT_THAT(apply.out, Not(HasSubstr("bootstrapping"))) << "refused late, not up front";
  EXPECT_EQ(query(*conn, "SELECT to_regclass('strata_nodes') IS NULL"), "t")
      << "a refused bootstrap left strata's state behind";

  // What the refusal says works.
  Outcome baseline = run({"apply", "baseline", "--to", "app@1.0.0"});
  ASSERT_EQ(baseline.exitCode, 0) << show(baseline);
  EXPECT_EQ(run({"status"}).exitCode, 5);
}

// --- bug 4: reset ---------------------------------------------------------------------------

TEST_F(VerdictTest, ResetHasNoToOption) {
  TestDatabase db("verdict");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(project);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap"}).exitCode, 0);
  Outcome o = run({"reset", "--to", "app@1.0.0", "--yes"});
  EXPECT_EQ(o.exitCode, 2) << show(o);
  EXPECT_THAT(o.err, HasSubstr("--to"));
  EXPECT_EQ(query(*conn, "SELECT to_regclass('t') IS NOT NULL"), "t") << "reset --to dropped t";
  o = test::runStrata({"reset", "--help"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, Not(HasSubstr("--to")));
}

TEST_F(VerdictTest, ResetNamesTheDatabaseAndWhatItDrops) {
  TestDatabase db("verdict");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(project);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_EQ(run({"apply", "up", "--to", "app@1.1.0"}).exitCode, 0); // its fill trigger
  std::string host = query(*conn, "SELECT coalesce(inet_server_addr()::text, current_setting("
                                  "'unix_socket_directories'))")
                         .value_or("?");
  std::string port = query(*conn, "SELECT current_setting('port')").value_or("?");

  const std::string what = "strata reset drops, in database \"" + db.name() + "\" on host \"" +
                           host + "\" at port \"" + port + "\" (user \"";
  // Without a terminal and --yes: the list, and nothing dropped.
  Outcome o = run({"reset"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr(what));
  EXPECT_THAT(o.err, HasSubstr("  tables: t\n"));
  EXPECT_THAT(o.err, HasSubstr("  functions: t_strata_sync()\n"));
  EXPECT_THAT(o.err, HasSubstr("  strata's state tables: strata_nodes, strata_steps\n"));
  EXPECT_THAT(o.err, HasSubstr("not a terminal"));
  EXPECT_EQ(query(*conn, "SELECT to_regclass('t') IS NOT NULL"), "t");

  o = run({"reset", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.err, HasSubstr(what));
  EXPECT_THAT(o.err, HasSubstr("  tables: t\n"));
  EXPECT_THAT(o.out, HasSubstr("dropped 1 table(s), 0 type(s) and strata's state"));
  EXPECT_EQ(query(*conn, "SELECT to_regclass('t') IS NULL AND to_regclass('strata_nodes') IS NULL"),
            "t");
}

} // namespace
