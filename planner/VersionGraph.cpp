#include "planner/VersionGraph.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>

#include <fmt/format.h>

#include <queue>

namespace strata::planner {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
using Vertex = Graph::vertex_descriptor;

struct VersionGraph::Impl {
  const compiler::Project *project;
  Graph graph;
  std::vector<VersionRef> nodes;            ///< vertex -> node
  std::vector<std::vector<Vertex>> vertexOf; ///< [subsystem][version] -> vertex

  Vertex vertex(VersionRef ref) const { return vertexOf[ref.subsystem][ref.version]; }
};

VersionGraph::VersionGraph(const compiler::Project &project) : impl(std::make_unique<Impl>()) {
  impl->project = &project;
  for (unsigned s = 0; s < project.subsystems.size(); ++s) {
    impl->vertexOf.emplace_back();
    for (unsigned v = 0; v < project.subsystems[s].versions.size(); ++v) {
      impl->vertexOf[s].push_back(boost::add_vertex(impl->graph));
      impl->nodes.push_back({s, v});
    }
  }
  for (unsigned s = 0; s < project.subsystems.size(); ++s)
    for (unsigned v = 0; v < project.subsystems[s].versions.size(); ++v) {
      const compiler::Version &version = project.subsystems[s].versions[v];
      Vertex to = impl->vertexOf[s][v];
      for (unsigned p : version.parents)
        boost::add_edge(impl->vertexOf[s][p], to, impl->graph);
      for (const compiler::ResolvedRequirement &req : version.requirements)
        boost::add_edge(impl->vertexOf[req.subsystem][req.lowest], to, impl->graph);
    }

  // Kahn's algorithm with a priority queue: the smallest (subsystem, version) among the
  // ready nodes goes first, which makes the order total and stable.
  auto later = [&](Vertex a, Vertex b) {
    VersionRef x = impl->nodes[a], y = impl->nodes[b];
    if (x.subsystem != y.subsystem)
      return x.subsystem > y.subsystem;
    const auto &versions = project.subsystems[x.subsystem].versions;
    int c = versions[x.version].semver.compare(versions[y.version].semver);
    return c != 0 ? c > 0 : x.version > y.version;
  };
  std::priority_queue<Vertex, std::vector<Vertex>, decltype(later)> ready(later);
  std::vector<size_t> indegree(boost::num_vertices(impl->graph));
  for (Vertex v = 0; v < indegree.size(); ++v) {
    indegree[v] = boost::in_degree(v, impl->graph);
    if (indegree[v] == 0)
      ready.push(v);
  }
  positionOf.assign(impl->nodes.size(), 0);
  while (!ready.empty()) {
    Vertex v = ready.top();
    ready.pop();
    positionOf[v] = static_cast<unsigned>(topo.size());
    topo.push_back(impl->nodes[v]);
    for (auto [e, end] = boost::out_edges(v, impl->graph); e != end; ++e) {
      Vertex t = boost::target(*e, impl->graph);
      if (--indegree[t] == 0)
        ready.push(t);
    }
  }
}

VersionGraph::~VersionGraph() = default;
VersionGraph::VersionGraph(VersionGraph &&) noexcept = default;
VersionGraph &VersionGraph::operator=(VersionGraph &&) noexcept = default;

unsigned VersionGraph::position(VersionRef node) const {
  // Fix: a lookup, not a scan of the order. Sorting targets by position made planning
  // quadratic in the number of versions.
  return positionOf[impl->vertex(node)];
}

unsigned VersionGraph::index(VersionRef node) const {
  return static_cast<unsigned>(impl->vertex(node));
}

VersionRef VersionGraph::node(unsigned i) const { return impl->nodes[i]; }

std::vector<VersionRef> VersionGraph::dependencies(VersionRef node) const {
  std::vector<VersionRef> out;
  for (auto [e, end] = boost::in_edges(impl->vertex(node), impl->graph); e != end; ++e)
    out.push_back(impl->nodes[boost::source(*e, impl->graph)]);
  return out;
}

llvm::BitVector VersionGraph::closureSet(llvm::ArrayRef<VersionRef> roots) const {
  llvm::BitVector seen(static_cast<unsigned>(boost::num_vertices(impl->graph)));
  std::vector<Vertex> stack;
  for (VersionRef r : roots)
    stack.push_back(impl->vertex(r));
  while (!stack.empty()) {
    Vertex v = stack.back();
    stack.pop_back();
    if (seen.test(static_cast<unsigned>(v)))
      continue;
    seen.set(static_cast<unsigned>(v));
    for (auto [e, end] = boost::in_edges(v, impl->graph); e != end; ++e)
      stack.push_back(boost::source(*e, impl->graph));
  }
  return seen;
}

std::vector<VersionRef> VersionGraph::closure(llvm::ArrayRef<VersionRef> roots) const {
  llvm::BitVector seen = closureSet(roots);
  std::vector<VersionRef> out;
  out.reserve(seen.count());
  for (VersionRef node : topo)
    if (seen.test(static_cast<unsigned>(impl->vertex(node))))
      out.push_back(node);
  return out;
}

namespace {
struct CycleFinder : boost::default_dfs_visitor {
  std::vector<Vertex> *predecessor;
  std::vector<Vertex> *cycle;
  void tree_edge(Graph::edge_descriptor e, const Graph &g) const {
    (*predecessor)[boost::target(e, g)] = boost::source(e, g);
  }
  void back_edge(Graph::edge_descriptor e, const Graph &g) const {
    if (!cycle->empty())
      return;
    Vertex from = boost::source(e, g), to = boost::target(e, g);
    for (Vertex v = from; v != to; v = (*predecessor)[v])
      cycle->push_back(v);
    cycle->push_back(to);
    std::reverse(cycle->begin(), cycle->end());
  }
};
} // namespace

std::vector<VersionRef> VersionGraph::findCycle() const {
  std::vector<Vertex> predecessor(boost::num_vertices(impl->graph));
  std::vector<Vertex> cycle;
  CycleFinder finder;
  finder.predecessor = &predecessor;
  finder.cycle = &cycle;
  boost::depth_first_search(impl->graph, boost::visitor(finder));
  std::vector<VersionRef> out;
  for (Vertex v : cycle)
    out.push_back(impl->nodes[v]);
  return out;
}

std::string VersionGraph::dot(const std::function<NodeStatus(VersionRef)> &status) const {
  const compiler::Project &project = *impl->project;
  std::string out = "digraph strata {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n";
  auto id = [&](VersionRef ref) { return fmt::format("\"{}\"", project.describe(ref)); };
  for (unsigned s = 0; s < project.subsystems.size(); ++s) {
    out += fmt::format("  subgraph \"cluster_{}\" {{\n    label=\"{}\";\n",
                       project.subsystems[s].name, project.subsystems[s].name);
    for (unsigned v = 0; v < project.subsystems[s].versions.size(); ++v) {
      VersionRef ref{s, v};
      std::string attrs = fmt::format("label=\"{}\"", project.at(ref).text);
      switch (status(ref)) {
      case NodeStatus::None:
        break;
      case NodeStatus::Executed:
        attrs += ", style=filled, fillcolor=\"#c8e6c9\"";
        break;
      case NodeStatus::PendingFinish:
        attrs += ", style=filled, fillcolor=\"#fff3c4\"";
        break;
      case NodeStatus::New:
        attrs += ", style=\"filled,dashed\", fillcolor=\"#bbdefb\"";
        break;
      }
      out += fmt::format("    {} [{}];\n", id(ref), attrs);
    }
    out += "  }\n";
  }
  for (VersionRef node : topo) {
    const compiler::Version &version = project.at(node);
    for (unsigned p : version.parents)
      out += fmt::format("  {} -> {};\n", id({node.subsystem, p}), id(node));
    for (const compiler::ResolvedRequirement &req : version.requirements)
      out += fmt::format("  {} -> {} [style=dashed, label=\"requires\"];\n",
                         id({req.subsystem, req.lowest}), id(node));
  }
  return out + "}\n";
}

} // namespace strata::planner
