// Inspector: the catalog queries and their translation into the Schema model.
//
// Lists that belong to one object (key columns, enum labels, index elements) are
// aggregated into JSON by the server, so that each query returns one row per object and
// names with commas, quotes or spaces need no array-literal parsing here.
#include "runtime/Inspector.h"

#include "runtime/PgError.h"

#include "llvm/ADT/STLExtras.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cassert>
#include <map>
#include <optional>

namespace strata::runtime {

using compiler::Column;
using compiler::ColumnGeneration;
using compiler::Constraint;
using compiler::ConstraintKind;
using compiler::DataType;
using compiler::EnumType;
using compiler::Index;
using compiler::IndexColumn;
using compiler::NullsOrder;
using compiler::RefAction;
using compiler::Schema;
using compiler::SortOrder;
using compiler::Table;

namespace {

constexpr const char *invalidSchemaName = "3F000";

// $1 is the schema name in every query. Ordering uses `name` columns, whose collation is
// "C", so the order does not depend on the database's locale.

// Starts the snapshot: search_path becomes the inspected schema alone (pg_catalog is
// always searched first), for this transaction only, so that deparsed expressions name
// the schema's own types, sequences and tables without qualification.
enum class SetupCol { SearchPath, SchemaExists };

constexpr const char *setupQuery = R"sql(
select set_config('search_path', quote_ident($1), true),
       exists (select 1 from pg_catalog.pg_namespace where nspname = $1)
)sql";

enum class TableCol {
  RelName,
  AttName,
  Formatted,
  TypeIsEnum,
  TypeSchema,
  TypeName,
  ElemWithMod,
  ElemPlain,
  NotNull,
  Identity,
  Generated,
  Default,
  IsSerial,
  AttNum,
};

// One row per column (one row with NULL attname for a table without columns).
// A column is serial when its default is exactly nextval() of a sequence that the column
// owns (pg_depend deptype 'a', what SERIAL and ALTER SEQUENCE ... OWNED BY record);
// identity sequences are deptype 'i' and have no pg_attrdef row at all.
constexpr const char *tablesQuery = R"sql(
select c.relname,
       a.attname,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       et.typtype = 'e',
       etn.nspname,
       et.typname,
       -- The element type's modifiers, read only for types outside pg_catalog (columnType):
       -- format_type is most of this query's cost, so it is not called for nothing.
       case when etn.nspname <> 'pg_catalog'
            then pg_catalog.format_type(et.oid, a.atttypmod) end,
       case when etn.nspname <> 'pg_catalog' then pg_catalog.format_type(et.oid, null) end,
       a.attnotnull,
       a.attidentity,
       a.attgenerated,
       -- Relation 0 for a default, which cannot refer to a column: deparsing with the table
       -- opens it, and opening every table of a 2,000-table schema in a new session is most
       -- of this query's cost. A generated column's expression does refer to columns.
       pg_catalog.pg_get_expr(ad.adbin,
                              case when a.attgenerated <> '' then ad.adrelid else 0 end),
       case when ad.adbin is null or a.attgenerated <> '' then false
            else exists (select 1
                           from pg_catalog.pg_depend d
                           join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
                          where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                            and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                            and d.refobjid = c.oid and d.refobjsubid = a.attnum
                            and d.deptype = 'a'
                            and pg_catalog.pg_get_expr(ad.adbin,
                                                       case when a.attgenerated <> ''
                                                            then ad.adrelid else 0 end) =
                                pg_catalog.format('nextval(%L::regclass)',
                                                  s.oid::pg_catalog.regclass)) end,
       a.attnum
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_attribute a
         on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  left join pg_catalog.pg_type t on t.oid = a.atttypid
  left join pg_catalog.pg_type et
         on et.oid = case when t.typcategory = 'A' and t.typelem <> 0 then t.typelem
                          else t.oid end
  left join pg_catalog.pg_namespace etn on etn.oid = et.typnamespace
  left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
 where n.nspname = $1 and c.relkind in ('r', 'p')
 order by c.relname, a.attnum
)sql";

enum class ConstraintCol {
  RelName,
  Name,
  Type,
  Columns,
  Check,
  RefTable,
  RefSchema,
  RefColumns,
  RefColumnNames, ///< JSON, for a foreign key into another schema only
  DeleteAction,
  UpdateAction,
  Validated,
  Deferrable,
  MatchType,
};

