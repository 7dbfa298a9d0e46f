// The AST of .strata files: what the author wrote, with a source range on every node.
//
// Nodes are allocated in an ASTContext arena and are trivially destructible: lists are
// ArrayRefs and strings StringRefs into the source buffers or the arena. The AST lives only
// until it is lowered into the Schema model and Ops (see Lowering.h); nothing downstream
// keeps a pointer into it.
#pragma once

#include "compiler/Diagnostics.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>

#include <cstdint>

namespace strata::compiler {

/// An identifier as PostgreSQL sees it: unquoted names folded to lower case, quotes
/// removed. Empty text means "absent".
struct Name {
  llvm::StringRef text;
  SourceRange range;
  bool quoted = false;

  bool empty() const { return text.empty(); }
  explicit operator bool() const { return !text.empty(); }
};

enum class ExprKind {
  Sql,     ///< a parenthesised SQL expression; text is what is inside the parentheses
  Number,  ///< a plain (optionally signed) number
  String,  ///< a single-quoted SQL string literal, text includes the quotes
  Boolean, ///< true or false
  Null,    ///< null
};

/// An SQL expression as written. Its text points into the source buffer, so that an
/// error from PostgreSQL's parser can be mapped back to a column.
struct Expr {
  ExprKind kind;
  llvm::StringRef text;
  SourceRange range;
};

/// A type as written: a canonical base name (multi-word names are joined with a single
/// space, unquoted parts lower-cased), modifiers and array dimensions.
struct TypeRef {
  llvm::StringRef schema; ///< empty unless qualified
  llvm::StringRef name;
  llvm::ArrayRef<int64_t> mods;
  unsigned arrayDims = 0;
  SourceRange range;
};

enum class RefAction { NoAction, Restrict, Cascade, SetNull, SetDefault };

enum class ConstraintKind { PrimaryKey, Unique, Check, ForeignKey };

/// A constraint, written on a column (columns then holds that one column) or on a table.
struct ConstraintDef {
  ConstraintKind kind;
  Name name; ///< empty when unnamed: PostgreSQL's default name is chosen later
  llvm::ArrayRef<Name> columns;
  const Expr *check = nullptr;
  Name refTable;
  llvm::ArrayRef<Name> refColumns; ///< empty: the referenced table's primary key
  RefAction onDelete = RefAction::NoAction;
  RefAction onUpdate = RefAction::NoAction;
  SourceRange range;
};

enum class Identity { None, Always, ByDefault };

struct ColumnDef {
  Name name;
  TypeRef type;
  bool notNull = false;
  bool explicitNull = false;
  SourceRange nullRange; ///< where `null` / `not null` was written
  const Expr *defaultExpr = nullptr;
  const Expr *fill = nullptr;
  Name was; ///< the column's name in the previous version, on a restated table
  Identity identity = Identity::None;
  llvm::ArrayRef<const ConstraintDef *> constraints;
  SourceRange range;
};

enum class SortOrder { Default, Asc, Desc };
enum class NullsOrder { Default, First, Last };

struct IndexElem {
  Name column;               ///< set for a plain column
  const Expr *expr = nullptr; ///< set for an expression (text without outer parentheses)
  Name opclass;
  SortOrder order = SortOrder::Default;
  NullsOrder nulls = NullsOrder::Default;
  SourceRange range;
};

struct IndexDef {
  Name name; ///< empty when unnamed: PostgreSQL's default name is chosen later
  bool unique = false;
  Name method; ///< empty: btree
  llvm::ArrayRef<IndexElem> elems;
  const Expr *where = nullptr;
  SourceRange range;
};

/// `unsafe ["reason"]` in front of a statement or an alter action.
struct UnsafeMarker {
  bool present = false;
  llvm::StringRef reason;
  SourceRange range;
};

enum class StmtKind {
  Table,
  AlterTable,
  DropTable,
  RenameTable,
  Enum,
  AlterEnum,
  DropEnum,
  Backfill,
  Sql,
};

struct Stmt {
  StmtKind kind;
  SourceRange range;
  UnsafeMarker unsafe;

protected:
  Stmt(StmtKind kind, SourceRange range) : kind(kind), range(range) {}
};

/// `table t { ... }`: a new table, or a restated one (the compiler diffs it).
struct TableStmt : Stmt {
  TableStmt(SourceRange range) : Stmt(StmtKind::Table, range) {}
  Name name;
  llvm::ArrayRef<const ColumnDef *> columns;
  llvm::ArrayRef<const ConstraintDef *> constraints;
  llvm::ArrayRef<const IndexDef *> indexes;
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Table; }
};

enum class AlterKind {
  AddColumn,
  DropColumn,
  RenameColumn,
  AlterColumn,
  AddIndex,
  DropIndex,
  RenameIndex,
  AddConstraint,
  DropConstraint,
  DropPrimaryKey,
  RenameConstraint,
  RenameTable,
};

