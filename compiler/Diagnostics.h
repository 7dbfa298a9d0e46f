// Diagnostics: problems in the user's .strata files.
//
// They are collected, never thrown, so one run reports all of them; each carries a stable
// code from DiagnosticKinds.def, a source range, and notes that point at related places
// (the earlier definition, the other side of a merge). Rendering is Clang's format through
// llvm::SourceMgr: `file:line:col: error: message`, the source line, a caret and range.
#pragma once

#include <fmt/format.h>
#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/SMLoc.h>
#include <llvm/Support/raw_ostream.h>

#include <optional>
#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
}

namespace strata::compiler {

using SourceRange = llvm::SMRange;

enum class DiagID : unsigned short {
#define DIAG(Id, Code, Severity, Format) Id,
#include "compiler/DiagnosticKinds.def"
};

enum class Severity { Note, Warning, Error };

struct DiagInfo {
  const char *code;
  Severity severity;
  const char *format;
};

/// The row of DiagnosticKinds.def for \p id.
const DiagInfo &diagInfo(DiagID id);
/// All rows, in table order (tests check that codes are unique).
llvm::ArrayRef<DiagInfo> allDiagInfos();
/// The diagnostic whose stable code is \p code ("C203"), if any.
std::optional<DiagID> diagIdForCode(llvm::StringRef code);

struct Diagnostic {
  DiagID id;
  Severity severity;
  SourceRange range; ///< invalid when the problem has no place in a file
  std::string message;
  std::vector<Diagnostic> notes;

  const char *code() const { return diagInfo(id).code; }
};

class DiagnosticsEngine;

/// Returned by DiagnosticsEngine::report so that notes can be attached to the diagnostic
/// just reported. A dropped diagnostic (past the error limit) drops its notes too.
class DiagnosticBuilder {
public:
  DiagnosticBuilder(DiagnosticsEngine *engine, size_t index) : engine(engine), index(index) {}

  template <typename... Args>
  DiagnosticBuilder &note(DiagID id, SourceRange range, Args &&...args);
  DiagnosticBuilder &noteMessage(DiagID id, SourceRange range, std::string message);

private:
  DiagnosticsEngine *engine; ///< null when the diagnostic was dropped
  size_t index;
};

class DiagnosticsEngine {
public:
  explicit DiagnosticsEngine(const llvm::SourceMgr &sourceMgr, unsigned errorLimit = 50)
      : sourceMgr(sourceMgr), errorLimit(errorLimit) {}

  template <typename... Args>
  DiagnosticBuilder report(DiagID id, SourceRange range, Args &&...args) {
    return add(id, range, format(id, fmt::make_format_args(args...)));
  }

  /// A diagnostic whose message was written elsewhere (the planner's findings), with the
  /// severity \p severity instead of the table's (a waived error is a warning).
  DiagnosticBuilder reportMessage(DiagID id, Severity severity, SourceRange range,
                                  std::string message) {
    return add(id, range, std::move(message), severity);
  }

  /// Reports \p other's diagnostics here, in order, as if they had been reported here:
  /// the error limit of this engine applies. (Files parsed in parallel each report to an
  /// engine of their own; their diagnostics are then taken in file order.)
  void take(const DiagnosticsEngine &other);
  unsigned errorLimitValue() const { return errorLimit; }

  unsigned errorCount() const { return errors; }
  unsigned warningCount() const { return warnings; }
  bool hasErrors() const { return errors != 0; }
  /// True once the error limit has been hit; producers should stop early.
  bool limitReached() const { return limitHit; }
  llvm::ArrayRef<Diagnostic> diagnostics() const { return diags; }
  const llvm::SourceMgr &sources() const { return sourceMgr; }

  /// Clang-style text; colours when \p color.
  void render(llvm::raw_ostream &os, bool color) const;
  /// A JSON array of {code, severity, file, line, column, message, notes}.
  std::string renderJson() const;
  /// "file:line:col" for a location, or "" when it has none.
  std::string describe(llvm::SMLoc loc) const;

private:
  friend class DiagnosticBuilder;
  static std::string format(DiagID id, fmt::format_args args);
  DiagnosticBuilder add(DiagID id, SourceRange range, std::string message,
                        std::optional<Severity> severity = std::nullopt);
  void addNote(size_t index, DiagID id, SourceRange range, std::string message);

  const llvm::SourceMgr &sourceMgr;
  unsigned errorLimit;
  unsigned errors = 0;
  unsigned warnings = 0;
  bool limitHit = false;
  std::vector<Diagnostic> diags;
};

template <typename... Args>
DiagnosticBuilder &DiagnosticBuilder::note(DiagID id, SourceRange range, Args &&...args) {
  if (engine)
    engine->addNote(index, id, range,
                    DiagnosticsEngine::format(id, fmt::make_format_args(args...)));
  return *this;
}

inline DiagnosticBuilder &DiagnosticBuilder::noteMessage(DiagID id, SourceRange range,
                                                         std::string message) {
  if (engine)
    engine->addNote(index, id, range, std::move(message));
  return *this;
}

} // namespace strata::compiler