// conkey holds the key columns in key order, and for a check the columns its expression
// mentions, in the order they appear.
// The key columns come as attribute numbers ("{2,3}"), named with the numbers that the
// tables query read: naming them here (a json_agg over pg_attribute per constraint) was
// three quarters of this query's cost. Only a foreign key into another schema, whose
// table the tables query does not read, has its referenced columns named here.
constexpr const char *constraintsQuery = R"sql(
select c.relname,
       co.conname,
       co.contype,
       coalesce(co.conkey::text, '{}'),
       pg_catalog.pg_get_expr(co.conbin, co.conrelid),
       fc.relname,
       fn.nspname,
       coalesce(co.confkey::text, '{}'),
       case when fn.nspname <> $1
            then coalesce((select pg_catalog.json_agg(a.attname order by k.ord)
                             from pg_catalog.unnest(co.confkey) with ordinality as k(attnum, ord)
                             join pg_catalog.pg_attribute a
                               on a.attrelid = co.confrelid and a.attnum = k.attnum),
                          '[]') end,
       co.confdeltype,
       co.confupdtype,
       co.convalidated,
       co.condeferrable,
       co.confmatchtype
  from pg_catalog.pg_constraint co
  join pg_catalog.pg_class c on c.oid = co.conrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_class fc on fc.oid = co.confrelid
  left join pg_catalog.pg_namespace fn on fn.oid = fc.relnamespace
 where n.nspname = $1 and c.relkind in ('r', 'p') and co.contype in ('p', 'u', 'c', 'f', 'x')
 order by c.relname, co.conname
)sql";

enum class IndexCol {
  RelName,
  Name,
  Unique,
  Method,
  Valid,
  Predicate,
  HasInclude,
  Elements,
};

// Indexes that back a primary key, unique or exclusion constraint belong to the
// constraint and are left out. (A foreign key's conindid is the referenced table's
// index, hence the contype filter.)
//
// An element's opclass counts as the default one as GetDefaultOpClass() in indexcmds.c
// decides it, simplified: a default opclass of the access method whose input type is the
// key's type, or, when the type has no exact default (varchar, arrays, enums), the
// binary-compatible or polymorphic default that was chosen. For an expression the index
// attribute's type stands in for the expression's type; it is the opclass's storage
// type instead when the opclass has one, hence the opckeytype test.
constexpr const char *indexesQuery = R"sql(
select t.relname,
       i.relname,
       x.indisunique,
       am.amname,
       x.indisvalid,
       pg_catalog.pg_get_expr(x.indpred, x.indrelid),
       x.indnatts > x.indnkeyatts,
       (select pg_catalog.json_agg(pg_catalog.json_build_object(
                 'column', ta.attname,
                 'expr', case when x.indkey[k] = 0
                              then pg_catalog.pg_get_indexdef(x.indexrelid, k + 1, true) end,
                 'opclass', opc.opcname,
                 'defaultOpclass',
                   opc.opcdefault
                   and (opc.opcintype = kt.oid
                        or (x.indkey[k] = 0 and opc.opckeytype = ia.atttypid)
                        or not exists (select 1 from pg_catalog.pg_opclass o2
                                        where o2.opcmethod = opc.opcmethod and o2.opcdefault
                                          and o2.opcintype = kt.oid)),
                 'option', x.indoption[k]) order by k)
          from pg_catalog.generate_series(0, x.indnkeyatts - 1) as k
          join pg_catalog.pg_opclass opc on opc.oid = x.indclass[k]
          join pg_catalog.pg_attribute ia on ia.attrelid = x.indexrelid and ia.attnum = k + 1
          left join pg_catalog.pg_attribute ta
                 on ta.attrelid = x.indrelid and ta.attnum = x.indkey[k] and x.indkey[k] <> 0
          -- A lookup by oid, kept a lateral subquery by "offset 0": as a join, the planner
          -- (which guesses 1,000 rows for generate_series) hashed all of pg_type once per
          -- index: 1.7 s for 1,600 indexes.
          cross join lateral (select case when kty.typtype = 'd' then kty.typbasetype
                                          else kty.oid end as oid
                                from pg_catalog.pg_type kty
                               where kty.oid = coalesce(ta.atttypid, ia.atttypid)
                              offset 0) kt)
  from pg_catalog.pg_index x
  join pg_catalog.pg_class i on i.oid = x.indexrelid
  join pg_catalog.pg_class t on t.oid = x.indrelid
  join pg_catalog.pg_namespace n on n.oid = t.relnamespace
  join pg_catalog.pg_am am on am.oid = i.relam
 where n.nspname = $1 and t.relkind in ('r', 'p')
   and not exists (select 1 from pg_catalog.pg_constraint co
                    where co.conindid = x.indexrelid and co.conrelid = x.indrelid
                      and co.contype in ('p', 'u', 'x'))
 order by t.relname, i.relname
)sql";

enum class EnumCol { Name, Labels };

constexpr const char *enumsQuery = R"sql(
select t.typname,
       coalesce((select pg_catalog.json_agg(e.enumlabel order by e.enumsortorder)
                   from pg_catalog.pg_enum e where e.enumtypid = t.oid),
                '[]')
  from pg_catalog.pg_type t
  join pg_catalog.pg_namespace n on n.oid = t.typnamespace
 where n.nspname = $1 and t.typtype = 'e'
 order by t.typname
)sql";

