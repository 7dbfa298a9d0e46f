// SQL expressions checked with PostgreSQL's parser: what is accepted, where errors are,
// which columns are mentioned, and renames rewritten as PostgreSQL would.
#include "compiler/SqlExpr.h"

#include <gtest/gtest.h>

using namespace strata::compiler;

namespace {

TEST(SqlExpr, ColumnsAndTheirOffsets) {
  SqlExprInfo info = checkSqlExpression("lower(name) || host || name");
  ASSERT_TRUE(info.ok) << info.error;
  ASSERT_EQ(info.columns.size(), 2u);
  ASSERT_EQ(info.columnOffsets.size(), 2u);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_EQ(llvm::StringRef("lower(name) || host || name").substr(info.columnOffsets[i], 4),
              info.columns[i]);
}

TEST(SqlExpr, SyntaxErrorOffsetIsIntoTheText) {
  SqlExprInfo info = checkSqlExpression("port > 0 and and port < 10");
  EXPECT_FALSE(info.ok);
  EXPECT_EQ(info.errorOffset, 13u); // the second "and"
}

TEST(SqlExpr, OnlyOneExpression) {
  EXPECT_FALSE(checkSqlExpression("1); drop table x; select (1").ok);
  EXPECT_FALSE(checkSqlExpression("E'\\''); drop table x; select (1 --'").ok);
  EXPECT_FALSE(checkSqlExpression("1 from pg_class").ok);
  EXPECT_TRUE(checkSqlExpression("(select max(id) from t)").ok);
  EXPECT_TRUE(checkSqlExpression("now() -- a comment").ok);
}

TEST(SqlExpr, ColumnsOfASubqueryAreItsOwn) {
  // Qualified by the sub-query's alias or table, or not at all: the sub-query's columns.
  SqlExprInfo info =
      checkSqlExpression("(select w.id from workspaces w where w.name = 'default' and kind = 'x')");
  ASSERT_TRUE(info.ok) << info.error;
  EXPECT_TRUE(info.columns.empty()) << info.columns[0];
  EXPECT_TRUE(info.hasSubquery);
  // Qualified by another name (the table being changed): a column of that table, as is a
  // column outside the sub-query, and one in the left side of IN.
  info = checkSqlExpression("coalesce(a, (select max(o.n) from other o join third t on "
                            "t.id = o.id where o.k = certificates.ws_id)) + b");
  ASSERT_TRUE(info.ok) << info.error;
  EXPECT_EQ(info.columns, (std::vector<std::string>{"a", "ws_id", "b"}));
  info = checkSqlExpression("c in (with x as (select 1 as v) select x.v from x)");
  ASSERT_TRUE(info.ok) << info.error;
  EXPECT_EQ(info.columns, (std::vector<std::string>{"c"}));
}

TEST(SqlExpr, RenameColumnInExpression) {
  EXPECT_EQ(renameColumnInExpression("lower(name)", "name", "title"), "lower(title)");
  EXPECT_EQ(renameColumnInExpression("name <> '' and \"name\" <> 'name'", "name", "title"),
            "title <> '' and title <> 'name'");
  EXPECT_EQ(renameColumnInExpression("length(t.name) > 0", "name", "title"),
            "length(t.title) > 0");
  // Other columns, strings and function names that look alike stay.
  EXPECT_EQ(renameColumnInExpression("names || name_x || 'name'", "name", "title"),
            "names || name_x || 'name'");
  // A new name that is not a plain lower-case word or is reserved gets quotes.
  EXPECT_EQ(renameColumnInExpression("host > ''", "host", "order"), "\"order\" > ''");
  EXPECT_EQ(renameColumnInExpression("host > ''", "host", "Host Name"), "\"Host Name\" > ''");
  EXPECT_EQ(renameColumnInExpression("\"Order\" > 0", "Order", "sort key"), "\"sort key\" > 0");
  // Text that does not parse is left alone.
  EXPECT_EQ(renameColumnInExpression("name >", "name", "title"), "name >");
}

} // namespace

namespace {

TEST(SqlExpr, StripComments) {
  EXPECT_EQ(stripSqlComments("5 -- five tries\n"), "5");
  EXPECT_EQ(stripSqlComments("retries < 10 /* sane /* nested */ still */ and retries > 0"),
            "retries < 10   and retries > 0");
  // Comment markers inside strings, quoted names and dollar quotes are not comments.
  EXPECT_EQ(stripSqlComments("'--not' || \"/*col*/\" || $$ -- $$ || $t$ /* $t$"),
            "'--not' || \"/*col*/\" || $$ -- $$ || $t$ /* $t$");
  EXPECT_EQ(stripSqlComments("E'it\\'s -- still a string' -- gone"),
            "E'it\\'s -- still a string'");
  EXPECT_EQ(stripSqlComments("'it''s' -- gone"), "'it''s'");
  EXPECT_EQ(stripSqlComments("no comment at all "), "no comment at all ");
}

} // namespace

