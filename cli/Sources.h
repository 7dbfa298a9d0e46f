// Loading and compiling the .strata sources a command names: shared by every command
// that needs the compiled project.
#pragma once

#include "compiler/Compilation.h"

#include <llvm/Support/raw_ostream.h>

#include <optional>
#include <string>
#include <vector>

namespace strata::cli {

/// Said once by main(), never by library callers such as the tests: the process exits as
/// soon as its command returns, so the compilations of this process leave their memory to
/// the operating system (compiler::Compilation::disableFree).
void setProcessExitsAfterCommand();
/// Makes \p compilation leave its memory to the OS when setProcessExitsAfterCommand was said.
void prepareForExit(compiler::Compilation &compilation);

/// Adds \p paths (files or directories; none means the current directory) to
/// \p compilation and compiles them. Diagnostics go to \p err (also when there are only
/// warnings). Returns null, after saying why, when nothing compiled.
const compiler::Project *compileSources(compiler::Compilation &compilation,
                                        const std::vector<std::string> &paths, bool color,
                                        llvm::raw_ostream &err);

/// The first half of compileSources: adds \p paths to \p compilation (the files are read,
/// nothing is parsed). False, after saying why on \p err, when that fails or finds nothing.
bool loadSources(compiler::Compilation &compilation, const std::vector<std::string> &paths,
                 llvm::raw_ostream &err);

/// The second half: compiles what loadSources added, diagnostics as compileSources.
const compiler::Project *compileLoaded(compiler::Compilation &compilation, bool color,
                                       llvm::raw_ostream &err);

/// Parses the value of \p flag ("--to", "--from"): "core@1.2.0,acl@1" into versions of
/// \p project. An empty value gives an empty list. On a bad value, says why on \p err and
/// returns nothing (the caller exits with ExitUsage).
std::optional<std::vector<compiler::VersionRef>>
parseVersionsFlag(const compiler::Project &project, llvm::StringRef flag, llvm::StringRef value,
                  llvm::raw_ostream &err);

/// Replaces the contents of \p path with \p text: written to a temporary file next to it
/// (with the same permissions) and renamed over it, so that a crash never leaves half a
/// file. Creates the file when it does not exist.
llvm::Error replaceFile(llvm::StringRef path, llvm::StringRef text);

} // namespace strata::cli
