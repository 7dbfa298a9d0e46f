// Integration tests of `strata apply`, `status` and `reset` against a real PostgreSQL 15
// (STRATA_TEST_DB, from scripts/pg.sh; skipped without it). No mocks: every test gets a
// database of its own (test/runtime/TestDatabase.h) and runs the real `strata` executable
// (exit codes, messages, two of them at once, SIGKILL at chosen points), or the Runner
// in a child process that kills itself at an exact step or batch boundary.
//
// What must hold, after Kong's failures (docs in /work/shared/reference):
// - the commands' messages and exit codes (status 0/3/4/5, refusals that say what to run);
// - one runner at a time, the loser failing clearly or finding the work done, no step run
//   twice;
// - DDL that meets a long transaction times out and retries instead of queueing the
//   application's queries behind it;
// - a process killed anywhere leaves a state the next run resumes, to the same catalog and
//   data as an uninterrupted run;
// - edited versions and stale plan files are refused.
#include "compiler/Compilation.h"
#include "planner/Planner.h"
#include "planner/VersionGraph.h"
#include "runtime/Inspector.h"
#include "runtime/Runner.h"
#include "test/runtime/ApplyHelpers.h"
#include "test/runtime/TestDatabase.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

using namespace strata;
using namespace strata::test;
using test::ProjectDir;
using test::query;
using test::StrataProcess;
using test::TestDatabase;
using ::testing::HasSubstr;
using ::testing::Not;
using Outcome = StrataProcess::Outcome;
using namespace std::chrono_literals;

namespace {

// A function of ApplyHelpers.h named like the namespace: found here first.
using test::strata;

// --- projects -----------------------------------------------------------------------------

/// Three versions: a table; a NOT NULL column filled from another one plus an index (so
/// `up` leaves it pending finish); a default changed (no finish steps).
const char *lifecycleProject = R"(
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

/// Runs plain SELECTs on t in a loop on a connection of its own, as the application would,
/// and keeps the longest wait.
class SelectProbe {
public:
  explicit SelectProbe(const TestDatabase &db) {
    conn = db.connect();
    if (!conn)
      return;
    // A broken runtime must fail the test, not hang it.
    query(*conn, "SET statement_timeout = '20s'");
    thread = std::thread([this] {
      while (!stopped) {
        auto start = std::chrono::steady_clock::now();
        llvm::Expected<runtime::Result> r = conn->exec("SELECT count(*) FROM t");
        auto took = std::chrono::steady_clock::now() - start;
        if (!r) {
          errors.push_back(llvm::toString(r.takeError()));
          continue;
        }
        longest = std::max(longest, std::chrono::duration_cast<std::chrono::milliseconds>(took));
        ++count;
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  ~SelectProbe() { stop(); }
  void stop() {
    stopped = true;
    if (thread.joinable())
      thread.join();
  }

  std::chrono::milliseconds longest{0};
  int count = 0;
  std::vector<std::string> errors;

private:
  std::optional<runtime::Connection> conn;
  std::atomic<bool> stopped{false};
  std::thread thread;
};

class ApplyTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!test::serverConnInfo())
      GTEST_SKIP() << "STRATA_TEST_DB is not set (run scripts/test.sh)";
  }
};

// --- 1. the commands, their messages and exit codes ------------------------------------------

TEST_F(ApplyTest, BootstrapUpFinishStatusReset) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(lifecycleProject);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };

