#include "compiler/SqlExpr.h"

#include <nlohmann/json.hpp>
#include <pg_query.h>

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/ADT/StringMap.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <shared_mutex>

namespace strata::compiler {

namespace {
constexpr llvm::StringRef exprPrefix = "SELECT (";

/// The names a sub-query's columns may be qualified with: its FROM items (a table's name
/// and its alias, a join's or a sub-select's alias, through joins) and its CTEs.
void collectFromNames(const nlohmann::json &node, std::set<std::string> &names) {
  if (node.is_array()) {
    for (const auto &child : node)
      collectFromNames(child, names);
    return;
  }
  if (!node.is_object())
    return;
  for (const auto &[key, value] : node.items()) {
    if (!value.is_object())
      continue;
    if (key == "RangeVar")
      names.insert(value.value("relname", ""));
    if (value.contains("alias"))
      names.insert(value["alias"].value("aliasname", ""));
    if (key == "JoinExpr") {
      collectFromNames(value.value("larg", nlohmann::json()), names);
      collectFromNames(value.value("rarg", nlohmann::json()), names);
    }
  }
}

/// The qualifier of a column reference (`w` in `w.name`), or empty when it has none.
std::string qualifierOf(const nlohmann::json &fields) {
  if (fields.size() < 2 || !fields[fields.size() - 2].contains("String"))
    return "";
  return fields[fields.size() - 2]["String"].value("sval", "");
}

/// Collects ColumnRef names and notes sub-queries, walking the JSON parse tree.
/// \p subqueryNames holds the FROM names of the sub-queries around \p node: inside one, a
/// reference qualified by one of them, or not qualified at all, is that sub-query's own
/// (`w.name` in `(select w.id from workspaces w where w.name = 'default')`) and not a
/// column of the table the expression belongs to. Only a reference qualified by another
/// name (the table's own) is the table's.
void walk(const nlohmann::json &node, SqlExprInfo &info,
          std::vector<std::set<std::string>> &subqueryNames) {
  if (node.is_array()) {
    for (const auto &child : node)
      walk(child, info, subqueryNames);
    return;
  }
  if (!node.is_object())
    return;
  for (const auto &[key, value] : node.items()) {
    if (key == "ColumnRef") {
      const auto &fields = value.value("fields", nlohmann::json::array());
      bool local = false;
      if (!subqueryNames.empty()) {
        std::string qualifier = qualifierOf(fields);
        local = qualifier.empty() || std::any_of(subqueryNames.begin(), subqueryNames.end(),
                                                 [&](const std::set<std::string> &names) {
                                                   return names.count(qualifier) > 0;
                                                 });
      }
      if (!local && !fields.empty() && fields.back().contains("String")) {
        std::string name = fields.back()["String"].value("sval", "");
        if (std::find(info.columns.begin(), info.columns.end(), name) == info.columns.end()) {
          info.columns.push_back(name);
          // A query offset for now; checkSqlExpression makes it relative to the text.
          int location = value.value("location", -1);
          info.columnOffsets.push_back(location < 0 ? llvm::StringRef::npos
                                                    : static_cast<size_t>(location));
        }
      }
      continue;
    }
    if (key == "SubLink")
      info.hasSubquery = true;
    if (key == "SelectStmt" && value.is_object()) {
      // Only sub-queries are SelectStmts here: the walk starts at the expression.
      std::set<std::string> names;
      collectFromNames(value.value("fromClause", nlohmann::json::array()), names);
      if (value.contains("withClause"))
        for (const auto &cte : value["withClause"].value("ctes", nlohmann::json::array()))
          if (cte.contains("CommonTableExpr"))
            names.insert(cte["CommonTableExpr"].value("ctename", ""));
      subqueryNames.push_back(std::move(names));
      walk(value, info, subqueryNames);
      subqueryNames.pop_back();
      continue;
    }
    if (key == "FuncCall" && info.firstFunction.empty()) {
      const auto &names = value.value("funcname", nlohmann::json::array());
      if (!names.empty() && names.back().contains("String"))
        info.firstFunction = names.back()["String"].value("sval", "");
    }
    walk(value, info, subqueryNames);
  }
}
/// PostgreSQL's FigureColnameInternal (parser/parse_target.c): a name for an expression
/// and how strongly it holds (2: a column or function, 1: a fallback such as a type or
/// "case", 0: none).
int figureColname(const nlohmann::json &node, std::string &name) {
  if (!node.is_object() || node.empty())
    return 0;
  const std::string key = node.begin().key();
  const nlohmann::json &value = node.begin().value();
  auto lastString = [](const nlohmann::json &list) -> std::string {
    if (!list.is_array() || list.empty() || !list.back().contains("String"))
      return "";
    return list.back()["String"].value("sval", "");
  };
  if (key == "ColumnRef") {
    name = lastString(value.value("fields", nlohmann::json::array()));
    return name.empty() ? 0 : 2;
  }
  if (key == "FuncCall") {
    name = lastString(value.value("funcname", nlohmann::json::array()));
    return 2;
  }
  if (key == "A_Expr" && value.value("kind", "") == "AEXPR_NULLIF") {
    name = "nullif";
    return 2;
  }
  if (key == "TypeCast" || key == "CollateClause") {
    int strength = figureColname(value.value("arg", nlohmann::json()), name);
    if (key == "TypeCast" && strength <= 1) {
      name = lastString(value.value("typeName", nlohmann::json()).value("names",
                                                                         nlohmann::json::array()));
      return name.empty() ? 0 : 1;
    }
    return strength;
  }
  if (key == "CoalesceExpr") {
    name = "coalesce";
    return 2;
  }
  if (key == "MinMaxExpr") {
    name = value.value("op", "") == "IS_GREATEST" ? "greatest" : "least";
    return 2;
  }
  if (key == "SQLValueFunction") {
    static const std::pair<const char *, const char *> ops[] = {
        {"SVFOP_CURRENT_DATE", "current_date"},
        {"SVFOP_CURRENT_TIME", "current_time"},
        {"SVFOP_CURRENT_TIME_N", "current_time"},
        {"SVFOP_CURRENT_TIMESTAMP", "current_timestamp"},
        {"SVFOP_CURRENT_TIMESTAMP_N", "current_timestamp"},
        {"SVFOP_LOCALTIME", "localtime"},
        {"SVFOP_LOCALTIME_N", "localtime"},
        {"SVFOP_LOCALTIMESTAMP", "localtimestamp"},
        {"SVFOP_LOCALTIMESTAMP_N", "localtimestamp"},
        {"SVFOP_CURRENT_ROLE", "current_role"},
        {"SVFOP_CURRENT_USER", "current_user"},
        {"SVFOP_USER", "user"},
        {"SVFOP_SESSION_USER", "session_user"},
        {"SVFOP_CURRENT_CATALOG", "current_catalog"},
        {"SVFOP_CURRENT_SCHEMA", "current_schema"}};
    for (const auto &[op, text] : ops)
      if (value.value("op", "") == op) {
        name = text;
        return 2;
      }
    return 0;
  }
  if (key == "CaseExpr") {
    int strength = figureColname(value.value("defresult", nlohmann::json()), name);
    if (strength <= 1) {
      name = "case";
      return 1;
    }
    return strength;
  }
  if (key == "A_ArrayExpr") {
    name = "array";
    return 1;
  }
  if (key == "RowExpr") {
    name = "row";
    return 1;
  }
  return 0;
}
} // namespace

namespace {
SqlExprInfo parseSqlExpression(llvm::StringRef text);
} // namespace

SqlExprInfo checkSqlExpression(llvm::StringRef text) {
  // Fix: memoized. A project repeats the same few expressions (now(), 0, a fill, a
  // backfill's where) in thousands of versions, and each check was a libpg_query parse
  // plus a JSON parse of its tree: a fifth of compiling 2,000 versions. The result is a
  // pure function of the text.
  // Threads share it (the planner's findings run on every core): they read it under a
  // shared lock, and take the lock for themselves only to add an expression.
  static std::shared_mutex mutex;
  static llvm::StringMap<SqlExprInfo> cache;
  {
    std::shared_lock<std::shared_mutex> reading(mutex);
    auto it = cache.find(text);
    if (it != cache.end())
      return it->second;
  }
  std::unique_lock<std::shared_mutex> writing(mutex);
  auto it = cache.find(text);
  if (it != cache.end())
    return it->second;
  if (cache.size() >= 100000)
    cache.clear(); // bounded, for long-lived processes
  return cache.try_emplace(text, parseSqlExpression(text)).first->second;
}

namespace {
SqlExprInfo parseSqlExpression(llvm::StringRef text) {
  SqlExprInfo info;
  // The newline keeps a trailing `--` comment from swallowing the closing parenthesis.
  std::string query = exprPrefix.str() + text.str() + "\n)";
  PgQueryParseResult result = pg_query_parse(query.c_str());
  if (result.error) {
    info.error = result.error->message;
    if (result.error->cursorpos > 0) {
      size_t pos = static_cast<size_t>(result.error->cursorpos - 1);
      info.errorOffset = pos >= exprPrefix.size() ? std::min(pos - exprPrefix.size(), text.size())
                                                  : 0;
    }
    pg_query_free_parse_result(result);
    return info;
  }
  nlohmann::json tree = nlohmann::json::parse(result.parse_tree, nullptr, false);
  pg_query_free_parse_result(result);
  const auto &stmts = tree.value("stmts", nlohmann::json::array());
  if (stmts.size() != 1) {
    info.error = "it contains more than one statement";
    return info;
  }
  const nlohmann::json &select = stmts[0]["stmt"].value("SelectStmt", nlohmann::json());
  const auto &targets = select.value("targetList", nlohmann::json::array());
  bool onlyTarget = select.is_object() && targets.size() == 1 &&
                    std::all_of(select.items().begin(), select.items().end(), [](const auto &kv) {
                      return kv.key() == "targetList" || kv.key() == "limitOption" ||
                             kv.key() == "op";
                    });
  if (!onlyTarget) {
    info.error = "it is not a plain expression";
    return info;
  }
  std::vector<std::set<std::string>> subqueryNames;
  walk(targets[0]["ResTarget"]["val"], info, subqueryNames);
  if (figureColname(targets[0]["ResTarget"]["val"], info.figuredName) == 0)
    info.figuredName.clear();
  for (size_t &offset : info.columnOffsets)
    if (offset != llvm::StringRef::npos)
      offset = offset >= exprPrefix.size() ? offset - exprPrefix.size() : llvm::StringRef::npos;
  info.ok = true;
  return info;
}
} // namespace

namespace {
/// Query offsets of the ColumnRefs to \p column, unqualified (false) or qualified by a
/// table name (true; the offset is the qualifier's).
void collectColumnRefs(const nlohmann::json &node, llvm::StringRef column,
                       std::vector<std::pair<size_t, bool>> &out) {
  if (node.is_array()) {
    for (const auto &child : node)
      collectColumnRefs(child, column, out);
    return;
  }
  if (!node.is_object())
    return;
  for (const auto &[key, value] : node.items()) {
    if (key == "ColumnRef") {
      const auto &fields = value.value("fields", nlohmann::json::array());
      int location = value.value("location", -1);
      bool named = !fields.empty() && fields.size() <= 2 && fields.back().contains("String") &&
                   fields.back()["String"].value("sval", "") == column;
      if (named && location >= 0)
        out.push_back({static_cast<size_t>(location), fields.size() == 2});
      continue;
    }
    collectColumnRefs(value, column, out);
  }
}

/// The length of the identifier at the start of \p text: a quoted one with its quotes.
size_t identifierLength(llvm::StringRef text) {
  if (text.startswith("\"")) {
    for (size_t i = 1; i < text.size(); ++i) {
      if (text[i] != '"')
        continue;
      if (i + 1 < text.size() && text[i + 1] == '"') {
        ++i;
        continue;
      }
      return i + 1;
    }
    return text.size();
  }
  size_t n = 0;
  while (n < text.size() && (llvm::isAlnum(text[n]) || text[n] == '_' || text[n] == '$' ||
                             static_cast<unsigned char>(text[n]) >= 0x80))
    ++n;
  return n;
}

std::string replaceAt(llvm::StringRef text, const std::vector<size_t> &offsets,
                      llvm::StringRef replacement) {
  std::string out = text.str();
  for (auto it = offsets.rbegin(); it != offsets.rend(); ++it)
    out.replace(*it, identifierLength(llvm::StringRef(out).substr(*it)), replacement.str());
  return out;
}
} // namespace

std::string stripSqlComments(llvm::StringRef text) {
  std::string out;
  bool stripped = false;
  size_t i = 0;
  auto copyQuoted = [&](char quote, bool backslashes) {
    out += text[i++];
    while (i < text.size()) {
      char c = text[i];
      out += c;
      ++i;
      if (backslashes && c == '\\' && i < text.size()) {
        out += text[i++];
        continue;
      }
      if (c != quote)
        continue;
      if (i < text.size() && text[i] == quote) { // doubled: still inside
        out += text[i++];
        continue;
      }
      return;
    }
  };
  while (i < text.size()) {
    char c = text[i];
    llvm::StringRef rest = text.substr(i);
    if (c == '\'') {
      bool escapes = i > 0 && (text[i - 1] == 'e' || text[i - 1] == 'E') &&
                     (i == 1 || !(llvm::isAlnum(text[i - 2]) || text[i - 2] == '_'));
      copyQuoted('\'', escapes);
    } else if (c == '"') {
      copyQuoted('"', false);
    } else if (c == '$' && (i == 0 || !(llvm::isAlnum(text[i - 1]) || text[i - 1] == '_'))) {
      // $tag$ ... $tag$; a lone $1 is a parameter.
      size_t end = 1;
      while (end < rest.size() && (llvm::isAlnum(rest[end]) || rest[end] == '_'))
        ++end;
      if (end < rest.size() && rest[end] == '$' && !llvm::isDigit(rest[1])) {
        llvm::StringRef tag = rest.take_front(end + 1);
        size_t close = rest.find(tag, tag.size());
        size_t length = close == llvm::StringRef::npos ? rest.size() : close + tag.size();
        out += rest.take_front(length).str();
        i += length;
      } else {
        out += c;
        ++i;
      }
    } else if (rest.startswith("--")) {
      size_t eol = rest.find('\n');
      i += eol == llvm::StringRef::npos ? rest.size() : eol;
      out += ' ';
      stripped = true;
    } else if (rest.startswith("/*")) {
      size_t depth = 0, j = 0; // block comments nest in PostgreSQL
      while (j < rest.size()) {
        if (rest.substr(j).startswith("/*")) {
          ++depth;
          j += 2;
        } else if (rest.substr(j).startswith("*/")) {
          j += 2;
          if (--depth == 0)
            break;
        } else {
          ++j;
        }
      }
      i += j;
      out += ' ';
      stripped = true;
    } else {
      out += c;
      ++i;
    }
  }
  if (!stripped)
    return text.str();
  return llvm::StringRef(out).trim().str();
}

std::string renameColumnInExpression(llvm::StringRef text, llvm::StringRef from,
                                     llvm::StringRef to) {
  std::string query = exprPrefix.str() + text.str() + "\n)";
  PgQueryParseResult result = pg_query_parse(query.c_str());
  if (result.error) {
    pg_query_free_parse_result(result);
    return text.str();
  }
  nlohmann::json tree = nlohmann::json::parse(result.parse_tree, nullptr, false);
  pg_query_free_parse_result(result);
  std::vector<std::pair<size_t, bool>> refs;
  collectColumnRefs(tree, from, refs);
  std::vector<size_t> offsets;
  for (auto [location, qualified] : refs) {
    if (location < exprPrefix.size())
      continue;
    size_t offset = location - exprPrefix.size();
    if (qualified) {
      // table.column, perhaps with blanks around the dot: skip to the column.
      offset += identifierLength(text.substr(offset));
      while (offset < text.size() && (llvm::isSpace(text[offset]) || text[offset] == '.'))
        ++offset;
    }
    if (offset < text.size())
      offsets.push_back(offset);
  }
  if (offsets.empty())
    return text.str();
  std::sort(offsets.begin(), offsets.end());
  offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
  // Unquoted when that still reads as the column (a lower-case name, not a reserved word),
  // so that the text compares equal to what PostgreSQL prints back.
  std::string plain = replaceAt(text, offsets, to);
  SqlExprInfo check = checkSqlExpression(plain);
  if (check.ok && std::find(check.columns.begin(), check.columns.end(), to.str()) !=
                      check.columns.end())
    return plain;
  std::string quoted = "\"";
  for (char c : to) {
    quoted += c;
    if (c == '"')
      quoted += '"';
  }
  quoted += '"';
  return replaceAt(text, offsets, quoted);
}

SqlScriptInfo checkSqlScript(llvm::StringRef text) {
  SqlScriptInfo info;
  std::string query = text.str();
  PgQueryParseResult result = pg_query_parse(query.c_str());
  if (result.error) {
    info.error = result.error->message;
    if (result.error->cursorpos > 0)
      info.errorOffset = std::min(static_cast<size_t>(result.error->cursorpos - 1), text.size());
    pg_query_free_parse_result(result);
    return info;
  }
  nlohmann::json tree = nlohmann::json::parse(result.parse_tree, nullptr, false);
  pg_query_free_parse_result(result);
  const nlohmann::json &stmts = tree.value("stmts", nlohmann::json::array());
  info.statements = stmts.size();
  info.ok = true;
  static const std::pair<const char *, const char *> ending[] = {
      {"TRANS_STMT_BEGIN", "BEGIN"},
      {"TRANS_STMT_START", "START TRANSACTION"},
      {"TRANS_STMT_COMMIT", "COMMIT"},
      {"TRANS_STMT_ROLLBACK", "ROLLBACK"},
      {"TRANS_STMT_PREPARE", "PREPARE TRANSACTION"},
      {"TRANS_STMT_COMMIT_PREPARED", "COMMIT PREPARED"},
      {"TRANS_STMT_ROLLBACK_PREPARED", "ROLLBACK PREPARED"}};
  for (const nlohmann::json &stmt : stmts) {
    auto node = stmt.find("stmt");
    if (node == stmt.end() || !node->contains("TransactionStmt"))
      continue;
    std::string kind = (*node)["TransactionStmt"].value("kind", "");
    for (auto [name, words] : ending)
      if (kind == name) {
        info.transactionControl = words;
        // The statement's location starts after the previous ';': skip the blanks and
        // line comments in between, to point at its first word.
        size_t at = std::min(static_cast<size_t>(stmt.value("stmt_location", 0)), text.size());
        while (at < text.size()) {
          if (llvm::isSpace(text[at]))
            ++at;
          else if (text.substr(at).startswith("--"))
            at = std::min(text.find('\n', at), text.size());
          else
            break;
        }
        info.transactionControlOffset = at;
        return info;
      }
  }
  return info;
}

namespace {
/// \p j's member \p key, or null when \p j is not an object or has none (nlohmann's
/// value() throws on a null).
const nlohmann::json &field(const nlohmann::json &j, const char *key) {
  static const nlohmann::json null;
  if (!j.is_object())
    return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

std::string relationName(const nlohmann::json &rangeVar) {
  if (!rangeVar.is_object())
    return "";
  std::string name = rangeVar.value("relname", "");
  std::string schema = rangeVar.value("schemaname", "");
  return schema.empty() ? name : schema + "." + name;
}

/// A qualified name written as a list of String nodes: "schema.name", or the first
/// \p dropLast items only.
std::string dottedName(const nlohmann::json &items, size_t dropLast = 0) {
  std::string out;
  if (!items.is_array() || items.size() < dropLast)
    return out;
  for (size_t i = 0; i + dropLast < items.size(); ++i) {
    const nlohmann::json &item = items[i];
    std::string part = item.contains("String") ? item["String"].value("sval", "") : "";
    out += (out.empty() ? "" : ".") + part;
  }
  return out;
}

constexpr int ShareUpdateExclusive = 4, Share = 5, ShareRowExclusive = 6, AccessExclusive = 8;

SqlStatementLock classify(const std::string &kind, const nlohmann::json &n) {
  SqlStatementLock out;
  out.statement = kind;
  auto relation = [&](const char *key = "relation") {
    if (std::string name = relationName(field(n, key)); !name.empty())
      out.tables.push_back(name);
  };
  auto relations = [&](const char *key) {
    for (const nlohmann::json &r : n.value(key, nlohmann::json::array()))
      if (std::string name = relationName(field(r, "RangeVar")); !name.empty())
        out.tables.push_back(name);
  };
  static const std::set<std::string> noTableLock = {
      "CreateFunctionStmt", "CreateEnumStmt",     "AlterEnumStmt",     "CompositeTypeStmt",
      "DefineStmt",         "CreateSeqStmt",      "AlterSeqStmt",      "CommentStmt",
      "CreateExtensionStmt", "CreateSchemaStmt",  "GrantStmt",         "VariableSetStmt",
      "CreateDomainStmt",   "AlterFunctionStmt",  "CreateRangeStmt",   "AlterOwnerStmt"};
  if (noTableLock.count(kind)) {
    out.level = 0;
  } else if (kind == "AlterTableStmt") {
    relation();
    // The strongest lock of its subcommands (ALTER TABLE "Notes" in the manual).
    out.level = 0;
    for (const nlohmann::json &cmd : n.value("cmds", nlohmann::json::array())) {
      const nlohmann::json &c = field(cmd, "AlterTableCmd");
      std::string subtype = c.is_object() ? c.value("subtype", "") : "";
      int level = AccessExclusive;
      if (subtype == "AT_ValidateConstraint" || subtype == "AT_SetStatistics" ||
          subtype == "AT_ClusterOn" || subtype == "AT_DropCluster")
        level = ShareUpdateExclusive;
      else if (subtype == "AT_AddConstraint" &&
               field(field(field(c, "def"), "Constraint"), "contype") == "CONSTR_FOREIGN")
        level = ShareRowExclusive;
      out.level = std::max(out.level, level);
    }
  } else if (kind == "RenameStmt") {
    std::string type = n.value("renameType", "");
    relation();
    if (type == "OBJECT_INDEX")
      out.level = ShareUpdateExclusive;
    else if (out.tables.empty())
      out.level = 0; // a function, a type, a schema
    else
      out.level = AccessExclusive;
  } else if (kind == "IndexStmt") {
    relation();
    out.level = n.value("concurrent", false) ? ShareUpdateExclusive : Share;
  } else if (kind == "CreateStmt" || kind == "TruncateStmt" || kind == "ViewStmt" ||
             kind == "CreateTableAsStmt") {
    relation(kind == "ViewStmt" ? "view" : "relation");
    relations("relations");
    if (kind == "CreateTableAsStmt")
      if (std::string name = relationName(field(field(n, "into"), "rel"));
          !name.empty())
        out.tables.push_back(name);
    out.level = AccessExclusive;
  } else if (kind == "DropStmt") {
    std::string type = n.value("removeType", "");
    const nlohmann::json &objects = n.value("objects", nlohmann::json::array());
    auto names = [&](size_t dropLast) {
      for (const nlohmann::json &o : objects)
        if (o.contains("List"))
          if (std::string name = dottedName(field(o["List"], "items"), dropLast);
              !name.empty())
            out.tables.push_back(name);
    };
    if (type == "OBJECT_TABLE" || type == "OBJECT_VIEW" || type == "OBJECT_MATVIEW" ||
        type == "OBJECT_SEQUENCE" || type == "OBJECT_FOREIGN_TABLE") {
      names(0);
      out.level = AccessExclusive;
    } else if (type == "OBJECT_INDEX") {
      names(0); // the index: its table is not written
      out.level = n.value("concurrent", false) ? ShareUpdateExclusive : AccessExclusive;
    } else if (type == "OBJECT_TRIGGER" || type == "OBJECT_RULE" || type == "OBJECT_POLICY") {
      names(1); // `DROP TRIGGER tr ON t`: the items are the table's name, then the trigger's
      out.level = AccessExclusive;
    } else {
      out.level = 0; // functions, types, schemas, extensions
    }
  } else if (kind == "CreateTrigStmt") {
    relation();
    out.level = ShareRowExclusive;
  } else if (kind == "InsertStmt" || kind == "UpdateStmt" || kind == "DeleteStmt") {
    relation();
    out.level = 3; // ROW EXCLUSIVE
  } else if (kind == "SelectStmt") {
    for (const nlohmann::json &from : n.value("fromClause", nlohmann::json::array()))
      if (std::string name = relationName(field(from, "RangeVar"));
          !name.empty())
        out.tables.push_back(name);
    out.level = out.tables.empty() ? 0 : 1; // ACCESS SHARE
  } else if (kind == "LockStmt") {
    relations("relations");
    out.level = n.value("mode", -1);
  } else if (kind == "VacuumStmt") {
    for (const nlohmann::json &r : n.value("rels", nlohmann::json::array()))
      if (std::string name = relationName(field(field(r, "VacuumRelation"), "relation"));
          !name.empty())
        out.tables.push_back(name);
    out.level = ShareUpdateExclusive;
  }
  return out;
}
} // namespace

std::vector<SqlStatementLock> sqlScriptLocks(llvm::StringRef text) {
  std::vector<SqlStatementLock> out;
  std::string query = text.str();
  PgQueryParseResult result = pg_query_parse(query.c_str());
  if (result.error) {
    pg_query_free_parse_result(result);
    return out;
  }
  nlohmann::json tree = nlohmann::json::parse(result.parse_tree, nullptr, false);
  pg_query_free_parse_result(result);
  for (const nlohmann::json &stmt : tree.value("stmts", nlohmann::json::array())) {
    const nlohmann::json &node = field(stmt, "stmt");
    if (!node.is_object() || node.empty())
      continue;
    out.push_back(classify(node.begin().key(), node.begin().value()));
  }
  return out;
}

namespace {
/// The last part of a qualified name written as a list of String nodes.
std::string lastName(const nlohmann::json &items) {
  if (!items.is_array() || items.empty())
    return "";
  const nlohmann::json &item = items.back();
  return item.contains("String") ? item["String"].value("sval", "") : "";
}

void touchedBy(const std::string &kind, const nlohmann::json &n, std::vector<SqlObjectRef> &out) {
  auto add = [&](std::string table, std::string name) {
    SqlObjectRef ref{std::move(table), std::move(name)};
    if ((!ref.table.empty() || !ref.name.empty()) && !llvm::is_contained(out, ref))
      out.push_back(std::move(ref));
  };
  auto relname = [&](const char *key) {
    const nlohmann::json &r = field(n, key);
    return r.is_object() ? r.value("relname", "") : std::string();
  };
  if (kind == "AlterTableStmt") {
    std::string table = relname("relation");
    for (const nlohmann::json &cmd : n.value("cmds", nlohmann::json::array())) {
      const nlohmann::json &c = field(cmd, "AlterTableCmd");
      const nlohmann::json &def = field(c, "def");
      if (const nlohmann::json &column = field(def, "ColumnDef"); column.is_object())
        add(table, column.value("colname", ""));
      else if (const nlohmann::json &constraint = field(def, "Constraint");
               constraint.is_object() && constraint.value("conname", "") != "")
        add(table, constraint.value("conname", ""));
      if (c.is_object() && c.value("name", "") != "")
        add(table, c.value("name", ""));
    }
  } else if (kind == "RenameStmt") {
    std::string type = n.value("renameType", "");
    std::string table = relname("relation");
    std::string newName = n.value("newname", "");
    if (type == "OBJECT_TABLE" || type == "OBJECT_VIEW") {
      add(table, "");
      add(newName, "");
    } else if (type == "OBJECT_INDEX") {
      add("", table); // the index's own name is the relation
      add("", newName);
    } else if (!table.empty()) {
      add(table, n.value("subname", "")); // a column, a constraint, a trigger
      add(table, newName);
    }
  } else if (kind == "ViewStmt") {
    add(relname("view"), "");
  } else if (kind == "CreateStmt") {
    add(relname("relation"), "");
  } else if (kind == "IndexStmt") {
    add(relname("relation"), n.value("idxname", ""));
  } else if (kind == "CreateTrigStmt") {
    add(relname("relation"), n.value("trigname", ""));
  } else if (kind == "DropStmt") {
    std::string type = n.value("removeType", "");
    for (const nlohmann::json &o : n.value("objects", nlohmann::json::array())) {
      const nlohmann::json &items = field(field(o, "List"), "items");
      if (!items.is_array() || items.empty())
        continue;
      if (type == "OBJECT_TABLE" || type == "OBJECT_VIEW")
        add(lastName(items), "");
      else if (type == "OBJECT_INDEX")
        add("", lastName(items));
      else if (type == "OBJECT_TRIGGER" && items.size() >= 2)
        add(items[items.size() - 2].contains("String")
                ? items[items.size() - 2]["String"].value("sval", "")
                : "",
            lastName(items));
    }
  }
}
} // namespace

std::vector<SqlObjectRef> sqlScriptObjects(llvm::StringRef text) {
  std::vector<SqlObjectRef> out;
  std::string query = text.str();
  PgQueryParseResult result = pg_query_parse(query.c_str());
  if (result.error) {
    pg_query_free_parse_result(result);
    return out;
  }
  nlohmann::json tree = nlohmann::json::parse(result.parse_tree, nullptr, false);
  pg_query_free_parse_result(result);
  for (const nlohmann::json &stmt : tree.value("stmts", nlohmann::json::array())) {
    const nlohmann::json &node = field(stmt, "stmt");
    if (node.is_object() && !node.empty())
      touchedBy(node.begin().key(), node.begin().value(), out);
  }
  return out;
}

} // namespace strata::compiler