enum class ColumnChange { SetType, SetNotNull, DropNotNull, SetDefault, DropDefault };

struct AlterAction {
  AlterKind kind;
  SourceRange range;
  UnsafeMarker unsafe;
  Name name;    ///< the column, index or constraint acted on
  Name newName; ///< renames
  const ColumnDef *column = nullptr;       ///< AddColumn
  ColumnChange change = ColumnChange::SetType; ///< AlterColumn
  TypeRef type;                            ///< SetType
  const Expr *defaultExpr = nullptr;       ///< SetDefault
  const Expr *usingExpr = nullptr;         ///< AlterColumn tail
  const Expr *fill = nullptr;              ///< AlterColumn tail
  const IndexDef *index = nullptr;         ///< AddIndex
  const ConstraintDef *constraint = nullptr; ///< AddConstraint
};

struct AlterTableStmt : Stmt {
  AlterTableStmt(SourceRange range) : Stmt(StmtKind::AlterTable, range) {}
  Name table;
  llvm::ArrayRef<const AlterAction *> actions;
  static bool classof(const Stmt *s) { return s->kind == StmtKind::AlterTable; }
};

struct DropTableStmt : Stmt {
  DropTableStmt(SourceRange range) : Stmt(StmtKind::DropTable, range) {}
  Name table;
  static bool classof(const Stmt *s) { return s->kind == StmtKind::DropTable; }
};

struct RenameTableStmt : Stmt {
  RenameTableStmt(SourceRange range) : Stmt(StmtKind::RenameTable, range) {}
  Name table;
  Name newName;
  static bool classof(const Stmt *s) { return s->kind == StmtKind::RenameTable; }
};

struct EnumLabel {
  llvm::StringRef text;
  SourceRange range;
};

struct EnumStmt : Stmt {
  EnumStmt(SourceRange range) : Stmt(StmtKind::Enum, range) {}
  Name name;
  llvm::ArrayRef<EnumLabel> labels;
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Enum; }
};

enum class EnumPosition { End, Before, After };

struct AlterEnumStmt : Stmt {
  AlterEnumStmt(SourceRange range) : Stmt(StmtKind::AlterEnum, range) {}
  Name name;
  EnumLabel label;
  EnumPosition position = EnumPosition::End;
  EnumLabel neighbour;
  static bool classof(const Stmt *s) { return s->kind == StmtKind::AlterEnum; }
};

struct DropEnumStmt : Stmt {
  DropEnumStmt(SourceRange range) : Stmt(StmtKind::DropEnum, range) {}
  Name name;
  static bool classof(const Stmt *s) { return s->kind == StmtKind::DropEnum; }
};

struct Assignment {
  Name column;
  const Expr *value;
  SourceRange range;
};

struct BackfillStmt : Stmt {
  BackfillStmt(SourceRange range) : Stmt(StmtKind::Backfill, range) {}
  Name table;
  llvm::ArrayRef<Assignment> assignments;
  const Expr *where = nullptr;
  int64_t batchSize = 0; ///< 0: the runtime's default
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Backfill; }
};

struct SqlText {
  llvm::StringRef text; ///< between the triple quotes
  SourceRange range;    ///< of the text
  bool present = false;
};

struct SqlStmt : Stmt {
  SqlStmt(SourceRange range) : Stmt(StmtKind::Sql, range) {}
  Name name; ///< optional
  SqlText up;
  SqlText finish;
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Sql; }
};

enum class VersionOp { Ge, Gt, Le, Lt, Eq };

struct VersionBound {
  VersionOp op;
  llvm::StringRef version;
  SourceRange range;        ///< the whole bound
  SourceRange versionRange; ///< the version string
};

/// `requires core >= "1.0.0"`: on a subsystem (all its versions) or on one version.
struct Requirement {
  Name subsystem;
  llvm::ArrayRef<VersionBound> bounds;
  SourceRange range;
};

struct ParentRef {
  llvm::StringRef version;
  SourceRange range;
};

struct VersionDecl {
  llvm::StringRef version;
  SourceRange versionRange;
  llvm::ArrayRef<ParentRef> parents; ///< as written after `after`
  bool explicitParents = false;
  llvm::ArrayRef<const Requirement *> requirements;
  llvm::ArrayRef<const Stmt *> stmts;
  SourceRange range;
};

struct SubsystemDecl {
  Name name;
  llvm::StringRef baseline;
  SourceRange baselineRange;
  llvm::ArrayRef<const Requirement *> requirements;
  llvm::ArrayRef<const VersionDecl *> versions;
  SourceRange range;
};

struct SourceFile {
  llvm::StringRef path;
  unsigned bufferId = 0;
  llvm::ArrayRef<const SubsystemDecl *> subsystems;
};

} // namespace strata::compiler
