// Integration tests for Connection and Result against a real PostgreSQL 15. The server
// comes from scripts/pg.sh (scripts/test.sh starts it and exports STRATA_TEST_DB); without
// STRATA_TEST_DB the tests that need a server are skipped.
//
// Note: StringRef::contains instead of EXPECT_NE(find(), StringRef::npos): gtest binds
// its arguments by reference, odr-using npos, and libLLVMSupport.a (built as C++14) has its
// own strong definition of it, so the link fails with "multiple definition of npos".
#include "runtime/Connection.h"
#include "runtime/PgError.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>

using strata::runtime::Connection;
using strata::runtime::PgError;
using strata::runtime::Result;

namespace {

std::optional<std::string> testDb() {
  const char *connInfo = std::getenv("STRATA_TEST_DB");
  if (!connInfo || !*connInfo)
    return std::nullopt;
  return std::string(connInfo);
}

/// Expects `error` to be a PgError and hands it to `check`; fails the test otherwise.
template <typename Check> void expectPgError(llvm::Error error, Check check) {
  ASSERT_TRUE(error.isA<PgError>()) << llvm::toString(std::move(error));
  llvm::handleAllErrors(std::move(error), [&](const PgError &pg) { check(pg); });
}

/// Tests that need the server: skipped without STRATA_TEST_DB, and each gets a fresh
/// session (so temporary tables never leak between tests).
class ConnectionTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!testDb())
      GTEST_SKIP() << "STRATA_TEST_DB is not set (run scripts/test.sh)";
    llvm::Expected<Connection> opened = Connection::open(*testDb());
    ASSERT_TRUE(static_cast<bool>(opened)) << llvm::toString(opened.takeError());
    session.emplace(std::move(*opened));
  }

  Connection &conn() { return *session; }

  std::optional<Connection> session;
};

TEST_F(ConnectionTest, SelectVersionIsPostgres15) {
  llvm::Expected<Result> res = conn().exec("select version()");
  ASSERT_TRUE(static_cast<bool>(res)) << llvm::toString(res.takeError());
  ASSERT_EQ(res->rows(), 1);
  ASSERT_EQ(res->cols(), 1);
  EXPECT_EQ(res->columnName(0), "version");
  EXPECT_TRUE(res->get(0, 0).startswith("PostgreSQL 15")) << res->get(0, 0).str();
}

TEST_F(ConnectionTest, MissingRelationIsPgError42P01) {
  llvm::Expected<Result> res = conn().exec("select * from strata_no_such_table");
  ASSERT_FALSE(static_cast<bool>(res));
  expectPgError(res.takeError(), [](const PgError &pg) {
    EXPECT_EQ(pg.sqlState(), "42P01");
    EXPECT_TRUE(pg.primaryMessage().contains("strata_no_such_table"));
    EXPECT_EQ(pg.message(),
              "ERROR:  relation \"strata_no_such_table\" does not exist (SQLSTATE 42P01)");
  });
  // The connection survives a failed statement.
  llvm::Expected<Result> again = conn().exec("select 1");
  ASSERT_TRUE(static_cast<bool>(again)) << llvm::toString(again.takeError());
  EXPECT_EQ(again->get(0, 0), "1");
}

TEST_F(ConnectionTest, DetailAndHintAreCaptured) {
  llvm::Expected<Result> res = conn().exec(
      "do $$ begin raise exception 'boom' using detail = 'the detail', hint = 'the hint', "
      "errcode = '22023'; end $$");
  ASSERT_FALSE(static_cast<bool>(res));
  expectPgError(res.takeError(), [](const PgError &pg) {
    EXPECT_EQ(pg.sqlState(), "22023");
    EXPECT_EQ(pg.primaryMessage(), "boom");
    EXPECT_EQ(pg.detail(), "the detail");
    EXPECT_EQ(pg.hint(), "the hint");
    EXPECT_TRUE(pg.context().contains("PL/pgSQL")) << pg.context().str();
    std::string message = pg.message();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.rfind("ERROR:  boom (SQLSTATE 22023); DETAIL: the detail; HINT: the hint; "
                            "CONTEXT: PL/pgSQL",
                            0),
              0u)
        << message;
  });
}

