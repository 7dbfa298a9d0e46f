// The planner's plans applied to a real PostgreSQL (STRATA_TEST_DB, from scripts/pg.sh;
// skipped without it): the compatibility proof of DESIGN.md, tested.
//
// For every golden plan case that the planner accepts (test/golden/plan/<case>, rejected
// ones are left out; those marked unsafe are in), the example of DESIGN.md and the gateway
// of examples/gateway from three starting points, with
// O the schema of the --from nodes and N that of the --to nodes:
//
// 1. a fresh database A is bootstrapped at O, and O's application workload (inserts,
//    selects and updates of exactly O's columns, test/support/Workload.h) runs;
// 2. `up`: O's workload runs again and N's workload runs, both must succeed (old and new
//    nodes share the database); rows that O wrote read back through N's columns and the
//    other way round, with equal values wherever a column exists for both (renamed
//    columns and tables followed);
// 3. `finish`: N's workload runs again, and every row written so far reads back through
//    N's columns;
// 4. the catalog of A equals that of a fresh database B bootstrapped at N: replaying up and
//    finish gives the same schema as bootstrap(N), with no helper left behind (triggers,
//    functions, views, sequences, NOT VALID constraints, invalid indexes).
//
// A step marked unsafe may break old nodes by the author's decision: a failure of O's
// workload after `up` on the tables of such steps is reported (NOTE) but does not fail
// the test, and O's workload keeps what the author vouches for (N's foreign keys on O's
// columns).
//
// Columns compare as a set, and a different order is only a NOTE: expand/contract puts a
// re-created column last, and a merge folds its branches in its own order.
#include "compiler/Compilation.h"
#include "planner/Planner.h"
#include "planner/Sql.h"
#include "planner/VersionGraph.h"
#include "runtime/Inspector.h"
#include "runtime/Runner.h"
#include "test/support/Catalog.h"
#include "test/support/Upgrade.h"
#include "test/support/Workload.h"

#include <gtest/gtest.h>

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unistd.h>

using namespace strata;
using test::catalogOf;
using test::columnOrderDiff;
using test::Value;
using test::withoutColumnOrder;
using test::Workload;
using test::WorkloadRun;

namespace {

const char *const goldenDir = STRATA_SOURCE_DIR "/test/golden/plan";

// --- the cases ----------------------------------------------------------------------------

struct ApplyCase {
  std::string name;
  std::string path; ///< the buffer name, relative to the repository
  std::string from, to;
};

void PrintTo(const ApplyCase &c, std::ostream *os) {
  *os << c.name << " (--from " << c.from << " --to " << (c.to.empty() ? "latest" : c.to) << ")";
}

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return "";
  return (*buffer)->getBuffer().str();
}

/// `--from X --to Y` of the first line `// plan: ...`.
void readPlanLine(llvm::StringRef text, ApplyCase &c) {
  llvm::StringRef first = text.split('\n').first;
  if (!first.consume_front("// plan:"))
    return;
  llvm::SmallVector<llvm::StringRef, 8> words;
  first.split(words, ' ', -1, /*KeepEmpty=*/false);
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == "--from")
      c.from = words[++i].str();
    else if (words[i] == "--to")
      c.to = words[++i].str();
  }
}

/// Golden plan cases the planner accepts (no `// expect: error` line), and the example.
std::vector<ApplyCase> allCases() {
  std::vector<ApplyCase> out;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(goldenDir, ec), end; it != end && !ec;
       it.increment(ec)) {
    std::string name = llvm::sys::path::filename(it->path()).str();
    std::string text = readFile(it->path() + "/input.strata");
    if (text.empty() || llvm::StringRef(text).contains("// expect: error"))
      continue;
    ApplyCase c{name, "test/golden/plan/" + name + "/input.strata", "", ""};
    readPlanLine(text, c);
    out.push_back(c);
  }
  std::sort(out.begin(), out.end(),
            [](const ApplyCase &a, const ApplyCase &b) { return a.name < b.name; });
  out.push_back({"design", "examples/design/design.strata", "core@1.0.0,rate_limiting@1.0.0", ""});
  // The gateway, every subsystem from its oldest release, and from the 1.0 releases (the
  // main line and the patch branch that 1.2.0 merges), to the latest.
  out.push_back({"gateway_from_0_14", "examples/gateway",
                 "core@0.14.1,acl@1.0.0,key_auth@1.0.0,oauth2@1.0.0,rate_limiting@1.0.0", ""});
  out.push_back({"gateway_from_1_0", "examples/gateway",
                 "core@1.0.0,acl@1.1.0,key_auth@1.0.0,oauth2@1.1.0,rate_limiting@1.0.1", ""});
  out.push_back({"gateway_from_1_0_1", "examples/gateway",
                 "core@1.0.1,acl@1.1.0,key_auth@1.0.0,oauth2@1.1.0,rate_limiting@1.0.1", ""});
  return out;
}

