// `strata plan --format sql` run with psql does what `strata apply` does (issue 17, bug 6):
// the same catalog, the same records in strata's state tables (times and the client
// aside), so that the next phase runs with strata on the database psql upgraded; and the
// script refuses a database in another state. On a real PostgreSQL (STRATA_TEST_DB).
#include "test/runtime/ApplyHelpers.h"

#include <gmock/gmock.h>

#include <cstdio>

namespace strata::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// A rename of a NOT NULL column (shadow column, sync trigger, batched backfill, NOT VALID
/// check and its validation), a NOT NULL column with a fill and a concurrent index build
/// in one version; a dropped table in the next.
const char *const project = R"(
subsystem reviews {
  version "1.0.0" {
    table reviews {
      id    bigint  primary key
      stars integer not null
      body  text
    }
    table legacy {
      id bigint primary key
    }
  }
  version "1.1.0" {
    alter table reviews {
      rename column stars to rating
      add column title text not null fill ('t-' || id::text)
      add index reviews_body_idx (body)
    }
  }
  version "1.2.0" {
    drop table legacy
  }
}
)";

/// `psql -X -f FILE` on \p db; ON_ERROR_STOP comes from the script itself.
Outcome psql(const TestDatabase &db, const std::string &file) {
  std::string out = file + ".out";
  std::string command = "psql -X -q -d '" + db.connInfo() + "' -f " + file + " > " + out + " 2>&1";
  int status = std::system(command.c_str());
  Outcome o;
  o.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.err = readFile(out);
  std::remove(out.c_str());
  return o;
}

/// The catalog (strata's tables aside), triggers, functions and data of reviews.
std::string catalog(runtime::Connection &conn) {
  runtime::InspectOptions options;
  llvm::Expected<runtime::Inspection> inspection = runtime::inspect(conn, options);
  if (!inspection) {
    ADD_FAILURE() << llvm::toString(inspection.takeError());
    return "";
  }
  std::string out = runtime::describeSchema(inspection->schema);
  for (const runtime::InvalidIndex &i : inspection->invalidIndexes)
    out += "INVALID index " + i.index.name + "\n";
  for (const runtime::ConstraintRef &c : inspection->notValidConstraints)
    out += "NOT VALID constraint " + c.name + "\n";
  for (const runtime::TableTrigger &t : inspection->triggers)
    out += "trigger " + t.name + " on " + t.table + ": " + t.function + "\n" + t.source + "\n";
  out += query(conn, "SELECT count(*) || ' rows, md5 ' || md5(string_agg(r::text, ',' ORDER BY "
                     "id)) FROM reviews r")
             .value_or("?");
  return out;
}

/// strata's records, without times and who ran them.
std::string records(runtime::Connection &conn) {
  return query(conn, "SELECT string_agg(concat_ws(' ', subsystem, version, checksum, status, "
                     "strata_version, up_ms IS NOT NULL, finish_ms IS NOT NULL, "
                     "up_finished_at IS NOT NULL, finish_finished_at IS NOT NULL), E'\\n' ORDER "
                     "BY subsystem, version) FROM strata_nodes")
             .value_or("?") +
         "\n" +
         query(conn, "SELECT string_agg(concat_ws(' ', subsystem, version, phase, step, status, "
                     "sql_hash, cursor, rows_done, finished_at IS NOT NULL), E'\\n' ORDER BY "
                     "subsystem, version, phase, step) FROM strata_steps")
             .value_or("?");
}

class ApplyScriptTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!serverConnInfo())
      GTEST_SKIP() << "STRATA_TEST_DB is not set (run scripts/test.sh)";
    viaPsql.emplace("script_psql");
    viaApply.emplace("script_apply");
    ASSERT_TRUE(viaPsql->ok() && viaApply->ok());
    dir.emplace(project);
    script = dir->path() + "/plan.sql";
  }

  /// `strata plan PHASE --db DB --format sql -o FILE`.
  void planScript(const TestDatabase &db, const std::string &phase) {
    Outcome o = strata(*dir, db, {"plan", phase, "--format", "sql", "-o", script});
    ASSERT_EQ(o.exitCode, 0) << show(o);
  }

  void expectSameState() {
    std::optional<runtime::Connection> a = viaPsql->connect(), b = viaApply->connect();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(catalog(*a), catalog(*b));
    EXPECT_EQ(records(*a), records(*b));
  }

  std::optional<TestDatabase> viaPsql, viaApply;
  std::optional<ProjectDir> dir;
  std::string script;
};