TEST(ConnectionOpenTest, FailedConnectionNeverShowsThePassword) {
  // No server needed: nothing listens on this socket directory.
  const std::string password = "Sup3rS3cretPw";
  for (const std::string &connInfo : std::initializer_list<std::string>{
           "host=/nonexistent/strata port=1 user=alice password=" + password,
           "host=/nonexistent/strata password='" + password + " with spaces'",
           "postgresql://alice:" + password + "@/postgres?host=/nonexistent/strata",
           "postgres://alice@/postgres?host=/nonexistent/strata&password=" + password,
           // Malformed URIs: libpq quotes the URI back in its error message.
           "postgres://alice:" + password + "@[::1/postgres",
           "postgres://alice:" + password + "@host:notaport/postgres",
       }) {
    SCOPED_TRACE(connInfo);
    llvm::Expected<Connection> conn = Connection::open(connInfo);
    ASSERT_FALSE(static_cast<bool>(conn));
    llvm::Error error = conn.takeError();
    ASSERT_TRUE(error.isA<PgError>());
    llvm::handleAllErrors(std::move(error), [&](const PgError &pg) {
      std::string message = pg.message();
      EXPECT_EQ(pg.sqlState(), "08006") << message;
      EXPECT_EQ(message.find(password), std::string::npos) << message;
      EXPECT_FALSE(pg.primaryMessage().empty());
      EXPECT_TRUE(pg.context().contains("****")) << message;
    });
  }
}

TEST_F(ConnectionTest, ServerRejectionNeverShowsThePassword) {
  // Reaches the real server, which rejects the database after reading the startup packet.
  const std::string password = "An0therS3cret";
  llvm::Expected<Connection> conn =
      Connection::open(*testDb() + " dbname=strata_no_such_db password=" + password);
  ASSERT_FALSE(static_cast<bool>(conn));
  expectPgError(conn.takeError(), [&](const PgError &pg) {
    std::string message = pg.message();
    EXPECT_EQ(pg.sqlState(), "08006") << message;
    EXPECT_TRUE(pg.primaryMessage().contains("\"strata_no_such_db\" does not exist")) << message;
    EXPECT_EQ(message.find(password), std::string::npos) << message;
  });
}

TEST_F(ConnectionTest, ExecParamsBindsTextAndNull) {
  llvm::Expected<Result> res =
      conn().execParams("select $1::text as a, $2::int as b, $3::text is null as c, $4::text as d",
                        {std::string("it's"), std::string("42"), std::nullopt, std::string("")});
  ASSERT_TRUE(static_cast<bool>(res)) << llvm::toString(res.takeError());
  ASSERT_EQ(res->rows(), 1);
  ASSERT_EQ(res->cols(), 4);
  EXPECT_EQ(res->columnName(1), "b");
  EXPECT_EQ(res->get(0, 0), "it's");
  EXPECT_EQ(res->get(0, 1), "42");
  EXPECT_EQ(res->get(0, 2), "t");
  // An empty string is not NULL.
  EXPECT_FALSE(res->isNull(0, 3));
  EXPECT_EQ(res->get(0, 3), "");

  llvm::Expected<Result> null = conn().execParams("select $1::text", {std::nullopt});
  ASSERT_TRUE(static_cast<bool>(null)) << llvm::toString(null.takeError());
  EXPECT_TRUE(null->isNull(0, 0));
  EXPECT_EQ(null->get(0, 0), "");
}

TEST_F(ConnectionTest, ExecParamsReportsServerErrors) {
  llvm::Expected<Result> res = conn().execParams("select $1::int", {std::string("nope")});
  ASSERT_FALSE(static_cast<bool>(res));
  expectPgError(res.takeError(), [](const PgError &pg) { EXPECT_EQ(pg.sqlState(), "22P02"); });
}

TEST_F(ConnectionTest, MultiStatementDdlAndRows) {
  llvm::Expected<Result> ddl =
      conn().exec("create temporary table t(id int primary key, name text);"
                  "insert into t values (1, 'a'), (2, null)");
  ASSERT_TRUE(static_cast<bool>(ddl)) << llvm::toString(ddl.takeError());
  EXPECT_EQ(ddl->rows(), 0);

  llvm::Expected<Result> rows = conn().exec("select id, name from t order by id");
  ASSERT_TRUE(static_cast<bool>(rows)) << llvm::toString(rows.takeError());
  ASSERT_EQ(rows->rows(), 2);
  EXPECT_EQ(rows->get(1, 0), "2");
  EXPECT_FALSE(rows->isNull(0, 1));
  EXPECT_TRUE(rows->isNull(1, 1));

  llvm::Expected<Result> duplicate = conn().exec("insert into t values (1, 'again')");
  ASSERT_FALSE(static_cast<bool>(duplicate));
  expectPgError(duplicate.takeError(), [](const PgError &pg) {
    EXPECT_EQ(pg.sqlState(), "23505");
    EXPECT_TRUE(pg.detail().contains("(id)=(1)")) << pg.detail().str();
  });
}

