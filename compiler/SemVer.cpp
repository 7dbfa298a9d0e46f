#include "compiler/SemVer.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/ADT/StringExtras.h>

namespace strata::compiler {

namespace {
llvm::Error invalid(const char *why) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), why);
}

bool isNumeric(llvm::StringRef s) {
  return !s.empty() && llvm::all_of(s, [](char c) { return llvm::isDigit(c); });
}

bool isIdentChar(char c) { return llvm::isAlnum(c) || c == '-'; }
} // namespace

llvm::Expected<SemVer> SemVer::parse(llvm::StringRef text) {
  SemVer out;
  auto [core, build] = text.split('+');
  if (text.contains('+')) {
    if (build.empty() || !llvm::all_of(build, [](char c) { return isIdentChar(c) || c == '.'; }))
      return invalid("build metadata must be dot-separated [0-9A-Za-z-] identifiers");
    out.build = build.str();
  }
  auto [numbers, pre] = core.split('-');
  llvm::SmallVector<llvm::StringRef, 3> parts;
  numbers.split(parts, '.');
  if (parts.size() != 3)
    return invalid("expected MAJOR.MINOR.PATCH, such as \"1.0.0\"");
  uint64_t *fields[] = {&out.major, &out.minor, &out.patch};
  for (size_t i = 0; i < 3; ++i) {
    if (!isNumeric(parts[i]))
      return invalid("MAJOR, MINOR and PATCH must be non-negative numbers");
    if (parts[i].size() > 1 && parts[i][0] == '0')
      return invalid("numbers must not have leading zeros");
    if (parts[i].getAsInteger(10, *fields[i]))
      return invalid("number is too large");
  }
  if (core.contains('-')) {
    llvm::SmallVector<llvm::StringRef, 4> ids;
    pre.split(ids, '.');
    for (llvm::StringRef id : ids) {
      if (id.empty() || !llvm::all_of(id, isIdentChar))
        return invalid("pre-release must be dot-separated [0-9A-Za-z-] identifiers");
      if (isNumeric(id) && id.size() > 1 && id[0] == '0')
        return invalid("numeric pre-release identifiers must not have leading zeros");
      out.prerelease.push_back(id.str());
    }
  }
  return out;
}

std::string SemVer::str() const {
  std::string out = std::to_string(major) + "." + std::to_string(minor) + "." +
                    std::to_string(patch);
  for (size_t i = 0; i < prerelease.size(); ++i)
    out += (i == 0 ? "-" : ".") + prerelease[i];
  if (!build.empty())
    out += "+" + build;
  return out;
}

int SemVer::compare(const SemVer &other) const {
  auto cmp = [](uint64_t a, uint64_t b) { return a < b ? -1 : (a > b ? 1 : 0); };
  if (int c = cmp(major, other.major))
    return c;
  if (int c = cmp(minor, other.minor))
    return c;
  if (int c = cmp(patch, other.patch))
    return c;
  // A release sorts after its pre-releases.
  if (prerelease.empty() && other.prerelease.empty())
    return 0;
  if (prerelease.empty())
    return 1;
  if (other.prerelease.empty())
    return -1;
  for (size_t i = 0; i < prerelease.size() && i < other.prerelease.size(); ++i) {
    const std::string &a = prerelease[i];
    const std::string &b = other.prerelease[i];
    bool an = isNumeric(a), bn = isNumeric(b);
    if (an && bn) {
      if (a.size() != b.size())
        return a.size() < b.size() ? -1 : 1;
      if (a != b)
        return a < b ? -1 : 1;
      continue;
    }
    if (an != bn)
      return an ? -1 : 1; // numeric identifiers sort before alphanumeric ones
    if (a != b)
      return a < b ? -1 : 1;
  }
  return cmp(prerelease.size(), other.prerelease.size());
}

} // namespace strata::compiler
