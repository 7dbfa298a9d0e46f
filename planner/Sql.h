// SQL text, produced in exactly one place: identifier and literal quoting, and one
// function per kind of statement the planner emits. Nothing else in strata builds SQL
// from names, so a hostile name can never become SQL.
#pragma once

#include "compiler/Op.h"
#include "compiler/Schema.h"
#include "planner/SyncTrigger.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>

#include <string>
#include <vector>

namespace strata::planner::sql {

/// "name" with inner quotes doubled; always quoted, so reserved words and any case or
/// character are safe.
std::string ident(llvm::StringRef name);
/// 'text' with inner quotes doubled (standard_conforming_strings is on since PG 9.1).
std::string literal(llvm::StringRef text);
/// "a", "b"
std::string identList(llvm::ArrayRef<std::string> names);

/// The column's type as ALTER ... TYPE and casts take it: `integer` for a serial column.
std::string columnType(const compiler::Column &column);
/// After a serial column's type changed in place, the statement that gives its sequence the
/// new type, as `bigserial` would have (PostgreSQL keeps the sequence at its old type, and
/// its old maximum); empty for any other column. \p table as SQL (`"t"`).
std::string serialSequenceType(llvm::StringRef table, const compiler::Column &column);
/// `"name" type [GENERATED ...] [NOT NULL] [DEFAULT (...)]`
std::string columnDefinition(const compiler::Column &column, bool withNotNull = true,
                             bool withDefault = true);
/// `CONSTRAINT "name" PRIMARY KEY ("a")`, `... CHECK (...)`, `... FOREIGN KEY ...`
std::string constraintDefinition(const compiler::Constraint &constraint);
/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] "name" ON "t" USING m (...)`
std::string createIndex(llvm::StringRef table, const compiler::Index &index, bool concurrently);
/// `CREATE TABLE "t" (...)` with columns and the given constraints inline.
std::string createTable(const compiler::Table &table,
                        llvm::ArrayRef<const compiler::Constraint *> constraints);
std::string createEnum(const compiler::EnumType &type);

/// One batch of a backfill, run verbatim by the runtime in its own transaction with
/// parameters: $1 boolean, true for the first batch; $2.. the cursor (the last key done,
/// one parameter per key column); the last one the batch size. Returns no row when
/// nothing was left, else one row: the number of rows updated, then the new cursor's
/// values as text.
std::string backfillBatch(llvm::StringRef table, llvm::ArrayRef<std::string> key,
                          llvm::StringRef set, llvm::StringRef where);
std::string refAction(compiler::RefAction action);

/// \p expr, an expression that names the table's columns unqualified (a `fill` or a
/// `using`), evaluated over the row a BEFORE trigger is writing:
/// `(SELECT (expr) FROM (SELECT (NEW).*) AS strata_row)`. PL/pgSQL cannot resolve bare
/// column names in an assignment: `NEW.c := (id::text)` fails on every write.
/// \p aliases (name in the expression, column of the row) provide names that the
/// expression uses for columns renamed since it was written: `..., NEW."y" AS "x"`.
std::string overNewRow(llvm::StringRef expr,
                       llvm::ArrayRef<std::pair<std::string, std::string>> aliases = {});

/// `CREATE OR REPLACE FUNCTION` of \p sync's trigger function with the sections not in
/// \p gone, in their fixed order (planner/SyncTrigger.h).
std::string syncFunction(const TableSync &sync, const std::set<unsigned> &gone);
/// The BEFORE INSERT OR UPDATE trigger of \p table that runs \p function, (re)created.
std::string createSyncTrigger(llvm::StringRef function, llvm::StringRef table);
/// The trigger and its function dropped.
std::string dropSyncTrigger(llvm::StringRef function, llvm::StringRef table);

/// `ALTER TABLE "t" VALIDATE CONSTRAINT "c"`.
std::string validateConstraint(llvm::StringRef table, llvm::StringRef constraint);

/// The statements that open a scratch schema \p scratch inside the current transaction
/// (drift checks build the declared state there, then roll back): a lock_timeout, the
/// schema, and a search_path of the scratch schema first (every object is created there),
/// then \p resolveFrom (what the declaration uses from the inspected schema resolves).
std::vector<std::string> openScratchSchema(llvm::StringRef scratch, llvm::StringRef resolveFrom);

/// The plain DDL that carries out \p op at once, without the planner's online rewrite (no
/// expand/contract, no backfill): what `strata diff` proposes to remove drift. Indexes are
/// built and dropped CONCURRENTLY, except a created table's own. A created table's foreign
/// keys come as separate `ALTER TABLE ... ADD` statements in \p foreignKeys when it is
/// given (so that a caller creating several tables adds them once all exist), else after
/// the table. Backfill and RawSql give no statement: they are not schema objects.
std::vector<std::string> directStatements(const compiler::Op &op,
                                          std::vector<std::string> *foreignKeys = nullptr);

} // namespace strata::planner::sql
