#include "compiler/Naming.h"

#include <llvm/ADT/Twine.h>

namespace strata::compiler {

namespace {
constexpr size_t maxNameBytes = 63; // NAMEDATALEN - 1

/// The longest prefix of \p s of at most \p bytes bytes that ends on a character boundary
/// (pg_mbcliplen for UTF-8).
llvm::StringRef clip(llvm::StringRef s, size_t bytes) {
  if (s.size() <= bytes)
    return s;
  while (bytes > 0 && (static_cast<unsigned char>(s[bytes]) & 0xC0) == 0x80)
    --bytes;
  return s.take_front(bytes);
}
} // namespace

std::string makeObjectName(llvm::StringRef name1, llvm::StringRef name2, llvm::StringRef label) {
  size_t overhead = 0;
  if (!name2.empty())
    overhead += name2.size() + 1;
  if (!label.empty())
    overhead += label.size() + 1;
  size_t name1chars = name1.size();
  size_t name2chars = name2.size();
  size_t avail = maxNameBytes - std::min(maxNameBytes, label.empty() ? 0 : label.size() + 1);
  // PostgreSQL shortens the longer part one byte at a time until both fit.
  while (name1chars + name2chars + (name2.empty() ? 0 : 1) > avail) {
    if (name1chars > name2chars)
      --name1chars;
    else
      --name2chars;
  }
  (void)overhead;
  std::string out = clip(name1, name1chars).str();
  if (!name2.empty())
    out += "_" + clip(name2, name2chars).str();
  if (!label.empty())
    out += "_" + label.str();
  return out;
}

std::string joinColumnNames(llvm::ArrayRef<std::string> columns) {
  std::string out;
  for (const std::string &c : columns) {
    if (!out.empty())
      out += "_";
    out += c;
    // ChooseIndexNameAddition stops once the buffer would exceed NAMEDATALEN.
    if (out.size() >= maxNameBytes)
      break;
  }
  return clip(out, maxNameBytes).str();
}

std::string chooseName(llvm::StringRef name1, llvm::StringRef name2, llvm::StringRef label,
                       const std::function<bool(llvm::StringRef)> &taken) {
  std::string candidate = makeObjectName(name1, name2, label);
  for (unsigned pass = 1; taken(candidate); ++pass)
    candidate = makeObjectName(name1, name2, (label + llvm::Twine(pass)).str());
  return candidate;
}

} // namespace strata::compiler
