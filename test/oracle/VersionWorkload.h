// VersionWorkload: what an application written against one version runs, derived from
// that version's Schema and written through its names: per table (parents before
// children), INSERTs with every column subset that matters (all columns; only what NOT
// NULL without default forces; the forced ones plus each optional column alone, with the
// widest value of its type; every nullable column an explicit NULL; a duplicate of the
// first row under a new key; a row that is deleted again), UPDATEs of each column, SELECTs
// of every column by key, and a DELETE by key. Foreign keys take the key of an existing
// parent row of the same workload, or of the one it deleted.
//
// A workload does not predict what PostgreSQL answers: the oracle runs it on a database
// at that version alone, and whatever happens there is the expected outcome (a duplicate
// on a unique column fails there too). Keys and values come from the workload's own range
// (WorkloadSpec::base) and carry its tag, so that old and new nodes' rows never collide
// unless a schema makes them.
//
// Test-only (test/oracle).
#pragma once

#include "compiler/Schema.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace strata::oracle {

struct Statement {
  enum class Kind { Insert, Update, Select, Delete };
  Kind kind = Kind::Select;
  std::string table;
  std::string column; ///< the column an UPDATE sets
  std::string sql;
};

struct WorkloadSpec {
  std::string tag = "w";
  int64_t base = 1000;
  /// Whether (table, column) must get distinct values (unique in this version or the
  /// other one): no shared edge values there.
  std::function<bool(const std::string &, const std::string &)> distinct;
};

struct VersionWorkload {
  std::vector<Statement> statements;
  /// The keys ("id") it inserts, by table, for reading the rows back.
  std::map<std::string, std::vector<int64_t>> keys;
};

VersionWorkload makeWorkload(const compiler::Schema &schema, const WorkloadSpec &spec);

/// `SELECT "c1", ... FROM "t" WHERE "id" = key` for every column of \p table.
std::string selectRow(const compiler::Table &table, int64_t key);

} // namespace strata::oracle
