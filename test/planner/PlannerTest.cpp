// The planner on hand-made starting points: what a database can record between an `up`
// and its `finish`.
#include "compiler/Compilation.h"
#include "planner/Planner.h"

#include <gtest/gtest.h>

using namespace strata;

namespace {
const char *twoSubsystems = R"(
subsystem core {
  version "1.0.0" { table services { id uuid primary key  retries integer } }
  version "2.0.0" { alter table services { rename column retries to max_retries } }
}
subsystem metrics {
  requires core >= "1.0.0"
  version "1.0.0" { table counters { id uuid primary key  value integer } }
  version "2.0.0" { alter table counters { alter column value type bigint } }
}
)";

compiler::VersionRef node(const compiler::Project &p, const char *spec) {
  auto list = planner::parseNodeList(p, spec);
  EXPECT_TRUE(bool(list));
  return (*list)[0];
}
} // namespace

// Regression: a bootstrapped version that sorts after a pending one in the topological
// order (subsystems interleave) was rewritten as if new, so its tables looked new and the
// pending type change lost its finish steps.
TEST(Planner, FinishAfterUpKeepsEveryPendingVersionsSteps) {
  compiler::Compilation c;
  c.addSource("two.strata", twoSubsystems);
  const compiler::Project *p = c.run();
  ASSERT_TRUE(p);
  planner::VersionGraph graph(*p);
  planner::PlanRequest request;
  request.phase = planner::Phase::Finish;
  request.start.executed = {{node(*p, "core@1.0.0"), true},
                            {node(*p, "core@2.0.0"), false},
                            {node(*p, "metrics@1.0.0"), true},
                            {node(*p, "metrics@2.0.0"), false}};
  auto plan = planner::makePlan(*p, graph, request, [](compiler::SourceRange) { return ""; });
  ASSERT_TRUE(bool(plan)) << llvm::toString(plan.takeError());
  bool core = false, metrics = false;
  for (const planner::Step &s : plan->steps) {
    core |= s.subsystem == "core" && s.version == "2.0.0";
    metrics |= s.subsystem == "metrics" && s.version == "2.0.0";
  }
  EXPECT_TRUE(core);
  EXPECT_TRUE(metrics);
  // The same finish, planned statically from the versions before the upgrade.
  planner::PlanRequest statically;
  statically.phase = planner::Phase::Finish;
  statically.start = planner::startingPointFrom(graph, {node(*p, "core@1.0.0"),
                                                        node(*p, "metrics@1.0.0")});
  auto expected =
      planner::makePlan(*p, graph, statically, [](compiler::SourceRange) { return ""; });
  ASSERT_TRUE(bool(expected));
  EXPECT_EQ(plan->steps, expected->steps);
}

// The versions a plan starts from are listed by subsystem, then in the order they are
// declared: as strings, 1.10.0 came before 1.2.0.
TEST(Planner, FromListsVersionsInDeclaredOrder) {
  std::string source = "subsystem core {\n";
  for (int v = 0; v <= 11; ++v)
    source += "  version \"1." + std::to_string(v) + ".0\" { table t" + std::to_string(v) +
              " { id bigint primary key } }\n";
  source += "}\nsubsystem acl {\n  version \"1.0.0\" { table a { id bigint primary key } }\n}\n";
  compiler::Compilation c;
  c.addSource("many.strata", source);
  const compiler::Project *p = c.run();
  ASSERT_TRUE(p);
  planner::VersionGraph graph(*p);
  planner::PlanRequest request;
  request.phase = planner::Phase::Up;
  request.start =
      planner::startingPointFrom(graph, {node(*p, "core@1.10.0"), node(*p, "acl@1.0.0")});
  auto plan = planner::makePlan(*p, graph, request, [](compiler::SourceRange) { return ""; });
  ASSERT_TRUE(bool(plan)) << llvm::toString(plan.takeError());
  std::string from;
  for (const planner::NodeId &n : plan->from)
    from += (from.empty() ? "" : " ") + n.subsystem + "@" + n.version;
  EXPECT_EQ(from, "acl@1.0.0 core@1.0.0 core@1.1.0 core@1.2.0 core@1.3.0 core@1.4.0 core@1.5.0 "
                  "core@1.6.0 core@1.7.0 core@1.8.0 core@1.9.0 core@1.10.0");
}
