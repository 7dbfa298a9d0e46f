#include "compiler/Verify.h"

#include <llvm/Support/SourceMgr.h>

#include <fmt/format.h>

#include <regex>

namespace strata::compiler {

namespace {
struct Expectation {
  unsigned buffer;
  unsigned line;
  Severity severity;
  std::string text;
  std::string where; ///< for messages: file:line of the comment
  bool met = false;
};

const char *severityName(Severity s) {
  switch (s) {
  case Severity::Note:
    return "note";
  case Severity::Warning:
    return "warning";
  case Severity::Error:
    return "error";
  }
  llvm_unreachable("unknown severity");
}

struct Flat {
  const Diagnostic *diag;
  unsigned buffer;
  unsigned line;
  unsigned column;
};
} // namespace

VerifyResult verifyDiagnostics(const llvm::SourceMgr &sources, const DiagnosticsEngine &diags) {
  VerifyResult result;
  std::vector<Expectation> expected;
  std::vector<bool> checksNotes(sources.getNumBuffers() + 1, false);
  static const std::regex pattern(
      R"(expected-(error|warning|note)(@([+-]?)([0-9]+))?\s*\{\{(.*?)\}\})");
  for (unsigned id = 1; id <= sources.getNumBuffers(); ++id) {
    const llvm::MemoryBuffer *buffer = sources.getMemoryBuffer(id);
    llvm::StringRef name = buffer->getBufferIdentifier();
    llvm::StringRef text = buffer->getBuffer();
    unsigned lineNo = 0;
    while (!text.empty()) {
      auto [line, rest] = text.split('\n');
      text = rest;
      ++lineNo;
      std::string s = line.str();
      for (std::sregex_iterator it(s.begin(), s.end(), pattern), end; it != end; ++it) {
        const std::smatch &m = *it;
        Expectation e;
        e.buffer = id;
        e.severity = m[1] == "error"     ? Severity::Error
                     : m[1] == "warning" ? Severity::Warning
                                         : Severity::Note;
        e.line = lineNo;
        if (m[2].matched) {
          unsigned n = static_cast<unsigned>(std::stoul(m[4]));
          e.line = m[3] == "+" ? lineNo + n : m[3] == "-" ? lineNo - n : n;
        }
        e.text = m[5];
        e.where = fmt::format("{}:{}", name.str(), lineNo);
        if (e.severity == Severity::Note)
          checksNotes[id] = true;
        expected.push_back(std::move(e));
      }
    }
  }
  result.expectations = static_cast<unsigned>(expected.size());

  std::vector<Flat> flat;
  auto add = [&](const Diagnostic &d) {
    Flat f{&d, 0, 0, 0};
    if (d.range.Start.isValid()) {
      f.buffer = sources.FindBufferContainingLoc(d.range.Start);
      if (f.buffer) {
        auto [line, col] = sources.getLineAndColumn(d.range.Start, f.buffer);
        f.line = line;
        f.column = col;
      }
    }
    flat.push_back(f);
  };
  for (const Diagnostic &d : diags.diagnostics()) {
    add(d);
    for (const Diagnostic &n : d.notes)
      add(n);
  }
  for (const Flat &f : flat) {
    bool matched = false;
    for (Expectation &e : expected) {
      if (e.met || e.buffer != f.buffer || e.line != f.line || e.severity != f.diag->severity)
        continue;
      if (f.diag->message.find(e.text) == std::string::npos)
        continue;
      e.met = true;
      matched = true;
      break;
    }
    if (matched)
      continue;
    if (f.diag->severity == Severity::Note && (f.buffer == 0 || !checksNotes[f.buffer]))
      continue;
    std::string place = f.buffer ? fmt::format("{}:{}:{}",
                                               sources.getMemoryBuffer(f.buffer)
                                                   ->getBufferIdentifier()
                                                   .str(),
                                               f.line, f.column)
                                 : std::string("<no location>");
    result.problems.push_back(fmt::format("{}: unexpected {}: {}", place,
                                          severityName(f.diag->severity), f.diag->message));
  }
  for (const Expectation &e : expected)
    if (!e.met)
      result.problems.push_back(fmt::format("{}: expected {} on line {} not seen: {{{{{}}}}}",
                                            e.where, severityName(e.severity), e.line, e.text));
  return result;
}

} // namespace strata::compiler
