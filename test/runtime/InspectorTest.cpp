// Integration tests for the Inspector against a real PostgreSQL 15 (STRATA_TEST_DB, from
// scripts/pg.sh; skipped without it). Each test creates its own schema with a unique
// name, inspects only that schema and drops it at the end, so tests never see each
// other's objects nor the database's public schema.
#include "runtime/Inspector.h"
#include "runtime/PgError.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>

using namespace strata;
using compiler::Column;
using compiler::ColumnGeneration;
using compiler::Constraint;
using compiler::ConstraintKind;
using compiler::DataType;
using compiler::Index;
using compiler::IndexColumn;
using compiler::NullsOrder;
using compiler::RefAction;
using compiler::Schema;
using compiler::SortOrder;
using compiler::Table;
using runtime::Connection;
using runtime::Inspection;
using runtime::InspectOptions;
using runtime::PgError;
using runtime::Result;

// Readable gtest output for the model's values in failed expectations.
namespace strata::compiler {
void PrintTo(const DataType &type, std::ostream *os) { // NOLINT(readability-identifier-naming)
  *os << type.str() << (type.isEnum ? " (enum)" : "");
}
void PrintTo(const IndexColumn &e, std::ostream *os) { // NOLINT(readability-identifier-naming)
  *os << "{column \"" << e.column << "\", expr \"" << e.expr << "\", opclass \"" << e.opclass
      << "\", order " << static_cast<int>(e.order) << ", nulls " << static_cast<int>(e.nulls)
      << "}";
}
} // namespace strata::compiler

namespace {

std::optional<std::string> testDb() {
  const char *connInfo = std::getenv("STRATA_TEST_DB");
  if (!connInfo || !*connInfo)
    return std::nullopt;
  return std::string(connInfo);
}

DataType type(std::string name, std::vector<int64_t> mods = {}, unsigned arrayDims = 0) {
  DataType t;
  t.name = std::move(name);
  t.mods = std::move(mods);
  t.arrayDims = arrayDims;
  return t;
}

IndexColumn column(std::string name, SortOrder order = SortOrder::Default,
                   NullsOrder nulls = NullsOrder::Default) {
  IndexColumn e;
  e.column = std::move(name);
  e.order = order;
  e.nulls = nulls;
  return e;
}

IndexColumn expression(std::string expr) {
  IndexColumn e;
  e.expr = std::move(expr);
  return e;
}

class InspectorTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (!testDb())
      GTEST_SKIP() << "STRATA_TEST_DB is not set (run scripts/test.sh)";
    llvm::Expected<Connection> opened = Connection::open(*testDb());
    ASSERT_TRUE(static_cast<bool>(opened)) << llvm::toString(opened.takeError());
    session.emplace(std::move(*opened));
    const ::testing::TestInfo *info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix = std::string("inspector_") + info->name() + "_" + std::to_string(getpid());
  }

  void TearDown() override {
    if (!session)
      return;
    for (const std::string &schema : created)
      run("drop schema if exists \"" + schema + "\" cascade");
  }

  Connection &conn() { return *session; }

  /// A fresh schema named after the test (plus \p suffix), dropped in TearDown.
  std::string makeSchema(const std::string &suffix = "") {
    std::string name = prefix + suffix;
    run("drop schema if exists \"" + name + "\" cascade");
    run("create schema \"" + name + "\"");
    created.push_back(name);
    return name;
  }

  /// Runs \p sql with \p schema as the search_path, so the DDL can be written unqualified.
  void runIn(const std::string &schema, const std::string &sql) {
    run("set search_path = \"" + schema + "\"; " + sql + "; reset search_path");
  }

  void run(const std::string &sql) {
    llvm::Expected<Result> res = conn().exec(sql);
    ASSERT_TRUE(static_cast<bool>(res)) << sql << "\n" << llvm::toString(res.takeError());
  }

  Inspection inspectOk(const std::string &schema) {
    InspectOptions options;
    options.schema = schema;
    llvm::Expected<Inspection> out = runtime::inspect(conn(), options);
    EXPECT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    if (!out)
      return {};
    return std::move(*out);
  }

  Schema inspectSchemaOk(const std::string &schema) {
    InspectOptions options;
    options.schema = schema;
    llvm::Expected<Schema> out = runtime::inspectSchema(conn(), options);
    EXPECT_TRUE(static_cast<bool>(out)) << llvm::toString(out.takeError());
    if (!out)
      return {};
    return std::move(*out);
  }

  std::optional<Connection> session;
  std::string prefix;
  std::vector<std::string> created;
};

