// Inspector: reads a live PostgreSQL schema back into the compiler's Schema model, so that
// a database's catalog and a declared version (or two databases) compare as values:
// `strata inspect` / `strata diff`, drift detection, and the check that bootstrapping a
// version gives the same catalog as replaying its migrations.
//
// What comes back is what pg_catalog says, in the model's terms: identifiers unquoted
// exactly as stored, types as format_type prints them (split into name, modifiers and
// array dimensions), expressions as PostgreSQL deparses them with the inspected schema as
// the only search_path entry (so its own objects come back unqualified). Deparsed text is
// not what the DSL author wrote: `default 'x'` reads back as `'x'::text`, `check (a > 0
// and b > 0)` as `(a > 0) AND (b > 0)`; comparing with a declared Schema needs those
// normalised first. Table owners (subsystems) are unknown to the catalog and stay empty.
#pragma once

#include "compiler/Schema.h"
#include "runtime/Connection.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace strata::runtime {

struct InspectOptions {
  /// The schema (namespace) to read, as stored (no quoting).
  std::string schema = "public";
  /// Tables to leave out, by exact name.
  std::vector<std::string> excludeTables;
  /// Tables whose names start with this are left out (strata's own state tables);
  /// empty: none.
  std::string excludePrefix = "strata_";
};

/// A constraint on a table, by name.
struct ConstraintRef {
  std::string table;
  std::string name;

  friend bool operator==(const ConstraintRef &a, const ConstraintRef &b) {
    return a.table == b.table && a.name == b.name;
  }
};

/// An index whose build failed (indisvalid = false, e.g. an interrupted CREATE INDEX
/// CONCURRENTLY): PostgreSQL keeps maintaining it but never uses it, so it must be
/// dropped and built again.
struct InvalidIndex {
  std::string table;
  compiler::Index index;
};

/// A trigger on a table (not one PostgreSQL makes for a foreign key), with the source of
/// its function: PostgreSQL records no dependency of a PL/pgSQL body on the columns it
/// names, so dropping such a column succeeds and every later write fails.
struct TableTrigger {
  std::string table;
  std::string name;
  std::string function; ///< as regprocedure prints it: `"t_c_strata_sync"()`
  std::string source;   ///< the function's body (prosrc)
};

/// Everything inspect() learnt, the Schema model and what the model has no place for.
struct Inspection {
  compiler::Schema schema;
  /// Not part of `schema`: as far as the model is concerned they do not exist yet.
  std::vector<InvalidIndex> invalidIndexes;
  /// Constraints added NOT VALID and not validated since (convalidated = false). They
  /// are part of `schema` (PostgreSQL enforces them on new rows).
  std::vector<ConstraintRef> notValidConstraints;
  /// Triggers on the tables read, by table and name. Not part of `schema`.
  std::vector<TableTrigger> triggers;
  /// One line per catalog feature that the model cannot represent and that was left out
  /// or simplified (generated columns, INCLUDE columns, exclusion constraints,
  /// deferrable or MATCH FULL foreign keys, references to other schemas, ...), so that a
  /// caller can warn instead of reporting a misleading equality.
  std::vector<std::string> unsupported;
};

/// Reads options.schema with one query per object kind (tables with their columns,
/// constraints, indexes, enum types), ordered deterministically, inside one read-only
/// repeatable-read transaction so that all of them see the same catalog snapshot.
///
/// Precondition: \p conn is not inside a transaction block (this function begins and
/// ends its own). A schema that does not exist is a PgError with SQLSTATE 3F000.
llvm::Expected<Inspection> inspect(Connection &conn, const InspectOptions &options);

/// One short text that changes whenever a catalog row that inspect() of \p schema (or the
/// list of other schemas) reads changes: one query, ~a few ms where inspect() takes
/// hundreds. What it covers and what it cannot see: fingerprintQuery in Inspector.cpp.
llvm::Expected<std::string> catalogFingerprint(Connection &conn, llvm::StringRef schema);

/// As inspect(), inside the transaction the caller has open (which then sees the
/// caller's own uncommitted DDL). The transaction's search_path is left set to
/// options.schema.
llvm::Expected<Inspection> inspectInTransaction(Connection &conn, const InspectOptions &options);

/// inspect(conn, options).schema.
llvm::Expected<compiler::Schema> inspectSchema(Connection &conn, const InspectOptions &options);

/// A readable rendering for test failures: one line per enum, table, column, constraint,
/// index and sql object, sorted (columns keep their order through a position number), so
/// that EXPECT_EQ on two descriptions shows which objects differ. Not a stable format.
std::string describeSchema(const compiler::Schema &schema);

} // namespace strata::runtime
