#include "compiler/Printer.h"

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringSet.h>

#include <fmt/format.h>

namespace strata::compiler {

namespace {
// Every word the DSL lexer treats as a keyword (reserved or soft): quoting them all keeps
// printed names unambiguous in every position.
const char *keywords[] = {
    "not",       "null",     "primary",   "unique",   "check",      "references", "foreign",
    "constraint", "index",   "on",        "where",    "true",       "false",      "subsystem",
    "baseline",  "requires", "version",   "after",    "before",     "table",      "alter",
    "add",       "drop",     "rename",    "to",       "column",     "type",       "set",
    "data",      "default",  "fill",      "was",      "enum",       "value",      "backfill",
    "sql",       "up",       "finish",    "unsafe",   "key",        "action",     "cascade",
    "restrict",  "no",       "batch",     "first",    "last",       "asc",        "desc",
    "nulls",     "double",   "precision", "character", "varying",   "bit",        "timestamp",
    "time",      "with",     "without",   "zone",     "generated",  "always",     "by",
    "identity",  "delete",   "update",    "using",    "as"};

bool isKeyword(llvm::StringRef word) {
  static const llvm::StringSet<> set = [] {
    llvm::StringSet<> s;
    for (const char *k : keywords)
      s.insert(k);
    return s;
  }();
  return set.contains(word);
}

std::string sqlString(llvm::StringRef text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'')
      out += '\'';
  }
  return out + "'";
}

const char *refAction(RefAction action) {
  switch (action) {
  case RefAction::NoAction:
    return "no action";
  case RefAction::Restrict:
    return "restrict";
  case RefAction::Cascade:
    return "cascade";
  case RefAction::SetNull:
    return "set null";
  case RefAction::SetDefault:
    return "set default";
  }
  llvm_unreachable("unknown action");
}

std::string identList(const std::vector<std::string> &names) {
  std::string out = "(";
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? ", " : "") + quoteIdent(names[i]);
  return out + ")";
}

std::string typeText(const Column &c) {
  if (c.generation == ColumnGeneration::Serial) {
    if (c.type.name == "bigint")
      return "bigserial";
    if (c.type.name == "smallint")
      return "smallserial";
    return "serial";
  }
  if (c.type.isEnum) {
    std::string out = quoteIdent(c.type.name);
    for (unsigned i = 0; i < c.type.arrayDims; ++i)
      out += "[]";
    return out;
  }
  return c.type.str();
}

std::string constraintText(const Constraint &c) {
  std::string out = "constraint " + quoteIdent(c.name) + " ";
  switch (c.kind) {
  case ConstraintKind::PrimaryKey:
    return out + "primary key " + identList(c.columns);
  case ConstraintKind::Unique:
    return out + "unique " + identList(c.columns);
  case ConstraintKind::Check:
    return out + "check (" + c.check + ")";
  case ConstraintKind::ForeignKey:
    out += "foreign key " + identList(c.columns) + " references " + quoteIdent(c.refTable) + " " +
           identList(c.refColumns);
    if (c.onDelete != RefAction::NoAction)
      out += std::string(" on delete ") + refAction(c.onDelete);
    if (c.onUpdate != RefAction::NoAction)
      out += std::string(" on update ") + refAction(c.onUpdate);
    return out;
  }
  llvm_unreachable("unknown constraint kind");
}

std::string indexText(const Index &i) {
  std::string out = "index " + quoteIdent(i.name);
  if (i.unique)
    out += " unique";
  if (i.method != "btree")
    out += " using " + quoteIdent(i.method);
  out += " (";
  for (size_t n = 0; n < i.elems.size(); ++n) {
    const IndexColumn &e = i.elems[n];
    out += n ? ", " : "";
    out += e.expr.empty() ? quoteIdent(e.column) : "(" + e.expr + ")";
    if (!e.opclass.empty())
      out += " " + quoteIdent(e.opclass);
    if (e.order == SortOrder::Asc)
      out += " asc";
    if (e.order == SortOrder::Desc)
      out += " desc";
    if (e.nulls == NullsOrder::First)
      out += " nulls first";
    if (e.nulls == NullsOrder::Last)
      out += " nulls last";
  }
  out += ")";
  if (!i.where.empty())
    out += " where (" + i.where + ")";
  return out;
}
} // namespace

