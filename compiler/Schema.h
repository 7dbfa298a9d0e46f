// The Schema model: the complete state of a subsystem's objects at one version.
//
// Plain value types: copyable, comparable (source ranges do not take part in equality),
// printable, no pointers into the AST. A Schema shares unchanged tables between versions
// (shared_ptr to const), so folding thousands of versions copies only what changes.
#pragma once

#include "compiler/AST.h"

#include <llvm/ADT/StringMap.h>
#include <llvm/ADT/StringRef.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace strata::compiler {

struct DataType {
  std::string schema; ///< empty: unqualified
  std::string name;   ///< canonical, as PostgreSQL's format_type prints it
  std::vector<int64_t> mods;
  unsigned arrayDims = 0;
  bool isEnum = false;

  /// "character varying(20)[]"
  std::string str() const;
  friend bool operator==(const DataType &a, const DataType &b) {
    return a.schema == b.schema && a.name == b.name && a.mods == b.mods &&
           a.arrayDims == b.arrayDims;
  }
};

enum class ColumnGeneration { None, IdentityAlways, IdentityByDefault, Serial };

struct Column {
  std::string name;
  DataType type;
  bool notNull = false;
  std::string defaultExpr; ///< empty: no default
  ColumnGeneration generation = ColumnGeneration::None;
  SourceRange range;

  friend bool operator==(const Column &a, const Column &b) {
    return a.name == b.name && a.type == b.type && a.notNull == b.notNull &&
           a.defaultExpr == b.defaultExpr && a.generation == b.generation;
  }
};

struct Constraint {
  std::string name;
  ConstraintKind kind = ConstraintKind::Check;
  std::vector<std::string> columns;
  std::string check; ///< Check
  std::string refTable;
  std::vector<std::string> refColumns;
  RefAction onDelete = RefAction::NoAction;
  RefAction onUpdate = RefAction::NoAction;
  SourceRange range;

  friend bool operator==(const Constraint &a, const Constraint &b) {
    return a.name == b.name && a.kind == b.kind && a.columns == b.columns &&
           a.check == b.check && a.refTable == b.refTable && a.refColumns == b.refColumns &&
           a.onDelete == b.onDelete && a.onUpdate == b.onUpdate;
  }
};

struct IndexColumn {
  std::string column; ///< set for a plain column
  std::string expr;   ///< set for an expression
  std::string opclass;
  SortOrder order = SortOrder::Default;
  NullsOrder nulls = NullsOrder::Default;

  friend bool operator==(const IndexColumn &a, const IndexColumn &b) {
    return a.column == b.column && a.expr == b.expr && a.opclass == b.opclass &&
           a.order == b.order && a.nulls == b.nulls;
  }
};

struct Index {
  std::string name;
  bool unique = false;
  std::string method = "btree";
  std::vector<IndexColumn> elems;
  std::string where; ///< empty: not partial
  SourceRange range;

  friend bool operator==(const Index &a, const Index &b) {
    return a.name == b.name && a.unique == b.unique && a.method == b.method &&
           a.elems == b.elems && a.where == b.where;
  }
};

struct Table {
  std::string name;
  std::string owner; ///< the subsystem that declared it
  std::vector<Column> columns;
  std::vector<Constraint> constraints;
  std::vector<Index> indexes;
  SourceRange range;

  const Column *findColumn(llvm::StringRef name) const;
  Column *findColumn(llvm::StringRef name);
  const Constraint *findConstraint(llvm::StringRef name) const;
  const Constraint *primaryKey() const;
  const Index *findIndex(llvm::StringRef name) const;

  /// Columns compare in order (their order is the catalog's attnum order); constraints
  /// and indexes as sets, since PostgreSQL gives them no order.
  friend bool operator==(const Table &a, const Table &b);
};

struct EnumType {
  std::string name;
  std::string owner;
  std::vector<std::string> labels;
  SourceRange range;

  friend bool operator==(const EnumType &a, const EnumType &b) {
    return a.name == b.name && a.owner == b.owner && a.labels == b.labels;
  }
};

/// What a `sql` block contributes: opaque to the model, kept so that bootstrap can
/// replay it and a changed block changes the version's checksum.
struct SqlObject {
  std::string name;
  std::string owner;
  std::string up;
  std::string finish;
  SourceRange range;

  friend bool operator==(const SqlObject &a, const SqlObject &b) {
    return a.name == b.name && a.owner == b.owner && a.up == b.up && a.finish == b.finish;
  }
};

class Schema {
public:
  using TablePtr = std::shared_ptr<const Table>;

  const Table *findTable(llvm::StringRef name) const;
  const EnumType *findEnum(llvm::StringRef name) const;
  /// Copy-on-write access: the returned table is this schema's own.
  Table &mutableTable(llvm::StringRef name);
  void putTable(Table table);
  void removeTable(llvm::StringRef name);
  void putEnum(EnumType type);
  void removeEnum(llvm::StringRef name);
  void addSqlObject(SqlObject object) { sqlObjects.push_back(std::move(object)); }

  /// Tables sorted by name.
  const std::map<std::string, TablePtr, std::less<>> &tables() const { return tableMap; }
  const std::map<std::string, EnumType, std::less<>> &enums() const { return enumMap; }
  const std::vector<SqlObject> &sql() const { return sqlObjects; }
  /// The table that owns index or constraint \p relation name (they share PostgreSQL's
  /// relation namespace), or null.
  const Table *findRelationOwner(llvm::StringRef name) const;
  /// The table with a constraint named \p name, or null. PostgreSQL picks constraint
  /// names that are unique in the schema, not only in their table.
  const Table *findConstraintOwner(llvm::StringRef name) const;

  /// Brings the name indexes up to date. Until the next change, lookups on this schema
  /// then only read it: call before threads share it (the lookups are const, but an
  /// index made stale by mutableTable() is rebuilt by the next lookup).
  void refreshNames() const;

  friend bool operator==(const Schema &a, const Schema &b);

private:
  using NameIndex = llvm::StringMap<std::vector<std::string>>;
  void indexNames(const Table &table, bool add) const;
  const Table *firstOwner(const NameIndex &index, llvm::StringRef name) const;

  std::map<std::string, TablePtr, std::less<>> tableMap;
  std::map<std::string, EnumType, std::less<>> enumMap;
  std::vector<SqlObject> sqlObjects;
  // Index and constraint names -> the tables that hold them, so that a lookup does not
  // scan every table (folding thousands of tables would be quadratic). mutableTable()
  // hands out a reference, so it takes that table's names out and marks it stale; the
  // next lookup puts them back.
  mutable NameIndex relationNames;   ///< indexes, primary keys, unique constraints
  mutable NameIndex constraintNames; ///< every constraint
  mutable std::set<std::string, std::less<>> staleNames;
};

} // namespace strata::compiler
