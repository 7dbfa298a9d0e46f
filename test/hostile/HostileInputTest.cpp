// Hostile names and expressions against a real PostgreSQL (STRATA_TEST_DB; docs/reliability.md,
// "Hostile input").
//
// A project whose every name is hostile (quotes, semicolons, comment markers, backslashes,
// dollar quotes, Unicode, reserved words, exactly 63 bytes with a multi-byte character where
// PostgreSQL's own name truncation would cut) in every position: tables, columns, indexes,
// constraints (named, and named by PostgreSQL from 63-byte names), enum types and values,
// defaults and checks. The real `strata` executable bootstraps its first version; the
// catalog read back by runtime/Inspector must equal the declared state, name for name. Then
// `up` and `finish` rename and retype those names, and the catalog must equal the second
// version, with the rows written before the upgrade still there.
//
// Also: a password in --db never reaches strata's output, whatever fails.
#include "compiler/Compilation.h"
#include "planner/Sql.h"
#include "runtime/Inspector.h"
#include "test/runtime/TestDatabase.h"

#include <llvm/ADT/StringExtras.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

using namespace strata;
using test::ProjectDir;
using test::TestDatabase;

namespace {

/// A name as the DSL writes it: double-quoted, inner double quotes doubled.
std::string q(const std::string &name) {
  std::string out = "\"";
  for (char c : name)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

/// A string literal as the DSL (and SQL) writes it: single quotes doubled.
std::string lit(const std::string &text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// --- the names --------------------------------------------------------------------------

const std::string kTable = "Robert'); DROP TABLE students;--";
const std::string kTableRenamed = "Ünïcødé \"tab\\le\"; --";
// 63 bytes: 't', 56 x 'x', 'é' (2 bytes, at bytes 57-58), "abcd". PostgreSQL names the
// primary key "<58 bytes>_pkey", and byte 58 is the middle of the 'é': it clips to 57.
const std::string kLong = "t" + std::string(56, 'x') + "\xC3\xA9" + "abcd";
const std::string kColQuote = "say \"hi\"";
const std::string kColQuoteRenamed = "said \"bye\"; --";
const std::string kColBackslash = "back\\slash";
const std::string kColBackslashRenamed = "back\\slash → 'renamed'";
const std::string kColUnicode = "naïve_列_😀";
const std::string kColSelect = "select";
const std::string kColFrom = "from";
const std::string kColSemicolon = "a; DROP TABLE x; --";
const std::string kColDollar = "$$dollar$$";
const std::string kCol63 = "column_" + std::string("0123456789") + "0123456789" + "0123456789" +
                           "0123456789" + "0123456789" + "abcdef";
const std::string kIndex = "idx; DROP TABLE x; --";
const std::string kIndexRenamed = "idx'renamed\"/*";
const std::string kCheck = "chk'\"; --";
const std::string kCheckRenamed = "chk */ renamed";
const std::string kEnum = "mood'); --";
const std::vector<std::string> kLabels = {"it's", "semi;colon", "back\\slash", "ünï",
                                          // 63 bytes, ending in a 3-byte character
                                          std::string(60, 'L') + "列"};
const std::string kLabelAdded = "new'value\"; --";
const std::string kDefault = "it's; DROP TABLE x; --";

std::string project() {
  std::string labels;
  for (const std::string &l : kLabels)
    labels += (labels.empty() ? "" : ", ") + lit(l);
  return "// hostile names in every position\n"
         "subsystem " +
         q("sub'; --") +
         " {\n"
         "  version \"1.0.0\" {\n"
         "    enum " +
         q(kEnum) + " { " + labels +
         " }\n"
         "    table " +
         q(kLong) +
         " {\n"
         "      id uuid primary key\n"
         "      " +
         q(kColSelect) +
         " text unique\n"
         "      " +
         q(kCol63) +
         " text\n"
         "    }\n"
         "    table " +
         q(kTable) +
         " {\n"
         "      id uuid primary key\n"
         "      " +
         q(kColQuote) + " text not null default " + lit(kDefault) +
         "\n"
         "      " +
         q(kColBackslash) +
         " text default E'\\\\'\n"
         "      " +
         q(kColUnicode) +
         " varchar(100) default ('$$' || '''; --')\n"
         "      " +
         q(kColSelect) + " " + q(kEnum) + " default " + lit(kLabels[0]) +
         "\n"
         "      " +
         q(kColFrom) + " integer check (" + q(kColFrom) +
         " > 0)\n"
         "      " +
         q(kColSemicolon) + " uuid references " + q(kLong) +
         " on delete cascade\n"
         "      " +
         q(kColDollar) +
         " text\n"
         "      constraint " +
         q(kCheck) + " check (" + q(kColQuote) +
         " <> 'x''; --')\n"
         "      index " +
         q(kIndex) + " (" + q(kColSemicolon) + ", " + q(kColSelect) +
         ")\n"
         "      index unique (" +
         q(kColDollar) +
         ")\n"
         "    }\n"
         "  }\n"
         "  version \"2.0.0\" {\n"
         "    alter enum " +
         q(kEnum) + " add value " + lit(kLabelAdded) + " after " + lit(kLabels[0]) +
         "\n"
         "    alter table " +
         q(kTable) +
         " {\n"
         // Used by a check and an index: renamed and retyped in place, which is unsafe.
         "      unsafe \"reason'; --\" rename column " +
         q(kColQuote) + " to " + q(kColQuoteRenamed) +
         "\n"
         "      unsafe alter column " +
         q(kColFrom) +
         " type bigint\n"
         // Not used by any: expand and contract (a new column, a sync trigger, a backfill).
         "      rename column " +
         q(kColBackslash) + " to " + q(kColBackslashRenamed) +
         "\n"
         "      alter column " +
         q(kColUnicode) +
         " type text\n"
         "      rename index " +
         q(kIndex) + " to " + q(kIndexRenamed) +
         "\n"
         "      rename constraint " +
         q(kCheck) + " to " + q(kCheckRenamed) +
         "\n"
         "    }\n"
         "    rename table " +
         q(kTable) + " to " + q(kTableRenamed) +
         "\n"
         "  }\n"
         "}\n";
}

/// \p schema with what the catalog cannot know (owners) cleared and every expression
/// replaced by a marker: PostgreSQL deparses expressions its own way (`'x'::text`), and the
/// expressions are checked one by one below instead. Columns compare as a set: a rename by
/// expand and contract adds the new column at the end of the table, as ApplyPlanTest notes.
std::string comparable(const compiler::Schema &schema) {
  compiler::Schema out;
  for (const auto &[name, table] : schema.tables()) {
    compiler::Table t = *table;
    t.owner.clear();
    for (compiler::Column &c : t.columns)
      if (!c.defaultExpr.empty())
        c.defaultExpr = "<expr>";
    for (compiler::Constraint &c : t.constraints)
      if (!c.check.empty())
        c.check = "<expr>";
    out.putTable(std::move(t));
  }
  for (const auto &[name, type] : schema.enums()) {
    compiler::EnumType e = type;
    e.owner.clear();
    out.putEnum(std::move(e));
  }
  static const std::regex position(R"(^(table .* column )[0-9]+ )");
  llvm::SmallVector<llvm::StringRef, 64> lines;
  std::string described = runtime::describeSchema(out);
  llvm::StringRef(described).split(lines, '\n', -1, /*KeepEmpty=*/false);
  std::vector<std::string> sorted;
  for (llvm::StringRef line : lines)
    sorted.push_back(std::regex_replace(line.str(), position, "$1"));
  std::sort(sorted.begin(), sorted.end());
  return llvm::join(sorted, "\n") + "\n";
}

class HostileNames : public ::testing::Test {
protected:
  void SetUp() override {
    if (!test::serverConnInfo())
      GTEST_SKIP() << "STRATA_TEST_DB is not set";
  }
};

TEST_F(HostileNames, NamesAreWhatTheTestSaysTheyAre) {
  // The test is only worth its names: the long ones are exactly PostgreSQL's limit.
  EXPECT_EQ(kLong.size(), 63u);
  EXPECT_EQ(kCol63.size(), 63u);
  EXPECT_EQ(kLabels.back().size(), 63u);
}

TEST_F(HostileNames, BootstrapInspectUpFinishRoundTrip) {
  compiler::Compilation compilation;
  compilation.addSource("hostile.strata", project());
  const compiler::Project *compiled = compilation.run();
  std::string diags;
  llvm::raw_string_ostream os(diags);
  compilation.diagnostics().render(os, false);
  ASSERT_TRUE(compiled) << project() << "\n" << os.str();
  ASSERT_EQ(compiled->subsystems.size(), 1u);
  const compiler::Subsystem &sub = compiled->subsystems[0];
  ASSERT_EQ(sub.versions.size(), 2u);

  TestDatabase db("hostile");
  ASSERT_TRUE(db.ok());
  ProjectDir dir(project());
  auto strata = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"-s", dir.path(), "--db", db.connInfo()});
    return test::runStrata(args);
  };
  std::optional<runtime::Connection> conn = db.connect();
  ASSERT_TRUE(conn);
  auto catalog = [&]() -> std::optional<compiler::Schema> {
    llvm::Expected<runtime::Inspection> i = runtime::inspect(*conn, {});
    if (!i) {
      ADD_FAILURE() << llvm::toString(i.takeError());
      return std::nullopt;
    }
    EXPECT_TRUE(i->unsupported.empty()) << i->unsupported.front();
    EXPECT_TRUE(i->invalidIndexes.empty());
    EXPECT_TRUE(i->notValidConstraints.empty());
    return std::move(i->schema);
  };

