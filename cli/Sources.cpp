#include "cli/Sources.h"

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

} // namespace strata::cli
