// The strata executable: argument parsing, output streams and exit codes only; every
// command is a library function in cli/Commands.h.
#include "cli/Commands.h"

#include <CLI/CLI.hpp>
#include <llvm/Support/raw_ostream.h>

#include <unistd.h>

using namespace strata::cli;

int main(int argc, char **argv) {
  CLI::App app{"strata: a declarative migration compiler and planner for PostgreSQL"};
  app.set_version_flag("--version", "strata 0.1.0");
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
  showCmd->add_flag("--ops", show.ops, "Print the version's Ops and checksum instead");

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
  if (showCmd->parsed()) {
    if (!showSource.empty())
      show.paths.push_back(showSource);
    show.color = wantColor(STDERR_FILENO);
    return runShow(show, llvm::outs(), llvm::errs());
  }
  return ExitUsage;
}