enum class TriggerCol { RelName, Name, Function, Source };

constexpr const char *triggersQuery = R"sql(
select c.relname, tg.tgname, tg.tgfoid::pg_catalog.regprocedure::text, p.prosrc
  from pg_catalog.pg_trigger tg
  join pg_catalog.pg_class c on c.oid = tg.tgrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_proc p on p.oid = tg.tgfoid
 where n.nspname = $1 and c.relkind in ('r', 'p') and not tg.tgisinternal
 order by c.relname, tg.tgname
)sql";

// The catalog fingerprint (catalogFingerprint): one short text that changes whenever a
// catalog row that the queries above (or compareWithLive's list of schemas) read changes,
// so that `strata status` may reuse a drift result computed against an equal fingerprint
// instead of reading the catalog again (runtime/StatusCache.h).
//
// Why it sees every change: PostgreSQL does not update a catalog row in place for DDL.
// Every CREATE, ALTER, RENAME or DROP of a table, column, default, constraint, index, type
// or enum label writes a new row version, whose xmin is the id of the transaction that
// wrote it, or deletes rows. So for each catalog below, the number of rows and the sum of
// a 64-bit hash of every row's key and xmin change whenever a row is added, deleted or
// rewritten. (A sum rather than a digest of the rows in key order: the same test at half
// the cost; a change goes unseen only if the hashes it adds and removes cancel exactly,
// a chance of about 2^-64.) A row read through a join is covered by including its own
// catalog: the schema's relations (pg_class: tables, their indexes and sequences, and the
// tables its foreign keys reference in other schemas), their columns (pg_attribute,
// dropped ones included), their defaults (pg_attrdef), constraints (pg_constraint),
// indexes (pg_index), their triggers (pg_trigger: a trigger whose function names a column
// withholds the drop of that column), the sequence ownership that makes a column serial
// (pg_depend), every schema (pg_namespace: the inspected one's name and the other schemas, listed
// as unmanaged), and every object created after initdb (oid >= 16384, FirstNormalObjectId) that a
// type name or a deparsed expression may name: types and enum labels, functions, operators,
// operator classes, access methods, collations. The database's name and oid come first, so that two
// databases never share a fingerprint.
//
// What it cannot see, and why that is safe here:
// - In-place updates (heap_inplace_update) keep xmin: VACUUM and ANALYZE writing relpages,
//   reltuples, relallvisible, relfrozenxid; CREATE INDEX setting relhasindex. None of
//   these fields is read by the Inspector, so its result does not change either.
// - Built-in objects (oid < 16384) are not fingerprinted: initdb creates them and nothing
//   is expected to change them; a superuser renaming a built-in type or function that a
//   column or expression uses would go unseen until the next change in the schema.
// - Catalogs the Inspector does not read (policies, grants, comments, views' rules...) are
//   left out on purpose: their changes do not change drift.
// - A change that commits between this query and the Inspector's read: status computes the
//   fingerprint first, so a result is stored with a fingerprint at least as old as the
//   catalog it was read from; the next run sees a different fingerprint and reads again.
// Spurious differences (VACUUM FREEZE does not change xmin as the system column reports
// it, but a rewrite with the same content does) only cost one full read.
// Fix: the tables a foreign key references were found by a semi-join of one CTE on
// another. A CTE has no statistics, and right after a large migration neither have the
// catalogs (autovacuum has not analyzed them yet): PostgreSQL nested the loop, comparing
// every constraint with every table (5 million comparisons, 670 ms of a 10,000-version
// database's 0.64 s warm status, against 70 ms once analyzed). The catalogs are now
// joined directly, on their indexes.
constexpr const char *fingerprintQuery = R"sql(
with ns as (select oid from pg_catalog.pg_namespace where nspname = $1),
     rel as (select c.oid from pg_catalog.pg_class c where c.relnamespace = (select oid from ns)
             union
             select co.confrelid from pg_catalog.pg_constraint co
               join pg_catalog.pg_class c on c.oid = co.conrelid
              where c.relnamespace = (select oid from ns) and co.confrelid <> 0)
select pg_catalog.concat_ws(' ',
  pg_catalog.current_database(),
  (select oid from pg_catalog.pg_database where datname = pg_catalog.current_database()),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_namespace),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_class where oid in (select oid from rel)),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(attrelid::int8 * 65536 + attnum, xmin::text::int8)), 0)
     from pg_catalog.pg_attribute where attrelid in (select oid from rel)),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_attrdef where adrelid in (select oid from rel)),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_constraint where conrelid in (select oid from rel)),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(indexrelid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_index where indrelid in (select oid from rel)),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_trigger where tgrelid in (select oid from rel)),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(
            (objid::int8 * 65536 + objsubid) # (refobjid::int8 << 20) # refobjsubid
              # pg_catalog.ascii(deptype::text),
            xmin::text::int8)), 0)
     from pg_catalog.pg_depend
    where refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      and refobjid in (select oid from rel)),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_type where oid >= 16384),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_enum),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_proc where oid >= 16384),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_operator where oid >= 16384),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_opclass where oid >= 16384),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_am where oid >= 16384),
  (select count(*) || '/' || coalesce(sum(pg_catalog.hashint8extended(oid::int8, xmin::text::int8)), 0)
     from pg_catalog.pg_collation where oid >= 16384))
)sql";

