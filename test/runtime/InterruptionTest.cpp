// An apply cut short by SIGKILL in the middle of a backfill, and what `strata status` and
// `strata diff` say about the database it left (issue 17, bug 3): the interrupted version
// and step with its own exit code, never strata's in-flight objects as drift, never SQL
// that drops a column a trigger still uses. On a real PostgreSQL (STRATA_TEST_DB).
#include "test/runtime/ApplyHelpers.h"

#include "runtime/Interruption.h"

#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

namespace strata::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// A rename of a NOT NULL column (shadow column, sync trigger, backfill, `_strata_nn`
/// check) and a NOT NULL column added with a fill (fill trigger, backfill) in one version.
const char *const reviewsProject = R"(
subsystem reviews {
  version "1.0.0" {
    table reviews {
      id    bigint  primary key
      stars integer not null
      body  text
    }
  }
  version "1.1.0" {
    alter table reviews {
      rename column stars to rating
      add column title text not null fill ('t-' || id::text)
    }
  }
}
)";

constexpr int reviewRows = 20000;
constexpr int64_t batchSize = 1000;

/// Runs `apply up` with the Runner in a child process that SIGKILLs itself before the
/// third batch of the backfill of "title": two batches of it committed, the rename done.
int upKilledInTitleBackfill(const LoadedProject &p, const std::string &connInfo) {
  pid_t pid = fork();
  if (pid != 0) {
    int status = 0;
    if (pid > 0)
      waitpid(pid, &status, 0);
    return status;
  }
  runtime::RunnerOptions options;
  options.connInfo = connInfo;
  options.exec.batchSize = batchSize;
  int batches = 0;
  options.exec.beforeHook = [&](const planner::Step &step, const char *what) {
    if (std::strcmp(what, "batch") == 0 &&
        llvm::StringRef(step.backfill.set).startswith("\"title\"") && ++batches == 3)
      raise(SIGKILL);
  };
  std::string log;
  llvm::raw_string_ostream logStream(log);
  runtime::Runner runner(
      *p.project, *p.graph, [](compiler::SourceRange) { return std::string(); }, options,
      logStream);
  llvm::Error err = runner.up();
  llvm::consumeError(std::move(err));
  _exit(1); // not killed: the test fails on the status
}

/// The up plan from 1.0.0, and the step number (from 1) and count of 1.1.0's title backfill.
std::pair<int, int> titleBackfillStep(const LoadedProject &p) {
  planner::PlanRequest request;
  request.start = planner::startingPointFrom(*p.graph, {compiler::VersionRef{0, 0}});
  llvm::Expected<planner::Plan> plan = planner::makePlan(
      *p.project, *p.graph, request, [](compiler::SourceRange) { return std::string(); });
  if (!plan) {
    ADD_FAILURE() << llvm::toString(plan.takeError());
    return {0, 0};
  }
  int number = 0;
  for (size_t i = 0; i < plan->steps.size(); ++i)
    if (plan->steps[i].isBackfill &&
        llvm::StringRef(plan->steps[i].backfill.set).startswith("\"title\""))
      number = static_cast<int>(i) + 1;
  return {number, static_cast<int>(plan->steps.size())};
}

class InterruptionTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!serverConnInfo())
      GTEST_SKIP() << "STRATA_TEST_DB is not set (run scripts/test.sh)";
    db.emplace("interrupt");
    ASSERT_TRUE(db->ok());
    dir.emplace(reviewsProject);
    project = load("reviews.strata", reviewsProject);
    ASSERT_NE(project.project, nullptr);
    Outcome o = strata(*dir, *db, {"apply", "bootstrap", "--to", "reviews@1.0.0"});
    ASSERT_EQ(o.exitCode, 0) << show(o);
    conn = db->connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(query(*conn, "INSERT INTO reviews (id, stars, body) SELECT g, g % 5 + 1, "
                             "md5(g::text) FROM generate_series(1, " +
                                 std::to_string(reviewRows) + ") g"));
    ASSERT_TRUE(query(*conn, "ANALYZE reviews"));
  }

  /// Kills `apply up` in the title backfill and checks that it died there.
  void killUp() {
    int status = upKilledInTitleBackfill(project, db->connInfo());
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child was not killed in the backfill (status " << status << ")";
    ASSERT_EQ(query(*conn, "SELECT rows_done FROM strata_steps WHERE status = 'running'"),
              std::to_string(2 * batchSize));
  }

  std::optional<TestDatabase> db;
  std::optional<ProjectDir> dir;
  LoadedProject project;
  std::optional<runtime::Connection> conn;
};

