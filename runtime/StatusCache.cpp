#include "runtime/StatusCache.h"

#include "compiler/Sha256.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include <cstdlib>

namespace strata::runtime {

using compiler::Schema;
using compiler::VersionRef;

namespace {

/// Bumped whenever what a cache file holds changes meaning: older files are then ignored.
constexpr const char *formatTag = "strata-status-cache 2";

void hashPart(compiler::Sha256 &hash, llvm::StringRef part) {
  // Length-prefixed: ("ab", "c") and ("a", "bc") hash differently.
  std::string length = std::to_string(part.size()) + ":";
  hash.update(length);
  hash.update(part);
}

std::string finish(compiler::Sha256 &hash) { return hash.finalHex(); }

/// The cache's encoding: a flat sequence of fields, each a decimal number followed by
/// ',' (integers) or by ':' and that many bytes (strings, netstring-like). JSON was the
/// first choice, but parsing 2 MB of it into a DOM was half of a warm status's CPU time;
/// this reads at memcpy speed and needs no escaping.
class Writer {
public:
  void put(int64_t value) {
    out += std::to_string(value);
    out += ',';
  }
  void put(llvm::StringRef text) {
    out += std::to_string(text.size());
    out += ':';
    out.append(text.data(), text.size());
  }
  void put(const std::vector<std::string> &list) {
    put(static_cast<int64_t>(list.size()));
    for (const std::string &item : list)
      put(item);
  }
  std::string out;
};

/// Reads what Writer wrote; any mismatch makes ok() false for good (and every later read
/// returns a zero value), so callers check once at the end.
class Reader {
public:
  explicit Reader(llvm::StringRef text) : rest(text) {}

  bool ok() const { return good; }
  bool atEnd() const { return rest.empty(); }

  int64_t integer() {
    uint64_t magnitude = 0;
    bool negative = rest.consume_front("-");
    size_t digits = 0;
    while (digits < rest.size() && digits < 18 && llvm::isDigit(rest[digits]))
      magnitude = magnitude * 10 + static_cast<uint64_t>(rest[digits++] - '0');
    if (digits == 0 || digits >= rest.size() || rest[digits] != ',')
      return fail();
    rest = rest.drop_front(digits + 1);
    return negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  }
  /// A count or index: a non-negative integer no larger than \p limit.
  unsigned count(uint64_t limit = 1u << 30) {
    int64_t value = integer();
    if (value < 0 || static_cast<uint64_t>(value) > limit)
      return fail();
    return static_cast<unsigned>(value);
  }
  bool flag() { return count(1) == 1; }
  std::string string() {
    size_t digits = 0;
    uint64_t length = 0;
    while (digits < rest.size() && digits < 18 && llvm::isDigit(rest[digits]))
      length = length * 10 + static_cast<uint64_t>(rest[digits++] - '0');
    if (digits == 0 || digits >= rest.size() || rest[digits] != ':' ||
        length > rest.size() - digits - 1) {
      fail();
      return {};
    }
    std::string out = rest.substr(digits + 1, length).str();
    rest = rest.drop_front(digits + 1 + length);
    return out;
  }
  std::vector<std::string> strings() {
    unsigned n = count(rest.size());
    std::vector<std::string> out;
    for (unsigned i = 0; i < n && good; ++i)
      out.push_back(string());
    return out;
  }
  /// An enum stored as its integer, read back only when in range.
  template <typename E> E enumeration(E last) {
    return static_cast<E>(count(static_cast<uint64_t>(last)));
  }

private:
  int fail() {
    good = false;
    rest = {};
    return 0;
  }

