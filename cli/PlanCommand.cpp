#include "cli/Commands.h"
#include "cli/Inspect.h"
#include "cli/Sources.h"

#include "compiler/Compilation.h"
#include "planner/PlanFormat.h"
#include "planner/Planner.h"
#include "runtime/ApplyScript.h"
#include "runtime/ConnInfo.h"
#include "runtime/Runner.h"

#include <llvm/Support/FileSystem.h>

#include <fmt/format.h>

#include <set>

namespace strata::cli {

namespace {
planner::Locator locatorFor(compiler::Compilation &compilation) {
  return [&compilation](compiler::SourceRange range) {
    return compilation.diagnostics().describe(range.Start);
  };
}
} // namespace

int runPlan(const PlanOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  std::optional<planner::Phase> phase = planner::parsePhase(options.phase);
  if (!phase) {
    err << "strata: error: expected 'up', 'finish' or 'bootstrap', not \"" << options.phase
        << "\"\n";
    return ExitUsage;
  }
  compiler::Compilation compilation;
  const compiler::Project *project = compileSources(compilation, options.paths, options.color, err);
  if (!project)
    return ExitFailure;
  planner::VersionGraph graph(*project);
  planner::PlanRequest request;
  request.phase = *phase;
  auto targets = parseVersionsFlag(*project, "--to", options.to, err);
  if (!targets)
    return ExitUsage;
  request.targets = std::move(*targets);
  if (!options.db.empty() && !options.from.empty()) {
    err << "strata: error: give either --db or --from, not both\n";
    return ExitUsage;
  }
  std::optional<planner::Plan> dbPlan; ///< with --db: the plan apply would run
  if (!options.db.empty()) {
    // The starting point is what the database recorded, read the way apply reads it.
    llvm::Expected<runtime::Connection> conn = runtime::Connection::open(options.db);
    if (!conn) {
      err << "strata: error: "
          << runtime::redactSecretsIn(llvm::toString(conn.takeError()), options.db) << "\n";
      return ExitFailure;
    }
    runtime::StateStore store(*conn);
    llvm::Expected<std::vector<runtime::NodeRecord>> records = store.nodesIfAny();
    if (!records) {
      err << "strata: error: "
          << runtime::redactSecretsIn(llvm::toString(records.takeError()), options.db) << "\n";
      return ExitFailure;
    }
    // Fix: the dry run decides as apply does, refusals included: it printed steps (or
    // "nothing to do") and exited 0 where apply refused an edited version or new versions
    // on top of a pending finish.
    std::optional<planner::Plan> decided;
    llvm::Error refused = llvm::Error::success();
    switch (*phase) {
    case planner::Phase::Up: {
      llvm::Expected<runtime::UpDecision> d = runtime::Runner::decideUp(
          *project, graph, locatorFor(compilation), *records, request.targets, options.force);
      if (d)
        decided = std::move(d->plan);
      else
        refused = d.takeError();
      break;
    }
    case planner::Phase::Finish: {
      if (records->empty()) {
        refused =
            llvm::createStringError(llvm::inconvertibleErrorCode(),
                                    "the database needs bootstrap; run 'strata apply bootstrap'");
        break;
      }
      llvm::Expected<runtime::FinishDecision> d = runtime::Runner::decideFinish(
          *project, graph, locatorFor(compilation), *records, request.targets);
      if (!d) {
        refused = d.takeError();
        break;
      }
      // As apply finish: nothing to finish is fine, an interrupted up under it is not.
      if (!d->finishes.empty())
        if (llvm::Error e = runtime::Runner::refuseFinishUnderInterruptedUp(*conn)) {
          refused = std::move(e);
          break;
        }
      decided = std::move(d->plan);
      break;
    }
    case planner::Phase::Bootstrap: {
      if (!records->empty()) {
        refused = llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "the database is already bootstrapped; run 'strata apply up' to upgrade it");
        break;
      }
      llvm::Expected<planner::Plan> p =
          planner::makePlan(*project, graph, request, locatorFor(compilation));
      if (!p) {
        refused = p.takeError();
        break;
      }
      if (llvm::Error e = runtime::Runner::checkBootstrapInto(*conn, *project, *p))
        refused = std::move(e);
      else
        decided = std::move(*p);
      break;
    }
    }
    if (refused) {
      err << "strata: error: "
          << runtime::redactSecretsIn(llvm::toString(std::move(refused)), options.db) << "\n";
      return ExitFailure;
    }
    dbPlan = std::move(decided);
    // The script of `--format sql` checks that the database is at this starting point
    // before it runs anything (a refusal above returned already).
    llvm::Expected<planner::StartingPoint> start =
        runtime::Runner::startingPoint(*project, *records, options.force, nullptr);
    if (!start) {
      err << "strata: error: " << llvm::toString(start.takeError()) << "\n";
      return ExitFailure;
    }
    request.start = std::move(*start);
  }
  auto from = parseVersionsFlag(*project, "--from", options.from, err);
  if (!from)
    return ExitUsage;
  if (!from->empty())
    request.start = planner::startingPointFrom(graph, *from);
  llvm::Expected<planner::Plan> plan =
      dbPlan ? llvm::Expected<planner::Plan>(std::move(*dbPlan))
             : planner::makePlan(*project, graph, request, locatorFor(compilation));
  if (!plan) {
    err << "strata: error: " << llvm::toString(plan.takeError()) << "\n";
    return ExitFailure;
  }
  if (!options.db.empty() && *phase == planner::Phase::Up)
    noteDriftInPlan(*project, graph, options.db, *plan, err);
  std::string format = options.format;
  if (format.empty())
    format = options.output.empty() ? "text" : "json";
  std::string rendered;
  if (format == "text")
    rendered = planner::renderText(*plan, {options.color && options.output.empty()});
  else if (format == "sql") {
    // With strata's records, so that psql -f of it does what apply does.
    llvm::Expected<std::string> script =
        runtime::applyScript(*project, graph, request, *plan, locatorFor(compilation),
                             runtime::RunnerOptions().strataVersion);
    if (!script) {
      err << "strata: error: " << llvm::toString(script.takeError()) << "\n";
      return ExitFailure;
    }
    rendered = std::move(*script);
  } else if (format == "json")
    rendered = planner::renderJson(*plan);
  else if (format == "markdown")
    rendered = planner::renderMarkdown(*plan);
  else {
    err << "strata: error: unknown format \"" << format << "\"\n";
    return ExitUsage;
  }
  if (options.output.empty()) {
    out << rendered;
    if (!rendered.empty() && rendered.back() != '\n')
      out << "\n";
  } else {
    std::error_code ec;
    llvm::raw_fd_ostream file(options.output, ec);
    if (ec) {
      err << "strata: error: " << options.output << ": " << ec.message() << "\n";
      return ExitFailure;
    }
    file << rendered;
    if (!rendered.empty() && rendered.back() != '\n')
      file << "\n";
  }
  if (plan->hasErrors()) {
    // The plan is printed so that the reviewer sees where; the exit says it cannot run.
    unsigned errors = 0;
    for (const planner::Finding &f : plan->findings)
      errors += f.error;
    err << fmt::format("strata: error: the plan has {} compatibility error{}; see the findings\n",
                       errors, errors == 1 ? "" : "s");
    return ExitFailure;
  }
  return ExitOk;
}

int runGraph(const GraphOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  compiler::Compilation compilation;
  const compiler::Project *project = compileSources(compilation, options.paths, options.color, err);
  if (!project)
    return ExitFailure;
  planner::VersionGraph graph(*project);
  std::set<compiler::VersionRef> executed;
  auto from = parseVersionsFlag(*project, "--from", options.from, err);
  if (!from)
    return ExitUsage;
  for (compiler::VersionRef r : graph.closure(*from))
    executed.insert(r);
  out << graph.dot([&](compiler::VersionRef ref) {
    if (from->empty())
      return planner::VersionGraph::NodeStatus::None;
    return executed.count(ref) ? planner::VersionGraph::NodeStatus::Executed
                               : planner::VersionGraph::NodeStatus::New;
  });
  return ExitOk;
}

} // namespace strata::cli
