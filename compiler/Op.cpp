#include "compiler/Op.h"

#include <fmt/format.h>

namespace strata::compiler {

bool operator==(const Op &a, const Op &b) {
  return a.kind == b.kind && a.table == b.table && a.name == b.name && a.newName == b.newName &&
         a.tableDef == b.tableDef && a.column == b.column && a.index == b.index &&
         a.constraint == b.constraint && a.enumDef == b.enumDef && a.label == b.label &&
         a.position == b.position && a.neighbour == b.neighbour && a.usingExpr == b.usingExpr &&
         a.fill == b.fill && a.assignments == b.assignments && a.where == b.where &&
         a.batchSize == b.batchSize && a.sql == b.sql && a.unsafe == b.unsafe &&
         a.unsafeReason == b.unsafeReason;
}

const char *opKindName(OpKind kind) {
  switch (kind) {
  case OpKind::CreateTable:
    return "create table";
  case OpKind::DropTable:
    return "drop table";
  case OpKind::RenameTable:
    return "rename table";
  case OpKind::AddColumn:
    return "add column";
  case OpKind::DropColumn:
    return "drop column";
  case OpKind::RenameColumn:
    return "rename column";
  case OpKind::AlterColumnType:
    return "alter column type";
  case OpKind::SetNotNull:
    return "set not null";
  case OpKind::DropNotNull:
    return "drop not null";
  case OpKind::SetDefault:
    return "set default";
  case OpKind::DropDefault:
    return "drop default";
  case OpKind::AddIndex:
    return "add index";
  case OpKind::DropIndex:
    return "drop index";
  case OpKind::RenameIndex:
    return "rename index";
  case OpKind::AddConstraint:
    return "add constraint";
  case OpKind::DropConstraint:
    return "drop constraint";
  case OpKind::RenameConstraint:
    return "rename constraint";
  case OpKind::CreateEnum:
    return "create enum";
  case OpKind::AddEnumValue:
    return "add enum value";
  case OpKind::DropEnum:
    return "drop enum";
  case OpKind::Backfill:
    return "backfill";
  case OpKind::RawSql:
    return "sql";
  }
  llvm_unreachable("unknown op kind");
}

std::string describe(const Op &op) {
  std::string out = opKindName(op.kind);
  switch (op.kind) {
  case OpKind::CreateTable:
  case OpKind::DropTable:
  case OpKind::Backfill:
    out += fmt::format(" \"{}\"", op.table);
    break;
  case OpKind::RenameTable:
    out += fmt::format(" \"{}\" to \"{}\"", op.table, op.newName);
    break;
  case OpKind::CreateEnum:
  case OpKind::DropEnum:
    out += fmt::format(" \"{}\"", op.table);
    break;
  case OpKind::AddEnumValue:
    out += fmt::format(" '{}' to \"{}\"", op.label, op.table);
    break;
  case OpKind::RenameColumn:
  case OpKind::RenameIndex:
  case OpKind::RenameConstraint:
    out += fmt::format(" \"{}\".\"{}\" to \"{}\"", op.table, op.name, op.newName);
    break;
  case OpKind::AlterColumnType:
    out += fmt::format(" \"{}\".\"{}\" to {}", op.table, op.name, op.column.type.str());
    break;
  case OpKind::SetDefault:
    out += fmt::format(" \"{}\".\"{}\" ({})", op.table, op.name, op.column.defaultExpr);
    break;
  case OpKind::AddColumn:
    out += fmt::format(" \"{}\".\"{}\" {}", op.table, op.name, op.column.type.str());
    if (op.column.notNull)
      out += " not null";
    if (!op.column.defaultExpr.empty())
      out += fmt::format(" default ({})", op.column.defaultExpr);
    break;
  case OpKind::DropColumn:
  case OpKind::SetNotNull:
  case OpKind::DropNotNull:
  case OpKind::DropDefault:
  case OpKind::AddIndex:
  case OpKind::DropIndex:
  case OpKind::AddConstraint:
  case OpKind::DropConstraint:
    out += fmt::format(" \"{}\".\"{}\"", op.table, op.name);
    break;
  case OpKind::RawSql:
    if (!op.sql.name.empty())
      out += fmt::format(" \"{}\"", op.sql.name);
    break;
  }
  if (!op.fill.empty())
    out += fmt::format(" fill ({})", op.fill);
  if (op.unsafe)
    out += " [unsafe]";
  return out;
}

} // namespace strata::compiler
