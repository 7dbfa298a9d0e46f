#include "cli/Commands.h"
#include "cli/Sources.h"

#include "compiler/Compilation.h"
#include "compiler/Printer.h"

#include <fmt/format.h>

namespace strata::cli {

int runShow(const ShowOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  auto [subsystemName, versionText] = llvm::StringRef(options.target).split('@');
  if (subsystemName.empty() || versionText.empty()) {
    err << "strata: error: expected SUBSYSTEM@VERSION, such as core@1.0.0, not \""
        << options.target << "\"\n";
    return ExitUsage;
  }
  compiler::Compilation compilation;
  const compiler::Project *project = compileSources(compilation, options.paths, options.color, err);
  if (!project)
    return ExitFailure;
  std::optional<unsigned> s = project->findSubsystem(subsystemName);
  if (!s) {
    std::vector<std::string> names;
    for (const compiler::Subsystem &sub : project->subsystems)
      names.push_back(sub.name);
    err << fmt::format("strata: error: unknown subsystem \"{}\"; declared: {}\n",
                       subsystemName.str(), fmt::join(names, ", "));
    return ExitFailure;
  }
  const compiler::Subsystem &subsystem = project->subsystems[*s];
  std::optional<unsigned> v = subsystem.findVersion(versionText);
  if (!v) {
    std::vector<std::string> versions;
    for (const compiler::Version &ver : subsystem.versions)
      versions.push_back(ver.text);
    err << fmt::format("strata: error: subsystem \"{}\" has no version \"{}\"; declared: {}\n",
                       subsystem.name, versionText.str(), fmt::join(versions, ", "));
    return ExitFailure;
  }
  if (options.ops)
    compiler::printVersionOps(out, *project, {*s, *v});
  else
    compiler::printVersionState(out, *project, {*s, *v});
  return ExitOk;
}

} // namespace strata::cli
