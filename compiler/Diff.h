// The diff engine: the Ops that turn one table (or schema) state into another.
//
// Deterministic: renames first, then drops of constraints and indexes, dropped columns,
// added columns (in declared order), column changes, added constraints and indexes. A
// column is only ever considered renamed when a hint says so (`was "old"` in the DSL);
// strata never guesses.
#pragma once

#include "compiler/Op.h"

#include <string>
#include <vector>

namespace strata::compiler {

struct RenameHint {
  std::string from;
  std::string to;
};
using RenameHints = std::vector<RenameHint>;

/// Ops turning table \p from into table \p to (same table name).
std::vector<Op> diffTable(const Table &from, const Table &to, const RenameHints &hints = {});

/// Ops turning schema \p from into schema \p to: tables created and dropped, tables
/// changed, enums created, extended and dropped. Used for drift against a live catalog.
std::vector<Op> diffSchema(const Schema &from, const Schema &to);

} // namespace strata::compiler
