#include "compiler/Fold.h"

#include "compiler/Diagnostics.h"
#include "compiler/Diff.h"
#include "compiler/Naming.h"
#include "compiler/Sha256.h"
#include "compiler/SqlExpr.h"
#include "compiler/Types.h"

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/Casting.h>

#include <fmt/format.h>

namespace strata::compiler {

namespace {

constexpr size_t maxNameBytes = 63;

const char *indexMethods[] = {"btree", "hash", "gist", "spgist", "gin", "brin"};

bool isIntegerType(const DataType &t) {
  return t.arrayDims == 0 && t.schema.empty() &&
         (t.name == "smallint" || t.name == "integer" || t.name == "bigint");
}

/// An expression's text for the model: what PostgreSQL would store, without comments.
std::string exprText(const Expr *e) {
  if (!e)
    return "";
  if (e->kind != ExprKind::Sql)
    return e->text.str();
  return stripSqlComments(e->text);
}

/// What a column that failed its checks is taken to be from then on, so that the
/// statements that use it are checked too rather than reported as naming an unknown column.
Column placeholderColumn(const ColumnDef &def) {
  Column column;
  column.name = def.name.text.str();
  column.type.schema = def.type.schema.str();
  column.type.name = def.type.name.str();
  column.range = def.range;
  return column;
}

/// Where a diagnostic about an expression goes: PostgreSQL's error position when known.
SourceRange exprErrorRange(const Expr &e, size_t offset) {
  if (e.kind != ExprKind::Sql || offset == llvm::StringRef::npos || offset > e.text.size())
    return e.range;
  llvm::SMLoc loc = llvm::SMLoc::getFromPointer(e.text.data() + offset);
  return SourceRange(loc, loc);
}

/// Where a diagnostic about column \p name mentioned at \p offset of an expression goes:
/// the name itself when it is written there unquoted.
SourceRange columnRange(const Expr &e, size_t offset, llvm::StringRef name) {
  SourceRange at = exprErrorRange(e, offset);
  if (at.Start != at.End || !e.text.substr(offset).startswith_insensitive(name))
    return at;
  return SourceRange(at.Start, llvm::SMLoc::getFromPointer(at.Start.getPointer() + name.size()));
}

} // namespace

/// The checks and lowering of one version's statements. Kept out of the header: it is
/// long and only Folder uses it.
class Folder::Impl {
public:
  Impl(FoldContext &ctx, Schema &state, std::vector<Op> &ops)
      : ctx(ctx), diags(ctx.diags), state(state), ops(ops) {}

  void lower(const Stmt &stmt) {
    switch (stmt.kind) {
    case StmtKind::Table:
      return lowerTable(llvm::cast<TableStmt>(stmt));
    case StmtKind::AlterTable:
      return lowerAlter(llvm::cast<AlterTableStmt>(stmt));
    case StmtKind::DropTable:
      return lowerDropTable(llvm::cast<DropTableStmt>(stmt));
    case StmtKind::RenameTable: {
      const auto &r = llvm::cast<RenameTableStmt>(stmt);
      return lowerRenameTable(r.table, r.newName, stmt.range, stmt.unsafe);
    }
    case StmtKind::Enum:
      return lowerEnum(llvm::cast<EnumStmt>(stmt));
    case StmtKind::AlterEnum:
      return lowerAlterEnum(llvm::cast<AlterEnumStmt>(stmt));
    case StmtKind::DropEnum:
      return lowerDropEnum(llvm::cast<DropEnumStmt>(stmt));
    case StmtKind::Backfill:
      return lowerBackfill(llvm::cast<BackfillStmt>(stmt));
    case StmtKind::Sql:
      return lowerSql(llvm::cast<SqlStmt>(stmt));
    }
    llvm_unreachable("unknown statement kind");
  }

private:
  // --- helpers ----------------------------------------------------------------------------

  void emit(Op op, const UnsafeMarker &unsafe) {
    if (unsafe.present) {
      op.unsafe = true;
      op.unsafeReason = unsafe.reason.str();
      op.unsafeRange = unsafe.range;
    }
    applyOp(state, op);
    ops.push_back(std::move(op));
  }

  /// The table \p name if this subsystem owns it; otherwise reports why not.
  const Table *ownTable(const Name &name) {
    if (const Table *t = state.findTable(name.text))
      return t;
    if (const Table *t = findVisibleTable(name.text)) {
      diags.report(DiagID::ErrForeignTable, name.range, ctx.subsystem, name.text.str(), t->owner)
          .note(DiagID::NoteOwnedHere, t->range, name.text.str());
      return nullptr;
    }
    if (auto it = ctx.globalTables.find(name.text); it != ctx.globalTables.end() &&
                                                    it->second.subsystem != ctx.subsystemIndex) {
      diags.report(DiagID::ErrForeignTable, name.range, ctx.subsystem, name.text.str(),
                   ctx.project.subsystems[it->second.subsystem].name)
          .note(DiagID::NoteOwnedHere, it->second.range, name.text.str());
      return nullptr;
    }
    diags.report(DiagID::ErrUnknownTable, name.range, name.text.str(), ctx.version, ctx.subsystem);
    return nullptr;
  }

  const Table *findVisibleTable(llvm::StringRef name) const {
    for (const Schema *s : ctx.visible)
      if (const Table *t = s->findTable(name))
        return t;
    return nullptr;
  }

  const EnumType *findEnum(llvm::StringRef name) const {
    if (const EnumType *e = state.findEnum(name))
      return e;
    for (const Schema *s : ctx.visible)
      if (const EnumType *e = s->findEnum(name))
        return e;
    return nullptr;
  }

  /// Is \p name taken in PostgreSQL's relation namespace (tables, indexes, and the indexes
  /// behind primary keys and unique constraints)?
  bool relationTaken(llvm::StringRef name, const Table *extra = nullptr) const {
    if (extra && (extra->name == name || extra->findIndex(name) || hasIndexConstraint(*extra, name)))
      return true;
    if (state.findRelationOwner(name))
      return true;
    for (const Schema *s : ctx.visible)
      if (s->findRelationOwner(name))
        return true;
    return false;
  }

  static bool hasIndexConstraint(const Table &t, llvm::StringRef name) {
    for (const Constraint &c : t.constraints)
      if (c.name == name &&
          (c.kind == ConstraintKind::PrimaryKey || c.kind == ConstraintKind::Unique))
        return true;
    return false;
  }

  /// Constraint names PostgreSQL picks are unique in the schema.
  bool constraintTaken(llvm::StringRef name, const Table *extra) const {
    if (relationTaken(name, extra))
      return true;
    if (extra && extra->findConstraint(name))
      return true;
    return state.findConstraintOwner(name) != nullptr;
  }

  std::optional<DataType> lowerType(const TypeRef &ref, ColumnGeneration *generation) {
    DataType out;
    out.schema = ref.schema.str();
    out.mods.assign(ref.mods.begin(), ref.mods.end());
    out.arrayDims = ref.arrayDims;
    SourceRange where = ref.range;
    if (ref.schema.empty() || ref.schema == "pg_catalog") {
      if (auto builtin = lookupBuiltinType(ref.name)) {
        out.schema.clear();
        out.name = builtin->canonical.str();
        if (ref.mods.size() > builtin->maxMods) {
          diags.report(DiagID::ErrBadTypeMods, where, ref.name.str(),
                       builtin->maxMods == 0
                           ? std::string("takes no modifiers")
                           : fmt::format("takes at most {} modifier(s)", builtin->maxMods));
          return std::nullopt;
        }
        if (builtin->serial) {
          if (!generation || ref.arrayDims) {
            diags.report(DiagID::ErrUnknownType, where,
                         fmt::format("{}\" (serial types are only for new columns)", ref.name.str()));
            return std::nullopt;
          }
          *generation = ColumnGeneration::Serial;
        }
        return out;
      }
    }
    if (ref.schema.empty()) {
      if (findEnum(ref.name)) {
        out.name = ref.name.str();
        out.isEnum = true;
        if (!ref.mods.empty()) {
          diags.report(DiagID::ErrBadTypeMods, where, ref.name.str(), "takes no modifiers");
          return std::nullopt;
        }
        return out;
      }
    }
    diags.report(DiagID::ErrUnknownType, where,
                 ref.schema.empty() ? ref.name.str() : (ref.schema + "." + ref.name).str());
    return std::nullopt;
  }