TEST_F(InterruptionTest, StatusReportsTheInterruptedVersionAndStep) {
  killUp();
  auto [number, count] = titleBackfillStep(project);
  ASSERT_GT(number, 0);
  Outcome o = strata(*dir, *db, {"status", "--no-cache"});
  EXPECT_EQ(o.exitCode, 8) << show(o);
  EXPECT_THAT(o.out, HasSubstr(fmt::format("reviews@1.1.0: interrupted at step {} of {} "
                                           "(backfill, 2,000 rows): run 'strata apply up' to "
                                           "resume",
                                           number, count)))
      << show(o);
  EXPECT_THAT(o.out, HasSubstr("Interrupted:\nreviews: 1.1.0\n")) << show(o);
  EXPECT_THAT(o.out, Not(HasSubstr("New:"))) << show(o);
  // strata's own objects of the started steps are not drift.
  EXPECT_THAT(o.err, Not(HasSubstr("drift"))) << show(o);

  o = strata(*dir, *db, {"status", "--no-cache", "--format", "json"});
  EXPECT_EQ(o.exitCode, 8) << show(o);
  nlohmann::json j = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << show(o);
  EXPECT_EQ(j["status"], 8);
  ASSERT_EQ(j["interrupted"].size(), 1u) << show(o);
  const nlohmann::json &i = j["interrupted"][0];
  EXPECT_EQ(i["subsystem"], "reviews");
  EXPECT_EQ(i["version"], "1.1.0");
  EXPECT_EQ(i["phase"], "up");
  EXPECT_EQ(i["step"], number);
  EXPECT_EQ(i["steps"], count);
  EXPECT_EQ(i["backfill"], true);
  EXPECT_EQ(i["rows_done"], 2 * batchSize);
  EXPECT_EQ(i["running"], false);
  EXPECT_EQ(i["resume"], "strata apply up");
  EXPECT_EQ(j["subsystems"][0]["new"], nlohmann::json::array());
  EXPECT_EQ(j["subsystems"][0]["interrupted"], nlohmann::json::array({"1.1.0"}));

  // Following the advice resumes, and the version is then pending finish.
  o = strata(*dir, *db, {"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  o = strata(*dir, *db, {"status", "--no-cache"});
  EXPECT_EQ(o.exitCode, 4) << show(o);
  EXPECT_THAT(o.out, Not(HasSubstr("nterrupted"))) << show(o);
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM reviews WHERE title IS NULL OR rating IS NULL"),
            "0");
}

TEST_F(InterruptionTest, DiffLeavesOutTheObjectsOfStartedSteps) {
  killUp();
  Outcome o = strata(*dir, *db, {"diff"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("no drift")) << show(o);
  EXPECT_THAT(o.out, HasSubstr("reviews@1.1.0: interrupted at step")) << show(o);
  o = strata(*dir, *db, {"diff", "--format", "sql"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  EXPECT_EQ(o.out, "") << show(o);
  // Drift made by hand on the same table is still drift.
  ASSERT_TRUE(query(*conn, "CREATE INDEX reviews_body_idx ON reviews (body)"));
  o = strata(*dir, *db, {"diff", "--format", "sql"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_EQ(o.out, "DROP INDEX CONCURRENTLY \"reviews_body_idx\";\n") << show(o);
  // And the resumed apply completes.
  ASSERT_TRUE(query(*conn, "DROP INDEX reviews_body_idx"));
  o = strata(*dir, *db, {"apply", "up"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
}

TEST_F(InterruptionTest, FinishRefusesWhileAnUpIsInterrupted) {
  killUp();
  // Nothing pending: finish has nothing to do, and says so.
  Outcome o = strata(*dir, *db, {"apply", "finish", "--yes"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  // A version pending finish under the interrupted one (as `up --force` leaves it).
  ASSERT_TRUE(query(*conn, "UPDATE strata_nodes SET status = 'pending' WHERE subsystem = "
                           "'reviews' AND version = '1.0.0'"));
  o = strata(*dir, *db, {"apply", "finish", "--yes"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("reviews@1.1.0: its up was interrupted")) << show(o);
  // The dry run refuses as apply does.
  o = strata(*dir, *db, {"plan", "finish"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("reviews@1.1.0: its up was interrupted")) << show(o);
}

TEST_F(InterruptionTest, DiffNeverDropsAColumnATriggerUses) {
  ASSERT_TRUE(query(*conn, "ALTER TABLE reviews ADD COLUMN note text, ADD COLUMN spare integer;\n"
                           "CREATE FUNCTION reviews_note() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                           "BEGIN NEW.note := coalesce(NEW.note, 'none'); RETURN NEW; END $$;\n"
                           "CREATE TRIGGER reviews_note BEFORE INSERT ON reviews FOR EACH ROW "
                           "EXECUTE FUNCTION reviews_note()"));
  Outcome o = strata(*dir, *db, {"diff", "--format", "sql"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_EQ(o.out, "ALTER TABLE \"reviews\" DROP COLUMN \"spare\";\n") << show(o);
  o = strata(*dir, *db, {"diff"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.out, HasSubstr("extra_column on table \"reviews\" column \"note\"")) << show(o);
  EXPECT_THAT(o.out, HasSubstr("no statement proposed: trigger \"reviews_note\" (function "
                               "reviews_note()) uses it"))
      << show(o);
  // The statement proposed runs, and writes still work.
  ASSERT_TRUE(query(*conn, "ALTER TABLE reviews DROP COLUMN spare"));
  EXPECT_TRUE(query(*conn, "INSERT INTO reviews (id, stars) VALUES (0, 3)"));
}

TEST(InterruptionText, GroupsThousands) {
  EXPECT_EQ(runtime::groupedNumber(0), "0");
  EXPECT_EQ(runtime::groupedNumber(999), "999");
  EXPECT_EQ(runtime::groupedNumber(16000), "16,000");
  EXPECT_EQ(runtime::groupedNumber(1234567), "1,234,567");
}

} // namespace
} // namespace strata::test
