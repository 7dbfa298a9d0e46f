// Clang-style -verify: diagnostics expected by comments in the input itself.
//
//   table t { id uuid primary key  id text }   // expected-error {{duplicate column "id"}}
//   // expected-error@+1 {{unknown type "texxt"}}
//   // expected-note@-3 {{previous definition is here}}
//   // expected-no-diagnostics
//
// Each expectation names a severity, an optional line (@N absolute, @+N / @-N relative
// to the comment's line) and a substring of the message. A run verifies when every
// expectation is met by exactly one diagnostic and every error and warning is expected.
// Notes must be listed only in files that list at least one note.
#pragma once

#include "compiler/Diagnostics.h"

#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
}

namespace strata::compiler {

struct VerifyResult {
  std::vector<std::string> problems; ///< one line each; empty when verified
  unsigned expectations = 0;
};

VerifyResult verifyDiagnostics(const llvm::SourceMgr &sources, const DiagnosticsEngine &diags);

} // namespace strata::compiler