  /// Checks an expression with PostgreSQL's parser and, when \p table is given, that the
  /// columns it names exist in it.
  bool checkExpr(const Expr *e, const Table *table, bool columnsAllowed = true) {
    if (!e || e->kind != ExprKind::Sql)
      return true;
    SqlExprInfo info = checkSqlExpression(e->text);
    if (!info.ok) {
      if (info.errorOffset == llvm::StringRef::npos && !info.error.empty() &&
          info.error.rfind("it ", 0) == 0)
        diags.report(DiagID::ErrSqlNotSingle, e->range, info.error);
      else
        diags.report(DiagID::ErrSqlSyntax, exprErrorRange(*e, info.errorOffset), info.error);
      return false;
    }
    if (!columnsAllowed && !info.columns.empty()) {
      diags.report(DiagID::ErrSqlSyntax, columnRange(*e, info.columnOffsets[0], info.columns[0]),
                   fmt::format("a default cannot refer to column \"{}\"", info.columns[0]));
      return false;
    }
    if (!table)
      return true;
    bool ok = true;
    for (size_t i = 0; i < info.columns.size(); ++i) {
      if (table->findColumn(info.columns[i]))
        continue;
      diags.report(DiagID::ErrUnknownColumn, columnRange(*e, info.columnOffsets[i], info.columns[i]),
                   info.columns[i], table->name);
      ok = false;
    }
    return ok;
  }

  bool checkName(const Name &name) {
    if (name.text.size() > maxNameBytes) {
      // Already reported by the parser; keep going without a second message.
      return false;
    }
    return true;
  }

  /// A column definition as written, into the model. \p table is the table as it will
  /// be (for defaults, nothing; for checks, the columns).
  std::optional<Column> lowerColumn(const ColumnDef &def) {
    Column column;
    column.name = def.name.text.str();
    column.range = def.range;
    ColumnGeneration generation = ColumnGeneration::None;
    std::optional<DataType> type = lowerType(def.type, &generation);
    if (!type)
      return std::nullopt;
    column.type = *type;
    column.notNull = def.notNull;
    column.generation = generation;
    if (def.identity != Identity::None) {
      if (generation == ColumnGeneration::Serial || !isIntegerType(column.type)) {
        diags.report(DiagID::ErrIdentityType, def.type.range, column.type.str());
        return std::nullopt;
      }
      column.generation = def.identity == Identity::Always ? ColumnGeneration::IdentityAlways
                                                           : ColumnGeneration::IdentityByDefault;
      column.notNull = true;
    }
    if (generation == ColumnGeneration::Serial)
      column.notNull = true;
    if (def.defaultExpr) {
      if (column.generation == ColumnGeneration::Serial) {
        diags.report(DiagID::ErrDefaultOnSerial, def.defaultExpr->range, def.type.name.str());
        return std::nullopt;
      }
      if (column.generation != ColumnGeneration::None) {
        diags.report(DiagID::ErrIdentityDefault, def.defaultExpr->range);
        return std::nullopt;
      }
      if (!checkExpr(def.defaultExpr, nullptr, /*columnsAllowed=*/false))
        return std::nullopt;
      if (def.defaultExpr->kind != ExprKind::Null)
        column.defaultExpr = exprText(def.defaultExpr);
    }
    for (const ConstraintDef *c : def.constraints)
      if (c->kind == ConstraintKind::PrimaryKey) {
        if (def.explicitNull) {
          diags.report(DiagID::ErrPkNullable, def.nullRange, column.name);
          return std::nullopt;
        }
        column.notNull = true;
      }
    return column;
  }

  /// Resolves the table a foreign key references: this table, one of this subsystem's,
  /// or one of a required subsystem's.
  const Table *referencedTable(const Name &ref, const Table &self) {
    if (ref.text == self.name)
      return &self;
    if (const Table *t = state.findTable(ref.text))
      return t;
    if (const Table *t = findVisibleTable(ref.text))
      return t;
    if (auto it = ctx.globalTables.find(ref.text); it != ctx.globalTables.end()) {
      diags.report(DiagID::ErrFkNotRequired, ref.range, ref.text.str(),
                   ctx.project.subsystems[it->second.subsystem].name, ctx.subsystem)
          .note(DiagID::NoteOwnedHere, it->second.range, ref.text.str());
      return nullptr;
    }
    diags.report(DiagID::ErrUnknownTable, ref.range, ref.text.str(), ctx.version, ctx.subsystem);
    return nullptr;
  }

  static bool coversKey(const Table &t, const std::vector<std::string> &columns) {
    for (const Constraint &c : t.constraints)
      if ((c.kind == ConstraintKind::PrimaryKey || c.kind == ConstraintKind::Unique) &&
          c.columns.size() == columns.size() &&
          std::is_permutation(c.columns.begin(), c.columns.end(), columns.begin()))
        return true;
    for (const Index &i : t.indexes)
      if (i.unique && i.where.empty() && i.elems.size() == columns.size() &&
          llvm::all_of(i.elems, [&](const IndexColumn &e) {
            return !e.column.empty() && llvm::is_contained(columns, e.column);
          }))
        return true;
    return false;
  }