  llvm::StringRef rest;
  bool good = true;
};

void putColumn(Writer &w, const compiler::Column &c) {
  w.put(c.name);
  w.put(c.type.schema);
  w.put(c.type.name);
  w.put(static_cast<int64_t>(c.type.mods.size()));
  for (int64_t mod : c.type.mods)
    w.put(mod);
  w.put(c.type.arrayDims);
  w.put(c.type.isEnum);
  w.put(c.notNull);
  w.put(c.defaultExpr);
  w.put(static_cast<int64_t>(c.generation));
}

compiler::Column readColumn(Reader &r) {
  compiler::Column c;
  c.name = r.string();
  c.type.schema = r.string();
  c.type.name = r.string();
  for (unsigned n = r.count(64); n > 0 && r.ok(); --n)
    c.type.mods.push_back(r.integer());
  c.type.arrayDims = r.count(64);
  c.type.isEnum = r.flag();
  c.notNull = r.flag();
  c.defaultExpr = r.string();
  c.generation = r.enumeration(compiler::ColumnGeneration::Serial);
  return c;
}

void putConstraint(Writer &w, const compiler::Constraint &c) {
  w.put(c.name);
  w.put(static_cast<int64_t>(c.kind));
  w.put(c.columns);
  w.put(c.check);
  w.put(c.refTable);
  w.put(c.refColumns);
  w.put(static_cast<int64_t>(c.onDelete));
  w.put(static_cast<int64_t>(c.onUpdate));
}

compiler::Constraint readConstraint(Reader &r) {
  compiler::Constraint c;
  c.name = r.string();
  c.kind = r.enumeration(compiler::ConstraintKind::ForeignKey);
  c.columns = r.strings();
  c.check = r.string();
  c.refTable = r.string();
  c.refColumns = r.strings();
  c.onDelete = r.enumeration(compiler::RefAction::SetDefault);
  c.onUpdate = r.enumeration(compiler::RefAction::SetDefault);
  return c;
}

void putIndex(Writer &w, const compiler::Index &index) {
  w.put(index.name);
  w.put(index.unique);
  w.put(index.method);
  w.put(static_cast<int64_t>(index.elems.size()));
  for (const compiler::IndexColumn &e : index.elems) {
    w.put(e.column);
    w.put(e.expr);
    w.put(e.opclass);
    w.put(static_cast<int64_t>(e.order));
    w.put(static_cast<int64_t>(e.nulls));
  }
  w.put(index.where);
}

compiler::Index readIndex(Reader &r) {
  compiler::Index index;
  index.name = r.string();
  index.unique = r.flag();
  index.method = r.string();
  for (unsigned n = r.count(); n > 0 && r.ok(); --n) {
    compiler::IndexColumn e;
    e.column = r.string();
    e.expr = r.string();
    e.opclass = r.string();
    e.order = r.enumeration(compiler::SortOrder::Desc);
    e.nulls = r.enumeration(compiler::NullsOrder::Last);
    index.elems.push_back(std::move(e));
  }
  index.where = r.string();
  return index;
}

} // namespace

std::string sha256Hex(llvm::ArrayRef<llvm::StringRef> parts) {
  compiler::Sha256 hash;
  for (llvm::StringRef part : parts)
    hashPart(hash, part);
  return finish(hash);
}

std::string sourcesKey(const llvm::SourceMgr &sources, llvm::StringRef toolVersion) {
  compiler::Sha256 hash;
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

std::string encodeFacts(const StatusFacts &facts) {
  Writer w;
  w.put(static_cast<int64_t>(facts.subsystems.size()));
  for (const StatusFacts::Subsystem &s : facts.subsystems) {
    w.put(s.name);
    w.put(s.latest);
    w.put(static_cast<int64_t>(s.versions.size()));
    for (const StatusFacts::Version &v : s.versions) {
      w.put(v.text);
      w.put(v.checksum);
    }
  }
  // Dependencies after every subsystem: they point across subsystems.
  for (const StatusFacts::Subsystem &s : facts.subsystems)
    for (const StatusFacts::Version &v : s.versions) {
      w.put(static_cast<int64_t>(v.dependencies.size()));
      for (VersionRef d : v.dependencies) {
        w.put(d.subsystem);
        w.put(d.version);
      }
    }
  w.put(static_cast<int64_t>(facts.order.size()));
  for (VersionRef r : facts.order) {
    w.put(r.subsystem);
    w.put(r.version);
  }
  return std::move(w.out);
}

std::optional<StatusFacts> decodeFacts(llvm::StringRef text) {
  Reader r(text);
  StatusFacts facts;
  size_t total = 0;
  for (unsigned n = r.count(); n > 0 && r.ok(); --n) {
    StatusFacts::Subsystem sub;
    sub.name = r.string();
    sub.latest = r.count();
    for (unsigned v = r.count(); v > 0 && r.ok(); --v) {
      std::string versionText = r.string();
      std::string checksum = r.string();
      sub.versions.push_back({std::move(versionText), std::move(checksum), {}});
    }
    if (sub.latest >= sub.versions.size())
      return std::nullopt;
    total += sub.versions.size();
    facts.subsystems.push_back(std::move(sub));
  }
  auto ref = [&]() -> std::optional<VersionRef> {
    unsigned s = r.count();
    unsigned v = r.count();
    if (!r.ok() || s >= facts.subsystems.size() || v >= facts.subsystems[s].versions.size())
      return std::nullopt;
    return VersionRef{s, v};
  };
  for (StatusFacts::Subsystem &s : facts.subsystems)
    for (StatusFacts::Version &v : s.versions)
      for (unsigned n = r.count(); n > 0 && r.ok(); --n) {
        std::optional<VersionRef> d = ref();
        if (!d)
          return std::nullopt;
        v.dependencies.push_back(*d);
      }
  if (r.count() != total || !r.ok())
    return std::nullopt;
  for (size_t i = 0; i < total; ++i) {
    std::optional<VersionRef> node = ref();
    if (!node)
      return std::nullopt;
    facts.order.push_back(*node);
  }
  if (!r.ok() || !r.atEnd())
    return std::nullopt;
  return facts;
}

std::string encodeSchema(const Schema &schema) {
  Writer w;
  w.put(static_cast<int64_t>(schema.tables().size()));
  for (const auto &[_, table] : schema.tables()) {
    w.put(table->name);
    w.put(table->owner);
    w.put(static_cast<int64_t>(table->columns.size()));
    for (const compiler::Column &c : table->columns)
      putColumn(w, c);
    w.put(static_cast<int64_t>(table->constraints.size()));
    for (const compiler::Constraint &c : table->constraints)
      putConstraint(w, c);
    w.put(static_cast<int64_t>(table->indexes.size()));
    for (const compiler::Index &i : table->indexes)
      putIndex(w, i);
  }
  w.put(static_cast<int64_t>(schema.enums().size()));
  for (const auto &[_, type] : schema.enums()) {
    w.put(type.name);
    w.put(type.owner);
    w.put(type.labels);
  }
  w.put(static_cast<int64_t>(schema.sql().size()));
  for (const compiler::SqlObject &o : schema.sql()) {
    w.put(o.name);
    w.put(o.owner);
    w.put(o.up);
    w.put(o.finish);
  }
  return std::move(w.out);
}

std::optional<Schema> decodeSchema(llvm::StringRef text) {
  Reader r(text);
  Schema schema;
  for (unsigned n = r.count(); n > 0 && r.ok(); --n) {
    compiler::Table table;
    table.name = r.string();
    table.owner = r.string();
    for (unsigned c = r.count(); c > 0 && r.ok(); --c)
      table.columns.push_back(readColumn(r));
    for (unsigned c = r.count(); c > 0 && r.ok(); --c)
      table.constraints.push_back(readConstraint(r));
    for (unsigned i = r.count(); i > 0 && r.ok(); --i)
      table.indexes.push_back(readIndex(r));
    if (r.ok())
      schema.putTable(std::move(table));
  }
  for (unsigned n = r.count(); n > 0 && r.ok(); --n) {
    compiler::EnumType type;
    type.name = r.string();
    type.owner = r.string();
    type.labels = r.strings();
    if (r.ok())
      schema.putEnum(std::move(type));
  }
  for (unsigned n = r.count(); n > 0 && r.ok(); --n) {
    compiler::SqlObject o;
    o.name = r.string();
    o.owner = r.string();
    o.up = r.string();
    o.finish = r.string();
    schema.addSqlObject(std::move(o));
  }
  if (!r.ok() || !r.atEnd())
    return std::nullopt;
  return schema;
}

std::string encodeDrift(llvm::StringRef fingerprint, const DriftReport &report) {
  Writer w;
  w.put(fingerprint);
  w.put(static_cast<int64_t>(report.changes.size()));
  for (const Change &c : report.changes) {
    w.put(static_cast<int64_t>(c.kind));
    w.put(c.table);
    w.put(c.object);
    w.put(c.declared);
    w.put(c.live);
    w.put(c.sql);
    w.put(c.note);
  }
  w.put(static_cast<int64_t>(report.unmanaged.size()));
  for (const UnmanagedObject &u : report.unmanaged) {
    w.put(u.kind);
    w.put(u.name);
  }
  w.put(report.notes);
  w.put(report.script);
  return std::move(w.out);
}

std::optional<DriftReport> decodeDrift(llvm::StringRef text, llvm::StringRef fingerprint) {
  Reader r(text);
  if (r.string() != fingerprint || !r.ok())
    return std::nullopt;
  DriftReport report;
  unsigned changes = r.count(text.size());
  for (unsigned i = 0; i < changes && r.ok(); ++i) {
    Change c;
    c.kind = r.enumeration(ChangeKind::ChangedTypeValues);
    c.table = r.string();
    c.object = r.string();
    c.declared = r.string();
    c.live = r.string();
    c.sql = r.strings();
    c.note = r.string();
    report.changes.push_back(std::move(c));
  }
  unsigned unmanaged = r.count(text.size());
  for (unsigned i = 0; i < unmanaged && r.ok(); ++i) {
    UnmanagedObject u;
    u.kind = r.string();
    u.name = r.string();
    report.unmanaged.push_back(std::move(u));
  }
  report.notes = r.strings();
  report.script = r.strings();
  if (!r.ok() || !r.atEnd())
    return std::nullopt;
  return report;
}

std::string StatusCache::fileFor(llvm::StringRef kind, llvm::StringRef key) const {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, (kind + "-" + key).str());
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
  return decodeFacts(*body);
}

void StatusCache::saveFacts(llvm::StringRef key, const StatusFacts &facts) const {
  write("facts", key, encodeFacts(facts));
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
  return decodeSchema(*body);
}

void StatusCache::saveDeclared(llvm::StringRef key, const Schema &schema) const {
  write("declared", key, encodeSchema(schema));
}

std::optional<DriftReport> StatusCache::loadDrift(llvm::StringRef key,
                                                  llvm::StringRef fingerprint) const {
  std::optional<std::string> body = read("drift", key);
  if (!body)
    return std::nullopt;
  return decodeDrift(*body, fingerprint);
}

void StatusCache::saveDrift(llvm::StringRef key, llvm::StringRef fingerprint,
                            const DriftReport &report) const {
  write("drift", key, encodeDrift(fingerprint, report));
}

} // namespace strata::runtime