/// One row of a catalog query, its columns named by the query's column enum.
template <typename Col> struct Row {
  const Result &res;
  int row;
  llvm::StringRef get(Col col) const { return res.get(row, static_cast<int>(col)); }
  bool isNull(Col col) const { return res.isNull(row, static_cast<int>(col)); }
  bool flag(Col col) const { return get(col) == "t"; }
};

// pg_index.indoption bits (INDOPTION_DESC, INDOPTION_NULLS_FIRST in pg_index.h).
constexpr int64_t indoptionDesc = 1;
constexpr int64_t indoptionNullsFirst = 2;

llvm::Error catalogError(const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "unexpected catalog data: " + what);
}

/// Parses the JSON that a query aggregated; never throws (nlohmann's exceptions stay
/// inside this file).
llvm::Expected<nlohmann::json> parseJsonArray(llvm::StringRef text) {
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                                               /*allow_exceptions=*/false);
  if (!value.is_array())
    return catalogError("expected a JSON array, got " + text);
  return value;
}

llvm::Expected<std::vector<std::string>> parseJsonStrings(llvm::StringRef text) {
  llvm::Expected<nlohmann::json> array = parseJsonArray(text);
  if (!array)
    return array.takeError();
  std::vector<std::string> out;
  for (const nlohmann::json &item : *array) {
    if (!item.is_string())
      return catalogError("expected a JSON array of strings, got " + text);
    out.push_back(item.get<std::string>());
  }
  return out;
}

/// The member \p key of \p object if it has one of type \p type, else null.
const nlohmann::json *member(const nlohmann::json &object, const char *key,
                             nlohmann::json::value_t type) {
  auto it = object.find(key);
  if (it == object.end() || it->type() != type)
    return nullptr;
  return &*it;
}

/// Whether \p text is one parenthesised group: "(a > 0)", not "(a > 0) AND (b > 0)".
/// Deparsed SQL quotes with '...' and "..." and doubles the quote inside (a doubled quote
/// closes and reopens, which the scan handles for free); it never uses dollar quotes.
bool isWrappedInParens(llvm::StringRef text) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    return false;
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (quote) {
      if (ch == quote)
        quote = 0;
      continue;
    }
    if (ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '(') {
      ++depth;
    } else if (ch == ')') {
      --depth;
      if (depth == 0 && i + 1 != text.size())
        return false;
    }
  }
  return depth == 0;
}

/// PostgreSQL wraps a deparsed check, index predicate or index expression in one pair
/// of parentheses; the model keeps expressions without them, as written inside the DSL's.
std::string stripOuterParens(llvm::StringRef text) {
  if (isWrappedInParens(text))
    return text.drop_front().drop_back().str();
  return text.str();
}

/// Parses "(10,2)" at the start of \p text into \p mods; returns the rest, or nothing if
/// \p text does not start with such a list.
std::optional<llvm::StringRef> parseMods(llvm::StringRef text, std::vector<int64_t> &mods) {
  if (!text.consume_front("("))
    return std::nullopt;
  size_t close = text.find(')');
  if (close == llvm::StringRef::npos)
    return std::nullopt;
  llvm::SmallVector<llvm::StringRef, 2> parts;
  text.take_front(close).split(parts, ',');
  std::vector<int64_t> values;
  for (llvm::StringRef part : parts) {
    int64_t value = 0;
    if (part.trim().getAsInteger(10, value))
      return std::nullopt;
    values.push_back(value);
  }
  mods = std::move(values);
  return text.drop_front(close + 1);
}

/// Splits format_type's text for a built-in type: "character varying(20)[]" into
/// "character varying", {20} and 1; "timestamp(3) with time zone" into
/// "timestamp with time zone" and {3}. The inverse of DataType::str().
DataType parseBuiltinType(llvm::StringRef formatted) {
  DataType type;
  while (formatted.consume_back("[]"))
    ++type.arrayDims;
  size_t open = formatted.startswith("\"") ? llvm::StringRef::npos : formatted.find('(');
  if (open == llvm::StringRef::npos) {
    type.name = formatted.str();
    return type;
  }
  std::optional<llvm::StringRef> rest = parseMods(formatted.drop_front(open), type.mods);
  if (!rest) {
    type.name = formatted.str();
    return type;
  }
  type.name = (formatted.take_front(open) + *rest).str();
  return type;
}

