// The names PostgreSQL gives unnamed constraints and indexes, so that a declared state
// compares equal to the catalog read back from a database.
//
// Mirrors makeObjectName() and ChooseRelationName() in PostgreSQL's indexcmds.c: parts
// are truncated (the longer one first) to fit NAMEDATALEN - 1 bytes, never splitting a
// UTF-8 character, and a taken name gets a number appended to its label ("key1").
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>

#include <functional>
#include <string>

namespace strata::compiler {

/// makeObjectName(name1, name2, label): "name1_name2_label", truncated to 63 bytes.
std::string makeObjectName(llvm::StringRef name1, llvm::StringRef name2, llvm::StringRef label);

/// Column names joined with '_' as ChooseIndexNameAddition does (name2 of an index).
std::string joinColumnNames(llvm::ArrayRef<std::string> columns);

/// The first makeObjectName(name1, name2, label + N) for N = "", 1, 2, ... that
/// \p taken says is free.
std::string chooseName(llvm::StringRef name1, llvm::StringRef name2, llvm::StringRef label,
                       const std::function<bool(llvm::StringRef)> &taken);

} // namespace strata::compiler