// Covers every feature the model has; each assertion names the catalog fact it reads.
const char *featureDdl = R"sql(
create type mood as enum ('sad', 'ok', 'happy', 'very happy');
create table parent (
  id uuid primary key,
  a integer,
  b integer,
  unique (a, b)
);
create table items (
  id uuid primary key,
  name text not null default 'x',
  retries bigint default 5,
  price numeric(10,2),
  code varchar(20),
  seen_at timestamp(3) with time zone default now(),
  tags text[],
  grid int[][],
  feeling mood default 'ok',
  ia integer generated always as identity,
  ib bigint generated by default as identity,
  s serial,
  bs bigserial,
  port integer,
  pa integer,
  pb integer,
  constraint port_range check (port > 0 and port < 65536),
  check (retries >= 0),
  constraint code_not_paren check (code <> ')('),
  unique (name, code),
  foreign key (pa, pb) references parent (a, b) on delete cascade on update set null
);
alter table items add constraint retries_small check (retries < 100) not valid;
create unique index items_partial_key on items (name) where retries > 3;
create index items_lower_idx on items (lower(name));
create index items_desc_idx on items (retries desc nulls last, price nulls first);
create index items_tags_idx on items using gin (tags);
create index items_pattern_idx on items (name text_pattern_ops);
create index items_code_idx on items (code);
create index items_sum_idx on items ((pa + pb));
create index items_feeling_idx on items (feeling);
)sql";

