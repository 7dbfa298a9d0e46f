#include "cli/Sources.h"

#include "planner/Planner.h"

namespace strata::cli {

const compiler::Project *compileSources(compiler::Compilation &compilation,
                                        const std::vector<std::string> &paths, bool color,
                                        llvm::raw_ostream &err) {
  std::vector<std::string> all = paths;
  if (all.empty())
    all.push_back(".");
  for (const std::string &path : all)
    if (llvm::Error e = compilation.addPath(path)) {
      err << "strata: error: " << llvm::toString(std::move(e)) << "\n";
      return nullptr;
    }
  if (compilation.bufferCount() == 0) {
    err << "strata: error: no .strata files found\n";
    return nullptr;
  }
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

} // namespace strata::cli