// --- the project --------------------------------------------------------------------------

/// O as the author of an unsafe plan vouches for it: old nodes' writes already obey N's
/// foreign keys on the columns they know (fk_existing_column_unsafe: "every release since
/// 0.9 writes only existing services"), so O's workload writes keys of parent rows there.
compiler::Schema vouchedFor(const compiler::Schema &o, const compiler::Schema &n) {
  compiler::Schema out = o;
  for (const auto &[name, nTable] : n.tables()) {
    const compiler::Table *oTable = o.findTable(name);
    if (!oTable)
      continue;
    for (const compiler::Constraint &c : nTable->constraints) {
      const compiler::Table *parent = o.findTable(c.refTable);
      bool known = c.kind == compiler::ConstraintKind::ForeignKey && parent &&
                   !oTable->findConstraint(c.name) &&
                   llvm::all_of(c.columns, [&](const std::string &col) {
                     return oTable->findColumn(col) != nullptr;
                   }) &&
                   llvm::all_of(c.refColumns, [&](const std::string &col) {
                     return parent->findColumn(col) != nullptr;
                   });
      if (known)
        out.mutableTable(name).constraints.push_back(c);
    }
  }
  return out;
}

// --- the databases ------------------------------------------------------------------------

std::optional<std::string> serverConnInfo() {
  const char *connInfo = std::getenv("STRATA_TEST_DB");
  if (!connInfo || !*connInfo)
    return std::nullopt;
  return std::string(connInfo);
}

/// A database of its own, created on the server and dropped with the object.
class FreshDatabase {
public:
  FreshDatabase(const std::string &caseName, const std::string &suffix) {
    static std::atomic<int> counter{0};
    std::string tail = "_" + suffix + "_" + std::to_string(getpid()) + "_" +
                       std::to_string(counter++);
    std::string raw = "strata_apply_" + caseName;
    for (char &ch : raw)
      ch = llvm::isAlnum(ch) ? llvm::toLower(ch) : '_';
    name = raw.substr(0, 63 - tail.size()) + tail;
    llvm::Expected<runtime::Connection> conn = runtime::Connection::open(*serverConnInfo());
    if (!conn) {
      error = llvm::toString(conn.takeError());
      return;
    }
    admin.emplace(std::move(*conn));
    if (llvm::Expected<runtime::Result> r =
            admin->exec("CREATE DATABASE " + planner::sql::ident(name));
        !r) {
      error = llvm::toString(r.takeError());
      return;
    }
    connInfo = *serverConnInfo() + " dbname=" + name;
  }
  ~FreshDatabase() {
    if (!admin || connInfo.empty())
      return;
    if (llvm::Expected<runtime::Result> r = admin->exec(
            "DROP DATABASE IF EXISTS " + planner::sql::ident(name) + " WITH (FORCE)");
        !r)
      ADD_FAILURE() << "dropping " << name << ": " << llvm::toString(r.takeError());
  }
  FreshDatabase(const FreshDatabase &) = delete;
  FreshDatabase &operator=(const FreshDatabase &) = delete;

  std::string name, connInfo, error;

private:
  std::optional<runtime::Connection> admin;
};

/// One line per row: "table (key): column=value, ...".
std::string describeRows(const std::map<std::string, std::map<std::string, Value>> &rows) {
  std::string out;
  for (const auto &[id, row] : rows) {
    out += id + ":";
    for (const auto &[column, value] : row)
      out += " " + column + "=" + value.value_or("NULL");
    out += "\n";
  }
  return out;
}

