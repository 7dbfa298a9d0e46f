// Semantic versions (semver.org 2.0): parsing, total ordering, printing.
#pragma once

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Error.h>

#include <cstdint>
#include <string>
#include <vector>

namespace strata::compiler {

struct SemVer {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  std::vector<std::string> prerelease; ///< dot-separated identifiers; empty for a release
  std::string build;                   ///< ignored in comparisons, as semver says

  /// Parses "MAJOR.MINOR.PATCH[-pre][+build]". The message of a failure says what is
  /// wrong, for a diagnostic ("expected MAJOR.MINOR.PATCH").
  static llvm::Expected<SemVer> parse(llvm::StringRef text);

  std::string str() const;
  int compare(const SemVer &other) const;
  friend bool operator==(const SemVer &a, const SemVer &b) { return a.compare(b) == 0; }
  friend bool operator<(const SemVer &a, const SemVer &b) { return a.compare(b) < 0; }
};

} // namespace strata::compiler