  // An empty database needs bootstrap, and nothing else runs on it.
  Outcome o = run({"status"});
  EXPECT_EQ(o.exitCode, 3) << show(o);
  EXPECT_THAT(o.out, HasSubstr("needs bootstrap; run 'strata apply bootstrap'"));
  o = run({"status", "--format", "json"});
  EXPECT_EQ(o.exitCode, 3) << show(o);
  nlohmann::json status = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_TRUE(status.is_object()) << o.out;
  EXPECT_EQ(status["needs_bootstrap"], true);
  EXPECT_EQ(status["status"], 3);
  o = run({"apply", "up"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("needs bootstrap; run 'strata apply bootstrap'"));
  o = run({"apply", "finish", "--yes"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("needs bootstrap"));
  o = run({"reset", "--yes"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("not bootstrapped: nothing to reset"));
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0")
      << "a refused command created tables";

  // Bootstrap, once.
  o = run({"apply", "bootstrap", "--to", "app@1.0.0"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("app@1.0.0 bootstrap: executed"));
  o = run({"apply", "bootstrap"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("already bootstrapped; run 'strata apply up'"));

  // Two versions are new: 5, in text and JSON.
  o = run({"status"});
  EXPECT_EQ(o.exitCode, 5) << show(o);
  EXPECT_THAT(o.out, HasSubstr("Executed:\napp: 1.0.0\n"));
  EXPECT_THAT(o.out, HasSubstr("New:\napp: 1.1.0, 1.2.0\n"));
  EXPECT_THAT(o.out, HasSubstr("run 'strata apply up'"));
  o = run({"status", "--format", "json"});
  EXPECT_EQ(o.exitCode, 5) << show(o);
  status = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_TRUE(status.is_object()) << o.out;
  EXPECT_EQ(status, nlohmann::json::parse(R"({
    "needs_bootstrap": false, "status": 5,
    "subsystems": [{"subsystem": "app", "executed": ["1.0.0"], "pending_finish": [],
                    "new": ["1.1.0", "1.2.0"], "changed": [], "unknown": [],
                    "interrupted": []}],
    "interrupted": []})"));
  o = run({"status", "--to", "app@1.0.0"});
  EXPECT_EQ(o.exitCode, 0) << show(o);

  // Rows the upgrade must carry, and a table of the user's own in the same database.
  ASSERT_TRUE(query(*conn, "INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, 500) g"));
  ASSERT_TRUE(query(*conn, "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO "
                           "notes VALUES (1, 'mine')"));

  // up with finish steps: pending, 4.
  o = run({"apply", "up", "--to", "app@1.1.0"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("app@1.1.0 migrated up: pending finish"));
  EXPECT_THAT(o.out, HasSubstr("run 'strata apply finish'"));
  o = run({"status", "--format", "json"});
  EXPECT_EQ(o.exitCode, 4) << show(o);
  status = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_TRUE(status.is_object()) << o.out;
  EXPECT_EQ(status["subsystems"][0]["pending_finish"], nlohmann::json({"1.1.0"}));
  EXPECT_EQ(status["subsystems"][0]["new"], nlohmann::json({"1.2.0"}));

  // Stacking another upgrade on a pending one is refused, naming it.
  o = run({"apply", "up"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("pending finish: app@1.1.0"));
  EXPECT_THAT(o.err, HasSubstr("'strata apply finish'"));
  EXPECT_EQ(query(*conn, "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = "
                         "'t'::regclass AND adnum = (SELECT attnum FROM pg_attribute WHERE "
                         "attrelid = 't'::regclass AND attname = 'b')"),
            "'x'::text")
      << "1.2.0 ran although up was refused";

  // finish asks for confirmation: without a terminal and without --yes it refuses.
  o = run({"apply", "finish"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("not a terminal"));
  EXPECT_THAT(o.err, HasSubstr("--yes"));
  EXPECT_EQ(run({"status"}).exitCode, 4);

  o = run({"apply", "finish", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("app@1.1.0 finish: executed"));
  EXPECT_THAT(o.out, HasSubstr("run 'strata apply up' to proceed"));
  o = run({"status", "--to", "app@1.1.0"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  o = run({"status"});
  EXPECT_EQ(o.exitCode, 5) << show(o);
  o = run({"apply", "finish", "--yes"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("no versions pending finish"));

  // A version without finish steps is executed by up alone: 0.
  o = run({"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("app@1.2.0 migrated up: executed"));
  o = run({"status"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("Executed:\napp: 1.0.0, 1.1.0, 1.2.0\n"));
  EXPECT_THAT(o.out, HasSubstr("database is up to date"));
  o = run({"apply", "up"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("already up to date"));

  // The data made it: c filled and NOT NULL, the new default in place.
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM t WHERE c = a * 2"), "500");
  EXPECT_EQ(query(*conn, "SELECT attnotnull FROM pg_attribute WHERE attrelid = 't'::regclass "
                         "AND attname = 'c'"),
            "t");
  ASSERT_TRUE(query(*conn, "INSERT INTO t (id, a, c) VALUES (1000, 1, 2)"));
  EXPECT_EQ(query(*conn, "SELECT b FROM t WHERE id = 1000"), "y");

  // A release adds a version: new again, 5.
  std::string released = lifecycleProject;
  released.insert(released.rfind('}'), "  version \"1.3.0\" {\n    alter table t {\n      add "
                                       "column e text\n    }\n  }\n");
  dir.write(released);
  o = run({"status"});
  EXPECT_EQ(o.exitCode, 5) << show(o);
  EXPECT_THAT(o.out, HasSubstr("New:\napp: 1.3.0\n"));
  dir.write(lifecycleProject);

  // reset: confirmation first; then only what strata created goes.
  o = run({"reset"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("not a terminal"));
  EXPECT_EQ(query(*conn, "SELECT to_regclass('t') IS NOT NULL"), "t");
  o = run({"reset", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_EQ(query(*conn, "SELECT to_regclass('t') IS NULL AND to_regclass('strata_nodes') IS "
                         "NULL AND to_regclass('strata_steps') IS NULL"),
            "t");
  EXPECT_EQ(query(*conn, "SELECT body FROM notes WHERE id = 1"), "mine")
      << "reset dropped a table strata did not create";
  o = run({"status"});
  EXPECT_EQ(o.exitCode, 3) << show(o);
  o = run({"reset", "--yes"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("not bootstrapped"));
}

// A small version costs one round trip and one transaction: its node record commits in
// the transaction of its last step (same xmin), with a duration that makes sense.
TEST_F(ApplyTest, NodeRecordCommitsWithItsLastStep) {
  TestDatabase db("apply_onetx");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(R"(
subsystem app {
  version "1.0.0" {
    table t { id bigint primary key }
  }
  version "1.1.0" {
    alter table t { add column a integer }
  }
  version "1.2.0" {
    table u { id bigint primary key }
  }
}
)");
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  Outcome o = strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  o = strata(dir, db, {"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  // Each version's one step (the column, the table) committed in the transaction of the
  // version's record, which stands for the step: no strata_steps row of its own.
  EXPECT_EQ(query(*conn, "SELECT string_agg(n.version || ':' || (n.xmin::text = c.xmin::text) "
                         "|| ':' || (n.up_ms >= 0) || ':' || (n.up_started_at <= "
                         "n.up_finished_at), ',' ORDER BY n.version) FROM strata_nodes n JOIN "
                         "(SELECT '1.1.0' AS version, xmin FROM pg_attribute WHERE attrelid = "
                         "'t'::regclass AND attname = 'a' UNION ALL SELECT '1.2.0', xmin FROM "
                         "pg_class WHERE oid = 'u'::regclass) c USING (version) WHERE "
                         "n.subsystem = 'app'"),
            "1.1.0:true:true:true,1.2.0:true:true:true");
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM strata_steps WHERE subsystem = 'app' AND phase "
                         "= 'up'"),
            "0");
}

TEST_F(ApplyTest, SqlBlockEndingInALineCommentRuns) {
  // The `;` that ends a step came after the block's last line, inside its `--` comment:
  // the step's record then read as part of the INSERT (a syntax error at apply time).
  TestDatabase db("apply_comment");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(R"(
subsystem app {
  version "1.0.0" {
    table t { id bigint primary key }
    sql first up """
      INSERT INTO t VALUES (1) -- the first row"""
  }
  version "1.1.0" {
    sql second up """
      INSERT INTO t VALUES (2) -- the second row"""
  }
}
)");
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  Outcome o = strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  o = strata(dir, db, {"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_EQ(query(*conn, "SELECT string_agg(id::text, ',' ORDER BY id) FROM t"), "1,2");
}

TEST_F(ApplyTest, SerialWidenedToBigintTakesItsSequenceAlong) {
  // `"version" serial primary key`, then `type bigint`: finish ran `TYPE bigserial`, which
  // PostgreSQL refuses; and a plain `TYPE bigint` leaves the sequence an integer one that
  // stops at 2147483647, the limit the change was made to pass.
  TestDatabase db("apply_serial");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(R"(
subsystem app {
  version "1.0.0" {
    table schema_meta {
      "version" serial primary key
      name      text
    }
  }
  version "1.1.0" {
    unsafe "written by the migration tool only"
    alter table schema_meta alter column "version" type bigint
  }
}
)");
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  Outcome o = strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  ASSERT_TRUE(query(*conn, "INSERT INTO schema_meta (name) VALUES ('a') RETURNING version"));
  o = strata(dir, db, {"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  o = strata(dir, db, {"apply", "finish", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_EQ(query(*conn, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                         "attrelid = 'schema_meta'::regclass AND attname = 'version'"),
            "bigint");
  EXPECT_EQ(query(*conn, "SELECT seqtypid::regtype::text FROM pg_sequence WHERE seqrelid = "
                         "pg_get_serial_sequence('schema_meta', 'version')::regclass"),
            "bigint");
  // Past the old maximum: the reason for the change.
  ASSERT_TRUE(query(*conn, "SELECT setval(pg_get_serial_sequence('schema_meta', 'version'), "
                           "2147483647)"));
  EXPECT_EQ(query(*conn, "INSERT INTO schema_meta (name) VALUES ('b') RETURNING version"),
            "2147483648");
  EXPECT_EQ(query(*conn, "SELECT string_agg(name, ',' ORDER BY version) FROM schema_meta"), "a,b");
}

// --- small versions go to the server together ----------------------------------------------

/// Versions 1.1.0 to 1.5.0 each insert a row saying when their message reached the server
/// (now(): the same for all the transactions of one message) and when their own
/// transaction began, then take 20 ms; 1.3.0 also inserts a row whose key \p third
/// repeats or not.
std::string batchProject(int third) {
  std::string out = R"(
subsystem app {
  version "1.0.0" {
    table marks {
      version       text primary key
      message_at    timestamptz not null
      transaction_at timestamptz not null
    }
    table t { id bigint primary key }
  }
)";
  for (int v = 1; v <= 5; ++v)
    out += fmt::format(R"(  version "1.{0}.0" {{
    sql mark_{0} up """
      INSERT INTO marks VALUES ('1.{0}.0', now(), clock_timestamp());
      INSERT INTO t VALUES ({1});
      SELECT pg_sleep(0.02);
    """
  }}
)",
                       v, v == 3 ? third : v);
  return out + "}\n";
}

TEST_F(ApplyTest, SmallVersionsGoTogetherEachInItsOwnTransaction) {
  TestDatabase db("apply_batch");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(batchProject(3));
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  Outcome o = strata(dir, db, {"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("app@1.5.0 migrated up: executed"));
  // One message (one now()), five transactions: each version's rows and record commit
  // together (the same xmin), and no two versions share a transaction.
  EXPECT_EQ(query(*conn, "SELECT count(DISTINCT message_at) || ':' || count(DISTINCT "
                         "transaction_at) FROM marks"),
            "1:5");
  EXPECT_EQ(query(*conn, "SELECT count(DISTINCT n.xmin::text) || ':' || bool_and(n.xmin::text "
                         "= m.xmin::text) FROM strata_nodes n JOIN marks m USING (version)"),
            "5:true");
  // The records' times are each version's own, not the message's: a version started
  // after the one before it ran its SQL, before it ran its own (up to the record's ms
  // precision), ended after, and took its 20 ms.
  EXPECT_EQ(query(*conn, "SELECT bool_and(n.up_started_at >= coalesce(m.previous_at, "
                         "'-infinity') AND n.up_started_at <= m.transaction_at + interval '1 "
                         "ms' AND n.up_finished_at >= m.transaction_at AND n.up_ms >= 20) FROM "
                         "strata_nodes n JOIN (SELECT version, transaction_at, "
                         "lag(transaction_at) OVER (ORDER BY version) AS previous_at FROM "
                         "marks) m USING (version)"),
            "t");
}

TEST_F(ApplyTest, AVersionFailingInTheMiddleOfABatchKeepsTheOnesBefore) {
  TestDatabase db("apply_batch_fail");
  ASSERT_TRUE(db.ok());
  // 1.3.0 inserts the key 1.1.0 inserted: a unique violation, found only by the server.
  ProjectDir dir(batchProject(1));
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  Outcome o = strata(dir, db, {"apply", "up"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.out, HasSubstr("app@1.2.0 migrated up: executed"));
  EXPECT_THAT(o.out, Not(HasSubstr("app@1.3.0 migrated up")));
  EXPECT_THAT(o.err, HasSubstr("app@1.3.0 up step 1 failed"));
  EXPECT_THAT(o.err, HasSubstr("duplicate key value violates unique constraint \"t_pkey\""));
  EXPECT_THAT(o.err, HasSubstr("Key (id)=(1) already exists"));
  // What ran before the failure is done and recorded; nothing of 1.3.0 or after is.
  EXPECT_EQ(query(*conn, "SELECT string_agg(version, ',' ORDER BY version) FROM strata_nodes "
                         "WHERE subsystem = 'app'"),
            "1.0.0,1.1.0,1.2.0");
  EXPECT_EQ(query(*conn, "SELECT string_agg(version, ',' ORDER BY version) FROM marks"),
            "1.1.0,1.2.0");
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                         "current_database() AND state LIKE 'idle in transaction%'"),
            "0");
  // Mended, the next run resumes at 1.3.0.
  ProjectDir mended(batchProject(3));
  o = strata(mended, db, {"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, Not(HasSubstr("app@1.2.0")));
  EXPECT_EQ(query(*conn, "SELECT string_agg(id::text, ',' ORDER BY id) FROM t"), "1,2,3,4,5");
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM strata_nodes WHERE subsystem = 'app' AND status "
                         "= 'executed'"),
            "6");
}

TEST_F(ApplyTest, ALockTimeoutInTheMiddleOfABatchRetriesThatVersion) {
  TestDatabase db("apply_batch_lock");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(R"(
subsystem app {
  version "1.0.0" {
    table t { id bigint primary key }
    table u { id bigint primary key }
  }
  version "1.1.0" { alter table t { add column a integer } }
  version "1.2.0" { alter table u { add column b integer } }
  version "1.3.0" { alter table t { add column c integer } }
}
)");
  std::optional<runtime::Connection> conn = db.connect(), blocker = db.connect();
  ASSERT_TRUE(conn && blocker);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  // The application holds u (only): 1.1.0 commits, 1.2.0 waits its turn, 1.3.0 follows.
  ASSERT_TRUE(query(*blocker, "BEGIN; SELECT count(*) FROM u"));
  StrataProcess apply(withDb(dir, db, {"apply", "up", "--ddl-lock-timeout", "200"}));
  EXPECT_TRUE(apply.waitForOutput("app@1.1.0 migrated up: executed", 10s)) << apply.stdoutSoFar();
  std::this_thread::sleep_for(1s);
  EXPECT_THAT(apply.stdoutSoFar(), Not(HasSubstr("app@1.2.0 migrated up")));
  ASSERT_TRUE(query(*blocker, "COMMIT"));
  Outcome o = apply.wait();
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("lock not granted within 200 ms on \"u\": retrying"));
  EXPECT_THAT(o.out, HasSubstr("app@1.3.0 migrated up: executed"));
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM information_schema.columns WHERE table_name IN "
                         "('t', 'u') AND column_name IN ('a', 'b', 'c')"),
            "3");
}

TEST_F(ApplyTest, UpForceDespitePendingFinish) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(lifecycleProject);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_TRUE(query(*conn, "INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, 50) g"));
  ASSERT_EQ(run({"apply", "up", "--to", "app@1.1.0"}).exitCode, 0);

  Outcome o = run({"apply", "up", "--force"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("app@1.2.0 migrated up"));
  EXPECT_THAT(o.out, Not(HasSubstr("app@1.1.0 up step"))) << "the pending version ran again";
  o = run({"status", "--format", "json"});
  EXPECT_EQ(o.exitCode, 4) << show(o);
  nlohmann::json status = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_TRUE(status.is_object()) << o.out;
  EXPECT_EQ(status["subsystems"][0]["pending_finish"], nlohmann::json({"1.1.0"}));
  EXPECT_EQ(status["subsystems"][0]["new"], nlohmann::json::array());

  o = run({"apply", "finish", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("app@1.1.0 finish: executed"));
  EXPECT_EQ(run({"status"}).exitCode, 0);
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM t WHERE c = a * 2"), "50");
}

TEST_F(ApplyTest, ResetWhilePendingDropsStrataHelpersOnly) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(lifecycleProject);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_EQ(run({"apply", "up", "--to", "app@1.1.0"}).exitCode, 0);
  // The user's own function and table survive; the trigger function that serves old
  // nodes until finish is strata's.
  ASSERT_TRUE(query(*conn, "CREATE FUNCTION mine() RETURNS int LANGUAGE sql AS 'SELECT 1'; "
                           "CREATE TABLE notes (id int)"));
  ASSERT_EQ(query(*conn, "SELECT count(*) FROM pg_proc WHERE proname = 't_strata_sync'"), "1");

  Outcome o = run({"reset", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_EQ(query(*conn, "SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc WHERE "
                         "pronamespace = 'public'::regnamespace"),
            "mine");
  EXPECT_EQ(query(*conn, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables "
                         "WHERE schemaname = 'public'"),
            "notes");
}

// --- 2. two runners at once --------------------------------------------------------------------

TEST_F(ApplyTest, TwoAppliesAtOnce) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(crashProject);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_TRUE(query(*conn, seedCrashRows(3000)));

  // The first holds the runner lock for a few seconds: 2 backfills of 30 batches with
  // 40 ms pauses.
  StrataProcess first(
      withDb(dir, db, {"apply", "up", "--batch-size", "100", "--batch-pause", "40"}));
  ASSERT_TRUE(waitUntil(*conn,
                        "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND "
                        "granted AND database = (SELECT oid FROM pg_database WHERE datname = "
                        "current_database())",
                        10s))
      << show(first.wait());
  StrataProcess impatient(withDb(dir, db, {"apply", "up", "--lock-timeout", "1"}));
  StrataProcess patient(withDb(dir, db, {"apply", "up", "--lock-timeout", "60"}));

  Outcome gaveUp = impatient.wait();
  EXPECT_EQ(gaveUp.exitCode, 1) << show(gaveUp);
  EXPECT_THAT(gaveUp.err, HasSubstr("another strata apply is running on this database"));
  EXPECT_THAT(gaveUp.err, HasSubstr("--lock-timeout"));
  EXPECT_GE(gaveUp.elapsed, 900ms) << "it did not wait for the lock";
  EXPECT_THAT(gaveUp.out, Not(HasSubstr(" step "))) << show(gaveUp);
  // It gave up while the first one was still at work.
  EXPECT_EQ(query(*conn, "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND "
                         "granted AND database = (SELECT oid FROM pg_database WHERE datname = "
                         "current_database())"),
            "t");

  Outcome done = first.wait();
  ASSERT_EQ(done.exitCode, 0) << show(done);
  EXPECT_THAT(done.out, HasSubstr("app@1.1.0 migrated up: pending finish"));
  Outcome waited = patient.wait();
  EXPECT_EQ(waited.exitCode, 0) << show(waited);
  EXPECT_THAT(waited.out, HasSubstr("waiting for another strata apply to finish"));
  EXPECT_THAT(waited.out, HasSubstr("already up to date"));
  EXPECT_THAT(waited.out, Not(HasSubstr(" step "))) << "the waiter ran steps itself";

  // Each step once, by the first runner; each backfill touched each row once.
  EXPECT_EQ(query(*conn, "SELECT count(*) || ' ' || count(*) FILTER (WHERE status = 'done') "
                         "FROM strata_steps WHERE version = '1.1.0' AND phase = 'up'"),
            "7 7");
  EXPECT_EQ(query(*conn, "SELECT string_agg(rows_done::text, ',' ORDER BY step) FROM "
                         "strata_steps WHERE cursor IS NOT NULL"),
            "3000,3000");
  EXPECT_EQ(query(*conn, "SELECT count(*) FILTER (WHERE c = a * 2) || ' ' || count(*) FILTER "
                         "(WHERE n = id + 1) FROM t"),
            "3000 3000");
  EXPECT_THAT(query(*conn, "SELECT client FROM strata_nodes WHERE version = '1.1.0'").value_or(""),
              HasSubstr("pid " + std::to_string(first.id())));
}

// --- 3. a long transaction in the way ------------------------------------------------------------

TEST_F(ApplyTest, LongTransactionMakesDdlRetryNotQueue) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(R"(
subsystem app {
  version "1.0.0" {
    table t {
      id bigint primary key
      a  integer
    }
  }
  version "1.1.0" {
    alter table t {
      add column d text
    }
  }
}
)");
  std::optional<runtime::Connection> conn = db.connect(), blocker = db.connect();
  ASSERT_TRUE(conn && blocker);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_TRUE(query(*conn, "INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g"));

  // An application transaction that read t and stays open: it holds ACCESS SHARE on t
  // until it commits, which ADD COLUMN's ACCESS EXCLUSIVE must wait for.
  ASSERT_TRUE(query(*blocker, "BEGIN; SELECT count(*) FROM t"));
  SelectProbe probe(db);
  StrataProcess apply(withDb(dir, db, {"apply", "up", "--ddl-lock-timeout", "200"}));
  std::thread release([&] {
    std::this_thread::sleep_for(2s);
    std::optional<std::string> commit = query(*blocker, "COMMIT");
    EXPECT_TRUE(commit) << "the application's transaction was cancelled";
  });
  Outcome o = apply.wait();
  release.join();
  std::this_thread::sleep_for(100ms);
  probe.stop();

  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("lock not granted within 200 ms on \"t\": retrying"));
  EXPECT_GE(o.elapsed, 1900ms) << "the DDL cannot have run while the transaction was open";
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM information_schema.columns WHERE table_name = "
                         "'t' AND column_name = 'd'"),
            "1");
  EXPECT_TRUE(probe.errors.empty()) << probe.errors.front();
  EXPECT_GT(probe.count, 20);
  // Each attempt queues the application's reads for at most the lock timeout (200 ms);
  // without it they would wait the whole 2 s behind the ALTER.
  EXPECT_LT(probe.longest, 1500ms);
  std::cerr << "[ info ] longest SELECT on t while the DDL retried: " << probe.longest.count()
            << " ms (" << probe.count << " SELECTs)\n";
}

TEST_F(ApplyTest, LongSnapshotMakesConcurrentIndexBuildRetry) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(R"(
subsystem app {
  version "1.0.0" {
    table t {
      id bigint primary key
      a  integer
    }
  }
  version "1.1.0" {
    alter table t {
      add index t_a_idx (a)
    }
  }
}
)");
  std::optional<runtime::Connection> conn = db.connect(), blocker = db.connect();
  ASSERT_TRUE(conn && blocker);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_TRUE(query(*conn, "INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g"));

  // A repeatable-read transaction holds its snapshot: CREATE INDEX CONCURRENTLY waits for
  // it after building, and with lock_timeout that wait times out, leaving the index
  // INVALID. The retry must clean that up rather than fail on "already exists".
  ASSERT_TRUE(query(*blocker, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM t"));
  SelectProbe probe(db);
  StrataProcess apply(withDb(dir, db, {"apply", "up", "--ddl-lock-timeout", "200"}));
  std::thread release([&] {
    std::this_thread::sleep_for(2s);
    EXPECT_TRUE(query(*blocker, "COMMIT"));
  });
  Outcome o = apply.wait();
  release.join();
  probe.stop();

  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("lock not granted within 200 ms"));
  EXPECT_EQ(query(*conn, "SELECT string_agg(c.relname || ' ' || i.indisvalid, ',') FROM "
                         "pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = "
                         "'t_a_idx'"),
            "t_a_idx true");
  EXPECT_TRUE(probe.errors.empty()) << probe.errors.front();
  EXPECT_LT(probe.longest, 1500ms);
  std::cerr << "[ info ] longest SELECT on t during the concurrent build: " << probe.longest.count()
            << " ms (" << probe.count << " SELECTs)\n";
}

TEST_F(ApplyTest, RowLockedByTheApplicationMakesABackfillBatchRetry) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(R"(
subsystem app {
  version "1.0.0" {
    table t {
      id bigint primary key
      a  integer
    }
  }
  version "1.1.0" {
    backfill t set a = ((a + 1))
  }
}
)");
  std::optional<runtime::Connection> conn = db.connect(), blocker = db.connect();
  ASSERT_TRUE(conn && blocker);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_TRUE(query(*conn, "INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g"));

  // The application holds one row for update in a long transaction: the batch that
  // contains it waits at most the lock timeout, and is retried.
  ASSERT_TRUE(query(*blocker, "BEGIN; SELECT a FROM t WHERE id = 250 FOR UPDATE"));
  SelectProbe probe(db);
  StrataProcess apply(
      withDb(dir, db, {"apply", "up", "--ddl-lock-timeout", "200", "--batch-size", "100"}));
  std::thread release([&] {
    std::this_thread::sleep_for(2s);
    EXPECT_TRUE(query(*blocker, "UPDATE t SET a = a + 1000 WHERE id = 250; COMMIT"));
  });
  Outcome o = apply.wait();
  release.join();
  probe.stop();

  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("lock not granted within 200 ms"));
  EXPECT_GE(o.elapsed, 1900ms);
  // Every row once, the application's write included (kept, then bumped).
  EXPECT_EQ(query(*conn, "SELECT count(*) FILTER (WHERE a = id + 1) || ' ' || (SELECT a FROM t "
                         "WHERE id = 250) FROM t"),
            "999 1251");
  EXPECT_EQ(query(*conn, "SELECT rows_done FROM strata_steps WHERE cursor IS NOT NULL"), "1000");
  EXPECT_TRUE(probe.errors.empty()) << probe.errors.front();
  EXPECT_LT(probe.longest, 1500ms);
}

// --- 4. crash safety
// --------------------------------------------------------------------------------

TEST_F(ApplyTest, KilledAtEveryStepAndBatchBoundaryResumes) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(crashProject);
  LoadedProject project = load("crash.strata", crashProject);
  ASSERT_TRUE(project.project);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  const int rows = 1000;
  ASSERT_TRUE(query(*conn, seedCrashRows(rows)));

  BackfillSteps backfills = crashBackfillSteps(project);
  ASSERT_FALSE(HasFailure());

  for (RunPhase phase : {RunPhase::Up, RunPhase::Finish}) {
    const char *name = phase == RunPhase::Up ? "up" : "finish";
    std::pair<int64_t, int64_t> before = progress(*conn, name);
    int runs = 0;
    for (;; ++runs) {
      ASSERT_LT(runs, 60) << name << " makes no progress";
      int status = runAndDieAtNextBoundary(project, db.connInfo(), phase, 100);
      if (WIFEXITED(status)) {
        ASSERT_EQ(WEXITSTATUS(status), 0) << name << " failed after " << runs << " kills";
        break;
      }
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
      // Each killed run moved on by one step or two batches, and backfills counted
      // exactly the rows they changed: no batch lost, none applied twice.
      std::pair<int64_t, int64_t> now = progress(*conn, name);
      EXPECT_TRUE(now > before) << name << " run " << runs << " made no progress";
      before = now;
      if (phase != RunPhase::Up)
        continue;
      EXPECT_EQ(backfillInvariant(*conn, backfills), "") << "run " << runs;
    }
    EXPECT_GE(runs, phase == RunPhase::Up ? 10 : 1) << "the boundaries were not exercised";
    std::cerr << "[ info ] " << name << ": killed " << runs << " times, then completed\n";
  }
  EXPECT_EQ(recordedNodes(*conn), "app@1.0.0 executed\napp@1.1.0 executed");
  EXPECT_EQ(snapshot(*conn), referenceSnapshot(dir, seedCrashRows(rows), true));
}

TEST_F(ApplyTest, BootstrapKilledAtEveryStepResumes) {
  std::string design = readFile(std::string(STRATA_SOURCE_DIR) + "/examples/design/design.strata");
  ASSERT_FALSE(design.empty());
  LoadedProject project = load("design.strata", design);
  ASSERT_TRUE(project.project);
  TestDatabase db("apply"), ref("ref");
  ASSERT_TRUE(db.ok() && ref.ok());
  std::optional<runtime::Connection> conn = db.connect(), refConn = ref.connect();
  ASSERT_TRUE(conn && refConn);

  int runs = 0;
  for (;; ++runs) {
    ASSERT_LT(runs, 60) << "bootstrap makes no progress";
    int status = runAndDieAtNextBoundary(project, db.connInfo(), RunPhase::Bootstrap, 100);
    if (WIFEXITED(status)) {
      ASSERT_EQ(WEXITSTATUS(status), 0) << "bootstrap failed after " << runs << " kills";
      break;
    }
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    // Half a bootstrap is not a bootstrapped database: status says it was interrupted
    // (its own exit code, 8) and that bootstrap resumes it.
    ProjectDir dir(design);
    Outcome o = strata(dir, db, {"status"});
    EXPECT_EQ(o.exitCode, 8) << "after kill " << runs + 1 << ": " << show(o);
    EXPECT_THAT(o.out, HasSubstr("run 'strata apply bootstrap' to resume"))
        << "after kill " << runs + 1 << ": " << show(o);
  }
  EXPECT_GE(runs, 3);

  ProjectDir dir(design);
  Outcome o = strata(dir, ref, {"apply", "bootstrap"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_EQ(recordedNodes(*conn), recordedNodes(*refConn));
  runtime::InspectOptions options;
  llvm::Expected<compiler::Schema> got = runtime::inspectSchema(*conn, options);
  llvm::Expected<compiler::Schema> want = runtime::inspectSchema(*refConn, options);
  ASSERT_TRUE(got && want);
  EXPECT_EQ(runtime::describeSchema(*got), runtime::describeSchema(*want));
  o = strata(dir, db, {"status"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
}

TEST_F(ApplyTest, KilledInTheMiddleOfABackfillResumesFromTheCursor) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(crashProject);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  const int rows = 20000;
  ASSERT_TRUE(query(*conn, seedCrashRows(rows)));

  std::vector<std::string> slow = {"apply", "up", "--batch-size", "100", "--batch-pause", "5"};
  StrataProcess first(withDb(dir, db, slow));
  // The first progress line of the first backfill: some batches are committed.
  ASSERT_TRUE(first.waitForOutput("backfill \"t\": ", 20s)) << show(first.wait());
  first.kill();
  Outcome killed = first.wait();
  ASSERT_EQ(killed.signal, SIGKILL) << show(killed);

  std::string state = query(*conn, "SELECT status || ' ' || rows_done || ' ' || (cursor->>0) "
                                   "FROM strata_steps WHERE cursor IS NOT NULL")
                          .value_or("");
  llvm::SmallVector<llvm::StringRef, 3> parts;
  llvm::StringRef(state).split(parts, ' ');
  ASSERT_EQ(parts.size(), 3u) << state;
  EXPECT_EQ(parts[0], "running");
  int64_t doneBefore = 0;
  ASSERT_FALSE(parts[1].getAsInteger(10, doneBefore));
  EXPECT_GT(doneBefore, 0);
  EXPECT_LT(doneBefore, rows) << "killed too late to test anything";
  EXPECT_EQ(doneBefore % 100, 0);
  EXPECT_EQ(parts[2], std::to_string(doneBefore)) << "the cursor is the last id done";
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM t WHERE c IS NOT NULL"), std::to_string(doneBefore));

  // Resumed with another batch size (the cursor is a key, not an offset) and no pause.
  Outcome resumed = strata(dir, db, {"apply", "up", "--batch-size", "100"});
  ASSERT_EQ(resumed.exitCode, 0) << show(resumed);
  EXPECT_THAT(resumed.out, Not(HasSubstr("up step 1:"))) << "completed steps ran again";
  // The resumed run's progress starts from the saved count, not from 0.
  size_t at = resumed.out.find("backfill \"t\": ");
  ASSERT_NE(at, std::string::npos) << show(resumed);
  int64_t firstReported = 0;
  llvm::StringRef(resumed.out).substr(at + 14).split(' ').first.getAsInteger(10, firstReported);
  EXPECT_GT(firstReported, doneBefore) << show(resumed);
  EXPECT_EQ(query(*conn, "SELECT string_agg(rows_done::text, ',' ORDER BY step) FROM "
                         "strata_steps WHERE cursor IS NOT NULL"),
            "20000,20000");
  Outcome finished = strata(dir, db, {"apply", "finish", "--yes"});
  ASSERT_EQ(finished.exitCode, 0) << show(finished);
  EXPECT_EQ(snapshot(*conn), referenceSnapshot(dir, seedCrashRows(rows), true));
}

TEST_F(ApplyTest, KilledDuringConcurrentIndexBuildRebuildsTheInvalidIndex) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(crashProject);
  std::optional<runtime::Connection> conn = db.connect(), blocker = db.connect();
  ASSERT_TRUE(conn && blocker);
  ASSERT_EQ(strata(dir, db, {"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  const int rows = 20000;
  ASSERT_TRUE(query(*conn, seedCrashRows(rows)));

  // An old snapshot keeps the build (step 6) waiting after its first phase, with the
  // index in the catalog but INVALID, for as long as we like (the lock timeout is long).
  ASSERT_TRUE(query(*blocker, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1"));
  StrataProcess first(withDb(dir, db, {"apply", "up", "--ddl-lock-timeout", "60000"}));
  const std::string invalid = "SELECT EXISTS (SELECT FROM pg_index i JOIN pg_class c ON c.oid = "
                              "i.indexrelid WHERE c.relname = 't_b_idx' AND NOT i.indisvalid)";
  ASSERT_TRUE(waitUntil(*conn, invalid, 20s)) << show(first.wait());
  // While it waits, its output already says how far it got (not held in a buffer).
  EXPECT_TRUE(first.waitForOutput("app@1.1.0 up step 5:", 5s)) << first.stdoutSoFar();
  first.kill();
  Outcome killed = first.wait();
  ASSERT_EQ(killed.signal, SIGKILL) << show(killed);

  // The killed client's backend must not go on building unobserved (a real build can take
  // hours and holds a lock the next run needs).
  EXPECT_TRUE(waitUntil(*conn,
                        "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE query LIKE "
                        "'CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid())",
                        10s))
      << "the build of the killed strata is still running";
  EXPECT_EQ(query(*conn, invalid), "t") << "the kill did not leave an invalid index";
  ASSERT_TRUE(query(*blocker, "COMMIT"));

  Outcome resumed = strata(dir, db, {"apply", "up"});
  ASSERT_EQ(resumed.exitCode, 0) << show(resumed);
  EXPECT_THAT(resumed.out, HasSubstr("dropping invalid index \"t_b_idx\""));
  EXPECT_THAT(resumed.out, Not(HasSubstr("up step 5:"))) << "completed steps ran again";
  EXPECT_EQ(query(*conn, invalid), "f");
  Outcome finished = strata(dir, db, {"apply", "finish", "--yes"});
  ASSERT_EQ(finished.exitCode, 0) << show(finished);
  EXPECT_EQ(snapshot(*conn), referenceSnapshot(dir, seedCrashRows(rows), true));
}

// --- 5. versions edited after they ran ----------------------------------------------------------

TEST_F(ApplyTest, ChangedVersionIsRefusedAndForceRerunsIt) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(lifecycleProject);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_EQ(run({"apply", "up", "--to", "app@1.1.0"}).exitCode, 0);
  ASSERT_EQ(run({"apply", "finish", "--yes"}).exitCode, 0);
  ASSERT_EQ(run({"apply", "up"}).exitCode, 0);
  const std::string defaultOfB =
      "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 't'::regclass AND "
      "adnum = (SELECT attnum FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = "
      "'b')";
  ASSERT_EQ(query(*conn, defaultOfB), "'y'::text");

  // A release candidate's version edited after it ran.
  std::string edited = lifecycleProject;
  edited.replace(edited.find("set default ('y')"), 17, "set default ('z')");
  dir.write(edited);
  Outcome o = run({"apply", "up"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("app@1.2.0 changed since it ran"));
  EXPECT_THAT(o.err, HasSubstr("--force"));
  o = run({"status", "--format", "json"});
  nlohmann::json status = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_TRUE(status.is_object()) << o.out;
  EXPECT_EQ(status["subsystems"][0]["changed"], nlohmann::json({"1.2.0"}));
  EXPECT_EQ(query(*conn, defaultOfB), "'y'::text");

  o = run({"apply", "up", "--force"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.out, HasSubstr("app@1.2.0 migrated up: executed"));
  EXPECT_EQ(query(*conn, defaultOfB), "'z'::text");
  o = run({"status", "--format", "json"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  status = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_TRUE(status.is_object()) << o.out;
  EXPECT_EQ(status["subsystems"][0]["changed"], nlohmann::json::array());
  EXPECT_EQ(run({"apply", "up"}).exitCode, 0);

  // A version that later ones were built on cannot be re-run alone: refused cleanly,
  // with the state untouched.
  const std::string recorded = "SELECT string_agg(version || ' ' || status || ' ' || checksum, "
                               "',' ORDER BY version) FROM strata_nodes WHERE subsystem = 'app'";
  std::string nodes = query(*conn, recorded).value_or("");
  std::string editedBase = edited;
  editedBase.replace(editedBase.find("default ('x')"), 13, "default ('w')");
  dir.write(editedBase);
  o = run({"apply", "up"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("app@1.0.0 changed since it ran"));
  o = run({"apply", "up", "--force"});
  EXPECT_EQ(o.signal, 0) << show(o);
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("app@1.0.0"));
  EXPECT_EQ(query(*conn, recorded), nodes) << "a refused --force changed the recorded state";
  EXPECT_EQ(query(*conn, defaultOfB), "'z'::text");
}

TEST_F(ApplyTest, FinishOfAChangedPendingVersionIsRefused) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(lifecycleProject);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_EQ(run({"apply", "up", "--to", "app@1.1.0"}).exitCode, 0);
  // The pending version's up ran with fill (a * 2); its finish would now be planned from
  // a version that says (a * 3).
  std::string edited = lifecycleProject;
  edited.replace(edited.find("fill ((a * 2))"), 14, "fill ((a * 3))");
  dir.write(edited);
  Outcome o = run({"apply", "finish", "--yes"});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("app@1.1.0 changed since it ran"));
  EXPECT_EQ(recordedNodes(*conn), "app@1.0.0 executed\napp@1.1.0 pending");
}

// --- 6. plan files
// ---------------------------------------------------------------------------------

TEST_F(ApplyTest, PlanFileRunsOnlyOnTheStateItWasMadeFrom) {
  TestDatabase db("apply");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(lifecycleProject);
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto run = [&](std::vector<std::string> args) { return strata(dir, db, std::move(args)); };
  ASSERT_EQ(run({"apply", "bootstrap", "--to", "app@1.0.0"}).exitCode, 0);
  ASSERT_TRUE(query(*conn, "INSERT INTO t (id, a) SELECT g, g FROM generate_series(1, 100) g"));

  // Reviewed in code review, then run as reviewed.
  std::string planUp = dir.extra("up-1.1.0.json");
  Outcome o = test::runStrata(
      {"plan", "up", "--from", "app@1.0.0", "--to", "app@1.1.0", "-s", dir.path(), "-o", planUp});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  o = run({"apply", "--plan", planUp});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  EXPECT_EQ(recordedNodes(*conn), "app@1.0.0 executed\napp@1.1.0 pending");
  EXPECT_EQ(query(*conn, "SELECT count(*) FROM t WHERE c = a * 2"), "100");
  // The same plan again: the database moved on.
  o = run({"apply", "--plan", planUp});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("no longer in the state the plan was made from"));

  // A plan for the next version, made from 1.1.0 ...
  std::string planNext = dir.extra("up-1.2.0.json");
  o = test::runStrata({"plan", "up", "--from", "app@1.1.0", "-s", dir.path(), "-o", planNext});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  // ... is not a way around a pending finish,
  o = run({"apply", "--plan", planNext});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("pending finish: app@1.1.0"));
  ASSERT_EQ(run({"apply", "finish", "--yes"}).exitCode, 0);
  // ... and once someone applied that version another way, it is stale.
  ASSERT_EQ(run({"apply", "up"}).exitCode, 0);
  o = run({"apply", "--plan", planNext});
  EXPECT_EQ(o.exitCode, 1) << show(o);
  EXPECT_THAT(o.err, HasSubstr("no longer in the state the plan was made from"));
  EXPECT_EQ(run({"status"}).exitCode, 0);
}

} // namespace
