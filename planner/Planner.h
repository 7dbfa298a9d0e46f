// The planner: from a starting point (the executed nodes, read from a database or stated
// with --from) to targets (--to, default every subsystem's latest), the Plan of an `up`,
// `finish` or `bootstrap`.
//
// Every Op of every node to run is rewritten into its safe form and split between `up`
// (non-destructive: old and new versions both keep working) and `finish` (the destructive
// rest), following reference/postgres-operations.md. The compatibility proof runs as part
// of the rewrite: what cannot be made safe is a finding at the DSL line, an error unless
// the author marked the statement `unsafe`.
#pragma once

#include "compiler/Diagnostics.h"
#include "planner/Plan.h"
#include "planner/VersionGraph.h"

#include <llvm/Support/Error.h>

#include <functional>

namespace strata::planner {

struct StartingPoint {
  struct Entry {
    VersionRef node;
    bool finished = true; ///< false: `up` ran, `finish` has not (pending)
  };
  std::vector<Entry> executed;
};

struct PlanRequest {
  Phase phase = Phase::Up;
  std::vector<VersionRef> targets; ///< completed by resolveTargets (empty: all latest)
  StartingPoint start;
};

/// Turns a source range into "file:line:col" for step reasons and findings.
using Locator = std::function<std::string(compiler::SourceRange)>;

/// Parses "core@1.2.0,rate_limiting@2" (a version may be a prefix: "2" is the highest 2.x.y).
llvm::Expected<std::vector<VersionRef>> parseNodeList(const compiler::Project &project,
                                                      llvm::StringRef spec);

/// The starting point of `--from` nodes: they and everything they depend on, finished.
StartingPoint startingPointFrom(const VersionGraph &graph, llvm::ArrayRef<VersionRef> nodes);

/// The targets of a plan: \p named (empty: none) completed with every subsystem they leave
/// out, at its latest version when that stays within the named targets, else at its
/// highest version that does (a target is a ceiling: the plan never goes past it), else
/// left out. Fails when named targets require each other past their versions. In the
/// graph's node order.
llvm::Expected<std::vector<VersionRef>> resolveTargets(const compiler::Project &project,
                                                       const VersionGraph &graph,
                                                       llvm::ArrayRef<VersionRef> named);

/// Makes the plan. Fails (llvm::Error) when the starting point cannot reach the targets:
/// a database older than a subsystem's baseline, or on a branch the targets do not contain.
/// Compatibility problems are findings in the plan, not failures.
llvm::Expected<Plan> makePlan(const compiler::Project &project, const VersionGraph &graph,
                              const PlanRequest &request, const Locator &locate);

/// The findings of every edge of the version DAG, reported to \p diags at the DSL line of
/// the Op (with a note at its `unsafe` marker when the author waived one): each version's
/// Ops rewritten from its parent's state, as the plan of that one upgrade step would. What
/// `strata check` shows. Linear in the size of the changes: a version's state shares its
/// unchanged tables with its parent's, so starting from it copies pointers, and only the
/// version's own Ops are rewritten. Requirements between subsystems are not followed: a
/// finding that needs another subsystem's tables (a foreign key to them) shows in plans.
void reportFindings(const compiler::Project &project, compiler::DiagnosticsEngine &diags);

} // namespace strata::planner