TEST_F(InspectorTest, ReadsEveryFeature) {
  std::string schema = makeSchema();
  runIn(schema, featureDdl);
  Inspection out = inspectOk(schema);
  const Schema &s = out.schema;

  ASSERT_EQ(s.enums().size(), 1u);
  const compiler::EnumType *mood = s.findEnum("mood");
  ASSERT_NE(mood, nullptr);
  EXPECT_EQ(mood->labels, (std::vector<std::string>{"sad", "ok", "happy", "very happy"}));
  EXPECT_EQ(mood->owner, "");

  ASSERT_EQ(s.tables().size(), 2u);
  const Table *items = s.findTable("items");
  ASSERT_NE(items, nullptr);
  EXPECT_EQ(items->owner, "");

  // Columns, in attnum order.
  std::vector<std::string> names;
  for (const Column &c : items->columns)
    names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "name", "retries", "price", "code", "seen_at",
                                             "tags", "grid", "feeling", "ia", "ib", "s", "bs",
                                             "port", "pa", "pb"}));

  auto col = [&](llvm::StringRef name) -> const Column & {
    static const Column missing;
    const Column *c = items->findColumn(name);
    if (!c)
      ADD_FAILURE() << "no column " << name.str();
    return c ? *c : missing;
  };
  EXPECT_EQ(col("id").type, type("uuid"));
  EXPECT_TRUE(col("id").notNull); // primary key
  EXPECT_EQ(col("id").defaultExpr, "");
  EXPECT_EQ(col("id").generation, ColumnGeneration::None);

  EXPECT_EQ(col("name").type, type("text"));
  EXPECT_TRUE(col("name").notNull);
  EXPECT_EQ(col("name").defaultExpr, "'x'::text");

  EXPECT_EQ(col("retries").type, type("bigint"));
  EXPECT_FALSE(col("retries").notNull);
  EXPECT_EQ(col("retries").defaultExpr, "5");

  EXPECT_EQ(col("price").type, type("numeric", {10, 2}));
  EXPECT_EQ(col("price").type.str(), "numeric(10,2)");
  EXPECT_EQ(col("code").type, type("character varying", {20}));
  EXPECT_EQ(col("code").type.str(), "character varying(20)");
  EXPECT_EQ(col("seen_at").type, type("timestamp with time zone", {3}));
  EXPECT_EQ(col("seen_at").type.str(), "timestamp(3) with time zone");
  EXPECT_EQ(col("seen_at").defaultExpr, "now()");

  EXPECT_EQ(col("tags").type, type("text", {}, 1));
  EXPECT_EQ(col("tags").type.str(), "text[]");
  // int[][] is stored as integer[] with attndims 2, but format_type (and PostgreSQL
  // itself) knows only "an array of integer": dimensions are not enforced.
  EXPECT_EQ(col("grid").type, type("integer", {}, 1));

  EXPECT_EQ(col("feeling").type, type("mood"));
  EXPECT_TRUE(col("feeling").type.isEnum);
  EXPECT_EQ(col("feeling").type.schema, "");
  EXPECT_EQ(col("feeling").defaultExpr, "'ok'::mood");

  EXPECT_EQ(col("ia").type, type("integer"));
  EXPECT_EQ(col("ia").generation, ColumnGeneration::IdentityAlways);
  EXPECT_TRUE(col("ia").notNull);
  EXPECT_EQ(col("ia").defaultExpr, "");
  EXPECT_EQ(col("ib").type, type("bigint"));
  EXPECT_EQ(col("ib").generation, ColumnGeneration::IdentityByDefault);
  EXPECT_EQ(col("ib").defaultExpr, "");

  EXPECT_EQ(col("s").type, type("integer"));
  EXPECT_EQ(col("s").generation, ColumnGeneration::Serial);
  EXPECT_TRUE(col("s").notNull);
  EXPECT_EQ(col("s").defaultExpr, "");
  EXPECT_EQ(col("bs").type, type("bigint"));
  EXPECT_EQ(col("bs").generation, ColumnGeneration::Serial);
  EXPECT_EQ(col("bs").defaultExpr, "");

  // Constraints.
  EXPECT_EQ(items->constraints.size(), 7u);
  const Constraint *pk = items->primaryKey();
  ASSERT_NE(pk, nullptr);
  EXPECT_EQ(pk->name, "items_pkey");
  EXPECT_EQ(pk->columns, (std::vector<std::string>{"id"}));

  const Constraint *unique = items->findConstraint("items_name_code_key");
  ASSERT_NE(unique, nullptr);
  EXPECT_EQ(unique->kind, ConstraintKind::Unique);
  EXPECT_EQ(unique->columns, (std::vector<std::string>{"name", "code"}));

  const Constraint *named = items->findConstraint("port_range");
  ASSERT_NE(named, nullptr);
  EXPECT_EQ(named->kind, ConstraintKind::Check);
  EXPECT_EQ(named->check, "(port > 0) AND (port < 65536)");
  EXPECT_EQ(named->columns, (std::vector<std::string>{"port"}));

  const Constraint *unnamed = items->findConstraint("items_retries_check");
  ASSERT_NE(unnamed, nullptr);
  EXPECT_EQ(unnamed->kind, ConstraintKind::Check);
  EXPECT_EQ(unnamed->check, "retries >= 0");
  EXPECT_EQ(unnamed->columns, (std::vector<std::string>{"retries"}));

  // Parentheses inside a string literal do not fool the outer-parentheses check.
  const Constraint *paren = items->findConstraint("code_not_paren");
  ASSERT_NE(paren, nullptr);
  EXPECT_EQ(paren->check, "(code)::text <> ')('::text");

  const Constraint *notValid = items->findConstraint("retries_small");
  ASSERT_NE(notValid, nullptr);
  EXPECT_EQ(notValid->check, "retries < 100");
  EXPECT_EQ(out.notValidConstraints,
            (std::vector<runtime::ConstraintRef>{{"items", "retries_small"}}));

  const Constraint *fk = items->findConstraint("items_pa_pb_fkey");
  ASSERT_NE(fk, nullptr);
  EXPECT_EQ(fk->kind, ConstraintKind::ForeignKey);
  EXPECT_EQ(fk->columns, (std::vector<std::string>{"pa", "pb"}));
  EXPECT_EQ(fk->refTable, "parent");
  EXPECT_EQ(fk->refColumns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(fk->onDelete, RefAction::Cascade);
  EXPECT_EQ(fk->onUpdate, RefAction::SetNull);
  EXPECT_EQ(fk->check, "");

  // Indexes: the ones backing items_pkey and items_name_code_key are the constraints'.
  std::vector<std::string> indexNames;
  for (const Index &i : items->indexes)
    indexNames.push_back(i.name);
  std::sort(indexNames.begin(), indexNames.end());
  EXPECT_EQ(indexNames,
            (std::vector<std::string>{"items_code_idx", "items_desc_idx", "items_feeling_idx",
                                      "items_lower_idx", "items_partial_key", "items_pattern_idx",
                                      "items_sum_idx", "items_tags_idx"}));

  const Index *partial = items->findIndex("items_partial_key");
  ASSERT_NE(partial, nullptr);
  EXPECT_TRUE(partial->unique);
  EXPECT_EQ(partial->method, "btree");
  EXPECT_EQ(partial->elems, (std::vector<IndexColumn>{column("name")}));
  EXPECT_EQ(partial->where, "retries > 3");

  const Index *lower = items->findIndex("items_lower_idx");
  ASSERT_NE(lower, nullptr);
  EXPECT_FALSE(lower->unique);
  EXPECT_EQ(lower->elems, (std::vector<IndexColumn>{expression("lower(name)")}));
  EXPECT_EQ(lower->where, "");

  const Index *sum = items->findIndex("items_sum_idx");
  ASSERT_NE(sum, nullptr);
  EXPECT_EQ(sum->elems, (std::vector<IndexColumn>{expression("pa + pb")}));

  const Index *desc = items->findIndex("items_desc_idx");
  ASSERT_NE(desc, nullptr);
  // DESC NULLS LAST is not DESC's default; NULLS FIRST is not ASC's.
  EXPECT_EQ(desc->elems,
            (std::vector<IndexColumn>{column("retries", SortOrder::Desc, NullsOrder::Last),
                                      column("price", SortOrder::Default, NullsOrder::First)}));

  const Index *gin = items->findIndex("items_tags_idx");
  ASSERT_NE(gin, nullptr);
  EXPECT_EQ(gin->method, "gin");
  EXPECT_EQ(gin->elems, (std::vector<IndexColumn>{column("tags")})); // array_ops is the default

  const Index *pattern = items->findIndex("items_pattern_idx");
  ASSERT_NE(pattern, nullptr);
  IndexColumn patternElem = column("name");
  patternElem.opclass = "text_pattern_ops";
  EXPECT_EQ(pattern->elems, (std::vector<IndexColumn>{patternElem}));

  // varchar has no default btree opclass of its own; text_ops, binary-compatible, is it.
  const Index *code = items->findIndex("items_code_idx");
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->elems, (std::vector<IndexColumn>{column("code")}));

  // Enums use the polymorphic enum_ops (anyenum): the default too.
  const Index *feeling = items->findIndex("items_feeling_idx");
  ASSERT_NE(feeling, nullptr);
  EXPECT_EQ(feeling->elems, (std::vector<IndexColumn>{column("feeling")}));

  const Table *parent = s.findTable("parent");
  ASSERT_NE(parent, nullptr);
  EXPECT_EQ(parent->indexes.size(), 0u);
  ASSERT_NE(parent->findConstraint("parent_a_b_key"), nullptr);
  EXPECT_EQ(parent->findConstraint("parent_a_b_key")->columns,
            (std::vector<std::string>{"a", "b"}));

  EXPECT_TRUE(out.invalidIndexes.empty());
  EXPECT_TRUE(out.unsupported.empty()) << out.unsupported.front();
}