/// A column's type. Built-in types (pg_catalog) are parsed from format_type; others
/// (enums, domains, extension types) are named by pg_type, so no quoting reaches the
/// model, and qualified unless they live in the inspected schema.
DataType columnType(const Row<TableCol> &row, llvm::StringRef inspected) {
  llvm::StringRef formatted = row.get(TableCol::Formatted);
  if (row.get(TableCol::TypeSchema) == "pg_catalog")
    return parseBuiltinType(formatted);
  DataType type;
  while (formatted.consume_back("[]"))
    ++type.arrayDims;
  type.name = row.get(TableCol::TypeName).str();
  if (row.get(TableCol::TypeSchema) != inspected)
    type.schema = row.get(TableCol::TypeSchema).str();
  type.isEnum = row.flag(TableCol::TypeIsEnum);
  llvm::StringRef withMod = row.get(TableCol::ElemWithMod);
  if (withMod.consume_front(row.get(TableCol::ElemPlain)))
    (void)parseMods(withMod, type.mods);
  return type;
}

Column readColumn(const Row<TableCol> &row, llvm::StringRef tableName, llvm::StringRef inspected,
                  Inspection &out) {
  Column column;
  column.name = row.get(TableCol::AttName).str();
  column.type = columnType(row, inspected);
  column.notNull = row.flag(TableCol::NotNull);
  llvm::StringRef identity = row.get(TableCol::Identity);
  if (identity == "a")
    column.generation = ColumnGeneration::IdentityAlways;
  else if (identity == "d")
    column.generation = ColumnGeneration::IdentityByDefault;
  else if (row.flag(TableCol::IsSerial))
    column.generation = ColumnGeneration::Serial;
  if (!row.get(TableCol::Generated).empty()) {
    out.unsupported.push_back(
        fmt::format("column \"{}\" of table \"{}\" is generated ({}); read as a plain column",
                    column.name, tableName, row.get(TableCol::Default)));
    return column;
  }
  if (column.generation == ColumnGeneration::None && !row.isNull(TableCol::Default))
    column.defaultExpr = row.get(TableCol::Default).str();
  return column;
}

RefAction refAction(llvm::StringRef code) {
  if (code == "r")
    return RefAction::Restrict;
  if (code == "c")
    return RefAction::Cascade;
  if (code == "n")
    return RefAction::SetNull;
  if (code == "d")
    return RefAction::SetDefault;
  return RefAction::NoAction; // 'a'
}

bool isExcluded(llvm::StringRef table, const InspectOptions &options) {
  if (!options.excludePrefix.empty() && table.startswith(options.excludePrefix))
    return true;
  return llvm::is_contained(options.excludeTables, table);
}

/// Every table's column names by attribute number (excluded tables too: a foreign key
/// may reference one).
using ColumnNumbers = std::map<std::string, std::map<int64_t, std::string>, std::less<>>;

llvm::Error readTables(Connection &conn, const InspectOptions &options,
                       std::map<std::string, Table, std::less<>> &tables, ColumnNumbers &numbers,
                       Inspection &out) {
  llvm::Expected<Result> res = conn.execParams(tablesQuery, {options.schema});
  if (!res)
    return res.takeError();
  for (int row = 0; row < res->rows(); ++row) {
    Row<TableCol> r{*res, row};
    llvm::StringRef tableName = r.get(TableCol::RelName);
    if (!r.isNull(TableCol::AttName)) {
      int64_t attnum = 0;
      if (r.get(TableCol::AttNum).getAsInteger(10, attnum))
        return catalogError("attribute number " + r.get(TableCol::AttNum));
      numbers[tableName.str()][attnum] = r.get(TableCol::AttName).str();
    }
    if (isExcluded(tableName, options))
      continue;
    Table &table = tables[tableName.str()];
    table.name = tableName.str();
    if (r.isNull(TableCol::AttName))
      continue;
    table.columns.push_back(readColumn(r, tableName, options.schema, out));
  }
  return llvm::Error::success();
}

/// The names of the columns \p list ("{2,3}", attribute numbers) of \p table.
llvm::Expected<std::vector<std::string>> columnNames(const ColumnNumbers &numbers,
                                                     llvm::StringRef table, llvm::StringRef list) {
  auto columns = numbers.find(table);
  if (!list.consume_front("{") || !list.consume_back("}"))
    return catalogError("a key column list " + list);
  std::vector<std::string> out;
  llvm::SmallVector<llvm::StringRef, 4> items;
  list.split(items, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef item : items) {
    int64_t attnum = 0;
    if (item.getAsInteger(10, attnum))
      return catalogError("a key column number " + item);
    if (columns == numbers.end() || !columns->second.count(attnum))
      return catalogError("no column " + item + " in table " + table);
    out.push_back(columns->second.at(attnum));
  }
  return out;
}

