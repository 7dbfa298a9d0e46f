// Canonical DSL: a schema state printed as strata source that compiles back to the same
// state (`strata show`). Enums first, then one `table` block per table sorted by name,
// every constraint and index written out with its name, then the `sql` blocks.
#pragma once

#include "compiler/Project.h"

#include <llvm/Support/raw_ostream.h>

namespace strata::compiler {

/// An identifier as the DSL must spell it: bare when it is a plain lower-case word that
/// is not a keyword, double-quoted (inner quotes doubled) otherwise.
std::string quoteIdent(llvm::StringRef name);

/// One line of a table block, as printSchema writes it: `name type [not null] ...`,
/// `constraint name ...`, `index name ...`.
std::string printColumn(const Column &column);
std::string printConstraint(const Constraint &constraint);
std::string printIndex(const Index &index);

/// The body of a version block that recreates \p schema (tables, enums, sql), indented
/// by \p indent spaces.
void printSchema(llvm::raw_ostream &os, const Schema &schema, unsigned indent);

/// A self-contained project for `show SUBSYSTEM@VERSION`: the version's state, preceded
/// by the states of the subsystems it requires (at the versions it depends on), so that
/// the output compiles on its own.
void printVersionState(llvm::raw_ostream &os, const Project &project, VersionRef ref);

/// The version's Ops, one per line, and its checksum (`show --ops`).
void printVersionOps(llvm::raw_ostream &os, const Project &project, VersionRef ref);

} // namespace strata::compiler
