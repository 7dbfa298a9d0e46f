// Workload: the SQL that an application version runs against its tables, generated from
// the Schema it was written against, to check on a real database that a schema serves
// that version (the compatibility proof of DESIGN.md, tested rather than argued).
//
// Per table, parents before children (by foreign key): an INSERT that names only the
// columns the version knows and has to write (every column without a default, except
// identity and serial ones), RETURNING the primary key and whatever children reference,
// and a second, minimal INSERT of only what must be given (NOT NULL columns without a
// default), which leaves every nullable column null as an application may; a SELECT of
// exactly the version's columns by key for each row; then UPDATEs of the first row by key,
// one per non-key column (so that a trigger syncing one column sees that column change
// alone). Foreign keys take the key of the row this workload inserted into the parent
// (bound as parameters when the workload runs), or stay null where the column allows it.
//
// Values are typed literals chosen by the column's DataType, unique per workload (a
// counter), so that a version's workload can run many times against one database. A
// column that a check uses is left null where it may be, and never updated: a value of
// the right type may still fail the check. All identifiers and literals go through
// planner/Sql.h.
//
// Test-only: a library for integration tests (test/planner/ApplyPlanTest.cpp).
#pragma once

#include "compiler/Schema.h"
#include "runtime/Connection.h"

#include <llvm/Support/Error.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace strata::test {

struct WorkloadOptions {
  /// Starts every text value, so that rows say who wrote them ("o", "n").
  std::string tag = "w";
  /// The first value of the counter behind integers and text; give each run of a
  /// workload against one database its own range (unique columns must not collide).
  int64_t firstValue = 1;
};

/// A parameter of an INSERT: the value of a column of the row inserted into a parent.
struct ForeignValue {
  unsigned param = 0; ///< $param
  std::string parentTable;
  std::string parentColumn;
};

struct TableWorkload {
  std::string table;
  /// The primary key; empty when the table has none (then only the INSERT runs).
  std::vector<std::string> keyColumns;
  /// What the INSERT returns: the key columns first, then columns that children reference.
  std::vector<std::string> returning;
  std::string insert;
  /// The INSERT of only the NOT NULL columns without default (and foreign keys); empty
  /// when that is what `insert` does already. Same parameters.
  std::string insertMinimal;
  std::vector<ForeignValue> foreign;
  /// Every column the version knows, in table order: what it reads.
  std::vector<std::string> columns;
  /// SELECT columns by key: `$1`.. are the key columns' values.
  std::string select;
  /// UPDATEs of one non-key column each, by key (`$1`.. as for select), last column
  /// first; foreign keys and generated columns are left alone.
  std::vector<std::string> updates;
};

/// A version's workload. Tables are in dependency order.
struct Workload {
  std::vector<TableWorkload> tables;

  const TableWorkload *find(llvm::StringRef table) const;
  /// Every statement, one per line, for messages.
  std::string str() const;
};

/// The workload of an application written against \p schema. Fails when a table cannot be
/// written (a NOT NULL column without default of a type it has no value for, or a NOT NULL
/// foreign key to a row it cannot insert first).
llvm::Expected<Workload> generateWorkload(const compiler::Schema &schema,
                                          const WorkloadOptions &options = {});

/// `SELECT "c1", "c2" FROM "t" WHERE "k1" = $1 AND "k2" = $2`.
std::string selectByKey(llvm::StringRef table, llvm::ArrayRef<std::string> columns,
                        llvm::ArrayRef<std::string> keyColumns);

/// A value as the server returned it in text form; nullopt for NULL.
using Value = std::optional<std::string>;

/// A row a run inserted.
struct WrittenRow {
  std::map<std::string, Value> returned; ///< the INSERT's RETURNING
  std::vector<Value> key;                ///< keyColumns' values, in order
  std::map<std::string, Value> read;     ///< the SELECT, after the UPDATEs if any
};

struct WorkloadRun {
  /// By table: the row of `insert`, then that of `insertMinimal` if any.
  std::map<std::string, std::vector<WrittenRow>> rows;
  /// Failures in tables that were allowed to fail (runWorkload's mayFail), and tables
  /// skipped because of them; those tables have no rows.
  std::vector<std::string> tolerated;
};

/// Runs \p workload statement by statement on \p conn (each in its own transaction),
/// stopping at the first failure: an error naming the statement and carrying PostgreSQL's
/// message. A failure in a table of \p mayFail is recorded in `tolerated` instead, and the
/// run goes on with the next table.
llvm::Expected<WorkloadRun> runWorkload(runtime::Connection &conn, const Workload &workload,
                                        const std::set<std::string> &mayFail = {});

/// Runs `SELECT columns FROM table WHERE keyColumns = key` and returns the one row found
/// (an error when there is none or several).
llvm::Expected<std::map<std::string, Value>>
readRow(runtime::Connection &conn, llvm::StringRef table, llvm::ArrayRef<std::string> columns,
        llvm::ArrayRef<std::string> keyColumns, llvm::ArrayRef<Value> key);

} // namespace strata::test
