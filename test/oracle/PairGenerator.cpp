#include "test/oracle/PairGenerator.h"

#include "compiler/Compilation.h"
#include "compiler/Printer.h"

#include <llvm/ADT/STLExtras.h>

#include <algorithm>
#include <optional>
#include <regex>

namespace strata::oracle {

using compiler::OpKind;

namespace {

const OpKind kinds[] = {
    OpKind::CreateTable,      OpKind::DropTable,    OpKind::RenameTable,     OpKind::AddColumn,
    OpKind::DropColumn,       OpKind::RenameColumn, OpKind::AlterColumnType, OpKind::SetNotNull,
    OpKind::DropNotNull,      OpKind::SetDefault,   OpKind::DropDefault,     OpKind::AddIndex,
    OpKind::DropIndex,        OpKind::RenameIndex,  OpKind::AddConstraint,   OpKind::DropConstraint,
    OpKind::RenameConstraint, OpKind::CreateEnum,   OpKind::AddEnumValue,    OpKind::DropEnum,
    OpKind::Backfill,         OpKind::RawSql,
};

/// splitmix64: the same sequence on every platform (std distributions are not).
class Rng {
public:
  // The seed is mixed first: consecutive seeds must not give shifted copies of one
  // sequence.
  explicit Rng(uint64_t seed) : state(mix(seed ^ 0x5DEECE66DULL)) {}
  uint64_t next() { return mix(state += 0x9E3779B97F4A7C15ULL); }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
  bool chance(unsigned num, unsigned den) { return below(den) < num; }
  template <typename T> T &pick(std::vector<T> &v) { return v[below(v.size())]; }

private:
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t state;
};

enum class Kind {
  Text,
  Integer,
  Bigint,
  Numeric,
  Varchar,
  Timestamptz,
  Boolean,
  Enum,
  TextArray,
  IntArray
};

struct MColumn {
  std::string name;
  Kind kind = Kind::Text;
  int len = 0;          ///< varchar
  std::string enumName; ///< enum
  bool notNull = false;
  bool hasDefault = false;
};

struct MConstraint {
  std::string name; ///< empty: unknown (never dropped or renamed)
  char kind = 'c';  ///< p u c f
  std::vector<std::string> columns;
  std::string refTable;
};

struct MIndex {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
};

struct MTable {
  std::string name;
  std::vector<MColumn> columns; ///< without id
  std::vector<MConstraint> constraints;
  std::vector<MIndex> indexes;

  MColumn *find(const std::string &c) {
    for (MColumn &col : columns)
      if (col.name == c)
        return &col;
    return nullptr;
  }
};

/// The generator's view of the schema while it draws.
struct Model {
  std::vector<MTable> tables;
  std::vector<GenEnum> enums;
  std::vector<std::string> freedTables;                     ///< names of dropped or renamed tables
  std::vector<std::pair<std::string, std::string>> touched; ///< (table, column) changed
  int counter = 0;

