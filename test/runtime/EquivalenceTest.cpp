// Equivalence (issue #8, item 6), on a real PostgreSQL 15 (STRATA_TEST_DB; skipped
// without it): for every version of every example project (examples/design,
// examples/gateway), a database bootstrapped at that version and one that replayed `up`
// and `finish` from the baseline have the same catalog, read back from pg_catalog
// (runtime/Inspector, test/support/Catalog.h), never compared as SQL text.
//
// - Direct: for each version v after the baseline, bootstrap(baseline), then `up --to v`
//   and `finish`, against bootstrap at the versions that database recorded (which must
//   be the ones bootstrap --to v records: the planner resolves a target the same way for
//   both).
// - Step by step: for each path through each subsystem's versions (both sides of the
//   gateway's 1.0.1 patch release: 1.0.0 -> 1.1.0 -> 1.2.0 and 1.0.0 -> 1.0.1 -> 1.2.0),
//   `up --to` each version in turn with a `finish` after each, compared after every step.
//
// Columns compare as a set: PostgreSQL appends a column at the end of its table, so a
// column that expand/contract re-creates (a rename or a type change) ends up last, where
// bootstrap puts it in declaration order. A different order is printed as a NOTE.
#include "compiler/Compilation.h"
#include "planner/Planner.h"
#include "planner/VersionGraph.h"
#include "runtime/Runner.h"
#include "test/runtime/TestDatabase.h"
#include "test/support/Catalog.h"
#include "test/support/Upgrade.h"

#include <gtest/gtest.h>

#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/StringExtras.h>

#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

using namespace strata;
using compiler::VersionRef;
using test::TestDatabase;

namespace {

struct Example {
  std::string name;
  std::string path; ///< relative to the repository
};

void PrintTo(const Example &e, std::ostream *os) { *os << e.name; }

class Equivalence : public testing::TestWithParam<Example> {
protected:
  void SetUp() override {
    if (!test::serverConnInfo())
      GTEST_SKIP() << "STRATA_TEST_DB is not set (run scripts/test.sh)";
    // Every subsystem's latest version on both sides: the fixture only needs the project.
    upgrade = test::loadUpgrade(GetParam().path, "", "");
    ASSERT_TRUE(upgrade.failure.empty()) << upgrade.failure;
    project = upgrade.project;
    graph = upgrade.graph.get();
  }

  /// Runs \p phase with the Runner on \p db, for \p targets.
  llvm::Error run(const TestDatabase &db, const std::vector<VersionRef> &targets,
                  planner::Phase phase) {
    runtime::RunnerOptions options;
    options.connInfo = db.connInfo();
    options.targets = targets;
    options.exec.batchSize = 2;
    llvm::raw_string_ostream log(runLog);
    return test::runPhase(upgrade, options, phase, log);
  }

  /// The versions \p db recorded, as "subsystem@version" (sorted), and as nodes.
  std::vector<VersionRef> recorded(runtime::Connection &conn, std::string &names) {
    llvm::Expected<runtime::Result> r = conn.exec(
        "SELECT subsystem, version FROM strata_nodes WHERE subsystem <> 'strata' ORDER BY 1, 2");
    if (!r) {
      ADD_FAILURE() << llvm::toString(r.takeError());
      return {};
    }
    std::vector<VersionRef> out;
    std::vector<std::string> list;
    for (int i = 0; i < r->rows(); ++i) {
      auto s = project->findSubsystem(r->get(i, 0));
      auto v = s ? project->subsystems[*s].findVersion(r->get(i, 1)) : std::nullopt;
      if (!v) {
        ADD_FAILURE() << "unknown recorded version " << r->get(i, 0).str() << "@"
                      << r->get(i, 1).str();
        continue;
      }
      out.push_back({*s, *v});
      list.push_back(project->describe({*s, *v}));
    }
    names = llvm::join(list, ",");
    return out;
  }

