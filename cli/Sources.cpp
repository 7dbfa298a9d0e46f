#include "cli/Sources.h"

#include "planner/Planner.h"

#include <llvm/Support/FileSystem.h>

namespace strata::cli {

namespace {
bool processExitsAfterCommand = false;
} // namespace

void setProcessExitsAfterCommand() { processExitsAfterCommand = true; }

void prepareForExit(compiler::Compilation &compilation) {
  if (processExitsAfterCommand)
    compilation.disableFree();
}

bool loadSources(compiler::Compilation &compilation, const std::vector<std::string> &paths,
                 llvm::raw_ostream &err) {
  prepareForExit(compilation);
  std::vector<std::string> all = paths;
  if (all.empty())
    all.push_back(".");
  for (const std::string &path : all)
    if (llvm::Error e = compilation.addPath(path)) {
      err << "strata: error: " << llvm::toString(std::move(e)) << "\n";
      return false;
    }
  if (compilation.bufferCount() == 0) {
    err << "strata: error: no .strata files found\n";
    return false;
  }
  return true;
}

const compiler::Project *compileSources(compiler::Compilation &compilation,
                                        const std::vector<std::string> &paths, bool color,
                                        llvm::raw_ostream &err) {
  if (!loadSources(compilation, paths, err))
    return nullptr;
  return compileLoaded(compilation, color, err);
}

const compiler::Project *compileLoaded(compiler::Compilation &compilation, bool color,
                                       llvm::raw_ostream &err) {
  const compiler::Project *project = compilation.run();
  if (!project || compilation.diagnostics().warningCount())
    compilation.diagnostics().render(err, color);
  return project;
}

std::optional<std::vector<compiler::VersionRef>>
parseVersionsFlag(const compiler::Project &project, llvm::StringRef flag, llvm::StringRef value,
                  llvm::raw_ostream &err) {
  if (value.empty())
    return std::vector<compiler::VersionRef>{};
  llvm::Expected<std::vector<compiler::VersionRef>> list = planner::parseNodeList(project, value);
  if (!list) {
    err << "strata: error: " << flag << ": " << llvm::toString(list.takeError()) << "\n";
    return std::nullopt;
  }
  return std::move(*list);
}

llvm::Error replaceFile(llvm::StringRef path, llvm::StringRef text) {
  namespace fs = llvm::sys::fs;
  unsigned mode = fs::all_read | fs::all_write;
  if (llvm::ErrorOr<fs::perms> perms = fs::getPermissions(path))
    mode = *perms;
  int fd = -1;
  llvm::SmallString<128> temp;
  if (std::error_code ec = fs::createUniqueFile(path + ".strata-%%%%%%", fd, temp, fs::OF_None, mode))
    return llvm::createStringError(ec, "%s: %s", path.str().c_str(), ec.message().c_str());
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << text;
    os.close();
    if (os.has_error()) {
      std::error_code ec = os.error();
      os.clear_error();
      fs::remove(temp);
      return llvm::createStringError(ec, "%s: %s", temp.c_str(), ec.message().c_str());
    }
  }
  if (std::error_code ec = fs::rename(temp, path)) {
    fs::remove(temp);
    return llvm::createStringError(ec, "%s: %s", path.str().c_str(), ec.message().c_str());
  }
  return llvm::Error::success();
}

} // namespace strata::cli