llvm::Error readConstraints(Connection &conn, const InspectOptions &options,
                            std::map<std::string, Table, std::less<>> &tables,
                            const ColumnNumbers &numbers, Inspection &out) {
  llvm::Expected<Result> res = conn.execParams(constraintsQuery, {options.schema});
  if (!res)
    return res.takeError();
  for (int row = 0; row < res->rows(); ++row) {
    Row<ConstraintCol> r{*res, row};
    auto it = tables.find(r.get(ConstraintCol::RelName));
    if (it == tables.end())
      continue;
    Table &table = it->second;
    Constraint c;
    c.name = r.get(ConstraintCol::Name).str();
    llvm::StringRef type = r.get(ConstraintCol::Type);
    if (type == "x") {
      out.unsupported.push_back(fmt::format(
          "exclusion constraint \"{}\" on table \"{}\" is left out", c.name, table.name));
      continue;
    }
    llvm::Expected<std::vector<std::string>> columns =
        columnNames(numbers, table.name, r.get(ConstraintCol::Columns));
    if (!columns)
      return columns.takeError();
    c.columns = std::move(*columns);
    if (type == "p") {
      c.kind = ConstraintKind::PrimaryKey;
    } else if (type == "u") {
      c.kind = ConstraintKind::Unique;
    } else if (type == "c") {
      c.kind = ConstraintKind::Check;
      c.check = stripOuterParens(r.get(ConstraintCol::Check));
    } else {
      assert(type == "f" && "the query selects only p, u, c, f and x");
      c.kind = ConstraintKind::ForeignKey;
      c.refTable = r.get(ConstraintCol::RefTable).str();
      if (r.get(ConstraintCol::RefSchema) != options.schema)
        out.unsupported.push_back(
            fmt::format("foreign key \"{}\" on table \"{}\" references \"{}\" in schema \"{}\"",
                        c.name, table.name, c.refTable, r.get(ConstraintCol::RefSchema)));
      llvm::Expected<std::vector<std::string>> refColumns =
          r.isNull(ConstraintCol::RefColumnNames)
              ? columnNames(numbers, c.refTable, r.get(ConstraintCol::RefColumns))
              : parseJsonStrings(r.get(ConstraintCol::RefColumnNames));
      if (!refColumns)
        return refColumns.takeError();
      c.refColumns = std::move(*refColumns);
      c.onDelete = refAction(r.get(ConstraintCol::DeleteAction));
      c.onUpdate = refAction(r.get(ConstraintCol::UpdateAction));
      if (r.get(ConstraintCol::MatchType) == "f")
        out.unsupported.push_back(
            fmt::format("foreign key \"{}\" on table \"{}\" is MATCH FULL", c.name, table.name));
    }
    if (r.flag(ConstraintCol::Deferrable))
      out.unsupported.push_back(
          fmt::format("constraint \"{}\" on table \"{}\" is deferrable", c.name, table.name));
    if (!r.flag(ConstraintCol::Validated))
      out.notValidConstraints.push_back({table.name, c.name});
    table.constraints.push_back(std::move(c));
  }
  return llvm::Error::success();
}

llvm::Expected<IndexColumn> readIndexElement(const nlohmann::json &object) {
  using Type = nlohmann::json::value_t;
  if (!object.is_object())
    return catalogError("an index element is not a JSON object");
  IndexColumn elem;
  if (const nlohmann::json *column = member(object, "column", Type::string))
    elem.column = column->get<std::string>();
  else if (const nlohmann::json *expr = member(object, "expr", Type::string))
    elem.expr = stripOuterParens(expr->get<std::string>());
  else
    return catalogError("an index element has neither a column nor an expression");
  const nlohmann::json *defaultOpclass = member(object, "defaultOpclass", Type::boolean);
  const nlohmann::json *opclass = member(object, "opclass", Type::string);
  if (defaultOpclass && !defaultOpclass->get<bool>() && opclass)
    elem.opclass = opclass->get<std::string>();
  // PostgreSQL does not remember an explicit ASC, nor NULLS LAST after ASC or NULLS
  // FIRST after DESC (the defaults): those read back as Default.
  const nlohmann::json *optionValue = member(object, "option", Type::number_integer);
  if (!optionValue)
    optionValue = member(object, "option", Type::number_unsigned);
  int64_t option = optionValue ? optionValue->get<int64_t>() : 0;
  bool desc = option & indoptionDesc;
  bool nullsFirst = option & indoptionNullsFirst;
  if (desc)
    elem.order = SortOrder::Desc;
  if (nullsFirst && !desc)
    elem.nulls = NullsOrder::First;
  if (!nullsFirst && desc)
    elem.nulls = NullsOrder::Last;
  return elem;
}

