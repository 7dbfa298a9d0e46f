// Unit tests for the one-line rendering of PgError (runtime/PgError.h).
#include "runtime/PgError.h"

#include <gtest/gtest.h>

using strata::runtime::PgError;

namespace {

std::string render(llvm::Error error) { return llvm::toString(std::move(error)); }

TEST(PgErrorTest, MessageAndSqlState) {
  EXPECT_EQ(render(llvm::make_error<PgError>("42P01", "relation \"t\" does not exist")),
            "ERROR:  relation \"t\" does not exist (SQLSTATE 42P01)");
}

TEST(PgErrorTest, AllFieldsOnOneLine) {
  EXPECT_EQ(render(llvm::make_error<PgError>(
                "23505", "duplicate key value", "Key (id)=(1) already exists.", "Try another id.",
                "SQL statement \"insert ...\"\nPL/pgSQL function f()")),
            "ERROR:  duplicate key value (SQLSTATE 23505); DETAIL: Key (id)=(1) already exists.; "
            "HINT: Try another id.; CONTEXT: SQL statement \"insert ...\" PL/pgSQL function f()");
}

TEST(PgErrorTest, EmptyFieldsAreLeftOut) {
  EXPECT_EQ(render(llvm::make_error<PgError>("", "lost connection", "", "Reconnect.")),
            "ERROR:  lost connection; HINT: Reconnect.");
}

TEST(PgErrorTest, MultiLineLibpqMessageBecomesOneLine) {
  std::string rendered = render(llvm::make_error<PgError>(
      "08006", "connection to server on socket \"/x/.s.PGSQL.1\" failed: No such file or "
               "directory\n\tIs the server running locally and accepting connections on that "
               "socket?\n"));
  EXPECT_EQ(rendered, "ERROR:  connection to server on socket \"/x/.s.PGSQL.1\" failed: No such "
                      "file or directory Is the server running locally and accepting connections "
                      "on that socket? (SQLSTATE 08006)");
}

TEST(PgErrorTest, FieldsAreKeptApart) {
  llvm::Error error = llvm::make_error<PgError>("42601", "syntax error", "d", "h", "c");
  bool handled = false;
  llvm::handleAllErrors(std::move(error), [&](const PgError &pg) {
    handled = true;
    EXPECT_EQ(pg.sqlState(), "42601");
    EXPECT_EQ(pg.primaryMessage(), "syntax error");
    EXPECT_EQ(pg.detail(), "d");
    EXPECT_EQ(pg.hint(), "h");
    EXPECT_EQ(pg.context(), "c");
  });
  EXPECT_TRUE(handled);
}

} // namespace