  /// Each subsystem's newest node of \p nodes (no other of its subsystem builds on it): a
  /// target list that names every subsystem, so bootstrap runs exactly \p nodes (when
  /// they are closed under dependencies).
  std::vector<VersionRef> heads(const std::vector<VersionRef> &nodes) {
    std::vector<VersionRef> out;
    for (VersionRef n : nodes)
      if (llvm::none_of(nodes, [&](VersionRef o) {
            return !(o == n) && o.subsystem == n.subsystem &&
                   llvm::is_contained(graph->closure({o}), n);
          }))
        out.push_back(n);
    return out;
  }

  /// The catalog of a database bootstrapped at \p targets, with the versions it recorded
  /// (cached: the step-by-step paths meet the same states again).
  std::pair<std::string, std::string> bootstrapped(const std::vector<VersionRef> &targets) {
    std::string key;
    for (VersionRef t : targets)
      key += project->describe(t) + ",";
    auto it = bootstrapCache.find(key);
    if (it != bootstrapCache.end())
      return it->second;
    TestDatabase db("eq_boot");
    if (!db.ok())
      return {};
    if (llvm::Error err = run(db, targets, planner::Phase::Bootstrap)) {
      ADD_FAILURE() << "bootstrap --to " << key << ": " << llvm::toString(std::move(err)) << "\n"
                    << runLog;
      return {};
    }
    std::optional<runtime::Connection> conn = db.connect();
    if (!conn)
      return {};
    std::string names;
    recorded(*conn, names);
    ++bootstraps;
    return bootstrapCache[key] = {test::catalogOf(*conn), names};
  }

  /// up --to \p target and finish on \p db, then its catalog against bootstrap at the
  /// versions it recorded. \p direct: also those must be bootstrap --to target's.
  void upFinishAndCompare(const TestDatabase &db, VersionRef target, const std::string &what,
                          bool direct) {
    SCOPED_TRACE(what);
    runLog.clear();
    if (llvm::Error err = run(db, {target}, planner::Phase::Up)) {
      ADD_FAILURE() << "up: " << llvm::toString(std::move(err)) << "\n" << runLog;
      return;
    }
    if (llvm::Error err = run(db, {}, planner::Phase::Finish)) {
      ADD_FAILURE() << "finish: " << llvm::toString(std::move(err)) << "\n" << runLog;
      return;
    }
    std::optional<runtime::Connection> conn = db.connect();
    ASSERT_TRUE(conn);
    std::string names;
    std::vector<VersionRef> nodes = recorded(*conn, names);
    ASSERT_FALSE(nodes.empty());
    std::string replayed = test::catalogOf(*conn);
    auto [want, wantNames] = bootstrapped(heads(nodes));
    EXPECT_EQ(wantNames, names) << "bootstrap at the versions the replay recorded records others";
    if (direct) {
      std::string targetNames = bootstrapped({target}).second;
      EXPECT_EQ(targetNames, names) << "bootstrap --to " << project->describe(target)
                                    << " and up --to it from the baseline end at other versions";
    }
    EXPECT_EQ(test::withoutColumnOrder(want), test::withoutColumnOrder(replayed))
        << "up + finish (right) does not give the catalog of bootstrap (left) at " << names;
    ++comparisons;
    if (want != replayed && test::withoutColumnOrder(want) == test::withoutColumnOrder(replayed))
      notes << "[  NOTE    ] " << GetParam().name << ", " << what
            << ": same columns, another order than bootstrap:\n"
            << test::columnOrderDiff(want, replayed);
  }

