// GeneratedPair: one random upgrade as the oracle's generator drew it, a starting version
// and one to three next versions (one `up` runs them all), as structured DSL pieces, so
// that the shrinker can drop a table, a column, an attribute or a change and print the
// rest again. Everything here is text that goes into a .strata file; what the compiler
// makes of it is the compiler's business (the oracle compiles it like any project).
//
// Test-only (test/oracle).
#pragma once

#include "compiler/Op.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace strata::oracle {

/// A column of a table of the starting version.
struct GenColumn {
  std::string name;
  std::string type; ///< as written in the DSL: "varchar(12)", "text[]", an enum
  bool notNull = false;
  std::string defaultExpr; ///< DSL text after `default`; empty: none
  bool unique = false;
  std::string check;      ///< the expression without its parentheses; empty: none
  std::string references; ///< the parent table (its primary key); empty: none
  std::string onDelete;   ///< "cascade", "set null", ...; empty: no action
};

struct GenTable {
  std::string name;
  std::vector<GenColumn> columns;    ///< after `id bigint primary key`
  std::vector<std::string> elements; ///< table constraints and indexes, one DSL line each
};

struct GenEnum {
  std::string name;
  std::vector<std::string> labels;
};

/// One statement of a next version.
struct GenChange {
  compiler::OpKind kind = compiler::OpKind::RawSql; ///< what the generator meant to draw
  std::string text;                                 ///< the statement, without `unsafe`
  bool unsafe = false;
};

struct GeneratedPair {
  uint64_t seed = 0;
  std::vector<GenEnum> enums;
  std::vector<GenTable> tables;
  std::vector<std::vector<GenChange>> versions; ///< "1.1.0", "1.2.0", ...

  /// The whole project: subsystem "app", version "1.0.0" then the next versions.
  std::string dsl() const;
  /// The project with only the starting version.
  std::string startDsl() const;
  /// "app@1.0.0" and "app@1.N.0" (the last version).
  static std::string fromNode() { return "app@1.0.0"; }
  std::string toNode() const;
  /// The kinds of the changes, as drawn.
  std::set<compiler::OpKind> drawnKinds() const;
  /// Every change marked unsafe (for the completeness run).
  GeneratedPair allUnsafe() const;
  size_t changeCount() const;
};

/// A version string of the n-th version (0: "1.0.0").
std::string versionName(size_t n);

} // namespace strata::oracle