TEST_F(ApplyScriptTest, PsqlOfThePlanEndsWhereApplyEnds) {
  // Bootstrap: psql of the script on an empty database, apply on the other.
  Outcome o =
      strata(*dir, *viaPsql,
             {"plan", "bootstrap", "--to", "reviews@1.0.0", "--format", "sql", "-o", script});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  o = psql(*viaPsql, script);
  ASSERT_EQ(o.exitCode, 0) << o.err;
  o = strata(*dir, *viaApply, {"apply", "bootstrap", "--to", "reviews@1.0.0"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  expectSameState();
  for (const TestDatabase *db : {&*viaPsql, &*viaApply}) {
    std::optional<runtime::Connection> conn = db->connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(query(*conn, "INSERT INTO reviews (id, stars, body) SELECT g, g % 5 + 1, "
                             "md5(g::text) FROM generate_series(1, 4500) g"));
  }

  // Up: several backfill batches, a concurrent index build, a NOT VALID check.
  planScript(*viaPsql, "up");
  o = psql(*viaPsql, script);
  ASSERT_EQ(o.exitCode, 0) << o.err;
  o = strata(*dir, *viaApply, {"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  expectSameState();
  o = strata(*dir, *viaPsql, {"status", "--no-cache"});
  EXPECT_EQ(o.exitCode, 4) << show(o);
  EXPECT_THAT(o.err, Not(HasSubstr("drift"))) << show(o);

  // The same script again: the database is no longer where it started.
  o = psql(*viaPsql, script);
  EXPECT_EQ(o.exitCode, 3) << o.err;
  EXPECT_THAT(o.err, HasSubstr("strata: the database is not in the state this script was made "
                               "from"));

  // The next phase, with strata, on the database psql upgraded.
  o = strata(*dir, *viaPsql, {"apply", "finish", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  o = strata(*dir, *viaApply, {"apply", "finish", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  expectSameState();
  o = strata(*dir, *viaPsql, {"status", "--no-cache"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
  EXPECT_THAT(o.err, Not(HasSubstr("drift"))) << show(o);
  o = strata(*dir, *viaPsql, {"diff"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
}

TEST_F(ApplyScriptTest, UpScriptCutShortResumesAndFinishScriptCompletes) {
  for (const TestDatabase *db : {&*viaPsql, &*viaApply}) {
    Outcome o = strata(*dir, *db, {"apply", "bootstrap", "--to", "reviews@1.0.0"});
    ASSERT_EQ(o.exitCode, 0) << show(o);
    std::optional<runtime::Connection> conn = db->connect();
    ASSERT_TRUE(conn);
    ASSERT_TRUE(query(*conn, "INSERT INTO reviews (id, stars, body) SELECT g, g % 5 + 1, "
                             "md5(g::text) FROM generate_series(1, 2500) g"));
  }
  planScript(*viaPsql, "up");
  // Cut short by a failing step: a row that the NOT NULL check of title will not accept
  // cannot exist (the fill trigger), so make the concurrent index build fail instead.
  std::optional<runtime::Connection> conn = viaPsql->connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(query(*conn, "CREATE TABLE reviews_body_idx (x int)"));
  Outcome o = psql(*viaPsql, script);
  ASSERT_EQ(o.exitCode, 3) << o.err;
  o = strata(*dir, *viaPsql, {"status", "--no-cache"});
  EXPECT_EQ(o.exitCode, 8) << show(o);
  ASSERT_TRUE(query(*conn, "DROP TABLE reviews_body_idx"));
  // Run again, it resumes (the steps that committed are skipped).
  o = psql(*viaPsql, script);
  ASSERT_EQ(o.exitCode, 0) << o.err;
  EXPECT_THAT(o.err, HasSubstr("up step 1: done already"));
  o = strata(*dir, *viaApply, {"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  expectSameState();

  // Finish by script on the one, by apply on the other.
  planScript(*viaPsql, "finish");
  o = psql(*viaPsql, script);
  ASSERT_EQ(o.exitCode, 0) << o.err;
  o = strata(*dir, *viaApply, {"apply", "finish", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  expectSameState();
  o = strata(*dir, *viaPsql, {"status", "--no-cache"});
  EXPECT_EQ(o.exitCode, 0) << show(o);
}

} // namespace
} // namespace strata::test