  // --- bootstrap of 1.0.0: the catalog is the declared state, name for name ---
  test::StrataProcess::Outcome o = strata({"apply", "bootstrap", "--to", "sub'; --@1.0.0"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  std::optional<compiler::Schema> v1 = catalog();
  ASSERT_TRUE(v1);
  EXPECT_EQ(comparable(*v1), comparable(sub.versions[0].state));
  // The names PostgreSQL chose for unnamed constraints are the ones the compiler predicted,
  // clipped at a character boundary.
  const compiler::Table *longTable = v1->findTable(kLong);
  ASSERT_TRUE(longTable);
  const std::string clipped = "t" + std::string(56, 'x');
  EXPECT_TRUE(longTable->findConstraint(clipped + "_pkey")) << comparable(*v1);
  // The expressions, as PostgreSQL deparses them: the hostile text is one literal.
  const compiler::Table *table = v1->findTable(kTable);
  ASSERT_TRUE(table);
  ASSERT_TRUE(table->findColumn(kColQuote));
  EXPECT_EQ(table->findColumn(kColQuote)->defaultExpr, "'it''s; DROP TABLE x; --'::text");
  ASSERT_TRUE(table->findColumn(kColBackslash));
  EXPECT_EQ(table->findColumn(kColBackslash)->defaultExpr, "'\\'::text");
  ASSERT_TRUE(table->findColumn(kColSelect));
  EXPECT_EQ(table->findColumn(kColSelect)->defaultExpr, "'it''s'::\"mood'); --\"");
  ASSERT_TRUE(table->findConstraint(kCheck));
  EXPECT_EQ(table->findConstraint(kCheck)->check, "\"say \"\"hi\"\"\" <> 'x''; --'::text");

  // A row written by the old version, with every default.
  std::string tableSql = planner::sql::ident(kTable);
  std::string longSql = planner::sql::ident(kLong);
  ASSERT_TRUE(test::query(*conn, "INSERT INTO " + longSql + " (id, " +
                                     planner::sql::ident(kColSelect) +
                                     ") VALUES ('00000000-0000-0000-0000-000000000001', 'x')"));
  ASSERT_TRUE(test::query(*conn, "INSERT INTO " + tableSql + " (id, " +
                                     planner::sql::ident(kColFrom) + ", " +
                                     planner::sql::ident(kColSemicolon) +
                                     ") VALUES ('00000000-0000-0000-0000-000000000002', 7, "
                                     "'00000000-0000-0000-0000-000000000001')"));
  std::string rowSql = "SELECT " + planner::sql::ident(kColQuote) + " || '|' || " +
                       planner::sql::ident(kColBackslash) + " || '|' || " +
                       planner::sql::ident(kColUnicode) + " || '|' || " +
                       planner::sql::ident(kColSelect) + " || '|' || " +
                       planner::sql::ident(kColFrom) + " FROM ";
  EXPECT_EQ(test::query(*conn, rowSql + tableSql), "it's; DROP TABLE x; --|\\|$$'; --|it's|7");

  // --- up then finish to 2.0.0: renames and a type change of hostile names ---
  o = strata({"apply", "up"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  o = strata({"apply", "finish", "--yes"});
  ASSERT_EQ(o.exitCode, 0) << show(o);
  std::optional<compiler::Schema> v2 = catalog();
  ASSERT_TRUE(v2);
  EXPECT_EQ(comparable(*v2), comparable(sub.versions[1].state));
  const compiler::Table *renamed = v2->findTable(kTableRenamed);
  ASSERT_TRUE(renamed) << comparable(*v2);
  EXPECT_FALSE(v2->findTable(kTable));
  ASSERT_TRUE(renamed->findColumn(kColQuoteRenamed));
  EXPECT_EQ(renamed->findColumn(kColQuoteRenamed)->defaultExpr, "'it''s; DROP TABLE x; --'::text");
  ASSERT_TRUE(renamed->findColumn(kColFrom));
  EXPECT_EQ(renamed->findColumn(kColFrom)->type.name, "bigint");
  ASSERT_TRUE(renamed->findColumn(kColUnicode));
  EXPECT_EQ(renamed->findColumn(kColUnicode)->type.str(), "text");
  EXPECT_TRUE(renamed->findColumn(kColBackslashRenamed));
  EXPECT_FALSE(renamed->findColumn(kColBackslash));
  EXPECT_TRUE(renamed->findIndex(kIndexRenamed));
  EXPECT_TRUE(renamed->findConstraint(kCheckRenamed));
  const compiler::EnumType *mood = v2->findEnum(kEnum);
  ASSERT_TRUE(mood);
  std::vector<std::string> labels = kLabels;
  labels.insert(labels.begin() + 1, kLabelAdded);
  EXPECT_EQ(mood->labels, labels);
  // The row survived, under its new names.
  std::string renamedRowSql = "SELECT " + planner::sql::ident(kColQuoteRenamed) + " || '|' || " +
                              planner::sql::ident(kColBackslashRenamed) + " || '|' || " +
                              planner::sql::ident(kColUnicode) + " || '|' || " +
                              planner::sql::ident(kColSelect) + " || '|' || " +
                              planner::sql::ident(kColFrom) + " FROM ";
  EXPECT_EQ(test::query(*conn, renamedRowSql + planner::sql::ident(kTableRenamed)),
            "it's; DROP TABLE x; --|\\|$$'; --|it's|7");
  // Nothing else was created or dropped along the way: students never existed, x neither.
  EXPECT_EQ(test::query(*conn, "SELECT count(*) FROM pg_class WHERE relnamespace = "
                               "'public'::regnamespace AND relname IN ('students', 'x')"),
            "0");
}

// --- passwords never reach the output ---------------------------------------------------

class PasswordRedaction : public ::testing::Test {
protected:
  void SetUp() override {
    if (!test::serverConnInfo())
      GTEST_SKIP() << "STRATA_TEST_DB is not set";
  }
};

TEST_F(PasswordRedaction, FailedConnectionsNeverPrintThePassword) {
  ProjectDir dir("subsystem app {\n"
                 "  version \"1.0.0\" {\n"
                 "    table t { id uuid primary key }\n"
                 "  }\n"
                 "}\n");
  const std::string secret = "hunter2-S3cret";
  const std::string server = *test::serverConnInfo();
  struct Case {
    const char *what;
    std::string db;
  };
  std::vector<Case> cases = {
      {"unreachable host, key=value", "host=127.0.0.1 port=1 user=app password=" + secret},
      {"unreachable host, URI", "postgresql://app:" + secret + "@127.0.0.1:1/app"},
      {"quoted password", "host=127.0.0.1 port=1 password='" + secret + " x'"},
      // The server answers, and its message names the database: which is the password.
      {"server echoes the secret", server + " dbname=" + secret + " password=" + secret},
      {"unknown role", server + " user=no_such_role password=" + secret},
  };
  for (const Case &c : cases)
    for (std::vector<std::string> args :
         {std::vector<std::string>{"status"}, {"plan", "up"}, {"apply", "up"}, {"reset", "-y"}}) {
      args.insert(args.end(), {"-s", dir.path(), "--db", c.db});
      test::StrataProcess::Outcome o = test::runStrata(args);
      std::string what = std::string(c.what) + ": strata " + args[0];
      EXPECT_NE(o.exitCode, 0) << what << "\n" << show(o);
      EXPECT_NE(o.err.find("strata: error:"), std::string::npos) << what << "\n" << show(o);
      EXPECT_EQ(o.out.find(secret), std::string::npos) << what << "\n" << show(o);
      EXPECT_EQ(o.err.find(secret), std::string::npos) << what << "\n" << show(o);
      EXPECT_EQ(o.err.find("S3cret"), std::string::npos) << what << "\n" << show(o);
    }
}

} // namespace
