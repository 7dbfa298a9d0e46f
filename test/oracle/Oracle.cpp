#include "test/oracle/Oracle.h"

#include "test/oracle/VersionWorkload.h"

#include "compiler/Compilation.h"
#include "planner/PlanFormat.h"
#include "planner/Planner.h"
#include "planner/Sql.h"
#include "test/support/Catalog.h"
#include "test/support/Upgrade.h"

#include <llvm/ADT/STLExtras.h>
#include <llvm/Support/raw_ostream.h>

#include <map>
#include <regex>
#include <set>
#include <unistd.h>

namespace strata::oracle {

namespace sql = planner::sql;
using compiler::OpKind;

std::string OracleFinding::what() const { return who.empty() ? kind : kind + " (" + who + ")"; }

std::string OracleFinding::str() const {
  std::string out = what();
  if (!table.empty())
    out += " on \"" + table + "\"";
  if (warned)
    out += " [warned by the proof]";
  out += "\n";
  if (!statement.empty())
    out += "  statement: " + statement + "\n";
  if (!expected.empty())
    out += "  expected:  " + expected + "\n";
  out += "  actual:    " + actual + "\n";
  return out;
}

bool PairResult::unsound() const { return firstUnsound() != nullptr; }

const OracleFinding *PairResult::firstUnsound() const {
  for (const OracleFinding &f : findings)
    if (!f.warned)
      return &f;
  return nullptr;
}

namespace {

/// What a statement did: "ok <tag> <values>" or "error <SQLSTATE>".
struct Outcome {
  bool ok = false;
  std::string tag;                                ///< command tag, or the SQLSTATE
  std::vector<std::string> columns;               ///< SELECT: column names
  std::vector<std::optional<std::string>> values; ///< SELECT: the row (first one)
  int rows = 0;
  std::string message;

  std::string str() const {
    if (!ok)
      return "error " + tag + ": " + message;
    std::string out = tag;
    for (size_t i = 0; i < values.size(); ++i)
      out += " " + columns[i] + "=" + values[i].value_or("NULL");
    return out;
  }
};

Outcome execute(runtime::Connection &conn, const std::string &text) {
  Outcome o;
  llvm::Expected<runtime::Result> r = conn.exec(text);
  if (!r) {
    o.message = llvm::toString(r.takeError());
    static const std::regex state(R"(SQLSTATE ([0-9A-Z]{5}))");
    std::smatch m;
    o.tag = std::regex_search(o.message, m, state) ? m[1].str() : "?????";
    return o;
  }
  o.ok = true;
  o.tag = r->command().str();
  o.rows = r->rows();
  if (r->rows() > 0)
    for (int c = 0; c < r->cols(); ++c) {
      o.columns.push_back(r->columnName(c).str());
      o.values.push_back(r->isNull(0, c) ? std::nullopt
                                         : std::optional<std::string>(r->get(0, c).str()));
    }
  return o;
}

/// A database created for one pair and dropped with the object.
class PairDatabase {
public:
  PairDatabase(runtime::Connection &admin, const std::string &server, const std::string &name)
      : admin(admin), name(name) {
    Outcome dropped =
        execute(admin, "DROP DATABASE IF EXISTS " + sql::ident(name) + " WITH (FORCE)");
    Outcome created = execute(admin, "CREATE DATABASE " + sql::ident(name));
    if (!created.ok) {
      failure = created.message;
      return;
    }
    (void)dropped;
    connInfo = server + " dbname=" + name;
  }
  ~PairDatabase() {
    if (failure.empty())
      (void)execute(admin, "DROP DATABASE IF EXISTS " + sql::ident(name) + " WITH (FORCE)");
  }
  PairDatabase(const PairDatabase &) = delete;
  PairDatabase &operator=(const PairDatabase &) = delete;

  std::optional<runtime::Connection> connect() {
    llvm::Expected<runtime::Connection> c = runtime::Connection::open(connInfo);
    if (!c) {
      failure = llvm::toString(c.takeError());
      return std::nullopt;
    }
    return std::move(*c);
  }

