// `strata fmt`: a .strata file laid out canonically, keeping everything it says.
//
// The formatter changes only the whitespace between tokens: every token and every comment
// stays, in order, so the file means exactly what it meant (the checksums of its versions
// do not change). It works from the parse tree, not from the AST or the Schema: versions
// stay as written (alter blocks stay alter blocks), and what the compiler keeps as source
// text is copied verbatim, whitespace included: SQL expressions, index expressions such as
// `lower(name)`, signed numbers such as `-1`, and """ blocks. The layout:
//  - one item per line (subsystem, baseline, requires, version, statement, table element,
//    action of an alter block), indented by two spaces per block;
//  - tokens on a line separated by one space, except around `,` `(` `)` `[` `]` `.`, and in
//    `varchar(20)` and `references t(id)`;
//  - a line break the author put inside an item is kept, as a continuation line indented two
//    more spaces (long items are never rewrapped); a line break after `unsafe "why"` keeps
//    the statement at the marker's indentation;
//  - column definitions on consecutive lines are aligned in columns: names padded to the
//    longest, types to the longest that options follow; trailing comments on consecutive
//    lines start in one column;
//  - blank lines between items are kept (several collapse into one; none after `{`);
//  - comments on their own line stay on their own line, at the indentation of what follows;
//    trailing comments stay trailing; comments inside an item stay where they are;
//  - an enum written on one line stays on one line, otherwise one label per line;
//  - an empty block is `{}`; line comments lose their trailing blanks.
// Formatting is idempotent: formatting formatted text changes nothing.
#pragma once

#include "compiler/Parser.h"

#include <llvm/ADT/StringRef.h>

#include <optional>
#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
}

namespace strata::compiler {

class DiagnosticsEngine;

/// Formats buffer \p bufferId of \p sourceMgr. Returns nothing when the file does not parse:
/// the lexical and syntax errors are then in \p diags, exactly as `strata check` reports
/// them. Problems found after parsing (an identifier too long, a type that does not exist)
/// do not stop formatting and are not reported.
std::optional<std::string> formatBuffer(DiagnosticsEngine &diags,
                                        const llvm::SourceMgr &sourceMgr, unsigned bufferId,
                                        const ParseLimits &limits = {});

/// Every token of \p text but whitespace, comments included, in order: what formatting
/// must keep unchanged (it only drops the trailing blanks of line comments, which are
/// dropped here too).
std::vector<std::string> lexemes(llvm::StringRef text);

/// The comments of \p text, in order, those inside SQL expressions included (the text of a
/// """ block is not searched: it is SQL, not strata).
std::vector<std::string> comments(llvm::StringRef text);

} // namespace strata::compiler
