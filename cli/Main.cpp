// The strata executable: argument parsing, output streams and exit codes only; every
// command is a library function in cli/Commands.h.
#include "cli/Commands.h"
#include "cli/Inspect.h"
#include "cli/Sources.h"

#include <CLI/CLI.hpp>
#include <strata/version.h>
#include <llvm/Support/raw_ostream.h>

#include <unistd.h>

using namespace strata::cli;

int main(int argc, char **argv) {
  strata::cli::setProcessExitsAfterCommand();
  CLI::App app{"strata: a declarative migration compiler and planner for PostgreSQL"};
  app.name("strata");
  app.set_version_flag("--version", "strata " STRATA_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  CheckOptions check;
  std::string checkFormat = "text";
  std::string source;
  CLI::App *checkCmd =
      app.add_subcommand("check", "Parse, compile and verify every version (no database)");
  checkCmd->add_option("--source,-s", source, "Directory with the .strata files (default: .)");
  checkCmd->add_option("paths", check.paths, "Files or directories to check");
  checkCmd->add_option("--format", checkFormat, "Diagnostics format")
      ->check(CLI::IsMember({"text", "json"}));
  checkCmd->add_flag("--verify", check.verify,
                     "Compare diagnostics with expected-error {{...}} comments (tests)");

  ShowOptions show;
  std::string showSource;
  CLI::App *showCmd = app.add_subcommand(
      "show", "Print a version's full schema state as canonical DSL, or its Ops");
  showCmd->add_option("target", show.target, "SUBSYSTEM@VERSION, such as core@1.0.0")
      ->required();
  showCmd->add_option("--source,-s", showSource, "Directory with the .strata files (default: .)");
  showCmd->add_option("paths", show.paths, "Files or directories with the .strata files");
  showCmd->add_flag("--ops", show.ops, "Print the version's Ops and checksum instead");

  PlanOptions plan;
  std::string planSource;
  CLI::App *planCmd = app.add_subcommand(
      "plan", "Dry run: exactly what 'apply' would execute, from --from (or a database) to --to");
  planCmd->add_option("phase", plan.phase, "up, finish or bootstrap")
      ->required()
      ->check(CLI::IsMember({"up", "finish", "bootstrap"}));
  planCmd->add_option("--source,-s", planSource, "Directory with the .strata files (default: .)");
  planCmd->add_option("paths", plan.paths, "Files or directories with the .strata files");
  planCmd->add_option("--from", plan.from,
                      "Executed versions, such as core@1.0.0,acl@1.0.0 (default: none)");
  planCmd->add_option("--to", plan.to, "Target versions (default: every subsystem's latest)");
  planCmd->add_option("--db", plan.db,
                      "Read the starting point from this database (conninfo or URI)");
  planCmd->add_option("--format", plan.format, "text, sql, json or markdown")
      ->check(CLI::IsMember({"text", "sql", "json", "markdown"}));
  planCmd->add_option("-o,--output", plan.output, "Write the plan to FILE (JSON unless --format)");
  planCmd->add_flag("--force,-f", plan.force,
                    "With --db: plan what 'apply --force' would run (see apply --help)");

  GraphOptions graphOpts;
  std::string graphSource;
  std::string graphFormat = "dot";
  CLI::App *graphCmd = app.add_subcommand("graph", "Print the version DAG as Graphviz DOT");
  graphCmd->add_option("--source,-s", graphSource, "Directory with the .strata files (default: .)");
  graphCmd->add_option("paths", graphOpts.paths, "Files or directories with the .strata files");
  graphCmd->add_option("--from", graphOpts.from, "Executed versions, to mark nodes");
  graphCmd->add_option("--format", graphFormat, "dot")->check(CLI::IsMember({"dot"}));

  auto addRunOptions = [](CLI::App *cmd, RunOptions &run, std::string &source) {
    cmd->add_option("--source,-s", source, "Directory with the .strata files (default: .)");
    cmd->add_option("paths", run.paths, "Files or directories with the .strata files");
    cmd->add_option("--db", run.db,
                    "Connection string or postgres:// URI (default: PG* variables, as psql)");
    cmd->add_option("--to", run.to, "Target versions (default: every subsystem's latest)");
  };
  ApplyOptions apply;
  std::string applySource;
  CLI::App *applyCmd = app.add_subcommand("apply", "Execute bootstrap, up or finish");
  applyCmd->add_option("phase", apply.phase, "bootstrap, up, finish or baseline")
      ->check(CLI::IsMember({"bootstrap", "up", "finish", "baseline"}));
  addRunOptions(applyCmd, apply.run, applySource);
  applyCmd->add_option("--plan", apply.planFile, "Run a plan saved by 'strata plan -o'");
  applyCmd->add_flag("--force,-f", apply.force,
                     "Re-run versions whose checksum changed; upgrade despite pending finish");
  applyCmd->add_flag("--yes,-y", apply.yes, "Answer yes to the confirmation of finish");
  applyCmd->add_option("--lock-timeout", apply.lockWait,
                       "Seconds to wait for another strata apply to finish (default 60)");
  applyCmd->add_option("--ddl-lock-timeout", apply.ddlLockTimeoutMs,
                       "lock_timeout of each step in ms, retried with backoff (default 1000)");
  applyCmd->add_option("--batch-size", apply.batchSize, "Rows per backfill batch (default 1000)");
  applyCmd->add_option("--batch-pause", apply.batchPauseMs,
                       "Pause between backfill batches in ms (default 0)");

  StatusOptions status;
  std::string statusSource, statusFormat = "text";
  CLI::App *statusCmd =
      app.add_subcommand("status", "Executed, pending finish and new versions per subsystem");
  addRunOptions(statusCmd, status.run, statusSource);
  statusCmd->add_option("--format", statusFormat, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  statusCmd->add_option("--app", status.app,
                        "May an application built for these versions (core@1.1.0,acl@1.0.0) "
                        "start now? Reads only the database; no .strata files needed");
  statusCmd->add_flag("--no-cache", status.noCache,
                      "Neither read nor write the status cache (also STRATA_NO_CACHE=1)");
  statusCmd->footer(
      "Exit codes: 0 up to date, 3 needs bootstrap, 4 pending finish, 5 new versions to run "
      "(Kong's 'migrations list'), 7 a version changed since it ran (apply refuses it), 8 an apply was interrupted (run it again to resume).\nWith "
      "--app: 0 may start (up to date, or inside the "
      "blue/green window), 1 error, 3 needs bootstrap, 5 needs up, 6 too new (a newer "
      "finish ran: upgrade the application).");

  ResetOptions reset;
  std::string resetSource;
  CLI::App *resetCmd =
      app.add_subcommand("reset", "Drop everything strata created, after confirmation");
  addRunOptions(resetCmd, reset.run, resetSource);
  // Not --to: reset drops everything strata created. Dropping only what came after a
  // version would be a downgrade, which strata does not do (there are no down migrations,
  // and the data of what goes is lost).
  resetCmd->remove_option(resetCmd->get_option("--to"));
  resetCmd->add_flag("--yes,-y", reset.yes, "Do not ask for confirmation");

  FmtOptions fmtOpts;
  CLI::App *fmtCmd = app.add_subcommand(
      "fmt", "Rewrite .strata files in the canonical layout, keeping every comment");
  fmtCmd->add_option("paths", fmtOpts.paths,
                     "Files or directories (default: .); '-' formats standard input to stdout");
  fmtCmd->add_flag("--check", fmtOpts.check,
                   "Write nothing; list the files that would change and exit 1 if any");
  fmtCmd->add_flag("--stdout", fmtOpts.toStdout,
                   "Print the formatted text instead of rewriting the files");

  NewOptions newOpts;
  CLI::App *newCmd = app.add_subcommand("new", "Scaffolding: a new subsystem, or a new version");
  newCmd->require_subcommand(1);
  CLI::App *newSubsystemCmd = newCmd->add_subcommand(
      "subsystem", "Write DIR/NAME.strata: a subsystem with a first version");
  newSubsystemCmd->add_option("name", newOpts.subsystem, "The subsystem's name")->required();
  newSubsystemCmd->add_option("version", newOpts.version, "Its first version (default 1.0.0)");
  newSubsystemCmd->add_option("--dir,-d", newOpts.dir, "Where to write it (default: .)");
  CLI::App *newVersionCmd = newCmd->add_subcommand(
      "version", "Append a version block, after the highest older version, to a subsystem");
  newVersionCmd->add_option("subsystem", newOpts.subsystem, "The subsystem")->required();
  newVersionCmd->add_option("version", newOpts.version, "The new version")->required();
  newVersionCmd->add_option("--dir,-d", newOpts.dir,
                            "Directory with the .strata files (default: .)");

  InspectOptions inspectOpts;
  std::string inspectSource;
  CLI::App *inspectCmd =
      app.add_subcommand("inspect", "Print a live database schema as canonical DSL");
  inspectCmd->add_option("--db", inspectOpts.run.db, "Connection string or postgres:// URI");
  inspectCmd->add_option("--schema", inspectOpts.schema, "Schema to read (default: public)");
  inspectCmd->add_option("--subsystem", inspectOpts.subsystem,
                         "Only the tables this subsystem declares (needs the .strata files)");
  inspectCmd->add_option("--as", inspectOpts.as, "NAME@VERSION of the printed block");
  inspectCmd->add_option("--source,-s", inspectSource, "Directory with the .strata files");
  inspectCmd->add_option("paths", inspectOpts.run.paths, "Files or directories (--subsystem)");

  DiffOptions diffOpts;
  std::string diffSource;
  CLI::App *diffCmd = app.add_subcommand(
      "diff", "Drift: live catalog vs declared state (exit 0 none, 1 drift, 2 error)");
  addRunOptions(diffCmd, diffOpts.run, diffSource);
  diffCmd->get_option("--to")->description(
      "Versions to compare with (default: the versions the database recorded)");
  diffCmd->add_option("--schema", diffOpts.schema, "Schema to compare (default: public)");
  diffCmd->add_option("--format", diffOpts.format, "text, json or sql")
      ->check(CLI::IsMember({"text", "json", "sql"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    app.exit(e);
    return ExitUsage;
  }

  if (checkCmd->parsed()) {
    if (!source.empty())
      check.paths.insert(check.paths.begin(), source);
    check.format = checkFormat == "json" ? OutputFormat::Json : OutputFormat::Text;
    check.color = wantColor(STDERR_FILENO);
    return runCheck(check, llvm::outs(), llvm::errs());
  }
  if (applyCmd->parsed()) {
    if (!applySource.empty())
      apply.run.paths.push_back(applySource);
    if (apply.phase.empty() && apply.planFile.empty()) {
      llvm::errs() << "strata: error: expected 'bootstrap', 'up' or 'finish' (or --plan FILE)\n";
      return ExitUsage;
    }
    apply.run.color = wantColor(STDERR_FILENO);
    if (apply.phase == "baseline")
      return runBaseline(apply.run, llvm::outs(), llvm::errs());
    return runApply(apply, llvm::outs(), llvm::errs());
  }
  if (inspectCmd->parsed()) {
    if (!inspectSource.empty())
      inspectOpts.run.paths.push_back(inspectSource);
    return runInspect(inspectOpts, llvm::outs(), llvm::errs());
  }
  if (diffCmd->parsed()) {
    if (!diffSource.empty())
      diffOpts.run.paths.push_back(diffSource);
    return runDiff(diffOpts, llvm::outs(), llvm::errs());
  }
  if (statusCmd->parsed()) {
    if (!statusSource.empty())
      status.run.paths.push_back(statusSource);
    status.json = statusFormat == "json";
    if (!status.app.empty())
      return runAppStatus(status, llvm::outs(), llvm::errs());
    return runStatus(status, llvm::outs(), llvm::errs());
  }
  if (resetCmd->parsed()) {
    if (!resetSource.empty())
      reset.run.paths.push_back(resetSource);
    return runReset(reset, llvm::outs(), llvm::errs());
  }
  if (planCmd->parsed()) {
    if (!planSource.empty())
      plan.paths.push_back(planSource);
    plan.color = wantColor(STDOUT_FILENO);
    return runPlan(plan, llvm::outs(), llvm::errs());
  }
  if (graphCmd->parsed()) {
    if (!graphSource.empty())
      graphOpts.paths.push_back(graphSource);
    return runGraph(graphOpts, llvm::outs(), llvm::errs());
  }
  if (showCmd->parsed()) {
    if (!showSource.empty())
      show.paths.push_back(showSource);
    show.color = wantColor(STDERR_FILENO);
    return runShow(show, llvm::outs(), llvm::errs());
  }
  if (fmtCmd->parsed()) {
    fmtOpts.color = wantColor(STDERR_FILENO);
    return runFmt(fmtOpts, llvm::outs(), llvm::errs());
  }
  if (newCmd->parsed()) {
    newOpts.kind = newSubsystemCmd->parsed() ? "subsystem" : "version";
    newOpts.color = wantColor(STDERR_FILENO);
    return runNew(newOpts, llvm::outs(), llvm::errs());
  }
  return ExitUsage;
}
