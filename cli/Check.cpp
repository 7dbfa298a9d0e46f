#include "cli/Commands.h"
#include "cli/Sources.h"

#include "compiler/Compilation.h"
#include "compiler/Verify.h"
#include "planner/Planner.h"

#include <llvm/Support/Process.h>

#include <fmt/format.h>

#include <cstdlib>
#include <unistd.h>

namespace strata::cli {

bool wantColor(int fd) {
  const char *noColor = std::getenv("NO_COLOR");
  if (noColor && *noColor)
    return false;
  return ::isatty(fd) != 0;
}

int runCheck(const CheckOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  compiler::Compilation compilation;
  prepareForExit(compilation);
  std::vector<std::string> paths = options.paths;
  if (paths.empty())
    paths.push_back(".");
  for (const std::string &path : paths) {
    if (llvm::Error e = compilation.addPath(path)) {
      err << "strata: error: " << llvm::toString(std::move(e)) << "\n";
      return ExitFailure;
    }
  }
  if (compilation.bufferCount() == 0) {
    err << "strata: error: no .strata files found in "
        << fmt::format("{}", fmt::join(paths, ", ")) << "\n";
    return ExitFailure;
  }
  const compiler::Project *project = compilation.run();
  compiler::DiagnosticsEngine &diags = compilation.diagnostics();
  // The planner's findings for every upgrade step the project declares: compatibility
  // errors (unless waived with `unsafe`) fail the check, lints are warnings.
  if (project && !diags.hasErrors())
    planner::reportFindings(*project, diags);
  if (options.verify) {
    compiler::VerifyResult result = compiler::verifyDiagnostics(compilation.sources(), diags);
    for (const std::string &problem : result.problems)
      err << problem << "\n";
    return result.problems.empty() ? ExitOk : ExitFailure;
  }
  if (options.format == OutputFormat::Json) {
    out << diags.renderJson() << "\n";
  } else {
    diags.render(err, options.color);
  }
  if (!project || diags.hasErrors())
    return ExitFailure;
  if (options.format == OutputFormat::Text) {
    size_t versions = 0;
    for (const compiler::Subsystem &s : project->subsystems)
      versions += s.versions.size();
    out << fmt::format("{} subsystem{}, {} version{}: ok\n", project->subsystems.size(),
                       project->subsystems.size() == 1 ? "" : "s", versions,
                       versions == 1 ? "" : "s");
  }
  return ExitOk;
}

} // namespace strata::cli