TEST_F(ConnectionTest, ExecEachPassesEveryResultAndStopsAtTheFirstError) {
  ASSERT_TRUE(static_cast<bool>(conn().exec("create temporary table e(id int primary key)")));
  std::vector<std::string> seen;
  llvm::Error err = conn().execEach(
      "begin; insert into e values (1); select 'one' as x; commit;"
      "begin; insert into e values (1); select 'two' as x; commit;"
      "begin; insert into e values (3); commit",
      [&](const Result &r) {
        seen.push_back(r.command().str() + (r.rows() == 1 ? "=" + r.get(0, 0).str() : ""));
      });
  ASSERT_TRUE(static_cast<bool>(err));
  expectPgError(std::move(err), [](const PgError &pg) { EXPECT_EQ(pg.sqlState(), "23505"); });
  EXPECT_EQ(seen,
            (std::vector<std::string>{"BEGIN", "INSERT 0 1", "SELECT 1=one", "COMMIT", "BEGIN"}));
  // The first transaction committed; the second is aborted, open for the caller to end;
  // the third never ran.
  EXPECT_TRUE(conn().inTransaction());
  ASSERT_TRUE(static_cast<bool>(conn().exec("rollback")));
  EXPECT_FALSE(conn().inTransaction());
  llvm::Expected<Result> rows = conn().exec("select string_agg(id::text, ',') from e");
  ASSERT_TRUE(static_cast<bool>(rows)) << llvm::toString(rows.takeError());
  EXPECT_EQ(rows->get(0, 0), "1");
}

TEST_F(ConnectionTest, CopyIsRefusedAndConnectionStaysUsable) {
  for (const char *sql : {"copy (select 1) to stdout", "create temporary table c(x int);"
                                                       "copy c from stdin"}) {
    SCOPED_TRACE(sql);
    llvm::Expected<Result> res = conn().exec(sql);
    ASSERT_FALSE(static_cast<bool>(res));
    expectPgError(res.takeError(), [](const PgError &pg) { EXPECT_EQ(pg.sqlState(), "0A000"); });
    llvm::Expected<Result> after = conn().exec("select 2");
    ASSERT_TRUE(static_cast<bool>(after)) << llvm::toString(after.takeError());
    EXPECT_EQ(after->get(0, 0), "2");
  }
}

TEST_F(ConnectionTest, NoticesAreCollectedNotPrinted) {
  llvm::Expected<Result> res =
      conn().exec("do $$ begin raise notice 'hello from the server'; end $$");
  ASSERT_TRUE(static_cast<bool>(res)) << llvm::toString(res.takeError());
  std::vector<std::string> notices = conn().takeNotices();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0], "NOTICE:  hello from the server");
  EXPECT_TRUE(conn().takeNotices().empty());
}

TEST_F(ConnectionTest, MovedConnectionKeepsWorking) {
  Connection second = std::move(*session);
  llvm::Expected<Result> res = second.exec("do $$ begin raise notice 'moved'; end $$");
  ASSERT_TRUE(static_cast<bool>(res)) << llvm::toString(res.takeError());
  // The notice receiver registered at open() must still reach the moved-to object.
  EXPECT_EQ(second.takeNotices().size(), 1u);
  llvm::Expected<Connection> third = Connection::open(*testDb());
  ASSERT_TRUE(static_cast<bool>(third)) << llvm::toString(third.takeError());
  *third = std::move(second);
  llvm::Expected<Result> viaThird = third->exec("select 1");
  ASSERT_TRUE(static_cast<bool>(viaThird)) << llvm::toString(viaThird.takeError());
}

TEST_F(ConnectionTest, EmptyConnInfoUsesPgEnvironment) {
  // scripts/pg.sh exports PGHOST/PGPORT/PGUSER/PGDATABASE alongside STRATA_TEST_DB.
  if (!std::getenv("PGHOST"))
    GTEST_SKIP() << "PGHOST is not set";
  llvm::Expected<Connection> fromEnv = Connection::open("");
  ASSERT_TRUE(static_cast<bool>(fromEnv)) << llvm::toString(fromEnv.takeError());
  llvm::Expected<Result> res = fromEnv->exec("select current_user");
  ASSERT_TRUE(static_cast<bool>(res)) << llvm::toString(res.takeError());
  EXPECT_EQ(res->get(0, 0), std::getenv("PGUSER") ? std::getenv("PGUSER") : "postgres");
}

TEST_F(ConnectionTest, ClientEncodingIsUtf8) {
  llvm::Expected<Result> res = conn().execParams("select $1::text || 'ü'", {std::string("ä")});
  ASSERT_TRUE(static_cast<bool>(res)) << llvm::toString(res.takeError());
  EXPECT_EQ(res->get(0, 0), "äü");
  llvm::Expected<Result> enc = conn().exec("show client_encoding");
  ASSERT_TRUE(static_cast<bool>(enc));
  EXPECT_EQ(enc->get(0, 0), "UTF8");
}

} // namespace
