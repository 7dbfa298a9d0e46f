// PgError: the one llvm::Error type for failures that come from PostgreSQL or libpq
// (connecting, running SQL). It keeps PostgreSQL's diagnostic fields apart so callers
// can branch on the SQLSTATE and the CLI can print message, detail and hint.
//
// message() (via log()) renders everything on one line, psql-like:
//
//   ERROR:  <message> (SQLSTATE <code>); DETAIL: <detail>; HINT: <hint>; CONTEXT: <context>
//
// Empty fields and their separators are left out (an unknown SQLSTATE drops the
// parenthesis). Newlines inside a field, with the indentation around them, become a single
// space, so one error is always one line of output (libpq's connection errors and
// PL/pgSQL contexts are multi-line).
#pragma once

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <system_error>

namespace strata::runtime {

class PgError : public llvm::ErrorInfo<PgError> {
public:
  static char ID;

  PgError(std::string sqlState, std::string primaryMessage, std::string detail = {},
          std::string hint = {}, std::string context = {});

  /// Five-character SQLSTATE, e.g. "42P01"; empty when neither the server nor libpq
  /// supplied one (client-side errors other than connection failures).
  llvm::StringRef sqlState() const { return sqlStateText; }
  /// PostgreSQL's primary message (PG_DIAG_MESSAGE_PRIMARY), without "ERROR:".
  llvm::StringRef primaryMessage() const { return primaryText; }
  llvm::StringRef detail() const { return detailText; }
  llvm::StringRef hint() const { return hintText; }
  llvm::StringRef context() const { return contextText; }

  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override;

private:
  std::string sqlStateText;
  std::string primaryText;
  std::string detailText;
  std::string hintText;
  std::string contextText;
};

} // namespace strata::runtime
