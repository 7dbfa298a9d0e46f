// StatusFacts: the little that `strata status` needs to know about a compiled project
// (every subsystem's versions in order with their checksums and direct dependencies, the
// graph's topological order, each subsystem's latest version), as a plain value that can
// be computed from a Project and its VersionGraph, or read back from the status cache
// (runtime/StatusCache.h) without compiling the sources at all.
//
// Why a separate value: compiling 10,000 versions (parse + fold) takes most of a second,
// while status only compares names and checksums with the database's records. The status
// computation below takes these facts, never the Project, so that a warm cache gives the
// very same answer as a fresh compilation (Runner::status goes through it too).
#pragma once

#include "compiler/Project.h"
#include "runtime/Runner.h"
#include "runtime/StateStore.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/STLFunctionalExtras.h>

#include <optional>
#include <string>
#include <vector>

namespace strata::planner {
class VersionGraph;
}

namespace strata::runtime {

struct StatusFacts {
  struct Version {
    std::string text;
    std::string checksum;
    /// Direct dependencies, as VersionGraph::dependencies gives them (parents, then the
    /// required versions).
    std::vector<compiler::VersionRef> dependencies;
    friend bool operator==(const Version &, const Version &) = default;
  };
  struct Subsystem {
    std::string name;
    std::vector<Version> versions; ///< in declaration order, as in the Project
    unsigned latest = 0;           ///< Subsystem::latest()
    friend bool operator==(const Subsystem &, const Subsystem &) = default;
  };
  std::vector<Subsystem> subsystems; ///< in declaration order
  std::vector<compiler::VersionRef> order; ///< VersionGraph::order()

  static StatusFacts of(const compiler::Project &project, const planner::VersionGraph &graph);

  std::optional<unsigned> findSubsystem(llvm::StringRef name) const;
  std::optional<unsigned> findVersion(unsigned subsystem, llvm::StringRef text) const;
  const Version &at(compiler::VersionRef ref) const {
    return subsystems[ref.subsystem].versions[ref.version];
  }
  /// \p roots and everything they depend on, transitively, in order().
  std::vector<compiler::VersionRef> closure(llvm::ArrayRef<compiler::VersionRef> roots) const;

  friend bool operator==(const StatusFacts &, const StatusFacts &) = default;
};

/// The latest node per subsystem among \p nodes: a node is left out when another node of
/// \p nodes of the same subsystem depends on it, directly or not. Returned in \p order.
/// One pass over the DAG from its sinks up, carrying for each node the set of subsystems
/// that have a node of \p nodes below it (a bit per subsystem): O(edges x subsystems / 64)
/// instead of a closure per pair of nodes. \p dependencies gives a node's direct
/// dependencies; \p position its index in \p order.
std::vector<compiler::VersionRef>
headsAmong(llvm::ArrayRef<compiler::VersionRef> order,
           llvm::function_ref<unsigned(compiler::VersionRef)> position,
           llvm::function_ref<std::vector<compiler::VersionRef>(compiler::VersionRef)> dependencies,
           llvm::ArrayRef<compiler::VersionRef> nodes);

/// headsAmong over the facts' graph.
std::vector<compiler::VersionRef> headsOf(const StatusFacts &facts,
                                          llvm::ArrayRef<compiler::VersionRef> nodes);

/// The recorded nodes that the project declares (the others are ignored, as apply ignores
/// them) reduced to their heads: the versions the database is at. \p pending, when given,
/// receives the recorded nodes whose finish has not run.
std::vector<compiler::VersionRef> recordedHeads(const StatusFacts &facts,
                                                const std::vector<NodeRecord> &records,
                                                std::vector<compiler::VersionRef> *pending);

/// The version to suggest for `strata new version` after versions with these texts: the
/// patch after the highest (texts that are not versions are skipped).
std::string nextPatchVersion(llvm::ArrayRef<std::string> versionTexts);

/// `strata status` as a pure function: the state tables exist (\p stateExists) with
/// \p records; \p targets as in RunnerOptions (empty: every subsystem's latest).
DatabaseStatus statusOf(const StatusFacts &facts, bool stateExists,
                        const std::vector<NodeRecord> &records,
                        llvm::ArrayRef<compiler::VersionRef> targets);

} // namespace strata::runtime
