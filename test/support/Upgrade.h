// Upgrade: what integration tests of an upgrade O -> N need besides the workloads of
// Workload.h: the project loaded with the nodes a plan resolves --from and --to to, the
// schemas O and N of those nodes, the renames between them (to read a row O wrote through
// N's names), and the catalog of a database as text, to compare an upgraded database with
// a bootstrapped one (test/planner/ApplyPlanTest.cpp, test/e2e/NoDowntimeTest.cpp).
//
// Test-only.
#pragma once

#include "compiler/Compilation.h"
#include "compiler/Schema.h"
#include "planner/VersionGraph.h"
#include "runtime/Connection.h"
#include "runtime/Runner.h"
#include "test/support/Catalog.h" // catalogOf, withoutColumnOrder: the catalog compare

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace strata::test {

/// A project compiled for an upgrade from the nodes \p from (a --from list) to \p to (a
/// --to list, empty: every subsystem's latest).
struct LoadedUpgrade {
  std::unique_ptr<compiler::Compilation> compilation;
  const compiler::Project *project = nullptr;
  std::unique_ptr<planner::VersionGraph> graph;
  /// The nodes of the bootstrap of --from, and those of the up from there to --to.
  std::vector<compiler::VersionRef> from, to;
  /// The schemas of those nodes: what old and new nodes are written against.
  compiler::Schema o, n;
  /// Why loading failed; empty when it did not.
  std::string failure;
};

/// Loads \p path (relative to the repository: a file or a directory of files).
LoadedUpgrade loadUpgrade(const std::string &path, const std::string &from, const std::string &to);

/// The schema of a database that ran \p nodes (and what they depend on): each
/// subsystem's state at its newest node, united.
compiler::Schema stateAt(const compiler::Project &project, const planner::VersionGraph &graph,
                         llvm::ArrayRef<compiler::VersionRef> nodes);

/// Renames between O and N, so that a row can be read through both versions' names:
/// the Ops of the nodes that `up` runs, replayed on O's names.
struct Renames {
  std::map<std::string, std::string> tables;                          ///< O -> N
  std::map<std::pair<std::string, std::string>, std::string> columns; ///< (O t, O c) -> N c

  std::string table(const std::string &oTable) const;
  std::string column(const std::string &oTable, const std::string &oColumn) const;
};

Renames renamesBetween(const LoadedUpgrade &upgrade);

/// Runs \p phase with \p options on \p upgrade's project, as `strata apply` does (steps
/// are located through the project's diagnostics); the runner's log goes to \p log.
llvm::Error runPhase(const LoadedUpgrade &upgrade, const runtime::RunnerOptions &options,
                     planner::Phase phase, llvm::raw_ostream &log);

} // namespace strata::test
