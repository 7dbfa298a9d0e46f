#include "runtime/StatusFacts.h"

#include "planner/VersionGraph.h"

#include <llvm/ADT/BitVector.h>
#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/StringMap.h>

#include <map>

namespace strata::runtime {

using compiler::VersionRef;

StatusFacts StatusFacts::of(const compiler::Project &project, const planner::VersionGraph &graph) {
  StatusFacts facts;
  facts.subsystems.reserve(project.subsystems.size());
  for (unsigned s = 0; s < project.subsystems.size(); ++s) {
    const compiler::Subsystem &sub = project.subsystems[s];
    Subsystem out;
    out.name = sub.name;
    out.latest = sub.latest();
    out.versions.reserve(sub.versions.size());
    for (unsigned v = 0; v < sub.versions.size(); ++v)
      out.versions.push_back(
          {sub.versions[v].text, sub.versions[v].checksum, graph.dependencies({s, v})});
    facts.subsystems.push_back(std::move(out));
  }
  facts.order = graph.order();
  return facts;
}

std::optional<unsigned> StatusFacts::findSubsystem(llvm::StringRef name) const {
  for (unsigned s = 0; s < subsystems.size(); ++s)
    if (subsystems[s].name == name)
      return s;
  return std::nullopt;
}

std::optional<unsigned> StatusFacts::findVersion(unsigned subsystem, llvm::StringRef text) const {
  const std::vector<Version> &versions = subsystems[subsystem].versions;
  for (unsigned v = 0; v < versions.size(); ++v)
    if (versions[v].text == text)
      return v;
  return std::nullopt;
}

std::vector<VersionRef> StatusFacts::closure(llvm::ArrayRef<VersionRef> roots) const {
  // A bit per version, by (subsystem, version): no ordered set of 10,000 nodes.
  std::vector<std::vector<bool>> seen(subsystems.size());
  for (size_t s = 0; s < subsystems.size(); ++s)
    seen[s].resize(subsystems[s].versions.size());
  std::vector<VersionRef> stack(roots.begin(), roots.end());
  while (!stack.empty()) {
    VersionRef node = stack.back();
    stack.pop_back();
    if (seen[node.subsystem][node.version])
      continue;
    seen[node.subsystem][node.version] = true;
    for (VersionRef d : at(node).dependencies)
      stack.push_back(d);
  }
  std::vector<VersionRef> out;
  for (VersionRef node : order)
    if (seen[node.subsystem][node.version])
      out.push_back(node);
  return out;
}

std::vector<VersionRef>
headsAmong(llvm::ArrayRef<VersionRef> order, llvm::function_ref<unsigned(VersionRef)> position,
           llvm::function_ref<std::vector<VersionRef>(VersionRef)> dependencies,
           llvm::ArrayRef<VersionRef> nodes) {
  unsigned subsystems = 0;
  for (VersionRef n : order)
    subsystems = std::max(subsystems, n.subsystem + 1);
  std::vector<bool> chosen(order.size(), false);
  for (VersionRef n : nodes)
    chosen[position(n)] = true;
  // below[i]: the subsystems with a chosen node that depends on order[i] (a proper
  // descendant). Dependencies come earlier in a topological order, so walking it
  // backwards finishes a node's set before passing it on to the node's dependencies.
  std::vector<llvm::BitVector> below(order.size());
  for (size_t i = order.size(); i-- > 0;) {
    llvm::BitVector carry = std::move(below[i]);
    carry.resize(subsystems);
    below[i] = carry;
    if (chosen[i])
      carry.set(order[i].subsystem);
    if (carry.none())
      continue;
    for (VersionRef d : dependencies(order[i])) {
      llvm::BitVector &into = below[position(d)];
      into.resize(subsystems);
      into |= carry;
    }
  }
  std::vector<VersionRef> heads;
  for (size_t i = 0; i < order.size(); ++i)
    if (chosen[i] && !below[i].test(order[i].subsystem))
      heads.push_back(order[i]);
  return heads;
}

namespace {
/// order()'s positions, looked up by (subsystem, version).
std::vector<std::vector<unsigned>> positionsOf(const StatusFacts &facts) {
  std::vector<std::vector<unsigned>> out(facts.subsystems.size());
  for (unsigned s = 0; s < facts.subsystems.size(); ++s)
    out[s].resize(facts.subsystems[s].versions.size());
  for (unsigned i = 0; i < facts.order.size(); ++i)
    out[facts.order[i].subsystem][facts.order[i].version] = i;
  return out;
}
} // namespace

std::vector<VersionRef> headsOf(const StatusFacts &facts, llvm::ArrayRef<VersionRef> nodes) {
  std::vector<std::vector<unsigned>> positions = positionsOf(facts);
  return headsAmong(
      facts.order, [&](VersionRef n) { return positions[n.subsystem][n.version]; },
      [&](VersionRef n) { return facts.at(n).dependencies; }, nodes);
}

std::vector<VersionRef> recordedHeads(const StatusFacts &facts,
                                      const std::vector<NodeRecord> &records,
                                      std::vector<VersionRef> *pending) {
  std::map<llvm::StringRef, unsigned> subsystemOf;
  for (unsigned s = 0; s < facts.subsystems.size(); ++s)
    subsystemOf.try_emplace(facts.subsystems[s].name, s);
  std::vector<VersionRef> nodes;
  for (const NodeRecord &r : records) {
    auto s = subsystemOf.find(r.subsystem);
    if (s == subsystemOf.end())
      continue;
    std::optional<unsigned> v = facts.findVersion(s->second, r.version);
    if (!v)
      continue;
    nodes.push_back({s->second, *v});
    if (pending && !r.executed)
      pending->push_back({s->second, *v});
  }
  return headsOf(facts, nodes);
}

std::string nextPatchVersion(llvm::ArrayRef<std::string> versionTexts) {
  std::optional<compiler::SemVer> highest;
  for (const std::string &text : versionTexts) {
    llvm::Expected<compiler::SemVer> v = compiler::SemVer::parse(text);
    if (!v) {
      llvm::consumeError(v.takeError());
      continue;
    }
    if (!highest || *highest < *v)
      highest = std::move(*v);
  }
  if (!highest)
    return "VERSION";
  return std::to_string(highest->major) + "." + std::to_string(highest->minor) + "." +
         std::to_string(highest->patch + 1);
}

DatabaseStatus statusOf(const StatusFacts &facts, bool stateExists,
                        const std::vector<NodeRecord> &records,
                        llvm::ArrayRef<VersionRef> named) {
  DatabaseStatus out;
  out.needsBootstrap = !stateExists || records.empty();
  std::vector<VersionRef> targets(named.begin(), named.end());
  for (unsigned s = 0; s < facts.subsystems.size(); ++s)
    if (llvm::none_of(targets, [&](VersionRef r) { return r.subsystem == s; }))
      targets.push_back({s, facts.subsystems[s].latest});
  std::vector<std::vector<bool>> needed(facts.subsystems.size());
  for (size_t s = 0; s < facts.subsystems.size(); ++s)
    needed[s].resize(facts.subsystems[s].versions.size());
  for (VersionRef r : facts.closure(targets))
    needed[r.subsystem][r.version] = true;
  // Fix: records looked up by name, nodes walked once. Searching the records for every
  // node of every subsystem made status quadratic: seconds for 10,000 executed versions.
  llvm::StringMap<llvm::StringMap<const NodeRecord *>> byName;
  for (const NodeRecord &r : records)
    byName[r.subsystem].try_emplace(r.version, &r);
  out.subsystems.resize(facts.subsystems.size());
  for (VersionRef node : facts.order) {
    const StatusFacts::Subsystem &sub = facts.subsystems[node.subsystem];
    SubsystemStatus &st = out.subsystems[node.subsystem];
    const StatusFacts::Version &v = facts.at(node);
    const NodeRecord *rec = nullptr;
    if (auto s = byName.find(sub.name); s != byName.end())
      rec = s->second.lookup(v.text);
    if (!rec) {
      if (needed[node.subsystem][node.version] && !out.needsBootstrap)
        st.fresh.push_back(v.text);
      continue;
    }
    if (rec->checksum != v.checksum)
      st.changed.push_back(v.text);
    (rec->executed ? st.executed : st.pending).push_back(v.text);
  }
  for (unsigned s = 0; s < facts.subsystems.size(); ++s) {
    out.subsystems[s].name = facts.subsystems[s].name;
    if (!out.subsystems[s].changed.empty()) {
      std::vector<std::string> texts;
      for (const StatusFacts::Version &v : facts.subsystems[s].versions)
        texts.push_back(v.text);
      out.subsystems[s].nextVersion = nextPatchVersion(texts);
    }
  }
  llvm::StringMap<unsigned> subsystemOf;
  for (unsigned s = 0; s < facts.subsystems.size(); ++s)
    subsystemOf.try_emplace(facts.subsystems[s].name, s);
  for (const NodeRecord &r : records)
    if (auto s = subsystemOf.find(r.subsystem);
        s != subsystemOf.end() && !facts.findVersion(s->second, r.version))
      out.subsystems[s->second].unknown.push_back(r.version);
  return out;
}

} // namespace strata::runtime
