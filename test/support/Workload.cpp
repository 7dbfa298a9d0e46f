#include "test/support/Workload.h"

#include "planner/Sql.h"

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/StringExtras.h>

#include <fmt/format.h>

#include <set>

namespace strata::test {

using compiler::Column;
using compiler::ColumnGeneration;
using compiler::Constraint;
using compiler::ConstraintKind;
using compiler::DataType;
using compiler::Schema;
using compiler::Table;
namespace sql = planner::sql;

namespace {

llvm::Error failure(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Hands out the values of one workload: a counter, so that text and integers differ from
/// row to row and from run to run.
class Values {
public:
  Values(const Schema &schema, const WorkloadOptions &options)
      : schema(schema), tag(options.tag), next(options.firstValue) {}

  /// A literal (or a call) of \p type, or nothing for a type this generator does not know.
  std::optional<std::string> of(const DataType &type) {
    if (type.arrayDims > 0)
      return sql::literal("{}");
    if (type.isEnum) {
      const compiler::EnumType *e = schema.findEnum(type.name);
      if (!e || e->labels.empty())
        return std::nullopt;
      return sql::literal(e->labels.front());
    }
    const std::string &n = type.name;
    if (n == "uuid")
      return std::string("gen_random_uuid()");
    // smallint wraps: long concurrent runs (test/e2e) go past 32767.
    if (n == "smallint")
      return std::to_string(next++ % 32000 + 1);
    if (n == "integer" || n == "bigint")
      return std::to_string(next++);
    if (n == "numeric" || n == "real" || n == "double precision")
      return std::string("1.5");
    if (n == "text")
      return sql::literal(tag + std::to_string(next++));
    if (n == "character varying" || n == "character") {
      std::string text = tag + std::to_string(next++);
      // character without a length is character(1); keep the end, where the counter is.
      int64_t length = !type.mods.empty() ? type.mods[0] : n == "character" ? 1 : 0;
      if (length > 0 && static_cast<int64_t>(text.size()) > length)
        text = text.substr(text.size() - static_cast<size_t>(length));
      return sql::literal(text);
    }
    if (n == "boolean")
      return std::string("true");
    // A day ahead: rows that expire (Kong's cluster_events, purged on insert once
    // expire_at has passed) stay while the workload reads them back.
    if (n == "date" || n == "timestamp with time zone" || n == "timestamp without time zone")
      return std::string("now() + interval '1 day'");
    if (n == "time without time zone")
      return std::string("LOCALTIME");
    if (n == "time with time zone")
      return std::string("CURRENT_TIME");
    if (n == "interval")
      return sql::literal("1 hour");
    if (n == "json" || n == "jsonb")
      return sql::literal("{}");
    if (n == "bytea")
      return sql::literal("\\x00");
    if (n == "inet" || n == "cidr")
      return sql::literal("127.0.0.1");
    return std::nullopt;
  }

private:
  const Schema &schema;
  std::string tag;
  int64_t next;
};

bool isGenerated(const Column &c) { return c.generation != ColumnGeneration::None; }

/// The foreign keys of \p t to tables of the schema.
std::vector<const Constraint *> foreignKeys(const Table &t) {
  std::vector<const Constraint *> out;
  for (const Constraint &c : t.constraints)
    if (c.kind == ConstraintKind::ForeignKey)
      out.push_back(&c);
  return out;
}

/// Tables parents first (Kahn's algorithm; ties and cycles broken by name, so the order
/// is deterministic). A self-reference does not count.
std::vector<const Table *> dependencyOrder(const Schema &schema) {
  std::map<std::string, std::set<std::string>> parents;
  for (const auto &[name, table] : schema.tables()) {
    parents[name];
    for (const Constraint *fk : foreignKeys(*table))
      if (fk->refTable != name && schema.findTable(fk->refTable))
        parents[name].insert(fk->refTable);
  }
  std::vector<const Table *> out;
  std::set<std::string> done;
  while (out.size() < parents.size()) {
    const std::string *pick = nullptr;
    for (const auto &[name, ps] : parents)
      if (!done.count(name) && llvm::all_of(ps, [&](const std::string &p) {
            return done.count(p) != 0;
          })) {
        pick = &name;
        break;
      }
    // A cycle: take the first table left; its foreign keys to later tables stay null.
    if (!pick)
      for (const auto &[name, ps] : parents)
        if (!done.count(name)) {
          pick = &name;
          break;
        }
    done.insert(*pick);
    out.push_back(schema.findTable(*pick));
  }
  return out;
}

std::string keyCondition(llvm::ArrayRef<std::string> keyColumns) {
  std::string out;
  for (size_t i = 0; i < keyColumns.size(); ++i)
    out += fmt::format("{}{} = ${}", i ? " AND " : "", sql::ident(keyColumns[i]), i + 1);
  return out;
}

std::string errorText(llvm::Error err) { return llvm::toString(std::move(err)); }

} // namespace

const TableWorkload *Workload::find(llvm::StringRef table) const {
  for (const TableWorkload &t : tables)
    if (t.table == table)
      return &t;
  return nullptr;
}

std::string Workload::str() const {
  std::string out;
  for (const TableWorkload &t : tables) {
    out += t.insert + ";\n";
    if (!t.insertMinimal.empty())
      out += t.insertMinimal + ";\n";
    if (!t.select.empty())
      out += t.select + ";\n";
    for (const std::string &u : t.updates)
      out += u + ";\n";
  }
  return out;
}

std::string selectByKey(llvm::StringRef table, llvm::ArrayRef<std::string> columns,
                        llvm::ArrayRef<std::string> keyColumns) {
  return fmt::format("SELECT {} FROM {} WHERE {}", sql::identList(columns), sql::ident(table),
                     keyCondition(keyColumns));
}

llvm::Expected<Workload> generateWorkload(const Schema &schema, const WorkloadOptions &options) {
  Values values(schema, options);
  // Columns that some foreign key references: the INSERT returns them for the children.
  std::map<std::string, std::vector<std::string>> referenced;
  for (const auto &[name, table] : schema.tables())
    for (const Constraint *fk : foreignKeys(*table))
      for (const std::string &c : fk->refColumns)
        if (!llvm::is_contained(referenced[fk->refTable], c))
          referenced[fk->refTable].push_back(c);

  Workload out;
  std::set<std::string> inserted; // tables whose INSERT returns what children need
  for (const Table *t : dependencyOrder(schema)) {
    TableWorkload w;
    w.table = t->name;
    if (const Constraint *pk = t->primaryKey())
      w.keyColumns = pk->columns;
    w.returning = w.keyColumns;
    for (const std::string &c : referenced[t->name])
      if (!llvm::is_contained(w.returning, c))
        w.returning.push_back(c);
    for (const Column &c : t->columns)
      w.columns.push_back(c.name);

    // Foreign key columns: the parent's row, bound as parameters; or null.
    std::map<std::string, ForeignValue> fromParent;
    std::set<std::string> leftNull;
    for (const Constraint *fk : foreignKeys(*t)) {
      bool parentRow = fk->refTable != t->name && inserted.count(fk->refTable);
      for (size_t i = 0; i < fk->columns.size(); ++i) {
        const std::string &col = fk->columns[i];
        if (fromParent.count(col))
          continue;
        if (parentRow) {
          fromParent[col] = {0, fk->refTable, fk->refColumns[i]};
          continue;
        }
        const Column *c = t->findColumn(col);
        if (c && c->notNull && c->defaultExpr.empty())
          return failure(fmt::format("table \"{}\": foreign key column \"{}\" is not null and "
                                     "the workload has no row of \"{}\" to point at",
                                     t->name, col, fk->refTable));
        leftNull.insert(col);
      }
    }

    // A value that fits a type may still fail a check (`in (301, 302)`): columns that a
    // check uses are left null where they may be (null passes a check), and not updated.
    std::set<std::string> checked;
    for (const Constraint &c : t->constraints)
      if (c.kind == ConstraintKind::Check)
        checked.insert(c.columns.begin(), c.columns.end());
    auto leftToNull = [&](const Column &c) { return checked.count(c.name) && !c.notNull; };

    // Values of the full insert, and whether the minimal one needs them too.
    std::vector<std::string> names, exprs;
    std::vector<bool> required;
    for (const Column &c : t->columns) {
      if (isGenerated(c) || leftNull.count(c.name))
        continue;
      auto parent = fromParent.find(c.name);
      if (parent != fromParent.end()) {
        parent->second.param = static_cast<unsigned>(w.foreign.size() + 1);
        w.foreign.push_back(parent->second);
        names.push_back(c.name);
        exprs.push_back(fmt::format("${}", parent->second.param));
        required.push_back(true);
        continue;
      }
      // What an application leaves to the database: defaults.
      if (!c.defaultExpr.empty() || leftToNull(c))
        continue;
      std::optional<std::string> v = values.of(c.type);
      if (!v) {
        if (c.notNull)
          return failure(fmt::format("table \"{}\": no value for not null column \"{}\" of "
                                     "type {}",
                                     t->name, c.name, c.type.str()));
        continue;
      }
      names.push_back(c.name);
      exprs.push_back(*v);
      required.push_back(c.notNull);
    }
    auto insertOf = [&](bool minimal) {
      std::vector<std::string> n, e;
      for (size_t i = 0; i < names.size(); ++i) {
        if (minimal && !required[i])
          continue;
        n.push_back(names[i]);
        // A fresh value: unique columns must not collide with the full row's.
        e.push_back(minimal && exprs[i][0] != '$' ? *values.of(t->findColumn(names[i])->type)
                                                  : exprs[i]);
      }
      std::string out =
          n.empty() ? fmt::format("INSERT INTO {} DEFAULT VALUES", sql::ident(t->name))
                    : fmt::format("INSERT INTO {} ({}) VALUES ({})", sql::ident(t->name),
                                  sql::identList(n), llvm::join(e, ", "));
      if (!w.returning.empty())
        out += " RETURNING " + sql::identList(w.returning);
      return out;
    };
    w.insert = insertOf(false);
    if (llvm::is_contained(required, false))
      w.insertMinimal = insertOf(true);

    if (!w.keyColumns.empty()) {
      w.select = selectByKey(t->name, w.columns, w.keyColumns);
      // Columns that are neither key, generated, nor a foreign key, and have a value.
      for (auto c = t->columns.rbegin(); c != t->columns.rend(); ++c) {
        if (llvm::is_contained(w.keyColumns, c->name) || isGenerated(*c) ||
            fromParent.count(c->name) || leftNull.count(c->name) || checked.count(c->name))
          continue;
        std::optional<std::string> v = values.of(c->type);
        if (!v)
          continue;
        w.updates.push_back(fmt::format("UPDATE {} SET {} = {} WHERE {}", sql::ident(t->name),
                                        sql::ident(c->name), *v, keyCondition(w.keyColumns)));
      }
    }
    if (!w.returning.empty())
      inserted.insert(t->name);
    out.tables.push_back(std::move(w));
  }
  return out;
}

llvm::Expected<std::map<std::string, Value>>
readRow(runtime::Connection &conn, llvm::StringRef table, llvm::ArrayRef<std::string> columns,
        llvm::ArrayRef<std::string> keyColumns, llvm::ArrayRef<Value> key) {
  std::string select = selectByKey(table, columns, keyColumns);
  llvm::Expected<runtime::Result> r = conn.execParams(select, key);
  if (!r)
    return failure(select + "\n  " + errorText(r.takeError()));
  if (r->rows() != 1)
    return failure(fmt::format("{}\n  found {} rows, expected 1", select, r->rows()));
  std::map<std::string, Value> row;
  for (int i = 0; i < r->cols(); ++i)
    row[r->columnName(i).str()] =
        r->isNull(0, i) ? Value() : Value(r->get(0, i).str());
  return row;
}

namespace {

/// One table's statements; its rows go to run.rows.
llvm::Error runTable(runtime::Connection &conn, const TableWorkload &t, WorkloadRun &run) {
  std::vector<Value> params;
  for (const ForeignValue &f : t.foreign)
    params.push_back(run.rows[f.parentTable].front().returned[f.parentColumn]);
  std::vector<WrittenRow> &rows = run.rows[t.table];
  for (const std::string *insert : {&t.insert, &t.insertMinimal}) {
    if (insert->empty())
      continue;
    llvm::Expected<runtime::Result> r = conn.execParams(*insert, params);
    if (!r)
      return failure(*insert + "\n  " + errorText(r.takeError()));
    WrittenRow &row = rows.emplace_back();
    if (t.returning.empty())
      continue;
    if (r->rows() != 1)
      return failure(fmt::format("{}\n  returned {} rows, expected 1", *insert, r->rows()));
    for (size_t i = 0; i < t.returning.size(); ++i) {
      int col = static_cast<int>(i);
      row.returned[t.returning[i]] = r->isNull(0, col) ? Value() : Value(r->get(0, col).str());
    }
    if (t.keyColumns.empty())
      continue;
    for (const std::string &k : t.keyColumns)
      row.key.push_back(row.returned[k]);
    llvm::Expected<std::map<std::string, Value>> read =
        readRow(conn, t.table, t.columns, t.keyColumns, row.key);
    if (!read)
      return read.takeError();
    row.read = std::move(*read);
  }
  if (t.updates.empty())
    return llvm::Error::success();
  for (const std::string &update : t.updates) {
    llvm::Expected<runtime::Result> u = conn.execParams(update, rows.front().key);
    if (!u)
      return failure(update + "\n  " + errorText(u.takeError()));
  }
  llvm::Expected<std::map<std::string, Value>> read =
      readRow(conn, t.table, t.columns, t.keyColumns, rows.front().key);
  if (!read)
    return read.takeError();
  rows.front().read = std::move(*read);
  return llvm::Error::success();
}

} // namespace

llvm::Expected<WorkloadRun> runWorkload(runtime::Connection &conn, const Workload &workload,
                                        const std::set<std::string> &mayFail) {
  WorkloadRun run;
  for (const TableWorkload &t : workload.tables) {
    // A parent whose insert failed (tolerated): no row to point at.
    auto missing = llvm::find_if(t.foreign, [&](const ForeignValue &f) {
      auto it = run.rows.find(f.parentTable);
      return it == run.rows.end() || it->second.empty();
    });
    if (missing != t.foreign.end()) {
      run.tolerated.push_back(fmt::format("\"{}\" skipped: no row of \"{}\" to point at",
                                          t.table, missing->parentTable));
      continue;
    }
    llvm::Error err = runTable(conn, t, run);
    if (!err)
      continue;
    if (!mayFail.count(t.table))
      return err;
    run.tolerated.push_back(errorText(std::move(err)));
    run.rows.erase(t.table);
  }
  return run;
}

} // namespace strata::test