  /// A constraint as written, into the model, checked against \p table (which already
  /// has its columns). Names an unnamed one as PostgreSQL would.
  std::optional<Constraint> lowerConstraint(const ConstraintDef &def, const Table &table) {
    Constraint out;
    out.kind = def.kind;
    out.range = def.range;
    bool ok = true;
    for (const Name &column : def.columns) {
      if (!table.findColumn(column.text)) {
        diags.report(DiagID::ErrUnknownColumn, column.range, column.text.str(), table.name);
        ok = false;
      }
      out.columns.push_back(column.text.str());
    }
    switch (def.kind) {
    case ConstraintKind::PrimaryKey:
      if (const Constraint *pk = table.primaryKey()) {
        diags.report(DiagID::ErrMultiplePrimaryKeys, def.range, table.name)
            .note(DiagID::NotePreviousDefinition, pk->range);
        ok = false;
      }
      break;
    case ConstraintKind::Unique:
      break;
    case ConstraintKind::Check: {
      ok &= checkExpr(def.check, &table);
      out.check = exprText(def.check);
      // A check's columns are the ones its expression mentions, wherever it was written;
      // PostgreSQL names it after its column only when it mentions exactly one.
      out.columns.clear();
      if (def.check && def.check->kind == ExprKind::Sql)
        out.columns = checkSqlExpression(def.check->text).columns;
      break;
    }
    case ConstraintKind::ForeignKey: {
      out.onDelete = def.onDelete;
      out.onUpdate = def.onUpdate;
      const Table *target = referencedTable(def.refTable, table);
      if (!target)
        return std::nullopt;
      out.refTable = target->name;
      if (def.refColumns.empty()) {
        const Constraint *pk = target->primaryKey();
        if (!pk) {
          diags.report(DiagID::ErrFkNoPrimaryKey, def.refTable.range, target->name)
              .note(DiagID::NoteDeclaredHere, target->range);
          return std::nullopt;
        }
        out.refColumns = pk->columns;
      } else {
        for (const Name &c : def.refColumns) {
          if (!target->findColumn(c.text)) {
            diags.report(DiagID::ErrUnknownColumn, c.range, c.text.str(), target->name);
            ok = false;
          }
          out.refColumns.push_back(c.text.str());
        }
      }
      if (ok && out.refColumns.size() != out.columns.size()) {
        diags.report(DiagID::ErrFkColumnCount, def.range, out.columns.size(),
                     out.refColumns.size());
        ok = false;
      }
      if (ok && !coversKey(*target, out.refColumns)) {
        diags.report(DiagID::ErrFkTargetNotUnique, def.refTable.range,
                     fmt::format("{}", fmt::join(out.refColumns, ", ")), target->name)
            .note(DiagID::NoteDeclaredHere, target->range);
        ok = false;
      }
      break;
    }
    }
    if (!ok)
      return std::nullopt;
    if (!def.name.empty()) {
      out.name = def.name.text.str();
      if (const Constraint *other = table.findConstraint(out.name)) {
        diags.report(DiagID::ErrDuplicateConstraint, def.name.range, out.name, table.name)
            .note(DiagID::NotePreviousDefinition, other->range);
        return std::nullopt;
      }
      bool makesIndex = def.kind == ConstraintKind::PrimaryKey || def.kind == ConstraintKind::Unique;
      if (makesIndex && relationTaken(out.name, &table)) {
        diags.report(DiagID::ErrDuplicateIndex, def.name.range, out.name);
        return std::nullopt;
      }
      return out;
    }
    out.name = defaultConstraintName(out, table);
    return out;
  }

  std::string defaultConstraintName(const Constraint &c, const Table &table) {
    switch (c.kind) {
    case ConstraintKind::PrimaryKey:
      return chooseName(table.name, "", "pkey",
                        [&](llvm::StringRef n) { return constraintTaken(n, &table); });
    case ConstraintKind::Unique:
      return chooseName(table.name, joinColumnNames(c.columns), "key",
                        [&](llvm::StringRef n) { return constraintTaken(n, &table); });
    case ConstraintKind::Check:
      return chooseName(table.name, c.columns.size() == 1 ? c.columns[0] : "", "check",
                        [&](llvm::StringRef n) { return constraintTaken(n, &table); });
    case ConstraintKind::ForeignKey:
      return chooseName(table.name, joinColumnNames(c.columns), "fkey",
                        [&](llvm::StringRef n) { return constraintTaken(n, &table); });
    }
    llvm_unreachable("unknown constraint kind");
  }

  std::optional<Index> lowerIndex(const IndexDef &def, const Table &table) {
    Index out;
    out.unique = def.unique;
    out.range = def.range;
    bool ok = true;
    if (def.method) {
      out.method = def.method.text.str();
      if (!llvm::is_contained(indexMethods, out.method)) {
        diags.report(DiagID::ErrUnknownIndexMethod, def.method.range, out.method);
        ok = false;
      }
    }
    std::vector<std::string> nameParts;
    for (const IndexElem &e : def.elems) {
      IndexColumn column;
      column.opclass = e.opclass.text.str();
      column.order = e.order;
      column.nulls = e.nulls;
      if (e.expr) {
        ok &= checkExpr(e.expr, &table);
        column.expr = exprText(e.expr);
        SqlExprInfo info = checkSqlExpression(e.expr->text);
        nameParts.push_back(info.figuredName.empty() ? "expr" : info.figuredName);
      } else {
        if (!table.findColumn(e.column.text)) {
          diags.report(DiagID::ErrUnknownColumn, e.column.range, e.column.text.str(), table.name);
          ok = false;
        }
        column.column = e.column.text.str();
        nameParts.push_back(column.column);
      }
      out.elems.push_back(std::move(column));
    }
    if (def.where) {
      ok &= checkExpr(def.where, &table);
      out.where = exprText(def.where);
    }
    if (!ok)
      return std::nullopt;
    if (def.name) {
      out.name = def.name.text.str();
      if (relationTaken(out.name, &table)) {
        diags.report(DiagID::ErrDuplicateIndex, def.name.range, out.name);
        return std::nullopt;
      }
    } else {
      out.name = chooseName(table.name, joinColumnNames(nameParts), "idx",
                            [&](llvm::StringRef n) { return relationTaken(n, &table); });
    }
    return out;
  }

  // --- table statements ---------------------------------------------------------------------

  /// The table a `table` block declares, fully checked. \p previous is the table's state
  /// before this version when the block restates it. Returns false when errors were
  /// reported; \p table then holds what could be understood (every column, and the
  /// constraints and indexes that passed), for the statements that follow.
  bool buildTable(const TableStmt &stmt, const Table *previous, Table &table) {
    table.name = stmt.name.text.str();
    table.owner = ctx.subsystem;
    table.range = stmt.name.range;
    bool ok = true;
    if (stmt.columns.empty()) {
      diags.report(DiagID::ErrEmptyTable, stmt.name.range, table.name);
      ok = false;
    }
    llvm::StringMap<const ColumnDef *> seen;
    for (const ColumnDef *def : stmt.columns) {
      if (auto [it, inserted] = seen.try_emplace(def->name.text, def); !inserted) {
        diags.report(DiagID::ErrDuplicateColumn, def->name.range, def->name.text.str(), table.name)
            .note(DiagID::NotePreviousDefinition, it->second->name.range);
        ok = false;
        continue;
      }
      if (!previous && def->fill) {
        diags.report(DiagID::ErrFillMisplaced, def->fill->range,
                     "has no effect on a new table: it has no rows yet");
        ok = false;
      }
      if (!previous && def->was) {
        diags.report(DiagID::ErrWasOnNewTable, def->was.range, table.name);
        ok = false;
      }
      if (std::optional<Column> column = lowerColumn(*def)) {
        table.columns.push_back(std::move(*column));
      } else {
        table.columns.push_back(placeholderColumn(*def));
        ok = false;
      }
    }
    // Constraints in PostgreSQL's order: the primary key first, then the rest as written.
    std::vector<const ConstraintDef *> defs;
    for (const ColumnDef *def : stmt.columns)
      for (const ConstraintDef *c : def->constraints)
        defs.push_back(c);
    for (const ConstraintDef *c : stmt.constraints)
      defs.push_back(c);
    std::stable_partition(defs.begin(), defs.end(), [](const ConstraintDef *c) {
      return c->kind == ConstraintKind::PrimaryKey;
    });
    for (const ConstraintDef *def : defs) {
      std::optional<Constraint> c = lowerConstraint(*def, table);
      if (!c) {
        ok = false;
        continue;
      }
      if (c->kind == ConstraintKind::PrimaryKey)
        for (const std::string &col : c->columns)
          if (Column *column = table.findColumn(col))
            column->notNull = true;
      table.constraints.push_back(std::move(*c));
    }
    for (const IndexDef *def : stmt.indexes) {
      std::optional<Index> index = lowerIndex(*def, table);
      if (!index) {
        ok = false;
        continue;
      }
      table.indexes.push_back(std::move(*index));
    }
    return ok;
  }

