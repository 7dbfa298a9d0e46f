// Ops: the closed set of typed changes between two schema states.
//
// A version's Ops are what its statements mean, whether the author wrote `alter table`
// or restated the table (the diff of the restated table gives the same Ops). Each Op
// keeps the source range it came from so that a planner error points at the DSL line.
// One struct with a kind tag rather than a class hierarchy: Ops are small values that
// are copied, compared, hashed into checksums and printed.
#pragma once

#include "compiler/Schema.h"

#include <string>
#include <vector>

namespace strata::compiler {

enum class OpKind {
  CreateTable,
  DropTable,
  RenameTable,
  AddColumn,
  DropColumn,
  RenameColumn,
  AlterColumnType,
  SetNotNull,
  DropNotNull,
  SetDefault,
  DropDefault,
  AddIndex,
  DropIndex,
  RenameIndex,
  AddConstraint,
  DropConstraint,
  RenameConstraint,
  CreateEnum,
  AddEnumValue,
  DropEnum,
  Backfill,
  RawSql,
};

struct BackfillAssignment {
  std::string column;
  std::string value;
  friend bool operator==(const BackfillAssignment &, const BackfillAssignment &) = default;
};

struct Op {
  OpKind kind = OpKind::RawSql;
  std::string table;   ///< the table acted on (or the enum, for enum ops)
  std::string name;    ///< the column, index or constraint acted on
  std::string newName; ///< renames
  Table tableDef;      ///< CreateTable
  Column column;       ///< AddColumn; AlterColumnType (type); SetDefault (defaultExpr)
  Index index;         ///< AddIndex
  Constraint constraint; ///< AddConstraint
  EnumType enumDef;    ///< CreateEnum
  std::string label;   ///< AddEnumValue
  EnumPosition position = EnumPosition::End;
  std::string neighbour;
  std::string usingExpr; ///< AlterColumnType
  std::string fill;      ///< AddColumn, SetNotNull, AlterColumnType, RenameColumn
  std::vector<BackfillAssignment> assignments; ///< Backfill
  std::string where;                           ///< Backfill
  int64_t batchSize = 0;                       ///< Backfill
  SqlObject sql;                               ///< RawSql
  bool unsafe = false;
  std::string unsafeReason;
  SourceRange unsafeRange; ///< the `unsafe` marker, when unsafe
  SourceRange range;

  /// Equality of meaning: source ranges do not count.
  friend bool operator==(const Op &a, const Op &b);
};

/// A stable lower-case name of the kind ("add column"), for output.
const char *opKindName(OpKind kind);

/// One line describing the op, as `strata show --ops` prints it.
std::string describe(const Op &op);

} // namespace strata::compiler