llvm::Error readIndexes(Connection &conn, const InspectOptions &options,
                        std::map<std::string, Table, std::less<>> &tables, Inspection &out) {
  llvm::Expected<Result> res = conn.execParams(indexesQuery, {options.schema});
  if (!res)
    return res.takeError();
  for (int row = 0; row < res->rows(); ++row) {
    Row<IndexCol> r{*res, row};
    auto it = tables.find(r.get(IndexCol::RelName));
    if (it == tables.end())
      continue;
    Table &table = it->second;
    Index index;
    index.name = r.get(IndexCol::Name).str();
    index.unique = r.flag(IndexCol::Unique);
    index.method = r.get(IndexCol::Method).str();
    if (!r.isNull(IndexCol::Predicate))
      index.where = stripOuterParens(r.get(IndexCol::Predicate));
    llvm::Expected<nlohmann::json> elems = parseJsonArray(r.get(IndexCol::Elements));
    if (!elems)
      return elems.takeError();
    for (const nlohmann::json &value : *elems) {
      llvm::Expected<IndexColumn> elem = readIndexElement(value);
      if (!elem)
        return elem.takeError();
      index.elems.push_back(std::move(*elem));
    }
    if (r.flag(IndexCol::HasInclude))
      out.unsupported.push_back(
          fmt::format("index \"{}\" on table \"{}\" has INCLUDE columns; read without them",
                      index.name, table.name));
    if (!r.flag(IndexCol::Valid)) {
      out.invalidIndexes.push_back({table.name, std::move(index)});
      continue;
    }
    table.indexes.push_back(std::move(index));
  }
  return llvm::Error::success();
}

llvm::Error readEnums(Connection &conn, const InspectOptions &options, Schema &schema) {
  llvm::Expected<Result> res = conn.execParams(enumsQuery, {options.schema});
  if (!res)
    return res.takeError();
  for (int row = 0; row < res->rows(); ++row) {
    Row<EnumCol> r{*res, row};
    EnumType type;
    type.name = r.get(EnumCol::Name).str();
    llvm::Expected<std::vector<std::string>> labels = parseJsonStrings(r.get(EnumCol::Labels));
    if (!labels)
      return labels.takeError();
    type.labels = std::move(*labels);
    schema.putEnum(std::move(type));
  }
  return llvm::Error::success();
}

/// The queries, inside the transaction that inspect() opened.
llvm::Expected<Inspection> readCatalog(Connection &conn, const InspectOptions &options) {
  llvm::Expected<Result> setup = conn.execParams(setupQuery, {options.schema});
  if (!setup)
    return setup.takeError();
  if (!Row<SetupCol>{*setup, 0}.flag(SetupCol::SchemaExists))
    return llvm::make_error<PgError>(invalidSchemaName,
                                     fmt::format("schema \"{}\" does not exist", options.schema));
  Inspection out;
  std::map<std::string, Table, std::less<>> tables;
  ColumnNumbers numbers;
  if (llvm::Error e = readEnums(conn, options, out.schema))
    return e;
  if (llvm::Error e = readTables(conn, options, tables, numbers, out))
    return e;
  if (llvm::Error e = readConstraints(conn, options, tables, numbers, out))
    return e;
  if (llvm::Error e = readIndexes(conn, options, tables, out))
    return e;
  llvm::Expected<Result> triggers = conn.execParams(triggersQuery, {options.schema});
  if (!triggers)
    return triggers.takeError();
  for (int row = 0; row < triggers->rows(); ++row) {
    Row<TriggerCol> r{*triggers, row};
    if (tables.count(r.get(TriggerCol::RelName)))
      out.triggers.push_back({r.get(TriggerCol::RelName).str(), r.get(TriggerCol::Name).str(),
                              r.get(TriggerCol::Function).str(), r.get(TriggerCol::Source).str()});
  }
  for (auto &[_, table] : tables)
    out.schema.putTable(std::move(table));
  return out;
}

const char *refActionText(RefAction action) {
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
  llvm_unreachable("unknown RefAction");
}

const char *generationText(ColumnGeneration generation) {
  switch (generation) {
  case ColumnGeneration::None:
    return "";
  case ColumnGeneration::IdentityAlways:
    return " generated always as identity";
  case ColumnGeneration::IdentityByDefault:
    return " generated by default as identity";
  case ColumnGeneration::Serial:
    return " serial";
  }
  llvm_unreachable("unknown ColumnGeneration");
}

std::string joined(const std::vector<std::string> &items) {
  return fmt::format("{}", fmt::join(items, ", "));
}

/// \p text with its line breaks escaped, so that one object stays one line.
std::string oneLine(llvm::StringRef text) {
  std::string out;
  for (char ch : text) {
    if (ch == '\n')
      out += "\\n";
    else
      out += ch;
  }
  return out;
}