  void lowerTable(const TableStmt &stmt) {
    if (const Table *previous = state.findTable(stmt.name.text))
      return lowerRestatedTable(stmt, *previous);
    if (const Table *foreign = findVisibleTable(stmt.name.text)) {
      diags.report(DiagID::ErrTableOwnedElsewhere, stmt.name.range, stmt.name.text.str(),
                   foreign->owner)
          .note(DiagID::NoteOwnedHere, foreign->range, stmt.name.text.str());
      return;
    }
    if (auto it = ctx.globalTables.find(stmt.name.text);
        it != ctx.globalTables.end() && it->second.subsystem != ctx.subsystemIndex) {
      diags.report(DiagID::ErrTableOwnedElsewhere, stmt.name.range, stmt.name.text.str(),
                   ctx.project.subsystems[it->second.subsystem].name)
          .note(DiagID::NoteOwnedHere, it->second.range, stmt.name.text.str());
      return;
    }
    if (const EnumType *type = findEnum(stmt.name.text)) {
      diags.report(DiagID::ErrDuplicateEnum, stmt.name.range, stmt.name.text.str())
          .note(DiagID::NotePreviousDefinition, type->range);
      return;
    }
    if (relationTaken(stmt.name.text)) {
      diags.report(DiagID::ErrDuplicateIndex, stmt.name.range, stmt.name.text.str());
      return;
    }
    Table table;
    bool ok = buildTable(stmt, nullptr, table);
    ctx.globalTables.try_emplace(table.name, TableOwner{ctx.subsystemIndex, table.range});
    if (!ok) {
      // An invalid table still declares its name: later statements are checked against
      // what could be understood of it instead of reporting it as unknown.
      state.putTable(std::move(table));
      return;
    }
    Op op;
    op.kind = OpKind::CreateTable;
    op.table = table.name;
    op.tableDef = std::move(table);
    op.range = stmt.range;
    emit(std::move(op), stmt.unsafe);
  }

  void lowerRestatedTable(const TableStmt &stmt, const Table &previousRef) {
    Table previous = previousRef; // emit() below replaces the state's copy
    // The restated table is checked on its own, as if new, but with its old indexes and
    // constraints out of the namespace so they may be declared again.
    Schema saved = state;
    state.removeTable(previous.name);
    Table declared;
    bool ok = buildTable(stmt, &previous, declared);
    state = std::move(saved);
    // `was` hints: which old column each declared column continues.
    RenameHints hints;
    for (const ColumnDef *def : stmt.columns) {
      if (!def->was)
        continue;
      if (!previous.findColumn(def->was.text)) {
        diags.report(DiagID::ErrWasUnknown, def->was.range, def->was.text.str(), previous.name);
        ok = false;
        continue;
      }
      if (const Column *taken = declared.findColumn(def->was.text)) {
        diags.report(DiagID::ErrWasTaken, def->was.range, def->was.text.str())
            .note(DiagID::NoteDeclaredHere, taken->range);
        ok = false;
        continue;
      }
      hints.push_back({def->was.text.str(), def->name.text.str()});
    }
    if (!ok) {
      state.putTable(std::move(declared)); // as for a new table: later statements see it
      return;
    }
    std::vector<Op> diffOps = diffTable(previous, declared, hints);
    // fill expressions written on restated columns go with the op that needs them.
    llvm::SmallPtrSet<const ColumnDef *, 4> filled;
    for (Op &op : diffOps) {
      op.range = stmt.range;
      const ColumnDef *def = nullptr;
      for (const ColumnDef *c : stmt.columns)
        if (c->name.text == (op.kind == OpKind::RenameColumn ? op.newName : op.name))
          def = c;
      if (def) {
        op.range = def->range;
        if (def->fill && (op.kind == OpKind::AddColumn || op.kind == OpKind::SetNotNull ||
                          op.kind == OpKind::AlterColumnType)) {
          op.fill = exprText(def->fill);
          filled.insert(def);
        }
      }
    }
    // A fill that no op takes would be ignored without a word. One that is taken reads the
    // row as declared here.
    for (const ColumnDef *def : stmt.columns) {
      if (!def->fill)
        continue;
      if (!filled.contains(def)) {
        diags.report(DiagID::ErrFillMisplaced, def->fill->range,
                     fmt::format("has no effect: column \"{}\" is not added, made not null or "
                                 "retyped here",
                                 def->name.text.str()));
        ok = false;
        continue;
      }
      ok &= checkExpr(def->fill, &declared);
    }
    if (!ok) {
      state.putTable(std::move(declared));
      return;
    }
    bool dropsColumn = llvm::any_of(diffOps, [](const Op &o) { return o.kind == OpKind::DropColumn; });
    bool addsColumn = llvm::any_of(diffOps, [](const Op &o) { return o.kind == OpKind::AddColumn; });
    if (dropsColumn && addsColumn) {
      for (const Op &drop : diffOps) {
        if (drop.kind != OpKind::DropColumn)
          continue;
        for (const Op &add : diffOps)
          if (add.kind == OpKind::AddColumn) {
            diags.report(DiagID::WarnRenameGuess, add.range, drop.name, previous.name, add.name,
                         drop.name);
            break;
          }
        break;
      }
    }
    for (Op &op : diffOps) {
      if (!checkOpFits(op))
        return;
      emit(std::move(op), stmt.unsafe);
    }
  }

  /// Checks that an op produced by a diff still fits the state (foreign keys from other
  /// tables to a dropped column, and so on).
  bool checkOpFits(const Op &op) {
    if (op.kind == OpKind::DropColumn)
      return checkColumnNotReferenced(op.table, op.name, op.range);
    if (op.kind == OpKind::DropConstraint)
      return checkConstraintNotReferenced(op.table, op.name, op.range);
    return true;
  }

  bool checkColumnNotReferenced(llvm::StringRef table, llvm::StringRef column, SourceRange where) {
    for (const auto &[_, t] : state.tables()) {
      if (t->name == table)
        continue;
      for (const Constraint &c : t->constraints)
        if (c.kind == ConstraintKind::ForeignKey && c.refTable == table &&
            llvm::is_contained(c.refColumns, column)) {
          diags.report(DiagID::ErrDropIndexedColumn, where, column.str(), "foreign key", c.name)
              .note(DiagID::NoteDeclaredHere, c.range);
          return false;
        }
    }
    return true;
  }

  bool checkConstraintNotReferenced(llvm::StringRef table, llvm::StringRef name,
                                    SourceRange where) {
    const Table *t = state.findTable(table);
    const Constraint *c = t ? t->findConstraint(name) : nullptr;
    if (!c || (c->kind != ConstraintKind::PrimaryKey && c->kind != ConstraintKind::Unique))
      return true;
    for (const auto &[_, other] : state.tables())
      for (const Constraint &fk : other->constraints)
        if (fk.kind == ConstraintKind::ForeignKey && fk.refTable == table &&
            fk.refColumns.size() == c->columns.size() &&
            std::is_permutation(fk.refColumns.begin(), fk.refColumns.end(), c->columns.begin())) {
          diags.report(DiagID::ErrDropReferencedTable, where, table.str(), fk.name, other->name)
              .note(DiagID::NoteDeclaredHere, fk.range);
          return false;
        }
    return true;
  }

  void lowerDropTable(const DropTableStmt &stmt) {
    const Table *table = ownTable(stmt.table);
    if (!table)
      return;
    for (const auto &[_, other] : state.tables()) {
      if (other->name == table->name)
        continue;
      for (const Constraint &fk : other->constraints)
        if (fk.kind == ConstraintKind::ForeignKey && fk.refTable == table->name) {
          diags.report(DiagID::ErrDropReferencedTable, stmt.table.range, table->name, fk.name,
                       other->name)
              .note(DiagID::NoteDeclaredHere, fk.range);
          return;
        }
    }
    Op op;
    op.kind = OpKind::DropTable;
    op.table = table->name;
    op.range = stmt.range;
    emit(std::move(op), stmt.unsafe);
  }

