// Workload generation, as text: what goes into the INSERT, SELECT and UPDATE of a table,
// the order of tables, and what cannot be generated. Running workloads against a database
// is what test/planner/ApplyPlanTest.cpp does.
#include "test/support/Workload.h"

#include "compiler/Compilation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace strata;
using test::generateWorkload;
using test::TableWorkload;
using test::Workload;
using ::testing::HasSubstr;

namespace {

/// The state of the last version of the project's only subsystem.
compiler::Schema stateOf(const std::string &text) {
  compiler::Compilation compilation;
  compilation.addSource("workload.strata", text);
  const compiler::Project *project = compilation.run();
  if (!project) {
    std::string diags;
    llvm::raw_string_ostream os(diags);
    compilation.diagnostics().render(os, false);
    ADD_FAILURE() << "the project does not compile:\n" << os.str();
    return {};
  }
  return project->subsystems[0].versions.back().state;
}

/// Declared parents first, but "routes" sorts before "services".
const char *gateway = R"(
subsystem core {
  version "1.0.0" {
    enum protocol { http, https }
    table services {
      id        uuid primary key
      seq       bigserial
      name      text not null unique
      port      integer not null default 80
      protocol  protocol not null
      enabled   boolean
      payload   jsonb
      created   timestamptz
      weight    double precision
    }
    table routes {
      id         uuid primary key
      service_id uuid not null references services(id)
      name       varchar(3)
      tags       text[]
    }
  }
}
)";

TEST(WorkloadTest, ParentsFirstAndOnlyWhatTheVersionWrites) {
  llvm::Expected<Workload> w = generateWorkload(stateOf(gateway), {"o", 100});
  ASSERT_TRUE(bool(w)) << llvm::toString(w.takeError());
  ASSERT_EQ(w->tables.size(), 2u);
  EXPECT_EQ(w->tables[0].table, "services");
  EXPECT_EQ(w->tables[1].table, "routes");

  const TableWorkload &services = w->tables[0];
  // The serial and the column with a default are left to the database; the enum gets
  // its first label; the key and the referenced column come back.
  EXPECT_EQ(services.insert,
            "INSERT INTO \"services\" (\"id\", \"name\", \"protocol\", \"enabled\", \"payload\", "
            "\"created\", \"weight\") VALUES (gen_random_uuid(), 'o100', 'http', true, '{}', "
            "now() + interval '1 day', 1.5) RETURNING \"id\"");
  EXPECT_EQ(services.select,
            "SELECT \"id\", \"seq\", \"name\", \"port\", \"protocol\", \"enabled\", \"payload\", "
            "\"created\", \"weight\" FROM \"services\" WHERE \"id\" = $1");
  // Only the NOT NULL columns without default, with values of their own (name is unique).
  EXPECT_EQ(services.insertMinimal,
            "INSERT INTO \"services\" (\"id\", \"name\", \"protocol\") VALUES "
            "(gen_random_uuid(), 'o101', 'http') RETURNING \"id\"");
  // One column per UPDATE, the last first; neither the key nor the serial.
  ASSERT_EQ(services.updates.size(), 7u);
  EXPECT_EQ(services.updates[0], "UPDATE \"services\" SET \"weight\" = 1.5 WHERE \"id\" = $1");
  EXPECT_EQ(services.updates[6], "UPDATE \"services\" SET \"name\" = 'o103' WHERE \"id\" = $1");

  const TableWorkload &routes = w->tables[1];
  // The foreign key is the parent's row; varchar(3) keeps the end of the text.
  EXPECT_EQ(routes.insert, "INSERT INTO \"routes\" (\"id\", \"service_id\", \"name\", \"tags\") "
                           "VALUES (gen_random_uuid(), $1, '104', '{}') RETURNING \"id\"");
  // The minimal row: the key and the foreign key only.
  EXPECT_EQ(routes.insertMinimal, "INSERT INTO \"routes\" (\"id\", \"service_id\") VALUES "
                                  "(gen_random_uuid(), $1) RETURNING \"id\"");
  ASSERT_EQ(routes.foreign.size(), 1u);
  EXPECT_EQ(routes.foreign[0].param, 1u);
  EXPECT_EQ(routes.foreign[0].parentTable, "services");
  EXPECT_EQ(routes.foreign[0].parentColumn, "id");
  // The foreign key is not updated.
  EXPECT_EQ(routes.updates,
            std::vector<std::string>({"UPDATE \"routes\" SET \"tags\" = '{}' WHERE \"id\" = $1",
                                      "UPDATE \"routes\" SET \"name\" = '105' WHERE \"id\" = $1"}));
}

TEST(WorkloadTest, ValuesDifferFromRunToRun) {
  compiler::Schema s = stateOf(gateway);
  llvm::Expected<Workload> a = generateWorkload(s, {"o", 1});
  llvm::Expected<Workload> b = generateWorkload(s, {"o", 1000});
  ASSERT_TRUE(a && b);
  EXPECT_THAT(a->tables[0].insert, HasSubstr("'o1'"));
  EXPECT_THAT(b->tables[0].insert, HasSubstr("'o1000'"));
}

TEST(WorkloadTest, QuotesNamesAndCompositeKeys) {
  llvm::Expected<Workload> w = generateWorkload(stateOf(R"(
subsystem core {
  version "1.0.0" {
    table "Odd ""Name""" {
      identifier text not null
      period     timestamptz not null
      value      integer
      primary key (identifier, period)
    }
  }
}
)"));
  ASSERT_TRUE(bool(w)) << llvm::toString(w.takeError());
  ASSERT_EQ(w->tables.size(), 1u);
  EXPECT_EQ(w->tables[0].insert, "INSERT INTO \"Odd \"\"Name\"\"\" (\"identifier\", \"period\", "
                                 "\"value\") VALUES ('w1', now() + interval '1 day', 2) RETURNING \"identifier\", "
                                 "\"period\"");
  EXPECT_EQ(w->tables[0].select, "SELECT \"identifier\", \"period\", \"value\" FROM \"Odd "
                                 "\"\"Name\"\"\" WHERE \"identifier\" = $1 AND \"period\" = $2");
}

TEST(WorkloadTest, ColumnsUnderACheckAreNullWhereTheyMayBe) {
  llvm::Expected<Workload> w = generateWorkload(stateOf(R"(
subsystem core {
  version "1.0.0" {
    table routes {
      id     uuid primary key
      status integer check (status in (301, 302))
      port   integer not null check (port > 0)
      name   text
    }
  }
}
)"));
  ASSERT_TRUE(bool(w)) << llvm::toString(w.takeError());
  EXPECT_EQ(w->tables[0].insert, "INSERT INTO \"routes\" (\"id\", \"port\", \"name\") VALUES "
                                 "(gen_random_uuid(), 1, 'w2') RETURNING \"id\"");
  EXPECT_EQ(w->tables[0].updates,
            std::vector<std::string>({"UPDATE \"routes\" SET \"name\" = 'w4' WHERE \"id\" = $1"}));
}

TEST(WorkloadTest, RefusesNotNullColumnsItCannotFill) {
  llvm::Expected<Workload> w = generateWorkload(stateOf(R"(
subsystem core {
  version "1.0.0" {
    table accounts {
      id      uuid primary key
      balance money not null
    }
  }
}
)"));
  ASSERT_FALSE(bool(w));
  EXPECT_THAT(llvm::toString(w.takeError()), HasSubstr("\"balance\""));
}

} // namespace