// Unnamed expression indexes take the name PostgreSQL figures for the expression; the
// expected names were read back from PostgreSQL 15 (CREATE INDEX ON users (...)).
TEST(SqlExpr, FiguresTheNamePostgresGivesAnExpression) {
  struct Case {
    const char *expr;
    const char *name;
  };
  const Case cases[] = {{"n::integer", "n"},         {"coalesce(a, b)", "coalesce"},
                        {"greatest(a, b)", "greatest"}, {"nullif(a, b)", "nullif"},
                        {"username collate \"C\"", "username"}, {"lower(username)", "lower"},
                        {"a + b", ""},                {"case when a > 0 then 1 end", "case"},
                        {"'x'::text", "text"}};
  for (const Case &c : cases)
    EXPECT_EQ(strata::compiler::checkSqlExpression(c.expr).figuredName, c.name) << c.expr;
}

// The lock of each statement of a raw `sql` block, as PostgreSQL's "Explicit Locking" lists
// them (1 ACCESS SHARE ... 8 ACCESS EXCLUSIVE, 0 none, -1 not classified).
TEST(SqlExpr, ClassifiesTheLocksOfAScript) {
  std::vector<SqlStatementLock> locks = sqlScriptLocks(
      "ALTER TABLE s.t VALIDATE CONSTRAINT c;\n"
      "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id) NOT VALID;\n"
      "ALTER TABLE t ADD COLUMN b int, VALIDATE CONSTRAINT c;\n"
      "CREATE INDEX CONCURRENTLY i ON t (a);\n"
      "CREATE UNIQUE INDEX j ON t (a);\n"
      "DROP INDEX CONCURRENTLY i;\n"
      "DROP TRIGGER tr ON t;\n"
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n"
      "LOCK TABLE t IN SHARE ROW EXCLUSIVE MODE;\n"
      "DELETE FROM t WHERE a IS NULL;\n"
      "DO $$ BEGIN END $$;\n");
  struct Expected {
    const char *statement;
    int level;
    std::vector<std::string> tables;
  };
  const Expected expected[] = {{"AlterTableStmt", 4, {"s.t"}},  {"AlterTableStmt", 6, {"t"}},
                               {"AlterTableStmt", 8, {"t"}},    {"IndexStmt", 4, {"t"}},
                               {"IndexStmt", 5, {"t"}},         {"DropStmt", 4, {"i"}},
                               {"DropStmt", 8, {"t"}},          {"CreateFunctionStmt", 0, {}},
                               {"LockStmt", 6, {"t"}},          {"DeleteStmt", 3, {"t"}},
                               {"DoStmt", -1, {}}};
  ASSERT_EQ(locks.size(), std::size(expected));
  for (size_t i = 0; i < locks.size(); ++i) {
    EXPECT_EQ(locks[i].statement, expected[i].statement) << i;
    EXPECT_EQ(locks[i].level, expected[i].level) << locks[i].statement << " " << i;
    EXPECT_EQ(locks[i].tables, expected[i].tables) << locks[i].statement << " " << i;
  }
  EXPECT_TRUE(sqlScriptLocks("ALTER TABLE (").empty());
}

// What the steps of a plan leave in the catalog, read from their SQL: drift leaves these
// out while the version's apply is interrupted.
TEST(SqlExpr, ListsTheObjectsAScriptTouches) {
  using strata::compiler::SqlObjectRef;
  std::vector<SqlObjectRef> objects = strata::compiler::sqlScriptObjects(
      "ALTER TABLE \"reviews\" ADD COLUMN \"rating\" integer;\n"
      "ALTER TABLE reviews ADD CONSTRAINT reviews_rating_strata_nn CHECK (rating IS NOT NULL) "
      "NOT VALID, ALTER COLUMN stars DROP NOT NULL;\n"
      "CREATE OR REPLACE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $s$ BEGIN RETURN "
      "NEW; END $s$;\n"
      "DROP TRIGGER IF EXISTS f ON reviews;\n"
      "CREATE TRIGGER f BEFORE INSERT OR UPDATE ON reviews FOR EACH ROW EXECUTE FUNCTION f();\n"
      "CREATE INDEX CONCURRENTLY \"i\" ON s.reviews (a);\n"
      "ALTER TABLE t RENAME TO u;\n"
      "CREATE VIEW t AS SELECT * FROM u;\n"
      "ALTER INDEX j_strata_new RENAME TO j;\n"
      "WITH batch AS (SELECT id FROM reviews WHERE ($1::boolean OR (id) > ($2)) LIMIT $3) "
      "UPDATE reviews SET rating = stars FROM batch WHERE reviews.id = batch.id;\n");
  std::vector<SqlObjectRef> expected = {{"reviews", "rating"},
                                        {"reviews", "reviews_rating_strata_nn"},
                                        {"reviews", "stars"},
                                        {"reviews", "f"},
                                        {"reviews", "i"},
                                        {"t", ""},
                                        {"u", ""},
                                        {"", "j_strata_new"},
                                        {"", "j"}};
  EXPECT_EQ(objects, expected);
  EXPECT_TRUE(strata::compiler::sqlScriptObjects("ALTER TABLE (").empty());
}
