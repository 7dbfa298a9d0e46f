#include "compiler/Schema.h"

#include <fmt/format.h>

#include <algorithm>

namespace strata::compiler {

std::string DataType::str() const {
  std::string out = schema.empty() ? name : schema + "." + name;
  if (!mods.empty()) {
    // format_type puts the modifiers inside "timestamp(3) with time zone".
    std::string list = "(" + fmt::format("{}", fmt::join(mods, ",")) + ")";
    llvm::StringRef n(name);
    if (n.endswith(" with time zone") || n.endswith(" without time zone")) {
      size_t space = name.find(' ');
      out = name.substr(0, space) + list + name.substr(space);
    } else {
      out += list;
    }
  }
  for (unsigned i = 0; i < arrayDims; ++i)
    out += "[]";
  return out;
}

const Column *Table::findColumn(llvm::StringRef n) const {
  for (const Column &c : columns)
    if (c.name == n)
      return &c;
  return nullptr;
}

Column *Table::findColumn(llvm::StringRef n) {
  for (Column &c : columns)
    if (c.name == n)
      return &c;
  return nullptr;
}

const Constraint *Table::findConstraint(llvm::StringRef n) const {
  for (const Constraint &c : constraints)
    if (c.name == n)
      return &c;
  return nullptr;
}

const Constraint *Table::primaryKey() const {
  for (const Constraint &c : constraints)
    if (c.kind == ConstraintKind::PrimaryKey)
      return &c;
  return nullptr;
}

const Index *Table::findIndex(llvm::StringRef n) const {
  for (const Index &i : indexes)
    if (i.name == n)
      return &i;
  return nullptr;
}

template <typename T> static bool sameSet(const std::vector<T> &a, const std::vector<T> &b) {
  if (a.size() != b.size())
    return false;
  for (const T &item : a)
    if (std::find(b.begin(), b.end(), item) == b.end())
      return false;
  return true;
}

bool operator==(const Table &a, const Table &b) {
  return a.name == b.name && a.owner == b.owner && a.columns == b.columns &&
         sameSet(a.constraints, b.constraints) && sameSet(a.indexes, b.indexes);
}

const Table *Schema::findTable(llvm::StringRef name) const {
  auto it = tableMap.find(name);
  return it == tableMap.end() ? nullptr : it->second.get();
}

const EnumType *Schema::findEnum(llvm::StringRef name) const {
  auto it = enumMap.find(name);
  return it == enumMap.end() ? nullptr : &it->second;
}

void Schema::indexNames(const Table &table, bool add) const {
  auto update = [&](NameIndex &index, const std::string &name) {
    std::vector<std::string> &owners = index[name];
    if (add) {
      owners.push_back(table.name);
      return;
    }
    auto it = std::find(owners.begin(), owners.end(), table.name);
    if (it != owners.end())
      owners.erase(it);
    if (owners.empty())
      index.erase(name);
  };
  for (const Index &i : table.indexes)
    update(relationNames, i.name);
  for (const Constraint &c : table.constraints) {
    update(constraintNames, c.name);
    if (c.kind == ConstraintKind::PrimaryKey || c.kind == ConstraintKind::Unique)
      update(relationNames, c.name);
  }
}

void Schema::refreshNames() const {
  for (const std::string &name : staleNames)
    if (const Table *table = findTable(name))
      indexNames(*table, /*add=*/true);
  staleNames.clear();
}

const Table *Schema::firstOwner(const NameIndex &index, llvm::StringRef name) const {
  refreshNames();
  auto it = index.find(name);
  if (it == index.end() || it->second.empty())
    return nullptr;
  return findTable(it->second.front());
}

Table &Schema::mutableTable(llvm::StringRef name) {
  auto it = tableMap.find(name);
  assert(it != tableMap.end() && "mutableTable of a missing table");
  if (staleNames.insert(it->first).second)
    indexNames(*it->second, /*add=*/false);
  if (it->second.use_count() != 1)
    it->second = std::make_shared<const Table>(*it->second);
  return const_cast<Table &>(*it->second);
}

void Schema::putTable(Table table) {
  removeTable(table.name);
  std::string key = table.name;
  indexNames(table, /*add=*/true);
  tableMap[key] = std::make_shared<const Table>(std::move(table));
}

void Schema::removeTable(llvm::StringRef name) {
  auto it = tableMap.find(name);
  if (it == tableMap.end())
    return;
  if (auto stale = staleNames.find(name); stale != staleNames.end())
    staleNames.erase(stale);
  else
    indexNames(*it->second, /*add=*/false);
  tableMap.erase(it);
}

void Schema::putEnum(EnumType type) {
  std::string key = type.name;
  enumMap[key] = std::move(type);
}

void Schema::removeEnum(llvm::StringRef name) {
  auto it = enumMap.find(name);
  if (it != enumMap.end())
    enumMap.erase(it);
}

const Table *Schema::findRelationOwner(llvm::StringRef name) const {
  if (const Table *table = findTable(name))
    return table;
  return firstOwner(relationNames, name);
}

const Table *Schema::findConstraintOwner(llvm::StringRef name) const {
  return firstOwner(constraintNames, name);
}

bool operator==(const Schema &a, const Schema &b) {
  if (a.tableMap.size() != b.tableMap.size() || a.enumMap != b.enumMap ||
      a.sqlObjects != b.sqlObjects)
    return false;
  for (auto ia = a.tableMap.begin(), ib = b.tableMap.begin(); ia != a.tableMap.end();
       ++ia, ++ib)
    if (ia->first != ib->first || !(ia->second == ib->second || *ia->second == *ib->second))
      return false;
  return true;
}

} // namespace strata::compiler
