// Result: the rows and columns returned by one successfully executed statement. Move-only
// owner of a libpq PGresult; values are exposed as text (libpq's text format) because the
// runtime only reads catalog data and small bookkeeping tables. Error results never become
// a Result: Connection turns them into a PgError.
#pragma once

#include "llvm/ADT/StringRef.h"

struct pg_result;

namespace strata::runtime {

class Result {
public:
  Result(Result &&other) noexcept;
  Result &operator=(Result &&other) noexcept;
  Result(const Result &) = delete;
  Result &operator=(const Result &) = delete;
  ~Result();

  /// Number of rows returned (0 for statements that return none, e.g. DDL).
  int rows() const;
  int cols() const;
  /// The value at (row, col) in text form; empty for NULL (use isNull to tell apart).
  /// Valid as long as this Result lives.
  llvm::StringRef get(int row, int col) const;
  bool isNull(int row, int col) const;
  llvm::StringRef columnName(int col) const;
  /// The statement's command tag: "COMMIT", "INSERT 0 1", "ALTER TABLE".
  llvm::StringRef command() const;

private:
  friend class Connection;
  explicit Result(pg_result *result) : res(result) {}

  pg_result *res = nullptr;
};

} // namespace strata::runtime