// --- the test -----------------------------------------------------------------------------

class ApplyPlan : public testing::TestWithParam<ApplyCase> {
protected:
  void SetUp() override {
    if (!serverConnInfo())
      GTEST_SKIP() << "STRATA_TEST_DB is not set (scripts/pg.sh start)";
    if (GetParam().from.empty())
      GTEST_SKIP() << "no --from: nothing to upgrade";
    p = test::loadUpgrade(GetParam().path, GetParam().from, GetParam().to);
    ASSERT_EQ(p.failure, "");
  }

  /// A runner on \p connInfo for \p targets; its log goes to runLog.
  llvm::Error run(const std::string &connInfo, llvm::ArrayRef<compiler::VersionRef> targets,
                  planner::Phase phase) {
    runtime::RunnerOptions options;
    options.connInfo = connInfo;
    options.targets.assign(targets.begin(), targets.end());
    options.exec.batchSize = 2; // several batches even for the few rows here
    llvm::raw_string_ostream log(runLog);
    return test::runPhase(p, options, phase, log);
  }

  /// The tables of the `up` steps that the author marked unsafe: old nodes may break on
  /// them.
  std::set<std::string> unsafeTables() {
    planner::PlanRequest request;
    request.phase = planner::Phase::Up;
    request.targets = p.to;
    request.start = planner::startingPointFrom(*p.graph, p.from);
    llvm::Expected<planner::Plan> plan =
        planner::makePlan(*p.project, *p.graph, request,
                          [](compiler::SourceRange) { return std::string(); });
    if (!plan) {
      ADD_FAILURE() << llvm::toString(plan.takeError());
      return {};
    }
    std::set<std::string> tables;
    for (const planner::Step &s : plan->steps)
      if (s.unsafe)
        tables.insert(s.lockTables.begin(), s.lockTables.end());
    return tables;
  }

  /// Runs \p schema's workload (a new range of values each time) on \p conn; failures in
  /// the tables of \p mayFail are only reported.
  std::optional<WorkloadRun> workload(runtime::Connection &conn, const compiler::Schema &schema,
                                      const std::string &who, const std::string &when,
                                      const std::set<std::string> &mayFail = {}) {
    test::WorkloadOptions options;
    options.tag = who;
    options.firstValue = ++runs * 1000 + 1;
    llvm::Expected<Workload> w = test::generateWorkload(schema, options);
    if (!w) {
      ADD_FAILURE() << GetParam().name << ": no workload for " << who << ": "
                    << llvm::toString(w.takeError());
      return std::nullopt;
    }
    llvm::Expected<WorkloadRun> r = test::runWorkload(conn, *w, mayFail);
    if (!r) {
      ADD_FAILURE() << GetParam().name << ": " << who << "'s workload " << when << " failed:\n"
                    << llvm::toString(r.takeError()) << "\n--- workload ---\n"
                    << w->str() << "--- runner log ---\n"
                    << runLog;
      return std::nullopt;
    }
    for (const std::string &t : r->tolerated)
      std::cout << "[  NOTE    ] " << GetParam().name << ": " << who << "'s workload " << when
                << ": " << t << "\n  (a table of a step marked unsafe)\n";
    return std::move(*r);
  }

  /// How the writer's names become the reader's.
  enum class Names { Same, OldToNew, NewToOld };

  /// Rows as a reader saw them, by "table (key values)".
  using Rows = std::map<std::string, std::map<std::string, Value>>;

  /// Reads the rows of \p written through \p reader's columns, by \p reader's key, into
  /// \p seen if given. With \p compare, reads them through the writer's columns too, and
  /// checks that every column both know (through renames) has the same value either way.
  void crossRead(runtime::Connection &conn, const WorkloadRun &written,
                 const compiler::Schema &writer, const compiler::Schema &reader, Names names,
                 const std::string &what, bool compare,
                 const std::set<std::string> &mayFail = {}, Rows *seen = nullptr) {
    for (const auto &[table, rows] : written.rows)
      for (const test::WrittenRow &row : rows)
        crossReadRow(conn, table, row, writer, reader, names, what, compare, mayFail, seen);
  }

