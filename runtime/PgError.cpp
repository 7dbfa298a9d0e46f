// Rendering of PgError; see PgError.h for the format.
#include "runtime/PgError.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

#include <utility>

namespace strata::runtime {

char PgError::ID = 0;

PgError::PgError(std::string sqlState, std::string primaryMessage, std::string detail,
                 std::string hint, std::string context)
    : sqlStateText(std::move(sqlState)), primaryText(std::move(primaryMessage)),
      detailText(std::move(detail)), hintText(std::move(hint)), contextText(std::move(context)) {}

/// Writes `field` on one line: its lines, each trimmed, joined by single spaces (empty
/// lines dropped).
static void writeOneLine(llvm::raw_ostream &os, llvm::StringRef field) {
  llvm::SmallVector<llvm::StringRef, 4> lines;
  field.split(lines, '\n', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  bool first = true;
  for (llvm::StringRef line : lines) {
    line = line.trim();
    if (line.empty())
      continue;
    if (!first)
      os << ' ';
    os << line;
    first = false;
  }
}

void PgError::log(llvm::raw_ostream &os) const {
  os << "ERROR:  ";
  writeOneLine(os, primaryText);
  if (!sqlStateText.empty())
    os << " (SQLSTATE " << sqlStateText << ")";
  auto appendField = [&os](llvm::StringRef label, llvm::StringRef text) {
    if (text.trim().empty())
      return;
    os << "; " << label << ": ";
    writeOneLine(os, text);
  };
  appendField("DETAIL", detailText);
  appendField("HINT", hintText);
  appendField("CONTEXT", contextText);
}

std::error_code PgError::convertToErrorCode() const { return llvm::inconvertibleErrorCode(); }

} // namespace strata::runtime
