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
  return ExitUsage;
}