  void crossReadRow(runtime::Connection &conn, const std::string &table,
                    const test::WrittenRow &row, const compiler::Schema &writer,
                    const compiler::Schema &reader, Names names, const std::string &what,
                    bool compare, const std::set<std::string> &mayFail, Rows *seen) {
    const compiler::Table *wt = writer.findTable(table);
    std::string readerTable = table;
    if (names == Names::OldToNew)
      readerTable = renames.table(table);
    if (names == Names::NewToOld)
      for (const auto &[o, nName] : renames.tables)
        if (nName == table)
          readerTable = o;
    const compiler::Table *rt = reader.findTable(readerTable);
    if (!wt || !rt || row.key.empty())
      return;
    auto toReader = [&](const std::string &column) -> std::string {
      if (names == Names::OldToNew)
        return renames.column(table, column);
      if (names == Names::NewToOld)
        for (const auto &[key, nName] : renames.columns)
          if (key.first == readerTable && nName == column)
            return key.second;
      return column;
    };
    std::map<std::string, std::string> common; // writer column -> reader column
    for (const compiler::Column &c : wt->columns)
      if (rt->findColumn(toReader(c.name)))
        common[c.name] = toReader(c.name);
    // The reader finds the row by its own key, whose values the writer read.
    const compiler::Constraint *rpk = rt->primaryKey();
    const compiler::Constraint *wpk = wt->primaryKey();
    if (!rpk || !wpk)
      return;
    std::vector<Value> readerKey;
    for (const std::string &k : rpk->columns) {
      auto found = llvm::find_if(common, [&](const auto &e) { return e.second == k; });
      if (found == common.end() || !row.read.count(found->first))
        break;
      readerKey.push_back(row.read.at(found->first));
    }
    if (readerKey.size() != rpk->columns.size())
      return; // the reader's key is made of columns the writer does not know
    auto columnsOf = [](const compiler::Table &t) {
      std::vector<std::string> out;
      for (const compiler::Column &c : t.columns)
        out.push_back(c.name);
      return out;
    };
    std::string where = GetParam().name + ": " + what + " (\"" + table + "\")";
    auto report = [&](const std::string &message) {
      if (mayFail.count(table) || mayFail.count(readerTable))
        std::cout << "[  NOTE    ] " << where << ": " << message
                  << "\n  (a table of a step marked unsafe)\n";
      else
        ADD_FAILURE() << where << ": " << message << "\n--- runner log ---\n" << runLog;
    };
    auto asRead = test::readRow(conn, readerTable, columnsOf(*rt), rpk->columns, readerKey);
    if (!asRead) {
      report(llvm::toString(asRead.takeError()));
      return;
    }
    if (seen) {
      std::string id = readerTable + " (";
      for (size_t i = 0; i < readerKey.size(); ++i)
        id += (i ? ", " : "") + readerKey[i].value_or("NULL");
      (*seen)[id + ")"] = *asRead;
    }
    if (!compare)
      return;
    auto asWritten = test::readRow(conn, table, columnsOf(*wt), wpk->columns, row.key);
    if (!asWritten) {
      report(llvm::toString(asWritten.takeError()));
      return;
    }
    for (const auto &[wc, rc] : common)
      EXPECT_EQ(asWritten->at(wc), asRead->at(rc))
          << where << ": \"" << wc << "\" as written, \"" << readerTable << "\".\"" << rc
          << "\" as read";
  }

  test::LoadedUpgrade p;
  test::Renames renames;
  std::string runLog;
  int runs = 0;
};