  void lowerRenameTable(const Name &from, const Name &to, SourceRange range,
                        const UnsafeMarker &unsafe) {
    const Table *table = ownTable(from);
    if (!table)
      return;
    if (from.text == to.text) {
      diags.report(DiagID::ErrRenameToSame, to.range, to.text.str());
      return;
    }
    const Table *existing = state.findTable(to.text);
    if (!existing)
      existing = findVisibleTable(to.text);
    if (existing) {
      diags.report(DiagID::ErrTableExists, to.range, to.text.str())
          .note(DiagID::NotePreviousDefinition, existing->range);
      return;
    }
    if (auto it = ctx.globalTables.find(to.text);
        it != ctx.globalTables.end() && it->second.subsystem != ctx.subsystemIndex) {
      diags.report(DiagID::ErrTableOwnedElsewhere, to.range, to.text.str(),
                   ctx.project.subsystems[it->second.subsystem].name)
          .note(DiagID::NoteOwnedHere, it->second.range, to.text.str());
      return;
    }
    if (relationTaken(to.text) || findEnum(to.text)) {
      diags.report(DiagID::ErrDuplicateIndex, to.range, to.text.str());
      return;
    }
    ctx.globalTables.try_emplace(to.text, TableOwner{ctx.subsystemIndex, to.range});
    Op op;
    op.kind = OpKind::RenameTable;
    op.table = table->name;
    op.newName = to.text.str();
    op.range = range;
    emit(std::move(op), unsafe);
  }

  // --- alter table --------------------------------------------------------------------------

  void lowerAlter(const AlterTableStmt &stmt) {
    if (!ownTable(stmt.table))
      return;
    std::string tableName = stmt.table.text.str();
    for (const AlterAction *action : stmt.actions) {
      UnsafeMarker unsafe = action->unsafe.present ? action->unsafe : stmt.unsafe;
      if (action->kind == AlterKind::RenameTable) {
        lowerRenameTable(Name{llvm::StringRef(tableName), stmt.table.range}, action->newName,
                         action->range, unsafe);
        if (state.findTable(action->newName.text))
          tableName = action->newName.text.str();
        continue;
      }
      lowerAction(tableName, *action, unsafe);
    }
  }

  /// `fill` and `using` are accepted by the grammar on any column change; only some
  /// changes give them a meaning.
  bool checkTails(const AlterAction &a) {
    bool ok = true;
    bool fillFits = a.change == ColumnChange::SetNotNull || a.change == ColumnChange::SetType;
    if (a.fill && !fillFits) {
      diags.report(DiagID::ErrFillMisplaced, a.fill->range,
                   "goes with 'add column', 'set not null' or a type change");
      ok = false;
    }
    if (a.usingExpr && a.change != ColumnChange::SetType) {
      const char *what = a.change == ColumnChange::SetNotNull    ? "'set not null'"
                         : a.change == ColumnChange::DropNotNull ? "'drop not null'"
                         : a.change == ColumnChange::SetDefault  ? "'set default'"
                                                                 : "'drop default'";
      diags.report(DiagID::ErrUsingMisplaced, a.usingExpr->range, what);
      ok = false;
    }
    return ok;
  }

