// `strata fmt`: rewrites .strata files in the canonical layout (compiler/Formatter.h).
#include "cli/Commands.h"
#include "cli/Sources.h"

#include "compiler/Compilation.h"
#include "compiler/Formatter.h"

#include <llvm/Support/MemoryBuffer.h>

namespace strata::cli {

int runFmt(const FmtOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  bool fromStdin = options.paths.size() == 1 && options.paths[0] == "-";
  compiler::Compilation compilation;
  if (fromStdin) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> input = llvm::MemoryBuffer::getSTDIN();
    if (!input) {
      err << "strata: error: <stdin>: " << input.getError().message() << "\n";
      return ExitUsage;
    }
    compilation.addSource("<stdin>", (*input)->getBuffer());
  } else {
    std::vector<std::string> paths = options.paths;
    if (paths.empty())
      paths.push_back(".");
    for (const std::string &path : paths) {
      if (path == "-") {
        err << "strata: error: '-' (standard input) cannot be mixed with files\n";
        return ExitUsage;
      }
      if (llvm::Error e = compilation.addPath(path)) {
        err << "strata: error: " << llvm::toString(std::move(e)) << "\n";
        return ExitUsage;
      }
    }
    if (compilation.bufferCount() == 0) {
      err << "strata: error: no .strata files found\n";
      return ExitUsage;
    }
  }

  const llvm::SourceMgr &sources = compilation.sources();
  bool failed = false;
  bool changed = false;
  for (unsigned id = 1; id <= sources.getNumBuffers(); ++id) {
    const llvm::MemoryBuffer *buffer = sources.getMemoryBuffer(id);
    llvm::StringRef path = buffer->getBufferIdentifier();
    // One engine per file: the diagnostics shown are those of the files that failed.
    compiler::DiagnosticsEngine diags(sources);
    std::optional<std::string> formatted = compiler::formatBuffer(diags, sources, id);
    if (!formatted) {
      diags.render(err, options.color);
      failed = true;
      continue;
    }
    bool differs = *formatted != buffer->getBuffer();
    changed |= differs;
    if (options.toStdout || (fromStdin && !options.check)) {
      out << *formatted;
      continue;
    }
    if (!differs)
      continue;
    out << path << "\n"; // --check: would change; otherwise: was rewritten
    if (options.check)
      continue;
    if (llvm::Error e = replaceFile(path, *formatted)) {
      err << "strata: error: " << llvm::toString(std::move(e)) << "\n";
      failed = true;
    }
  }
  if (failed)
    return ExitUsage;
  return options.check && changed ? ExitFailure : ExitOk;
}

} // namespace strata::cli
