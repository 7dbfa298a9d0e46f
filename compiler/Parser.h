// Parsing one .strata buffer into the AST.
//
// This is the only place that sees ANTLR: lexical problems (bad characters, unterminated
// strings and blocks, invalid UTF-8, runaway nesting) and syntax errors all become
// diagnostics at file:line:col, and no ANTLR exception leaves this layer.
#pragma once

#include "compiler/AST.h"

namespace llvm {
class SourceMgr;
}

namespace strata::compiler {

class ASTContext;
class DiagnosticsEngine;

struct ParseLimits {
  /// Parentheses deeper than this are an error rather than a deep recursion.
  unsigned maxNesting = 256;
  /// Files larger than this are refused before lexing.
  size_t maxFileBytes = 64u << 20;
};

/// Parses buffer \p bufferId of \p sourceMgr. Always returns a file (possibly with no
/// subsystems); problems are reported to \p diags.
const SourceFile *parseBuffer(ASTContext &context, DiagnosticsEngine &diags,
                              const llvm::SourceMgr &sourceMgr, unsigned bufferId,
                              const ParseLimits &limits = {});

/// Call once before parseBuffer runs on several threads at a time (each thread then
/// parses its own buffers, into its own ASTContext and DiagnosticsEngine).
void prepareParallelParsing();

} // namespace strata::compiler
