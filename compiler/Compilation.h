// One run of the front end: the source files, the AST arena, the diagnostics, and the
// compiled project once every phase has run.
//
// Phases: load (files -> SourceMgr buffers), parse (buffers -> AST), analyze (AST ->
// Project: declarations checked, every version folded into a Schema state). A phase that
// reports errors stops the next one, so that one mistake is reported once.
#pragma once

#include "compiler/AST.h"
#include "compiler/ASTContext.h"
#include "compiler/Diagnostics.h"
#include "compiler/Parser.h"
#include "compiler/Project.h"

#include <llvm/Support/Error.h>
#include <llvm/Support/SourceMgr.h>

#include <memory>
#include <optional>
#include <vector>

namespace strata::compiler {

class Compilation {
public:
  Compilation();
  ~Compilation();
  Compilation(const Compilation &) = delete;
  Compilation &operator=(const Compilation &) = delete;

  /// Adds every `*.strata` file below \p dir, sorted by path so that diagnostics and
  /// declaration order do not depend on the file system. Fails on I/O problems only.
  llvm::Error addDirectory(llvm::StringRef dir);
  /// Adds one file (a path that is a directory is walked as above).
  llvm::Error addPath(llvm::StringRef path);
  /// Adds an in-memory source (tests, fuzzing).
  void addSource(llvm::StringRef name, llvm::StringRef text);

  /// Parses and analyzes everything added. Returns the project, or nullptr when errors
  /// were reported (see diagnostics()).
  const Project *run(const ParseLimits &limits = {});

  /// The process exits right after this compilation is done with (the command line): its
  /// project is then left to the operating system instead of being freed piece by piece,
  /// as clang's -disable-free does. At 10,000 versions that teardown was 7% of `strata
  /// check`. The memory stays reachable (llvm::BuryPointer), so leak checkers stay quiet.
  void disableFree() { freeOnDestroy = false; }

  DiagnosticsEngine &diagnostics() { return *diags; }
  const llvm::SourceMgr &sources() const { return sourceMgr; }
  llvm::ArrayRef<const SourceFile *> files() const { return parsed; }
  size_t bufferCount() const { return sourceMgr.getNumBuffers(); }

private:
  /// Parses every buffer into `parsed`, on as many threads as there are cores and files.
  /// False when the error limit was reached.
  bool parseAll(const ParseLimits &limits);

  llvm::SourceMgr sourceMgr;
  ASTContext ast;
  /// The arenas of the parsing threads other than the caller's (which parses into `ast`).
  std::vector<std::unique_ptr<ASTContext>> workerArenas;
  std::unique_ptr<DiagnosticsEngine> diags;
  std::vector<const SourceFile *> parsed;
  std::optional<Project> project;
  bool freeOnDestroy = true;
};

} // namespace strata::compiler
