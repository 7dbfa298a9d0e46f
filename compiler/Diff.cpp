#include "compiler/Diff.h"

#include "compiler/Fold.h"

#include <llvm/ADT/STLExtras.h>

namespace strata::compiler {

namespace {
Op makeOp(OpKind kind, const std::string &table, const std::string &name) {
  Op op;
  op.kind = kind;
  op.table = table;
  op.name = name;
  return op;
}

template <typename T>
const T *findByName(const std::vector<T> &items, const std::string &name) {
  for (const T &item : items)
    if (item.name == name)
      return &item;
  return nullptr;
}
} // namespace

std::vector<Op> diffTable(const Table &from, const Table &to, const RenameHints &hints) {
  std::vector<Op> ops;
  Schema scratch;
  scratch.putTable(from);
  auto push = [&](Op op) {
    applyOp(scratch, op);
    ops.push_back(std::move(op));
  };
  for (const RenameHint &hint : hints) {
    Op op = makeOp(OpKind::RenameColumn, from.name, hint.from);
    op.newName = hint.to;
    push(std::move(op));
  }
  auto current = [&]() -> const Table & { return *scratch.findTable(from.name); };

  std::vector<std::string> dropConstraints;
  for (const Constraint &c : current().constraints) {
    const Constraint *wanted = findByName(to.constraints, c.name);
    if (!wanted || !(*wanted == c))
      dropConstraints.push_back(c.name);
  }
  for (const std::string &name : dropConstraints)
    push(makeOp(OpKind::DropConstraint, from.name, name));
  std::vector<std::string> dropIndexes;
  for (const Index &i : current().indexes) {
    const Index *wanted = findByName(to.indexes, i.name);
    if (!wanted || !(*wanted == i))
      dropIndexes.push_back(i.name);
  }
  for (const std::string &name : dropIndexes)
    push(makeOp(OpKind::DropIndex, from.name, name));

  std::vector<std::string> dropColumns;
  for (const Column &c : current().columns)
    if (!to.findColumn(c.name))
      dropColumns.push_back(c.name);
  for (const std::string &name : dropColumns)
    push(makeOp(OpKind::DropColumn, from.name, name));

  for (const Column &c : to.columns) {
    if (current().findColumn(c.name))
      continue;
    Op op = makeOp(OpKind::AddColumn, from.name, c.name);
    op.column = c;
    push(std::move(op));
  }

  for (const Column &wanted : to.columns) {
    const Column *have = current().findColumn(wanted.name);
    if (!have)
      continue;
    Column before = *have;
    if (!(before.type == wanted.type)) {
      Op op = makeOp(OpKind::AlterColumnType, from.name, wanted.name);
      op.column = before;
      op.column.type = wanted.type;
      push(std::move(op));
    }
    if (before.defaultExpr != wanted.defaultExpr) {
      if (wanted.defaultExpr.empty()) {
        push(makeOp(OpKind::DropDefault, from.name, wanted.name));
      } else {
        Op op = makeOp(OpKind::SetDefault, from.name, wanted.name);
        op.column = before;
        op.column.defaultExpr = wanted.defaultExpr;
        push(std::move(op));
      }
    }
    if (!before.notNull && wanted.notNull)
      push(makeOp(OpKind::SetNotNull, from.name, wanted.name));
    if (before.notNull && !wanted.notNull)
      push(makeOp(OpKind::DropNotNull, from.name, wanted.name));
  }

  for (const Constraint &c : to.constraints) {
    if (current().findConstraint(c.name))
      continue;
    Op op = makeOp(OpKind::AddConstraint, from.name, c.name);
    op.constraint = c;
    push(std::move(op));
  }
  for (const Index &i : to.indexes) {
    if (current().findIndex(i.name))
      continue;
    Op op = makeOp(OpKind::AddIndex, from.name, i.name);
    op.index = i;
    push(std::move(op));
  }
  return ops;
}

std::vector<Op> diffSchema(const Schema &from, const Schema &to) {
  std::vector<Op> ops;
  for (const auto &[name, type] : to.enums()) {
    const EnumType *have = from.findEnum(name);
    if (!have) {
      Op op = makeOp(OpKind::CreateEnum, name, "");
      op.enumDef = type;
      ops.push_back(std::move(op));
      continue;
    }
    for (size_t i = 0; i < type.labels.size(); ++i) {
      if (llvm::is_contained(have->labels, type.labels[i]))
        continue;
      Op op = makeOp(OpKind::AddEnumValue, name, "");
      op.label = type.labels[i];
      if (i > 0) {
        op.position = EnumPosition::After;
        op.neighbour = type.labels[i - 1];
      }
      ops.push_back(std::move(op));
    }
  }
  for (const auto &[name, table] : to.tables()) {
    const Table *have = from.findTable(name);
    if (!have) {
      Op op = makeOp(OpKind::CreateTable, name, "");
      op.tableDef = *table;
      ops.push_back(std::move(op));
      continue;
    }
    for (Op &op : diffTable(*have, *table))
      ops.push_back(std::move(op));
  }
  for (const auto &[name, _] : from.tables())
    if (!to.findTable(name))
      ops.push_back(makeOp(OpKind::DropTable, name, ""));
  for (const auto &[name, _] : from.enums())
    if (!to.findEnum(name))
      ops.push_back(makeOp(OpKind::DropEnum, name, ""));
  return ops;
}

} // namespace strata::compiler
