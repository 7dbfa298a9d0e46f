// Result: thin, bounds-checked accessors over a PGresult.
#include "runtime/Result.h"

#include <libpq-fe.h>

#include <cassert>
#include <utility>

namespace strata::runtime {

Result::Result(Result &&other) noexcept : res(std::exchange(other.res, nullptr)) {}

Result &Result::operator=(Result &&other) noexcept {
  if (this != &other) {
    PQclear(res);
    res = std::exchange(other.res, nullptr);
  }
  return *this;
}

Result::~Result() { PQclear(res); }

int Result::rows() const {
  assert(res && "use of a moved-from Result");
  return PQntuples(res);
}

int Result::cols() const {
  assert(res && "use of a moved-from Result");
  return PQnfields(res);
}

llvm::StringRef Result::get(int row, int col) const {
  assert(row >= 0 && row < rows() && col >= 0 && col < cols() && "cell out of range");
  // PQgetlength is exact and O(1); strlen on the value would be neither.
  return {PQgetvalue(res, row, col), static_cast<size_t>(PQgetlength(res, row, col))};
}

bool Result::isNull(int row, int col) const {
  assert(row >= 0 && row < rows() && col >= 0 && col < cols() && "cell out of range");
  return PQgetisnull(res, row, col) != 0;
}

llvm::StringRef Result::columnName(int col) const {
  assert(col >= 0 && col < cols() && "column out of range");
  return PQfname(res, col);
}

llvm::StringRef Result::command() const {
  assert(res && "use of a moved-from Result");
  return PQcmdStatus(res);
}

} // namespace strata::runtime