  void lowerAction(const std::string &tableName, const AlterAction &a, const UnsafeMarker &unsafe) {
    const Table *table = state.findTable(tableName);
    assert(table && "alter of a table that ownTable accepted");
    Op op;
    op.table = tableName;
    op.range = a.range;
    switch (a.kind) {
    case AlterKind::AddColumn: {
      const ColumnDef &def = *a.column;
      if (const Column *existing = table->findColumn(def.name.text)) {
        diags.report(DiagID::ErrColumnExists, def.name.range, def.name.text.str(), tableName)
            .note(DiagID::NotePreviousDefinition, existing->range);
        return;
      }
      // A column that fails its checks is still added to the state, so that the
      // statements that use it are not reported again.
      auto declareAnyway = [&](Column column) {
        state.mutableTable(tableName).columns.push_back(std::move(column));
      };
      if (def.was) {
        diags.report(DiagID::ErrSyntax, def.was.range,
                     "'was' belongs to a restated table; here, write 'rename column'");
        return declareAnyway(placeholderColumn(def));
      }
      std::optional<Column> column = lowerColumn(def);
      if (!column)
        return declareAnyway(placeholderColumn(def));
      if (def.fill) {
        Table withColumn = *table;
        withColumn.columns.push_back(*column);
        if (!checkExpr(def.fill, &withColumn))
          return declareAnyway(std::move(*column));
      }
      op.kind = OpKind::AddColumn;
      op.name = column->name;
      op.column = *column;
      op.fill = exprText(def.fill);
      // Inline constraints become their own ops: the planner builds each safely.
      Table withColumn = *table;
      withColumn.columns.push_back(*column);
      std::vector<Constraint> constraints;
      for (const ConstraintDef *c : def.constraints) {
        std::optional<Constraint> lowered = lowerConstraint(*c, withColumn);
        if (!lowered)
          return declareAnyway(std::move(op.column));
        withColumn.constraints.push_back(*lowered);
        constraints.push_back(std::move(*lowered));
      }
      emit(std::move(op), unsafe);
      for (Constraint &c : constraints) {
        Op add;
        add.kind = OpKind::AddConstraint;
        add.table = tableName;
        add.name = c.name;
        add.constraint = std::move(c);
        add.range = add.constraint.range;
        emit(std::move(add), unsafe);
      }
      return;
    }
    case AlterKind::DropColumn: {
      if (!table->findColumn(a.name.text)) {
        diags.report(DiagID::ErrUnknownColumn, a.name.range, a.name.text.str(), tableName);
        return;
      }
      if (!checkColumnNotReferenced(tableName, a.name.text, a.name.range))
        return;
      op.kind = OpKind::DropColumn;
      op.name = a.name.text.str();
      return emit(std::move(op), unsafe);
    }
    case AlterKind::RenameColumn: {
      if (!table->findColumn(a.name.text)) {
        diags.report(DiagID::ErrUnknownColumn, a.name.range, a.name.text.str(), tableName);
        return;
      }
      if (a.name.text == a.newName.text) {
        diags.report(DiagID::ErrRenameToSame, a.newName.range, a.newName.text.str());
        return;
      }
      if (const Column *existing = table->findColumn(a.newName.text)) {
        diags.report(DiagID::ErrColumnExists, a.newName.range, a.newName.text.str(), tableName)
            .note(DiagID::NotePreviousDefinition, existing->range);
        return;
      }
      op.kind = OpKind::RenameColumn;
      op.name = a.name.text.str();
      op.newName = a.newName.text.str();
      return emit(std::move(op), unsafe);
    }
    case AlterKind::AlterColumn: {
      const Column *column = table->findColumn(a.name.text);
      if (!column) {
        diags.report(DiagID::ErrUnknownColumn, a.name.range, a.name.text.str(), tableName);
        return;
      }
      if (!checkTails(a))
        return;
      op.name = column->name;
      switch (a.change) {
      case ColumnChange::SetType: {
        std::optional<DataType> type = lowerType(a.type, nullptr);
        if (!type)
          return;
        if (!checkExpr(a.usingExpr, table) || !checkExpr(a.fill, table))
          return;
        op.kind = OpKind::AlterColumnType;
        op.column = *column;
        op.column.type = *type;
        op.usingExpr = exprText(a.usingExpr);
        op.fill = exprText(a.fill);
        break;
      }
      case ColumnChange::SetNotNull:
        if (!checkExpr(a.fill, table))
          return;
        op.kind = OpKind::SetNotNull;
        op.fill = exprText(a.fill);
        break;
      case ColumnChange::DropNotNull:
        if (table->primaryKey() && llvm::is_contained(table->primaryKey()->columns, column->name)) {
          diags.report(DiagID::ErrPkNullable, a.range, column->name);
          return;
        }
        op.kind = OpKind::DropNotNull;
        break;
      case ColumnChange::SetDefault:
        if (!checkExpr(a.defaultExpr, nullptr, /*columnsAllowed=*/false))
          return;
        op.kind = OpKind::SetDefault;
        op.column = *column;
        op.column.defaultExpr =
            a.defaultExpr->kind == ExprKind::Null ? "" : exprText(a.defaultExpr);
        break;
      case ColumnChange::DropDefault:
        op.kind = OpKind::DropDefault;
        break;
      }
      return emit(std::move(op), unsafe);
    }
    case AlterKind::AddIndex: {
      std::optional<Index> index = lowerIndex(*a.index, *table);
      if (!index)
        return;
      op.kind = OpKind::AddIndex;
      op.name = index->name;
      op.index = std::move(*index);
      return emit(std::move(op), unsafe);
    }
    case AlterKind::DropIndex: {
      if (!table->findIndex(a.name.text)) {
        if (const Constraint *c = table->findConstraint(a.name.text)) {
          diags.report(DiagID::ErrConstraintIsIndex, a.name.range, a.name.text.str(),
                       "a constraint", "drop constraint")
              .note(DiagID::NoteDeclaredHere, c->range);
          return;
        }
        diags.report(DiagID::ErrUnknownIndex, a.name.range, a.name.text.str(), tableName);
        return;
      }
      op.kind = OpKind::DropIndex;
      op.name = a.name.text.str();
      return emit(std::move(op), unsafe);
    }
    case AlterKind::RenameIndex: {
      if (!table->findIndex(a.name.text)) {
        diags.report(DiagID::ErrUnknownIndex, a.name.range, a.name.text.str(), tableName);
        return;
      }
      if (relationTaken(a.newName.text)) {
        diags.report(DiagID::ErrDuplicateIndex, a.newName.range, a.newName.text.str());
        return;
      }
      op.kind = OpKind::RenameIndex;
      op.name = a.name.text.str();
      op.newName = a.newName.text.str();
      return emit(std::move(op), unsafe);
    }
    case AlterKind::AddConstraint: {
      std::optional<Constraint> c = lowerConstraint(*a.constraint, *table);
      if (!c)
        return;
      op.kind = OpKind::AddConstraint;
      op.name = c->name;
      op.constraint = std::move(*c);
      return emit(std::move(op), unsafe);
    }
    case AlterKind::DropConstraint:
    case AlterKind::DropPrimaryKey: {
      const Constraint *c = a.kind == AlterKind::DropPrimaryKey
                                ? table->primaryKey()
                                : table->findConstraint(a.name.text);
      if (!c) {
        if (a.kind == AlterKind::DropPrimaryKey) {
          diags.report(DiagID::ErrNoPrimaryKey, a.range, tableName);
          return;
        }
        if (const Index *index = table->findIndex(a.name.text)) {
          diags.report(DiagID::ErrConstraintIsIndex, a.name.range, a.name.text.str(), "an index",
                       "drop index")
              .note(DiagID::NoteDeclaredHere, index->range);
          return;
        }
        diags.report(DiagID::ErrUnknownConstraint, a.name.range, a.name.text.str(), tableName);
        return;
      }
      if (!checkConstraintNotReferenced(tableName, c->name, a.range))
        return;
      op.kind = OpKind::DropConstraint;
      op.name = c->name;
      return emit(std::move(op), unsafe);
    }
    case AlterKind::RenameConstraint: {
      const Constraint *c = table->findConstraint(a.name.text);
      if (!c) {
        diags.report(DiagID::ErrUnknownConstraint, a.name.range, a.name.text.str(), tableName);
        return;
      }
      if (table->findConstraint(a.newName.text) || relationTaken(a.newName.text)) {
        diags.report(DiagID::ErrDuplicateIndex, a.newName.range, a.newName.text.str());
        return;
      }
      op.kind = OpKind::RenameConstraint;
      op.name = c->name;
      op.newName = a.newName.text.str();
      return emit(std::move(op), unsafe);
    }
    case AlterKind::RenameTable:
      llvm_unreachable("rename table is lowered by lowerAlter");
    }
  }

  // --- enums, backfills, raw SQL -----------------------------------------------------------

  void lowerEnum(const EnumStmt &stmt) {
    if (const EnumType *existing = findEnum(stmt.name.text)) {
      diags.report(DiagID::ErrDuplicateEnum, stmt.name.range, stmt.name.text.str())
          .note(DiagID::NotePreviousDefinition, existing->range);
      return;
    }
    const Table *table = state.findTable(stmt.name.text);
    if (!table)
      table = findVisibleTable(stmt.name.text);
    if (table) {
      diags.report(DiagID::ErrDuplicateEnum, stmt.name.range, stmt.name.text.str())
          .note(DiagID::NotePreviousDefinition, table->range);
      return;
    }
    EnumType type;
    type.name = stmt.name.text.str();
    type.owner = ctx.subsystem;
    type.range = stmt.name.range;
    bool ok = true;
    for (const EnumLabel &label : stmt.labels) {
      if (llvm::is_contained(type.labels, label.text)) {
        const EnumLabel *first = llvm::find_if(
            stmt.labels, [&](const EnumLabel &l) { return l.text == label.text; });
        diags.report(DiagID::ErrDuplicateEnumLabel, label.range, label.text.str(), type.name)
            .note(DiagID::NotePreviousDefinition, first->range);
        ok = false;
        continue;
      }
      if (label.text.size() > maxNameBytes) {
        diags.report(DiagID::ErrIdentTooLong, label.range, label.text.str(), label.text.size());
        ok = false;
      }
      type.labels.push_back(label.text.str());
    }
    if (!ok)
      return;
    Op op;
    op.kind = OpKind::CreateEnum;
    op.table = type.name;
    op.enumDef = std::move(type);
    op.range = stmt.range;
    emit(std::move(op), stmt.unsafe);
  }

  const EnumType *ownEnum(const Name &name) {
    if (const EnumType *e = state.findEnum(name.text))
      return e;
    if (const EnumType *e = findEnum(name.text)) {
      diags.report(DiagID::ErrForeignTable, name.range, ctx.subsystem, name.text.str(), e->owner)
          .note(DiagID::NoteOwnedHere, e->range, name.text.str());
      return nullptr;
    }
    diags.report(DiagID::ErrUnknownEnum, name.range, name.text.str());
    return nullptr;
  }

  void lowerAlterEnum(const AlterEnumStmt &stmt) {
    const EnumType *type = ownEnum(stmt.name);
    if (!type)
      return;
    if (llvm::is_contained(type->labels, stmt.label.text)) {
      diags.report(DiagID::ErrDuplicateEnumLabel, stmt.label.range, stmt.label.text.str(),
                   type->name);
      return;
    }
    if (stmt.label.text.size() > maxNameBytes) {
      diags.report(DiagID::ErrIdentTooLong, stmt.label.range, stmt.label.text.str(),
                   stmt.label.text.size());
      return;
    }
    if (stmt.position != EnumPosition::End &&
        !llvm::is_contained(type->labels, stmt.neighbour.text)) {
      diags.report(DiagID::ErrUnknownEnumLabel, stmt.neighbour.range, type->name,
                   stmt.neighbour.text.str());
      return;
    }
    Op op;
    op.kind = OpKind::AddEnumValue;
    op.table = type->name;
    op.label = stmt.label.text.str();
    op.position = stmt.position;
    op.neighbour = stmt.neighbour.text.str();
    op.range = stmt.range;
    emit(std::move(op), stmt.unsafe);
  }

