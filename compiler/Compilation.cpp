#include "compiler/Compilation.h"

#include "compiler/Analyzer.h"
#include "compiler/Parallel.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/BuryPointer.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <algorithm>

namespace strata::compiler {

Compilation::Compilation() : diags(std::make_unique<DiagnosticsEngine>(sourceMgr)) {}
Compilation::~Compilation() {
  if (!freeOnDestroy && project)
    llvm::BuryPointer(std::make_unique<Project>(std::move(*project)));
}

static llvm::Error ioError(const llvm::Twine &what, std::error_code ec) {
  return llvm::createStringError(ec, "%s: %s", what.str().c_str(), ec.message().c_str());
}

llvm::Error Compilation::addDirectory(llvm::StringRef dir) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (llvm::sys::fs::recursive_directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    if (llvm::sys::path::extension(it->path()) != ".strata")
      continue;
    llvm::ErrorOr<llvm::sys::fs::basic_file_status> status = it->status();
    if (status && status->type() == llvm::sys::fs::file_type::regular_file)
      paths.push_back(it->path());
  }
  if (ec)
    return ioError(dir, ec);
  std::sort(paths.begin(), paths.end());
  for (const std::string &path : paths)
    if (llvm::Error err = addPath(path))
      return err;
  return llvm::Error::success();
}

llvm::Error Compilation::addPath(llvm::StringRef path) {
  if (llvm::sys::fs::is_directory(path))
    return addDirectory(path);
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/true);
  if (!buffer)
    return ioError(path, buffer.getError());
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  return llvm::Error::success();
}

void Compilation::addSource(llvm::StringRef name, llvm::StringRef text) {
  sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, name), llvm::SMLoc());
}

bool Compilation::parseAll(const ParseLimits &limits) {
  size_t files = sourceMgr.getNumBuffers();
  unsigned threads = parallelThreads(files);
  if (threads <= 1) {
    for (unsigned id = 1; id <= files; ++id) {
      parsed.push_back(parseBuffer(ast, *diags, sourceMgr, id, limits));
      if (diags->limitReached())
        return false;
    }
    return true;
  }
  // Files are independent until analysis: they are parsed on every core, each thread into
  // an arena of its own and each file's diagnostics into an engine of its own, taken in
  // file order afterwards. The output is the serial one, byte for byte (parsing was more
  // than half of `strata check`).
  prepareParallelParsing();
  std::vector<const SourceFile *> results(files);
  std::vector<std::unique_ptr<DiagnosticsEngine>> fileDiags(files);
  std::vector<ASTContext *> arenas{&ast};
  for (unsigned t = 1; t < threads; ++t)
    arenas.push_back(workerArenas.emplace_back(std::make_unique<ASTContext>()).get());
  parallelFor(files, [&](size_t i, unsigned thread) {
    fileDiags[i] = std::make_unique<DiagnosticsEngine>(sourceMgr, diags->errorLimitValue());
    results[i] = parseBuffer(*arenas[thread], *fileDiags[i], sourceMgr,
                             static_cast<unsigned>(i + 1), limits);
  });
  for (size_t i = 0; i < files; ++i) {
    diags->take(*fileDiags[i]);
    parsed.push_back(results[i]);
    if (diags->limitReached())
      return false;
  }
  return true;
}

const Project *Compilation::run(const ParseLimits &limits) {
  parsed.clear();
  project.reset();
  if (!parseAll(limits))
    return nullptr;
  if (diags->hasErrors())
    return nullptr;
  project = analyze(parsed, *diags);
  if (!project || diags->hasErrors())
    return nullptr;
  return &*project;
}

} // namespace strata::compiler