TEST_F(InspectorTest, SameDdlInspectsEqual) {
  std::string first = makeSchema("_a");
  std::string second = makeSchema("_b");
  runIn(first, featureDdl);
  runIn(second, featureDdl);
  Schema a = inspectSchemaOk(first);
  Schema b = inspectSchemaOk(second);
  EXPECT_EQ(runtime::describeSchema(a), runtime::describeSchema(b));
  EXPECT_TRUE(a == b);

  runIn(second, "alter table items alter column retries set default 6");
  Schema changed = inspectSchemaOk(second);
  EXPECT_FALSE(a == changed);
  EXPECT_NE(runtime::describeSchema(a), runtime::describeSchema(changed));
}

TEST_F(InspectorTest, DescribeSchemaIsOneSortedLinePerObject) {
  std::string schema = makeSchema();
  runIn(schema, R"sql(
    create type color as enum ('red', 'green');
    create table t (
      id bigint generated always as identity primary key,
      c color not null,
      n text default 'a''b',
      check (length(n) > 1)
    );
    create index t_n_idx on t (n desc) where (n is not null);
  )sql");
  Schema s = inspectSchemaOk(schema);
  EXPECT_EQ(runtime::describeSchema(s),
            "enum color ('red', 'green')\n"
            "table t\n"
            "table t column 001 id bigint not null generated always as identity\n"
            "table t column 002 c color (enum) not null\n"
            "table t column 003 n text default 'a''b'::text\n"
            "table t constraint t_n_check check (length(n) > 1) on (n)\n"
            "table t constraint t_pkey primary key (id)\n"
            "table t index t_n_idx using btree (n desc) where (n IS NOT NULL)\n");
}

