// The hand-written lexer of the strata DSL.
//
// It produces exactly the tokens of the lexer ANTLR generates from grammar/Strata.g4 (same
// type, channel, start and stop code-point index, line, column and text, EOF included) at a
// fraction of the cost: the generated lexer simulates the grammar's ATN character by
// character, which was a quarter of `strata check`'s time. The ANTLR parser reads these
// tokens; the generated lexer stays as the fallback for non-ASCII names and as the oracle of
// the differential tests (test/compiler/LexerTest.cpp, the front-end fuzz target).
//
// No ANTLR type appears here beyond a forward declaration: only compiler/ sees ANTLR.
#pragma once

#include <llvm/ADT/StringRef.h>

#include <memory>
#include <string>
#include <vector>

namespace antlr4 {
class TokenSource;
} // namespace antlr4

namespace strata::compiler {

/// The token source the parser reads, over \p text: valid UTF-8 without NUL bytes
/// (parseBuffer rejects anything else first). \p text must outlive the source, and the
/// source the tokens it makes (they live in its arena).
std::unique_ptr<antlr4::TokenSource> createLexer(llvm::StringRef text);

/// Whether \p text has a non-ASCII character outside strings and comments, where only the
/// Unicode tables built into the generated lexer can tell a letter from an error: the
/// lexer made by createLexer then hands the whole file to the generated lexer.
bool lexerNeedsUnicodeTables(llvm::StringRef text);

/// One token, as a plain value for comparing the two lexers.
struct LexedToken {
  size_t type = 0;
  size_t channel = 0;
  size_t start = 0; ///< code-point index of the first character
  size_t stop = 0;  ///< code-point index of the last character
  size_t line = 0;
  size_t column = 0; ///< code points since the start of the line
  std::string text;

  bool operator==(const LexedToken &other) const;
  bool operator!=(const LexedToken &other) const { return !(*this == other); }
  /// `IDENT 3:7 [12..15] ch0 "name"`, for test failures.
  std::string describe() const;
};

/// Every token of \p text (hidden ones and EOF included) from createLexer's lexer.
std::vector<LexedToken> lexWithStrataLexer(llvm::StringRef text);
/// The same from the lexer ANTLR generated from the grammar.
std::vector<LexedToken> lexWithGeneratedLexer(llvm::StringRef text);

} // namespace strata::compiler