std::string quoteIdent(llvm::StringRef name) {
  bool plain = !name.empty() && ((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_') &&
               llvm::all_of(name, [](char c) {
                 return (c >= 'a' && c <= 'z') || llvm::isDigit(c) || c == '_' || c == '$';
               }) &&
               !isKeyword(name);
  if (plain)
    return name.str();
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"')
      out += '"';
  }
  return out + "\"";
}

void printSchema(llvm::raw_ostream &os, const Schema &schema, unsigned indent) {
  std::string pad(indent, ' ');
  for (const auto &[name, type] : schema.enums()) {
    os << pad << "enum " << quoteIdent(name) << " {";
    for (size_t i = 0; i < type.labels.size(); ++i)
      os << (i ? ", " : " ") << sqlString(type.labels[i]);
    os << " }\n";
  }
  // Foreign keys to tables printed later go into trailing alter blocks, so the output
  // compiles in order whatever the names.
  std::vector<std::pair<std::string, const Constraint *>> deferred;
  llvm::StringSet<> printed;
  for (const auto &[name, table] : schema.tables()) {
    os << pad << "table " << quoteIdent(name) << " {\n";
    for (const Column &c : table->columns) {
      os << pad << "  " << quoteIdent(c.name) << " " << typeText(c);
      bool implied = c.generation != ColumnGeneration::None;
      if (c.notNull && !implied)
        os << " not null";
      if (!c.defaultExpr.empty())
        os << " default (" << c.defaultExpr << ")";
      if (c.generation == ColumnGeneration::IdentityAlways)
        os << " generated always as identity";
      if (c.generation == ColumnGeneration::IdentityByDefault)
        os << " generated by default as identity";
      os << "\n";
    }
    std::vector<const Constraint *> constraints;
    for (const Constraint &c : table->constraints)
      constraints.push_back(&c);
    llvm::stable_sort(constraints, [](const Constraint *a, const Constraint *b) {
      return (a->kind == ConstraintKind::PrimaryKey) > (b->kind == ConstraintKind::PrimaryKey);
    });
    for (const Constraint *c : constraints) {
      if (c->kind == ConstraintKind::ForeignKey && c->refTable != name &&
          !printed.contains(c->refTable) && schema.findTable(c->refTable)) {
        deferred.push_back({name, c});
        continue;
      }
      os << pad << "  " << constraintText(*c) << "\n";
    }
    for (const Index &i : table->indexes)
      os << pad << "  " << indexText(i) << "\n";
    os << pad << "}\n";
    printed.insert(name);
  }
  for (const auto &[table, c] : deferred)
    os << pad << "alter table " << quoteIdent(table) << " { add " << constraintText(*c) << " }\n";
  for (const SqlObject &o : schema.sql()) {
    os << pad << "sql";
    if (!o.name.empty())
      os << " " << quoteIdent(o.name);
    if (!o.up.empty() || o.finish.empty())
      os << " up \"\"\"" << o.up << "\"\"\"";
    if (!o.finish.empty())
      os << " finish \"\"\"" << o.finish << "\"\"\"";
    os << "\n";
  }
}

void printVersionState(llvm::raw_ostream &os, const Project &project, VersionRef ref) {
  const Version &version = project.at(ref);
  const Subsystem &subsystem = project.subsystems[ref.subsystem];
  os << "// " << project.describe(ref) << ": the full schema state, as canonical DSL\n";
  for (const ResolvedRequirement &req : version.requirements) {
    VersionRef dep{req.subsystem, req.lowest};
    os << "subsystem " << quoteIdent(project.subsystems[req.subsystem].name) << " {\n";
    os << "  version \"" << project.at(dep).text << "\" {\n";
    printSchema(os, project.at(dep).state, 4);
    os << "  }\n}\n";
  }
  os << "subsystem " << quoteIdent(subsystem.name) << " {\n";
  for (const ResolvedRequirement &req : version.requirements)
    os << "  requires " << quoteIdent(project.subsystems[req.subsystem].name) << " = \""
       << project.at({req.subsystem, req.lowest}).text << "\"\n";
  os << "  version \"" << version.text << "\" {\n";
  printSchema(os, version.state, 4);
  os << "  }\n}\n";
}

void printVersionOps(llvm::raw_ostream &os, const Project &project, VersionRef ref) {
  const Version &version = project.at(ref);
  os << project.describe(ref);
  if (!version.parents.empty()) {
    os << " (after";
    for (size_t i = 0; i < version.parents.size(); ++i)
      os << (i ? ", " : " ") << '"'
         << project.subsystems[ref.subsystem].versions[version.parents[i]].text << '"';
    os << ")";
  }
  os << "\nchecksum " << version.checksum << "\n";
  for (const Op &op : version.ops)
    os << "  " << describe(op) << "\n";
}

} // namespace strata::compiler