  test::LoadedUpgrade upgrade;
  const compiler::Project *project = nullptr;   ///< upgrade.project
  const planner::VersionGraph *graph = nullptr; ///< upgrade.graph
  std::string runLog;
  std::map<std::string, std::pair<std::string, std::string>> bootstrapCache;
  int bootstraps = 0, comparisons = 0;
  std::ostringstream notes;
};

TEST_P(Equivalence, BootstrapOfEveryVersionEqualsUpAndFinishFromTheBaseline) {
  // The baseline: each subsystem's baseline (or first) version, with what the planner
  // adds to satisfy their requirements.
  std::vector<VersionRef> baseline;
  for (unsigned s = 0; s < project->subsystems.size(); ++s)
    baseline.push_back({s, project->subsystems[s].baseline.value_or(0)});
  // A baseline that requires a newer version of another subsystem (the design's
  // rate_limiting@1.0.0 needs core >= 1.0.0) raises that one's to the lowest it accepts.
  for (bool raised = true; raised;) {
    raised = false;
    for (VersionRef b : std::vector<VersionRef>(baseline))
      for (const compiler::ResolvedRequirement &r : project->at(b).requirements) {
        VersionRef &other = baseline[r.subsystem];
        VersionRef lowest{r.subsystem, r.lowest};
        if (!(other == lowest) && llvm::is_contained(graph->closure({lowest}), other)) {
          other = lowest;
          raised = true;
        }
      }
  }
  planner::PlanRequest request;
  request.phase = planner::Phase::Bootstrap;
  request.targets = baseline;
  llvm::Expected<planner::Plan> plan = planner::makePlan(
      *project, *graph, request, [](compiler::SourceRange) { return std::string(); });
  ASSERT_TRUE(static_cast<bool>(plan)) << llvm::toString(plan.takeError());
  std::set<VersionRef> atBaseline;
  for (const planner::NodeId &n : plan->applies) {
    unsigned s = *project->findSubsystem(n.subsystem);
    atBaseline.insert({s, *project->subsystems[s].findVersion(n.version)});
  }
  auto startAtBaseline = [&](TestDatabase &db) {
    runLog.clear();
    llvm::Error err = run(db, baseline, planner::Phase::Bootstrap);
    EXPECT_FALSE(err) << llvm::toString(std::move(err)) << "\n" << runLog;
  };

  // Direct: baseline -> v in one up.
  int direct = 0;
  for (VersionRef v : graph->order()) {
    if (atBaseline.count(v))
      continue;
    TestDatabase db("eq_replay");
    ASSERT_TRUE(db.ok());
    startAtBaseline(db);
    upFinishAndCompare(db, v, "baseline -> " + project->describe(v), /*direct=*/true);
    ++direct;
  }

  // Step by step, along every path of each subsystem's versions (parents to children).
  int paths = 0;
  for (unsigned s = 0; s < project->subsystems.size(); ++s) {
    const compiler::Subsystem &sub = project->subsystems[s];
    std::vector<std::vector<unsigned>> children(sub.versions.size());
    for (unsigned v = 0; v < sub.versions.size(); ++v)
      for (unsigned p : sub.versions[v].parents)
        children[p].push_back(v);
    std::vector<std::vector<unsigned>> all;
    std::function<void(std::vector<unsigned>)> walk = [&](std::vector<unsigned> path) {
      if (children[path.back()].empty()) {
        all.push_back(path);
        return;
      }
      for (unsigned c : children[path.back()]) {
        std::vector<unsigned> next = path;
        next.push_back(c);
        walk(next);
      }
    };
    for (unsigned v = 0; v < sub.versions.size(); ++v)
      if (sub.versions[v].parents.empty())
        walk({v});
    for (const std::vector<unsigned> &path : all) {
      std::vector<VersionRef> steps;
      for (unsigned v : path)
        if (!atBaseline.count({s, v}))
          steps.push_back({s, v});
      if (steps.size() < 2)
        continue; // the direct replay covered it
      std::string name;
      for (unsigned v : path)
        name += (name.empty() ? sub.name + "@" : " -> ") + sub.versions[v].text;
      TestDatabase db("eq_path");
      ASSERT_TRUE(db.ok());
      startAtBaseline(db);
      for (VersionRef step : steps)
        upFinishAndCompare(db, step, name + ", at " + project->describe(step), false);
      ++paths;
    }
  }
  std::cout << notes.str();
  std::cerr << "[ info ] " << GetParam().name << ": " << direct << " versions replayed from "
            << "the baseline, " << paths << " paths step by step; " << comparisons
            << " catalogs compared with " << bootstraps << " bootstraps\n";
  EXPECT_GT(direct, 0);
}

INSTANTIATE_TEST_SUITE_P(Examples, Equivalence,
                         testing::Values(Example{"design", "examples/design"},
                                         Example{"gateway", "examples/gateway"}),
                         [](const testing::TestParamInfo<Example> &i) { return i.param.name; });

} // namespace
