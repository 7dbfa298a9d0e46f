#include "test/oracle/VersionWorkload.h"

#include "planner/Sql.h"

#include <llvm/ADT/STLExtras.h>

#include <set>

namespace strata::oracle {

namespace sql = planner::sql;

namespace {

enum class Variant { Typical, Edge, Null };

bool isColumnRequired(const compiler::Column &c) {
  return c.notNull && c.defaultExpr.empty() && c.generation == compiler::ColumnGeneration::None;
}

/// A value of \p type as SQL; n makes it unique within the workload.
std::string value(const compiler::Schema &schema, const compiler::DataType &type, Variant v,
                  int64_t n, const std::string &tag, bool distinct) {
  if (v == Variant::Null)
    return "NULL";
  bool old = tag == "o";
  std::string s = std::to_string(n);
  if (type.arrayDims > 0) {
    if (type.name == "integer")
      return sql::literal(v == Variant::Edge ? "{2147483647,NULL,-1}" : "{" + s + ",1}");
    return sql::literal(v == Variant::Edge ? "{NULL,\"a b\",\"\",\"" + tag + s + "\"}"
                                           : "{" + tag + s + ",x}");
  }
  if (type.isEnum) {
    const compiler::EnumType *e = schema.findEnum(type.name);
    if (!e || e->labels.empty())
      return "NULL";
    return sql::literal(v == Variant::Edge ? e->labels.back()
                                           : e->labels[static_cast<size_t>(n) % e->labels.size()]);
  }
  bool edge = v == Variant::Edge;
  if (type.name == "text") {
    if (!edge)
      return sql::literal(tag + "-" + s);
    std::string wide = tag + "-" + s + "-";
    for (int i = 0; i < 300; ++i)
      wide += "\xc3\xa9"; // é
    return sql::literal(wide);
  }
  if (type.name == "character varying" || type.name == "character") {
    size_t len = type.mods.empty() ? 20 : static_cast<size_t>(type.mods[0]);
    std::string text = tag + s;
    while (edge && text.size() < len)
      text += "x";
    // Cut in the middle: the tag stays first, so old and new values never collide.
    if (text.size() > len)
      text = tag + text.substr(text.size() - (len - tag.size()));
    return sql::literal(text);
  }
  if (type.name == "integer" || type.name == "smallint") {
    if (edge && !distinct)
      return old ? "2147483647" : "-2147483648";
    return s;
  }
  if (type.name == "bigint") {
    if (edge && !distinct)
      return old ? "9223372036854775807" : "-9223372036854775807";
    return std::to_string(n * 1000);
  }
  if (type.name == "numeric") {
    if (edge && !distinct && type.mods.size() == 2) {
      std::string nines(static_cast<size_t>(type.mods[0] - type.mods[1]), '9');
      std::string frac(static_cast<size_t>(type.mods[1]), '9');
      return (old ? "" : "-") + nines + (frac.empty() ? "" : "." + frac);
    }
    return s + ".25";
  }
  if (type.name == "timestamp with time zone") {
    if (edge)
      return sql::literal(old ? "294276-12-31 23:59:59+00" : "4713-01-01 00:00:00+00 BC");
    return sql::literal("2021-01-01 00:00:00+00") + "::timestamptz + interval '" + s + " seconds'";
  }
  if (type.name == "boolean")
    return edge ? "false" : (n % 2 ? "true" : "false");
  if (type.name == "uuid")
    return sql::literal("00000000-0000-0000-0000-" +
                        std::string(12 - std::min<size_t>(12, s.size()), '0') + s);
  return "NULL";
}

const compiler::Constraint *foreignKeyOf(const compiler::Table &t, const std::string &column) {
  for (const compiler::Constraint &c : t.constraints)
    if (c.kind == compiler::ConstraintKind::ForeignKey && c.columns.size() == 1 &&
        c.columns[0] == column)
      return &c;
  return nullptr;
}

/// Tables with parents first (by foreign key); cycles broken by name order.
std::vector<const compiler::Table *> inDependencyOrder(const compiler::Schema &schema) {
  std::vector<const compiler::Table *> out;
  std::set<std::string> placed;
  std::vector<const compiler::Table *> rest;
  for (const auto &[name, t] : schema.tables())
    rest.push_back(t.get());
  while (!rest.empty()) {
    bool progress = false;
    for (auto it = rest.begin(); it != rest.end();) {
      const compiler::Table *t = *it;
      bool ready = llvm::all_of(t->constraints, [&](const compiler::Constraint &c) {
        return c.kind != compiler::ConstraintKind::ForeignKey || c.refTable == t->name ||
               placed.count(c.refTable) || !schema.findTable(c.refTable);
      });
      if (!ready) {
        ++it;
        continue;
      }
      out.push_back(t);
      placed.insert(t->name);
      it = rest.erase(it);
      progress = true;
    }
    if (!progress) {
      out.push_back(rest.front());
      placed.insert(rest.front()->name);
      rest.erase(rest.begin());
    }
  }
  return out;
}

} // namespace

std::string selectRow(const compiler::Table &table, int64_t key) {
  std::vector<std::string> columns;
  for (const compiler::Column &c : table.columns)
    columns.push_back(c.name);
  return "SELECT " + sql::identList(columns) + " FROM " + sql::ident(table.name) + " WHERE " +
         sql::ident("id") + " = " + std::to_string(key);
}

VersionWorkload makeWorkload(const compiler::Schema &schema, const WorkloadSpec &spec) {
  VersionWorkload w;
  // By table: the first key, the deleted key.
  std::map<std::string, std::pair<int64_t, int64_t>> parentKeys;
  int64_t tableBase = spec.base;
  int64_t counter = spec.base;
  for (const compiler::Table *t : inDependencyOrder(schema)) {
    tableBase += 100;
    if (!t->findColumn("id"))
      continue;
    std::vector<const compiler::Column *> columns, required, optional;
    for (const compiler::Column &c : t->columns) {
      if (c.name == "id")
        continue;
      columns.push_back(&c);
      (isColumnRequired(c) ? required : optional).push_back(&c);
    }
    auto distinct = [&](const compiler::Column &c) {
      return spec.distinct && spec.distinct(t->name, c.name);
    };
    auto valueOf = [&](const compiler::Column &c, Variant v, int64_t n) -> std::string {
      if (v == Variant::Null && c.notNull)
        v = Variant::Typical;
      if (const compiler::Constraint *fk = foreignKeyOf(*t, c.name)) {
        auto parent = parentKeys.find(fk->refTable);
        if (v == Variant::Null)
          return "NULL";
        if (parent == parentKeys.end())
          return c.notNull ? std::to_string(n) : "NULL";
        return std::to_string(v == Variant::Edge ? parent->second.second : parent->second.first);
      }
      return value(schema, c.type, v, n, spec.tag, distinct(c));
    };
    std::vector<int64_t> keys;
    auto insert = [&](const std::vector<std::pair<const compiler::Column *, std::string>> &values) {
      int64_t key = tableBase + static_cast<int64_t>(keys.size());
      keys.push_back(key);
      std::vector<std::string> names = {"id"};
      std::string list = std::to_string(key);
      for (const auto &[c, v] : values) {
        names.push_back(c->name);
        list += ", " + v;
      }
      w.statements.push_back({Statement::Kind::Insert, t->name, "",
                              "INSERT INTO " + sql::ident(t->name) + " (" + sql::identList(names) +
                                  ") VALUES (" + list + ")"});
      return key;
    };
    auto rowOf = [&](Variant v, const std::vector<const compiler::Column *> &cols) {
      std::vector<std::pair<const compiler::Column *, std::string>> out;
      for (const compiler::Column *c : cols)
        out.push_back({c, valueOf(*c, v, ++counter)});
      return out;
    };
    std::vector<std::pair<const compiler::Column *, std::string>> first =
        rowOf(Variant::Typical, columns);
    int64_t firstKey = insert(first);
    int64_t requiredKey = insert(rowOf(Variant::Typical, required));
    for (const compiler::Column *c : optional) {
      auto row = rowOf(Variant::Typical, required);
      row.push_back({c, valueOf(*c, Variant::Edge, ++counter)});
      insert(row);
    }
    insert(rowOf(Variant::Null, columns));
    insert(first); // a duplicate of the first row under a new key
    int64_t deletedKey = insert(rowOf(Variant::Typical, columns));
    for (const compiler::Column *c : columns) {
      w.statements.push_back({Statement::Kind::Update, t->name, c->name,
                              "UPDATE " + sql::ident(t->name) + " SET " + sql::ident(c->name) +
                                  " = " + valueOf(*c, Variant::Typical, ++counter) + " WHERE " +
                                  sql::ident("id") + " = " + std::to_string(firstKey)});
      if (!c->notNull)
        w.statements.push_back({Statement::Kind::Update, t->name, c->name,
                                "UPDATE " + sql::ident(t->name) + " SET " + sql::ident(c->name) +
                                    " = NULL WHERE " + sql::ident("id") + " = " +
                                    std::to_string(requiredKey)});
    }
    w.statements.push_back({Statement::Kind::Delete, t->name, "",
                            "DELETE FROM " + sql::ident(t->name) + " WHERE " + sql::ident("id") +
                                " = " + std::to_string(deletedKey)});
    for (int64_t key : keys)
      w.statements.push_back({Statement::Kind::Select, t->name, "", selectRow(*t, key)});
    parentKeys[t->name] = {firstKey, deletedKey};
    w.keys[t->name] = keys;
  }
  return w;
}

} // namespace strata::oracle