TEST_F(InspectorTest, IdentifiersComeBackUnquoted) {
  std::string schema = makeSchema("_Mixed Case");
  runIn(schema, R"sql(
    create type "Odd ""Enum""" as enum ('a,b', 'NULL', '');
    create table "Order Items" (
      "Id" integer primary key,
      "select" text,
      "x,y" "Odd ""Enum""",
      unique ("select", "x,y")
    );
    create index "Mixed Idx" on "Order Items" ("select" desc, upper("select"));
  )sql");
  Schema s = inspectSchemaOk(schema);
  const compiler::EnumType *odd = s.findEnum("Odd \"Enum\"");
  ASSERT_NE(odd, nullptr);
  EXPECT_EQ(odd->labels, (std::vector<std::string>{"a,b", "NULL", ""}));
  const Table *t = s.findTable("Order Items");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->columns.size(), 3u);
  EXPECT_EQ(t->columns[0].name, "Id");
  EXPECT_EQ(t->columns[1].name, "select");
  EXPECT_EQ(t->columns[2].name, "x,y");
  EXPECT_EQ(t->columns[2].type.name, "Odd \"Enum\"");
  EXPECT_EQ(t->columns[2].type.schema, "");
  EXPECT_TRUE(t->columns[2].type.isEnum);
  ASSERT_NE(t->findConstraint("Order Items_pkey"), nullptr);
  const Constraint *unique = t->findConstraint("Order Items_select_x,y_key");
  ASSERT_NE(unique, nullptr);
  EXPECT_EQ(unique->columns, (std::vector<std::string>{"select", "x,y"}));
  const Index *index = t->findIndex("Mixed Idx");
  ASSERT_NE(index, nullptr);
  // Expressions keep PostgreSQL's quoting: they are SQL text, not names.
  EXPECT_EQ(index->elems, (std::vector<IndexColumn>{column("select", SortOrder::Desc),
                                                    expression("upper(\"select\")")}));
}

TEST_F(InspectorTest, TypesFromOtherSchemasAreQualified) {
  std::string other = makeSchema("_other");
  std::string schema = makeSchema();
  runIn(other, "create type level as enum ('low', 'high')");
  run("create table \"" + schema + "\".t (l \"" + other + "\".level[] default '{low}', " +
      "c char(3), b bit varying(8), iv interval, tm time(2))");
  Schema s = inspectSchemaOk(schema);
  const Table *t = s.findTable("t");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->columns.size(), 5u);
  DataType level = type("level", {}, 1);
  level.schema = other;
  EXPECT_EQ(t->columns[0].type, level);
  EXPECT_TRUE(t->columns[0].type.isEnum);
  EXPECT_EQ(t->columns[0].defaultExpr, "'{low}'::\"" + other + "\".level[]");
  EXPECT_EQ(t->columns[1].type, type("character", {3}));
  EXPECT_EQ(t->columns[2].type, type("bit varying", {8}));
  EXPECT_EQ(t->columns[3].type, type("interval"));
  EXPECT_EQ(t->columns[4].type, type("time without time zone", {2}));
  EXPECT_EQ(t->columns[4].type.str(), "time(2) without time zone");
  // Only the inspected schema's own objects are read.
  EXPECT_EQ(s.enums().size(), 0u);
}

TEST_F(InspectorTest, ExcludesStateTablesAndNamedTables) {
  std::string schema = makeSchema();
  runIn(schema, "create table strata_nodes (id int); create table keep (id int);"
                "create table skip_me (id int); create table \"Strata_x\" (id int);"
                "create table empty_table ()");
  InspectOptions options;
  options.schema = schema;
  options.excludeTables = {"skip_me"};
  llvm::Expected<Schema> s = runtime::inspectSchema(conn(), options);
  ASSERT_TRUE(static_cast<bool>(s)) << llvm::toString(s.takeError());
  std::vector<std::string> names;
  for (const auto &[name, _] : s->tables())
    names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"Strata_x", "empty_table", "keep"}));
  EXPECT_TRUE(s->findTable("empty_table")->columns.empty());

  options.excludePrefix.clear();
  options.excludeTables.clear();
  llvm::Expected<Schema> all = runtime::inspectSchema(conn(), options);
  ASSERT_TRUE(static_cast<bool>(all)) << llvm::toString(all.takeError());
  EXPECT_EQ(all->tables().size(), 5u);
}