  void lowerDropEnum(const DropEnumStmt &stmt) {
    const EnumType *type = ownEnum(stmt.name);
    if (!type)
      return;
    for (const auto &[_, table] : state.tables())
      for (const Column &c : table->columns)
        if (c.type.isEnum && c.type.name == type->name) {
          diags.report(DiagID::ErrEnumInUse, stmt.name.range, type->name, table->name, c.name)
              .note(DiagID::NoteDeclaredHere, c.range);
          return;
        }
    Op op;
    op.kind = OpKind::DropEnum;
    op.table = type->name;
    op.range = stmt.range;
    emit(std::move(op), stmt.unsafe);
  }

  void lowerBackfill(const BackfillStmt &stmt) {
    const Table *table = ownTable(stmt.table);
    if (!table)
      return;
    Op op;
    op.kind = OpKind::Backfill;
    op.table = table->name;
    op.range = stmt.range;
    op.batchSize = stmt.batchSize;
    bool ok = true;
    for (const Assignment &a : stmt.assignments) {
      if (!table->findColumn(a.column.text)) {
        diags.report(DiagID::ErrUnknownColumn, a.column.range, a.column.text.str(), table->name);
        ok = false;
        continue;
      }
      if (llvm::any_of(op.assignments,
                       [&](const BackfillAssignment &b) { return b.column == a.column.text; })) {
        diags.report(DiagID::ErrDuplicateAssignment, a.column.range, a.column.text.str());
        ok = false;
        continue;
      }
      ok &= checkExpr(a.value, table);
      op.assignments.push_back({a.column.text.str(), exprText(a.value)});
    }
    ok &= checkExpr(stmt.where, table);
    op.where = exprText(stmt.where);
    if (ok)
      emit(std::move(op), stmt.unsafe);
  }

  void lowerSql(const SqlStmt &stmt) {
    SqlObject object;
    object.name = stmt.name.text.str();
    object.owner = ctx.subsystem;
    object.range = stmt.range;
    bool ok = true;
    auto check = [&](const SqlText &part, const char *which) {
      if (!part.present)
        return;
      SqlScriptInfo info = checkSqlScript(part.text);
      if (info.ok && !info.transactionControl.empty()) {
        // A COMMIT would commit the step without its record (or the record without the
        // rest), and a crash in between would run the step again.
        llvm::SMLoc loc =
            llvm::SMLoc::getFromPointer(part.text.data() + info.transactionControlOffset);
        diags.report(DiagID::ErrSqlBlockTransaction, SourceRange(loc, loc), info.transactionControl,
                     which);
        ok = false;
        return;
      }
      if (info.ok)
        return;
      llvm::SMLoc loc = info.errorOffset == llvm::StringRef::npos
                            ? part.range.Start
                            : llvm::SMLoc::getFromPointer(part.text.data() + info.errorOffset);
      diags.report(DiagID::ErrSqlBlockSyntax, SourceRange(loc, loc), which, info.error);
      ok = false;
    };
    check(stmt.up, "up");
    check(stmt.finish, "finish");
    if (!object.name.empty())
      for (const SqlObject &other : state.sql())
        if (other.name == object.name) {
          diags.report(DiagID::ErrDuplicateSqlName, stmt.name.range, object.name)
              .note(DiagID::NotePreviousDefinition, other.range);
          ok = false;
        }
    if (!ok)
      return;
    object.up = stmt.up.text.str();
    object.finish = stmt.finish.text.str();
    Op op;
    op.kind = OpKind::RawSql;
    op.sql = std::move(object);
    op.range = stmt.range;
    emit(std::move(op), stmt.unsafe);
  }

