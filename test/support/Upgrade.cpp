#include "test/support/Upgrade.h"

#include "planner/Planner.h"
#include "runtime/Inspector.h"

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>

#include <algorithm>
#include <regex>
#include <set>

namespace strata::test {

namespace {

std::string readFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return "";
  return (*buffer)->getBuffer().str();
}

} // namespace

compiler::Schema stateAt(const compiler::Project &project, const planner::VersionGraph &graph,
                         llvm::ArrayRef<compiler::VersionRef> nodes) {
  std::map<unsigned, compiler::VersionRef> newest;
  for (compiler::VersionRef r : graph.closure(nodes)) // in topological order
    newest[r.subsystem] = r;
  compiler::Schema out;
  for (const auto &[_, r] : newest) {
    const compiler::Schema &s = project.at(r).state;
    for (const auto &[name, table] : s.tables())
      out.putTable(*table);
    for (const auto &[name, e] : s.enums())
      out.putEnum(e);
  }
  return out;
}

LoadedUpgrade loadUpgrade(const std::string &relativePath, const std::string &fromSpec,
                          const std::string &toSpec) {
  LoadedUpgrade out;
  out.compilation = std::make_unique<compiler::Compilation>();
  std::string path = std::string(STRATA_SOURCE_DIR) + "/" + relativePath;
  if (llvm::sys::fs::is_directory(path)) {
    if (llvm::Error err = out.compilation->addDirectory(path)) {
      out.failure = llvm::toString(std::move(err));
      return out;
    }
  } else {
    out.compilation->addSource(relativePath, readFile(path));
  }
  out.project = out.compilation->run();
  if (!out.project) {
    std::string diags;
    llvm::raw_string_ostream os(diags);
    out.compilation->diagnostics().render(os, false);
    out.failure = "does not compile:\n" + os.str();
    return out;
  }
  out.graph = std::make_unique<planner::VersionGraph>(*out.project);
  auto from = planner::parseNodeList(*out.project, fromSpec);
  auto to = planner::parseNodeList(*out.project, toSpec);
  if (!from || !to) {
    out.failure = "--from/--to: " + (from ? std::string() : llvm::toString(from.takeError())) +
                  (to ? std::string() : llvm::toString(to.takeError()));
    return out;
  }
  // The nodes the planner resolves the named ones to (a subsystem left out goes to its
  // highest version within the targets): those of the bootstrap of --from, then those of
  // the up from there to --to.
  auto resolve = [&](planner::Phase phase, std::vector<compiler::VersionRef> targets,
                     planner::StartingPoint start) -> std::vector<compiler::VersionRef> {
    planner::PlanRequest request;
    request.phase = phase;
    request.targets = std::move(targets);
    request.start = std::move(start);
    llvm::Expected<planner::Plan> plan = planner::makePlan(
        *out.project, *out.graph, request, [](compiler::SourceRange) { return std::string(); });
    if (!plan) {
      out.failure += llvm::toString(plan.takeError()) + "\n";
      return {};
    }
    std::vector<compiler::VersionRef> nodes;
    for (const planner::NodeId &n : plan->to) {
      unsigned s = *out.project->findSubsystem(n.subsystem);
      nodes.push_back({s, *out.project->subsystems[s].findVersion(n.version)});
    }
    return nodes;
  };
  out.from = resolve(planner::Phase::Bootstrap, *from, {});
  out.to = resolve(planner::Phase::Up, *to, planner::startingPointFrom(*out.graph, out.from));
  if (!out.failure.empty())
    return out;
  out.o = stateAt(*out.project, *out.graph, out.from);
  out.n = stateAt(*out.project, *out.graph, out.to);
  return out;
}

std::string Renames::table(const std::string &oTable) const {
  auto it = tables.find(oTable);
  return it == tables.end() ? oTable : it->second;
}

std::string Renames::column(const std::string &oTable, const std::string &oColumn) const {
  auto it = columns.find({oTable, oColumn});
  return it == columns.end() ? oColumn : it->second;
}

Renames renamesBetween(const LoadedUpgrade &p) {
  Renames r;
  std::vector<compiler::VersionRef> before = p.graph->closure(p.from);
  std::set<compiler::VersionRef> ran(before.begin(), before.end());
  // Current names of O's tables and columns.
  std::map<std::string, std::string> tableNow;
  std::map<std::pair<std::string, std::string>, std::string> columnNow;
  for (const auto &[name, table] : p.o.tables()) {
    tableNow[name] = name;
    for (const compiler::Column &c : table->columns)
      columnNow[{name, c.name}] = c.name;
  }
  for (compiler::VersionRef node : p.graph->closure(p.to)) {
    if (ran.count(node))
      continue;
    for (const compiler::Op &op : p.project->at(node).ops) {
      if (op.kind == compiler::OpKind::RenameTable)
        for (auto &[_, now] : tableNow)
          if (now == op.table)
            now = op.newName;
      if (op.kind == compiler::OpKind::RenameColumn)
        for (auto &[key, now] : columnNow)
          if (tableNow[key.first] == op.table && now == op.name)
            now = op.newName;
    }
  }
  for (const auto &[o, now] : tableNow)
    if (o != now)
      r.tables[o] = now;
  for (const auto &[key, now] : columnNow)
    if (key.second != now)
      r.columns[key] = now;
  return r;
}

llvm::Error runPhase(const LoadedUpgrade &upgrade, const runtime::RunnerOptions &options,
                     planner::Phase phase, llvm::raw_ostream &log) {
  compiler::Compilation &compilation = *upgrade.compilation;
  runtime::Runner runner(
      *upgrade.project, *upgrade.graph,
      [&compilation](compiler::SourceRange r) {
        return compilation.diagnostics().describe(r.Start);
      },
      options, log);
  switch (phase) {
  case planner::Phase::Bootstrap:
    return runner.bootstrap();
  case planner::Phase::Up:
    return runner.up();
  case planner::Phase::Finish:
    return runner.finish();
  }
  llvm_unreachable("unknown phase");
}

} // namespace strata::test