  std::string fresh(const char *prefix) { return prefix + std::to_string(++counter); }
  MTable *table(const std::string &name) {
    for (MTable &t : tables)
      if (t.name == name)
        return &t;
    return nullptr;
  }
  bool referenced(const std::string &name) const {
    for (const MTable &t : tables)
      for (const MConstraint &c : t.constraints)
        if (c.kind == 'f' && c.refTable == name && t.name != name)
          return true;
    return false;
  }
  static bool isUnique(const MTable &t, const std::string &column) {
    for (const MConstraint &k : t.constraints)
      if (k.kind == 'u' && llvm::is_contained(k.columns, column))
        return true;
    for (const MIndex &i : t.indexes)
      if (i.unique && llvm::is_contained(i.columns, column))
        return true;
    return false;
  }
  static bool isForeignKey(const MTable &t, const std::string &column) {
    for (const MConstraint &k : t.constraints)
      if (k.kind == 'f' && llvm::is_contained(k.columns, column))
        return true;
    return false;
  }
  bool enumUsed(const std::string &name) const {
    for (const MTable &t : tables)
      for (const MColumn &c : t.columns)
        if (c.kind == Kind::Enum && c.enumName == name)
          return true;
    return false;
  }
};

std::string typeText(const MColumn &c) {
  switch (c.kind) {
  case Kind::Text:
    return "text";
  case Kind::Integer:
    return "integer";
  case Kind::Bigint:
    return "bigint";
  case Kind::Numeric:
    return "numeric(10, 2)";
  case Kind::Varchar:
    return "varchar(" + std::to_string(c.len) + ")";
  case Kind::Timestamptz:
    return "timestamptz";
  case Kind::Boolean:
    return "boolean";
  case Kind::Enum:
    return c.enumName;
  case Kind::TextArray:
    return "text[]";
  case Kind::IntArray:
    return "integer[]";
  }
  return "text";
}

std::string defaultFor(const MColumn &c, const Model &m) {
  switch (c.kind) {
  case Kind::Text:
    return "'dflt'";
  case Kind::Integer:
    return "7";
  case Kind::Bigint:
    return "70";
  case Kind::Numeric:
    return "1.5";
  case Kind::Varchar:
    return "'v'";
  case Kind::Timestamptz:
    return "('2020-01-01 00:00:00+00')";
  case Kind::Boolean:
    return "false";
  case Kind::Enum:
    for (const GenEnum &e : m.enums)
      if (e.name == c.enumName)
        return "'" + e.labels.front() + "'";
    return "null";
  case Kind::TextArray:
  case Kind::IntArray:
    return "'{}'";
  }
  return "null";
}

/// A fill that satisfies the column's own constraints (checks are `> 0` and `length <
/// 40`; unique columns get one value per row): a fill that violates them fails with no
/// node running, which is the author's mistake, not the proof's.
std::string constFill(const MColumn &c, const Model &m, bool unique = false) {
  switch (c.kind) {
  case Kind::Text:
    return unique ? "('f-' || id)" : "('filled')";
  case Kind::Varchar:
    return unique ? "(right('f' || id, " + std::to_string(c.len) + "))" : "('f')";
  case Kind::Integer:
    return unique ? "(id::integer)" : "(1)";
  case Kind::Numeric:
    return unique ? "(id)" : "(1.5)";
  case Kind::Bigint:
    return "(id)";
  default: {
    std::string d = defaultFor(c, m);
    return d.front() == '(' ? d : "(" + d + ")";
  }
  }
}

/// A fill that reads another column of the row, which may be NULL: the proof must see it.
std::optional<std::string> columnFill(const MColumn &c, const MTable &t, Rng &rng) {
  std::vector<const MColumn *> texts, ints;
  for (const MColumn &o : t.columns) {
    if (o.name == c.name)
      continue;
    if (o.kind == Kind::Text || o.kind == Kind::Varchar)
      texts.push_back(&o);
    if (o.kind == Kind::Integer || o.kind == Kind::Bigint)
      ints.push_back(&o);
  }
  if ((c.kind == Kind::Text) && !texts.empty())
    return "('f-' || " + texts[rng.below(texts.size())]->name + ")";
  if ((c.kind == Kind::Integer || c.kind == Kind::Bigint) && !ints.empty())
    return "(" + ints[rng.below(ints.size())]->name +
           " % 1000)"; // NULL stays NULL, never overflows
  if (c.kind == Kind::Text)
    return std::string("('f-' || id)");
  return std::nullopt;
}

bool uniqueable(Kind k) {
  return k == Kind::Text || k == Kind::Integer || k == Kind::Bigint || k == Kind::Varchar ||
         k == Kind::Numeric;
}

std::optional<std::string> checkFor(const MColumn &c) {
  switch (c.kind) {
  case Kind::Integer:
  case Kind::Bigint:
  case Kind::Numeric:
    return c.name + " > 0";
  case Kind::Text:
  case Kind::Varchar:
    return "length(" + c.name + ") < 40";
  default:
    return std::nullopt;
  }
}

MColumn randomColumn(Model &m, Rng &rng, bool allowEnum = true) {
  MColumn c;
  c.name = m.fresh("c");
  static const Kind all[] = {Kind::Text,      Kind::Integer,     Kind::Bigint,  Kind::Numeric,
                             Kind::Varchar,   Kind::Timestamptz, Kind::Boolean, Kind::Enum,
                             Kind::TextArray, Kind::IntArray,    Kind::Text,    Kind::Integer};
  c.kind = all[rng.below(std::size(all))];
  if (c.kind == Kind::Enum) {
    if (!allowEnum || m.enums.empty())
      c.kind = Kind::Text;
    else
      c.enumName = m.enums[rng.below(m.enums.size())].name;
  }
  if (c.kind == Kind::Varchar)
    c.len = 4 + static_cast<int>(rng.below(12));
  return c;
}

/// A column of \p t, non-key, preferring ones the pair changed before (chains of changes
/// on one column are where the bugs are).
MColumn *pickColumn(Model &m, MTable &t, Rng &rng, const std::function<bool(const MColumn &)> &ok) {
  std::vector<MColumn *> candidates, preferred;
  for (MColumn &c : t.columns) {
    if (!ok(c))
      continue;
    candidates.push_back(&c);
    for (const auto &[tt, cc] : m.touched)
      if (tt == t.name && cc == c.name)
        preferred.push_back(&c);
  }
  if (!preferred.empty() && rng.chance(2, 3))
    return preferred[rng.below(preferred.size())];
  if (candidates.empty())
    return nullptr;
  return candidates[rng.below(candidates.size())];
}

MTable *pickTable(Model &m, Rng &rng) {
  if (m.tables.empty())
    return nullptr;
  // Tables with touched columns first, for the same reason.
  if (!m.touched.empty() && rng.chance(1, 2))
    if (MTable *t = m.table(m.touched[rng.below(m.touched.size())].first))
      return t;
  return &m.tables[rng.below(m.tables.size())];
}

void renameColumnInModel(MTable &t, const std::string &from, const std::string &to) {
  if (MColumn *c = t.find(from))
    c->name = to;
  for (MConstraint &k : t.constraints)
    for (std::string &c : k.columns)
      if (c == from)
        c = to;
  for (MIndex &i : t.indexes)
    for (std::string &c : i.columns)
      if (c == from)
        c = to;
}

void dropColumnInModel(MTable &t, std::string name) { // by value: callers pass a column's own name
  llvm::erase_if(t.columns, [&](const MColumn &c) { return c.name == name; });
  llvm::erase_if(t.constraints,
                 [&](const MConstraint &k) { return llvm::is_contained(k.columns, name); });
  llvm::erase_if(t.indexes, [&](const MIndex &i) { return llvm::is_contained(i.columns, name); });
}

std::string wordReplace(const std::string &text, const std::string &from, const std::string &to) {
  return std::regex_replace(text, std::regex("\\b" + from + "\\b"), to);
}

/// `table T { ... }` restating the last version's table \p table with column \p from
/// renamed to \p to (`was`), from the compiled state: what the compiler folded, printed
/// canonically. Nothing when the project so far does not compile.
std::optional<std::string> restateWithWas(const std::string &dslSoFar, const std::string &table,
                                          const std::string &from, const std::string &to) {
  compiler::Compilation compilation;
  compilation.addSource("sofar.strata", dslSoFar);
  const compiler::Project *project = compilation.run();
  if (!project || project->subsystems.empty())
    return std::nullopt;
  const compiler::Subsystem &s = project->subsystems.front();
  const compiler::Table *t = s.versions.back().state.findTable(table);
  if (!t)
    return std::nullopt;
  std::string out = "table " + table + " {\n";
  for (compiler::Column c : t->columns) {
    bool renamed = c.name == from;
    if (renamed)
      c.name = to;
    out += "      " + compiler::printColumn(c) + (renamed ? " was \"" + from + "\"" : "") + "\n";
  }
  for (compiler::Constraint k : t->constraints) {
    for (std::string &c : k.columns)
      if (c == from)
        c = to;
    k.check = wordReplace(k.check, from, to);
    out += "      " + compiler::printConstraint(k) + "\n";
  }
  for (compiler::Index i : t->indexes) {
    for (compiler::IndexColumn &e : i.elems) {
      if (e.column == from)
        e.column = to;
      e.expr = wordReplace(e.expr, from, to);
    }
    i.where = wordReplace(i.where, from, to);
    out += "      " + compiler::printIndex(i) + "\n";
  }
  return out + "    }";
}

// --- the starting version -----------------------------------------------------------------

void generateStart(GeneratedPair &p, Model &m, Rng &rng) {
  size_t enums = 1 + rng.below(2);
  for (size_t i = 0; i < enums; ++i) {
    GenEnum e{m.fresh("e"), {"a", "b", "c"}};
    p.enums.push_back(e);
    m.enums.push_back(e);
  }
  size_t tables = 2 + rng.below(2);
  for (size_t ti = 0; ti < tables; ++ti) {
    GenTable gt;
    MTable mt;
    gt.name = mt.name = m.fresh("t");
    mt.constraints.push_back({gt.name + "_pkey", 'p', {"id"}, ""});
    size_t columns = 2 + rng.below(4);
    for (size_t ci = 0; ci < columns; ++ci) {
      MColumn c = randomColumn(m, rng);
      GenColumn g;
      g.name = c.name;
      g.type = typeText(c);
      if (!m.tables.empty() && rng.chance(1, 4)) {
        c.kind = Kind::Bigint;
        g.type = "bigint";
        g.references = m.tables[rng.below(m.tables.size())].name;
        static const char *actions[] = {"", "cascade", "set null", "restrict"};
        g.onDelete = actions[rng.below(4)];
        if (g.onDelete == "set null")
          c.notNull = false;
        mt.constraints.push_back({gt.name + "_" + c.name + "_fkey", 'f', {c.name}, g.references});
      } else {
        if (rng.chance(1, 3) && c.kind != Kind::TextArray) {
          c.hasDefault = true;
          g.defaultExpr = defaultFor(c, m);
        }
        // A unique column with a constant default would make old and new nodes' rows
        // collide whenever both omit it: not what an application does.
        if (uniqueable(c.kind) && !c.hasDefault && rng.chance(1, 6)) {
          g.unique = true;
          mt.constraints.push_back({gt.name + "_" + c.name + "_key", 'u', {c.name}, ""});
        }
        if (std::optional<std::string> check = checkFor(c); check && rng.chance(1, 6)) {
          g.check = *check;
          mt.constraints.push_back({gt.name + "_" + c.name + "_check", 'c', {c.name}, ""});
        }
      }
      if (g.onDelete != "set null" && rng.chance(1, 3))
        c.notNull = g.notNull = true;
      gt.columns.push_back(g);
      mt.columns.push_back(c);
    }
    // Multi-column constraints and indexes, explicitly named.
    if (mt.columns.size() >= 2 && rng.chance(1, 5)) {
      const MColumn &a = mt.columns[0], &b = mt.columns[1];
      std::string name = gt.name + "_" + m.fresh("k");
      if (uniqueable(a.kind) && uniqueable(b.kind) && !a.hasDefault && !b.hasDefault &&
          rng.chance(1, 2)) {
        gt.elements.push_back("constraint " + name + " unique (" + a.name + ", " + b.name + ")");
        mt.constraints.push_back({name, 'u', {a.name, b.name}, ""});
      } else {
        gt.elements.push_back("constraint " + name + " check (" + a.name + " is not null or " +
                              b.name + " is not null)");
        mt.constraints.push_back({name, 'c', {a.name, b.name}, ""});
      }
    }
    if (rng.chance(1, 3)) {
      const MColumn &c = mt.columns[rng.below(mt.columns.size())];
      std::string name = gt.name + "_" + m.fresh("i");
      bool array = c.kind == Kind::TextArray || c.kind == Kind::IntArray;
      gt.elements.push_back("index " + name + (array ? " using gin (" : " (") + c.name + ")");
      mt.indexes.push_back({name, {c.name}, false});
    }
    p.tables.push_back(gt);
    m.tables.push_back(mt);
  }
}

// --- the changes --------------------------------------------------------------------------

std::string alter(const MTable &t, const std::string &action) {
  return "alter table " + t.name + " " + action;
}

std::optional<GenChange> draw(OpKind kind, Model &m, Rng &rng, bool firstInVersion,
                              const std::string &dslSoFar) {
  GenChange g;
  g.kind = kind;
  g.unsafe = rng.chance(1, 8);
  auto touch = [&](const std::string &t, const std::string &c) { m.touched.push_back({t, c}); };
  auto nonKey = [](const MColumn &) { return true; };
  switch (kind) {
  case OpKind::CreateTable: {
    MTable t;
    bool reuse = !m.freedTables.empty() && rng.chance(1, 2);
    t.name = reuse ? m.freedTables.back() : m.fresh("t");
    if (reuse)
      m.freedTables.pop_back();
    if (m.table(t.name))
      return std::nullopt;
    t.constraints.push_back({"", 'p', {"id"}, ""});
    g.text = "table " + t.name + " {\n      id bigint primary key\n";
    size_t columns = 1 + rng.below(3);
    for (size_t i = 0; i < columns; ++i) {
      MColumn c = randomColumn(m, rng);
      std::string line = "      " + c.name + " " + typeText(c);
      if (i == 0 && !m.tables.empty() && rng.chance(1, 3)) {
        c.kind = Kind::Bigint;
        std::string parent = m.tables[rng.below(m.tables.size())].name;
        line = "      " + c.name + " bigint references " + parent + "(id)";
        t.constraints.push_back({t.name + "_" + c.name + "_fkey", 'f', {c.name}, parent});
      } else if (rng.chance(1, 3)) {
        c.notNull = true;
        line += " not null";
      }
      g.text += line + "\n";
      t.columns.push_back(c);
    }
    g.text += "    }";
    m.tables.push_back(t);
    return g;
  }
  case OpKind::DropTable: {
    MTable *t = pickTable(m, rng);
    if (!t || m.referenced(t->name))
      return std::nullopt;
    g.text = "drop table " + t->name;
    m.freedTables.push_back(t->name);
    std::string name = t->name;
    llvm::erase_if(m.tables, [&](const MTable &x) { return x.name == name; });
    return g;
  }
  case OpKind::RenameTable: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    std::string to = m.fresh("t");
    g.text = "rename table " + t->name + " to " + to;
    m.freedTables.push_back(t->name);
    for (MTable &o : m.tables)
      for (MConstraint &k : o.constraints)
        if (k.refTable == t->name)
          k.refTable = to;
    for (auto &[tt, cc] : m.touched)
      if (tt == t->name)
        tt = to;
    t->name = to;
    return g;
  }
  case OpKind::AddColumn: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    MColumn c = randomColumn(m, rng);
    std::string action = "add column " + c.name + " " + typeText(c);
    switch (rng.below(9)) {
    case 0:
      break;
    case 1:
      action += " default " + defaultFor(c, m);
      c.hasDefault = true;
      break;
    case 2:
      action += " not null default " + defaultFor(c, m);
      c.notNull = c.hasDefault = true;
      if (rng.chance(1, 2))
        action += " fill " + constFill(c, m);
      break;
    case 3:
      action += " not null fill " + constFill(c, m);
      c.notNull = true;
      break;
    case 4:
      if (std::optional<std::string> f = columnFill(c, *t, rng)) {
        action += " not null fill " + *f;
        c.notNull = true;
      }
      break;
    case 5:
      action += " not null"; // no fill: the proof must refuse it
      c.notNull = true;
      break;
    case 6:
      if (uniqueable(c.kind)) {
        action += " unique";
        t->constraints.push_back({t->name + "_" + c.name + "_key", 'u', {c.name}, ""});
      }
      break;
    case 7:
      if (std::optional<std::string> check = checkFor(c)) {
        action += " check (" + *check + ")";
        t->constraints.push_back({t->name + "_" + c.name + "_check", 'c', {c.name}, ""});
      }
      break;
    case 8: {
      MTable &parent = m.tables[rng.below(m.tables.size())];
      c.kind = Kind::Bigint;
      action = "add column " + c.name + " bigint references " + parent.name + "(id)";
      t->constraints.push_back({t->name + "_" + c.name + "_fkey", 'f', {c.name}, parent.name});
      break;
    }
    }
    g.text = alter(*t, action);
    touch(t->name, c.name);
    t->columns.push_back(c);
    return g;
  }
  case OpKind::DropColumn: {
    MTable *t = pickTable(m, rng);
    if (!t || t->columns.size() < 2)
      return std::nullopt;
    MColumn *c = pickColumn(m, *t, rng, nonKey);
    if (!c)
      return std::nullopt;
    g.text = alter(*t, "drop column " + c->name);
    dropColumnInModel(*t, c->name);
    return g;
  }
  case OpKind::RenameColumn: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    MColumn *c = pickColumn(m, *t, rng, nonKey);
    if (!c)
      return std::nullopt;
    std::string from = c->name, to = m.fresh("c");
    std::optional<std::string> restated;
    if (firstInVersion && rng.chance(1, 3))
      restated = restateWithWas(dslSoFar, t->name, from, to);
    g.text = restated ? *restated : alter(*t, "rename column " + from + " to " + to);
    if (restated)
      g.unsafe = false;
    renameColumnInModel(*t, from, to);
    for (auto &[tt, cc] : m.touched)
      if (tt == t->name && cc == from)
        cc = to;
    touch(t->name, to);
    return g;
  }
  case OpKind::AlterColumnType: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    MColumn *c = pickColumn(m, *t, rng, [&](const MColumn &c) {
      if (c.hasDefault)
        return false;
      for (const MConstraint &k : t->constraints)
        if (k.kind == 'f' && llvm::is_contained(k.columns, c.name))
          return false;
      return c.kind != Kind::Enum && c.kind != Kind::Boolean && c.kind != Kind::IntArray;
    });
    if (!c)
      return std::nullopt;
    std::string type, usingExpr;
    MColumn after = *c;
    switch (c->kind) {
    case Kind::Integer: {
      size_t v = rng.below(5);
      if (v <= 2) {
        type = "bigint";
        after.kind = Kind::Bigint;
        if (v == 1)
          usingExpr = c->name + "::bigint";
        if (v == 2)
          usingExpr = c->name + "::bigint * 1000";
      } else if (v == 3) {
        type = "numeric(12, 2)";
        after.kind = Kind::Numeric;
        usingExpr = c->name + "::numeric";
      } else {
        type = "text";
        after.kind = Kind::Text;
        usingExpr = c->name + "::text";
      }
      break;
    }
    case Kind::Bigint:
      type = "integer"; // narrowing
      after.kind = Kind::Integer;
      break;
    case Kind::Varchar:
      if (rng.chance(1, 2)) {
        after.len = c->len + 10;
        type = "varchar(" + std::to_string(after.len) + ")";
      } else {
        type = "text";
        after.kind = Kind::Text;
      }
      break;
    case Kind::Text:
      if (rng.chance(1, 3)) {
        type = "integer";
        after.kind = Kind::Integer;
        usingExpr = "length(" + c->name + ")";
      } else {
        type = "varchar(8)"; // narrowing
        after.kind = Kind::Varchar;
        after.len = 8;
      }
      break;
    case Kind::Numeric:
      type = "numeric(14, 4)";
      break;
    case Kind::Timestamptz:
      type = "text";
      after.kind = Kind::Text;
      usingExpr = c->name + "::text";
      break;
    case Kind::TextArray:
      type = "text";
      after.kind = Kind::Text;
      usingExpr = "array_to_string(" + c->name + ", ',')";
      break;
    default:
      return std::nullopt;
    }
    std::string action = "alter column " + c->name + " type " + type;
    if (!usingExpr.empty())
      action += " using (" + usingExpr + ")";
    if (rng.chance(1, 4))
      action += " fill " + constFill(after, m, Model::isUnique(*t, c->name));
    g.text = alter(*t, action);
    touch(t->name, c->name);
    *c = after;
    return g;
  }
  case OpKind::SetNotNull: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    MColumn *c = pickColumn(m, *t, rng, [&](const MColumn &c) {
      return !c.notNull && !Model::isForeignKey(*t, c.name);
    });
    if (!c)
      return std::nullopt;
    std::string action = "alter column " + c->name + " set not null";
    size_t v = rng.below(6);
    if (v <= 3)
      action += " fill " + constFill(*c, m, Model::isUnique(*t, c->name));
    else if (v == 4)
      if (std::optional<std::string> f = columnFill(*c, *t, rng))
        action += " fill " + *f;
    g.text = alter(*t, action);
    c->notNull = true;
    touch(t->name, c->name);
    return g;
  }
  case OpKind::DropNotNull: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    MColumn *c = pickColumn(m, *t, rng, [](const MColumn &c) { return c.notNull; });
    if (!c)
      return std::nullopt;
    g.text = alter(*t, "alter column " + c->name + " drop not null");
    c->notNull = false;
    touch(t->name, c->name);
    return g;
  }
  case OpKind::SetDefault: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    MColumn *c = pickColumn(m, *t, rng, [&](const MColumn &c) {
      for (const MConstraint &k : t->constraints)
        if (k.kind == 'u' && llvm::is_contained(k.columns, c.name))
          return false;
      for (const MIndex &i : t->indexes)
        if (i.unique && llvm::is_contained(i.columns, c.name))
          return false;
      // A constant default on a foreign key references a row that does not exist.
      return !Model::isForeignKey(*t, c.name);
    });
    if (!c)
      return std::nullopt;
    g.text = alter(*t, "alter column " + c->name + " set default " + defaultFor(*c, m));
    c->hasDefault = true;
    touch(t->name, c->name);
    return g;
  }
  case OpKind::DropDefault: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    MColumn *c = pickColumn(m, *t, rng, [](const MColumn &c) { return c.hasDefault; });
    if (!c)
      return std::nullopt;
    g.text = alter(*t, "alter column " + c->name + " drop default");
    c->hasDefault = false;
    touch(t->name, c->name);
    return g;
  }
  case OpKind::AddIndex: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    MColumn *c = pickColumn(m, *t, rng, nonKey);
    if (!c)
      return std::nullopt;
    std::string name = t->name + "_" + m.fresh("i");
    bool array = c->kind == Kind::TextArray || c->kind == Kind::IntArray;
    bool unique = !array && uniqueable(c->kind) && !c->hasDefault && rng.chance(1, 3);
    g.text = alter(*t, "add index " + name + (unique ? " unique" : "") +
                           (array ? " using gin (" : " (") + c->name + ")");
    t->indexes.push_back({name, {c->name}, unique});
    return g;
  }
  case OpKind::DropIndex: {
    MTable *t = pickTable(m, rng);
    if (!t || t->indexes.empty())
      return std::nullopt;
    MIndex i = t->indexes[rng.below(t->indexes.size())];
    g.text = alter(*t, "drop index " + i.name);
    llvm::erase_if(t->indexes, [&](const MIndex &x) { return x.name == i.name; });
    return g;
  }
  case OpKind::RenameIndex: {
    MTable *t = pickTable(m, rng);
    if (!t || t->indexes.empty())
      return std::nullopt;
    MIndex &i = t->indexes[rng.below(t->indexes.size())];
    std::string to = t->name + "_" + m.fresh("i");
    g.text = alter(*t, "rename index " + i.name + " to " + to);
    i.name = to;
    return g;
  }
  case OpKind::AddConstraint: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    MColumn *c = pickColumn(m, *t, rng, nonKey);
    if (!c)
      return std::nullopt;
    std::string name = t->name + "_" + m.fresh("k");
    size_t v = rng.below(4);
    if (v == 0 && uniqueable(c->kind) && !c->hasDefault) {
      g.text = alter(*t, "add constraint " + name + " unique (" + c->name + ")");
      t->constraints.push_back({name, 'u', {c->name}, ""});
    } else if (v == 1 && c->kind == Kind::Bigint) {
      const MTable &parent = m.tables[rng.below(m.tables.size())];
      g.text = alter(*t, "add constraint " + name + " foreign key (" + c->name + ") references " +
                             parent.name + " (id)");
      t->constraints.push_back({name, 'f', {c->name}, parent.name});
    } else if (v == 2 && t->columns.size() >= 2) {
      const MColumn &other = t->columns[t->columns[0].name == c->name ? 1 : 0];
      g.text = alter(*t, "add constraint " + name + " check (" + c->name + " is not null or " +
                             other.name + " is not null)");
      t->constraints.push_back({name, 'c', {c->name, other.name}, ""});
    } else if (std::optional<std::string> check = checkFor(*c)) {
      g.text = alter(*t, "add constraint " + name + " check (" + *check + ")");
      t->constraints.push_back({name, 'c', {c->name}, ""});
    } else {
      return std::nullopt;
    }
    touch(t->name, c->name);
    return g;
  }
  case OpKind::DropConstraint: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    std::vector<MConstraint> droppable;
    for (const MConstraint &k : t->constraints)
      if (k.kind != 'p' && !k.name.empty())
        droppable.push_back(k);
    if (droppable.empty())
      return std::nullopt;
    MConstraint k = droppable[rng.below(droppable.size())];
    g.text = alter(*t, "drop constraint " + k.name);
    llvm::erase_if(t->constraints, [&](const MConstraint &x) { return x.name == k.name; });
    return g;
  }
  case OpKind::RenameConstraint: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    std::vector<MConstraint *> renamable;
    for (MConstraint &k : t->constraints)
      if (k.kind != 'p' && !k.name.empty())
        renamable.push_back(&k);
    if (renamable.empty())
      return std::nullopt;
    MConstraint *k = renamable[rng.below(renamable.size())];
    std::string to = t->name + "_" + m.fresh("k");
    g.text = alter(*t, "rename constraint " + k->name + " to " + to);
    k->name = to;
    return g;
  }
  case OpKind::CreateEnum: {
    GenEnum e{m.fresh("e"), {"x", "y"}};
    g.text = "enum " + e.name + " { 'x', 'y' }";
    m.enums.push_back(e);
    return g;
  }
  case OpKind::AddEnumValue: {
    if (m.enums.empty())
      return std::nullopt;
    GenEnum &e = m.enums[rng.below(m.enums.size())];
    std::string label = "z" + std::to_string(++m.counter);
    g.text = "alter enum " + e.name + " add value '" + label + "'";
    if (rng.chance(1, 3)) {
      g.text += " before '" + e.labels.front() + "'";
      e.labels.insert(e.labels.begin(), label);
    } else {
      e.labels.push_back(label);
    }
    return g;
  }
  case OpKind::DropEnum: {
    std::vector<std::string> unused;
    for (const GenEnum &e : m.enums)
      if (!m.enumUsed(e.name))
        unused.push_back(e.name);
    if (unused.empty())
      return std::nullopt;
    std::string name = unused[rng.below(unused.size())];
    g.text = "drop enum " + name;
    llvm::erase_if(m.enums, [&](const GenEnum &e) { return e.name == name; });
    return g;
  }
  case OpKind::Backfill: {
    MTable *t = pickTable(m, rng);
    if (!t)
      return std::nullopt;
    MColumn *c = pickColumn(m, *t, rng, [&](const MColumn &c) {
      return c.kind != Kind::Enum && c.kind != Kind::Timestamptz &&
             !Model::isForeignKey(*t, c.name);
    });
    if (!c)
      return std::nullopt;
    g.text = "backfill " + t->name + " set " + c->name + " = " +
             constFill(*c, m, Model::isUnique(*t, c->name)) + " where (" + c->name + " is null)";
    touch(t->name, c->name);
    return g;
  }
  case OpKind::RawSql: {
    std::string name = m.fresh("f");
    g.text = "sql " + name + " up \"\"\"CREATE FUNCTION oracle_" + name +
             "() RETURNS integer LANGUAGE sql AS 'SELECT " + std::to_string(m.counter) + "';\"\"\"";
    g.unsafe = false;
    return g;
  }
  }
  llvm_unreachable("unknown op kind");
}

} // namespace

