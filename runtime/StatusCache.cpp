#include "runtime/StatusCache.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/SHA256.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include <nlohmann/json.hpp>

#include <cstdlib>

namespace strata::runtime {

using compiler::Schema;
using compiler::VersionRef;
using nlohmann::json;

namespace {

/// Bumped whenever what a cache file holds changes meaning: older files are then ignored.
constexpr const char *formatTag = "strata-status-cache 1";

void hashPart(llvm::SHA256 &hash, llvm::StringRef part) {
  // Length-prefixed: ("ab", "c") and ("a", "bc") hash differently.
  std::string length = std::to_string(part.size()) + ":";
  hash.update(length);
  hash.update(llvm::arrayRefFromStringRef(part));
}

std::string hexOf(llvm::StringRef bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string finish(llvm::SHA256 &hash) {
  // LLVM 14's SHA256::result() is the raw digest as a StringRef into the hasher.
  return hexOf(hash.result());
}

/// An enum stored as its integer, read back only when in range.
template <typename E> bool readEnum(const json &j, E last, E &out) {
  if (!j.is_number_integer())
    return false;
  int64_t value = j.get<int64_t>();
  if (value < 0 || value > static_cast<int64_t>(last))
    return false;
  out = static_cast<E>(value);
  return true;
}

json columnJson(const compiler::Column &c) {
  return json::array({c.name, c.type.schema, c.type.name, c.type.mods, c.type.arrayDims,
                      c.type.isEnum, c.notNull, c.defaultExpr, static_cast<int>(c.generation)});
}

json constraintJson(const compiler::Constraint &c) {
  return json::array({c.name, static_cast<int>(c.kind), c.columns, c.check, c.refTable,
                      c.refColumns, static_cast<int>(c.onDelete), static_cast<int>(c.onUpdate)});
}

json indexJson(const compiler::Index &index) {
  json elems = json::array();
  for (const compiler::IndexColumn &e : index.elems)
    elems.push_back(json::array({e.column, e.expr, e.opclass, static_cast<int>(e.order),
                                 static_cast<int>(e.nulls)}));
  return json::array({index.name, index.unique, index.method, elems, index.where});
}

// The readers throw nlohmann's exceptions on a wrong shape; the callers turn any of them
// into "no cache entry".
compiler::Column readColumn(const json &j) {
  compiler::Column c;
  if (!j.is_array() || j.size() != 9)
    throw std::runtime_error("column");
  c.name = j[0].get<std::string>();
  c.type.schema = j[1].get<std::string>();
  c.type.name = j[2].get<std::string>();
  c.type.mods = j[3].get<std::vector<int64_t>>();
  c.type.arrayDims = j[4].get<unsigned>();
  c.type.isEnum = j[5].get<bool>();
  c.notNull = j[6].get<bool>();
  c.defaultExpr = j[7].get<std::string>();
  if (!readEnum(j[8], compiler::ColumnGeneration::Serial, c.generation))
    throw std::runtime_error("generation");
  return c;
}

compiler::Constraint readConstraint(const json &j) {
  compiler::Constraint c;
  if (!j.is_array() || j.size() != 8)
    throw std::runtime_error("constraint");
  c.name = j[0].get<std::string>();
  c.columns = j[2].get<std::vector<std::string>>();
  c.check = j[3].get<std::string>();
  c.refTable = j[4].get<std::string>();
  c.refColumns = j[5].get<std::vector<std::string>>();
  if (!readEnum(j[1], compiler::ConstraintKind::ForeignKey, c.kind) ||
      !readEnum(j[6], compiler::RefAction::SetDefault, c.onDelete) ||
      !readEnum(j[7], compiler::RefAction::SetDefault, c.onUpdate))
    throw std::runtime_error("constraint kind");
  return c;
}

compiler::Index readIndex(const json &j) {
  compiler::Index index;
  if (!j.is_array() || j.size() != 5)
    throw std::runtime_error("index");
  index.name = j[0].get<std::string>();
  index.unique = j[1].get<bool>();
  index.method = j[2].get<std::string>();
  for (const json &e : j[3]) {
    if (!e.is_array() || e.size() != 5)
      throw std::runtime_error("index element");
    compiler::IndexColumn c;
    c.column = e[0].get<std::string>();
    c.expr = e[1].get<std::string>();
    c.opclass = e[2].get<std::string>();
    if (!readEnum(e[3], compiler::SortOrder::Desc, c.order) ||
        !readEnum(e[4], compiler::NullsOrder::Last, c.nulls))
      throw std::runtime_error("index order");
    index.elems.push_back(std::move(c));
  }
  index.where = j[4].get<std::string>();
  return index;
}

} // namespace

std::string sha256Hex(llvm::ArrayRef<llvm::StringRef> parts) {
  llvm::SHA256 hash;
  for (llvm::StringRef part : parts)
    hashPart(hash, part);
  return finish(hash);
}

std::string sourcesKey(const llvm::SourceMgr &sources, llvm::StringRef toolVersion) {
  llvm::SHA256 hash;
  hashPart(hash, formatTag);
  hashPart(hash, toolVersion);
  for (unsigned id = 1; id <= sources.getNumBuffers(); ++id) {
    const llvm::MemoryBuffer *buffer = sources.getMemoryBuffer(id);
    hashPart(hash, buffer->getBufferIdentifier());
    hashPart(hash, buffer->getBuffer());
  }
  return finish(hash);
}

std::optional<std::string> defaultCacheDirectory() {
  auto env = [](const char *name) -> std::optional<std::string> {
    const char *value = std::getenv(name);
    if (!value || !*value)
      return std::nullopt;
    return std::string(value);
  };
  if (std::optional<std::string> dir = env("STRATA_CACHE_DIR"))
    return dir;
  llvm::SmallString<256> path;
  if (std::optional<std::string> xdg = env("XDG_CACHE_HOME")) {
    path = *xdg;
  } else if (std::optional<std::string> home = env("HOME")) {
    path = *home;
    llvm::sys::path::append(path, ".cache");
  } else {
    return std::nullopt;
  }
  llvm::sys::path::append(path, "strata");
  return std::string(path);
}

bool cacheDisabledByEnvironment() {
  const char *value = std::getenv("STRATA_NO_CACHE");
  return value && *value && llvm::StringRef(value) != "0";
}

std::string factsToJson(const StatusFacts &facts) {
  json subsystems = json::array();
  for (const StatusFacts::Subsystem &s : facts.subsystems) {
    json versions = json::array();
    for (const StatusFacts::Version &v : s.versions) {
      json deps = json::array();
      for (VersionRef d : v.dependencies) {
        deps.push_back(d.subsystem);
        deps.push_back(d.version);
      }
      versions.push_back(json::array({v.text, v.checksum, deps}));
    }
    subsystems.push_back(json::array({s.name, s.latest, versions}));
  }
  json order = json::array();
  for (VersionRef r : facts.order) {
    order.push_back(r.subsystem);
    order.push_back(r.version);
  }
  return json{{"subsystems", subsystems}, {"order", order}}.dump();
}

std::optional<StatusFacts> factsFromJson(llvm::StringRef text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  try {
    StatusFacts facts;
    auto ref = [&](const json &list, size_t i) -> VersionRef {
      VersionRef r{list.at(i).get<unsigned>(), list.at(i + 1).get<unsigned>()};
      if (r.subsystem >= facts.subsystems.size() ||
          r.version >= facts.subsystems[r.subsystem].versions.size())
        throw std::runtime_error("dangling version");
      return r;
    };
    for (const json &s : j.at("subsystems")) {
      StatusFacts::Subsystem sub;
      sub.name = s.at(0).get<std::string>();
      sub.latest = s.at(1).get<unsigned>();
      for (const json &v : s.at(2))
        sub.versions.push_back({v.at(0).get<std::string>(), v.at(1).get<std::string>(), {}});
      if (sub.latest >= sub.versions.size())
        throw std::runtime_error("latest");
      facts.subsystems.push_back(std::move(sub));
    }
    // Dependencies once every subsystem is known: they point across subsystems.
    const json &subsystems = j.at("subsystems");
    for (size_t s = 0; s < facts.subsystems.size(); ++s) {
      const json &versions = subsystems[s][2];
      for (size_t v = 0; v < versions.size(); ++v) {
        const json &deps = versions[v].at(2);
        if (deps.size() % 2)
          throw std::runtime_error("dependencies");
        for (size_t i = 0; i < deps.size(); i += 2)
          facts.subsystems[s].versions[v].dependencies.push_back(ref(deps, i));
      }
    }
    const json &order = j.at("order");
    size_t total = 0;
    for (const StatusFacts::Subsystem &s : facts.subsystems)
      total += s.versions.size();
    if (order.size() != total * 2)
      throw std::runtime_error("order");
    for (size_t i = 0; i < order.size(); i += 2)
      facts.order.push_back(ref(order, i));
    return facts;
  } catch (const std::exception &) {
    return std::nullopt;
  }
}

std::string schemaToJson(const Schema &schema) {
  json tables = json::array();
  for (const auto &[_, table] : schema.tables()) {
    json columns = json::array(), constraints = json::array(), indexes = json::array();
    for (const compiler::Column &c : table->columns)
      columns.push_back(columnJson(c));
    for (const compiler::Constraint &c : table->constraints)
      constraints.push_back(constraintJson(c));
    for (const compiler::Index &i : table->indexes)
      indexes.push_back(indexJson(i));
    tables.push_back(json::array({table->name, table->owner, columns, constraints, indexes}));
  }
  json enums = json::array();
  for (const auto &[_, type] : schema.enums())
    enums.push_back(json::array({type.name, type.owner, type.labels}));
  json sql = json::array();
  for (const compiler::SqlObject &o : schema.sql())
    sql.push_back(json::array({o.name, o.owner, o.up, o.finish}));
  return json{{"tables", tables}, {"enums", enums}, {"sql", sql}}.dump();
}

std::optional<Schema> schemaFromJson(llvm::StringRef text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  try {
    Schema schema;
    for (const json &t : j.at("tables")) {
      if (!t.is_array() || t.size() != 5)
        return std::nullopt;
      compiler::Table table;
      table.name = t[0].get<std::string>();
      table.owner = t[1].get<std::string>();
      for (const json &c : t[2])
        table.columns.push_back(readColumn(c));
      for (const json &c : t[3])
        table.constraints.push_back(readConstraint(c));
      for (const json &i : t[4])
        table.indexes.push_back(readIndex(i));
      schema.putTable(std::move(table));
    }
    for (const json &e : j.at("enums")) {
      if (!e.is_array() || e.size() != 3)
        return std::nullopt;
      compiler::EnumType type;
      type.name = e[0].get<std::string>();
      type.owner = e[1].get<std::string>();
      type.labels = e[2].get<std::vector<std::string>>();
      schema.putEnum(std::move(type));
    }
    for (const json &o : j.at("sql")) {
      if (!o.is_array() || o.size() != 4)
        return std::nullopt;
      schema.addSqlObject({o[0].get<std::string>(), o[1].get<std::string>(),
                           o[2].get<std::string>(), o[3].get<std::string>(), {}});
    }
    return schema;
  } catch (const std::exception &) {
    return std::nullopt;
  }
}

std::string StatusCache::fileFor(llvm::StringRef kind, llvm::StringRef key) const {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, (kind + "-" + key + ".json").str());
  return std::string(path);
}

std::optional<std::string> StatusCache::read(llvm::StringRef kind, llvm::StringRef key) const {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(fileFor(kind, key), /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return std::nullopt;
  // The first line names the format, the kind and the key: a file of another strata, or
  // renamed, or cut short before its first line, is not used.
  auto [header, body] = (*buffer)->getBuffer().split('\n');
  if (header != (llvm::Twine(formatTag) + " " + kind + " " + key).str())
    return std::nullopt;
  return body.str();
}

void StatusCache::write(llvm::StringRef kind, llvm::StringRef key, llvm::StringRef body) const {
  namespace fs = llvm::sys::fs;
  if (fs::create_directories(dir))
    return;
  std::string path = fileFor(kind, key);
  int fd = -1;
  llvm::SmallString<256> temp;
  if (fs::createUniqueFile(path + ".tmp-%%%%%%", fd, temp))
    return;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << formatTag << " " << kind << " " << key << "\n" << body;
    os.close();
    if (os.has_error()) {
      os.clear_error();
      fs::remove(temp);
      return;
    }
  }
  if (fs::rename(temp, path))
    fs::remove(temp);
}

std::optional<StatusFacts> StatusCache::loadFacts(llvm::StringRef key) const {
  std::optional<std::string> body = read("facts", key);
  if (!body)
    return std::nullopt;
  return factsFromJson(*body);
}

void StatusCache::saveFacts(llvm::StringRef key, const StatusFacts &facts) const {
  write("facts", key, factsToJson(facts));
}

std::string StatusCache::declaredKey(llvm::StringRef sourcesKey,
                                     llvm::ArrayRef<std::string> versions, llvm::StringRef schema,
                                     llvm::ArrayRef<std::string> serverFacts) {
  std::vector<llvm::StringRef> parts = {formatTag, sourcesKey, schema};
  parts.push_back("versions");
  parts.insert(parts.end(), versions.begin(), versions.end());
  parts.push_back("server");
  parts.insert(parts.end(), serverFacts.begin(), serverFacts.end());
  return sha256Hex(parts);
}

const char *StatusCache::serverFactsQuery() {
  return "SELECT current_setting('server_version_num'), "
         "coalesce(string_agg(extname || ' ' || extversion, ',' ORDER BY extname), '') "
         "FROM pg_catalog.pg_extension";
}

std::optional<Schema> StatusCache::loadDeclared(llvm::StringRef key) const {
  std::optional<std::string> body = read("declared", key);
  if (!body)
    return std::nullopt;
  return schemaFromJson(*body);
}

void StatusCache::saveDeclared(llvm::StringRef key, const Schema &schema) const {
  write("declared", key, schemaToJson(schema));
}

} // namespace strata::runtime