  runtime::Connection &admin;
  std::string name, connInfo, failure;
};

/// Quoted names in a finding's message: the tables and columns it is about.
void collectQuoted(const std::string &message, std::set<std::string> &out) {
  static const std::regex quoted("\"([^\"]+)\"");
  for (std::sregex_iterator it(message.begin(), message.end(), quoted), end; it != end; ++it)
    out.insert((*it)[1].str());
}

/// Columns whose values legitimately differ between a row an old node wrote during the
/// window and one written before the upgrade, or that an old node reads back otherwise
/// than at O: what a backfill assigns, a default that changes (an old insert that omits
/// the column gets N's), and what `set not null fill` or a type change's `fill` stores in
/// place of an old node's NULL. Names as written in each op.
struct Unstable {
  std::set<std::pair<std::string, std::string>> columns;
  bool has(const std::string &table, const std::string &column) const {
    return columns.count({table, column}) > 0;
  }
};

} // namespace

Oracle::Oracle(std::string serverConnInfo) : server(std::move(serverConnInfo)) {
  llvm::Expected<runtime::Connection> c = runtime::Connection::open(server);
  if (!c) {
    setupFailure = llvm::toString(c.takeError());
    return;
  }
  admin.emplace(std::move(*c));
}

Oracle::~Oracle() = default;

PairResult Oracle::run(const GeneratedPair &pair) {
  PairResult result;
  test::LoadedUpgrade u;
  u.compilation = std::make_unique<compiler::Compilation>();
  const std::string dsl = pair.dsl();
  u.compilation->addSource("oracle.strata", dsl);
  u.project = u.compilation->run();
  compiler::DiagnosticsEngine &diags = u.compilation->diagnostics();
  auto renderDiags = [&] {
    std::string text;
    llvm::raw_string_ostream os(text);
    diags.render(os, false);
    return os.str();
  };
  if (!u.project) {
    result.diagnostics = renderDiags();
    return result; // Invalid
  }
  planner::reportFindings(*u.project, diags);
  std::set<std::string> flagged; // names in the proof's warnings
  for (const compiler::Diagnostic &d : diags.diagnostics()) {
    std::string code = d.code();
    if (d.severity == compiler::Severity::Error)
      result.errorCodes.push_back(code);
    if (d.severity == compiler::Severity::Warning && llvm::StringRef(code).startswith("C")) {
      result.warningCodes.push_back(code);
      collectQuoted(d.message, flagged);
    }
  }
  result.diagnostics = renderDiags();
  u.graph = std::make_unique<planner::VersionGraph>(*u.project);
  unsigned last = static_cast<unsigned>(u.project->subsystems.front().versions.size() - 1);
  u.from = {compiler::VersionRef{0, 0}};
  u.to = {compiler::VersionRef{0, last}};
  u.o = u.project->at(u.from.front()).state;
  u.n = u.project->at(u.to.front()).state;
  compiler::Compilation &compilation = *u.compilation;
  planner::Locator locate = [&compilation](compiler::SourceRange r) {
    return compilation.diagnostics().describe(r.Start);
  };
  planner::PlanRequest request;
  request.phase = planner::Phase::Up;
  request.targets = u.to;
  request.start = planner::startingPointFrom(*u.graph, u.from);
  llvm::Expected<planner::Plan> plan = planner::makePlan(*u.project, *u.graph, request, locate);
  if (!plan) {
    result.diagnostics += llvm::toString(plan.takeError());
    return result;
  }
  result.plan = planner::renderText(*plan, {});
  for (const planner::Finding &f : plan->findings) {
    if (f.error)
      result.errorCodes.push_back(f.code);
    else if (llvm::StringRef(f.code).startswith("C"))
      collectQuoted(f.message, flagged);
  }
  for (const planner::Step &s : plan->steps)
    if (s.unsafe)
      flagged.insert(s.lockTables.begin(), s.lockTables.end());
  if (!result.errorCodes.empty()) {
    result.verdict = PairResult::Verdict::Refused;
    return result;
  }
  if (!admin) {
    result.diagnostics += "no server: " + setupFailure;
    return result;
  }
  result.verdict = PairResult::Verdict::Ran;
  test::Renames renames = test::renamesBetween(u);

  // `unstable`: what a row old nodes write in the window legitimately gets otherwise than
  // one written before up (a backfill runs once; an insert that omits a column gets N's
  // default). `filled`: also what an old node reads back otherwise than at O (the fill
  // of `set not null` or of a type change in place of its NULL).
  Unstable unstable, filled;
  for (unsigned v = 1; v <= last; ++v)
    for (const compiler::Op &op : u.project->at({0, v}).ops) {
      if (op.kind == OpKind::Backfill)
        for (const compiler::BackfillAssignment &a : op.assignments)
          unstable.columns.insert({op.table, a.column});
      if (op.kind == OpKind::SetDefault || op.kind == OpKind::DropDefault)
        unstable.columns.insert({op.table, op.name});
      if (op.kind == OpKind::SetNotNull || (op.kind == OpKind::AlterColumnType && !op.fill.empty()))
        filled.columns.insert({op.table, op.name});
    }
  filled.columns.insert(unstable.columns.begin(), unstable.columns.end());
  auto isFilled = [&](const std::string &oTable, const std::string &oColumn) {
    return filled.has(oTable, oColumn) ||
           filled.has(renames.table(oTable), renames.column(oTable, oColumn));
  };
  auto hasFilled = [&](const std::string &oTable) {
    const compiler::Table *t = u.o.findTable(oTable);
    return t && llvm::any_of(t->columns,
                             [&](const compiler::Column &c) { return isFilled(oTable, c.name); });
  };
  auto isFlagged = [&](const std::string &table) {
    if (flagged.count(table))
      return true;
    for (const auto &[o, n] : renames.tables)
      if ((o == table && flagged.count(n)) || (n == table && flagged.count(o)))
        return true;
    return false;
  };
  auto oldName = [&](const std::string &nTable, const std::string &nColumn) {
    std::string table = nTable, column = nColumn;
    for (const auto &[o, n] : renames.tables)
      if (n == nTable)
        table = o;
    for (const auto &[key, n] : renames.columns)
      if (key.first == table && n == nColumn)
        column = key.second;
    return std::make_pair(table, column);
  };
  std::set<std::string> reported; // one finding per (what, table): later ones follow from it
  std::set<std::pair<std::string, std::string>> failedTables; // (who, table)
  auto report = [&](OracleFinding f) {
    if (!reported.insert(f.what() + "\x1f" + f.table).second)
      return;
    // A row that did not get into a parent table makes its children's inserts fail too:
    // that follows from the parent's finding.
    const compiler::Schema &writer = f.who == "old" ? u.o : u.n;
    if (const compiler::Table *t = f.who.empty() ? nullptr : writer.findTable(f.table))
      for (const compiler::Constraint &c : t->constraints)
        if (c.kind == compiler::ConstraintKind::ForeignKey && c.refTable != t->name &&
            failedTables.count({f.who, c.refTable}))
          return;
    failedTables.insert({f.who, f.table});
    // An old node's NULL stored as the fill changes what its later statements on the
    // row do (a check over two columns passes now): fill semantics, not a lost write.
    bool fillSemantics =
        (f.kind == "different result" && f.who == "old") || f.kind == "old row reads back wrong";
    f.warned = (!f.table.empty() && isFlagged(f.table)) ||
               (fillSemantics && hasFilled(oldName(f.table, "").first));
    result.findings.push_back(std::move(f));
  };

  // Values must not collide across versions where either version has them unique.
  auto uniqueIn = [](const compiler::Schema &s, const std::string &table, const std::string &col) {
    const compiler::Table *t = s.findTable(table);
    if (!t)
      return false;
    for (const compiler::Constraint &c : t->constraints)
      if ((c.kind == compiler::ConstraintKind::Unique ||
           c.kind == compiler::ConstraintKind::PrimaryKey) &&
          llvm::is_contained(c.columns, col))
        return true;
    for (const compiler::Index &i : t->indexes)
      for (const compiler::IndexColumn &e : i.elems)
        if (i.unique && e.column == col)
          return true;
    return false;
  };
  WorkloadSpec oSpec, nSpec;
  oSpec.tag = "o";
  nSpec.tag = "n";
  oSpec.distinct = [&](const std::string &t, const std::string &c) {
    return uniqueIn(u.o, t, c) || uniqueIn(u.n, renames.table(t), renames.column(t, c));
  };
  nSpec.distinct = [&](const std::string &t, const std::string &c) {
    auto [ot, oc] = oldName(t, c);
    return uniqueIn(u.n, t, c) || uniqueIn(u.o, ot, oc);
  };
  oSpec.base = 10000;
  VersionWorkload o1 = makeWorkload(u.o, oSpec);
  oSpec.base = 20000;
  VersionWorkload o2 = makeWorkload(u.o, oSpec);
  nSpec.base = 30000;
  VersionWorkload n1 = makeWorkload(u.n, nSpec);
  nSpec.base = 40000;
  VersionWorkload n2 = makeWorkload(u.n, nSpec);

  std::string tag = "oracle_" + std::to_string(getpid()) + "_" + std::to_string(++databases);
  PairDatabase a(*admin, server, tag + "_a"), b(*admin, server, tag + "_b"),
      c(*admin, server, tag + "_c");
  for (PairDatabase *db : {&a, &b, &c})
    if (!db->failure.empty()) {
      report({"bootstrap failed", "", "", "CREATE DATABASE", "", db->failure});
      return result;
    }
  std::string runLog;
  auto phase = [&](PairDatabase &db, llvm::ArrayRef<compiler::VersionRef> targets,
                   planner::Phase p) -> std::string {
    runtime::RunnerOptions options;
    options.connInfo = db.connInfo;
    options.targets.assign(targets.begin(), targets.end());
    options.exec.batchSize = 2;
    options.runnerLockWait = std::chrono::milliseconds(10'000);
    llvm::raw_string_ostream log(runLog);
    if (llvm::Error err = test::runPhase(u, options, p, log))
      return llvm::toString(std::move(err));
    return "";
  };
  // Flagged when the error names a table the proof warned about.
  auto upgradeFailure = [&](const std::string &kind, const std::string &error) {
    OracleFinding f{kind, "", "", "", "", error};
    for (const std::string &name : flagged)
      if (error.find("\"" + name + "\"") != std::string::npos ||
          error.find(" " + name + " ") != std::string::npos)
        f.table = name;
    report(f);
  };
  for (auto [db, targets] : {std::pair{&a, u.from}, std::pair{&b, u.from}, std::pair{&c, u.to}})
    if (std::string e = phase(*db, targets, planner::Phase::Bootstrap); !e.empty()) {
      report({"bootstrap failed", "", "", "", "", e});
      return result;
    }
  std::optional<runtime::Connection> aOld = a.connect(), aNew = a.connect(), bConn = b.connect(),
                                     cConn = c.connect();
  if (!aOld || !aNew || !bConn || !cConn) {
    report({"bootstrap failed", "", "", "connect", "", a.failure + b.failure + c.failure});
    return result;
  }

  // The expected outcomes: each version alone.
  auto runAll = [&](runtime::Connection &conn, const VersionWorkload &w) {
    std::vector<Outcome> out;
    for (const Statement &s : w.statements)
      out.push_back(execute(conn, s.sql));
    result.statements += w.statements.size();
    return out;
  };
  std::vector<Outcome> refO1 = runAll(*bConn, o1), refO2 = runAll(*bConn, o2);
  std::vector<Outcome> refN1 = runAll(*cConn, n1), refN2 = runAll(*cConn, n2);

  auto compare = [&](const std::string &who, const Statement &s, const Outcome &expected,
                     const Outcome &actual, const std::function<bool(const std::string &)> &skip) {
    if (expected.ok && !actual.ok)
      return report({"statement failed", who, s.table, s.sql, expected.str(), actual.str()});
    if (!expected.ok && actual.ok) {
      ++result.looser;
      return;
    }
    if (!expected.ok) // failed either way; which constraint PostgreSQL checks first may differ
      return;
    bool same = expected.tag == actual.tag && expected.rows == actual.rows &&
                expected.columns == actual.columns;
    for (size_t i = 0; same && i < expected.values.size(); ++i)
      same = skip(expected.columns[i]) || expected.values[i] == actual.values[i];
    if (!same)
      report({"different result", who, s.table, s.sql, expected.str(), actual.str()});
  };
  auto oldSkip = [&](const std::string &table) {
    return [&, table](const std::string &column) { return isFilled(table, column); };
  };
  auto compareAll = [&](const std::string &who, const VersionWorkload &w,
                        const std::vector<Outcome> &ref, const std::vector<Outcome> &got) {
    for (size_t i = 0; i < w.statements.size(); ++i)
      compare(who, w.statements[i], ref[i], got[i],
              who == "old" ? oldSkip(w.statements[i].table)
                           : std::function<bool(const std::string &)>(
                                 [](const std::string &) { return false; }));
  };

  // A: old nodes alone, then the upgrade with both.
  compareAll("old", o1, refO1, runAll(*aOld, o1));
  if (std::string e = phase(a, u.to, planner::Phase::Up); !e.empty()) {
    upgradeFailure("up failed", e);
    return result;
  }
  {
    std::vector<Outcome> gotO2, gotN1;
    size_t i = 0, j = 0;
    while (i < o2.statements.size() || j < n1.statements.size()) {
      if (i < o2.statements.size())
        gotO2.push_back(execute(*aOld, o2.statements[i++].sql));
      if (j < n1.statements.size())
        gotN1.push_back(execute(*aNew, n1.statements[j++].sql));
    }
    result.statements += o2.statements.size() + n1.statements.size();
    compareAll("old", o2, refO2, gotO2);
    compareAll("new", n1, refN1, gotN1);
  }

  // Rows read through the reader's names: "table id" -> column -> value.
  using Rows = std::map<std::string, std::map<std::string, std::optional<std::string>>>;
  auto readRows = [&](runtime::Connection &conn, const compiler::Schema &reader,
                      const std::map<std::string, std::vector<int64_t>> &keys,
                      const std::function<std::string(const std::string &)> &tableOf) {
    Rows out;
    for (const auto &[writerTable, ids] : keys) {
      const compiler::Table *t = reader.findTable(tableOf(writerTable));
      if (!t || !t->findColumn("id"))
        continue;
      for (int64_t id : ids) {
        Outcome o = execute(conn, selectRow(*t, id));
        ++result.statements;
        auto &row = out[t->name + " " + std::to_string(id)];
        if (!o.ok) {
          row["<error>"] = o.str();
          continue;
        }
        for (size_t i = 0; i < o.values.size(); ++i)
          row[o.columns[i]] = o.values[i];
      }
    }
    return out;
  };
  auto toNew = [&](const std::string &t) { return renames.table(t); };
  auto toOld = [&](const std::string &t) { return oldName(t, "").first; };
  auto same = [](const std::string &t) { return t; };
  auto describeRow = [](const std::map<std::string, std::optional<std::string>> &row) {
    std::string out;
    for (const auto &[col, v] : row)
      out += (out.empty() ? "" : " ") + col + "=" + v.value_or("NULL");
    return out.empty() ? std::string("<no row>") : out;
  };
  // Compares rows column by column; \p columnOf maps \p got's columns to \p want's.
  auto compareRows =
      [&](const std::string &kind, const std::string &who, const Rows &want, const Rows &got,
          const std::string &when,
          const std::function<std::optional<std::string>(const std::string &, const std::string &)>
              &columnOf) {
        for (const auto &[id, gotRow] : got) {
          std::string table = id.substr(0, id.find(' '));
          auto wantIt = want.find(id);
          static const std::map<std::string, std::optional<std::string>> none;
          const auto &wantRow = wantIt == want.end() ? none : wantIt->second;
          bool differs = wantRow.empty() != gotRow.empty() || gotRow.count("<error>");
          for (const auto &[gotColumn, gotValue] : gotRow) {
            std::optional<std::string> wantColumn = columnOf(table, gotColumn);
            if (!wantColumn)
              continue;
            auto v = wantRow.find(*wantColumn);
            if (v != wantRow.end() && v->second != gotValue)
              differs = true;
          }
          if (differs)
            report({kind, who, table, "SELECT of " + id + " " + when, describeRow(wantRow),
                    describeRow(gotRow)});
        }
      };
  // During the window: O's rows through N's names, N's rows through O's.
  Rows oldAsNewWindow = readRows(*aNew, u.n, o1.keys, toNew);
  Rows oldAsNewWindow2 = readRows(*aNew, u.n, o2.keys, toNew);
  oldAsNewWindow.insert(oldAsNewWindow2.begin(), oldAsNewWindow2.end());
  std::map<std::string, std::vector<int64_t>> n1Keys = n1.keys;
  Rows newAsOldWindow = readRows(*aOld, u.o, n1Keys, toOld);

  if (std::string e = phase(a, u.to, planner::Phase::Finish); !e.empty()) {
    upgradeFailure("finish failed", e);
    return result;
  }
  aOld.reset();
  compareAll("new", n2, refN2, runAll(*aNew, n2));

  // B: the serial upgrade, O's rows all written before it.
  if (std::string e = phase(b, u.to, planner::Phase::Up); !e.empty()) {
    upgradeFailure("up failed", "with no node running: " + e);
    return result;
  }
  if (std::string e = phase(b, u.to, planner::Phase::Finish); !e.empty()) {
    upgradeFailure("finish failed", "with no node running: " + e);
    return result;
  }
  Rows oldOnB = readRows(*bConn, u.n, o1.keys, toNew);
  Rows oldOnB2 = readRows(*bConn, u.n, o2.keys, toNew);
  oldOnB.insert(oldOnB2.begin(), oldOnB2.end());
  Rows oldAsNewAfter = readRows(*aNew, u.n, o1.keys, toNew);
  Rows oldAsNewAfter2 = readRows(*aNew, u.n, o2.keys, toNew);
  oldAsNewAfter.insert(oldAsNewAfter2.begin(), oldAsNewAfter2.end());
  auto stableNewColumn = [&](const std::string &nTable,
                             const std::string &nColumn) -> std::optional<std::string> {
    auto [ot, oc] = oldName(nTable, nColumn);
    if (unstable.has(nTable, nColumn) || unstable.has(ot, oc))
      return std::nullopt;
    return nColumn;
  };
  compareRows("old row reads back wrong", "new", oldOnB, oldAsNewWindow, "during the window",
              stableNewColumn);
  compareRows("old row reads back wrong", "new", oldOnB, oldAsNewAfter, "after finish",
              stableNewColumn);
  Rows newOnC = readRows(*cConn, u.n, n1.keys, same);
  Rows newOnC2 = readRows(*cConn, u.n, n2.keys, same);
  newOnC.insert(newOnC2.begin(), newOnC2.end());
  Rows newOnA = readRows(*aNew, u.n, n1.keys, same);
  Rows newOnA2 = readRows(*aNew, u.n, n2.keys, same);
  newOnA.insert(newOnA2.begin(), newOnA2.end());
  compareRows("new row reads back wrong", "new", newOnC, newOnA, "after finish",
              [](const std::string &, const std::string &c) { return c; });
  // N's rows through O's names during the window: C's rows are keyed by N's table names.
  Rows newOnCAsOld;
  for (const auto &[id, row] : newOnC) {
    std::string table = id.substr(0, id.find(' '));
    newOnCAsOld[toOld(table) + id.substr(id.find(' '))] = row;
  }
  compareRows(
      "new row reads back wrong", "old", newOnCAsOld, newAsOldWindow, "during the window",
      [&](const std::string &oTable, const std::string &oColumn) -> std::optional<std::string> {
        const compiler::Table *ot = u.o.findTable(oTable);
        const compiler::Table *nt = u.n.findTable(renames.table(oTable));
        if (!ot || !nt)
          return std::nullopt;
        const compiler::Column *oc = ot->findColumn(oColumn);
        const compiler::Column *nc = nt->findColumn(renames.column(oTable, oColumn));
        if (!oc || !nc || !(oc->type == nc->type))
          return std::nullopt;
        return nc->name;
      });

  // The catalogs after finish against the bootstrap of N.
  std::string want = test::withoutColumnOrder(test::catalogOf(*cConn));
  std::string gotA = test::withoutColumnOrder(test::catalogOf(*aNew));
  std::string gotB = test::withoutColumnOrder(test::catalogOf(*bConn));
  auto lineDiff = [](const std::string &x, const std::string &y) {
    llvm::SmallVector<llvm::StringRef, 64> xs, ys;
    llvm::StringRef(x).split(xs, '\n', -1, false);
    llvm::StringRef(y).split(ys, '\n', -1, false);
    std::set<std::string> sx(xs.begin(), xs.end()), sy(ys.begin(), ys.end());
    std::string out;
    for (const std::string &l : sx)
      if (!sy.count(l))
        out += "\n    - " + l;
    for (const std::string &l : sy)
      if (!sx.count(l))
        out += "\n    + " + l;
    return out;
  };
  if (gotA != want)
    report({"catalog differs", "", "", "after up and finish, against bootstrap of N", "",
            lineDiff(want, gotA)});
  else if (gotB != want)
    report({"catalog differs", "", "", "after a serial up and finish, against bootstrap of N", "",
            lineDiff(want, gotB)});
  return result;
}

} // namespace strata::oracle