llvm::ArrayRef<OpKind> allOpKinds() { return kinds; }

const char *drawingOf(OpKind kind) {
  switch (kind) {
  case OpKind::CreateTable:
    return "table block for a new table, sometimes named like a dropped or renamed one";
  case OpKind::DropTable:
    return "drop table of a table no foreign key references";
  case OpKind::RenameTable:
    return "rename table";
  case OpKind::AddColumn:
    return "add column: plain, default, not null with default/fill/column fill/none, unique, "
           "check, references";
  case OpKind::DropColumn:
    return "drop column, also one in a multi-column constraint";
  case OpKind::RenameColumn:
    return "rename column, or a restated table with was";
  case OpKind::AlterColumnType:
    return "type change: widening, narrowing, with and without using, fill";
  case OpKind::SetNotNull:
    return "set not null with constant fill, column fill or none";
  case OpKind::DropNotNull:
    return "drop not null";
  case OpKind::SetDefault:
    return "set default";
  case OpKind::DropDefault:
    return "drop default";
  case OpKind::AddIndex:
    return "add index (btree, unique, gin)";
  case OpKind::DropIndex:
    return "drop index";
  case OpKind::RenameIndex:
    return "rename index";
  case OpKind::AddConstraint:
    return "add constraint: check, unique, foreign key, multi-column check";
  case OpKind::DropConstraint:
    return "drop constraint";
  case OpKind::RenameConstraint:
    return "rename constraint";
  case OpKind::CreateEnum:
    return "enum block";
  case OpKind::AddEnumValue:
    return "alter enum add value, at the end or before";
  case OpKind::DropEnum:
    return "drop enum of an unused enum";
  case OpKind::Backfill:
    return "backfill set where is null";
  case OpKind::RawSql:
    return "sql block creating a function";
  }
  llvm_unreachable("unknown op kind");
}

GeneratedPair generatePair(uint64_t seed) {
  GeneratedPair p;
  p.seed = seed;
  Rng rng(seed);
  Model m;
  generateStart(p, m, rng);
  size_t roll = rng.below(20);
  size_t versions = roll < 12 ? 1 : roll < 17 ? 2 : 3;
  for (size_t v = 0; v < versions; ++v) {
    p.versions.emplace_back();
    size_t changes = 1 + rng.below(3);
    std::string soFar;
    for (size_t c = 0; c < changes; ++c) {
      for (int attempt = 0; attempt < 30; ++attempt) {
        OpKind kind = kinds[rng.below(std::size(kinds))];
        if (c == 0 && soFar.empty()) {
          GeneratedPair prefix = p;
          prefix.versions.pop_back();
          soFar = prefix.dsl();
        }
        if (std::optional<GenChange> g = draw(kind, m, rng, c == 0, soFar)) {
          p.versions.back().push_back(*g);
          break;
        }
      }
    }
    if (p.versions.back().empty())
      p.versions.pop_back();
  }
  return p;
}

} // namespace strata::oracle