TEST_F(InspectorTest, SerialNeedsTheOwnedSequence) {
  std::string schema = makeSchema();
  runIn(schema, R"sql(
    create sequence loose_seq;
    create table t (
      a serial,
      b integer default nextval('loose_seq'),
      c integer
    );
    create sequence owned_seq owned by t.c;
    alter table t alter column c set default nextval('owned_seq') + 1;
  )sql");
  Schema s = inspectSchemaOk(schema);
  const Table *t = s.findTable("t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->findColumn("a")->generation, ColumnGeneration::Serial);
  EXPECT_EQ(t->findColumn("b")->generation, ColumnGeneration::None);
  EXPECT_EQ(t->findColumn("b")->defaultExpr, "nextval('loose_seq'::regclass)");
  EXPECT_EQ(t->findColumn("c")->generation, ColumnGeneration::None);
  EXPECT_EQ(t->findColumn("c")->defaultExpr, "(nextval('owned_seq'::regclass) + 1)");
}

TEST_F(InspectorTest, InvalidIndexIsReportedApart) {
  std::string schema = makeSchema();
  runIn(schema, "create table t (id int, v int); insert into t values (1, 1), (2, 1)");
  // A failed CREATE INDEX CONCURRENTLY leaves its index behind, marked invalid.
  llvm::Expected<Result> failed =
      conn().exec("create unique index concurrently t_v_key on \"" + schema + "\".t (v)");
  ASSERT_FALSE(static_cast<bool>(failed));
  llvm::consumeError(failed.takeError());

  Inspection out = inspectOk(schema);
  const Table *t = out.schema.findTable("t");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->indexes.empty());
  ASSERT_EQ(out.invalidIndexes.size(), 1u);
  EXPECT_EQ(out.invalidIndexes[0].table, "t");
  EXPECT_EQ(out.invalidIndexes[0].index.name, "t_v_key");
  EXPECT_TRUE(out.invalidIndexes[0].index.unique);
  EXPECT_EQ(out.invalidIndexes[0].index.elems, (std::vector<IndexColumn>{column("v")}));
}

TEST_F(InspectorTest, UnsupportedFeaturesAreListed) {
  std::string schema = makeSchema();
  runIn(schema, R"sql(
    create table p (id int primary key);
    create table t (
      a int,
      b int generated always as (a * 2) stored,
      c int references p (id) deferrable
    );
    create index t_a_idx on t (a) include (b);
  )sql");
  Inspection out = inspectOk(schema);
  const Table *t = out.schema.findTable("t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->findColumn("b")->defaultExpr, "");
  EXPECT_EQ(out.unsupported,
            (std::vector<std::string>{
                "column \"b\" of table \"t\" is generated ((a * 2)); read as a plain column",
                "constraint \"t_c_fkey\" on table \"t\" is deferrable",
                "index \"t_a_idx\" on table \"t\" has INCLUDE columns; read without them"}));
}

TEST_F(InspectorTest, MissingSchemaIsAnError) {
  InspectOptions options;
  options.schema = prefix + "_missing";
  llvm::Expected<Schema> s = runtime::inspectSchema(conn(), options);
  ASSERT_FALSE(static_cast<bool>(s));
  llvm::Error error = s.takeError();
  ASSERT_TRUE(error.isA<PgError>());
  llvm::handleAllErrors(std::move(error), [&](const PgError &pg) {
    EXPECT_EQ(pg.sqlState(), "3F000");
    EXPECT_EQ(pg.primaryMessage(), "schema \"" + options.schema + "\" does not exist");
  });
  // The transaction was ended: the session is usable and its search_path untouched.
  llvm::Expected<Result> res = conn().exec("select current_setting('search_path')");
  ASSERT_TRUE(static_cast<bool>(res)) << llvm::toString(res.takeError());
  EXPECT_EQ(res->get(0, 0), "\"$user\", public");
}

} // namespace
