// SQL checked at compile time with PostgreSQL's own parser (libpg_query).
//
// An expression in the DSL (default, check, fill, using, where, backfill values, index
// expressions) must be exactly one SQL expression: anything that would smuggle a second
// statement or a clause (`1); drop table x; select (1`) is rejected here, long before any
// SQL reaches a database. Raw `sql` blocks must parse as statements.
#pragma once

#include <llvm/ADT/StringRef.h>

#include <string>
#include <vector>

namespace strata::compiler {

struct SqlExprInfo {
  bool ok = false;
  std::string error;              ///< PostgreSQL's message, when !ok
  size_t errorOffset = llvm::StringRef::npos; ///< byte offset into the text, when known
  std::vector<std::string> columns; ///< distinct column names referenced, in order
  /// For each of columns, the byte offset into the text of a mention of it (npos if unknown).
  std::vector<size_t> columnOffsets;
  std::string firstFunction;        ///< name of the outermost function call, if any
  /// The column name PostgreSQL gives the expression (FigureColname: "n" for n::int,
  /// "coalesce", "lower"; empty when it has none): unnamed expression indexes are named
  /// after it, or after "expr" when it is empty.
  std::string figuredName;
  bool hasSubquery = false;
};

/// Parses \p text as one SQL expression.
SqlExprInfo checkSqlExpression(llvm::StringRef text);

/// \p text without its SQL comments, as PostgreSQL stores an expression. A `--` comment
/// left in would swallow whatever SQL is written after the expression on the same line,
/// such as the parenthesis that closes a DEFAULT.
std::string stripSqlComments(llvm::StringRef text);

/// \p text with every unqualified reference to column \p from renamed to \p to, as
/// PostgreSQL rewrites a stored check or index expression when a column is renamed. The
/// new name is quoted only when it must be. \p text comes back unchanged when it does
/// not parse or does not mention \p from.
std::string renameColumnInExpression(llvm::StringRef text, llvm::StringRef from,
                                     llvm::StringRef to);

struct SqlScriptInfo {
  bool ok = false;
  std::string error;
  size_t errorOffset = llvm::StringRef::npos;
  size_t statements = 0;
  /// The first statement that begins or ends a transaction (BEGIN, COMMIT, ROLLBACK,
  /// PREPARE TRANSACTION, ...), as its keywords, and its offset in the text; empty when
  /// there is none. Savepoints stay inside the transaction and are not counted.
  std::string transactionControl;
  size_t transactionControlOffset = 0;
};

/// Parses \p text as a script of SQL statements.
SqlScriptInfo checkSqlScript(llvm::StringRef text);

/// The table lock one statement of a script takes, read from its parse tree.
struct SqlStatementLock {
  std::string statement; ///< the parse node, "AlterTableStmt"
  /// PostgreSQL's lock level, as LOCK TABLE numbers them: 1 ACCESS SHARE ... 8 ACCESS
  /// EXCLUSIVE; 0 no table lock (CREATE FUNCTION); -1 unknown (a DO block, a statement
  /// kind not classified).
  int level = -1;
  std::vector<std::string> tables; ///< as written, "schema.table" when qualified
};

/// The locks of the statements of \p text, in order; empty when it does not parse.
std::vector<SqlStatementLock> sqlScriptLocks(llvm::StringRef text);

/// An object a statement creates, changes, renames or drops: a table (or view) when
/// \p name is empty, else a column, constraint, index or trigger \p name of \p table
/// (\p table empty: an index named without its table, `ALTER INDEX i RENAME`). Names as
/// stored (unquoted), without their schema.
struct SqlObjectRef {
  std::string table;
  std::string name;
  friend bool operator==(const SqlObjectRef &, const SqlObjectRef &) = default;
};

/// The objects the statements of \p text touch (SqlObjectRef), in order, each once:
/// what a step of a plan leaves behind when it ran, read from its SQL (the drift of a
/// database whose apply was cut short leaves them out). Empty when it does not parse.
std::vector<SqlObjectRef> sqlScriptObjects(llvm::StringRef text);

} // namespace strata::compiler
