#include "compiler/Diagnostics.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>
#include <nlohmann/json.hpp>

#include <cassert>

namespace strata::compiler {

namespace {
const DiagInfo diagTable[] = {
#define DIAG(Id, Code, Sev, Format) {Code, Severity::Sev, Format},
#include "compiler/DiagnosticKinds.def"
};

llvm::SourceMgr::DiagKind toKind(Severity severity) {
  switch (severity) {
  case Severity::Note:
    return llvm::SourceMgr::DK_Note;
  case Severity::Warning:
    return llvm::SourceMgr::DK_Warning;
  case Severity::Error:
    return llvm::SourceMgr::DK_Error;
  }
  llvm_unreachable("unknown severity");
}

const char *severityName(Severity severity) {
  switch (severity) {
  case Severity::Note:
    return "note";
  case Severity::Warning:
    return "warning";
  case Severity::Error:
    return "error";
  }
  llvm_unreachable("unknown severity");
}
} // namespace

const DiagInfo &diagInfo(DiagID id) {
  auto index = static_cast<size_t>(id);
  assert(index < std::size(diagTable) && "diagnostic id out of range");
  return diagTable[index];
}

llvm::ArrayRef<DiagInfo> allDiagInfos() { return diagTable; }

std::string DiagnosticsEngine::format(DiagID id, fmt::format_args args) {
  return fmt::vformat(diagInfo(id).format, args);
}

std::optional<DiagID> diagIdForCode(llvm::StringRef code) {
  for (size_t i = 0; i < std::size(diagTable); ++i)
    if (code == diagTable[i].code)
      return static_cast<DiagID>(i);
  return std::nullopt;
}

DiagnosticBuilder DiagnosticsEngine::add(DiagID id, SourceRange range, std::string message,
                                         std::optional<Severity> severityOverride) {
  Severity severity = severityOverride.value_or(diagInfo(id).severity);
  if (limitHit)
    return DiagnosticBuilder(nullptr, 0);
  if (severity == Severity::Error && errorLimit != 0 && errors >= errorLimit) {
    // Like Clang's -ferror-limit: one final error, then nothing more from this run.
    limitHit = true;
    ++errors;
    diags.push_back({DiagID::ErrTooManyErrors, Severity::Error, range,
                     diagInfo(DiagID::ErrTooManyErrors).format, {}});
    return DiagnosticBuilder(nullptr, 0);
  }
  if (severity == Severity::Error)
    ++errors;
  if (severity == Severity::Warning)
    ++warnings;
  diags.push_back({id, severity, range, std::move(message), {}});
  return DiagnosticBuilder(this, diags.size() - 1);
}

void DiagnosticsEngine::take(const DiagnosticsEngine &other) {
  // With the same limit, the other engine's "too many errors" comes after at least as
  // many errors as this one's limit: add() then replaces it with this one's own.
  assert(other.errorLimit == errorLimit && "engines with different error limits");
  for (const Diagnostic &d : other.diags) {
    DiagnosticBuilder added = add(d.id, d.range, d.message, d.severity);
    for (const Diagnostic &note : d.notes)
      added.noteMessage(note.id, note.range, note.message);
  }
}

void DiagnosticsEngine::addNote(size_t index, DiagID id, SourceRange range, std::string message) {
  assert(index < diags.size() && "note for a diagnostic that does not exist");
  diags[index].notes.push_back({id, Severity::Note, range, std::move(message), {}});
}

namespace {
/// A memory buffer that keeps the colors the terminal would get (SourceMgr asks the
/// stream whether it has colors, and a plain buffer says no).
class ColorBuffer : public llvm::raw_svector_ostream {
public:
  ColorBuffer(llvm::SmallVectorImpl<char> &text, bool color)
      : llvm::raw_svector_ostream(text), color(color) {
    enable_colors(color);
  }
  bool has_colors() const override { return color; }

private:
  bool color;
};
} // namespace

static void renderOne(const llvm::SourceMgr &sm, llvm::raw_ostream &os, const Diagnostic &diag,
                      bool color) {
  if (!diag.range.Start.isValid()) {
    llvm::SMDiagnostic plain("strata", toKind(diag.severity), diag.message);
    plain.print(nullptr, os, color, /*ShowKindLabel=*/true);
    return;
  }
  llvm::SmallVector<llvm::SMRange, 1> ranges;
  // SourceMgr only underlines a range on the caret's line; longer ranges keep the caret.
  if (diag.range.End.isValid() && diag.range.End.getPointer() > diag.range.Start.getPointer())
    ranges.push_back(diag.range);
  sm.PrintMessage(os, diag.range.Start, toKind(diag.severity), diag.message, ranges, {}, color);
}

void DiagnosticsEngine::render(llvm::raw_ostream &out, bool color) const {
  // Rendered into memory and written at once: llvm::errs() is unbuffered, and a project
  // with 800 warnings cost 5% of `strata check` in write(2) calls of a few bytes each.
  llvm::SmallString<0> text;
  ColorBuffer os(text, color);
  for (const Diagnostic &diag : diags) {
    renderOne(sourceMgr, os, diag, color);
    for (const Diagnostic &note : diag.notes)
      renderOne(sourceMgr, os, note, color);
  }
  if (errors || warnings) {
    auto plural = [](unsigned n, const char *word) {
      return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
    };
    if (errors && warnings)
      os << plural(warnings, "warning") << " and " << plural(errors, "error") << " generated.\n";
    else if (errors)
      os << plural(errors, "error") << " generated.\n";
    else
      os << plural(warnings, "warning") << " generated.\n";
  }
  out << text;
}

std::string DiagnosticsEngine::describe(llvm::SMLoc loc) const {
  if (!loc.isValid())
    return "";
  unsigned buffer = sourceMgr.FindBufferContainingLoc(loc);
  if (buffer == 0)
    return "";
  auto [line, column] = sourceMgr.getLineAndColumn(loc, buffer);
  return fmt::format("{}:{}:{}", sourceMgr.getMemoryBuffer(buffer)->getBufferIdentifier().str(),
                     line, column);
}

static nlohmann::json toJson(const llvm::SourceMgr &sm, const Diagnostic &diag) {
  nlohmann::json out = {{"code", diag.code()},
                        {"severity", severityName(diag.severity)},
                        {"message", diag.message}};
  if (diag.range.Start.isValid()) {
    unsigned buffer = sm.FindBufferContainingLoc(diag.range.Start);
    if (buffer != 0) {
      auto [line, column] = sm.getLineAndColumn(diag.range.Start, buffer);
      out["file"] = sm.getMemoryBuffer(buffer)->getBufferIdentifier().str();
      out["line"] = line;
      out["column"] = column;
    }
  }
  if (!diag.notes.empty()) {
    out["notes"] = nlohmann::json::array();
    for (const Diagnostic &note : diag.notes)
      out["notes"].push_back(toJson(sm, note));
  }
  return out;
}

std::string DiagnosticsEngine::renderJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const Diagnostic &diag : diags)
    out.push_back(toJson(sourceMgr, diag));
  return out.dump(2);
}

} // namespace strata::compiler