std::string describeType(const DataType &type) {
  return type.isEnum ? type.str() + " (enum)" : type.str();
}

std::string describeConstraint(const Constraint &c) {
  switch (c.kind) {
  case ConstraintKind::PrimaryKey:
    return fmt::format("primary key ({})", joined(c.columns));
  case ConstraintKind::Unique:
    return fmt::format("unique ({})", joined(c.columns));
  case ConstraintKind::Check:
    return fmt::format("check ({}) on ({})", c.check, joined(c.columns));
  case ConstraintKind::ForeignKey:
    return fmt::format("foreign key ({}) references {} ({}) on delete {} on update {}",
                       joined(c.columns), c.refTable, joined(c.refColumns),
                       refActionText(c.onDelete), refActionText(c.onUpdate));
  }
  llvm_unreachable("unknown ConstraintKind");
}

std::string describeIndexColumn(const IndexColumn &e) {
  std::string out = e.expr.empty() ? e.column : "(" + e.expr + ")";
  if (!e.opclass.empty())
    out += " " + e.opclass;
  switch (e.order) {
  case SortOrder::Default:
    break;
  case SortOrder::Asc:
    out += " asc";
    break;
  case SortOrder::Desc:
    out += " desc";
    break;
  }
  switch (e.nulls) {
  case NullsOrder::Default:
    break;
  case NullsOrder::First:
    out += " nulls first";
    break;
  case NullsOrder::Last:
    out += " nulls last";
    break;
  }
  return out;
}

std::string describeIndex(const Index &index) {
  std::vector<std::string> elems;
  for (const IndexColumn &e : index.elems)
    elems.push_back(describeIndexColumn(e));
  std::string out =
      fmt::format("{}using {} ({})", index.unique ? "unique " : "", index.method, joined(elems));
  if (!index.where.empty())
    out += " where (" + index.where + ")";
  return out;
}

} // namespace

llvm::Expected<Inspection> inspect(Connection &conn, const InspectOptions &options) {
  llvm::Expected<Result> begin = conn.exec("begin isolation level repeatable read read only");
  if (!begin)
    return begin.takeError();
  llvm::Expected<Inspection> out = readCatalog(conn, options);
  // Nothing to commit; ending the transaction also drops the local search_path.
  llvm::Expected<Result> end = conn.exec("rollback");
  if (!out) {
    if (!end)
      llvm::consumeError(end.takeError()); // the first error says what went wrong
    return out.takeError();
  }
  if (!end)
    return end.takeError();
  return out;
}

llvm::Expected<std::string> catalogFingerprint(Connection &conn, llvm::StringRef schema) {
  llvm::Expected<Result> res = conn.execParams(fingerprintQuery, {schema.str()});
  if (!res)
    return res.takeError();
  return res->get(0, 0).str();
}

llvm::Expected<Inspection> inspectInTransaction(Connection &conn, const InspectOptions &options) {
  return readCatalog(conn, options);
}

llvm::Expected<Schema> inspectSchema(Connection &conn, const InspectOptions &options) {
  llvm::Expected<Inspection> out = inspect(conn, options);
  if (!out)
    return out.takeError();
  return std::move(out->schema);
}

std::string describeSchema(const Schema &schema) {
  std::vector<std::string> lines;
  for (const auto &[name, type] : schema.enums()) {
    std::vector<std::string> labels;
    for (const std::string &label : type.labels)
      labels.push_back("'" + label + "'");
    lines.push_back(fmt::format("enum {}{} ({})", name,
                                type.owner.empty() ? "" : " owner " + type.owner, joined(labels)));
  }
  for (const auto &[name, table] : schema.tables()) {
    lines.push_back(
        fmt::format("table {}{}", name, table->owner.empty() ? "" : " owner " + table->owner));
    for (size_t i = 0; i < table->columns.size(); ++i) {
      const Column &c = table->columns[i];
      lines.push_back(fmt::format("table {} column {:03} {} {}{}{}{}", name, i + 1, c.name,
                                  describeType(c.type), c.notNull ? " not null" : "",
                                  c.defaultExpr.empty() ? "" : " default " + c.defaultExpr,
                                  generationText(c.generation)));
    }
    for (const Constraint &c : table->constraints)
      lines.push_back(
          fmt::format("table {} constraint {} {}", name, c.name, describeConstraint(c)));
    for (const Index &index : table->indexes)
      lines.push_back(fmt::format("table {} index {} {}", name, index.name, describeIndex(index)));
  }
  for (const compiler::SqlObject &object : schema.sql())
    lines.push_back(fmt::format("sql {}{} up \"{}\" finish \"{}\"", object.name,
                                object.owner.empty() ? "" : " owner " + object.owner,
                                oneLine(object.up), oneLine(object.finish)));
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string &line : lines)
    out += line + "\n";
  return out;
}

} // namespace strata::runtime