TEST_P(ApplyPlan, UpServesBothVersionsAndFinishGivesTheBootstrapCatalog) {
  const std::string &name = GetParam().name;
  renames = test::renamesBetween(p);
  std::set<std::string> unsafe = unsafeTables();
  if (!unsafe.empty())
    p.o = vouchedFor(p.o, p.n);

  FreshDatabase a(name, "a");
  ASSERT_EQ(a.error, "");
  if (llvm::Error err = run(a.connInfo, p.from, planner::Phase::Bootstrap))
    FAIL() << name << ": bootstrap of --from: " << llvm::toString(std::move(err)) << "\n" << runLog;
  llvm::Expected<runtime::Connection> app = runtime::Connection::open(a.connInfo);
  ASSERT_TRUE(bool(app)) << llvm::toString(app.takeError());

  // Before the upgrade: old nodes only.
  std::optional<WorkloadRun> oBefore = workload(*app, p.o, "o", "before up");
  ASSERT_TRUE(oBefore);

  if (llvm::Error err = run(a.connInfo, p.to, planner::Phase::Up))
    FAIL() << name << ": up: " << llvm::toString(std::move(err)) << "\n" << runLog;

  // Between up and finish: old and new nodes side by side, each reading what the other
  // wrote.
  std::optional<WorkloadRun> oDuring = workload(*app, p.o, "o", "after up", unsafe);
  std::optional<WorkloadRun> nDuring = workload(*app, p.n, "n", "after up");
  // What new nodes see of every row so far, before and after finish: finish must not
  // change it (a shadow column swapped in, a renamed column's old half dropped).
  Rows beforeFinish, afterFinish;
  crossRead(*app, *oBefore, p.o, p.n, Names::OldToNew,
            "a row old nodes wrote before up, read by new nodes", true, unsafe, &beforeFinish);
  if (oDuring)
    crossRead(*app, *oDuring, p.o, p.n, Names::OldToNew,
              "a row old nodes wrote after up, read by new nodes", true, {}, &beforeFinish);
  if (nDuring) {
    crossRead(*app, *nDuring, p.n, p.o, Names::NewToOld,
              "a row new nodes wrote, read by old nodes", true, unsafe);
    crossRead(*app, *nDuring, p.n, p.n, Names::Same, "a row new nodes wrote", false, {},
              &beforeFinish);
  }

  if (llvm::Error err = run(a.connInfo, p.to, planner::Phase::Finish))
    FAIL() << name << ": finish: " << llvm::toString(std::move(err)) << "\n" << runLog;

  // After finish: new nodes only, with every row written so far.
  workload(*app, p.n, "n", "after finish");
  crossRead(*app, *oBefore, p.o, p.n, Names::OldToNew,
            "after finish, a row old nodes wrote before up", false, {}, &afterFinish);
  if (oDuring)
    crossRead(*app, *oDuring, p.o, p.n, Names::OldToNew,
              "after finish, a row old nodes wrote after up", false, {}, &afterFinish);
  if (nDuring)
    crossRead(*app, *nDuring, p.n, p.n, Names::Same,
              "after finish, a row new nodes wrote after up", false, {}, &afterFinish);
  EXPECT_EQ(describeRows(beforeFinish), describeRows(afterFinish))
      << name << ": finish changed what new nodes read (left: before finish, right: after)";
  std::string replayed = test::catalogOf(*app);

  FreshDatabase b(name, "b");
  ASSERT_EQ(b.error, "");
  if (llvm::Error err = run(b.connInfo, p.to, planner::Phase::Bootstrap))
    FAIL() << name << ": bootstrap of --to: " << llvm::toString(std::move(err)) << "\n" << runLog;
  llvm::Expected<runtime::Connection> fresh = runtime::Connection::open(b.connInfo);
  ASSERT_TRUE(bool(fresh)) << llvm::toString(fresh.takeError());
  std::string bootstrapped = test::catalogOf(*fresh);
  // Columns compare as a set: a column that expand/contract re-creates (a type change
  // through a shadow column, a rename) ends up last, and a merge folds its branches in one
  // order while a database came through them in another. PostgreSQL cannot reorder
  // columns without a rewrite; applications name their columns.
  EXPECT_EQ(test::withoutColumnOrder(bootstrapped), test::withoutColumnOrder(replayed))
      << name << ": up + finish (right) does not give the catalog of bootstrap(N) (left)";
  if (test::withoutColumnOrder(bootstrapped) == test::withoutColumnOrder(replayed) &&
      bootstrapped != replayed)
    std::cout << "[  NOTE    ] " << name << ": same columns in another order than bootstrap(N):\n"
              << test::columnOrderDiff(bootstrapped, replayed);
}

INSTANTIATE_TEST_SUITE_P(Cases, ApplyPlan, testing::ValuesIn(allCases()),
                         [](const testing::TestParamInfo<ApplyCase> &info) {
                           return info.param.name;
                         });

} // namespace
