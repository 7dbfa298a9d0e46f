// The version DAG: a node per (subsystem, version); an edge from each parent and from
// each required version (the lowest declared one that satisfies the range) to the node
// that depends on it. Boost.Graph stays behind this header.
//
// The order is deterministic: topological, ties broken by subsystem (in declaration
// order, so core first) and then by version.
#pragma once

#include "compiler/Project.h"

#include <llvm/ADT/BitVector.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace strata::planner {

using compiler::VersionRef;

class VersionGraph {
public:
  explicit VersionGraph(const compiler::Project &project);
  ~VersionGraph();
  VersionGraph(VersionGraph &&) noexcept;
  VersionGraph &operator=(VersionGraph &&) noexcept;

  /// Every node, in the deterministic topological order.
  const std::vector<VersionRef> &order() const { return topo; }
  /// Position of \p node in order().
  unsigned position(VersionRef node) const;
  /// Direct dependencies: parents, then required versions.
  std::vector<VersionRef> dependencies(VersionRef node) const;
  /// The nodes \p roots depend on, transitively, themselves included, in order().
  std::vector<VersionRef> closure(llvm::ArrayRef<VersionRef> roots) const;
  /// The same set as a bit per node, indexed by index(): for membership tests in O(1)
  /// where closure() would be searched.
  llvm::BitVector closureSet(llvm::ArrayRef<VersionRef> roots) const;
  /// A node's dense index, 0 .. size()-1; a subsystem's versions have consecutive
  /// indexes, in declaration order.
  unsigned index(VersionRef node) const;
  /// The node with index() \p i.
  VersionRef node(unsigned i) const;
  unsigned size() const { return static_cast<unsigned>(topo.size()); }
  /// A cycle, as the list of nodes on it, or empty when the graph is acyclic (the
  /// front end refuses cyclic requirements, so a Project normally has none).
  std::vector<VersionRef> findCycle() const;

  enum class NodeStatus { None, Executed, PendingFinish, New };
  /// Graphviz DOT; \p status colours nodes when a starting point is known.
  std::string dot(const std::function<NodeStatus(VersionRef)> &status) const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
  std::vector<VersionRef> topo;
  std::vector<unsigned> positionOf; ///< index() -> position in topo
};

} // namespace strata::planner
