// PostgreSQL's built-in type names: aliases resolved to the canonical name that
// format_type() prints, so that a declared column compares equal to the catalog.
#pragma once

#include <llvm/ADT/StringRef.h>

#include <optional>

namespace strata::compiler {

struct BuiltinType {
  llvm::StringRef canonical;
  /// How many type modifiers it takes at most (varchar(n): 1, numeric(p,s): 2).
  unsigned maxMods;
  /// serial, bigserial, smallserial: an integer column with an owned sequence.
  bool serial;
};

/// The built-in type named \p name (lower-case, as written or an alias), if any.
std::optional<BuiltinType> lookupBuiltinType(llvm::StringRef name);

} // namespace strata::compiler
