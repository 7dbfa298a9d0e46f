#include "cli/Commands.h"
#include "cli/Inspect.h"
#include "cli/Sources.h"

#include "compiler/Compilation.h"
#include "planner/PlanFormat.h"
#include "runtime/ConnInfo.h"
#include "runtime/Runner.h"

#include <llvm/Support/MemoryBuffer.h>

#include <fmt/format.h>

#include <iostream>
#include <unistd.h>

namespace strata::cli {

namespace {
/// Asks on the terminal; without one, --yes is required (as Kong's reset does).
bool confirm(const std::string &question, bool yes, llvm::raw_ostream &err) {
  if (yes)
    return true;
  if (!::isatty(STDIN_FILENO)) {
    err << "strata: error: not a terminal: confirm with --yes to run non-interactively\n";
    return false;
  }
  err << question << " [y/N] ";
  err.flush();
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "y" || answer == "Y" || answer == "yes")
    return true;
  err << "cancelled\n";
  return false;
}

int report(llvm::Error err, const RunOptions &options, llvm::raw_ostream &errs) {
  return reportRunError(std::move(err), options, errs);
}
} // namespace

int reportRunError(llvm::Error err, const RunOptions &options, llvm::raw_ostream &errs) {
  std::string message = llvm::toString(std::move(err));
  // Nothing that reaches the terminal may carry a password.
  message = runtime::redactSecretsIn(message, options.db);
  llvm::StringRef text(message);
  errs << "strata: error: " << text.rtrim() << "\n";
  return ExitFailure;
}

int runApply(const ApplyOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  compiler::Compilation compilation;
  const compiler::Project *project =
      compileSources(compilation, options.run.paths, options.run.color, err);
  if (!project)
    return ExitFailure;
  planner::VersionGraph graph(*project);
  runtime::RunnerOptions ropts;
  ropts.connInfo = options.run.db;
  ropts.force = options.force;
  ropts.runnerLockWait = std::chrono::milliseconds(static_cast<int64_t>(options.lockWait * 1000));
  ropts.exec.lockTimeout = std::chrono::milliseconds(options.ddlLockTimeoutMs);
  ropts.exec.batchSize = options.batchSize;
  ropts.exec.batchPause = std::chrono::milliseconds(options.batchPauseMs);
  ropts.exec.log = &out;
  ropts.exec.progressBar = ::isatty(STDOUT_FILENO) != 0;
  auto targets = parseVersionsFlag(*project, "--to", options.run.to, err);
  if (!targets)
    return ExitUsage;
  ropts.targets = std::move(*targets);
  runtime::Runner runner(*project, graph,
                         [&compilation](compiler::SourceRange r) {
                           return compilation.diagnostics().describe(r.Start);
                         },
                         ropts, out);
  if (!options.planFile.empty()) {
    auto buffer = llvm::MemoryBuffer::getFile(options.planFile);
    if (!buffer) {
      err << "strata: error: " << options.planFile << ": " << buffer.getError().message() << "\n";
      return ExitFailure;
    }
    llvm::Expected<planner::Plan> plan = planner::readJson((*buffer)->getBuffer());
    if (!plan)
      return report(plan.takeError(), options.run, err);
    if (!options.phase.empty() && options.phase != planner::phaseName(plan->phase)) {
      err << "strata: error: the plan file is a '" << planner::phaseName(plan->phase)
          << "' plan, not '" << options.phase << "'\n";
      return ExitUsage;
    }
    if (plan->phase == planner::Phase::Finish &&
        !confirm("Run finish? Nodes of the old version cannot use the database afterwards.",
                 options.yes, err))
      return ExitFailure;
    if (llvm::Error e = runner.runPlanFile(*plan))
      return report(std::move(e), options.run, err);
    return ExitOk;
  }
  llvm::Error result = llvm::Error::success();
  if (options.phase == "bootstrap") {
    result = runner.bootstrap();
  } else if (options.phase == "up") {
    result = runner.up();
  } else if (options.phase == "finish") {
    if (!confirm("Run finish? Nodes of the old version cannot use the database afterwards.",
                 options.yes, err))
      return ExitFailure;
    result = runner.finish();
  } else {
    err << "strata: error: expected 'bootstrap', 'up' or 'finish' (or --plan FILE)\n";
    return ExitUsage;
  }
  if (result)
    return report(std::move(result), options.run, err);
  return ExitOk;
}

int runReset(const ResetOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  compiler::Compilation compilation;
  const compiler::Project *project =
      compileSources(compilation, options.run.paths, options.run.color, err);
  if (!project)
    return ExitFailure;
  planner::VersionGraph graph(*project);
  runtime::RunnerOptions ropts;
  ropts.connInfo = options.run.db;
  runtime::Runner runner(*project, graph, [](compiler::SourceRange) { return std::string(); },
                         ropts, out);
  // Fix: the prompt named neither the database nor what goes, and `--to`, which reset
  // offered and ignored, dropped every table all the same. Asked under the runner lock,
  // with what is really there.
  llvm::Expected<bool> dropped = runner.reset([&](const runtime::ResetTargets &t) {
    std::string what = fmt::format("strata reset drops, in database \"{}\" on host \"{}\" at "
                                   "port \"{}\" (user \"{}\"):\n",
                                   t.database, t.host, t.port, t.user);
    auto list = [&](const char *kind, const std::vector<std::string> &names) {
      if (!names.empty())
        what += fmt::format("  {}: {}\n", kind, fmt::join(names, ", "));
    };
    list("tables", t.tables);
    list("views", t.views);
    list("functions", t.functions);
    list("types", t.types);
    list("strata's state tables", t.state);
    err << what;
    return confirm("Drop them? The data in them is lost; this cannot be undone.", options.yes, err);
  });
  if (!dropped)
    return report(dropped.takeError(), options.run, err);
  return *dropped ? ExitOk : ExitFailure;
}

} // namespace strata::cli
