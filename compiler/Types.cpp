#include "compiler/Types.h"

#include <llvm/ADT/StringMap.h>

namespace strata::compiler {

namespace {
struct Entry {
  const char *name;
  BuiltinType type;
};

// The spellings PostgreSQL accepts for its common built-in types.
const Entry entries[] = {
    {"smallint", {"smallint", 0, false}},
    {"int2", {"smallint", 0, false}},
    {"integer", {"integer", 0, false}},
    {"int", {"integer", 0, false}},
    {"int4", {"integer", 0, false}},
    {"bigint", {"bigint", 0, false}},
    {"int8", {"bigint", 0, false}},
    {"smallserial", {"smallint", 0, true}},
    {"serial2", {"smallint", 0, true}},
    {"serial", {"integer", 0, true}},
    {"serial4", {"integer", 0, true}},
    {"bigserial", {"bigint", 0, true}},
    {"serial8", {"bigint", 0, true}},
    {"real", {"real", 0, false}},
    {"float4", {"real", 0, false}},
    {"double precision", {"double precision", 0, false}},
    {"float8", {"double precision", 0, false}},
    {"float", {"double precision", 0, false}},
    {"numeric", {"numeric", 2, false}},
    {"decimal", {"numeric", 2, false}},
    {"money", {"money", 0, false}},
    {"boolean", {"boolean", 0, false}},
    {"bool", {"boolean", 0, false}},
    {"text", {"text", 0, false}},
    {"character varying", {"character varying", 1, false}},
    {"varchar", {"character varying", 1, false}},
    {"character", {"character", 1, false}},
    {"char", {"character", 1, false}},
    {"bpchar", {"character", 1, false}},
    {"name", {"name", 0, false}},
    {"bytea", {"bytea", 0, false}},
    {"date", {"date", 0, false}},
    {"time without time zone", {"time without time zone", 1, false}},
    {"time", {"time without time zone", 1, false}},
    {"time with time zone", {"time with time zone", 1, false}},
    {"timetz", {"time with time zone", 1, false}},
    {"timestamp without time zone", {"timestamp without time zone", 1, false}},
    {"timestamp", {"timestamp without time zone", 1, false}},
    {"timestamp with time zone", {"timestamp with time zone", 1, false}},
    {"timestamptz", {"timestamp with time zone", 1, false}},
    {"interval", {"interval", 1, false}},
    {"uuid", {"uuid", 0, false}},
    {"json", {"json", 0, false}},
    {"jsonb", {"jsonb", 0, false}},
    {"xml", {"xml", 0, false}},
    {"inet", {"inet", 0, false}},
    {"cidr", {"cidr", 0, false}},
    {"macaddr", {"macaddr", 0, false}},
    {"macaddr8", {"macaddr8", 0, false}},
    {"bit", {"bit", 1, false}},
    {"bit varying", {"bit varying", 1, false}},
    {"varbit", {"bit varying", 1, false}},
    {"tsvector", {"tsvector", 0, false}},
    {"tsquery", {"tsquery", 0, false}},
    {"point", {"point", 0, false}},
    {"line", {"line", 0, false}},
    {"lseg", {"lseg", 0, false}},
    {"box", {"box", 0, false}},
    {"path", {"path", 0, false}},
    {"polygon", {"polygon", 0, false}},
    {"circle", {"circle", 0, false}},
    {"int4range", {"int4range", 0, false}},
    {"int8range", {"int8range", 0, false}},
    {"numrange", {"numrange", 0, false}},
    {"tsrange", {"tsrange", 0, false}},
    {"tstzrange", {"tstzrange", 0, false}},
    {"daterange", {"daterange", 0, false}},
    {"oid", {"oid", 0, false}},
    {"regclass", {"regclass", 0, false}},
    {"pg_lsn", {"pg_lsn", 0, false}},
};

const llvm::StringMap<BuiltinType> &table() {
  static const llvm::StringMap<BuiltinType> map = [] {
    llvm::StringMap<BuiltinType> m;
    for (const Entry &e : entries)
      m.try_emplace(e.name, e.type);
    return m;
  }();
  return map;
}
} // namespace

std::optional<BuiltinType> lookupBuiltinType(llvm::StringRef name) {
  auto it = table().find(name);
  if (it == table().end())
    return std::nullopt;
  return it->second;
}

} // namespace strata::compiler
