// `strata inspect`, `strata diff` and `strata apply baseline`: reading a live database,
// comparing it with what the DSL declares (drift), and adopting an existing database.
#pragma once

#include "cli/Commands.h"

#include <llvm/Support/Error.h>
#include <llvm/Support/raw_ostream.h>

#include <string>

namespace strata::compiler {
struct Project;
}
namespace strata::runtime {
struct DriftReport;
}
namespace strata::planner {
class VersionGraph;
struct Plan;
} // namespace strata::planner

namespace strata::cli {

struct InspectOptions {
  RunOptions run; ///< paths are read only with --subsystem
  std::string schema = "public";
  std::string subsystem; ///< only this subsystem's tables (at its recorded version)
  std::string as;        ///< NAME@VERSION of the printed subsystem block
};

/// `strata inspect`: the live schema as canonical DSL that compiles back to it.
int runInspect(const InspectOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

/// Exit codes of `strata diff`, for CI.
enum DiffExit : int { DiffNone = 0, DiffDrift = 1, DiffError = 2 };

struct DiffOptions {
  RunOptions run; ///< run.to: compare with these versions instead of the recorded ones
  std::string schema = "public";
  std::string format = "text"; ///< text, json or sql
};

/// `strata diff`: the drift between the live catalog and the declared state.
int runDiff(const DiffOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

/// `strata apply baseline --to core@X[,...]`: exit 0 recorded, 1 refused or failed.
int runBaseline(const RunOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

/// For `strata status`: one warning line on \p err per drifted object of the database at
/// \p db (nothing when it has no drift, is not managed or has versions pending finish;
/// one line saying why when it cannot be checked). Never changes the exit code.
void warnAboutDrift(const compiler::Project &project, const planner::VersionGraph &graph,
                    const std::string &db, llvm::raw_ostream &err);

/// The lines of warnAboutDrift for \p report, already made (nothing when it has no drift),
/// or for the error that prevented it (one line, secrets of \p db redacted).
void printDriftWarnings(llvm::Expected<runtime::DriftReport> report, const std::string &db,
                        llvm::raw_ostream &err);

/// For `strata plan up --db`: marks each step of \p plan that touches a drifted table
/// (lint D301 on the step) and adds one warning finding per such table, naming its steps
/// and its drift (not while versions are pending finish). Returns the number of steps marked;
/// problems checking drift are one warning line on \p err.
unsigned noteDriftInPlan(const compiler::Project &project, const planner::VersionGraph &graph,
                         const std::string &db, planner::Plan &plan, llvm::raw_ostream &err);

} // namespace strata::cli
