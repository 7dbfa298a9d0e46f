#include "compiler/SqlExpr.h"

#include <nlohmann/json.hpp>
#include <pg_query.h>

#include <algorithm>

namespace strata::compiler {

namespace {
constexpr llvm::StringRef exprPrefix = "SELECT (";

/// Collects ColumnRef names and notes sub-queries, walking the JSON parse tree.
void walk(const nlohmann::json &node, SqlExprInfo &info) {
  if (node.is_array()) {
    for (const auto &child : node)
      walk(child, info);
    return;
  }
  if (!node.is_object())
    return;
  for (const auto &[key, value] : node.items()) {
    if (key == "ColumnRef") {
      const auto &fields = value.value("fields", nlohmann::json::array());
      if (!fields.empty() && fields.back().contains("String")) {
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
    if (key == "FuncCall" && info.firstFunction.empty()) {
      const auto &names = value.value("funcname", nlohmann::json::array());
      if (!names.empty() && names.back().contains("String"))
        info.firstFunction = names.back()["String"].value("sval", "");
    }
    walk(value, info);
  }
}
} // namespace

SqlExprInfo checkSqlExpression(llvm::StringRef text) {
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
  walk(targets[0]["ResTarget"]["val"], info);
  for (size_t &offset : info.columnOffsets)
    if (offset != llvm::StringRef::npos)
      offset = offset >= exprPrefix.size() ? offset - exprPrefix.size() : llvm::StringRef::npos;
  info.ok = true;
  return info;
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
  info.statements = tree.value("stmts", nlohmann::json::array()).size();
  info.ok = true;
  return info;
}

} // namespace strata::compiler