  FoldContext &ctx;
  DiagnosticsEngine &diags;
  Schema &state;
  std::vector<Op> &ops;
};

Folder::Folder(FoldContext &context, Schema start) : context(context), state(std::move(start)) {}
Folder::~Folder() = default;

void Folder::lower(const Stmt &stmt) {
  Impl impl(context, state, ops);
  impl.lower(stmt);
}

// --- applying ops ---------------------------------------------------------------------------

namespace {
void renameInList(std::vector<std::string> &names, llvm::StringRef from, llvm::StringRef to) {
  for (std::string &n : names)
    if (n == from)
      n = to.str();
}

bool mentions(const Constraint &c, llvm::StringRef column) {
  return llvm::is_contained(c.columns, column);
}

bool exprMentions(const std::string &expr, llvm::StringRef column) {
  if (expr.empty())
    return false;
  std::vector<std::string> columns = checkSqlExpression(expr).columns;
  return llvm::is_contained(columns, column);
}

/// Whether the index uses \p column: as a key, in a key expression or in its predicate.
bool mentions(const Index &i, llvm::StringRef column) {
  return exprMentions(i.where, column) || llvm::any_of(i.elems, [&](const IndexColumn &e) {
           return e.column == column || exprMentions(e.expr, column);
         });
}

void renameInExpr(std::string &expr, llvm::StringRef from, llvm::StringRef to) {
  if (exprMentions(expr, from))
    expr = renameColumnInExpression(expr, from, to);
}
} // namespace

void applyOp(Schema &schema, const Op &op) {
  switch (op.kind) {
  case OpKind::CreateTable:
    schema.putTable(op.tableDef);
    return;
  case OpKind::DropTable:
    schema.removeTable(op.table);
    return;
  case OpKind::RenameTable: {
    Table table = *schema.findTable(op.table);
    schema.removeTable(op.table);
    table.name = op.newName;
    schema.putTable(std::move(table));
    // Foreign keys follow the table (PostgreSQL tracks them by OID).
    std::vector<std::string> referencing;
    for (const auto &[name, t] : schema.tables())
      for (const Constraint &c : t->constraints)
        if (c.kind == ConstraintKind::ForeignKey && c.refTable == op.table)
          referencing.push_back(name);
    for (const std::string &name : referencing)
      for (Constraint &c : schema.mutableTable(name).constraints)
        if (c.kind == ConstraintKind::ForeignKey && c.refTable == op.table)
          c.refTable = op.newName;
    return;
  }
  case OpKind::AddColumn:
    schema.mutableTable(op.table).columns.push_back(op.column);
    return;
  case OpKind::DropColumn: {
    Table &t = schema.mutableTable(op.table);
    llvm::erase_if(t.columns, [&](const Column &c) { return c.name == op.name; });
    // As in PostgreSQL, indexes and constraints on the column go with it.
    llvm::erase_if(t.constraints, [&](const Constraint &c) { return mentions(c, op.name); });
    llvm::erase_if(t.indexes, [&](const Index &i) { return mentions(i, op.name); });
    return;
  }
  case OpKind::RenameColumn: {
    Table &t = schema.mutableTable(op.table);
    t.findColumn(op.name)->name = op.newName;
    // Like PostgreSQL, which stores expressions as trees, checks and index expressions
    // follow the rename; their text is rewritten to say what the catalog will print.
    for (Constraint &c : t.constraints) {
      renameInList(c.columns, op.name, op.newName);
      renameInExpr(c.check, op.name, op.newName);
    }
    for (Index &i : t.indexes) {
      for (IndexColumn &e : i.elems) {
        if (e.column == op.name)
          e.column = op.newName;
        renameInExpr(e.expr, op.name, op.newName);
      }
      renameInExpr(i.where, op.name, op.newName);
    }
    std::vector<std::string> referencing;
    for (const auto &[name, other] : schema.tables())
      for (const Constraint &c : other->constraints)
        if (c.kind == ConstraintKind::ForeignKey && c.refTable == op.table &&
            llvm::is_contained(c.refColumns, op.name))
          referencing.push_back(name);
    for (const std::string &name : referencing)
      for (Constraint &c : schema.mutableTable(name).constraints)
        if (c.kind == ConstraintKind::ForeignKey && c.refTable == op.table)
          renameInList(c.refColumns, op.name, op.newName);
    return;
  }
  // A changed column remembers where it was last changed: merge conflicts point there.
  case OpKind::AlterColumnType: {
    Column *c = schema.mutableTable(op.table).findColumn(op.name);
    c->type = op.column.type;
    c->range = op.range;
    return;
  }
  case OpKind::SetNotNull:
  case OpKind::DropNotNull: {
    Column *c = schema.mutableTable(op.table).findColumn(op.name);
    c->notNull = op.kind == OpKind::SetNotNull;
    c->range = op.range;
    return;
  }
  case OpKind::SetDefault:
  case OpKind::DropDefault: {
    Column *c = schema.mutableTable(op.table).findColumn(op.name);
    c->defaultExpr = op.kind == OpKind::SetDefault ? op.column.defaultExpr : "";
    c->range = op.range;
    return;
  }
  case OpKind::AddIndex:
    schema.mutableTable(op.table).indexes.push_back(op.index);
    return;
  case OpKind::DropIndex:
    llvm::erase_if(schema.mutableTable(op.table).indexes,
                   [&](const Index &i) { return i.name == op.name; });
    return;
  case OpKind::RenameIndex:
    for (Index &i : schema.mutableTable(op.table).indexes)
      if (i.name == op.name)
        i.name = op.newName;
    return;
  case OpKind::AddConstraint: {
    Table &t = schema.mutableTable(op.table);
    if (op.constraint.kind == ConstraintKind::PrimaryKey)
      for (const std::string &col : op.constraint.columns)
        if (Column *c = t.findColumn(col))
          c->notNull = true;
    t.constraints.push_back(op.constraint);
    return;
  }
  case OpKind::DropConstraint:
    llvm::erase_if(schema.mutableTable(op.table).constraints,
                   [&](const Constraint &c) { return c.name == op.name; });
    return;
  case OpKind::RenameConstraint:
    for (Constraint &c : schema.mutableTable(op.table).constraints)
      if (c.name == op.name)
        c.name = op.newName;
    return;
  case OpKind::CreateEnum:
    schema.putEnum(op.enumDef);
    return;
  case OpKind::AddEnumValue: {
    EnumType type = *schema.findEnum(op.table);
    auto at = type.labels.end();
    if (op.position != EnumPosition::End) {
      at = std::find(type.labels.begin(), type.labels.end(), op.neighbour);
      if (op.position == EnumPosition::After && at != type.labels.end())
        ++at;
    }
    type.labels.insert(at, op.label);
    schema.putEnum(std::move(type));
    return;
  }
  case OpKind::DropEnum:
    schema.removeEnum(op.table);
    return;
  case OpKind::Backfill:
    return; // data only
  case OpKind::RawSql:
    schema.addSqlObject(op.sql);
    return;
  }
  llvm_unreachable("unknown op kind");
}

// --- checksums ------------------------------------------------------------------------------

namespace {
void put(std::string &out, llvm::StringRef field) {
  // Length-prefixed, so that no two different op lists serialise the same.
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

/// Whitespace in SQL text is not meaning: collapse runs so that reformatting an
/// expression does not change a checksum.
std::string normalizeSql(llvm::StringRef text) {
  std::string out;
  bool space = false;
  char quote = 0;
  for (char c : text) {
    if (quote) {
      out += c;
      if (c == quote)
        quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty())
      out += ' ';
    space = false;
    out += c;
  }
  return out;
}
void putColumn(std::string &out, const Column &c) {
  put(out, c.name);
  put(out, c.type.str());
  put(out, c.notNull ? "1" : "0");
  put(out, normalizeSql(c.defaultExpr));
  put(out, std::to_string(static_cast<int>(c.generation)));
}

void putConstraint(std::string &out, const Constraint &c) {
  put(out, c.name);
  put(out, std::to_string(static_cast<int>(c.kind)));
  for (const std::string &col : c.columns)
    put(out, col);
  put(out, "|");
  put(out, normalizeSql(c.check));
  put(out, c.refTable);
  for (const std::string &col : c.refColumns)
    put(out, col);
  put(out, "|");
  put(out, std::to_string(static_cast<int>(c.onDelete)));
  put(out, std::to_string(static_cast<int>(c.onUpdate)));
}

void putIndex(std::string &out, const Index &i) {
  put(out, i.name);
  put(out, i.unique ? "1" : "0");
  put(out, i.method);
  for (const IndexColumn &e : i.elems) {
    put(out, e.column);
    put(out, normalizeSql(e.expr));
    put(out, e.opclass);
    put(out, std::to_string(static_cast<int>(e.order)));
    put(out, std::to_string(static_cast<int>(e.nulls)));
  }
  put(out, "|");
  put(out, normalizeSql(i.where));
}

} // namespace

std::string canonicalOp(const Op &op) {
  std::string out;
  put(out, opKindName(op.kind));
  put(out, op.table);
  put(out, op.name);
  put(out, op.newName);
  switch (op.kind) {
  case OpKind::CreateTable:
    for (const Column &c : op.tableDef.columns)
      putColumn(out, c);
    for (const Constraint &c : op.tableDef.constraints)
      putConstraint(out, c);
    for (const Index &i : op.tableDef.indexes)
      putIndex(out, i);
    break;
  case OpKind::AddColumn:
  case OpKind::AlterColumnType:
  case OpKind::SetDefault:
    putColumn(out, op.column);
    break;
  case OpKind::AddIndex:
    putIndex(out, op.index);
    break;
  case OpKind::AddConstraint:
    putConstraint(out, op.constraint);
    break;
  case OpKind::CreateEnum:
    for (const std::string &l : op.enumDef.labels)
      put(out, l);
    break;
  case OpKind::AddEnumValue:
    put(out, op.label);
    put(out, std::to_string(static_cast<int>(op.position)));
    put(out, op.neighbour);
    break;
  case OpKind::Backfill:
    for (const BackfillAssignment &a : op.assignments) {
      put(out, a.column);
      put(out, normalizeSql(a.value));
    }
    put(out, normalizeSql(op.where));
    put(out, std::to_string(op.batchSize));
    break;
  case OpKind::RawSql:
    put(out, op.sql.name);
    put(out, normalizeSql(op.sql.up));
    put(out, normalizeSql(op.sql.finish));
    break;
  case OpKind::DropTable:
  case OpKind::RenameTable:
  case OpKind::DropColumn:
  case OpKind::RenameColumn:
  case OpKind::SetNotNull:
  case OpKind::DropNotNull:
  case OpKind::DropDefault:
  case OpKind::DropIndex:
  case OpKind::RenameIndex:
  case OpKind::DropConstraint:
  case OpKind::RenameConstraint:
  case OpKind::DropEnum:
    break;
  }
  put(out, normalizeSql(op.usingExpr));
  put(out, normalizeSql(op.fill));
  put(out, op.unsafe ? "unsafe" : "");
  return out;
}

std::string checksumOf(const Version &version) {
  Sha256 hash;
  for (const Op &op : version.ops)
    hash.update(canonicalOp(op));
  return hash.finalHex();
}

} // namespace strata::compiler
